/*-------------------------------------------------------------------------
 *
 * vacuum.c
 *	  VACUUM of L0: prune dead rows, remove their index entries, reuse the
 *	  space, freeze old rows, truncate empty tail pages, update statistics.
 *
 * The shape is heap's lazy vacuum, without the visibility map (L0 keeps
 * none, so every VACUUM reads every page and can always advance
 * relfrozenxid to the oldest xid it left behind):
 *
 *	1. scan: per page, under a cleanup lock, dead row versions become
 *	   LP_DEAD line pointers and the page is defragmented (XLOG_RDB_PRUNE);
 *	   rows old enough are frozen (heap_prepare/execute_freeze_tuple,
 *	   XLOG_RDB_SET_HEADERS).  The TIDs of LP_DEAD items are collected.
 *	   A page whose cleanup lock is busy (a cursor sits on it) is processed
 *	   under a share lock without pruning (heap's lazy_scan_noprune); even an
 *	   aggressive vacuum waits for the cleanup lock only when a row there
 *	   must be frozen now.
 *	2. index pass: the index entries pointing to those TIDs are removed,
 *	   by parallel workers when the table has two or more indexes (heap's
 *	   rules and vacuumparallel.c; never for temporary tables).
 *	3. second heap pass: the LP_DEAD items become LP_UNUSED (reusable), and
 *	   the free space is recorded in the free space map.
 *	   Without indexes, pass 1 marks the items unused directly; without
 *	   index vacuuming (INDEX_CLEANUP off, failsafe) they stay LP_DEAD and
 *	   pass 1 records the pages' free space.
 *	4. index cleanup, truncation of empty tail pages (with a conditional
 *	   AccessExclusiveLock, like heap), pg_class and pgstat updates, and
 *	   heap's end-of-vacuum report (VERBOSE; log_autovacuum_min_duration).
 *
 * Heap's wraparound failsafe (vacuum_failsafe_age) is checked at the start,
 * every 4 GB of pages and before each index pass: once relfrozenxid or
 * relminmxid is that old, index vacuuming, index cleanup, truncation and
 * cost delays stop, so the freezing finishes as fast as possible.
 *
 * Progress is reported through pg_stat_progress_vacuum.
 *
 * Memory: the dead-TID array (VacDeadItems) is sized as heap's
 * dead_items_max_items, in 64-bit arithmetic, from maintenance_work_mem (or
 * autovacuum_work_mem); it lives in the parallel context's DSM when workers
 * are used.  When it fills, passes 2 and 3 run early.
 *
 * IDENTIFICATION
 *	  src/tableam/vacuum.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/heapam_xlog.h"
#include "access/multixact.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/xloginsert.h"
#include "catalog/storage.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/autovacuum.h"
#include "storage/bufmgr.h"
#include "storage/freespace.h"
#include "storage/lmgr.h"
#include "storage/procarray.h"
#include "commands/dbcommands.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/pg_rusage.h"
#include "utils/timestamp.h"
#include "executor/instrument.h"
#include "access/transam.h"
#include "utils/rel.h"

#include "rustydb/rustydb.h"
#include "rustydb/events.h"
#include "rustydb/gendir.h"
#include "rustydb/l0.h"
#include "rustydb/lsm.h"
#include "rustydb/xlog.h"

/* heap's truncation thresholds */
#define REL_TRUNCATE_MINIMUM	1000
#define REL_TRUNCATE_FRACTION	16

/* check the wraparound failsafe after every 4 GB of pages, as heap */
#define FAILSAFE_EVERY_PAGES \
	((BlockNumber) (((uint64) 4 * 1024 * 1024 * 1024) / BLCKSZ))

typedef struct RdbVacState
{
	Relation	rel;
	Relation   *indrels;
	int			nindexes;
	BufferAccessStrategy bstrategy;
	ParallelVacuumState *pvs;	/* parallel index vacuuming, or NULL */
	bool		aggressive;
	bool		do_index_vacuuming; /* remove index entries of dead items */
	bool		do_index_cleanup;	/* amvacuumcleanup at the end */
	bool		do_rel_truncate;
	bool		failsafe_active;	/* wraparound failsafe triggered */
	int			elevel;
	char	   *dbname;
	char	   *nspname;
	char	   *relname;

	TransactionId OldestXmin;
	TransactionId FreezeLimit;
	MultiXactId MultiXactCutoff;
	TransactionId NewRelfrozenXid;
	MultiXactId NewRelminMxid;

	/* dead TIDs awaiting index vacuuming, in TID order */
	VacDeadItems *dead_items;

	IndexBulkDeleteResult **indstats;

	BlockNumber rel_pages;
	BlockNumber scanned_pages;
	BlockNumber nonempty_pages; /* 1 + last page with a row left */
	BlockNumber pages_removed;
	BlockNumber cleanup_skipped;	/* pages processed without cleanup lock */
	BlockNumber pages_all_visible;	/* pages this run marked all-visible */
	BlockNumber missed_dead_pages;	/* ... of which had dead rows left */
	int			num_index_scans;

	int64		tuples_deleted;
	int64		live_tuples;
	int64		flushed_tuples; /* ... of which flushed (stub or retired) */
	int64		pages_retired;	/* L0 pages retired (gendir.h) */
	BlockNumber scan_pos;		/* the first pass reads this block next */
	int64		recently_dead_tuples;
	int64		missed_dead_tuples; /* dead, on pages we could not prune */
	int64		frozen_tuples;
	int64		lpdead_removed;
	int64		lpdead_left;	/* LP_DEAD items left for a later vacuum */
} RdbVacState;

/*
 * Whether the second heap pass should try to retire the page once its dead
 * items are gone: a page of a revived or reused generation whose rows are
 * all gone (its block becomes a free page again; a first-time page keeps
 * its block for new rows of its own generation), or a page that holds
 * nothing but stubs.  The latter is what a DELETE of some of a retired
 * generation's rows leaves: the deleted rows' stubs are dead items until
 * this pass, so the first pass could not retire the page, and without this
 * the generation's other rows kept a page each until the next VACUUM.
 */
static bool
vac_page_may_retire(Page page, BlockNumber blkno)
{
	OffsetNumber off;
	OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
	bool		rows = false;

	for (off = FirstOffsetNumber; off <= maxoff; off++)
	{
		ItemId		lp = PageGetItemId(page, off);

		if (!ItemIdIsUsed(lp))
			continue;
		if (!ItemIdIsNormal(lp) ||
			!rdb_tuple_is_stub((HeapTupleHeader) PageGetItem(page, lp)))
			return false;
		rows = true;
	}
	return rows || rdb_l0_page_generation(page, blkno) != blkno;
}

/* the live rows of a directory leaf's retired generations count as live */
static void
vac_count_retired(RdbVacState *vac, Page page)
{
	RdbGenEntry e;
	uint32		gen;
	int			i = -1;

	if (!rdb_gen_page_is_leaf(page))
		return;
	while ((i = rdb_gen_leaf_retired(page, i + 1, &gen, &e)) >= 0)
	{
		vac->live_tuples += e.nlive;
		vac->flushed_tuples += e.nlive;
		/* a generation with no row left names the next reused page */
		rdb_gen_note_recyclable(vac->rel, gen, &e);
	}
}

