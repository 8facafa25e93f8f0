/*-------------------------------------------------------------------------
 *
 * decode.c
 *	  Logical decoding of the rustydb resource manager's records.
 *
 * PostgreSQL's logical decoding hands each WAL record to its resource
 * manager's rm_decode callback; a custom rmgr without one is skipped, and
 * every change to a rustydb table would silently vanish from logical
 * replication, CDC and logical upgrades.  This file owns both halves of the
 * contract, so they cannot drift apart:
 *
 *	- the logging side: what the DO routines (modify.c) must put into a
 *	  record when the relation is logically logged (wal_level = logical):
 *	  the new tuple kept in block data even when a full-page image is taken
 *	  (REGBUF_KEEP_DATA), and the old row image that REPLICA IDENTITY asks
 *	  for (the key columns, or the whole row for FULL, external TOAST values
 *	  inlined), exactly as heapam.c's ExtractReplicaIdentity decides it;
 *	- the decoding side, rdb_decode(), which turns rustydb records into the
 *	  ReorderBuffer changes heap's decode.c produces for heap records:
 *	  INSERT (single and multi-insert), UPDATE, DELETE, and the internal
 *	  speculative-insertion changes of ON CONFLICT (insert, confirm, abort).
 *
 * Records that change no row (row locks, freezing, pruning, the lock an
 * UPDATE takes before moving to another page) decode to nothing.  A record
 * this code does not know is never skipped: decoding stops with an ERROR
 * naming the record and the relation's file, so a replica stops loudly
 * instead of diverging.  Rows that later live in columnar stripes decode
 * the same way: a record that deletes one must carry the old row image
 * (rdb_xlog_register_old_row) and be added to rdb_decode's switch, and a
 * record that only moves rows between L0 and stripes decodes to nothing.
 *
 * TOAST: values of a rustydb row that are stored out of line live in a heap
 * TOAST table, whose inserts heap's decoding queues as toast chunks; the
 * reorder buffer reassembles them into the next change of the owning table,
 * as long as that change says clear_toast_afterwards (the last row of a
 * multi-insert batch, every other change).
 *
 * Catalog tables are heap; historic snapshots need nothing from us.
 * user_catalog_table is refused on rustydb tables (options.c), because
 * decoding would need combo-CID mappings (XLOG_HEAP2_NEW_CID) for them.
 *
 * Memory: the old row image is palloc'd in the caller's context before its
 * critical section; decoded tuples live in the reorder buffer's contexts.
 *
 * IDENTIFICATION
 *	  src/rowstore/decode.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heaptoast.h"
#include "access/htup_details.h"
#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/catalog.h"
#include "catalog/pg_class.h"
#include "common/relpath.h"
#include "replication/decode.h"
#include "replication/logical.h"
#include "replication/origin.h"
#include "replication/reorderbuffer.h"
#include "replication/snapbuild.h"
#include "utils/datum.h"
#include "utils/rel.h"

#include "rustydb/rustydb.h"
#include "rustydb/xlog.h"

/* ------------------------------------------------------------------------
 * Logging side: what the DO routines log for decoding
 * ------------------------------------------------------------------------
 */

/*
 * rdb_xlog_logical_flags
 *		RDB_XLF_LOGICAL | RDB_XLF_CONTAINS_NEW_TUPLE when changes of rel must
 *		be decodable (and options do not say TABLE_INSERT_NO_LOGICAL, as
 *		table rewrites do), 0 otherwise.  Callers then register their tuple
 *		data with REGBUF_KEEP_DATA.
 */
uint8
rdb_xlog_logical_flags(Relation rel, int options)
{
	if (unlikely(RelationIsUsedAsCatalogTable(rel)))
		rdb_refuse_user_catalog_table(rel);
	if (!RelationIsLogicallyLogged(rel) || (options & TABLE_INSERT_NO_LOGICAL))
		return 0;
	return RDB_XLF_LOGICAL | RDB_XLF_CONTAINS_NEW_TUPLE;
}

