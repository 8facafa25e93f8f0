/*-------------------------------------------------------------------------
 *
 * l0_xlog.c
 *	  The rustydb WAL resource manager: redo, description, masking.
 *
 * Record formats are in include/rustydb/xlog.h.  Every redo routine reads
 * its block references with XLogReadBufferForRedo*, so full-page images win
 * over the logical change whenever the primary logged one, and a page whose
 * LSN is already past the record is left alone.
 *
 * Logical decoding (rm_decode) lives in decode.c.
 *
 * Masking (for wal_consistency_checking): L0 pages hold heap-format tuples,
 * so heap_mask masks exactly what may differ between primary and standby:
 * hint bits in t_infomask and on the page, command ids, the speculative
 * token's ctid, LSN, checksum and unused space.  The metapage is compared
 * whole, but for LSN, checksum and unused space.
 *
 * IDENTIFICATION
 *	  src/rowstore/l0_xlog.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/bufmask.h"
#include "access/heapam_xlog.h"
#include "access/xlogutils.h"
#include "replication/decode.h"
#include "storage/standby.h"

#include "rustydb/gendir.h"
#include "rustydb/l0.h"
#include "rustydb/stripe.h"
#include "rustydb/xlog.h"

/*
 * rdb_xlog_fill_header
 *		Describe the current header of a tuple for XLOG_RDB_SET_HEADERS.
 */
void
rdb_xlog_fill_header(xl_rdb_header *xlh, HeapTupleHeader htup,
					 OffsetNumber offnum)
{
	xlh->offnum = offnum;
	xlh->t_infomask = htup->t_infomask;
	xlh->t_infomask2 = htup->t_infomask2;
	xlh->xmin = HeapTupleHeaderGetRawXmin(htup);
	xlh->xmax = HeapTupleHeaderGetRawXmax(htup);
	xlh->ctid = htup->t_ctid;
}

/* apply one logged header to a page */
static void
rdb_redo_apply_header(Page page, const xl_rdb_header *xlh)
{
	ItemId		lp;
	HeapTupleHeader htup;

	if (xlh->offnum < FirstOffsetNumber ||
		xlh->offnum > PageGetMaxOffsetNumber(page))
		elog(PANIC, "rustydb redo: invalid offset %u", xlh->offnum);
	lp = PageGetItemId(page, xlh->offnum);
	if (!ItemIdIsNormal(lp))
		elog(PANIC, "rustydb redo: item %u is not a tuple", xlh->offnum);
	htup = (HeapTupleHeader) PageGetItem(page, lp);
	htup->t_infomask = xlh->t_infomask;
	htup->t_infomask2 = xlh->t_infomask2;
	HeapTupleHeaderSetXmin(htup, xlh->xmin);
	HeapTupleHeaderSetXmax(htup, xlh->xmax);
	htup->t_ctid = xlh->ctid;
}

/* add a logged tuple at its offset */
static void
rdb_redo_add_tuple(Page page, char *data, Size len, OffsetNumber offnum)
{
	if (offnum < FirstOffsetNumber ||
		offnum > PageGetMaxOffsetNumber(page) + 1)
		elog(PANIC, "rustydb redo: invalid offset %u for new tuple", offnum);
	if (PageAddItem(page, (Item) data, len, offnum, true, true) != offnum)
		elog(PANIC, "rustydb redo: failed to add tuple at offset %u", offnum);
}

/*
 * Rebuild a tuple logged as xl_rdb_tuple_head + data (RDB_XLF_COMPACT_TUPLES)
 * into buf (MaxHeapTupleSize): the header redo can tell, as heap's redo
 * does.  Returns the tuple's length.
 */
static Size
rdb_redo_rebuild_tuple(XLogReaderState *record, const char *data, Size len,
					   Page page, Buffer buffer, OffsetNumber offnum, char *buf)
{
	HeapTupleHeader htup = (HeapTupleHeader) buf;
	xl_rdb_tuple_head head;
	Size		datalen;

	if (len < SizeOfRdbTupleHead ||
		len - SizeOfRdbTupleHead > MaxHeapTupleSize - SizeofHeapTupleHeader)
		elog(PANIC, "rustydb redo: compact tuple of %zu bytes", len);
	memcpy(&head, data, SizeOfRdbTupleHead);
	datalen = len - SizeOfRdbTupleHead;
	memset(htup, 0, SizeofHeapTupleHeader);
	memcpy(buf + SizeofHeapTupleHeader, data + SizeOfRdbTupleHead, datalen);
	htup->t_infomask2 = head.t_infomask2;
	htup->t_infomask = head.t_infomask;
	htup->t_hoff = head.t_hoff;
	HeapTupleHeaderSetXmin(htup, XLogRecGetXid(record));
	HeapTupleHeaderSetCmin(htup, FirstCommandId);
	ItemPointerSet(&htup->t_ctid,
				   rdb_l0_page_generation(page, BufferGetBlockNumber(buffer)),
				   offnum);
	return SizeofHeapTupleHeader + datalen;
}