/*
 * vac_max_dead_items
 *		How many dead TIDs one index pass may collect: heap's
 *		dead_items_max_items.  (autovacuum_)maintenance_work_mem bounds it,
 *		and so does MaxAllocSize; a small table needs no more than
 *		rel_pages * MaxHeapTuplesPerPage.  Without indexes the items are
 *		removed page by page, so one page's worth is enough.  All in 64
 *		bits: rel_pages * MaxHeapTuplesPerPage overflows 32 bits above
 *		about 14.7 million pages (112 GiB).
 */
static int
vac_max_dead_items(RdbVacState *vac)
{
	int64		max_items;
	int			vac_work_mem = (IsAutoVacuumWorkerProcess() &&
								autovacuum_work_mem != -1) ?
		autovacuum_work_mem : maintenance_work_mem;

	if (vac->nindexes == 0)
		return MaxHeapTuplesPerPage;

	max_items = MAXDEADITEMS((int64) vac_work_mem * 1024);
	max_items = Min(max_items, INT_MAX);
	max_items = Min(max_items, (int64) MAXDEADITEMS(MaxAllocSize));
	max_items = Min(max_items,
					(int64) Max(vac->rel_pages, 1) * MaxHeapTuplesPerPage);
	max_items = Max(max_items, MaxHeapTuplesPerPage);
	return (int) max_items;
}

/*
 * vac_check_failsafe
 *		Heap's wraparound failsafe (lazy_check_wraparound_failsafe): when
 *		relfrozenxid or relminmxid is older than vacuum_failsafe_age /
 *		vacuum_multixact_failsafe_age, stop everything that is not needed to
 *		advance them (index vacuuming and cleanup, truncation) and stop cost
 *		delays.  Returns true if the failsafe is (now) active.
 */
static bool
vac_check_failsafe(RdbVacState *vac)
{
	if (vac->failsafe_active)
		return true;

	if (unlikely(vacuum_xid_failsafe_check(vac->rel->rd_rel->relfrozenxid,
										   vac->rel->rd_rel->relminmxid)))
	{
		vac->failsafe_active = true;
		vac->do_index_vacuuming = false;
		vac->do_index_cleanup = false;
		vac->do_rel_truncate = false;

		ereport(WARNING,
				(errmsg("bypassing nonessential maintenance of table \"%s.%s.%s\" as a failsafe after %d index scans",
						vac->dbname, vac->nspname, vac->relname,
						vac->num_index_scans),
				 errdetail("The table's relfrozenxid or relminmxid is too far in the past."),
				 errhint("Consider increasing configuration parameter \"maintenance_work_mem\" or \"autovacuum_work_mem\".\n"
						 "You might also need to consider other ways for VACUUM to keep up with the allocation of transaction IDs.")));

		/* stop applying cost limits from this point on */
		VacuumCostActive = false;
		VacuumCostBalance = 0;
		return true;
	}
	return false;
}

/* append one dead TID; the caller made sure there is room */
static inline void
vac_add_dead(RdbVacState *vac, BlockNumber blkno, OffsetNumber off)
{
	VacDeadItems *d = vac->dead_items;

	Assert(d->num_items < d->max_items);
	ItemPointerSet(&d->items[d->num_items], blkno, off);
	d->num_items++;
}

static void
vac_log_prune(Relation rel, Buffer buf, OffsetNumber *dead, int ndead,
			  OffsetNumber *unused, int nunused, uint8 flags,
			  TransactionId conflict_xid)
{
	xl_rdb_prune xlrec;
	XLogRecPtr	recptr;

	if (!RelationNeedsWAL(rel))
		return;
	xlrec.conflict_xid = conflict_xid;
	xlrec.ndead = ndead;
	xlrec.nunused = nunused;
	xlrec.flags = flags;

	XLogBeginInsert();
	XLogRegisterData((char *) &xlrec, SizeOfRdbPrune);
	XLogRegisterBuffer(0, buf, REGBUF_STANDARD);
	if (ndead > 0)
		XLogRegisterBufData(0, (char *) dead, ndead * sizeof(OffsetNumber));
	if (nunused > 0)
		XLogRegisterBufData(0, (char *) unused, nunused * sizeof(OffsetNumber));
	recptr = XLogInsert(RDB_RMGR_ID, XLOG_RDB_PRUNE);
	PageSetLSN(BufferGetPage(buf), recptr);
}

/*
 * vac_page_all_visible
 *		Is every row of the (exclusively locked) page visible to every
 *		current and future snapshot: no dead line pointers, and every row
 *		HEAPTUPLE_LIVE with its inserter hinted committed and older than
 *		OldestXmin?  heap's rules (lazy_scan_prune, heap_page_is_all_visible):
 *		the hint bit must be set because an asynchronous commit may not yet
 *		be flushed.
 */
static bool
vac_page_all_visible(RdbVacState *vac, Buffer buf, BlockNumber blkno)
{
	Page		page = BufferGetPage(buf);
	OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
	OffsetNumber off;

	for (off = FirstOffsetNumber; off <= maxoff; off++)
	{
		ItemId		lp = PageGetItemId(page, off);
		HeapTupleData tup;
		TransactionId xmin;

		if (ItemIdIsDead(lp))
			return false;
		if (!ItemIdIsNormal(lp))
			continue;
		rdb_l0_page_tuple(vac->rel, page, blkno, off, &tup);
		if (HeapTupleSatisfiesVacuum(&tup, vac->OldestXmin, buf) != HEAPTUPLE_LIVE)
			return false;
		if (!rdb_l0_xmin_committed_hint(tup.t_data, buf))
			return false;
		xmin = HeapTupleHeaderGetXmin(tup.t_data);
		if (!TransactionIdPrecedes(xmin, vac->OldestXmin))
			return false;
	}
	return true;
}

/*
 * vac_mark_all_visible
 *		Set PD_ALL_VISIBLE on the page if it qualifies and is not marked yet,
 *		WAL-logged.  Scans with MVCC snapshots then skip the per-row
 *		visibility checks on it; every change that makes a row on it not
 *		visible to someone clears the flag again (modify.c, and redo).
 *		Caller holds an exclusive (or cleanup) lock on buf.
 */
static void
vac_mark_all_visible(RdbVacState *vac, Buffer buf, BlockNumber blkno)
{
	Page		page = BufferGetPage(buf);

	if (PageIsAllVisible(page) || !vac_page_all_visible(vac, buf, blkno))
		return;
	START_CRIT_SECTION();
	PageSetAllVisible(page);
	MarkBufferDirty(buf);
	vac_log_prune(vac->rel, buf, NULL, 0, NULL, 0, RDB_PRUNE_ALL_VISIBLE,
				  InvalidTransactionId);
	END_CRIT_SECTION();
	vac->pages_all_visible++;
}

/*
 * Prune and freeze one page under a cleanup lock.  Appends the TIDs of the
 * page's LP_DEAD items to vac->dead (unless they could be freed at once),
 * and marks the page all-visible when it qualifies.
 */