/*
 * rdb_xlog_old_row_image
 *		The old row image an UPDATE (newtup != NULL) or DELETE (newtup ==
 *		NULL) of oldtup must log for logical decoding, or NULL when none is
 *		needed.  Sets *flags to RDB_XLF_LOGICAL plus RDB_XLF_CONTAINS_OLD_KEY
 *		or _TUPLE accordingly (0 when rel is not logically logged).
 *
 * The rules are heapam.c's (ExtractReplicaIdentity): FULL logs the whole old
 * row; DEFAULT / USING INDEX log the identity key columns (others NULL) for
 * every DELETE, and for an UPDATE only when a key column changes or an old
 * key value is stored out of line; NOTHING logs nothing.  External TOAST
 * values are inlined, since the TOAST rows may be gone when the change is
 * applied.  The result is palloc'd in the current memory context; call it
 * before the critical section, with the old row's buffer locked.
 */
HeapTuple
rdb_xlog_old_row_image(Relation rel, HeapTuple oldtup, HeapTuple newtup,
					   uint8 *flags)
{
	TupleDesc	desc = RelationGetDescr(rel);
	char		replident = rel->rd_rel->relreplident;
	Bitmapset  *idattrs;
	Datum	   *values;
	bool	   *nulls;
	HeapTuple	key;
	int			attidx;
	int			i;

	*flags = 0;
	if (unlikely(RelationIsUsedAsCatalogTable(rel)))
		rdb_refuse_user_catalog_table(rel);
	if (!RelationIsLogicallyLogged(rel))
		return NULL;
	*flags = RDB_XLF_LOGICAL;

	if (replident == REPLICA_IDENTITY_NOTHING)
		return NULL;

	if (replident == REPLICA_IDENTITY_FULL)
	{
		*flags |= RDB_XLF_CONTAINS_OLD_TUPLE;
		if (HeapTupleHasExternal(oldtup))
			return toast_flatten_tuple(oldtup, desc);
		/* a copy: the caller changes the header on the page meanwhile */
		return heap_copytuple(oldtup);
	}

	idattrs = RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_IDENTITY_KEY);
	if (bms_is_empty(idattrs))
		return NULL;

	if (newtup != NULL)
	{
		bool		key_required = false;

		attidx = -1;
		while (!key_required &&
			   (attidx = bms_next_member(idattrs, attidx)) >= 0)
		{
			AttrNumber	attnum = attidx + FirstLowInvalidHeapAttributeNumber;
			Form_pg_attribute att;
			Datum		v1,
						v2;
			bool		isnull1,
						isnull2;

			if (attnum <= 0)
				continue;
			att = TupleDescAttr(desc, attnum - 1);
			v1 = heap_getattr(oldtup, attnum, desc, &isnull1);
			v2 = heap_getattr(newtup, attnum, desc, &isnull2);
			if (isnull1 != isnull2)
				key_required = true;
			else if (isnull1)
				continue;
			else if (att->attlen == -1 &&
					 VARATT_IS_EXTERNAL(DatumGetPointer(v1)))
				key_required = true;
			else if (!datumIsEqual(v1, v2, att->attbyval, att->attlen))
				key_required = true;
		}
		if (!key_required)
		{
			bms_free(idattrs);
			return NULL;
		}
	}

	values = palloc(desc->natts * sizeof(Datum));
	nulls = palloc(desc->natts * sizeof(bool));
	heap_deform_tuple(oldtup, desc, values, nulls);
	for (i = 0; i < desc->natts; i++)
	{
		if (!bms_is_member(i + 1 - FirstLowInvalidHeapAttributeNumber, idattrs))
			nulls[i] = true;
	}
	key = heap_form_tuple(desc, values, nulls);
	pfree(values);
	pfree(nulls);
	bms_free(idattrs);

	if (HeapTupleHasExternal(key))
	{
		HeapTuple	flat = toast_flatten_tuple(key, desc);

		heap_freetuple(key);
		key = flat;
	}
	*flags |= RDB_XLF_CONTAINS_OLD_KEY;
	return key;
}