/* a record whose flags this library does not know: stop, do not guess */
static void
rdb_redo_check_flags(XLogReaderState *record, uint8 flags)
{
	if (flags & ~RDB_XLF_KNOWN)
		ereport(PANIC,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("rustydb redo: record at %X/%X has unknown flags 0x%02X",
						LSN_FORMAT_ARGS(record->ReadRecPtr), flags),
				 errhint("The WAL was written by a newer rustydb_am; install that version on this server.")));
}

/* read block 0 for redo, initialising it first for INIT_PAGE records */
static XLogRedoAction
rdb_redo_read_new_block(XLogReaderState *record, uint32 generation,
						Buffer *buffer)
{
	if (XLogRecGetInfo(record) & XLOG_RDB_INIT_PAGE)
	{
		*buffer = XLogInitBufferForRedo(record, 0);
		rdb_l0_page_init(BufferGetPage(*buffer), generation,
						 BufferGetBlockNumber(*buffer));
		return BLK_NEEDS_REDO;
	}
	return XLogReadBufferForRedo(record, 0, buffer);
}

static void
rdb_redo_insert(XLogReaderState *record)
{
	xl_rdb_insert *xlrec = (xl_rdb_insert *) XLogRecGetData(record);
	Buffer		buffer;

	rdb_redo_check_flags(record, xlrec->flags);
	if (rdb_redo_read_new_block(record, xlrec->generation, &buffer) == BLK_NEEDS_REDO)
	{
		Page		page = BufferGetPage(buffer);
		Size		len;
		char	   *data = XLogRecGetBlockData(record, 0, &len);

		PageClearAllVisible(page);
		if (xlrec->flags & RDB_XLF_COMPACT_TUPLES)
		{
			PGAlignedBlock tbuf;

			len = rdb_redo_rebuild_tuple(record, data, len, page, buffer,
										 xlrec->offnum, tbuf.data);
			rdb_redo_add_tuple(page, tbuf.data, len, xlrec->offnum);
		}
		else
			rdb_redo_add_tuple(page, data, len, xlrec->offnum);
		PageSetLSN(page, record->EndRecPtr);
		MarkBufferDirty(buffer);
	}
	if (BufferIsValid(buffer))
		UnlockReleaseBuffer(buffer);
}

static void
rdb_redo_multi_insert(XLogReaderState *record)
{
	xl_rdb_multi_insert *xlrec = (xl_rdb_multi_insert *) XLogRecGetData(record);
	Buffer		buffer;

	rdb_redo_check_flags(record, xlrec->flags);
	if (rdb_redo_read_new_block(record, xlrec->generation, &buffer) == BLK_NEEDS_REDO)
	{
		Page		page = BufferGetPage(buffer);
		Size		len;
		char	   *data = XLogRecGetBlockData(record, 0, &len);
		char	   *end = data + len;
		int			i;
		PGAlignedBlock tbuf;

		PageClearAllVisible(page);
		for (i = 0; i < xlrec->ntuples; i++)
		{
			OffsetNumber offnum;
			uint16		tuplen;

			if (data + sizeof(OffsetNumber) + sizeof(uint16) > end)
				elog(PANIC, "rustydb redo: truncated multi-insert record");
			memcpy(&offnum, data, sizeof(OffsetNumber));
			data += sizeof(OffsetNumber);
			memcpy(&tuplen, data, sizeof(uint16));
			data += sizeof(uint16);
			if (data + tuplen > end)
				elog(PANIC, "rustydb redo: truncated multi-insert record");
			if (xlrec->flags & RDB_XLF_COMPACT_TUPLES)
			{
				Size		full = rdb_redo_rebuild_tuple(record, data, tuplen,
														  page, buffer, offnum,
														  tbuf.data);

				rdb_redo_add_tuple(page, tbuf.data, full, offnum);
			}
			else
				rdb_redo_add_tuple(page, data, tuplen, offnum);
			data += tuplen;
		}
		PageSetLSN(page, record->EndRecPtr);
		MarkBufferDirty(buffer);
	}
	if (BufferIsValid(buffer))
		UnlockReleaseBuffer(buffer);
}

