/*-------------------------------------------------------------------------
 *
 * flush.c
 *	  The LSM memtable flush: move the values of L0 rows into compressed
 *	  columnar stripes.
 *
 * A row is flushed when nobody holds or may take an interest in its header:
 * never deleted, updated or locked (xmax invalid), not a speculative
 * insertion, and either visible to everyone (inserted by a committed
 * transaction older than every running snapshot, hinted committed) or
 * inserted by a transaction that is still running.  The header stays, so
 * visibility does not change either way; a page of rows every snapshot sees
 * is retired right after (gendir.c), a running transaction's page once its
 * rows are settled (flush_page_plan).  Rows committed but not yet visible
 * to everyone, locked or recently updated stay in L0 for a later flush.
 *
 * How, in two steps, each crash-safe on its own:
 *	1. The candidates of a run of pages are copied (under share locks) and
 *	   written as one stripe (stripe_write.c), whose pages are WAL-logged
 *	   before anything refers to them.
 *	2. Page by page, under a cleanup lock (no one else has the page pinned,
 *	   so no one holds a pointer into it), each candidate that is still the
 *	   same row version with no xmax becomes a stub: its own header plus the
 *	   stripe locator (l0.h).  One XLOG_RDB_FLUSH record per page.  A page
 *	   whose cleanup lock is not free at once is left for a later flush, so
 *	   flush never waits on a reader.
 * The row's TID, header and visibility do not change, so no transaction
 * can tell before from after, indexes are untouched, and a crash between
 * or within the steps leaves every row either in L0 or in a stripe, never
 * both and never neither.  What a crash or a skipped page leaves behind is
 * stripe rows no stub points to: space, not data (compaction will reclaim
 * it).
 *
 * Locking: the caller holds ShareUpdateExclusiveLock on the relation (one
 * flush or VACUUM at a time; DML goes on), and the flush its stripe-
 * reference lock (a writer's own flush: that lock only, see
 * rdb_stripe_refs_lock).  Buffer locks are never held
 * while writing the stripe.  Memory: candidates are copied into a context
 * reset after each stripe.
 *
 * IDENTIFICATION
 *	  src/lsm/flush.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "access/xloginsert.h"
#include "catalog/pg_am.h"
#include "commands/defrem.h"
#include "lib/qunique.h"
#include "utils/hsearch.h"
#include "utils/snapmgr.h"
#include "catalog/pg_class.h"
#include "catalog/namespace.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "portability/instr_time.h"
#include "storage/bufmgr.h"
#include "storage/freespace.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/procarray.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "rustydb/rustydb.h"
#include "rustydb/events.h"
#include "rustydb/gendir.h"
#include "rustydb/l0.h"
#include "rustydb/lsm.h"
#include "rustydb/options.h"
#include "rustydb/stripe.h"
#include "rustydb/xlog.h"

/* defaults of the flush knobs (GUCs; a table's WITH (...) overrides them) */
int			rdb_flush_rows = 0;
bool		rdb_flush_running = false;
int			rdb_writer_flush_rows = 0;
int			rdb_flush_naptime_ms = 2000;
int			rdb_flush_stripe_rows = 150000;
int			rdb_flush_chunk_group_rows = 10000;
int			rdb_flush_compression = RDB_CODEC_ZSTD;
int			rdb_flush_compression_level = 3;

/* one candidate row: where it is and which version we copied */
typedef struct FlushCandidate
{
	BlockNumber blkno;
	OffsetNumber offnum;
	TransactionId xmin;			/* raw xmin of the copied version */
	uint32		len;
	bool		in_progress;	/* its inserter was running (FLUSH_IN_PROGRESS) */
	bool		restub;			/* a stub copied again: its page's rows go
								 * into one stripe (flush_page_plan) */
	RdbStubData was;			/* restub: where its values were */
} FlushCandidate;

typedef struct FlushState
{
	Relation	rel;
	TransactionId oldest_xmin;
	BufferAccessStrategy strategy;
	MemoryContext batch_cxt;
	HeapTuple  *tuples;
	FlushCandidate *cands;
	int			ncands;
	int			maxcands;
	RdbStripeOptions opts;
	RdbFlushStats *stats;
	BlockNumber retired_lo;		/* range of the blocks retired or given
								 * room so far, for the free space map */
	BlockNumber retired_hi;
	int			nrestub;		/* restub candidates in the batch */
	bool		running;		/* move rows of running transactions too
								 * (the table's flush_running) */
	bool		own;			/* only this transaction's own running rows
								 * (rdb_flush_writer) */
	const BlockNumber *only;	/* own: the blocks to look at, ascending
								 * (the pages its inserts used) */
	int			nonly;
	BlockNumber *passed;		/* own: pinned pages passed over */
	int			npassed;
	RdbFreePageHint free_pages; /* FREE pages met, for the stripes */
} FlushState;

/* what flush_row_qualifies says of a row version */
typedef enum FlushQual
{
	FLUSH_NO,					/* stays in L0 for now */
	FLUSH_SETTLED,				/* moves; every snapshot sees it */
	FLUSH_IN_PROGRESS			/* moves; its inserter is still running */
} FlushQual;

/*
 * May this row version move into a stripe?  (page share-locked)
 *
 * Its header stays where it is (a stub), so visibility does not decide
 * whether it may move, only whether its page can be retired right after:
 * a row every snapshot sees (FLUSH_SETTLED), or, when the table has
 * flush_running, a row its inserter has not committed yet
 * (FLUSH_IN_PROGRESS).  The second keeps a long transaction's L0 pages from
 * holding all its rows at full width until it commits: their stubs take a
 * fifth of the room, and the room the values leave is refilled by the same
 * transaction's later rows (bench/flush_running.sh: 2,528 pages at most for
 * 200,000 rows in 20 statements, against 4,764).  It is off by default
 * because those pages' rows end up in several stripes and are copied again
 * once settled (flush_page_plan).  A row committed but not yet visible to
 * everyone waits: it will be settled at the next look, and moving it now
 * would only split its page across two stripes.
 */
static FlushQual
flush_row_qualifies(FlushState *fs, HeapTuple tup, Buffer buf)
{
	HeapTupleHeader h = tup->t_data;

	if (rdb_tuple_is_stub(h))
		return FLUSH_NO;
	if (MAXALIGN(tup->t_len) < RDB_STUB_LEN)
		return FLUSH_NO;		/* a row of no columns: nothing to move */
	if (HeapTupleHeaderIsSpeculative(h))
		return FLUSH_NO;
	/* the writer's own flush: its own rows, nobody else's */
	if (fs->own && !TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetRawXmin(h)))
		return FLUSH_NO;
	switch (HeapTupleSatisfiesVacuum(tup, fs->oldest_xmin, buf))
	{
		case HEAPTUPLE_LIVE:
			/* as for all-visible pages: committed, hinted, older than everyone */
			if (!rdb_l0_xmin_committed_hint(h, buf) ||
				!TransactionIdPrecedes(HeapTupleHeaderGetXmin(h), fs->oldest_xmin))
				return FLUSH_NO;
			break;
		case HEAPTUPLE_INSERT_IN_PROGRESS:
			if (!fs->running || !(h->t_infomask & HEAP_XMAX_INVALID))
				return FLUSH_NO;
			return FLUSH_IN_PROGRESS;
		default:
			return FLUSH_NO;
	}
	/* never deleted, updated or locked */
	if (!(h->t_infomask & HEAP_XMAX_INVALID))
		return FLUSH_NO;
	return FLUSH_SETTLED;
}