/*
 * rdb_xlog_register_old_row
 *		Append an old row image to the main data of the record being built.
 *		hdr is caller-provided storage that must live until XLogInsert.
 */
void
rdb_xlog_register_old_row(HeapTuple old_image, xl_rdb_old_tuple *hdr)
{
	hdr->len = old_image->t_len;
	XLogRegisterData((char *) hdr, sizeof(xl_rdb_old_tuple));
	XLogRegisterData((char *) old_image->t_data, old_image->t_len);
}

/* ------------------------------------------------------------------------
 * Decoding side
 * ------------------------------------------------------------------------
 */

/* cf. decode.c's FilterByOrigin, which is static there */
static inline bool
rdb_filter_by_origin(LogicalDecodingContext *ctx, RepOriginId origin_id)
{
	if (ctx->callbacks.filter_by_origin_cb == NULL)
		return false;
	return filter_by_origin_cb_wrapper(ctx, origin_id);
}

/*
 * Copy a logged tuple (header + data, as on the page) into a reorder
 * buffer tuple.  The transaction fields mean nothing to the receiver and
 * are cleared, as heap's DecodeXLogTuple leaves them.
 */
static ReorderBufferTupleBuf *
rdb_decode_tuple(LogicalDecodingContext *ctx, XLogReaderState *r,
				 const char *data, Size len)
{
	ReorderBufferTupleBuf *tuple;
	HeapTupleHeader header;

	if (len < SizeofHeapTupleHeader)
		elog(ERROR, "rustydb decode: tuple of %zu bytes in record at %X/%X is too short",
			 len, LSN_FORMAT_ARGS(r->ReadRecPtr));

	tuple = ReorderBufferGetTupleBuf(ctx->reorder, len - SizeofHeapTupleHeader);
	header = tuple->tuple.t_data;
	memcpy(header, data, len);
	memset(header, 0, offsetof(HeapTupleHeaderData, t_infomask2));
	tuple->tuple.t_len = len;
	ItemPointerSetInvalid(&tuple->tuple.t_self);
	tuple->tuple.t_tableOid = InvalidOid;
	return tuple;
}

/* a new tuple logged as xl_rdb_tuple_head + data (RDB_XLF_COMPACT_TUPLES) */
static ReorderBufferTupleBuf *
rdb_decode_compact_tuple(LogicalDecodingContext *ctx, XLogReaderState *r,
						 const char *data, Size len)
{
	ReorderBufferTupleBuf *tuple;
	HeapTupleHeader header;
	xl_rdb_tuple_head head;
	Size		datalen;

	if (len < SizeOfRdbTupleHead)
		elog(ERROR, "rustydb decode: tuple of %zu bytes in record at %X/%X is too short",
			 len, LSN_FORMAT_ARGS(r->ReadRecPtr));
	memcpy(&head, data, SizeOfRdbTupleHead);
	datalen = len - SizeOfRdbTupleHead;
	tuple = ReorderBufferGetTupleBuf(ctx->reorder, datalen);
	header = tuple->tuple.t_data;
	memset(header, 0, SizeofHeapTupleHeader);
	memcpy((char *) header + SizeofHeapTupleHeader, data + SizeOfRdbTupleHead,
		   datalen);
	header->t_infomask2 = head.t_infomask2;
	header->t_infomask = head.t_infomask;
	header->t_hoff = head.t_hoff;
	tuple->tuple.t_len = SizeofHeapTupleHeader + datalen;
	ItemPointerSetInvalid(&tuple->tuple.t_self);
	tuple->tuple.t_tableOid = InvalidOid;
	return tuple;
}