static void
rdb_redo_set_headers(XLogReaderState *record)
{
	xl_rdb_set_headers *xlrec = (xl_rdb_set_headers *) XLogRecGetData(record);
	Buffer		buffer;

	/* freezing: cancel standby queries that may still need the old xmins */
	if (InHotStandby && TransactionIdIsValid(xlrec->conflict_xid))
	{
		RelFileNode rnode;

		XLogRecGetBlockTag(record, 0, &rnode, NULL, NULL);
		ResolveRecoveryConflictWithSnapshot(xlrec->conflict_xid, rnode);
	}

	if (XLogReadBufferForRedo(record, 0, &buffer) == BLK_NEEDS_REDO)
	{
		Page		page = BufferGetPage(buffer);
		Size		len;
		char	   *data = XLogRecGetBlockData(record, 0, &len);
		int			i;

		if (len < (Size) xlrec->nheaders * SizeOfRdbHeader)
			elog(PANIC, "rustydb redo: truncated header record");
		for (i = 0; i < xlrec->nheaders; i++)
		{
			xl_rdb_header xlh;

			memcpy(&xlh, data + i * SizeOfRdbHeader, SizeOfRdbHeader);
			rdb_redo_apply_header(page, &xlh);
		}
		if (TransactionIdIsValid(xlrec->prune_xid))
			PageSetPrunable(page, xlrec->prune_xid);
		PageSetLSN(page, record->EndRecPtr);
		MarkBufferDirty(buffer);
	}
	if (BufferIsValid(buffer))
		UnlockReleaseBuffer(buffer);
}

static void
rdb_redo_row_change(XLogReaderState *record)
{
	xl_rdb_row_change *xlrec = (xl_rdb_row_change *) XLogRecGetData(record);
	Buffer		buffer;

	rdb_redo_check_flags(record, xlrec->flags);
	if (XLogReadBufferForRedo(record, 0, &buffer) == BLK_NEEDS_REDO)
	{
		Page		page = BufferGetPage(buffer);
		xl_rdb_header xlh;

		memcpy(&xlh, &xlrec->hdr, SizeOfRdbHeader);
		/* a row deleted or killed: no longer visible to everyone */
		PageClearAllVisible(page);
		rdb_redo_apply_header(page, &xlh);
		if (TransactionIdIsValid(xlrec->prune_xid))
			PageSetPrunable(page, xlrec->prune_xid);
		PageSetLSN(page, record->EndRecPtr);
		MarkBufferDirty(buffer);
	}
	if (BufferIsValid(buffer))
		UnlockReleaseBuffer(buffer);
}

/*
 * rdb_l0_apply_stubs
 *		Turn the tuples at the given offsets of a cleanup-locked page into
 *		stubs of rows stripe/row, then defragment.  Shared by flush and its
 *		redo, so both produce the same page.
 */
void
rdb_l0_apply_stubs(Page page, uint32 stripe, const xl_rdb_stub *stubs,
				   int nstubs)
{
	int			i;

	for (i = 0; i < nstubs; i++)
	{
		ItemId		lp;
		HeapTupleHeader htup;
		char		stub[RDB_STUB_LEN];

		if (stubs[i].offnum < FirstOffsetNumber ||
			stubs[i].offnum > PageGetMaxOffsetNumber(page))
			elog(PANIC, "rustydb: invalid offset %u in flush", stubs[i].offnum);
		lp = PageGetItemId(page, stubs[i].offnum);
		if (!ItemIdIsNormal(lp) || MAXALIGN(ItemIdGetLength(lp)) < RDB_STUB_LEN)
			elog(PANIC, "rustydb: item %u cannot become a stub", stubs[i].offnum);
		htup = (HeapTupleHeader) PageGetItem(page, lp);
		rdb_l0_make_stub(htup, stripe, stubs[i].row, stub);
		memcpy(htup, stub, RDB_STUB_LEN);
		ItemIdSetNormal(lp, ItemIdGetOffset(lp), RDB_STUB_LEN);
	}
	PageRepairFragmentation(page);
}