/*
 * A stub every snapshot sees, never deleted or locked, no TOAST pointer:
 * what rdb_gen_try_retire asks of every row of a page it retires.  (page
 * share-locked; the hint bits it sets are what the retirement reads)
 */
static bool
flush_stub_settled(FlushState *fs, HeapTuple tup, Buffer buf)
{
	HeapTupleHeader h = tup->t_data;

	if (h->t_infomask & HEAP_HASEXTERNAL)
		return false;
	if (HeapTupleSatisfiesVacuum(tup, fs->oldest_xmin, buf) != HEAPTUPLE_LIVE)
		return false;
	if (!(h->t_infomask & HEAP_XMAX_INVALID))
		return false;
	if (HeapTupleHeaderXminFrozen(h))
		return true;
	return rdb_l0_xmin_committed_hint(h, buf) &&
		TransactionIdPrecedes(HeapTupleHeaderGetRawXmin(h), fs->oldest_xmin);
}

/* the candidate at blkno/offnum is still the version we copied? */
static bool
flush_still_same(FlushCandidate *c, Page page)
{
	ItemId		lp;
	HeapTupleHeader h;

	if (c->offnum > PageGetMaxOffsetNumber(page))
		return false;
	lp = PageGetItemId(page, c->offnum);
	if (!ItemIdIsNormal(lp) || ItemIdGetLength(lp) != c->len)
		return false;
	h = (HeapTupleHeader) PageGetItem(page, lp);
	if (c->restub)
	{
		RdbStubData sd;

		if (!rdb_tuple_is_stub(h))
			return false;
		sd = rdb_stub_data(h);
		if (sd.stripe != c->was.stripe || sd.row != c->was.row)
			return false;
	}
	else if (rdb_tuple_is_stub(h))
		return false;
	return TransactionIdEquals(HeapTupleHeaderGetRawXmin(h), c->xmin) &&
		(h->t_infomask & HEAP_XMAX_INVALID) != 0;
}

/*
 * Step 2 for the candidates [from, to) of one page: stubs, WAL, FSM.
 */
static void
flush_convert_page(FlushState *fs, const RdbStripeInfo *info, int from, int to)
{
	Relation	rel = fs->rel;
	BlockNumber blkno = fs->cands[from].blkno;
	Buffer		buf;
	Page		page;
	xl_rdb_stub *stubs;
	int			nstubs = 0;
	int			nrestub = 0;
	int			nlater = 0;		/* rows whose page needs another look */
	int			i;

	buf = rdb_read_buffer(rel, blkno, fs->strategy);
	if (!ConditionalLockBufferForCleanup(buf))
	{
		/* someone is looking at the page: leave it for a later flush */
		ReleaseBuffer(buf);
		fs->stats->pages_skipped++;
		fs->stats->rows_skipped += to - from;
		return;
	}
	page = BufferGetPage(buf);
	stubs = palloc(sizeof(xl_rdb_stub) * (to - from));
	for (i = from; i < to; i++)
	{
		if (!flush_still_same(&fs->cands[i], page))
		{
			fs->stats->rows_skipped++;
			continue;
		}
		stubs[nstubs].offnum = fs->cands[i].offnum;
		stubs[nstubs].row = (uint32) i;		/* row index = candidate index */
		nstubs++;
		if (fs->cands[i].restub)
			nrestub++;
		if (fs->cands[i].in_progress)
			nlater++;
	}

	if (nstubs > 0)
	{
		START_CRIT_SECTION();
		rdb_l0_apply_stubs(page, info->first_block, stubs, nstubs);
		MarkBufferDirty(buf);
		if (RelationNeedsWAL(rel))
		{
			xl_rdb_flush xlrec;
			XLogRecPtr	recptr;
			char	   *data = palloc(nstubs * SizeOfRdbStub);

			for (i = 0; i < nstubs; i++)
				memcpy(data + i * SizeOfRdbStub, &stubs[i], SizeOfRdbStub);
			xlrec.stripe = info->first_block;
			xlrec.nstubs = nstubs;
			XLogBeginInsert();
			XLogRegisterData((char *) &xlrec, SizeOfRdbFlush);
			XLogRegisterBuffer(0, buf, REGBUF_STANDARD);
			XLogRegisterBufData(0, data, nstubs * SizeOfRdbStub);
			recptr = XLogInsert(RDB_RMGR_ID, XLOG_RDB_FLUSH);
			PageSetLSN(page, recptr);
		}
		END_CRIT_SECTION();
		/* rows copied again had moved already */
		fs->stats->rows_flushed += nstubs - nrestub;
		fs->stats->rows_restubbed += nrestub;
		fs->stats->rows_done += nstubs - nlater;
		fs->stats->pages_converted++;
	}
	/*
	 * A page of nothing but stubs every snapshot sees is retired: its rows
	 * become a directory entry and the block a free page (gendir.h).
	 */
	if (rdb_gen_try_retire(rel, buf, fs->oldest_xmin, NULL, NULL))
	{
		fs->stats->pages_retired++;
		fs->retired_lo = Min(fs->retired_lo, blkno);
		fs->retired_hi = Max(fs->retired_hi, blkno + 1);
	}
	else if (fs->own)
	{
		/*
		 * The writer's own flush keeps the room its rows' values left for
		 * the transaction's next rows (l0_page.c): published, it would take
		 * other sessions' rows, which hold the page in L0 after the batch
		 * is settled.
		 */
		rdb_l0_room_add(rel, blkno);
	}
	else
	{
		/*
		 * The room the values left is free for new rows, also for the
		 * rest of a running transaction that is filling the table: its
		 * inserts find the page once the map's upper levels know of it
		 * (flush_note_retired).
		 */
		RecordPageWithFreeSpace(rel, blkno, PageGetHeapFreeSpace(page));
		fs->retired_lo = Min(fs->retired_lo, blkno);
		fs->retired_hi = Max(fs->retired_hi, blkno + 1);
	}
	UnlockReleaseBuffer(buf);
	pfree(stubs);
}

/*
 * What the flush does with an L0 page, decided under its share lock.
 *
 * A page whose rows moved while their inserter was running (FLUSH_IN_PROGRESS)
 * cannot be retired then, and the room its values left is refilled with
 * later rows, which a later flush moves into another stripe.  Such a page's
 * rows then lie in several stripes, and a directory entry describes rows of
 * one stripe in offset order only (gendir.h), so it would stay a page of
 * stubs for good.  Once every row on it is settled, the flush copies all of
 * them again, stubs included, into the stripe it is writing
 * (PAGE_CONSOLIDATE), and the page retires right after; the copies left
 * behind are rows nothing refers to, which compaction drops and whose
 * stripes it gives back whole.  A page of settled stubs that are already in
 * one stripe in offset order is only retired (PAGE_RETIRE).
 */
typedef enum FlushPagePlan
{
	PAGE_ROWS,					/* move the rows that qualify */
	PAGE_CONSOLIDATE,			/* move every row, stubs copied again */
	PAGE_RETIRE					/* nothing to move: retire the page */
} FlushPagePlan;