static void
vac_prune_page(RdbVacState *vac, Buffer buf, BlockNumber blkno)
{
	Relation	rel = vac->rel;
	Page		page = BufferGetPage(buf);
	OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
	OffsetNumber off;
	OffsetNumber newdead[MaxHeapTuplesPerPage];
	OffsetNumber unused[MaxHeapTuplesPerPage];
	int			nnewdead = 0;
	int			nunused = 0;
	TransactionId latestRemovedXid = InvalidTransactionId;
	xl_heap_freeze_tuple frz[MaxHeapTuplesPerPage];
	int			nfrozen = 0;
	bool		hasrows = false;
	bool		one_pass = (vac->nindexes == 0);

	/* which row versions are dead to everyone? */
	for (off = FirstOffsetNumber; off <= maxoff; off++)
	{
		ItemId		lp = PageGetItemId(page, off);
		HeapTupleData tup;

		if (ItemIdIsDead(lp))
		{
			if (one_pass)
				unused[nunused++] = off;
			continue;
		}
		if (!ItemIdIsNormal(lp))
			continue;

		rdb_l0_page_tuple(rel, page, blkno, off, &tup);

		switch (HeapTupleSatisfiesVacuum(&tup, vac->OldestXmin, buf))
		{
			case HEAPTUPLE_DEAD:
				HeapTupleHeaderAdvanceLatestRemovedXid(tup.t_data,
													   &latestRemovedXid);
				if (one_pass)
					unused[nunused++] = off;
				else
					newdead[nnewdead++] = off;
				vac->tuples_deleted++;
				break;
			case HEAPTUPLE_LIVE:
			case HEAPTUPLE_DELETE_IN_PROGRESS:
				/* a deleter still running will update the counts itself */
				vac->live_tuples++;
				if (rdb_tuple_is_stub(tup.t_data))
					vac->flushed_tuples++;
				hasrows = true;
				break;
			case HEAPTUPLE_RECENTLY_DEAD:
				vac->recently_dead_tuples++;
				hasrows = true;
				break;
			case HEAPTUPLE_INSERT_IN_PROGRESS:
				/* the inserter updates the counts at commit */
				hasrows = true;
				break;
			default:
				elog(ERROR, "unexpected HeapTupleSatisfiesVacuum result");
		}
	}

	if (nnewdead > 0 || nunused > 0)
	{
		int			i;
		Size		free_before = PageGetExactFreeSpace(page);

		START_CRIT_SECTION();
		for (i = 0; i < nnewdead; i++)
			ItemIdSetDead(PageGetItemId(page, newdead[i]));
		for (i = 0; i < nunused; i++)
			ItemIdSetUnused(PageGetItemId(page, unused[i]));
		PageRepairFragmentation(page);
		if (nunused > 0)
			PageTruncateLinePointerArray(page);
		/* nothing left to prune until the next delete */
		((PageHeader) page)->pd_prune_xid = InvalidTransactionId;
		MarkBufferDirty(buf);
		vac_log_prune(rel, buf, newdead, nnewdead, unused, nunused,
					  RDB_PRUNE_DEFRAGMENT |
					  (nunused > 0 ? RDB_PRUNE_TRUNCATE_LP : 0),
					  latestRemovedXid);
		END_CRIT_SECTION();
		vac->lpdead_removed += nunused;
		if (PageGetExactFreeSpace(page) > free_before)
			rdb_emit_page_compacted(rel, blkno,
									PageGetExactFreeSpace(page) - free_before);
	}

	/* freeze, and find the oldest xid that remains */
	maxoff = PageGetMaxOffsetNumber(page);
	for (off = FirstOffsetNumber; off <= maxoff; off++)
	{
		ItemId		lp = PageGetItemId(page, off);
		bool		totally_frozen;

		if (ItemIdIsDead(lp))
		{
			/* collected for the index pass */
			vac_add_dead(vac, rdb_l0_page_generation(page, blkno), off);
			continue;
		}
		if (!ItemIdIsNormal(lp))
			continue;
		if (heap_prepare_freeze_tuple((HeapTupleHeader) PageGetItem(page, lp),
									  rel->rd_rel->relfrozenxid,
									  rel->rd_rel->relminmxid,
									  vac->FreezeLimit, vac->MultiXactCutoff,
									  &frz[nfrozen], &totally_frozen,
									  &vac->NewRelfrozenXid,
									  &vac->NewRelminMxid))
			frz[nfrozen++].offset = off;
	}

	if (nfrozen > 0)
	{
		TransactionId conflict = vac->FreezeLimit;
		int			i;

		TransactionIdRetreat(conflict);

		START_CRIT_SECTION();
		for (i = 0; i < nfrozen; i++)
			heap_execute_freeze_tuple((HeapTupleHeader)
									  PageGetItem(page, PageGetItemId(page, frz[i].offset)),
									  &frz[i]);
		MarkBufferDirty(buf);
		if (RelationNeedsWAL(rel))
		{
			xl_rdb_set_headers xlrec;
			char	   *hdrs = palloc(nfrozen * SizeOfRdbHeader);
			XLogRecPtr	recptr;

			/* packed, one registered chunk: XLogRegisterBufData slots are few */
			for (i = 0; i < nfrozen; i++)
			{
				xl_rdb_header xlh;

				rdb_xlog_fill_header(&xlh, (HeapTupleHeader)
									 PageGetItem(page, PageGetItemId(page, frz[i].offset)),
									 frz[i].offset);
				memcpy(hdrs + i * SizeOfRdbHeader, &xlh, SizeOfRdbHeader);
			}
			xlrec.prune_xid = InvalidTransactionId;
			xlrec.conflict_xid = conflict;
			xlrec.nheaders = nfrozen;
			XLogBeginInsert();
			XLogRegisterData((char *) &xlrec, SizeOfRdbSetHeaders);
			XLogRegisterBuffer(0, buf, REGBUF_STANDARD);
			XLogRegisterBufData(0, hdrs, nfrozen * SizeOfRdbHeader);
			recptr = XLogInsert(RDB_RMGR_ID, XLOG_RDB_SET_HEADERS);
			PageSetLSN(page, recptr);
		}
		END_CRIT_SECTION();
		vac->frozen_tuples += nfrozen;
	}

	if (hasrows)
		vac->nonempty_pages = blkno + 1;
	vac_mark_all_visible(vac, buf, blkno);
}

/*
 * rdb_l0_prune_opt
 *		On-access pruning (heap_page_prune_opt): see l0.h.  Without it a dead
 *		row version kept its space until VACUUM, and a table under heavy
 *		update churn grew to twice heap's size and more (README, measured).
 *		Only row versions dead to every snapshot (GlobalVisTestFor, as heap)
 *		are pruned, marked LP_DEAD (their index entries stay until VACUUM,
 *		which collects every LP_DEAD item), the page defragmented, one
 *		XLOG_RDB_PRUNE record with the newest removed xmax as recovery
 *		conflict horizon, as VACUUM's first pass writes.  Never in
 *		recovery; never waits.
 */
