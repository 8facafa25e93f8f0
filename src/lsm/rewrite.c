/*-------------------------------------------------------------------------
 *
 * rewrite.c
 *	  The rows of a CLUSTER / VACUUM FULL rewrite, straight into stripes.
 *
 * A rewrite copies every row version some snapshot may still see into a
 * new relfilenode (ddl.c).  It used to put every row on an L0 page: VACUUM
 * FULL of a flushed table gave back a heap-sized file of row pages, and the
 * next flush left those pages free in the middle of the file.  A table
 * loaded at once, flushed and compacted so kept a heap-sized file for good
 * (205 MB holding 17 MB of stripes for 1 M bench rows), and VACUUM FULL,
 * the one way to give a table's space back, made it no smaller.
 *
 * Rows every snapshot sees with no header of their own to keep (an insert
 * that committed before the rewrite's horizon, or frozen; not deleted,
 * updated or locked by anyone alive) are what a retired page's rows are:
 * frozen rows in a stripe.  So they are gathered in memory and written as
 * stripes (stripe_write.c) and get TIDs of retired generations that never
 * had a page (rdb_gen_add_retired): the new file holds their stripes and
 * 92 bytes of directory per RDB_REWRITE_ROWS_PER_GEN rows.  Rows that need
 * their header (recently dead, inserted or deleted by a transaction not yet
 * visible to all, of our own transaction) and rows with values out of line
 * in TOAST (a retired page may hold no TOAST pointer) go onto L0 pages as
 * before.
 *
 * The new relfilenode is read by nobody before the rewrite commits and goes
 * with it if it aborts or crashes: nothing here takes a lock beyond the
 * rewrite's AccessExclusiveLock or stamps a page.  A hot standby's queries
 * whose snapshot is older than the newest row let in are cancelled (one
 * conflict record, as for a retired page): the rows read as frozen.
 * Every page is WAL-logged (stripe pages, directory pages as generic WAL)
 * unless the relfilenode skips WAL (wal_level = minimal, new in this
 * transaction: synced or logged whole at commit).  The caller builds the
 * indexes afterwards from the new TIDs.
 *
 * Memory: a stripe's rows are copied into a context emptied after each
 * stripe; a stripe is written once it holds the table's max_stripe_rows
 * rows or its rows take maintenance_work_mem.
 *
 * IDENTIFICATION
 *	  src/lsm/rewrite.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/heaptoast.h"
#include "access/htup_details.h"
#include "access/transam.h"
#include "miscadmin.h"
#include "storage/itemid.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "rustydb/events.h"
#include "rustydb/gendir.h"
#include "rustydb/l0.h"
#include "rustydb/lsm.h"
#include "rustydb/options.h"
#include "rustydb/stripe.h"

/*
 * Rows per generation: as many as the page of stubs a retired generation
 * is read as (rdb_gen_build_page), and written as when a DELETE, UPDATE or
 * row lock revives it, can hold.
 */
#define RDB_REWRITE_ROWS_PER_GEN \
	Min((int) RDB_GEN_MAX_OFFSET, \
		(int) ((BLCKSZ - SizeOfPageHeaderData - MAXALIGN(sizeof(RdbPageOpaqueData))) / \
			   (MAXALIGN(RDB_STUB_LEN) + sizeof(ItemIdData))))

struct RdbRewriteStripes
{
	Relation	rel;
	RdbTableOptions topts;
	RdbStripeOptions sopts;
	int			max_rows;		/* rows a stripe holds at most */
	Size		max_bytes;		/* bytes of rows gathered at most */
	MemoryContext cxt;			/* the gathered rows */
	HeapTuple  *tuples;
	int			n;
	int			maxtuples;		/* room in tuples */
	Size		bytes;
	int64		rows;			/* rows written into stripes so far */
	TransactionId latest_xmin;	/* newest inserter of a row let in that was
								 * not frozen yet (standby conflicts) */
};

/*
 * rdb_rewrite_row_fits
 *		May this row version of the old table, whose vacuum status against
 *		the rewrite's horizon oldest_xmin is status, go into a stripe of the
 *		new one (after heap_freeze_tuple)?  It must read the same as a
 *		frozen row that was never locked: live, inserted by a transaction
 *		every snapshot sees, and small enough to need no TOAST pointer.
 */
