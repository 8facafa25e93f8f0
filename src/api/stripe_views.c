/*-------------------------------------------------------------------------
 *
 * stripe_views.c
 *	  SQL functions over columnar stripes: rustydb.stripes (list a table's
 *	  stripes), rustydb.chunk_bounds (the min/max kept per chunk) and the
 *	  test diagnostics rustydb.stripe_roundtrip and rustydb.stripe_rows.
 *
 * rustydb.stripes(regclass) walks the relation's blocks and lists every
 * stripe whose first page it finds (a stripe page whose generation is its
 * own block number), reading only the header; it skips the rest of each
 * stripe's pages.  It needs SELECT on the table.
 *
 * rustydb.chunk_bounds(regclass) opens every stripe the same way and
 * returns the bounds (rdb_stripe_chunk_minmax) of every column of every
 * chunk group as text.  Bounds reveal values of rows whatever their
 * visibility, so it needs SELECT on the whole table, and is refused
 * (42501) when row-level security applies to the caller: the bounds would
 * show values of rows the policies hide.
 *
 * rustydb.stripe_roundtrip(regclass, compression, chunk_group_rows) is for
 * tests until flush exists: it reads every live row with an MVCC table
 * scan, writes them as one stripe appended to the same relation, and reads
 * every row back twice (rdb_stripe_form_tuple in order with the original
 * row's header as stub, and rdb_stripe_fetch_row from one reader in reverse
 * order), comparing values bit for bit (datumIsEqual) and the transaction
 * fields of the header.  rustydb.stripe_rows(regclass, first_block) returns
 * the rows of an existing stripe as text (record_out of the formed tuple
 * with the table's current row type).  Both are superuser-only (and
 * REVOKEd from PUBLIC): the first appends pages nothing else knows about,
 * the second shows every row of a stripe regardless of visibility,
 * row-level security or column privileges.
 *
 * Locking: AccessShareLock for stripes and stripe_rows, RowExclusiveLock
 * for stripe_roundtrip (it extends the relation under the relation
 * extension lock, stripe_write.c).  Memory: per-query context for the
 * tuplestores, a per-row context reset for every row read back.
 *
 * IDENTIFICATION
 *	  src/api/stripe_views.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#include "rustydb/rustydb.h"
#include "rustydb/l0.h"
#include "rustydb/stripe.h"
#include "../stripe/stripe_int.h"

PG_FUNCTION_INFO_V1(rustydb_stripes);
PG_FUNCTION_INFO_V1(rustydb_chunk_bounds);
PG_FUNCTION_INFO_V1(rustydb_stripe_roundtrip);
PG_FUNCTION_INFO_V1(rustydb_stripe_rows);

/* open a rustydb table, or raise 42809 */
static Relation
stripe_views_open(Oid relid, LOCKMODE lockmode)
{
	Relation	rel = table_open(relid, lockmode);

	if (rel->rd_tableam != rdb_tableam_routine())
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a rustydb table",
						RelationGetRelationName(rel))));
	return rel;
}

static void
stripe_views_require_superuser(const char *fname)
{
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for function %s", fname),
				 errdetail("Only superusers may call this diagnostic function.")));
}

/*
 * rustydb.stripes(rel regclass) RETURNS TABLE(first_block bigint,
 *		nblocks int, nrows bigint, chunk_groups int, raw_bytes bigint,
 *		stored_bytes bigint)
 */
Datum
rustydb_stripes(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	rel;
	BufferAccessStrategy strategy;
	BlockNumber nblocks;
	BlockNumber blkno;

	rdb_check_preloaded();
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s",
						get_rel_name(relid) ? get_rel_name(relid) : "?")));

	InitMaterializedSRF(fcinfo, 0);
	rel = stripe_views_open(relid, AccessShareLock);
	nblocks = RelationGetNumberOfBlocks(rel);
	strategy = GetAccessStrategy(BAS_BULKREAD);

	for (blkno = RDB_FIRST_DATA_BLKNO; blkno < nblocks;)
	{
		Buffer		buf;
		Page		page;
		bool		first;
		RdbStripeHeader hdr;
		Datum		values[6];
		bool		nulls[6] = {0};

		CHECK_FOR_INTERRUPTS();
		buf = rdb_read_buffer(rel, blkno, strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		first = rdb_stripe_page_is_stripe(page) &&
			RdbPageGetOpaque(page)->generation == blkno;
		UnlockReleaseBuffer(buf);
		if (!first)
		{
			blkno++;
			continue;
		}

		rdb_stripe_read_header(rel, blkno, &hdr);
		values[0] = Int64GetDatum((int64) blkno);
		values[1] = Int32GetDatum((int32) hdr.nblocks);
		values[2] = Int64GetDatum((int64) hdr.nrows);
		values[3] = Int32GetDatum((int32) hdr.nchunkgroups);
		values[4] = Int64GetDatum((int64) hdr.raw_bytes);
		values[5] = Int64GetDatum((int64) hdr.nblocks * BLCKSZ);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		blkno += hdr.nblocks;
	}

	FreeAccessStrategy(strategy);
	table_close(rel, AccessShareLock);
	return (Datum) 0;
}