void
rdb_l0_prune_opt(Relation rel, Buffer buf)
{
	Page		page = BufferGetPage(buf);
	TransactionId prune_xid;
	GlobalVisState *vistest;
	Size		minfree = BLCKSZ / 10;
	OffsetNumber dead[MaxHeapTuplesPerPage];
	int			ndead = 0;
	TransactionId latestRemovedXid = InvalidTransactionId;
	TransactionId new_prune_xid = InvalidTransactionId;
	OffsetNumber maxoff;
	OffsetNumber off;
	BlockNumber blkno;

	if (RecoveryInProgress())
		return;
	/* unlocked reads, as heap's: a stale answer only skips or retries */
	prune_xid = ((PageHeader) page)->pd_prune_xid;
	if (!TransactionIdIsValid(prune_xid))
		return;
	vistest = GlobalVisTestFor(rel);
	if (!GlobalVisTestIsRemovableXid(vistest, prune_xid))
		return;
	if (!PageIsFull(page) && PageGetHeapFreeSpace(page) >= minfree)
		return;
	if (!ConditionalLockBufferForCleanup(buf))
		return;
	if (!rdb_l0_page_is_l0(page) ||
		(!PageIsFull(page) && PageGetHeapFreeSpace(page) >= minfree))
	{
		LockBuffer(buf, BUFFER_LOCK_UNLOCK);
		return;
	}

	blkno = BufferGetBlockNumber(buf);
	maxoff = PageGetMaxOffsetNumber(page);
	for (off = FirstOffsetNumber; off <= maxoff; off++)
	{
		ItemId		lp = PageGetItemId(page, off);
		HeapTupleData tup;
		TransactionId dead_after = InvalidTransactionId;
		HTSV_Result res;

		if (!ItemIdIsNormal(lp))
			continue;
		rdb_l0_page_tuple(rel, page, blkno, off, &tup);
		res = HeapTupleSatisfiesVacuumHorizon(&tup, buf, &dead_after);
		if (res == HEAPTUPLE_RECENTLY_DEAD &&
			GlobalVisTestIsRemovableXid(vistest, dead_after))
			res = HEAPTUPLE_DEAD;
		switch (res)
		{
			case HEAPTUPLE_DEAD:
				HeapTupleHeaderAdvanceLatestRemovedXid(tup.t_data,
													   &latestRemovedXid);
				dead[ndead++] = off;
				break;
			case HEAPTUPLE_RECENTLY_DEAD:
				/* prunable once dead_after is: look again then */
				if (!TransactionIdIsValid(new_prune_xid) ||
					TransactionIdPrecedes(dead_after, new_prune_xid))
					new_prune_xid = dead_after;
				break;
			case HEAPTUPLE_DELETE_IN_PROGRESS:
				{
					TransactionId xmax = HeapTupleHeaderGetUpdateXid(tup.t_data);

					if (TransactionIdIsNormal(xmax) &&
						(!TransactionIdIsValid(new_prune_xid) ||
						 TransactionIdPrecedes(xmax, new_prune_xid)))
						new_prune_xid = xmax;
				}
				break;
			default:
				break;
		}
	}

	if (ndead > 0)
	{
		int			i;

		START_CRIT_SECTION();
		for (i = 0; i < ndead; i++)
			ItemIdSetDead(PageGetItemId(page, dead[i]));
		PageRepairFragmentation(page);
		((PageHeader) page)->pd_prune_xid = new_prune_xid;
		PageClearFull(page);
		MarkBufferDirty(buf);
		vac_log_prune(rel, buf, dead, ndead, NULL, 0, RDB_PRUNE_DEFRAGMENT,
					  latestRemovedXid);
		END_CRIT_SECTION();
	}
	else if (((PageHeader) page)->pd_prune_xid != new_prune_xid)
	{
		/* a hint, as heap's: nothing to prune before new_prune_xid */
		((PageHeader) page)->pd_prune_xid = new_prune_xid;
		PageClearFull(page);
		MarkBufferDirtyHint(buf, true);
	}
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);
}

/*
 * vac_scan_noprune
 *		A page we could not cleanup-lock (someone holds a pin, e.g. a cursor
 *		sitting on it): heap's lazy_scan_noprune.  Under a share lock, count
 *		its rows as heap would, collect its LP_DEAD items for the index pass,
 *		and keep relfrozenxid/relminmxid honest about the xids left on it.
 *
 * Returns false, having changed nothing, when the vacuum is aggressive and a
 * row on the page must be frozen now: only then does the caller wait for the
 * cleanup lock.  Dead rows found here stay (missed_dead_tuples) and do not
 * count as live.  *hasrows tells whether the page still holds rows.
 */
static bool
vac_scan_noprune(RdbVacState *vac, Buffer buf, BlockNumber blkno,
				 bool *hasrows)
{
	Page		page = BufferGetPage(buf);
	OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
	OffsetNumber off;
	OffsetNumber deadoffsets[MaxHeapTuplesPerPage];
	int			lpdead_items = 0;
	int64		live_tuples = 0;
	int64		flushed_tuples = 0;
	int64		recently_dead_tuples = 0;
	int64		missed_dead_tuples = 0;
	TransactionId NoFreezePageRelfrozenXid = vac->NewRelfrozenXid;
	MultiXactId NoFreezePageRelminMxid = vac->NewRelminMxid;

	*hasrows = false;
	for (off = FirstOffsetNumber; off <= maxoff; off++)
	{
		ItemId		lp = PageGetItemId(page, off);
		HeapTupleData tup;

		if (!ItemIdIsUsed(lp))
			continue;
		if (ItemIdIsDead(lp))
		{
			deadoffsets[lpdead_items++] = off;
			continue;
		}
		if (!ItemIdIsNormal(lp))
			continue;

		*hasrows = true;
		rdb_l0_page_tuple(vac->rel, page, blkno, off, &tup);

		if (heap_tuple_would_freeze(tup.t_data, vac->FreezeLimit,
									vac->MultiXactCutoff,
									&NoFreezePageRelfrozenXid,
									&NoFreezePageRelminMxid))
		{
			/* an aggressive vacuum must freeze it: wait for the lock */
			if (vac->aggressive)
				return false;
			/* else relfrozenxid just cannot advance past this row's xids */
		}

		switch (HeapTupleSatisfiesVacuum(&tup, vac->OldestXmin, buf))
		{
			case HEAPTUPLE_DELETE_IN_PROGRESS:
			case HEAPTUPLE_LIVE:
				live_tuples++;
				if (rdb_tuple_is_stub(tup.t_data))
					flushed_tuples++;
				break;
			case HEAPTUPLE_DEAD:
				/* would be removed if we could prune; heap doesn't count it live */
				missed_dead_tuples++;
				break;
			case HEAPTUPLE_RECENTLY_DEAD:
				recently_dead_tuples++;
				break;
			case HEAPTUPLE_INSERT_IN_PROGRESS:
				/* the inserter updates the counts at commit */
				break;
			default:
				elog(ERROR, "unexpected HeapTupleSatisfiesVacuum result");
		}
	}

	vac->NewRelfrozenXid = NoFreezePageRelfrozenXid;
	vac->NewRelminMxid = NoFreezePageRelminMxid;

	if (lpdead_items > 0)
	{
		if (vac->nindexes == 0 || !vac->do_index_vacuuming)
		{
			/* no index pass will make them unused this time */
			missed_dead_tuples += lpdead_items;
			*hasrows = true;
		}
		else
		{
			int			i;

			for (i = 0; i < lpdead_items; i++)
				vac_add_dead(vac, rdb_l0_page_generation(page, blkno), deadoffsets[i]);
		}
	}

	vac->live_tuples += live_tuples;
	vac->flushed_tuples += flushed_tuples;
	vac->recently_dead_tuples += recently_dead_tuples;
	vac->missed_dead_tuples += missed_dead_tuples;
	if (missed_dead_tuples > 0)
		vac->missed_dead_pages++;
	vac->cleanup_skipped++;
	return true;
}

/*
 * Passes 2 and 3 (heap's lazy_vacuum): remove the index entries of the
 * collected TIDs, then make their line pointers reusable.
 *
 * Without index vacuuming (INDEX_CLEANUP off, or the failsafe) the items
 * stay LP_DEAD until a later vacuum; their pages' free space was recorded
 * in the FSM by the first pass.
 */
static int
vac_cmp_tid(const void *a, const void *b)
{
	return ItemPointerCompare((ItemPointer) a, (ItemPointer) b);
}