static FlushPagePlan
flush_page_plan(FlushState *fs, Page page, BlockNumber blkno, Buffer buf,
				FlushQual *quals)
{
	OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
	OffsetNumber off;
	bool		settled = true;
	bool		in_order = true;	/* the stubs as rdb_gen_try_retire wants */
	int			nstubs = 0;
	int			nmove = 0;
	OffsetNumber prev_off = InvalidOffsetNumber;
	RdbStubData prev = {0, 0};

	for (off = FirstOffsetNumber; off <= maxoff; off++)
	{
		ItemId		lp = PageGetItemId(page, off);
		HeapTupleData tup;

		quals[off] = FLUSH_NO;
		if (!ItemIdIsUsed(lp))
			continue;
		if (!ItemIdIsNormal(lp))
		{
			settled = false;	/* dead or redirected: VACUUM's first */
			continue;
		}
		rdb_l0_page_tuple(fs->rel, page, blkno, off, &tup);
		if (rdb_tuple_is_stub(tup.t_data) && fs->own)
		{
			settled = false;	/* the writer's flush retires nothing */
			continue;
		}
		if (rdb_tuple_is_stub(tup.t_data))
		{
			RdbStubData sd;

			nstubs++;
			if (!settled || !flush_stub_settled(fs, &tup, buf))
			{
				settled = false;
				continue;
			}
			sd = rdb_stub_data(tup.t_data);
			if (nstubs > 1 &&
				(sd.stripe != prev.stripe || sd.row <= prev.row ||
				 sd.row - prev.row - 1 > (uint32) (off - prev_off - 1)))
				in_order = false;
			prev = sd;
			prev_off = off;
			continue;
		}
		quals[off] = flush_row_qualifies(fs, &tup, buf);
		if (quals[off] == FLUSH_NO)
		{
			fs->stats->rows_left++;
			settled = false;
		}
		else
		{
			nmove++;
			if (quals[off] == FLUSH_IN_PROGRESS ||
				(tup.t_data->t_infomask & HEAP_HASEXTERNAL))
				settled = false;
		}
	}
	if (!settled || nstubs == 0 || maxoff > RDB_GEN_MAX_OFFSET || fs->own)
		return PAGE_ROWS;
	if (nmove > 0 || !in_order)
		return PAGE_CONSOLIDATE;
	return PAGE_RETIRE;
}

/*
 * Retire the page of buf (pinned, not locked) if its cleanup lock is free.
 * Its rows count as done (rows_done) for the worker's demand: mostly rows
 * that moved while their transaction ran and were counted since.
 */
static void
flush_retire_page(FlushState *fs, Buffer buf)
{
	BlockNumber blkno = BufferGetBlockNumber(buf);
	int			nrows = 0;

	if (!ConditionalLockBufferForCleanup(buf))
		return;
	if (rdb_gen_try_retire(fs->rel, buf, fs->oldest_xmin, &nrows, NULL))
	{
		fs->stats->pages_retired++;
		fs->stats->rows_done += nrows;
		fs->retired_lo = Min(fs->retired_lo, blkno);
		fs->retired_hi = Max(fs->retired_hi, blkno + 1);
	}
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);
}

static int64 flush_relation(Relation rel, RdbFlushStats *stats,
							int max_stripes, bool (*stop) (void), bool own,
							const BlockNumber *only, int nonly,
							BlockNumber *passed, int *npassed);

/* the blocks a flush looks at: every data block, or fs->only's */
static BlockNumber
flush_first_block(FlushState *fs, BlockNumber nblocks)
{
	if (fs->only == NULL)
		return RDB_FIRST_DATA_BLKNO;
	return fs->nonly > 0 ? fs->only[0] : nblocks;
}

static BlockNumber
flush_next_block(FlushState *fs, BlockNumber blkno, BlockNumber nblocks)
{
	int			lo = 0;
	int			hi = fs->nonly;

	if (fs->only == NULL)
		return blkno + 1;
	/* the first listed block after blkno */
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (fs->only[mid] <= blkno)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < fs->nonly ? fs->only[lo] : nblocks;
}

/* after retiring pages: what the free space map and the directory need */
static void
flush_note_retired(FlushState *fs)
{
	/*
	 * The free space map's upper levels learn of the retired pages (and of
	 * the room the moved values left) only when vacuumed: without this,
	 * inserts would not find them and would extend the table instead of
	 * reusing its free pages.
	 */
	if (fs->retired_hi > fs->retired_lo)
	{
		FreeSpaceMapVacuumRange(fs->rel, fs->retired_lo, fs->retired_hi);
		fs->retired_lo = InvalidBlockNumber;
		fs->retired_hi = 0;
	}
	/* the directory groups those pages retired into: scans skip them whole */
	rdb_gen_summarize_pending(fs->rel);
}

/* write the collected candidates as a stripe, then stub them page by page */
static void
flush_batch(FlushState *fs)
{
	RdbStripeInfo info;
	int			from;
	int64		before = fs->stats->rows_flushed;
	int64		raw;

	if (fs->ncands == 0)
		return;

	rdb_flush_progress_update(RDB_FLUSH_PHASE_WRITING, fs->cands[fs->ncands - 1].blkno,
							  fs->ncands, fs->stats);
	/*
	 * The values of stubs copied again, read from their stripes with no
	 * page of ours locked: a stripe a stub refers to is given back only
	 * by a compaction's survey, which our stripe-reference lock keeps out.
	 */
	if (fs->nrestub > 0)
	{
		MemoryContext old = MemoryContextSwitchTo(fs->batch_cxt);
		int			i;

		for (i = 0; i < fs->ncands; i++)
		{
			CHECK_FOR_INTERRUPTS();
			if (fs->cands[i].restub)
				fs->tuples[i] = rdb_l0_materialize(fs->rel, fs->tuples[i]);
		}
		MemoryContextSwitchTo(old);
	}
	rdb_stripe_write(fs->rel, fs->tuples, fs->ncands, &fs->opts, &info);
	/* before any stub points into it: the planner's columnar scan test */
	rdb_meta_note_stripes(fs->rel);

	/*
	 * What flush wrote, for write amplification (rustydb.tables): all the
	 * stripe's bytes, but as value bytes flushed only the new rows' share
	 * (the rows copied again were counted when they first moved).
	 */
	raw = info.raw_bytes;
	if (fs->nrestub > 0)
		raw = (int64) ((double) raw * (fs->ncands - fs->nrestub) / fs->ncands);
	rdb_meta_count_written(fs->rel, false, info.stored_bytes, raw, 0);
	fs->stats->stripes++;
	fs->stats->stripe_bytes += info.stored_bytes;
	fs->stats->raw_bytes += raw;
	rdb_flush_progress_update(RDB_FLUSH_PHASE_CONVERTING, fs->cands[fs->ncands - 1].blkno,
							  fs->ncands, fs->stats);

	for (from = 0; from < fs->ncands;)
	{
		int			to = from;

		CHECK_FOR_INTERRUPTS();
		while (to < fs->ncands && fs->cands[to].blkno == fs->cands[from].blkno)
			to++;
		flush_convert_page(fs, &info, from, to);
		from = to;
	}

	rdb_emit_memtable_flushed(fs->rel, fs->stats->rows_flushed - before,
							  info.stored_bytes, info.nblocks,
							  (uint64) info.write_us);

	flush_note_retired(fs);
	MemoryContextReset(fs->batch_cxt);
	fs->ncands = 0;
	fs->nrestub = 0;
}