/*
 * stripe_views_next_stripe
 *		The first block of the next stripe at or after *blkno (which it
 *		then moves past that stripe), or InvalidBlockNumber at the end.
 */
static BlockNumber
stripe_views_next_stripe(Relation rel, BufferAccessStrategy strategy,
						 BlockNumber nblocks, BlockNumber *blkno)
{
	while (*blkno < nblocks)
	{
		Buffer		buf;
		Page		page;
		bool		first;
		BlockNumber this = *blkno;
		RdbStripeHeader hdr;

		CHECK_FOR_INTERRUPTS();
		buf = rdb_read_buffer(rel, this, strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		first = rdb_stripe_page_is_stripe(page) &&
			RdbPageGetOpaque(page)->generation == this;
		UnlockReleaseBuffer(buf);
		if (!first)
		{
			(*blkno)++;
			continue;
		}
		rdb_stripe_read_header(rel, this, &hdr);
		*blkno = this + hdr.nblocks;
		return this;
	}
	return InvalidBlockNumber;
}

/*
 * rustydb.chunk_bounds(rel regclass) RETURNS TABLE(first_block bigint,
 *		chunk_group int, column_name name, nrows int, nnulls int,
 *		min text, max text)
 *
 * One row per stripe, chunk group and column the stripe has that the table
 * still has (not dropped); min and max NULL where no bounds are kept.
 * Values are printed with the output function of the type the column had
 * when the stripe was written.
 */
Datum
rustydb_chunk_bounds(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	rel;
	TupleDesc	desc;
	BufferAccessStrategy strategy;
	BlockNumber nblocks;
	BlockNumber blkno = RDB_FIRST_DATA_BLKNO;
	BlockNumber first;
	MemoryContext rowcxt;

	rdb_check_preloaded();
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s",
						get_rel_name(relid) ? get_rel_name(relid) : "?")));
	if (check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot show chunk bounds of table \"%s\" under row-level security",
						get_rel_name(relid) ? get_rel_name(relid) : "?"),
				 errdetail("Bounds show values of rows that the table's policies may hide.")));

	InitMaterializedSRF(fcinfo, 0);
	rel = stripe_views_open(relid, AccessShareLock);
	desc = RelationGetDescr(rel);
	nblocks = RelationGetNumberOfBlocks(rel);
	strategy = GetAccessStrategy(BAS_BULKREAD);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "rustydb chunk bounds",
								   ALLOCSET_DEFAULT_SIZES);

	while ((first = stripe_views_next_stripe(rel, strategy, nblocks, &blkno)) !=
		   InvalidBlockNumber)
	{
		RdbStripeReader *sr = rdb_stripe_open(rel, first);
		uint32		ngroups = rdb_stripe_nchunkgroups(sr);
		int			ncol = Min(desc->natts, (int) rdb_stripe_header(sr)->ncolumns);
		uint32		g;
		int			c;

		for (g = 0; g < ngroups; g++)
		{
			for (c = 0; c < ncol; c++)
			{
				Form_pg_attribute att = TupleDescAttr(desc, c);
				Datum		min;
				Datum		max;
				Oid			coll;
				uint32		nnulls;
				uint32		nrows;
				Datum		values[7];
				bool		nulls[7] = {0};
				MemoryContext old;

				if (att->attisdropped)
					continue;
				CHECK_FOR_INTERRUPTS();
				old = MemoryContextSwitchTo(rowcxt);
				values[0] = Int64GetDatum((int64) first);
				values[1] = Int32GetDatum((int32) g);
				values[2] = NameGetDatum(&att->attname);
				if (rdb_stripe_chunk_minmax(sr, g, c, &min, &max, &coll,
											&nnulls, &nrows))
				{
					Oid			outfn;
					bool		varlena;

					getTypeOutputInfo(rdb_stripe_column_type(sr, c), &outfn,
									  &varlena);
					values[5] = CStringGetTextDatum(OidOutputFunctionCall(outfn, min));
					values[6] = CStringGetTextDatum(OidOutputFunctionCall(outfn, max));
				}
				else
					nulls[5] = nulls[6] = true;
				values[3] = Int32GetDatum((int32) nrows);
				values[4] = Int32GetDatum((int32) nnulls);
				MemoryContextSwitchTo(old);
				tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
									 values, nulls);
				MemoryContextReset(rowcxt);
			}
		}
		rdb_stripe_close(sr);
	}

	MemoryContextDelete(rowcxt);
	FreeAccessStrategy(strategy);
	table_close(rel, AccessShareLock);
	return (Datum) 0;
}

