/*-------------------------------------------------------------------------
 *
 * stripe_views.c
 *	  SQL functions over columnar stripes: rustydb.stripes (list a table's
 *	  stripes), rustydb.chunk_bounds (the min/max kept per chunk) and the
 *	  test diagnostics rustydb.stripe_roundtrip and rustydb.stripe_rows.
 *
 * rustydb.stripes(regclass) walks the relation's blocks and lists every
 * stripe whose first page it finds (a stripe page whose generation is its
 * own block number), with its header, its level, and what the L0 stubs
 * pointing into it say (row number range, rows no live row refers to).
 * rustydb.column_stats(regclass) sums each column's chunks over all
 * stripes from their directories: encodings, bytes before and after
 * encoding and as stored.  Both need SELECT on the table (the views
 * rustydb.stripes and rustydb.columns over them apply the same rule to
 * every table, and column privileges for columns).
 *
 * rustydb.stripe_space(regclass) shows where the stripes' pages are: one
 * row per run of each stripe's extent map (an unmapped stripe has one),
 * and one per extent of the metapage's free list (pages compaction gave
 * back).  It needs SELECT on the table, like rustydb.stripes.
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

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/procarray.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#include "rustydb/rustydb.h"
#include "rustydb/gendir.h"
#include "rustydb/l0.h"
#include "rustydb/stripe.h"
#include "../stripe/stripe_int.h"

PG_FUNCTION_INFO_V1(rustydb_stripes);
PG_FUNCTION_INFO_V1(rustydb_column_stats);
PG_FUNCTION_INFO_V1(rustydb_chunk_bounds);
PG_FUNCTION_INFO_V1(rustydb_stripe_roundtrip);
PG_FUNCTION_INFO_V1(rustydb_stripe_rows);
PG_FUNCTION_INFO_V1(rustydb_stripe_space);

static BlockNumber stripe_views_next_stripe(Relation rel,
											BufferAccessStrategy strategy,
											BlockNumber nblocks,
											BlockNumber *blkno,
											RdbStripeMap *map);

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

/* what the L0 stubs say of one stripe (rustydb.stripes) */
typedef struct StripeStubStats
{
	uint32		first_block;	/* hash key */
	int64		stubs;			/* stubs pointing into the stripe */
	int64		live;			/* of which live: delete not committed */
	uint64		first_row;		/* smallest / largest row number */
	uint64		last_row;
} StripeStubStats;