bool
rdb_rewrite_row_fits(RdbRewriteStripes *rw, HeapTuple tup, HTSV_Result status,
					 TransactionId oldest_xmin)
{
	HeapTupleHeader h = tup->t_data;
	TransactionId xmin = HeapTupleHeaderGetRawXmin(h);

	/*
	 * LIVE: the inserter committed, and no updater or deleter did, nor is
	 * one running; a locker cannot be running either, for the rewrite's
	 * lock conflicts with every row lock's (a prepared transaction's too).
	 */
	if (status != HEAPTUPLE_LIVE)
		return false;
	if (!HeapTupleHeaderXminFrozen(h) &&
		!TransactionIdPrecedes(xmin, oldest_xmin))
		return false;
	if (HeapTupleHasExternal(tup) || tup->t_len > TOAST_TUPLE_THRESHOLD)
		return false;
	/* (a speculative insertion is never LIVE: its t_ctid holds a token) */
	if (!HeapTupleHeaderXminFrozen(h) && TransactionIdIsNormal(xmin) &&
		(!TransactionIdIsValid(rw->latest_xmin) ||
		 TransactionIdFollows(xmin, rw->latest_xmin)))
		rw->latest_xmin = xmin;
	return true;
}

/*
 * rdb_rewrite_settle
 *		Make tup (a copy of a row rdb_rewrite_row_fits let in) read as it
 *		will in its stripe: frozen, never locked.  Every snapshot reads it
 *		the same either way.  A CLUSTER that sorts its rows marks them so
 *		before the sort and tells them by it afterwards
 *		(rdb_rewrite_row_settled).
 */
void
rdb_rewrite_settle(HeapTuple tup)
{
	HeapTupleHeader h = tup->t_data;

	h->t_infomask &= ~(HEAP_XMAX_BITS | HEAP_XMAX_COMMITTED |
					   HEAP_XMAX_IS_MULTI | HEAP_LOCK_MASK |
					   HEAP_MOVED);
	h->t_infomask |= HEAP_XMIN_FROZEN | HEAP_XMAX_INVALID;
	h->t_infomask2 &= ~HEAP_KEYS_UPDATED;
	HeapTupleHeaderSetXmax(h, InvalidTransactionId);
}

/*
 * rdb_rewrite_row_settled
 *		Does tup read as a frozen row never locked, small enough for a
 *		stripe (a row rdb_rewrite_settle marked, or one that was so
 *		already)?
 */
bool
rdb_rewrite_row_settled(HeapTuple tup)
{
	HeapTupleHeader h = tup->t_data;

	return HeapTupleHeaderXminFrozen(h) &&
		(h->t_infomask & HEAP_XMAX_INVALID) != 0 &&
		!(h->t_infomask & HEAP_MOVED) &&
		!HeapTupleHasExternal(tup) && tup->t_len <= TOAST_TUPLE_THRESHOLD;
}

RdbRewriteStripes *
rdb_rewrite_begin(Relation rel)
{
	RdbRewriteStripes *rw = palloc0(sizeof(RdbRewriteStripes));

	rw->rel = rel;
	rdb_table_options(rel, &rw->topts);
	rw->sopts.codec = rw->topts.compression;
	rw->sopts.level = rw->topts.compression == RDB_CODEC_ZSTD ?
		rw->topts.compression_level : 0;
	rw->sopts.chunk_group_rows = rw->topts.chunk_group_rows;
	rw->sopts.nsortkeys = rw->topts.nsortkeys;
	memcpy(rw->sopts.sortkeys, rw->topts.sortkeys, sizeof(rw->sopts.sortkeys));
	rw->sopts.free_pages = NULL;	/* a new file has no FREE pages */
	rw->max_rows = Max(rw->topts.max_stripe_rows, 1);
	rw->max_bytes = (Size) maintenance_work_mem * 1024;
	rw->cxt = AllocSetContextCreate(CurrentMemoryContext,
									"rustydb rewrite stripe",
									ALLOCSET_DEFAULT_SIZES);
	rw->maxtuples = Min(rw->max_rows, 1024);
	rw->tuples = palloc(sizeof(HeapTuple) * rw->maxtuples);
	return rw;
}

/*
 * The level a stripe of nrows rows gets: the one compaction would have
 * brought flush-sized stripes to when merging them into it (flush writes
 * stripe_rows-row stripes at level 1, each level up holds level_ratio
 * times as many), so that it is merged with its peers, not with flushes.
 */
static int
rewrite_level(const RdbTableOptions *t, uint32 nrows)
{
	uint64		cap = Max(t->stripe_rows, 1);
	int			level = 1;

	while (cap < nrows)
	{
		cap *= Max(t->level_ratio, 2);
		level++;
	}
	return level;
}