/*
 * The stripe-reference lock.
 *
 * Compaction's survey (compact.c) reads every page to learn which stripe
 * rows something refers to, and gives back the stripe pages nothing refers
 * to.  A flush that has written a stripe and not yet stubbed its rows would
 * look like such garbage, so no flush may run while a survey does.  The
 * table's ShareUpdateExclusiveLock gave that, and more: a compaction holds
 * it while a step writes and switches, seconds to tens of seconds with a
 * sort key, and a writer's own flush (writer_flush_rows), which takes it
 * only if it is free at once, did not run meanwhile.  A batch then held all
 * its rows at full width in L0: 2,400 new pages in one round of
 * bench/steady.sh, which stay in the file as free L0 pages.
 *
 * So the writer's flush takes this lock instead, a heavyweight lock of its
 * own per table (an advisory lock tag: database, table oid, 0, and a
 * fourth field no advisory function uses; pg_locks shows it as locktype
 * 'advisory', objid the table's oid, objsubid 21060), held by one at a time:
 * every flush (the background and rustydb.flush() ones also hold the
 * table's lock), VACUUM, and a compaction for its survey only.  A step's
 * writing and switching need no exclusion from the writer's flush: that
 * writes new stripes and stubs only its own transaction's rows, which no
 * step takes as input (a step's inputs are the stripes its survey found
 * referenced, and the writer's flush never ran during the survey), and
 * both change a page only under its cleanup lock, checking that each stub
 * is still the one it read.  Everything else a writer's flush could meet
 * (DDL taking AccessExclusiveLock) conflicts with its RowExclusiveLock.
 * Transaction-scoped: an error releases it with the (sub)transaction.
 */
#define RDB_LOCKTAG_STRIPE_REFS 0x5244	/* 'RD' */

static void
stripe_refs_tag(LOCKTAG *tag, Relation rel)
{
	SET_LOCKTAG_ADVISORY(*tag, rel->rd_lockInfo.lockRelId.dbId,
						 RelationGetRelid(rel), 0, RDB_LOCKTAG_STRIPE_REFS);
}

/*
 * rdb_stripe_refs_lock
 *		Take rel's stripe-reference lock, waiting for it if wait, else only
 *		if it is free at once (returns false if not).
 */
bool
rdb_stripe_refs_lock(Relation rel, bool wait)
{
	LOCKTAG		tag;

	stripe_refs_tag(&tag, rel);
	return LockAcquire(&tag, ExclusiveLock, false, !wait) != LOCKACQUIRE_NOT_AVAIL;
}

/*
 * rdb_stripe_refs_lock_unless
 *		For the background worker, which holds the table's
 *		ShareUpdateExclusiveLock already: wait for the stripe-reference lock
 *		only while stop() (a session waiting for the table's lock, the worker
 *		told to exit) says nothing, and at most RDB_REFS_WAIT_MS.  A writer's
 *		round after rounds that found the lock taken flushes everything its
 *		transaction inserted since, which may take seconds; DDL queued behind
 *		the worker must not wait for that too.  stop NULL: wait as long as
 *		it takes (rustydb.flush(), rustydb.compact()).  Returns whether the
 *		lock is held.
 */
#define RDB_REFS_WAIT_MS	2000

bool
rdb_stripe_refs_lock_unless(Relation rel, bool (*stop) (void))
{
	int			waited = 0;

	if (stop == NULL)
		return rdb_stripe_refs_lock(rel, true);
	for (;;)
	{
		if (rdb_stripe_refs_lock(rel, false))
			return true;
		if (waited >= RDB_REFS_WAIT_MS || stop())
			return false;
		CHECK_FOR_INTERRUPTS();
		pg_usleep(10 * 1000L);
		waited += 10;
	}
}

void
rdb_stripe_refs_unlock(Relation rel)
{
	LOCKTAG		tag;

	stripe_refs_tag(&tag, rel);
	LockRelease(&tag, ExclusiveLock, false);
}

/*
 * rdb_flush_relation
 *		Flush every qualifying L0 row of rel (a rustydb table the caller
 *		holds ShareUpdateExclusiveLock on; the stripe-reference lock is
 *		taken here), or stop after max_stripes stripes
 *		(0: no limit), or when stop() says so (checked every 32 pages; NULL:
 *		never).  Fills *stats; returns the rows flushed.  The flush shows
 *		in rustydb.flush_progress while it runs (background: run by the
 *		storage-event worker) and in the table's flush history once done
 *		(flush_progress.c).
 */
int64
rdb_flush_relation(Relation rel, RdbFlushStats *stats, int max_stripes,
				   bool (*stop) (void), bool background)
{
	int64		rows;

	memset(stats, 0, sizeof(*stats));
	/* a writer's own flush may hold it for a moment */
	if (!rdb_stripe_refs_lock_unless(rel, stop))
	{
		/* the worker looks again soon */
		stats->stopped_early = true;
		return 0;
	}
	rdb_flush_progress_begin(rel, RelationGetNumberOfBlocks(rel), background);
	PG_TRY();
	{
		rows = flush_relation(rel, stats, max_stripes, stop, false, NULL, 0,
							  NULL, NULL);
	}
	PG_CATCH();
	{
		/* the pages converted before the error stay converted: count them */
		rdb_flush_progress_end(rel, stats);
		PG_RE_THROW();
	}
	PG_END_TRY();
	rdb_flush_progress_end(rel, stats);
	/* generations its retirements left with no row (gendir.c) */
	rdb_gen_publish_recyclable(rel);
	rdb_stripe_refs_unlock(rel);
	return rows;
}