/* the old row image that follows a record's fixed part in main data */
static ReorderBufferTupleBuf *
rdb_decode_old_row(LogicalDecodingContext *ctx, XLogReaderState *r,
				   Size fixed_size)
{
	char	   *data = XLogRecGetData(r);
	Size		datalen = XLogRecGetDataLen(r);
	xl_rdb_old_tuple hdr;

	if (datalen < fixed_size + sizeof(xl_rdb_old_tuple))
		elog(ERROR, "rustydb decode: record at %X/%X lacks its old row image",
			 LSN_FORMAT_ARGS(r->ReadRecPtr));
	memcpy(&hdr, data + fixed_size, sizeof(xl_rdb_old_tuple));
	if (datalen < fixed_size + sizeof(xl_rdb_old_tuple) + hdr.len)
		elog(ERROR, "rustydb decode: old row image in record at %X/%X is truncated",
			 LSN_FORMAT_ARGS(r->ReadRecPtr));
	return rdb_decode_tuple(ctx, r, data + fixed_size + sizeof(xl_rdb_old_tuple),
							hdr.len);
}

/*
 * Common checks of every row change: our database, an origin the plugin
 * wants.  Returns false when the change is not for this slot.
 */
static bool
rdb_decode_wanted(LogicalDecodingContext *ctx, XLogReaderState *r,
				  RelFileNode *rnode)
{
	XLogRecGetBlockTag(r, 0, rnode, NULL, NULL);
	if (rnode->dbNode != ctx->slot->data.database)
		return false;
	if (rdb_filter_by_origin(ctx, XLogRecGetOrigin(r)))
		return false;
	return true;
}

static ReorderBufferChange *
rdb_decode_new_change(LogicalDecodingContext *ctx, XLogReaderState *r,
					  enum ReorderBufferChangeType action, RelFileNode *rnode)
{
	ReorderBufferChange *change = ReorderBufferGetChange(ctx->reorder);

	change->action = action;
	change->origin_id = XLogRecGetOrigin(r);
	memcpy(&change->data.tp.relnode, rnode, sizeof(RelFileNode));
	change->data.tp.clear_toast_afterwards = true;
	return change;
}

/*
 * The new tuple(s) in block 0's data of an INSERT, MULTI_INSERT or UPDATE
 * record that decoding wants (logically logged, our database, an origin the
 * plugin wants); NULL when the record is not for this slot.  A record that
 * says it carries tuples but does not is corrupt: ERROR.
 */
static char *
rdb_decode_block_tuples(LogicalDecodingContext *ctx, XLogReaderState *r,
						uint8 flags, const char *what, RelFileNode *rnode,
						Size *len)
{
	char	   *data;

	if (flags & ~RDB_XLF_KNOWN)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot decode rustydb %s record at %X/%X with flags 0x%02X",
						what, LSN_FORMAT_ARGS(r->ReadRecPtr), flags),
				 errhint("The WAL was written by a newer rustydb_am; install that version on this server.")));
	if (!(flags & RDB_XLF_CONTAINS_NEW_TUPLE))
		return NULL;
	if (!rdb_decode_wanted(ctx, r, rnode))
		return NULL;
	data = XLogRecGetBlockData(r, 0, len);
	if (data == NULL)
		elog(ERROR, "rustydb decode: %s record at %X/%X has no tuple data",
			 what, LSN_FORMAT_ARGS(r->ReadRecPtr));
	return data;
}

static void
rdb_decode_insert(LogicalDecodingContext *ctx, XLogRecordBuffer *buf)
{
	XLogReaderState *r = buf->record;
	xl_rdb_insert *xlrec = (xl_rdb_insert *) XLogRecGetData(r);
	RelFileNode rnode;
	ReorderBufferChange *change;
	char	   *data;
	Size		len;

	data = rdb_decode_block_tuples(ctx, r, xlrec->flags, "insert", &rnode, &len);
	if (data == NULL)
		return;

	change = rdb_decode_new_change(ctx, r,
								   (xlrec->flags & RDB_XLF_IS_SPECULATIVE) ?
								   REORDER_BUFFER_CHANGE_INTERNAL_SPEC_INSERT :
								   REORDER_BUFFER_CHANGE_INSERT,
								   &rnode);
	change->data.tp.newtuple = (xlrec->flags & RDB_XLF_COMPACT_TUPLES) ?
		rdb_decode_compact_tuple(ctx, r, data, len) :
		rdb_decode_tuple(ctx, r, data, len);
	ReorderBufferQueueChange(ctx->reorder, XLogRecGetXid(r), buf->origptr,
							 change, false);
}