static void
rdb_redo_flush(XLogReaderState *record)
{
	xl_rdb_flush *xlrec = (xl_rdb_flush *) XLogRecGetData(record);
	Buffer		buffer;

	/* moving tuples needs a cleanup lock, as on the primary */
	if (XLogReadBufferForRedoExtended(record, 0, RBM_NORMAL, true,
									  &buffer) == BLK_NEEDS_REDO)
	{
		Page		page = BufferGetPage(buffer);
		Size		len;
		char	   *data = XLogRecGetBlockData(record, 0, &len);
		xl_rdb_stub *stubs;
		int			i;

		if (len < (Size) xlrec->nstubs * SizeOfRdbStub)
			elog(PANIC, "rustydb redo: truncated flush record");
		stubs = palloc(sizeof(xl_rdb_stub) * Max(xlrec->nstubs, 1));
		for (i = 0; i < xlrec->nstubs; i++)
			memcpy(&stubs[i], data + i * SizeOfRdbStub, SizeOfRdbStub);
		rdb_l0_apply_stubs(page, xlrec->stripe, stubs, xlrec->nstubs);
		pfree(stubs);
		PageSetLSN(page, record->EndRecPtr);
		MarkBufferDirty(buffer);
	}
	if (BufferIsValid(buffer))
		UnlockReleaseBuffer(buffer);
}

static void
rdb_redo_update(XLogReaderState *record)
{
	xl_rdb_update *xlrec = (xl_rdb_update *) XLogRecGetData(record);
	bool		same_page = !XLogRecHasBlockRef(record, 1);
	Buffer		oldbuf = InvalidBuffer;
	Buffer		newbuf;
	XLogRedoAction newaction;

	rdb_redo_check_flags(record, xlrec->flags);

	/*
	 * Old page first, as heap does.  Readers never lock two pages at once,
	 * so the order cannot deadlock during replay; we keep the old page
	 * locked until the new version is in place, so a hot-standby reader never
	 * sees the old version gone and the new one missing.
	 */
	if (!same_page)
	{
		if (XLogReadBufferForRedo(record, 1, &oldbuf) == BLK_NEEDS_REDO)
		{
			Page		page = BufferGetPage(oldbuf);

			PageClearAllVisible(page);
			rdb_redo_apply_header(page, &xlrec->old);
			if (TransactionIdIsValid(xlrec->prune_xid))
				PageSetPrunable(page, xlrec->prune_xid);
			PageSetLSN(page, record->EndRecPtr);
			MarkBufferDirty(oldbuf);
		}
	}

	newaction = rdb_redo_read_new_block(record, xlrec->generation, &newbuf);
	if (newaction == BLK_NEEDS_REDO)
	{
		Page		page = BufferGetPage(newbuf);
		Size		len;
		char	   *data = XLogRecGetBlockData(record, 0, &len);

		PageClearAllVisible(page);
		if (same_page)
		{
			rdb_redo_apply_header(page, &xlrec->old);
			if (TransactionIdIsValid(xlrec->prune_xid))
				PageSetPrunable(page, xlrec->prune_xid);
		}
		rdb_redo_add_tuple(page, data, len, xlrec->new_offnum);
		PageSetLSN(page, record->EndRecPtr);
		MarkBufferDirty(newbuf);
	}
	if (BufferIsValid(newbuf))
		UnlockReleaseBuffer(newbuf);
	if (BufferIsValid(oldbuf))
		UnlockReleaseBuffer(oldbuf);
}