/* the work of rdb_flush_relation, between its progress reports */
static int64
flush_relation(Relation rel, RdbFlushStats *stats, int max_stripes,
			   bool (*stop) (void), bool own, const BlockNumber *only,
			   int nonly, BlockNumber *passed, int *npassed)
{
	FlushState	fs;
	RdbTableOptions topts;
	BlockNumber nblocks;
	BlockNumber blkno;
	FlushQual	quals[MaxHeapTuplesPerPage + 1];

	memset(stats, 0, sizeof(*stats));
	memset(&fs, 0, sizeof(fs));
	fs.rel = rel;
	fs.stats = stats;
	fs.oldest_xmin = GetOldestNonRemovableTransactionId(rel);
	fs.retired_lo = InvalidBlockNumber;
	fs.retired_hi = 0;
	fs.strategy = GetAccessStrategy(BAS_BULKREAD);
	/* the table's options, the session's GUCs for those it does not set */
	rdb_table_options(rel, &topts);
	fs.opts.codec = topts.compression;
	/* the level is zstd's: lz4 and none ignore it (run at their default) */
	fs.opts.level = topts.compression == RDB_CODEC_ZSTD ? topts.compression_level : 0;
	fs.opts.chunk_group_rows = topts.chunk_group_rows;
	fs.opts.stripe_level = 1;	/* flush writes level 1; compaction the others */
	fs.opts.nsortkeys = topts.nsortkeys;
	memcpy(fs.opts.sortkeys, topts.sortkeys, sizeof(fs.opts.sortkeys));
	fs.opts.free_pages = &fs.free_pages;
	fs.maxcands = topts.stripe_rows;
	fs.running = topts.flush_running || own;
	fs.own = own;
	fs.only = only;
	fs.nonly = nonly;
	fs.passed = passed;
	fs.npassed = 0;
	fs.batch_cxt = AllocSetContextCreate(CurrentMemoryContext,
										 "rustydb flush batch",
										 ALLOCSET_DEFAULT_SIZES);
	fs.tuples = palloc(sizeof(HeapTuple) * fs.maxcands);
	fs.cands = palloc(sizeof(FlushCandidate) * fs.maxcands);

	/*
	 * Pages added after this point hold rows too new to flush anyway (or
	 * rows of a running transaction, which a later flush will find).
	 */
	nblocks = RelationGetNumberOfBlocks(rel);
	for (blkno = flush_first_block(&fs, nblocks); blkno < nblocks;
		 blkno = flush_next_block(&fs, blkno, nblocks))
	{
		Buffer		buf;
		Page		page;
		OffsetNumber off;
		OffsetNumber maxoff;
		FlushPagePlan plan;

		CHECK_FOR_INTERRUPTS();
		/* someone needs us gone (database DDL): drop what we collected */
		if (stop != NULL && blkno % 32 == 0 && stop())
		{
			MemoryContextReset(fs.batch_cxt);
			fs.ncands = 0;
			stats->stopped_early = true;
			break;
		}
		if (blkno % 32 == 0)
			rdb_flush_progress_update(RDB_FLUSH_PHASE_SCANNING, blkno,
									  fs.ncands, stats);
		buf = rdb_read_buffer(rel, blkno, fs.strategy);

		/*
		 * The writer's own flush passes over a page someone holds pinned:
		 * its rows would go into the stripe but stay on the page, since
		 * the stubs are written under a cleanup lock.  The page COPY or
		 * INSERT ... SELECT is filling is pinned by the writer itself
		 * (its bulk-insert state): its rows wait for the next round.
		 */
		if (fs.own)
		{
			if (!ConditionalLockBufferForCleanup(buf))
			{
				ReleaseBuffer(buf);
				if (fs.passed != NULL)
					fs.passed[fs.npassed++] = blkno;
				continue;
			}
		}
		else
			LockBuffer(buf, BUFFER_LOCK_SHARE);
		rdb_l0_page_check(rel, buf);
		page = BufferGetPage(buf);
		if (!rdb_l0_page_is_l0(page))
		{
			/* a FREE page the stripes may take (rdb_gen_take_free_pages) */
			rdb_gen_hint_add(&fs.free_pages, page, blkno);
			UnlockReleaseBuffer(buf);
			continue;
		}
		stats->pages_scanned++;
		maxoff = PageGetMaxOffsetNumber(page);

		/* a page's rows never straddle two stripes */
		if (fs.ncands + maxoff > fs.maxcands)
		{
			LockBuffer(buf, BUFFER_LOCK_UNLOCK);
			flush_batch(&fs);
			if (max_stripes > 0 && stats->stripes >= max_stripes)
			{
				/* enough for now: the rest waits for the next round */
				ReleaseBuffer(buf);
				stats->stopped_early = true;
				break;
			}
			LockBuffer(buf, BUFFER_LOCK_SHARE);
			maxoff = PageGetMaxOffsetNumber(page);
		}

		plan = flush_page_plan(&fs, page, blkno, buf, quals);
		if (plan == PAGE_RETIRE)
		{
			/* all stubs already, settled since they moved: only retire */
			LockBuffer(buf, BUFFER_LOCK_UNLOCK);
			flush_retire_page(&fs, buf);
			ReleaseBuffer(buf);
			continue;
		}
		for (off = FirstOffsetNumber; off <= maxoff; off++)
		{
			ItemId		lp = PageGetItemId(page, off);
			HeapTupleData tup;
			MemoryContext old;
			FlushCandidate *c;
			bool		restub;

			if (!ItemIdIsNormal(lp))
				continue;
			restub = (quals[off] == FLUSH_NO && plan == PAGE_CONSOLIDATE);
			if (quals[off] == FLUSH_NO && !restub)
				continue;
			rdb_l0_page_tuple(rel, page, blkno, off, &tup);
			old = MemoryContextSwitchTo(fs.batch_cxt);
			fs.tuples[fs.ncands] = heap_copytuple(&tup);
			MemoryContextSwitchTo(old);
			c = &fs.cands[fs.ncands++];
			c->blkno = blkno;
			c->offnum = off;
			c->xmin = HeapTupleHeaderGetRawXmin(tup.t_data);
			c->len = tup.t_len;
			c->restub = restub;
			c->in_progress = (quals[off] == FLUSH_IN_PROGRESS);
			if (restub)
			{
				c->was = rdb_stub_data(tup.t_data);
				fs.nrestub++;
			}
		}
		UnlockReleaseBuffer(buf);
	}
	flush_batch(&fs);
	/* pages only retired, after the last batch */
	flush_note_retired(&fs);

	FreeAccessStrategy(fs.strategy);
	MemoryContextDelete(fs.batch_cxt);
	if (fs.free_pages.blocks != NULL)
		pfree(fs.free_pages.blocks);
	pfree(fs.tuples);
	pfree(fs.cands);
	if (npassed != NULL)
		*npassed = fs.npassed;
	return stats->rows_flushed;
}

/*
 * The pages the current transaction's inserts used, per table with
 * writer_flush_rows (rdb_flush_writer_note): the writer's flush looks at
 * those only, not at the whole table (other sessions' pages, stripes and
 * directory pages, a damaged block the statement never touches).  A hint:
 * a page listed that holds none of its rows gives nothing.  Transaction
 * memory, forgotten when the transaction ends.
 */
typedef struct WriterBlocks
{
	RelFileNode node;			/* hash key */
	BlockNumber last;			/* the last block noted */
	BlockNumber *blocks;		/* noted since the last round, in order */
	int			n;
	int			max;
} WriterBlocks;

static HTAB *writer_blocks = NULL;

static void
writer_blocks_xact_callback(XactEvent event, void *arg)
{
	if (rdb_xact_event_ends(event))
		writer_blocks = NULL;	/* gone with TopTransactionContext */
}