static void
rdb_decode_multi_insert(LogicalDecodingContext *ctx, XLogRecordBuffer *buf)
{
	XLogReaderState *r = buf->record;
	xl_rdb_multi_insert *xlrec = (xl_rdb_multi_insert *) XLogRecGetData(r);
	RelFileNode rnode;
	char	   *data;
	char	   *end;
	Size		len;
	int			i;

	data = rdb_decode_block_tuples(ctx, r, xlrec->flags, "multi-insert",
								   &rnode, &len);
	if (data == NULL)
		return;
	end = data + len;

	for (i = 0; i < xlrec->ntuples; i++)
	{
		ReorderBufferChange *change;
		uint16		tuplen;

		if (data + sizeof(OffsetNumber) + sizeof(uint16) > end)
			elog(ERROR, "rustydb decode: truncated multi-insert record at %X/%X",
				 LSN_FORMAT_ARGS(r->ReadRecPtr));
		data += sizeof(OffsetNumber);
		memcpy(&tuplen, data, sizeof(uint16));
		data += sizeof(uint16);
		if (data + tuplen > end)
			elog(ERROR, "rustydb decode: truncated multi-insert record at %X/%X",
				 LSN_FORMAT_ARGS(r->ReadRecPtr));

		change = rdb_decode_new_change(ctx, r, REORDER_BUFFER_CHANGE_INSERT,
									   &rnode);
		change->data.tp.newtuple = (xlrec->flags & RDB_XLF_COMPACT_TUPLES) ?
			rdb_decode_compact_tuple(ctx, r, data, tuplen) :
			rdb_decode_tuple(ctx, r, data, tuplen);

		/*
		 * TOAST chunks of the whole batch were inserted before its first
		 * record: forget them only after the batch's last row.
		 */
		change->data.tp.clear_toast_afterwards =
			(xlrec->flags & RDB_XLF_LAST_IN_MULTI) && i + 1 == xlrec->ntuples;
		ReorderBufferQueueChange(ctx->reorder, XLogRecGetXid(r), buf->origptr,
								 change, false);
		data += tuplen;
	}
}

static void
rdb_decode_update(LogicalDecodingContext *ctx, XLogRecordBuffer *buf)
{
	XLogReaderState *r = buf->record;
	xl_rdb_update *xlrec = (xl_rdb_update *) XLogRecGetData(r);
	RelFileNode rnode;
	ReorderBufferChange *change;
	char	   *data;
	Size		len;

	data = rdb_decode_block_tuples(ctx, r, xlrec->flags, "update", &rnode, &len);
	if (data == NULL)
		return;

	change = rdb_decode_new_change(ctx, r, REORDER_BUFFER_CHANGE_UPDATE, &rnode);
	change->data.tp.newtuple = rdb_decode_tuple(ctx, r, data, len);
	if (xlrec->flags & RDB_XLF_CONTAINS_OLD)
		change->data.tp.oldtuple = rdb_decode_old_row(ctx, r, SizeOfRdbUpdate);
	ReorderBufferQueueChange(ctx->reorder, XLogRecGetXid(r), buf->origptr,
							 change, false);
}