/*
 * are two deformed rows the same, bit for bit?  (Dropped columns are not
 * compared: the tuple still holds the old value, the stripe stores NULL.)
 */
static bool
stripe_rows_same(TupleDesc desc, Datum *av, bool *an, Datum *bv, bool *bn)
{
	int			c;

	for (c = 0; c < desc->natts; c++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, c);

		if (att->attisdropped)
			continue;
		if (an[c] != bn[c])
			return false;
		if (an[c])
			continue;
		if (!datumIsEqual(av[c], bv[c], att->attbyval, att->attlen))
			return false;
	}
	return true;
}

/*
 * roundtrip_check
 *		Read back the n rows of the stripe just written from tuples[0 .. n)
 *		and count those that come back the same: through
 *		rdb_stripe_form_tuple in order (values and transaction header
 *		fields), and through rdb_stripe_fetch_row of one reader in reverse
 *		order (values).
 */
static int64
roundtrip_check(Relation rel, HeapTuple *tuples, int n, BlockNumber first)
{
	TupleDesc	desc = RelationGetDescr(rel);
	Datum	   *ov = palloc(desc->natts * sizeof(Datum));
	Datum	   *sv = palloc(desc->natts * sizeof(Datum));
	bool	   *on = palloc(desc->natts * sizeof(bool));
	bool	   *sn = palloc(desc->natts * sizeof(bool));
	MemoryContext rowcxt;
	MemoryContext old;
	RdbStripeReader *sr;
	int64		equal = 0;
	int			i;

	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "rustydb stripe row",
								   ALLOCSET_DEFAULT_SIZES);
	sr = rdb_stripe_open(rel, first);
	if (rdb_stripe_nrows(sr) != (uint32) n)
		elog(ERROR, "stripe has %u rows, %d were written",
			 rdb_stripe_nrows(sr), n);

	for (i = 0; i < n; i++)
	{
		HeapTupleHeader orig = tuples[i]->t_data;
		HeapTuple	tup;
		bool		same;

		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(rowcxt);
		tup = rdb_stripe_form_tuple(rel, first, (uint32) i, orig,
									tuples[i]->t_len);
		heap_deform_tuple(tuples[i], desc, ov, on);
		heap_deform_tuple(tup, desc, sv, sn);
		same = stripe_rows_same(desc, ov, on, sv, sn) &&
			HeapTupleHeaderGetRawXmin(tup->t_data) == HeapTupleHeaderGetRawXmin(orig) &&
			HeapTupleHeaderGetRawXmax(tup->t_data) == HeapTupleHeaderGetRawXmax(orig) &&
			HeapTupleHeaderGetRawCommandId(tup->t_data) == HeapTupleHeaderGetRawCommandId(orig) &&
			ItemPointerEquals(&tup->t_data->t_ctid, &orig->t_ctid) &&
			(tup->t_data->t_infomask & HEAP_XACT_MASK) == (orig->t_infomask & HEAP_XACT_MASK) &&
			(tup->t_data->t_infomask2 & HEAP2_XACT_MASK) == (orig->t_infomask2 & HEAP2_XACT_MASK) &&
			HeapTupleHasExternal(tup) == HeapTupleHasExternal(tuples[i]);
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);

		/* and again by random access, in reverse order, through a reader */
		if (same)
		{
			int			j = n - 1 - i;

			old = MemoryContextSwitchTo(rowcxt);
			heap_deform_tuple(tuples[j], desc, ov, on);
			rdb_stripe_fetch_row(sr, (uint32) j, sv, sn, desc->natts);
			same = stripe_rows_same(desc, ov, on, sv, sn);
			MemoryContextSwitchTo(old);
			MemoryContextReset(rowcxt);
		}
		if (same)
			equal++;
	}
	rdb_stripe_close(sr);
	MemoryContextDelete(rowcxt);
	return equal;
}

/*
 * rustydb.stripe_roundtrip(rel regclass, compression text DEFAULT 'zstd',
 *		chunk_group_rows int DEFAULT 10000, stripes int DEFAULT 1)
 *		RETURNS TABLE(first_block bigint, nrows bigint, stored_bytes bigint,
 *		rows_equal bigint)
 *
 * With stripes > 1 the rows (in scan order) are cut into that many stripes
 * of consecutive rows, one result row each.
 */