static void
vac_dead_items(RdbVacState *vac)
{
	VacDeadItems *dead = vac->dead_items;
	int			i;
	int			start;

	if (dead->num_items == 0)
		return;

	if (!vac->do_index_vacuuming || vac_check_failsafe(vac))
	{
		vac->lpdead_left += dead->num_items;
		dead->num_items = 0;
		return;
	}

	/*
	 * Index AMs look TIDs up by binary search (vac_tid_reaped): the array
	 * must be in TID order, which is block order only until pages are
	 * retired and their blocks reused under other generations.
	 */
	qsort(dead->items, dead->num_items, sizeof(ItemPointerData), vac_cmp_tid);

	pgstat_progress_update_param(PROGRESS_VACUUM_PHASE,
								 PROGRESS_VACUUM_PHASE_VACUUM_INDEX);
	if (vac->pvs)
	{
		parallel_vacuum_bulkdel_all_indexes(vac->pvs,
											(long) Max(vac->rel->rd_rel->reltuples, 0),
											vac->num_index_scans);
		if (vac_check_failsafe(vac))
		{
			vac->lpdead_left += dead->num_items;
			dead->num_items = 0;
			return;
		}
	}
	else
	{
		for (i = 0; i < vac->nindexes; i++)
		{
			IndexVacuumInfo ivinfo;

			ivinfo.index = vac->indrels[i];
			ivinfo.analyze_only = false;
			ivinfo.report_progress = false;
			ivinfo.estimated_count = true;
			ivinfo.message_level = vac->elevel;
			ivinfo.num_heap_tuples = Max(vac->rel->rd_rel->reltuples, 0);
			ivinfo.strategy = vac->bstrategy;
			vac->indstats[i] = vac_bulkdel_one_index(&ivinfo, vac->indstats[i],
													 dead);
			/* as heap: stop here if the failsafe triggers meanwhile */
			if (vac_check_failsafe(vac))
			{
				/* entries may remain in other indexes: keep the items LP_DEAD */
				vac->lpdead_left += dead->num_items;
				dead->num_items = 0;
				return;
			}
		}
	}
	vac->num_index_scans++;
	pgstat_progress_update_param(PROGRESS_VACUUM_NUM_INDEX_VACUUMS,
								 vac->num_index_scans);

	pgstat_progress_update_param(PROGRESS_VACUUM_PHASE,
								 PROGRESS_VACUUM_PHASE_VACUUM_HEAP);
	start = 0;
	while (start < dead->num_items)
	{
		uint32		gen = ItemPointerGetBlockNumber(&dead->items[start]);
		BlockNumber blkno;
		OffsetNumber unused[MaxHeapTuplesPerPage];
		int			nunused = 0;
		int			end;
		Buffer		buf;
		Page		page;
		bool		retired;

		vacuum_delay_point();

		for (end = start; end < dead->num_items &&
			 ItemPointerGetBlockNumber(&dead->items[end]) == gen; end++)
			unused[nunused++] = ItemPointerGetOffsetNumber(&dead->items[end]);

		/* a page with dead items is never retired: it is where it was */
		buf = rdb_gen_read(vac->rel, gen, vac->bstrategy, NULL, &retired);
		if (!BufferIsValid(buf))
			elog(ERROR, "rustydb: generation %u of \"%s\" with dead items has no page",
				 gen, RelationGetRelationName(vac->rel));
		blkno = BufferGetBlockNumber(buf);
		/* no tuple moves: an exclusive lock is enough */
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);

		START_CRIT_SECTION();
		for (i = 0; i < nunused; i++)
		{
			ItemId		lp = PageGetItemId(page, unused[i]);

			Assert(ItemIdIsDead(lp));
			ItemIdSetUnused(lp);
		}
		PageTruncateLinePointerArray(page);
		MarkBufferDirty(buf);
		vac_log_prune(vac->rel, buf, NULL, 0, unused, nunused,
					  RDB_PRUNE_TRUNCATE_LP, InvalidTransactionId);
		END_CRIT_SECTION();
		/* with its dead items gone, the page may now be all-visible */
		vac_mark_all_visible(vac, buf, blkno);

		RecordPageWithFreeSpace(vac->rel, blkno, PageGetHeapFreeSpace(page));

		/*
		 * A page of a revived or reused generation whose rows are all gone
		 * is retired (empty), so that its block is a free page again, for
		 * new rows or the next revival; so is a page of stubs that every
		 * snapshot sees (rdb_gen_try_retire decides).  If someone holds it
		 * pinned, a later VACUUM does it.
		 */
		if (vac_page_may_retire(page, blkno))
		{
			LockBuffer(buf, BUFFER_LOCK_UNLOCK);
			if (ConditionalLockBufferForCleanup(buf))
			{
				int			nretired;
				BlockNumber leaf;

				if (vac_page_may_retire(page, blkno) &&
					rdb_gen_try_retire(vac->rel, buf, vac->OldestXmin,
									   &nretired, &leaf))
				{
					vac->pages_retired++;
					/* counted again when the first pass reaches the leaf */
					if (leaf >= vac->scan_pos && leaf < vac->rel_pages)
					{
						vac->live_tuples -= nretired;
						vac->flushed_tuples -= nretired;
					}
				}
				UnlockReleaseBuffer(buf);
			}
			else
				ReleaseBuffer(buf);
		}
		else
			UnlockReleaseBuffer(buf);

		vac->lpdead_removed += nunused;
		pgstat_progress_update_param(PROGRESS_VACUUM_HEAP_BLKS_VACUUMED, blkno);
		start = end;
	}
	dead->num_items = 0;
}

/* does this page hold nothing but unused line pointers? */
static bool
vac_page_is_empty(Relation rel, BlockNumber blkno, BufferAccessStrategy bstrategy)
{
	Buffer		buf;
	Page		page;
	bool		empty = true;
	OffsetNumber off;

	buf = rdb_read_buffer(rel, blkno, bstrategy);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	if (!PageIsNew(page))
	{
		/*
		 * Not a directory or free page, nor a page of another generation:
		 * when the file grows again, block N comes back as generation N,
		 * which must not hide a retired generation N.
		 */
		if (!rdb_l0_page_is_l0(page) ||
			rdb_l0_page_generation(page, blkno) != blkno)
			empty = false;
		else
			for (off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); off++)
			{
				if (ItemIdIsUsed(PageGetItemId(page, off)))
				{
					empty = false;
					break;
				}
			}
	}
	UnlockReleaseBuffer(buf);
	return empty;
}

/*
 * Cut off empty pages at the end of the relation, if we can get an
 * AccessExclusiveLock without waiting (as heap: never block queries).
 */
static void
vac_truncate(RdbVacState *vac)
{
	BlockNumber new_end;
	BlockNumber nblocks;
	BlockNumber possible = vac->rel_pages - vac->nonempty_pages;

	if (possible == 0 ||
		(possible < REL_TRUNCATE_MINIMUM &&
		 possible < vac->rel_pages / REL_TRUNCATE_FRACTION))
		return;
	if (!ConditionalLockRelation(vac->rel, AccessExclusiveLock))
		return;

	pgstat_progress_update_param(PROGRESS_VACUUM_PHASE,
								 PROGRESS_VACUUM_PHASE_TRUNCATE);

	/* recheck under the lock: rows may have arrived meanwhile */
	nblocks = RelationGetNumberOfBlocks(vac->rel);
	new_end = nblocks;
	while (new_end > Max(vac->nonempty_pages, RDB_FIRST_DATA_BLKNO) &&
		   vac_page_is_empty(vac->rel, new_end - 1, vac->bstrategy))
	{
		CHECK_FOR_INTERRUPTS();
		new_end--;
	}
	if (new_end < nblocks)
	{
		RelationTruncate(vac->rel, new_end);
		vac->pages_removed = nblocks - new_end;
		vac->rel_pages = new_end;
	}
	UnlockRelation(vac->rel, AccessExclusiveLock);
}