/*
 * rustydb.stripes(rel regclass) RETURNS TABLE(first_block bigint,
 *		nblocks int, nrows bigint, chunk_groups int, raw_bytes bigint,
 *		stored_bytes bigint, level int, first_row bigint, last_row bigint,
 *		deleted_rows bigint)
 *
 * One pass over the relation: L0 pages give, per stripe, the row numbers of
 * the stubs that point into it and how many of those rows are live (their
 * delete or update has not committed); a stripe's first page gives its
 * header, and its bounds section its level.  deleted_rows = the stripe's
 * rows no live row refers to any more (deleted, updated, vacuumed away, or
 * written by a flush that could not stub them).  first_row / last_row are
 * NULL when no stub points into the stripe.
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
	HASHCTL		ctl;
	HTAB	   *stats;
	List	   *stripes = NIL;
	ListCell   *lc;
	TransactionId oldest_xmin;
	RdbFreeExtent freeext[RDB_META_MAX_FREE_EXTENTS];
	int			nfree;

	rdb_check_preloaded();
	rdb_require_select(relid);

	InitMaterializedSRF(fcinfo, 0);
	rel = stripe_views_open(relid, AccessShareLock);
	nblocks = RelationGetNumberOfBlocks(rel);
	strategy = GetAccessStrategy(BAS_BULKREAD);
	oldest_xmin = GetOldestNonRemovableTransactionId(rel);
	ctl.keysize = sizeof(uint32);
	ctl.entrysize = sizeof(StripeStubStats);
	ctl.hcxt = CurrentMemoryContext;
	stats = hash_create("rustydb.stripes", 64, &ctl,
						HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	nfree = rdb_meta_free_extents(rel, freeext);
	for (blkno = RDB_FIRST_DATA_BLKNO; blkno < nblocks;)
	{
		Buffer		buf;
		Page		page;
		bool		first = false;
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
			uint64		gen = rdb_l0_page_generation(page, blkno);

			for (off = FirstOffsetNumber; off <= maxoff; off++)
			{
				ItemId		lp = PageGetItemId(page, off);
				HeapTupleData tup;
				RdbStubData sd;
				StripeStubStats *st;
				bool		found;
				uint64		rownum;

				if (!ItemIdIsNormal(lp))
					continue;
				tup.t_data = (HeapTupleHeader) PageGetItem(page, lp);
				if (!rdb_tuple_is_stub(tup.t_data))
					continue;
				sd = rdb_stub_data(tup.t_data);
				st = hash_search(stats, &sd.stripe, HASH_ENTER, &found);
				rownum = gen * MaxHeapTuplesPerPage + (off - 1);
				if (!found)
				{
					st->stubs = 0;
					st->live = 0;
					st->first_row = rownum;
					st->last_row = rownum;
				}
				st->stubs++;
				st->first_row = Min(st->first_row, rownum);
				st->last_row = Max(st->last_row, rownum);
				tup.t_len = ItemIdGetLength(lp);
				tup.t_tableOid = RelationGetRelid(rel);
				ItemPointerSet(&tup.t_self, gen, off);
				if (rdb_l0_row_is_live(&tup, oldest_xmin, buf))
					st->live++;
			}
		}
		else if (rdb_gen_page_is_leaf(page))
		{
			/* retired generations: live rows of one stripe each */
			RdbGenEntry e;
			uint32		gen;
			int			i = -1;

			while ((i = rdb_gen_leaf_retired(page, i + 1, &gen, &e)) >= 0)
			{
				StripeStubStats *st;
				bool		found;
				OffsetNumber lo = 1;
				uint64		first_row;
				uint64		last_row;

				if (e.nlive == 0)
					continue;	/* an emptied page: no stripe row */

				while (lo < e.maxoff && !rdb_gen_bit(e.live, lo))
					lo++;
				first_row = (uint64) gen * MaxHeapTuplesPerPage + (lo - 1);
				last_row = (uint64) gen * MaxHeapTuplesPerPage + (e.maxoff - 1);
				st = hash_search(stats, &e.stripe, HASH_ENTER, &found);
				if (!found)
				{
					st->stubs = 0;
					st->live = 0;
					st->first_row = first_row;
					st->last_row = last_row;
				}
				st->stubs += e.nlive;
				st->live += e.nlive;
				st->first_row = Min(st->first_row, first_row);
				st->last_row = Max(st->last_row, last_row);
			}
		}
		else if (rdb_stripe_page_is_stripe(page) &&
				 RdbPageGetOpaque(page)->generation == blkno)
			first = true;
		UnlockReleaseBuffer(buf);

		if (first)
		{
			RdbStripeHeader hdr;
			BlockNumber skip;

			/* a stripe being written is not one yet */
			if (rdb_stripe_read_header_sealed(rel, blkno, &hdr, NULL, &skip))
				stripes = lappend_int(stripes, (int) blkno);
			/* its first run; a mapped stripe's other runs are met later */
			blkno += skip;
		}
		else
			blkno++;
	}

	/*
	 * A stripe rows still lead to is listed whatever the walk thought of it:
	 * opening it reports damage (the walk passes over a mapped stripe a run
	 * of which is no longer its own, which is only harmless for a stripe
	 * nothing refers to: rdb_stripe_read_header_sealed).
	 */
	{
		HASH_SEQ_STATUS hs;
		StripeStubStats *ref;

		hash_seq_init(&hs, stats);
		while ((ref = hash_seq_search(&hs)) != NULL)
			if (ref->stubs > 0 && !list_member_int(stripes, (int) ref->first_block))
				stripes = lappend_int(stripes, (int) ref->first_block);
	}

	foreach(lc, stripes)
	{
		uint32		first_block = (uint32) lfirst_int(lc);
		RdbStripeReader *sr = rdb_stripe_open(rel, first_block);
		const RdbStripeHeader *hdr = rdb_stripe_header(sr);
		StripeStubStats *st = hash_search(stats, &first_block, HASH_FIND, NULL);
		Datum		values[10];
		bool		nulls[10] = {0};

		values[0] = Int64GetDatum((int64) first_block);
		values[1] = Int32GetDatum((int32) hdr->nblocks);
		values[2] = Int64GetDatum((int64) hdr->nrows);
		values[3] = Int32GetDatum((int32) hdr->nchunkgroups);
		values[4] = Int64GetDatum((int64) hdr->raw_bytes);
		values[5] = Int64GetDatum((int64) hdr->nblocks * BLCKSZ);
		values[6] = Int32GetDatum((int32) rdb_stripe_level(sr));
		if (st != NULL)
		{
			values[7] = Int64GetDatum((int64) st->first_row);
			values[8] = Int64GetDatum((int64) st->last_row);
		}
		else
			nulls[7] = nulls[8] = true;
		values[9] = Int64GetDatum((int64) hdr->nrows - (st ? st->live : 0));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		rdb_stripe_close(sr);
	}

	hash_destroy(stats);
	FreeAccessStrategy(strategy);
	table_close(rel, AccessShareLock);
	return (Datum) 0;
}

