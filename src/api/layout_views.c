/*-------------------------------------------------------------------------
 *
 * layout_views.c
 *	  rustydb.table_layout(regclass), behind the rustydb.tables view: where
 *	  a table's rows are (L0 pages, stubs of flushed rows, stripes) and what
 *	  the stripes cost.
 *
 * The figures are counted, not estimated: the function reads every page of
 * the table (share locks, one page at a time, a bulk-read ring) and every
 * stripe's header, so it costs a sequential scan of the table.  Row counts
 * are row versions present on the pages (live, dead not yet vacuumed, and
 * rows of transactions still running), as pageinspect would count them.
 *
 * Stripe rows that no live row refers to any more are counted as deleted:
 * rows whose delete or update committed (their stubs remain until VACUUM),
 * rows whose stubs VACUUM removed, and rows of a stripe a flush wrote but
 * could not stub (a busy page, a crash) — all of them space compaction
 * will reclaim.
 *
 * Privileges: SELECT on the table, as for reading its rows.
 *
 * IDENTIFICATION
 *	  src/api/layout_views.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/procarray.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "rustydb/rustydb.h"
#include "rustydb/gendir.h"
#include "rustydb/l0.h"
#include "rustydb/stripe.h"
#include "../stripe/stripe_int.h"

PG_FUNCTION_INFO_V1(rustydb_table_layout);

/*
 * The checks both functions make: the library is preloaded, the caller may
 * SELECT from the table, it is a rustydb table of this session's; opened
 * with AccessShareLock.
 */