Datum
rustydb_stripe_roundtrip(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *compression = text_to_cstring(PG_GETARG_TEXT_PP(1));
	int32		cgrows = PG_GETARG_INT32(2);
	int32		nstripes = PG_GETARG_INT32(3);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	RdbStripeOptions opts;
	Relation	rel;
	TableScanDesc scan;
	TupleTableSlot *slot;
	HeapTuple  *tuples;
	int			ntuples = 0;
	int			maxtuples = 1024;
	RdbStripeInfo *infos;
	int			s;

	rdb_check_preloaded();
	stripe_views_require_superuser("rustydb.stripe_roundtrip");
	if (cgrows < 1 || cgrows > RDB_MAX_CHUNK_ROWS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("chunk_group_rows must be between 1 and %d, not %d",
						RDB_MAX_CHUNK_ROWS, cgrows)));
	if (nstripes < 1 || nstripes > 1000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("stripes must be between 1 and 1000, not %d", nstripes)));
	opts.codec = rdb_codec_from_name(compression);
	opts.level = 0;
	opts.chunk_group_rows = cgrows;

	InitMaterializedSRF(fcinfo, 0);
	rel = stripe_views_open(relid, RowExclusiveLock);

	/* every live row, copied */
	tuples = palloc(maxtuples * sizeof(HeapTuple));
	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		if (ntuples == maxtuples)
		{
			maxtuples *= 2;
			tuples = repalloc_huge(tuples, maxtuples * sizeof(HeapTuple));
		}
		tuples[ntuples++] = ExecCopySlotHeapTuple(slot);
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);

	/* write every stripe first, then read them all back */
	infos = palloc0(nstripes * sizeof(RdbStripeInfo));
	for (s = 0; s < nstripes; s++)
	{
		int			lo = (int) ((int64) ntuples * s / nstripes);
		int			hi = (int) ((int64) ntuples * (s + 1) / nstripes);

		if (hi > lo)
			rdb_stripe_write(rel, tuples + lo, hi - lo, &opts, &infos[s]);
	}
	for (s = 0; s < nstripes; s++)
	{
		int			lo = (int) ((int64) ntuples * s / nstripes);
		int			hi = (int) ((int64) ntuples * (s + 1) / nstripes);
		Datum		values[4];
		bool		nulls[4] = {0};

		if (hi == lo)
			continue;
		values[0] = Int64GetDatum((int64) infos[s].first_block);
		values[1] = Int64GetDatum((int64) infos[s].nrows);
		values[2] = Int64GetDatum((int64) infos[s].stored_bytes);
		values[3] = Int64GetDatum(roundtrip_check(rel, tuples + lo, hi - lo,
												  infos[s].first_block));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	table_close(rel, RowExclusiveLock);
	return (Datum) 0;
}

/*
 * rustydb.stripe_rows(rel regclass, first_block bigint) RETURNS
 *		TABLE(row_index bigint, row_text text)
 */
Datum
rustydb_stripe_rows(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	int64		first = PG_GETARG_INT64(1);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	rel;
	RdbStripeReader *sr;
	MemoryContext rowcxt;
	uint32		nrows;
	uint32		i;

	rdb_check_preloaded();
	stripe_views_require_superuser("rustydb.stripe_rows");
	InitMaterializedSRF(fcinfo, 0);
	rel = stripe_views_open(relid, AccessShareLock);
	if (first < RDB_FIRST_DATA_BLKNO || first >= RelationGetNumberOfBlocks(rel))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("block " INT64_FORMAT " is not a block of table \"%s\"",
						first, RelationGetRelationName(rel))));

	sr = rdb_stripe_open(rel, (BlockNumber) first);
	nrows = rdb_stripe_nrows(sr);
	rdb_stripe_close(sr);

	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "rustydb stripe row",
								   ALLOCSET_DEFAULT_SIZES);
	for (i = 0; i < nrows; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(rowcxt);
		HeapTuple	tup;
		Datum		rec;
		Datum		values[2];
		bool		nulls[2] = {0};

		CHECK_FOR_INTERRUPTS();
		tup = rdb_stripe_form_tuple(rel, (BlockNumber) first, i, NULL, 0);
		rec = heap_copy_tuple_as_datum(tup, RelationGetDescr(rel));
		values[0] = Int64GetDatum((int64) i);
		values[1] = CStringGetTextDatum(OidOutputFunctionCall(F_RECORD_OUT, rec));
		MemoryContextSwitchTo(old);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		MemoryContextReset(rowcxt);
	}

	table_close(rel, AccessShareLock);
	return (Datum) 0;
}