/*
 * vac_report
 *		The end-of-vacuum report, in heap's format: INFO for VACUUM VERBOSE
 *		("finished vacuuming ..."), LOG for autovacuum runs that took at least
 *		log_autovacuum_min_duration ("automatic vacuum of table ...").
 */
static void
vac_report(RdbVacState *vac, VacuumParams *params, bool verbose,
		   TimestampTz starttime, PGRUsage *ru0, BufferUsage *bufstart,
		   WalUsage *walstart, TransactionId old_frozenxid,
		   MultiXactId old_minmxid, bool frozenxid_updated,
		   bool minmulti_updated)
{
	StringInfoData buf;
	TimestampTz endtime = GetCurrentTimestamp();
	BufferUsage bufusage;
	WalUsage	walusage;
	long		secs_dur;
	int			usecs_dur;
	double		read_rate = 0;
	double		write_rate = 0;
	TransactionId diff;
	int			i;
	int			elevel;
	BlockNumber orig_rel_pages = vac->rel_pages + vac->pages_removed;

	if (verbose)
		elevel = INFO;
	else if (IsAutoVacuumWorkerProcess() && params->log_min_duration >= 0 &&
			 (params->log_min_duration == 0 ||
			  TimestampDifferenceExceeds(starttime, endtime,
										 params->log_min_duration)))
		elevel = LOG;
	else
		return;

	memset(&bufusage, 0, sizeof(bufusage));
	BufferUsageAccumDiff(&bufusage, &pgBufferUsage, bufstart);
	memset(&walusage, 0, sizeof(walusage));
	WalUsageAccumDiff(&walusage, &pgWalUsage, walstart);
	TimestampDifference(starttime, endtime, &secs_dur, &usecs_dur);

	initStringInfo(&buf);
	if (verbose)
		appendStringInfo(&buf, _("finished vacuuming \"%s.%s.%s\": index scans: %d\n"),
						 vac->dbname, vac->nspname, vac->relname,
						 vac->num_index_scans);
	else if (vac->aggressive && params->is_wraparound)
		appendStringInfo(&buf, _("automatic aggressive vacuum to prevent wraparound of table \"%s.%s.%s\": index scans: %d\n"),
						 vac->dbname, vac->nspname, vac->relname,
						 vac->num_index_scans);
	else if (vac->aggressive)
		appendStringInfo(&buf, _("automatic aggressive vacuum of table \"%s.%s.%s\": index scans: %d\n"),
						 vac->dbname, vac->nspname, vac->relname,
						 vac->num_index_scans);
	else if (params->is_wraparound)
		appendStringInfo(&buf, _("automatic vacuum to prevent wraparound of table \"%s.%s.%s\": index scans: %d\n"),
						 vac->dbname, vac->nspname, vac->relname,
						 vac->num_index_scans);
	else
		appendStringInfo(&buf, _("automatic vacuum of table \"%s.%s.%s\": index scans: %d\n"),
						 vac->dbname, vac->nspname, vac->relname,
						 vac->num_index_scans);
	appendStringInfo(&buf, _("pages: %u removed, %u remain, %u scanned (%.2f%% of total)\n"),
					 vac->pages_removed, vac->rel_pages, vac->scanned_pages,
					 orig_rel_pages == 0 ? 100.0 :
					 100.0 * vac->scanned_pages / orig_rel_pages);
	appendStringInfo(&buf, _("tuples: %lld removed, %lld remain, %lld are dead but not yet removable\n"),
					 (long long) vac->tuples_deleted,
					 (long long) vac->live_tuples,
					 (long long) vac->recently_dead_tuples);
	if (vac->missed_dead_tuples > 0)
		appendStringInfo(&buf, _("tuples missed: %lld dead from %u pages not removed due to cleanup lock contention\n"),
						 (long long) vac->missed_dead_tuples,
						 vac->missed_dead_pages);
	diff = (int32) (ReadNextTransactionId() - vac->OldestXmin);
	appendStringInfo(&buf, _("removable cutoff: %u, which was %d XIDs old when operation ended\n"),
					 vac->OldestXmin, (int32) diff);
	if (frozenxid_updated)
	{
		diff = (int32) (vac->NewRelfrozenXid - old_frozenxid);
		appendStringInfo(&buf, _("new relfrozenxid: %u, which is %d XIDs ahead of previous value\n"),
						 vac->NewRelfrozenXid, (int32) diff);
	}
	if (minmulti_updated)
	{
		diff = (int32) (vac->NewRelminMxid - old_minmxid);
		appendStringInfo(&buf, _("new relminmxid: %u, which is %d MXIDs ahead of previous value\n"),
						 vac->NewRelminMxid, (int32) diff);
	}
	/* rustydb: pages we had to process without a cleanup lock */
	if (vac->cleanup_skipped > 0)
		appendStringInfo(&buf, _("pages processed without cleanup lock: %u\n"),
						 vac->cleanup_skipped);
	/* rustydb: pages whose flushed rows now need only a directory entry */
	if (vac->pages_retired > 0)
		appendStringInfo(&buf, _("pages retired into the generation directory: %lld\n"),
						 (long long) vac->pages_retired);
	if (vac->nindexes > 0 && !vac->do_index_vacuuming)
		appendStringInfo(&buf, vac->failsafe_active ?
						 _("index scan bypassed by failsafe: %lld line pointers left dead\n") :
						 _("index scan bypassed: %lld line pointers left dead\n"),
						 (long long) vac->lpdead_left);
	appendStringInfo(&buf, _("%lld row versions frozen, %lld line pointers freed\n"),
					 (long long) vac->frozen_tuples,
					 (long long) vac->lpdead_removed);
	appendStringInfo(&buf, _("pages newly marked all-visible: %u\n"),
					 vac->pages_all_visible);
	for (i = 0; i < vac->nindexes; i++)
	{
		IndexBulkDeleteResult *istat = vac->indstats[i];

		if (!istat)
			continue;
		appendStringInfo(&buf,
						 _("index \"%s\": pages: %u in total, %u newly deleted, %u currently deleted, %u reusable\n"),
						 RelationGetRelationName(vac->indrels[i]),
						 istat->num_pages, istat->pages_newly_deleted,
						 istat->pages_deleted, istat->pages_free);
	}
	if (secs_dur > 0 || usecs_dur > 0)
	{
		read_rate = (double) BLCKSZ * (bufusage.shared_blks_read + bufusage.local_blks_read) /
			(1024 * 1024) / (secs_dur + usecs_dur / 1000000.0);
		write_rate = (double) BLCKSZ * (bufusage.shared_blks_dirtied + bufusage.local_blks_dirtied) /
			(1024 * 1024) / (secs_dur + usecs_dur / 1000000.0);
	}
	appendStringInfo(&buf, _("avg read rate: %.3f MB/s, avg write rate: %.3f MB/s\n"),
					 read_rate, write_rate);
	appendStringInfo(&buf, _("buffer usage: %lld hits, %lld misses, %lld dirtied\n"),
					 (long long) (bufusage.shared_blks_hit + bufusage.local_blks_hit),
					 (long long) (bufusage.shared_blks_read + bufusage.local_blks_read),
					 (long long) (bufusage.shared_blks_dirtied + bufusage.local_blks_dirtied));
	appendStringInfo(&buf, _("WAL usage: %lld records, %lld full page images, %llu bytes\n"),
					 (long long) walusage.wal_records,
					 (long long) walusage.wal_fpi,
					 (unsigned long long) walusage.wal_bytes);
	appendStringInfo(&buf, _("system usage: %s"), pg_rusage_show(ru0));

	ereport(elevel, (errmsg_internal("%s", buf.data)));
	pfree(buf.data);
}