static void
rdb_redo_prune(XLogReaderState *record)
{
	xl_rdb_prune *xlrec = (xl_rdb_prune *) XLogRecGetData(record);
	Buffer		buffer;

	if (InHotStandby && TransactionIdIsValid(xlrec->conflict_xid))
	{
		RelFileNode rnode;

		XLogRecGetBlockTag(record, 0, &rnode, NULL, NULL);
		ResolveRecoveryConflictWithSnapshot(xlrec->conflict_xid, rnode);
	}

	/* defragmenting moves tuples: that needs a cleanup lock, as on primary */
	if (XLogReadBufferForRedoExtended(record, 0, RBM_NORMAL,
									  (xlrec->flags & RDB_PRUNE_DEFRAGMENT) != 0,
									  &buffer) == BLK_NEEDS_REDO)
	{
		Page		page = BufferGetPage(buffer);
		Size		len;
		OffsetNumber *offs = (OffsetNumber *) XLogRecGetBlockData(record, 0, &len);
		OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
		int			i;

		if (len < sizeof(OffsetNumber) * (xlrec->ndead + xlrec->nunused))
			elog(PANIC, "rustydb redo: truncated prune record");
		for (i = 0; i < xlrec->ndead + xlrec->nunused; i++)
		{
			OffsetNumber off;
			ItemId		lp;

			memcpy(&off, &offs[i], sizeof(OffsetNumber));
			if (off < FirstOffsetNumber || off > maxoff)
				elog(PANIC, "rustydb redo: invalid offset %u in prune record", off);
			lp = PageGetItemId(page, off);
			if (i < xlrec->ndead)
				ItemIdSetDead(lp);
			else
				ItemIdSetUnused(lp);
		}
		if (xlrec->flags & RDB_PRUNE_DEFRAGMENT)
			PageRepairFragmentation(page);
		if (xlrec->flags & RDB_PRUNE_TRUNCATE_LP)
			PageTruncateLinePointerArray(page);
		if (xlrec->flags & RDB_PRUNE_ALL_VISIBLE)
			PageSetAllVisible(page);
		PageSetLSN(page, record->EndRecPtr);
		MarkBufferDirty(buffer);
	}
	if (BufferIsValid(buffer))
		UnlockReleaseBuffer(buffer);
}

static void
rdb_redo(XLogReaderState *record)
{
	uint8		info = XLogRecGetInfo(record) & ~XLR_INFO_MASK;

	if (info == XLOG_RDB_STRIPE_REUSE)
	{
		rdb_stripe_reuse_redo(record);
		return;
	}
	switch (info & XLOG_RDB_OPMASK)
	{
		case XLOG_RDB_INSERT:
			rdb_redo_insert(record);
			break;
		case XLOG_RDB_MULTI_INSERT:
			rdb_redo_multi_insert(record);
			break;
		case XLOG_RDB_SET_HEADERS:
			rdb_redo_set_headers(record);
			break;
		case XLOG_RDB_UPDATE:
			rdb_redo_update(record);
			break;
		case XLOG_RDB_PRUNE:
			rdb_redo_prune(record);
			break;
		case XLOG_RDB_ROW_CHANGE:
			rdb_redo_row_change(record);
			break;
		case XLOG_RDB_FLUSH:
			rdb_redo_flush(record);
			break;
		case XLOG_RDB_RETIRE:
			rdb_gen_redo_retire(record);
			break;
		default:
			elog(PANIC, "rustydb redo: unknown op code %u", info);
	}
}

static const char *
rdb_identify(uint8 info)
{
	const char *id = NULL;

	switch (info & ~XLR_INFO_MASK)
	{
		case XLOG_RDB_INSERT:
			id = "INSERT";
			break;
		case XLOG_RDB_INSERT | XLOG_RDB_INIT_PAGE:
			id = "INSERT+INIT";
			break;
		case XLOG_RDB_MULTI_INSERT:
			id = "MULTI_INSERT";
			break;
		case XLOG_RDB_MULTI_INSERT | XLOG_RDB_INIT_PAGE:
			id = "MULTI_INSERT+INIT";
			break;
		case XLOG_RDB_SET_HEADERS:
			id = "SET_HEADERS";
			break;
		case XLOG_RDB_UPDATE:
			id = "UPDATE";
			break;
		case XLOG_RDB_UPDATE | XLOG_RDB_INIT_PAGE:
			id = "UPDATE+INIT";
			break;
		case XLOG_RDB_PRUNE:
			id = "PRUNE";
			break;
		case XLOG_RDB_ROW_CHANGE:
			id = "ROW_CHANGE";
			break;
		case XLOG_RDB_FLUSH:
			id = "FLUSH";
			break;
		case XLOG_RDB_RETIRE:
			id = "RETIRE";
			break;
		case XLOG_RDB_STRIPE_REUSE:
			id = "STRIPE_REUSE";
			break;
	}
	return id;
}