/* one column's totals over a table's stripes (rustydb.column_stats) */
typedef struct ColumnTotals
{
	int64		chunks;			/* chunks stored (all-NULL ones are not) */
	int64		nulls;
	int64		value_bytes;	/* -1 once a version 1 stripe is met */
	int64		encoded_bytes;
	int64		stored_bytes;
	int64		by_encoding[RDB_NUM_ENCODINGS];
} ColumnTotals;

/*
 * rustydb.column_stats(rel regclass) RETURNS TABLE(attnum int,
 *		column_name name, chunks bigint, null_values bigint,
 *		encodings text, value_bytes bigint, encoded_bytes bigint,
 *		stored_bytes bigint, compression_ratio float8)
 *
 * Per column of the table (as it is now: dropped columns are left out, a
 * column added after a stripe was written has nothing in it), totals over
 * every chunk of every stripe, from the stripes' directories and bounds
 * sections (no chunk is read): the encodings chosen and how many chunks
 * each, the bytes of the values before encoding (NULL if a stripe of format
 * version 1, which does not record them, is among them), after encoding, and
 * as stored (compressed), and value bytes / stored bytes.  Rows of every
 * visibility are counted, as the stripes hold them.
 */
Datum
rustydb_column_stats(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	rel;
	TupleDesc	desc;
	BufferAccessStrategy strategy;
	BlockNumber nblocks;
	BlockNumber blkno = RDB_FIRST_DATA_BLKNO;
	BlockNumber first;
	ColumnTotals *tot;
	int			c;

	rdb_check_preloaded();
	rdb_require_select(relid);

	/*
	 * Null counts, value bytes and the encodings chosen describe the rows
	 * a policy hides as well: PostgreSQL hides pg_stats under row-level
	 * security, so do we.
	 */
	if (check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot show column statistics of table \"%s\" under row-level security",
						get_rel_name(relid) ? get_rel_name(relid) : "?"),
				 errdetail("The statistics cover rows that the table's policies may hide.")));

	InitMaterializedSRF(fcinfo, 0);
	rel = stripe_views_open(relid, AccessShareLock);
	desc = RelationGetDescr(rel);
	tot = palloc0(sizeof(ColumnTotals) * desc->natts);
	nblocks = RelationGetNumberOfBlocks(rel);
	strategy = GetAccessStrategy(BAS_BULKREAD);

	while ((first = stripe_views_next_stripe(rel, strategy, nblocks, &blkno, NULL)) != InvalidBlockNumber)
	{
		RdbStripeReader *sr = rdb_stripe_open(rel, first);
		uint32		ngroups = rdb_stripe_nchunkgroups(sr);
		int			ncols = Min((int) rdb_stripe_ncolumns(sr), desc->natts);
		uint32		g;

		for (g = 0; g < ngroups; g++)
		{
			for (c = 0; c < ncols; c++)
			{
				const RdbChunkRef *ref = rdb_stripe_chunk_ref(sr, g, c);
				int64		vb = rdb_stripe_chunk_value_bytes(sr, g, c);

				tot[c].nulls += ref->nnulls;
				if (vb < 0 || tot[c].value_bytes < 0)
					tot[c].value_bytes = -1;
				else
					tot[c].value_bytes += vb;
				if (ref->flags & RDB_CHUNK_ALL_NULL)
					continue;
				tot[c].chunks++;
				tot[c].encoded_bytes += ref->raw_len;
				tot[c].stored_bytes += ref->stored_len;
				if (ref->encoding < RDB_NUM_ENCODINGS)
					tot[c].by_encoding[ref->encoding]++;
			}
		}
		rdb_stripe_close(sr);
	}

	for (c = 0; c < desc->natts; c++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, c);
		Datum		values[9];
		bool		nulls[9] = {0};
		StringInfoData enc;
		int			e;

		if (att->attisdropped)
			continue;
		initStringInfo(&enc);
		for (e = 0; e < RDB_NUM_ENCODINGS; e++)
		{
			if (tot[c].by_encoding[e] == 0)
				continue;
			appendStringInfo(&enc, "%s%s: %lld", enc.len > 0 ? ", " : "",
							 rdb_encoding_name((RdbEncoding) e),
							 (long long) tot[c].by_encoding[e]);
		}
		values[0] = Int32GetDatum(att->attnum);
		values[1] = NameGetDatum(&att->attname);
		values[2] = Int64GetDatum(tot[c].chunks);
		values[3] = Int64GetDatum(tot[c].nulls);
		values[4] = CStringGetTextDatum(enc.data);
		if (tot[c].value_bytes < 0)
			nulls[5] = true;
		else
			values[5] = Int64GetDatum(tot[c].value_bytes);
		values[6] = Int64GetDatum(tot[c].encoded_bytes);
		values[7] = Int64GetDatum(tot[c].stored_bytes);
		if (tot[c].value_bytes > 0 && tot[c].stored_bytes > 0)
			values[8] = Float8GetDatum((double) tot[c].value_bytes /
									   (double) tot[c].stored_bytes);
		else
			nulls[8] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	FreeAccessStrategy(strategy);
	table_close(rel, AccessShareLock);
	return (Datum) 0;
}