static WriterBlocks *
writer_blocks_get(Relation rel, bool create)
{
	static bool registered = false;
	bool		found;
	WriterBlocks *wb;

	if (writer_blocks == NULL)
	{
		HASHCTL		ctl;

		if (!create)
			return NULL;
		if (!registered)
		{
			RegisterXactCallback(writer_blocks_xact_callback, NULL);
			registered = true;
		}
		ctl.keysize = sizeof(RelFileNode);
		ctl.entrysize = sizeof(WriterBlocks);
		ctl.hcxt = TopTransactionContext;
		writer_blocks = hash_create("rustydb writer flush blocks", 8, &ctl,
									HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	wb = hash_search(writer_blocks, &rel->rd_node,
					 create ? HASH_ENTER : HASH_FIND, &found);
	if (wb != NULL && !found)
	{
		/* the array comes with the first note: an error here leaves none */
		wb->last = InvalidBlockNumber;
		wb->blocks = NULL;
		wb->max = 0;
		wb->n = 0;
	}
	return wb;
}

/*
 * rdb_flush_writer_note
 *		An insert of the current transaction put a row on block blkno of
 *		rel (modify.c; only for tables with writer_flush_rows).
 */
void
rdb_flush_writer_note(Relation rel, BlockNumber blkno)
{
	WriterBlocks *wb = writer_blocks_get(rel, true);

	if (wb->last == blkno && wb->n > 0)
		return;
	if (wb->n == wb->max)
	{
		int			max = wb->max > 0 ? wb->max * 2 : 64;

		wb->blocks = wb->blocks == NULL ?
			MemoryContextAlloc(TopTransactionContext, sizeof(BlockNumber) * max) :
			repalloc(wb->blocks, sizeof(BlockNumber) * max);
		wb->max = max;
	}
	wb->last = blkno;
	wb->blocks[wb->n++] = blkno;
}

/*
 * rdb_flush_writer
 *		The writer's own flush (table option writer_flush_rows): move the
 *		rows this transaction inserted into rel and has not moved yet into
 *		stripes, from inside the statement that wrote them (the insert
 *		path calls this each time the transaction has written
 *		writer_flush_rows more rows, flush_demand.c).  They are rows of a
 *		running transaction, moved as flush_running moves them (nobody
 *		else sees them; the transaction reads them through their stubs; a
 *		rollback leaves dead stubs and stripe rows nothing refers to), and
 *		only this transaction's: a statement never does the flush of other
 *		sessions' rows, and retires no page (the background flush settles
 *		the pages once the rows are visible to everyone) -- except pages of
 *		COPY FREEZE's rows, which are frozen, visible to all already.  What it buys is
 *		the room: the values leave the L0 pages while the statement still
 *		writes, so a single INSERT ... SELECT or COPY faster than the
 *		background flush refills its own pages with ~36-byte stubs instead
 *		of holding every row at full width until it commits.
 *
 *		It looks only at the pages this transaction's inserts used since
 *		its last round (rdb_flush_writer_note), so that its cost is the
 *		rows it moves, not the table's size, and a damaged block the
 *		statement never touches fails nothing; and it passes over a page
 *		someone holds pinned (the one the inserts are filling: next round).
 *
 *		Only if the table's stripe-reference lock is free at once (another
 *		flush, a VACUUM or a compaction's survey holding it is never waited
 *		for), and released right after: the statement goes on either way.
 *		Not the table's ShareUpdateExclusiveLock: a compaction step holds
 *		that for seconds, and the rows would pile up in L0 meanwhile (see
 *		rdb_stripe_refs_lock).  Not in parallel mode (the leader of a
 *		parallel CREATE TABLE AS).
 *		Returns the rows moved, -1 if it did not run.
 */
int64
rdb_flush_writer(Relation rel)
{
	RdbFlushStats stats;
	MemoryContext cxt;
	MemoryContext old;
	int64		rows;
	WriterBlocks *wb;
	BlockNumber *only;
	int			nonly;
	BlockNumber *passed;
	int			npassed = 0;

	/* a parallel plan's leader writes no stripe: not a worker's business */
	if (IsInParallelMode())
		return -1;
	wb = writer_blocks_get(rel, false);
	if (wb == NULL || wb->n == 0)
		return -1;
	if (!rdb_stripe_refs_lock(rel, false))
		return -1;
	cxt = AllocSetContextCreate(CurrentMemoryContext, "rustydb writer flush",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	/*
	 * The pages this transaction's inserts used since the last round, in
	 * block order, once each; those someone holds pinned (the page the
	 * inserts are filling) are passed over and listed for the next round.
	 */
	only = palloc(sizeof(BlockNumber) * wb->n);
	passed = palloc(sizeof(BlockNumber) * wb->n);
	memcpy(only, wb->blocks, sizeof(BlockNumber) * wb->n);
	qsort(only, wb->n, sizeof(BlockNumber), rdb_block_cmp);
	nonly = (int) qunique(only, wb->n, sizeof(BlockNumber), rdb_block_cmp);
	wb->n = 0;

	memset(&stats, 0, sizeof(stats));
	rdb_flush_progress_begin(rel, RelationGetNumberOfBlocks(rel), false);
	PG_TRY();
	{
		rows = flush_relation(rel, &stats, 0, NULL, true, only, nonly,
							  passed, &npassed);
	}
	PG_CATCH();
	{
		rdb_flush_progress_end(rel, &stats);
		PG_RE_THROW();
	}
	PG_END_TRY();
	rdb_flush_progress_end(rel, &stats);
	MemoryContextSwitchTo(old);
	for (int i = 0; i < npassed; i++)
		rdb_flush_writer_note(rel, passed[i]);
	MemoryContextDelete(cxt);
	rdb_stripe_refs_unlock(rel);
	ereport(DEBUG1,
			(errmsg("rustydb writer flush of \"%s\": %lld rows of this transaction into %d stripes",
					RelationGetRelationName(rel), (long long) rows, stats.stripes)));
	return rows;
}

/*
 * rdb_lsm_open_table
 *		Open relid with ShareUpdateExclusiveLock for rustydb.flush() or
 *		rustydb.compact() (what names the function in messages, verb the
 *		action): it must exist, be a rustydb table the user owns, and not
 *		another session's temporary table.
 */
Relation
rdb_lsm_open_table(Oid relid, const char *what, const char *verb)
{
	Relation	rel;

	rdb_check_preloaded();

	/*
	 * Ownership first, from the catalog, as VACUUM does before it locks: a
	 * caller who may not flush the table must not queue for its lock (and
	 * so cancel an autovacuum of it, or keep DDL waiting behind them).
	 * Checked again once the lock is held, the owner may have changed.
	 */
	{
		HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));

		if (!HeapTupleIsValid(tup))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("relation with OID %u does not exist", relid)));
		if (!pg_class_ownercheck(relid, GetUserId()))
		{
			Form_pg_class cls = (Form_pg_class) GETSTRUCT(tup);

			aclcheck_error(ACLCHECK_NOT_OWNER, get_relkind_objtype(cls->relkind),
						   NameStr(cls->relname));
		}
		ReleaseSysCache(tup);
	}

	rel = try_relation_open(relid, ShareUpdateExclusiveLock);
	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, get_relkind_objtype(rel->rd_rel->relkind),
					   RelationGetRelationName(rel));
	if (rel->rd_rel->relkind != RELKIND_RELATION ||
		rel->rd_tableam != rdb_tableam_routine())
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a rustydb table", RelationGetRelationName(rel)),
				 errhint("%s takes a table created with USING rustydb.", what)));
	if (RELATION_IS_OTHER_TEMP(rel))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot %s temporary tables of other sessions", verb)));
	return rel;
}

/*
 * rustydb.flush(regclass) RETURNS bigint
 *		Flush the table's qualifying L0 rows now; returns how many moved.
 */
PG_FUNCTION_INFO_V1(rustydb_flush);
Datum
rustydb_flush(PG_FUNCTION_ARGS)
{
	Relation	rel;
	RdbFlushStats stats;
	int64		rows;

	rel = rdb_lsm_open_table(PG_GETARG_OID(0), "rustydb.flush()", "flush");
	rows = rdb_flush_relation(rel, &stats, 0, NULL, false);
	ereport(DEBUG1,
			(errmsg("flushed %lld rows of \"%s\" into %d stripes (%lld bytes), %lld pages retired, %lld rows copied again with their page",
					(long long) rows, RelationGetRelationName(rel),
					stats.stripes, (long long) stats.stripe_bytes,
					(long long) stats.pages_retired,
					(long long) stats.rows_restubbed)));
	relation_close(rel, ShareUpdateExclusiveLock);
	PG_RETURN_INT64(rows);
}

/* ------------------------------------------------------------------------
 * Background flush
 * ------------------------------------------------------------------------
 */

/* what the worker remembers of a table between rounds */
typedef struct FlushSeen
{
	Oid			relid;			/* hash key */
	int64		changes_at_flush;	/* inserted + updated rows, pgstat, at
									 * our last flush of it */
	int64		changes_seen;	/* the counters at our last look */
	int			stuck;			/* rounds in a row that moved nothing while
								 * commits' rows waited */
	TimestampTz stuck_at;		/* the last of them */
	bool		more_to_flush;	/* last round stopped after one stripe */
	TimestampTz compact_checked;	/* last background compaction look */
	bool		more_to_compact;	/* last look did a step: look again */
	int			failures;		/* rounds in a row whose flush failed */
	TimestampTz retry_at;		/* after a failure: not before this */
} FlushSeen;

static HTAB *flush_seen = NULL;