static void
rdb_desc(StringInfo buf, XLogReaderState *record)
{
	char	   *rec = XLogRecGetData(record);
	uint8		info = XLogRecGetInfo(record) & ~XLR_INFO_MASK;

	switch (info & XLOG_RDB_OPMASK)
	{
		case XLOG_RDB_INSERT:
			{
				xl_rdb_insert *xlrec = (xl_rdb_insert *) rec;

				appendStringInfo(buf, "off %u gen %u flags 0x%02X%s",
								 xlrec->offnum, xlrec->generation,
								 xlrec->flags,
								 (xlrec->flags & RDB_XLF_COMPACT_TUPLES) ? " compact" : "");
				break;
			}
		case XLOG_RDB_MULTI_INSERT:
			{
				xl_rdb_multi_insert *xlrec = (xl_rdb_multi_insert *) rec;

				appendStringInfo(buf, "ntuples %u gen %u flags 0x%02X%s",
								 xlrec->ntuples, xlrec->generation,
								 xlrec->flags,
								 (xlrec->flags & RDB_XLF_COMPACT_TUPLES) ? " compact" : "");
				break;
			}
		case XLOG_RDB_SET_HEADERS:
			{
				xl_rdb_set_headers *xlrec = (xl_rdb_set_headers *) rec;

				appendStringInfo(buf, "nheaders %u conflict_xid %u",
								 xlrec->nheaders, xlrec->conflict_xid);
				break;
			}
		case XLOG_RDB_UPDATE:
			{
				xl_rdb_update *xlrec = (xl_rdb_update *) rec;

				appendStringInfo(buf, "old off %u xmax %u new off %u flags 0x%02X",
								 xlrec->old.offnum, xlrec->old.xmax,
								 xlrec->new_offnum, xlrec->flags);
				break;
			}
		case XLOG_RDB_PRUNE:
			{
				xl_rdb_prune *xlrec = (xl_rdb_prune *) rec;

				appendStringInfo(buf, "ndead %u nunused %u flags 0x%02X conflict_xid %u",
								 xlrec->ndead, xlrec->nunused, xlrec->flags,
								 xlrec->conflict_xid);
				break;
			}
		case XLOG_RDB_ROW_CHANGE:
			{
				xl_rdb_row_change *xlrec = (xl_rdb_row_change *) rec;
				xl_rdb_header xlh;
				const char *kind;

				memcpy(&xlh, &xlrec->hdr, SizeOfRdbHeader);
				switch (xlrec->kind)
				{
					case RDB_ROW_DELETE:
						kind = "delete";
						break;
					case RDB_ROW_SPEC_CONFIRM:
						kind = "confirm";
						break;
					case RDB_ROW_SPEC_KILL:
						kind = "kill";
						break;
					default:
						kind = "unknown";
						break;
				}
				appendStringInfo(buf, "%s off %u xmax %u flags 0x%02X",
								 kind, xlh.offnum, xlh.xmax, xlrec->flags);
				break;
			}
		case XLOG_RDB_STRIPE_REUSE:
			{
				xl_rdb_stripe_reuse *xlrec = (xl_rdb_stripe_reuse *) rec;

				appendStringInfo(buf, "rel %u/%u/%u conflict_xid %u",
								 xlrec->node.spcNode, xlrec->node.dbNode,
								 xlrec->node.relNode, xlrec->conflict_xid);
				break;
			}
		case XLOG_RDB_RETIRE:
			{
				xl_rdb_retire *xlrec = (xl_rdb_retire *) rec;

				appendStringInfo(buf, "conflict_xid %u leafidx %u",
								 xlrec->conflict_xid, xlrec->leafidx);
				if (XLogRecGetDataLen(record) >= SizeOfRdbRetire)
					appendStringInfo(buf, " free_stamp %u", xlrec->free_stamp);
				break;
			}
		case XLOG_RDB_FLUSH:
			{
				xl_rdb_flush *xlrec = (xl_rdb_flush *) rec;

				appendStringInfo(buf, "stripe %u nstubs %u", xlrec->stripe,
								 xlrec->nstubs);
				break;
			}
	}
}

static void
rdb_mask(char *pagedata, BlockNumber blkno)
{
	Page		page = (Page) pagedata;

	if (rdb_l0_page_is_l0(page))
	{
		heap_mask(pagedata, blkno);
		return;
	}
	mask_page_lsn_and_checksum(page);
	mask_unused_space(page);
}

static RmgrData rdb_rmgr = {
	.rm_name = RDB_RMGR_NAME,
	.rm_redo = rdb_redo,
	.rm_desc = rdb_desc,
	.rm_identify = rdb_identify,
	.rm_startup = NULL,
	.rm_cleanup = NULL,
	.rm_mask = rdb_mask,
	.rm_decode = rdb_decode
};

/*
 * rdb_xlog_register_rmgr
 *		Register the resource manager; called from _PG_init while preloading.
 */
void
rdb_xlog_register_rmgr(void)
{
	RegisterCustomRmgr(RDB_RMGR_ID, &rdb_rmgr);
}