/* write the gathered rows as one stripe and give them their generations */
static void
rewrite_write(RdbRewriteStripes *rw)
{
	RdbStripeInfo info;

	if (rw->n == 0)
		return;
	rw->sopts.stripe_level = rewrite_level(&rw->topts, rw->n);
	rdb_stripe_write(rw->rel, rw->tuples, rw->n, &rw->sopts, &info);
	rdb_meta_note_stripes(rw->rel);
	/*
	 * Generations of a stripe that fills half a leaf group or more end at
	 * a group's end, so that its groups get summaries (scans skip them by
	 * the stripe's row span); smaller ones share a group with the next.
	 */
	(void) rdb_gen_add_retired(rw->rel, info.first_block, info.nrows,
							   RDB_REWRITE_ROWS_PER_GEN,
							   info.nrows / RDB_REWRITE_ROWS_PER_GEN >=
							   RDB_GENDIR_PER_GROUP / 2);
	/* written as a flush writes: counted and announced as one */
	rdb_meta_count_written(rw->rel, false, info.stored_bytes, info.raw_bytes, 0);
	rdb_emit_memtable_flushed(rw->rel, rw->n, info.stored_bytes, info.nblocks,
							  (uint64) info.write_us);
	rw->rows += rw->n;
	rw->n = 0;
	rw->bytes = 0;
	MemoryContextReset(rw->cxt);
}

/*
 * rdb_rewrite_add
 *		Add the row of values / isnull (desc's columns; a row
 *		rdb_rewrite_row_fits let in, deformed with the old relation's
 *		descriptor) to the stripe being gathered, formed in the stripe's
 *		memory and marked as it reads (rdb_rewrite_settle: also if it goes
 *		onto an L0 page after all, rdb_rewrite_end); writes the stripe when
 *		it is full.
 */
void
rdb_rewrite_add(RdbRewriteStripes *rw, TupleDesc desc, Datum *values,
				bool *isnull)
{
	MemoryContext old;
	HeapTuple	tup;

	if (rw->n == rw->maxtuples)
	{
		/* the array grows with the stripe: small tables stay small */
		rw->maxtuples = Min(rw->max_rows, rw->maxtuples * 2);
		rw->tuples = repalloc_huge(rw->tuples,
								   sizeof(HeapTuple) * (Size) rw->maxtuples);
	}
	old = MemoryContextSwitchTo(rw->cxt);
	tup = heap_form_tuple(desc, values, isnull);
	MemoryContextSwitchTo(old);
	rdb_rewrite_settle(tup);
	rw->tuples[rw->n++] = tup;
	/* what the row really takes (allocations round up), and its pointer */
	rw->bytes += GetMemoryChunkSpace(tup) + sizeof(HeapTuple);
	if (rw->n >= rw->max_rows || rw->bytes >= rw->max_bytes)
		rewrite_write(rw);
}

/*
 * rdb_rewrite_end
 *		Write what is gathered, summarise the directory groups the stripes'
 *		generations fill (so that scans can skip them), free everything.
 *		What is gathered goes to to_l0 instead, row by row, when it is less
 *		than a chunk group and no stripe was written: a small table's rows
 *		take fewer pages on L0 (a stripe, a directory root, leaf and summary
 *		page for a few rows) and are flushed with the next rows.  Returns
 *		the rows written into stripes.
 */
int64
rdb_rewrite_end(RdbRewriteStripes *rw, void (*to_l0) (void *arg, HeapTuple tup),
				void *arg)
{
	int64		rows;

	if (rw->rows == 0 && rw->n < rw->topts.chunk_group_rows)
	{
		for (int i = 0; i < rw->n; i++)
			to_l0(arg, rw->tuples[i]);
		rw->n = 0;
	}
	rewrite_write(rw);
	rdb_gen_summarize_pending(rw->rel);

	/*
	 * The stripes' rows read as frozen.  No snapshot on this server is
	 * older than their inserters (they precede the rewrite's horizon), but
	 * a hot standby's may be (without hot_standby_feedback): one that
	 * reads the table only after the rewrite's commit replays would see
	 * rows inserted after it was taken.  Such queries are cancelled first,
	 * as heap's pruning and freezing conflicts cancel them.
	 */
	if (rw->rows > 0 && TransactionIdIsValid(rw->latest_xmin))
		rdb_stripe_reuse_log_conflict(rw->rel, rw->latest_xmin);
	rows = rw->rows;
	MemoryContextDelete(rw->cxt);
	pfree(rw->tuples);
	pfree(rw);
	return rows;
}