/*
 * rustydb_stripe_space
 *		rustydb.stripe_space(rel regclass, OUT kind text, OUT stripe bigint,
 *		OUT run int, OUT first_block bigint, OUT blocks bigint,
 *		OUT freed_by xid): kind 'stripe', one row per run of every sealed
 *		stripe's extent map (stripe = its first block; freed_by NULL), then
 *		kind 'free', one row per free extent (stripe NULL; freed_by the
 *		transaction that gave it back, NULL once its pages may be written again).
 */
Datum
rustydb_stripe_space(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	rel;
	BufferAccessStrategy strategy;
	BlockNumber nblocks;
	BlockNumber blkno = RDB_FIRST_DATA_BLKNO;
	BlockNumber first;
	RdbFreeExtent freeext[RDB_META_MAX_FREE_EXTENTS];
	RdbStripeMap map;
	int			nfree;
	int			i;

	rdb_check_preloaded();
	rdb_require_select(relid);

	InitMaterializedSRF(fcinfo, 0);
	rel = stripe_views_open(relid, AccessShareLock);
	nblocks = RelationGetNumberOfBlocks(rel);
	strategy = GetAccessStrategy(BAS_BULKREAD);

	while ((first = stripe_views_next_stripe(rel, strategy, nblocks, &blkno, &map)) != InvalidBlockNumber)
	{
		uint32		r;

		for (r = 0; r < map.nextents; r++)
		{
			Datum		values[6];
			bool		nulls[6] = {0};

			values[0] = CStringGetTextDatum("stripe");
			values[1] = Int64GetDatum((int64) first);
			values[2] = Int32GetDatum((int32) r);
			values[3] = Int64GetDatum((int64) map.ext[r].first);
			values[4] = Int64GetDatum((int64) map.ext[r].nblocks);
			nulls[5] = true;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}

	nfree = rdb_meta_free_extents(rel, freeext);
	for (i = 0; i < nfree; i++)
	{
		Datum		values[6];
		bool		nulls[6] = {0};

		values[0] = CStringGetTextDatum("free");
		nulls[1] = true;
		values[2] = Int32GetDatum(i);
		values[3] = Int64GetDatum((int64) freeext[i].first);
		values[4] = Int64GetDatum((int64) freeext[i].nblocks);
		if (TransactionIdIsNormal(freeext[i].xid))
			values[5] = TransactionIdGetDatum(freeext[i].xid);
		else
			nulls[5] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	FreeAccessStrategy(strategy);
	table_close(rel, AccessShareLock);
	return (Datum) 0;
}

/*
 * stripe_views_next_stripe
 *		The first block of the next stripe at or after *blkno (which it
 *		then moves past that stripe's first run), or InvalidBlockNumber at
 *		the end; its checked extent map into *map, if not NULL.
 */
static BlockNumber
stripe_views_next_stripe(Relation rel, BufferAccessStrategy strategy,
						 BlockNumber nblocks, BlockNumber *blkno,
						 RdbStripeMap *map)
{
	RdbFreeExtent freeext[RDB_META_MAX_FREE_EXTENTS];
	int			nfree = rdb_meta_free_extents(rel, freeext);

	while (*blkno < nblocks)
	{
		bool		first;
		BlockNumber this = rdb_extent_skip(freeext, nfree, *blkno);
		RdbStripeHeader hdr;

		CHECK_FOR_INTERRUPTS();
		if (this != *blkno)
		{
			*blkno = this;
			continue;
		}
		first = rdb_stripe_block_belongs(rel, this, this, strategy);
		if (!first)
		{
			(*blkno)++;
			continue;
		}
		/* a stripe being written is not one yet */
		{
			BlockNumber skip;

			if (!rdb_stripe_read_header_sealed(rel, this, &hdr, map, &skip))
			{
				*blkno = this + skip;
				continue;
			}
			/* its first run; a mapped stripe's other runs are met later */
			*blkno = this + skip;
		}
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
	rdb_require_select(relid);

	/*
	 * The bounds were taken over every row the stripe was written with:
	 * rows deleted since (erased values stay in them until compaction
	 * rewrites the stripe) and rows of a transaction that rolled back after
	 * a flush_running flush moved them.  SELECT shows none of those, so the
	 * bounds are for the table's owner only, as pageinspect's views of
	 * BRIN ranges are for superusers.
	 */
	if (!pg_class_ownercheck(relid, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s to see its chunk bounds",
						get_rel_name(relid) ? get_rel_name(relid) : "?"),
				 errdetail("Bounds may show values of rows deleted or rolled back since their stripe was written.")));
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

	while ((first = stripe_views_next_stripe(rel, strategy, nblocks, &blkno, NULL)) !=
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
	opts.stripe_level = 1;
	opts.free_pages = NULL;
	opts.interrupt_check = NULL;

	InitMaterializedSRF(fcinfo, 0);
	rel = stripe_views_open(relid, RowExclusiveLock);
	/* the table's sort key, so that sorted stripes are round-tripped too */
	{
		RdbTableOptions topts;

		rdb_table_options(rel, &topts);
		opts.nsortkeys = topts.nsortkeys;
		memcpy(opts.sortkeys, topts.sortkeys, sizeof(opts.sortkeys));
	}

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