void
rdb_am_relation_vacuum(Relation rel, VacuumParams *params,
					   BufferAccessStrategy bstrategy)
{
	RdbVacState vac;
	MultiXactId OldestMxact;
	BlockNumber blkno;
	BlockNumber next_failsafe_block;
	int			i;
	double		new_live_tuples;
	double		new_rel_tuples;
	bool		frozenxid_updated = false;
	bool		minmulti_updated = false;
	bool		verbose = (params->options & VACOPT_VERBOSE) != 0;
	TransactionId old_frozenxid = rel->rd_rel->relfrozenxid;
	MultiXactId old_minmxid = rel->rd_rel->relminmxid;
	TimestampTz starttime = GetCurrentTimestamp();
	PGRUsage	ru0;
	BufferUsage bufstart = pgBufferUsage;
	WalUsage	walstart = pgWalUsage;
	const int	progress_index[] = {PROGRESS_VACUUM_TOTAL_HEAP_BLKS,
	PROGRESS_VACUUM_MAX_DEAD_TUPLES};
	int64		progress_val[2];

	rdb_check_preloaded();
	rdb_meta_check(rel);
	pg_rusage_init(&ru0);

	/*
	 * One flush or VACUUM at a time, as before a writer's own flush gave up
	 * the table's ShareUpdateExclusiveLock for the stripe-reference lock
	 * (flush.c): a writer's flush holds it for a moment, and skips a round
	 * while we hold it.  Released with the transaction VACUUM runs the
	 * table in.
	 */
	(void) rdb_stripe_refs_lock(rel, true);

	memset(&vac, 0, sizeof(vac));
	vac.rel = rel;
	vac.bstrategy = bstrategy;
	vac.elevel = verbose ? INFO : DEBUG2;
	vac.dbname = get_database_name(MyDatabaseId);
	vac.nspname = get_namespace_name(RelationGetNamespace(rel));
	vac.relname = pstrdup(RelationGetRelationName(rel));

	pgstat_progress_start_command(PROGRESS_COMMAND_VACUUM, RelationGetRelid(rel));

	vac.aggressive = vacuum_set_xid_limits(rel,
										   params->freeze_min_age,
										   params->freeze_table_age,
										   params->multixact_freeze_min_age,
										   params->multixact_freeze_table_age,
										   &vac.OldestXmin, &OldestMxact,
										   &vac.FreezeLimit,
										   &vac.MultiXactCutoff);
	/* every page is visited, so what we leave behind bounds relfrozenxid */
	vac.NewRelfrozenXid = vac.OldestXmin;
	vac.NewRelminMxid = OldestMxact;

	vac_open_indexes(rel, RowExclusiveLock, &vac.nindexes, &vac.indrels);
	vac.do_index_vacuuming = vac.nindexes > 0 &&
		params->index_cleanup != VACOPTVALUE_DISABLED;
	vac.do_index_cleanup = vac.do_index_vacuuming;
	vac.do_rel_truncate = params->truncate != VACOPTVALUE_DISABLED;
	vac.indstats = palloc0(sizeof(IndexBulkDeleteResult *) * Max(vac.nindexes, 1));

	vac.rel_pages = RelationGetNumberOfBlocks(rel);
	vac.nonempty_pages = RDB_FIRST_DATA_BLKNO;
	/* the metapage counts as scanned (rdb_meta_check read it) */
	vac.scanned_pages = Min(vac.rel_pages, RDB_FIRST_DATA_BLKNO);

	if (verbose)
		ereport(INFO,
				(errmsg("vacuuming \"%s.%s.%s\"",
						vac.dbname, vac.nspname, vac.relname)));

	/* close to wraparound?  Then only freezing matters (heap does this first) */
	vac_check_failsafe(&vac);

	/*
	 * The dead-TID array, bounded by (autovacuum_)maintenance_work_mem.  With
	 * two or more indexes the index passes run in parallel workers, as heap's
	 * (dead_items_alloc): the array then lives in the parallel context's DSM.
	 * Workers cannot read a temporary table's local buffers.
	 */
	if (params->nworkers >= 0 && vac.nindexes > 1 && vac.do_index_vacuuming)
	{
		if (RelationUsesLocalBuffers(rel))
		{
			if (params->nworkers > 0)
				ereport(WARNING,
						(errmsg("disabling parallel option of vacuum on \"%s\" --- cannot vacuum temporary tables in parallel",
								vac.relname)));
		}
		else
			vac.pvs = parallel_vacuum_init(rel, vac.indrels, vac.nindexes,
										   params->nworkers,
										   vac_max_dead_items(&vac),
										   vac.elevel, bstrategy);
	}
	if (vac.pvs)
		vac.dead_items = parallel_vacuum_get_dead_items(vac.pvs);
	else
	{
		int			max_items = vac_max_dead_items(&vac);

		vac.dead_items = palloc(vac_max_items_to_alloc_size(max_items));
		vac.dead_items->max_items = max_items;
		vac.dead_items->num_items = 0;
	}

	progress_val[0] = vac.rel_pages;
	progress_val[1] = vac.dead_items->max_items;
	pgstat_progress_update_multi_param(2, progress_index, progress_val);
	pgstat_progress_update_param(PROGRESS_VACUUM_PHASE,
								 PROGRESS_VACUUM_PHASE_SCAN_HEAP);

	next_failsafe_block = RDB_FIRST_DATA_BLKNO;
	for (blkno = RDB_FIRST_DATA_BLKNO; blkno < vac.rel_pages; blkno++)
	{
		Buffer		buf;
		Page		page;
		bool		recordfreespace;
		Size		freespace;

		if (blkno - next_failsafe_block >= FAILSAFE_EVERY_PAGES)
		{
			vac_check_failsafe(&vac);
			next_failsafe_block = blkno;
		}

		vacuum_delay_point();

		/* room for a whole page of dead TIDs? else empty the array first */
		if (vac.dead_items->max_items - vac.dead_items->num_items <
			MaxHeapTuplesPerPage)
		{
			vac.scan_pos = blkno;
			vac_dead_items(&vac);
			pgstat_progress_update_param(PROGRESS_VACUUM_PHASE,
										 PROGRESS_VACUUM_PHASE_SCAN_HEAP);
		}

		buf = rdb_read_buffer(rel, blkno, bstrategy);
		if (!ConditionalLockBufferForCleanup(buf))
		{
			bool		hasrows;

			/*
			 * Someone holds a pin (a cursor, say).  Do what we can under a
			 * share lock; wait for the cleanup lock only when an aggressive
			 * vacuum must freeze a row here (heap's lazy_scan_noprune), so
			 * that an idle cursor cannot stall an anti-wraparound vacuum.
			 */
			LockBuffer(buf, BUFFER_LOCK_SHARE);
			page = BufferGetPage(buf);
			rdb_l0_page_check(rel, buf);
			if (!rdb_l0_page_is_l0(page))
			{
				/* all-zero, free, stripe or directory page: no L0 rows */
				vac_count_retired(&vac, page);
				recordfreespace = PageIsNew(page) || rdb_gen_page_is_free(page);
				UnlockReleaseBuffer(buf);
				if (recordfreespace)
					RecordPageWithFreeSpace(rel, blkno, RDB_MAX_TUPLE_SIZE);
				vac.scanned_pages++;
				pgstat_progress_update_param(PROGRESS_VACUUM_HEAP_BLKS_SCANNED,
											 blkno + 1);
				continue;
			}
			if (vac_scan_noprune(&vac, buf, blkno, &hasrows))
			{
				freespace = PageGetHeapFreeSpace(page);
				UnlockReleaseBuffer(buf);
				if (hasrows)
					vac.nonempty_pages = blkno + 1;
				RecordPageWithFreeSpace(rel, blkno, freespace);
				vac.scanned_pages++;
				pgstat_progress_update_param(PROGRESS_VACUUM_HEAP_BLKS_SCANNED,
											 blkno + 1);
				continue;
			}
			LockBuffer(buf, BUFFER_LOCK_UNLOCK);
			LockBufferForCleanup(buf);
		}

		page = BufferGetPage(buf);
		rdb_l0_page_check(rel, buf);
		if (PageIsNew(page))
		{
			/* left zeroed by a crash during extension: free for reuse */
			UnlockReleaseBuffer(buf);
			RecordPageWithFreeSpace(rel, blkno, RDB_MAX_TUPLE_SIZE);
		}
		else if (rdb_l0_page_is_l0(page))
		{
			int			ndead_before = vac.dead_items->num_items;
			int			nretired;
			BlockNumber leaf;

			vac_prune_page(&vac, buf, blkno);

			/*
			 * All stubs every snapshot sees: retire the page.  Its rows were
			 * counted as live here; they are counted again when the scan
			 * reaches their directory leaf, unless the leaf came before.
			 */
			if (vac.dead_items->num_items == ndead_before &&
				rdb_gen_try_retire(rel, buf, vac.OldestXmin, &nretired, &leaf))
			{
				vac.pages_retired++;
				if (leaf > blkno && leaf < vac.rel_pages)
				{
					vac.live_tuples -= nretired;
					vac.flushed_tuples -= nretired;
				}
			}
			freespace = PageGetHeapFreeSpace(page);
			UnlockReleaseBuffer(buf);

			/*
			 * Pages with dead items get their FSM entry in the second pass,
			 * if there is going to be one (heap's rule).
			 */
			recordfreespace = (vac.dead_items->num_items == ndead_before ||
							   !vac.do_index_vacuuming);
			if (recordfreespace)
				RecordPageWithFreeSpace(rel, blkno, freespace);
		}
		else
		{
			vac_count_retired(&vac, page);
			recordfreespace = rdb_gen_page_is_free(page);
			UnlockReleaseBuffer(buf);
			if (recordfreespace)
				RecordPageWithFreeSpace(rel, blkno, RDB_MAX_TUPLE_SIZE);
		}

		vac.scanned_pages++;
		pgstat_progress_update_param(PROGRESS_VACUUM_HEAP_BLKS_SCANNED,
									 blkno + 1);
	}

	vac.scan_pos = vac.rel_pages;
	vac_dead_items(&vac);

	/*
	 * Every page was read: the share of live rows that are flushed is
	 * known exactly, for the planner's estimate of what a columnar scan
	 * skips (as ANALYZE records it, src/tableam/scan.c).
	 */
	if (vac.scanned_pages == vac.rel_pages)
		rdb_meta_note_flushed_share(rel, (double) vac.live_tuples,
							  (double) Max(vac.flushed_tuples, 0));

	/*
	 * What heap stores: reltuples counts live rows only; index cleanup is
	 * told about every row version still in the table.
	 */
	new_live_tuples = vac_estimate_reltuples(rel, vac.rel_pages,
											 vac.scanned_pages,
											 (double) vac.live_tuples);
	new_rel_tuples = Max(new_live_tuples, 0) + vac.recently_dead_tuples +
		vac.missed_dead_tuples;

	/* index cleanup: lets index AMs recycle pages and report their sizes */
	if (vac.do_index_cleanup)
	{
		bool		estimated_count = vac.scanned_pages < vac.rel_pages;

		pgstat_progress_update_param(PROGRESS_VACUUM_PHASE,
									 PROGRESS_VACUUM_PHASE_INDEX_CLEANUP);
		if (vac.pvs)
			parallel_vacuum_cleanup_all_indexes(vac.pvs, (long) new_rel_tuples,
												vac.num_index_scans,
												estimated_count);
		else
			for (i = 0; i < vac.nindexes; i++)
			{
				IndexVacuumInfo ivinfo;

				ivinfo.index = vac.indrels[i];
				ivinfo.analyze_only = false;
				ivinfo.report_progress = false;
				ivinfo.estimated_count = estimated_count;
				ivinfo.message_level = vac.elevel;
				ivinfo.num_heap_tuples = new_rel_tuples;
				ivinfo.strategy = bstrategy;
				vac.indstats[i] = vac_cleanup_one_index(&ivinfo, vac.indstats[i]);
			}
	}

	pgstat_progress_update_param(PROGRESS_VACUUM_PHASE,
								 PROGRESS_VACUUM_PHASE_FINAL_CLEANUP);
	FreeSpaceMapVacuum(rel);

	/* leave parallel mode (copying the index stats back) before writing */
	if (vac.pvs)
	{
		parallel_vacuum_end(vac.pvs, vac.indstats);
		vac.pvs = NULL;
	}
	else
		pfree(vac.dead_items);
	vac.dead_items = NULL;

	/*
	 * Directory groups whose generations are all retired into one stripe
	 * get a summary, so that columnar scans pass over them unread: the
	 * pages retired here, and those of tables written before summaries.
	 */
	rdb_gen_summarize_all(rel);

	if (vac.do_rel_truncate)
		vac_truncate(&vac);

	for (i = 0; i < vac.nindexes; i++)
	{
		IndexBulkDeleteResult *istat = vac.indstats[i];

		if (istat == NULL || istat->estimated_count)
			continue;
		vac_update_relstats(vac.indrels[i], istat->num_pages,
							istat->num_index_tuples, 0, false,
							InvalidTransactionId, InvalidMultiXactId,
							NULL, NULL, false);
	}

	/* where the next reused pages find generation numbers to recycle */
	rdb_gen_publish_recyclable(rel);

	vac_update_relstats(rel, vac.rel_pages, new_live_tuples, 0,
						vac.nindexes > 0, vac.NewRelfrozenXid,
						vac.NewRelminMxid, &frozenxid_updated,
						&minmulti_updated, false);

	pgstat_report_vacuum(RelationGetRelid(rel), rel->rd_rel->relisshared,
						 Max(new_live_tuples, 0),
						 vac.recently_dead_tuples + vac.missed_dead_tuples);
	pgstat_progress_end_command();

	vac_report(&vac, params, verbose, starttime, &ru0, &bufstart, &walstart,
			   old_frozenxid, old_minmxid, frozenxid_updated,
			   minmulti_updated);

	for (i = 0; i < vac.nindexes; i++)
		if (vac.indstats[i])
			pfree(vac.indstats[i]);
	vac_close_indexes(vac.nindexes, vac.indrels, NoLock);
	pfree(vac.indstats);
}