static void
rdb_decode_row_change(LogicalDecodingContext *ctx, XLogRecordBuffer *buf)
{
	XLogReaderState *r = buf->record;
	xl_rdb_row_change *xlrec = (xl_rdb_row_change *) XLogRecGetData(r);
	RelFileNode rnode;
	ReorderBufferChange *change;
	enum ReorderBufferChangeType action;

	if (xlrec->flags & ~RDB_XLF_KNOWN)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot decode rustydb row change record at %X/%X with flags 0x%02X",
						LSN_FORMAT_ARGS(r->ReadRecPtr), xlrec->flags),
				 errhint("The WAL was written by a newer rustydb_am; install that version on this server.")));
	if (!(xlrec->flags & RDB_XLF_LOGICAL))
		return;
	if (!rdb_decode_wanted(ctx, r, &rnode))
		return;

	switch (xlrec->kind)
	{
		case RDB_ROW_DELETE:
			action = REORDER_BUFFER_CHANGE_DELETE;
			break;
		case RDB_ROW_SPEC_CONFIRM:
			action = REORDER_BUFFER_CHANGE_INTERNAL_SPEC_CONFIRM;
			break;
		case RDB_ROW_SPEC_KILL:
			action = REORDER_BUFFER_CHANGE_INTERNAL_SPEC_ABORT;
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot decode rustydb row change of kind %u at %X/%X for relation %s",
							xlrec->kind, LSN_FORMAT_ARGS(r->ReadRecPtr),
							relpathperm(rnode, MAIN_FORKNUM)),
					 errhint("The WAL was written by a newer rustydb_am; install that version on this server.")));
			return;				/* keep compiler quiet */
	}

	change = rdb_decode_new_change(ctx, r, action, &rnode);
	if (xlrec->flags & RDB_XLF_CONTAINS_OLD)
		change->data.tp.oldtuple = rdb_decode_old_row(ctx, r, SizeOfRdbRowChange);
	ReorderBufferQueueChange(ctx->reorder, XLogRecGetXid(r), buf->origptr,
							 change, false);
}

/*
 * rdb_decode
 *		rm_decode callback of the rustydb rmgr: queue the row changes of a
 *		record in the reorder buffer, as heap_decode does for heap records.
 */
void
rdb_decode(LogicalDecodingContext *ctx, XLogRecordBuffer *buf)
{
	XLogReaderState *r = buf->record;
	uint8		info = XLogRecGetInfo(r) & ~XLR_INFO_MASK;
	TransactionId xid = XLogRecGetXid(r);
	SnapBuild  *builder = ctx->snapshot_builder;

	ReorderBufferProcessXid(ctx->reorder, xid, buf->origptr);

	/* no snapshot yet, or only advancing the slot: no changes needed */
	if (SnapBuildCurrentState(builder) < SNAPBUILD_FULL_SNAPSHOT ||
		ctx->fast_forward)
		return;

	switch (info & XLOG_RDB_OPMASK)
	{
		case XLOG_RDB_INSERT:
			if (SnapBuildProcessChange(builder, xid, buf->origptr))
				rdb_decode_insert(ctx, buf);
			break;
		case XLOG_RDB_MULTI_INSERT:
			if (SnapBuildProcessChange(builder, xid, buf->origptr))
				rdb_decode_multi_insert(ctx, buf);
			break;
		case XLOG_RDB_UPDATE:
			if (SnapBuildProcessChange(builder, xid, buf->origptr))
				rdb_decode_update(ctx, buf);
			break;
		case XLOG_RDB_ROW_CHANGE:
			if (SnapBuildProcessChange(builder, xid, buf->origptr))
				rdb_decode_row_change(ctx, buf);
			break;

		case XLOG_RDB_SET_HEADERS:
		case XLOG_RDB_PRUNE:
		case XLOG_RDB_FLUSH:
		case XLOG_RDB_RETIRE:
			/*
			 * row locks, freezing, pruning, flush, retiring, stripe pages
			 * reused (XLOG_RDB_STRIPE_REUSE is RETIRE | INIT_PAGE): no row
			 * changes
			 */
			break;

		default:
			{
				RelFileNode rnode;
				const char *relpath = "(none)";

				/* another database's record is not our business */
				if (XLogRecGetBlockTagExtended(r, 0, &rnode, NULL, NULL, NULL))
				{
					if (rnode.dbNode != ctx->slot->data.database)
						break;
					relpath = relpathperm(rnode, MAIN_FORKNUM);
				}
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot decode rustydb WAL record with info 0x%02X at %X/%X for relation %s",
								info, LSN_FORMAT_ARGS(r->ReadRecPtr), relpath),
						 errdetail("Skipping it would make logical replication diverge silently."),
						 errhint("The WAL was written by a newer rustydb_am; install that version on this server.")));
			}
	}
}