/*
 * A table whose background flush failed (a damaged page, say) is looked at
 * again after 10 s, then 20, 40 ... up to 10 minutes, not in every round
 * (each failure is an ERROR in the server log); a round that gets through
 * resets the count.
 */
#define FLUSH_RETRY_MIN_MS	10000
#define FLUSH_RETRY_MAX_MS	600000

static FlushSeen *
flush_seen_enter(Oid relid)
{
	bool		found;
	FlushSeen  *seen = hash_search(flush_seen, &relid, HASH_ENTER, &found);

	if (!found)
	{
		seen->changes_at_flush = 0;
		seen->changes_seen = 0;
		seen->stuck = 0;
		seen->stuck_at = 0;
		seen->more_to_flush = false;
		seen->compact_checked = 0;
		seen->more_to_compact = false;
		seen->failures = 0;
		seen->retry_at = 0;
	}
	return seen;
}


/*
 * The database's rustydb tables as the worker's first round since the
 * server started found them, not yet flushed by it (TopMemoryContext):
 * rows committed before the start are counted nowhere (a crash loses the
 * counts and the statistics), so each of these is flushed once whatever
 * its count.  Tables created later are not: their rows are counted.
 */
static List *sweep_pending = NIL;
static bool sweep_listed = false;

/* relid needs no sweep (any more); the last one marks the database swept */
static void
sweep_forget(Oid relid)
{
	if (sweep_pending == NIL)
		return;
	sweep_pending = list_delete_oid(sweep_pending, relid);
	if (sweep_pending == NIL)
		rdb_flush_demand_swept();
}

/* the rustydb tables of the current database (caller is in a transaction) */
static List *
flush_rustydb_tables(void)
{
	List	   *result = NIL;
	Relation	classrel;
	TableScanDesc scan;
	HeapTuple	tup;
	Oid			amoid = get_am_oid("rustydb", true);

	if (!OidIsValid(amoid))
		return NIL;
	classrel = table_open(RelationRelationId, AccessShareLock);
	scan = table_beginscan_catalog(classrel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_class c = (Form_pg_class) GETSTRUCT(tup);

		if (c->relkind == RELKIND_RELATION && c->relam == amoid &&
			c->relpersistence != RELPERSISTENCE_TEMP)
			result = lappend_oid(result, c->oid);
	}
	table_endscan(scan);
	table_close(classrel, AccessShareLock);
	return result;
}

/*
 * rdb_flush_background
 *		One round of background flush, run by the database's storage-event
 *		worker (src/bgworker/worker.c) every rustydb.flush_naptime, and at
 *		once when a commit gave a table flush_rows new rows
 *		(flush_demand.c).  A rustydb table whose flush_rows (table option,
 *		else rustydb.flush_rows) is above 0 is flushed when the rows
 *		committed into it since our last flush of it (flush_demand.c), or
 *		inserted or updated according to the cumulative statistics'
 *		counters (since the worker started, everything counted so far),
 *		reach flush_rows.  Returns how soon (ms) the worker should come
 *		back, 0 for its naptime: 100 when a table has more to flush than
 *		the round's one stripe, 1000 while committed rows wait (a snapshot
 *		still needs them in L0, or the table's lock was taken).  Never waits:
 *		a table whose ShareUpdateExclusiveLock is taken (VACUUM, a flush, DDL)
 *		is left for the next round; an error is logged and the table
 *		skipped, so the worker carries on.  Each table is flushed in a
 *		transaction of its own.  compact: also a compaction step where one
 *		is due (false for the flush a worker runs before it yields its slot
 *		to another database: a survey reads every page of the table).
 */
/*
 * The worker's stop() while it works on a table: its own (the worker is
 * going), or another session waits for a lock that conflicts with our
 * ShareUpdateExclusiveLock on the table (DDL, VACUUM, ANALYZE, CREATE
 * INDEX): a background service does not keep them waiting longer than a
 * few pages.  A flush stops early and keeps what it moved; a compaction
 * step is given up (compact.c).
 */
static bool (*bg_outer_stop) (void) = NULL;
static Relation bg_rel = NULL;

static bool
bg_stop(void)
{
	if (bg_outer_stop != NULL && bg_outer_stop())
		return true;
	return bg_rel != NULL &&
		LockHasWaitersRelation(bg_rel, ShareUpdateExclusiveLock);
}