static Relation
layout_open(FunctionCallInfo fcinfo, Oid relid, TupleDesc *tupdesc)
{
	Relation	rel;

	rdb_check_preloaded();
	if (get_call_result_type(fcinfo, NULL, tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	rdb_require_select(relid);

	rel = table_open(relid, AccessShareLock);
	if (rel->rd_tableam != rdb_tableam_routine())
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a rustydb table", RelationGetRelationName(rel))));
	if (RELATION_IS_OTHER_TEMP(rel))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot look at temporary tables of other sessions")));
	return rel;
}

/*
 * rustydb.table_layout(rel regclass) RETURNS TABLE (l0_pages bigint,
 *	l0_rows bigint, flushed_rows bigint, stripes int, stripe_pages bigint,
 *	stripe_rows bigint, raw_bytes bigint, stored_bytes bigint,
 *	compression_ratio float8, deleted_rows bigint)
 */
Datum
rustydb_table_layout(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	TupleDesc	tupdesc;
	Relation	rel;
	BufferAccessStrategy strategy;
	BlockNumber nblocks;
	BlockNumber blkno;
	int64		l0_pages = 0;
	int64		l0_rows = 0;
	int64		flushed_rows = 0;
	int32		stripes = 0;
	int64		stripe_pages = 0;
	int64		stripe_rows = 0;
	int64		raw_bytes = 0;
	int64		live_flushed = 0;
	TransactionId oldest_xmin;
	Datum		values[10];
	bool		nulls[10] = {0};
	RdbFreeExtent freeext[RDB_META_MAX_FREE_EXTENTS];
	int			nfree;

	rel = layout_open(fcinfo, relid, &tupdesc);

	strategy = GetAccessStrategy(BAS_BULKREAD);
	oldest_xmin = GetOldestNonRemovableTransactionId(rel);
	nblocks = RelationGetNumberOfBlocks(rel);
	nfree = rdb_meta_free_extents(rel, freeext);
	for (blkno = RDB_FIRST_DATA_BLKNO; blkno < nblocks;)
	{
		Buffer		buf;
		Page		page;
		bool		stripe_start = false;
		BlockNumber skip;

		/* pages of stripes compaction gave back are nobody's */
		skip = rdb_extent_skip(freeext, nfree, blkno);
		if (skip != blkno)
		{
			blkno = skip;
			continue;
		}

		CHECK_FOR_INTERRUPTS();
		buf = rdb_read_buffer(rel, blkno, strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (rdb_l0_page_is_l0(page))
		{
			OffsetNumber off;
			OffsetNumber maxoff = PageGetMaxOffsetNumber(page);

			l0_pages++;
			for (off = FirstOffsetNumber; off <= maxoff; off++)
			{
				ItemId		lp = PageGetItemId(page, off);
				HeapTupleData tup;

				if (!ItemIdIsNormal(lp))
					continue;
				tup.t_data = (HeapTupleHeader) PageGetItem(page, lp);
				if (!rdb_tuple_is_stub(tup.t_data))
				{
					l0_rows++;
					continue;
				}
				flushed_rows++;
				/* live unless its delete (or update) committed */
				tup.t_len = ItemIdGetLength(lp);
				tup.t_tableOid = RelationGetRelid(rel);
				ItemPointerSet(&tup.t_self, rdb_l0_page_generation(page, blkno), off);
				if (rdb_l0_row_is_live(&tup, oldest_xmin, buf))
					live_flushed++;
			}
		}
		else if (rdb_gen_page_is_leaf(page))
		{
			/* retired generations: flushed rows, all live */
			RdbGenEntry e;
			uint32		gen;
			int			i = -1;

			while ((i = rdb_gen_leaf_retired(page, i + 1, &gen, &e)) >= 0)
			{
				flushed_rows += e.nlive;
				live_flushed += e.nlive;
			}
		}
		else if (rdb_stripe_page_is_stripe(page) &&
				 RdbPageGetOpaque(page)->generation == blkno)
			stripe_start = true;
		UnlockReleaseBuffer(buf);

		if (stripe_start)
		{
			RdbStripeHeader hdr;
			BlockNumber pass;

			/* a stripe being written is not one yet */
			if (!rdb_stripe_read_header_sealed(rel, blkno, &hdr, NULL, &pass))
			{
				blkno += pass;
				continue;
			}
			stripes++;
			stripe_pages += hdr.nblocks;
			stripe_rows += hdr.nrows;
			raw_bytes += hdr.raw_bytes;
			/* its first run; a mapped stripe's other runs are met later */
			blkno += pass;
		}
		else
			blkno++;
	}
	FreeAccessStrategy(strategy);
	table_close(rel, AccessShareLock);

	values[0] = Int64GetDatum(l0_pages);
	values[1] = Int64GetDatum(l0_rows);
	values[2] = Int64GetDatum(flushed_rows);
	values[3] = Int32GetDatum(stripes);
	values[4] = Int64GetDatum(stripe_pages);
	values[5] = Int64GetDatum(stripe_rows);
	values[6] = Int64GetDatum(raw_bytes);
	values[7] = Int64GetDatum(stripe_pages * BLCKSZ);
	if (stripe_pages > 0)
		values[8] = Float8GetDatum((double) raw_bytes / (double) (stripe_pages * BLCKSZ));
	else
		nulls[8] = true;
	/* stripe rows no live row refers to: deleted, updated, vacuumed away */
	values[9] = Int64GetDatum(stripe_rows - live_flushed);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

PG_FUNCTION_INFO_V1(rustydb_l0_layout);

/*
 * rustydb.l0_layout(rel regclass) RETURNS TABLE (l0_pages bigint,
 *	reused_pages bigint, free_pages bigint, directory_pages bigint,
 *	stripe_pages bigint, retired_generations bigint, retired_rows bigint,
 *	next_generation bigint, free_stripe_pages bigint)
 *
 * What the table's blocks are (gendir.h): L0 pages (reused_pages of them
 * under a generation other than their block), free pages left by retired
 * pages, generation directory pages, stripe pages; and the retired
 * generations with their live rows; stripe pages compaction gave back for
 * later stripes (the metapage's free extents).  Counted, page by page.
 */
Datum
rustydb_l0_layout(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	TupleDesc	tupdesc;
	Relation	rel;
	BufferAccessStrategy strategy;
	BlockNumber nblocks;
	BlockNumber blkno;
	int64		l0_pages = 0;
	int64		reused = 0;
	int64		free_pages = 0;
	int64		dir_pages = 0;
	int64		stripe_pages = 0;
	int64		retired = 0;
	int64		retired_rows = 0;
	int64		free_stripe_pages = 0;
	Datum		values[9];
	bool		nulls[9] = {0};
	RdbFreeExtent freeext[RDB_META_MAX_FREE_EXTENTS];
	int			nfree;

	rel = layout_open(fcinfo, relid, &tupdesc);

	strategy = GetAccessStrategy(BAS_BULKREAD);
	nblocks = RelationGetNumberOfBlocks(rel);
	nfree = rdb_meta_free_extents(rel, freeext);
	for (blkno = RDB_FIRST_DATA_BLKNO; blkno < nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;

		CHECK_FOR_INTERRUPTS();
		buf = rdb_read_buffer(rel, blkno, strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (rdb_l0_page_is_l0(page))
		{
			l0_pages++;
			if (rdb_l0_page_generation(page, blkno) != blkno)
				reused++;
		}
		else if (rdb_gen_page_is_free(page))
			free_pages++;
		else if (rdb_gen_page_is_leaf(page))
		{
			RdbGenEntry e;
			uint32		gen;
			int			i = -1;

			dir_pages++;
			while ((i = rdb_gen_leaf_retired(page, i + 1, &gen, &e)) >= 0)
			{
				retired++;
				retired_rows += e.nlive;
			}
		}
		else if (rdb_stripe_page_is_stripe(page))
		{
			if (rdb_extent_skip(freeext, nfree, blkno) != blkno)
				free_stripe_pages++;
			else
				stripe_pages++;
		}
		else if (!PageIsNew(page))
			dir_pages++;		/* a directory root */
		UnlockReleaseBuffer(buf);
	}
	FreeAccessStrategy(strategy);

	values[0] = Int64GetDatum(l0_pages);
	values[1] = Int64GetDatum(reused);
	values[2] = Int64GetDatum(free_pages);
	values[3] = Int64GetDatum(dir_pages);
	values[4] = Int64GetDatum(stripe_pages);
	values[5] = Int64GetDatum(retired);
	values[6] = Int64GetDatum(retired_rows);
	{
		uint32		next;

		(void) rdb_meta_gendir(rel, &next);
		values[7] = Int64GetDatum((int64) next);
	}
	values[8] = Int64GetDatum(free_stripe_pages);
	table_close(rel, AccessShareLock);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * rustydb.storage_counters(rel regclass, OUT flush_bytes bigint,
 *	OUT flushed_value_bytes bigint, OUT compaction_bytes bigint,
 *	OUT compaction_steps bigint, OUT write_amplification float8)
 *
 * What flush and compaction ever wrote into the table's current storage
 * (the metapage's counters, WAL-logged with the stripes): stripe bytes
 * written by flush, the bytes of the values it moved, stripe bytes written
 * by compaction, compaction steps; write amplification = stripe bytes
 * written by flush and compaction / bytes of the values flushed (NULL
 * before the first flush).  Needs SELECT on the table.
 */
PG_FUNCTION_INFO_V1(rustydb_storage_counters);
Datum
rustydb_storage_counters(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Relation	rel;
	RdbMetaCounters mc;
	Datum		values[5];
	bool		nulls[5] = {0};

	rel = layout_open(fcinfo, PG_GETARG_OID(0), &tupdesc);
	rdb_meta_counters(rel, &mc);
	table_close(rel, AccessShareLock);
	values[0] = Int64GetDatum((int64) mc.flush_bytes);
	values[1] = Int64GetDatum((int64) mc.flush_raw_bytes);
	values[2] = Int64GetDatum((int64) mc.compact_bytes);
	values[3] = Int64GetDatum((int64) mc.compactions);
	if (mc.flush_raw_bytes > 0)
		values[4] = Float8GetDatum((double) (mc.flush_bytes + mc.compact_bytes) /
								   (double) mc.flush_raw_bytes);
	else
		nulls[4] = true;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

PG_FUNCTION_INFO_V1(rustydb_directory_groups);

/*
 * rustydb.directory_groups(rel regclass) RETURNS TABLE (space text,
 *	first_generation bigint, stripe bigint, first_row bigint,
 *	last_row bigint, live_rows bigint)
 *
 * The generation directory's leaf-group summaries (gendir.h), one row per
 * group that has one: the group's first generation (RDB_GENDIR_PER_GROUP
 * generations from there), in the first-time or the remapped space; the
 * stripe (first block) all its retired generations' rows are in and the
 * span of stripe rows they hold (NULLs for a group without live rows);
 * their live rows.  Reads the metapage and the summary pages only.
 */
Datum
rustydb_directory_groups(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TupleDesc	tupdesc;
	Relation	rel;
	RdbGenSummary *sums;
	int			space;

	rel = layout_open(fcinfo, relid, &tupdesc);
	InitMaterializedSRF(fcinfo, 0);
	sums = palloc(sizeof(RdbGenSummary) * RDB_GENDIR_GROUPS_PER_ROOT);
	for (space = 0; space < 2; space++)
	{
		uint32		rootno;

		for (rootno = 0; rootno < RDB_GENDIR_MAX_ROOTS; rootno++)
		{
			uint32		base = (space ? RDB_FIRST_REMAPPED_GENERATION : 0) +
				rootno * RDB_GENDIR_PER_ROOT * RDB_GENDIR_PER_LEAF;
			int			g;

			CHECK_FOR_INTERRUPTS();
			if (!rdb_gen_copy_summaries(rel, base, sums))
				continue;
			for (g = 0; g < (int) RDB_GENDIR_GROUPS_PER_ROOT; g++)
			{
				const RdbGenSummary *s = &sums[g];
				Datum		values[6];
				bool		nulls[6] = {0};

				if (s->stripe == RDB_GEN_SUMMARY_NONE)
					continue;
				values[0] = CStringGetTextDatum(space ? "remapped" : "first-time");
				values[1] = Int64GetDatum((int64) base + (int64) g * RDB_GENDIR_PER_GROUP);
				if (s->stripe == RDB_GEN_SUMMARY_EMPTY)
					nulls[2] = nulls[3] = nulls[4] = true;
				else
				{
					values[2] = Int64GetDatum((int64) s->stripe);
					values[3] = Int64GetDatum((int64) s->lo);
					values[4] = Int64GetDatum((int64) s->hi);
				}
				values[5] = Int64GetDatum((int64) s->nlive);
				tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			}
		}
	}
	pfree(sums);
	table_close(rel, AccessShareLock);
	return (Datum) 0;
}