int
rdb_flush_background(bool (*stop) (void), bool compact)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	List	   *tables;
	ListCell   *lc;
	int			again_ms = 0;

	if (flush_seen == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(FlushSeen);
		ctl.hcxt = TopMemoryContext;
		flush_seen = hash_create("rustydb background flush", 64, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}

	StartTransactionCommand();
	tables = flush_rustydb_tables();
	MemoryContextSwitchTo(TopMemoryContext);
	tables = list_copy(tables);
	MemoryContextSwitchTo(oldcxt);
	CommitTransactionCommand();
	/* commits counted for tables dropped since: forget them */
	{
		Oid		   *relids = palloc(sizeof(Oid) * Max(list_length(tables), 1));
		int			n = 0;

		foreach(lc, tables)
			relids[n++] = lfirst_oid(lc);
		qsort(relids, n, sizeof(Oid), oid_cmp);
		rdb_flush_demand_prune(relids, n);
		pfree(relids);
	}
	/* the statistics as they are now, not as this backend last saw them */
	pgstat_clear_snapshot();
	/* the first round since the server started lists every table */
	if (!sweep_listed && rdb_flush_demand_sweep_due())
	{
		MemoryContextSwitchTo(TopMemoryContext);
		sweep_pending = list_copy(tables);
		MemoryContextSwitchTo(oldcxt);
		if (sweep_pending == NIL)
			rdb_flush_demand_swept();
	}
	sweep_listed = true;
	/* dropped since: nothing to sweep */
	if (sweep_pending != NIL)
	{
		List	   *keep = NIL;

		MemoryContextSwitchTo(TopMemoryContext);
		foreach(lc, sweep_pending)
			if (list_member_oid(tables, lfirst_oid(lc)))
				keep = lappend_oid(keep, lfirst_oid(lc));
		MemoryContextSwitchTo(oldcxt);
		list_free(sweep_pending);
		sweep_pending = keep;
		if (sweep_pending == NIL)
			rdb_flush_demand_swept();
	}

	foreach(lc, tables)
	{
		Oid			relid = lfirst_oid(lc);

		CHECK_FOR_INTERRUPTS();
		if (stop != NULL && stop())
			break;
		{
			FlushSeen  *prev = hash_search(flush_seen, &relid, HASH_FIND, NULL);

			if (prev != NULL && prev->failures > 0 &&
				GetCurrentTimestamp() < prev->retry_at)
				continue;
		}
		StartTransactionCommand();
		PG_TRY();
		{
			Relation	rel;
			RdbTableOptions opts;
			PgStat_StatTabEntry *tabentry;
			FlushSeen  *seen;
			int64		changes;
			bool		flushed = false;

			/*
			 * Tables not flushed in the background are not even locked:
			 * the lock would get in the way of VACUUM and DDL.
			 */
			int			flush_rows = rdb_table_flush_rows_by_oid(relid);

			/* a table not flushed in the background needs no sweep */
			if (flush_rows <= 0)
				sweep_forget(relid);

			/* rows committed for it wait, but its lock is taken: soon again */
			if (flush_rows > 0 &&
				!ConditionalLockRelationOid(relid, ShareUpdateExclusiveLock))
			{
				if (rdb_flush_demand_peek(relid) >= flush_rows)
					again_ms = again_ms ? Min(again_ms, 1000) : 1000;
			}
			else if (flush_rows > 0)
			{
				rel = try_relation_open(relid, NoLock);
				if (rel == NULL)
					UnlockRelationOid(relid, ShareUpdateExclusiveLock);
				else
				{
					bg_outer_stop = stop;
					bg_rel = rel;
					rdb_table_options(rel, &opts);
					tabentry = pgstat_fetch_stat_tabentry(relid);
					changes = tabentry ?
						tabentry->tuples_inserted + tabentry->tuples_updated : 0;
					seen = flush_seen_enter(relid);

					/*
					 * XXX: on first sight in this process the statistics
					 * count every change since they were reset, so a new
					 * worker (one per idle spell, or per slot turn while
					 * databases share the slots) flushes each table it has
					 * seen changes of at once, however few rows it has in
					 * L0.  That is the backstop for rows the commits did
					 * not count (inserted before flush_rows was set, a
					 * transaction's ninth table, a full count hash): taking
					 * the statistics as a baseline here left those in L0
					 * for good.  A baseline kept across workers (shared
					 * memory) would serve both.
					 */
					/* the statistics were reset: start over from them */
					if (changes < seen->changes_seen)
						seen->changes_at_flush = changes;
					seen->changes_seen = changes;
					/*
					 * Committed rows a long snapshot keeps in L0 are looked
					 * at once a minute after five tries in vain: each look
					 * reads the whole table.
					 */
					if (opts.flush_rows > 0 &&
						(list_member_oid(sweep_pending, relid) ||
						 changes - seen->changes_at_flush >= opts.flush_rows ||
						 (rdb_flush_demand_peek(relid) >= opts.flush_rows &&
						  (seen->stuck <= 5 ||
						   TimestampDifferenceExceeds(seen->stuck_at,
													  GetCurrentTimestamp(), 60000))) ||
						 seen->more_to_flush))
					{
						RdbFlushStats stats;
						int64		waiting;

						PushActiveSnapshot(GetTransactionSnapshot());
						pgstat_report_activity(STATE_RUNNING, "rustydb background flush");
						/*
						 * One stripe per table and round: the lock, which
						 * DDL on the table would wait for, is held briefly.
						 */
						(void) rdb_flush_relation(rel, &stats, 1, bg_stop, true);
						PopActiveSnapshot();
						/* swept (not if it failed: a later round tries again) */
						sweep_forget(relid);
						/*
						 * The statistics may not count yet the rows commits
						 * told us of: they would ask for them again.
						 */
						seen->changes_at_flush = Max(changes,
													 seen->changes_at_flush + stats.rows_flushed);
						/*
						 * Rows of a running transaction moved, but their
						 * pages need another look once it committed: they
						 * stay counted until then (stats.rows_done).
						 */
						waiting = rdb_flush_demand_moved(relid, stats.rows_done);
						/* stopped after one stripe: go on soon */
						seen->more_to_flush = stats.stopped_early;
						if (stats.stopped_early)
							again_ms = 100;
						else if (waiting >= opts.flush_rows)
						{
							/*
							 * Counted rows that did not move: a snapshot
							 * older than their commit still needs them in
							 * L0, or they are dead already (deleted, old
							 * versions of updated rows), or not committed
							 * yet (prepared).  Look again in a second five
							 * times, then once a minute ten times (the
							 * worker stays meanwhile), then give the count
							 * up: the statistics and later commits take
							 * over.
							 */
							seen->stuck = stats.rows_flushed + stats.rows_done > 0 ?
								0 : seen->stuck + 1;
							seen->stuck_at = GetCurrentTimestamp();
							if (seen->stuck <= 5)
								again_ms = again_ms ? Min(again_ms, 1000) : 1000;
							else if (seen->stuck <= 15)
								again_ms = again_ms ? Min(again_ms, 60000) : 60000;
							else
							{
								(void) rdb_flush_demand_moved(relid, PG_INT64_MAX);
								seen->stuck = 0;
							}
						}
						else
							seen->stuck = 0;
						ereport(DEBUG1,
								(errmsg("rustydb background flush of \"%s\": %lld rows into %d stripes, %lld pages retired, %lld rows copied again with their page",
										RelationGetRelationName(rel),
										(long long) stats.rows_flushed, stats.stripes,
										(long long) stats.pages_retired,
										(long long) stats.rows_restubbed)));
						flushed = stats.stripes > 0;
					}

					/*
					 * Compaction of the tables the worker flushes: after a
					 * flush that wrote a stripe or a look that did a step,
					 * else once a minute (VACUUM
					 * may have left dead rows).  Last in the transaction:
					 * the space it gives back is reused once the commit
					 * right after is older than every snapshot.
					 */
					if (opts.flush_rows > 0 && compact &&
						(flushed || seen->more_to_compact ||
						 TimestampDifferenceExceeds(seen->compact_checked,
													GetCurrentTimestamp(), 60000)))
					{
						MemoryContext cxt = CurrentMemoryContext;
						ResourceOwner owner = CurrentResourceOwner;

						/*
						 * In a subtransaction: a failing compaction (a
						 * damaged stripe, say) is logged and rolled back
						 * without undoing what the flush above did.  Its
						 * locks pass to the transaction when it succeeds.
						 */
						seen->more_to_compact = false;
						seen->compact_checked = GetCurrentTimestamp();
						BeginInternalSubTransaction(NULL);
						PG_TRY();
						{
							PushActiveSnapshot(GetTransactionSnapshot());
							seen->more_to_compact =
								rdb_compact_background_table(rel, flushed, bg_stop);
							PopActiveSnapshot();
							ReleaseCurrentSubTransaction();
						}
						PG_CATCH();
						{
							MemoryContextSwitchTo(cxt);
							if (rdb_compact_gave_up())
							{
								/* for DDL waiting, or the worker stopping */
								FlushErrorState();
								ereport(LOG,
										(errmsg("background compaction of \"%s\" gave its step up",
												RelationGetRelationName(rel)),
										 errdetail("Another session waits for a lock on the table, or the worker is stopping."),
										 errhint("A later compaction gives back what the step wrote and compacts the table again.")));
							}
							else
							{
								EmitErrorReport();
								FlushErrorState();
							}
							RollbackAndReleaseCurrentSubTransaction();
						}
						PG_END_TRY();
						MemoryContextSwitchTo(cxt);
						CurrentResourceOwner = owner;
					}
					bg_rel = NULL;
					relation_close(rel, ShareUpdateExclusiveLock);
					seen->failures = 0;
				}
			}
			CommitTransactionCommand();
		}
		PG_CATCH();
		{
			FlushSeen  *failed;
			int			wait_ms;

			bg_rel = NULL;
			MemoryContextSwitchTo(oldcxt);
			EmitErrorReport();
			FlushErrorState();
			AbortCurrentTransaction();
			failed = flush_seen_enter(relid);
			failed->failures = Min(failed->failures + 1, 20);
			wait_ms = FLUSH_RETRY_MIN_MS << Min(failed->failures - 1, 6);
			wait_ms = Min(wait_ms, FLUSH_RETRY_MAX_MS);
			failed->retry_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), wait_ms);
			ereport(LOG,
					(errmsg("rustydb background flush of table %u failed %d time(s) in a row; the worker looks at it again in %d s",
							relid, failed->failures, wait_ms / 1000)));
		}
		PG_END_TRY();
		MemoryContextSwitchTo(oldcxt);
	}
	list_free(tables);
	pgstat_report_activity(STATE_IDLE, NULL);
	return again_ms;
}
