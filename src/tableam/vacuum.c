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
 *	   A page whose cleanup lock is busy (a cursor sits on it) is only
 *	   inspected, unless the vacuum is aggressive, which waits.
 *	2. index pass: index_bulk_delete removes entries pointing to those TIDs.
 *	3. second heap pass: the LP_DEAD items become LP_UNUSED (reusable), and
 *	   the free space is recorded in the free space map.
 *	   Without indexes, pass 1 marks the items unused directly.
 *	4. index cleanup, truncation of empty tail pages (with a conditional
 *	   AccessExclusiveLock, like heap), pg_class and pgstat updates.
 *
 * Progress is reported through pg_stat_progress_vacuum.
 *
 * Memory: the dead-TID array is sized by maintenance_work_mem (or
 * autovacuum_work_mem); when it fills, passes 2 and 3 run early.
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
#include "commands/dbcommands.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "rustydb/rustydb.h"
#include "rustydb/events.h"
#include "rustydb/l0.h"
#include "rustydb/xlog.h"

/* heap's truncation thresholds */
#define REL_TRUNCATE_MINIMUM	1000
#define REL_TRUNCATE_FRACTION	16

typedef struct RdbVacState
{
	Relation	rel;
	Relation   *indrels;
	int			nindexes;
	BufferAccessStrategy bstrategy;
	bool		aggressive;
	bool		do_index_cleanup;
	int			elevel;

	TransactionId OldestXmin;
	TransactionId FreezeLimit;
	MultiXactId MultiXactCutoff;
	TransactionId NewRelfrozenXid;
	MultiXactId NewRelminMxid;

	/* dead TIDs awaiting index cleanup, in TID order */
	ItemPointerData *dead;
	int			ndead;
	int			maxdead;

	IndexBulkDeleteResult **indstats;

	BlockNumber rel_pages;
	BlockNumber scanned_pages;
	BlockNumber nonempty_pages; /* 1 + last page with a row left */
	BlockNumber pages_removed;
	BlockNumber cleanup_skipped;	/* pages we could only inspect */
	int			num_index_scans;

	int64		tuples_deleted;
	int64		live_tuples;
	int64		recently_dead_tuples;
	int64		frozen_tuples;
	int64		lpdead_removed;
} RdbVacState;

/* index_bulk_delete callback: is this TID one of ours to remove? */
static bool
vac_tid_reaped(ItemPointer itemptr, void *state)
{
	RdbVacState *vac = (RdbVacState *) state;
	int			lo = 0;
	int			hi = vac->ndead - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			cmp = ItemPointerCompare(itemptr, &vac->dead[mid]);

		if (cmp == 0)
			return true;
		if (cmp < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return false;
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
 * Prune and freeze one page under a cleanup lock.  Appends the TIDs of the
 * page's LP_DEAD items to vac->dead (unless they could be freed at once).
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

		tup.t_data = (HeapTupleHeader) PageGetItem(page, lp);
		tup.t_len = ItemIdGetLength(lp);
		tup.t_tableOid = RelationGetRelid(rel);
		ItemPointerSet(&tup.t_self, blkno, off);

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
			ItemPointerSet(&vac->dead[vac->ndead], blkno, off);
			vac->ndead++;
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
}

/*
 * A page we could not cleanup-lock: count its rows, collect LP_DEAD items,
 * and keep relfrozenxid honest about the xids left on it.
 */
static void
vac_inspect_page(RdbVacState *vac, Buffer buf, BlockNumber blkno)
{
	Page		page = BufferGetPage(buf);
	OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
	OffsetNumber off;

	for (off = FirstOffsetNumber; off <= maxoff; off++)
	{
		ItemId		lp = PageGetItemId(page, off);
		HeapTupleHeader htup;

		if (ItemIdIsDead(lp))
		{
			ItemPointerSet(&vac->dead[vac->ndead], blkno, off);
			vac->ndead++;
			continue;
		}
		if (!ItemIdIsNormal(lp))
			continue;
		htup = (HeapTupleHeader) PageGetItem(page, lp);
		heap_tuple_would_freeze(htup, vac->FreezeLimit, vac->MultiXactCutoff,
								&vac->NewRelfrozenXid, &vac->NewRelminMxid);
		vac->live_tuples++;
		vac->nonempty_pages = blkno + 1;
	}
	vac->cleanup_skipped++;
}

/*
 * Passes 2 and 3: remove index entries of the collected TIDs, then make
 * their line pointers reusable.
 */
static void
vac_dead_items(RdbVacState *vac)
{
	int			i;
	int			start;

	if (vac->ndead == 0)
		return;

	if (!vac->do_index_cleanup)
	{
		/* INDEX_CLEANUP off: the items stay LP_DEAD until a later vacuum */
		vac->ndead = 0;
		return;
	}

	pgstat_progress_update_param(PROGRESS_VACUUM_PHASE,
								 PROGRESS_VACUUM_PHASE_VACUUM_INDEX);
	for (i = 0; i < vac->nindexes; i++)
	{
		IndexVacuumInfo ivinfo;

		ivinfo.index = vac->indrels[i];
		ivinfo.analyze_only = false;
		ivinfo.report_progress = false;
		ivinfo.estimated_count = true;
		ivinfo.message_level = vac->elevel;
		ivinfo.num_heap_tuples = vac->rel->rd_rel->reltuples;
		ivinfo.strategy = vac->bstrategy;
		vac->indstats[i] = index_bulk_delete(&ivinfo, vac->indstats[i],
											 vac_tid_reaped, (void *) vac);
	}
	vac->num_index_scans++;
	pgstat_progress_update_param(PROGRESS_VACUUM_NUM_INDEX_VACUUMS,
								 vac->num_index_scans);

	pgstat_progress_update_param(PROGRESS_VACUUM_PHASE,
								 PROGRESS_VACUUM_PHASE_VACUUM_HEAP);
	start = 0;
	while (start < vac->ndead)
	{
		BlockNumber blkno = ItemPointerGetBlockNumber(&vac->dead[start]);
		OffsetNumber unused[MaxHeapTuplesPerPage];
		int			nunused = 0;
		int			end;
		Buffer		buf;
		Page		page;

		vacuum_delay_point();

		for (end = start; end < vac->ndead &&
			 ItemPointerGetBlockNumber(&vac->dead[end]) == blkno; end++)
			unused[nunused++] = ItemPointerGetOffsetNumber(&vac->dead[end]);

		buf = rdb_read_buffer(vac->rel, blkno, vac->bstrategy);
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

		RecordPageWithFreeSpace(vac->rel, blkno, PageGetHeapFreeSpace(page));
		UnlockReleaseBuffer(buf);

		vac->lpdead_removed += nunused;
		pgstat_progress_update_param(PROGRESS_VACUUM_HEAP_BLKS_VACUUMED, blkno);
		start = end;
	}
	vac->ndead = 0;
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
		if (!rdb_l0_page_is_l0(page))
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

void
rdb_am_relation_vacuum(Relation rel, VacuumParams *params,
					   BufferAccessStrategy bstrategy)
{
	RdbVacState vac;
	MultiXactId OldestMxact;
	BlockNumber blkno;
	int			i;
	double		new_rel_tuples;
	bool		frozenxid_updated;
	bool		minmulti_updated;
	long		maxbytes;
	const int	progress_index[] = {PROGRESS_VACUUM_TOTAL_HEAP_BLKS,
	PROGRESS_VACUUM_MAX_DEAD_TUPLES};
	int64		progress_val[2];

	rdb_check_preloaded();
	rdb_meta_check(rel);

	memset(&vac, 0, sizeof(vac));
	vac.rel = rel;
	vac.bstrategy = bstrategy;
	vac.elevel = (params->options & VACOPT_VERBOSE) ? INFO : DEBUG2;

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
	vac.do_index_cleanup = vac.nindexes > 0 &&
		params->index_cleanup != VACOPTVALUE_DISABLED;
	vac.indstats = palloc0(sizeof(IndexBulkDeleteResult *) * Max(vac.nindexes, 1));

	vac.rel_pages = RelationGetNumberOfBlocks(rel);
	vac.nonempty_pages = RDB_FIRST_DATA_BLKNO;

	/* the dead-TID array, bounded by (autovacuum_)maintenance_work_mem */
	maxbytes = (IsAutoVacuumWorkerProcess() && autovacuum_work_mem != -1 ?
				autovacuum_work_mem : maintenance_work_mem) * 1024L;
	vac.maxdead = Max(MaxHeapTuplesPerPage,
					  Min(maxbytes / (long) sizeof(ItemPointerData),
						  (long) (MaxAllocSize / sizeof(ItemPointerData))));
	vac.maxdead = Min((BlockNumber) vac.maxdead,
					  Max(vac.rel_pages, 1) * MaxHeapTuplesPerPage);
	vac.dead = palloc(vac.maxdead * sizeof(ItemPointerData));

	ereport(vac.elevel,
			(errmsg("vacuuming \"%s.%s.%s\"",
					get_database_name(MyDatabaseId),
					get_namespace_name(RelationGetNamespace(rel)),
					RelationGetRelationName(rel))));

	progress_val[0] = vac.rel_pages;
	progress_val[1] = vac.maxdead;
	pgstat_progress_update_multi_param(2, progress_index, progress_val);
	pgstat_progress_update_param(PROGRESS_VACUUM_PHASE,
								 PROGRESS_VACUUM_PHASE_SCAN_HEAP);

	for (blkno = RDB_FIRST_DATA_BLKNO; blkno < vac.rel_pages; blkno++)
	{
		Buffer		buf;
		Page		page;

		vacuum_delay_point();

		/* room for a whole page of dead TIDs? else empty the array first */
		if (vac.maxdead - vac.ndead < MaxHeapTuplesPerPage)
		{
			vac_dead_items(&vac);
			pgstat_progress_update_param(PROGRESS_VACUUM_PHASE,
										 PROGRESS_VACUUM_PHASE_SCAN_HEAP);
		}

		buf = rdb_read_buffer(rel, blkno, bstrategy);
		if (!ConditionalLockBufferForCleanup(buf))
		{
			if (vac.aggressive)
				LockBufferForCleanup(buf);
			else
			{
				LockBuffer(buf, BUFFER_LOCK_SHARE);
				page = BufferGetPage(buf);
				rdb_l0_page_check(rel, buf);
				if (rdb_l0_page_is_l0(page) &&
					RdbPageGetOpaque(page)->generation == blkno)
					vac_inspect_page(&vac, buf, blkno);
				UnlockReleaseBuffer(buf);
				vac.scanned_pages++;
				pgstat_progress_update_param(PROGRESS_VACUUM_HEAP_BLKS_SCANNED,
											 blkno + 1);
				continue;
			}
		}

		page = BufferGetPage(buf);
		rdb_l0_page_check(rel, buf);
		if (PageIsNew(page))
		{
			/* left zeroed by a crash during extension: free for reuse */
			UnlockReleaseBuffer(buf);
			RecordPageWithFreeSpace(rel, blkno, RDB_MAX_TUPLE_SIZE);
		}
		else if (rdb_l0_page_is_l0(page) &&
				 RdbPageGetOpaque(page)->generation == blkno)
		{
			int			ndead_before = vac.ndead;
			Size		freespace;

			vac_prune_page(&vac, buf, blkno);
			freespace = PageGetHeapFreeSpace(page);
			UnlockReleaseBuffer(buf);
			/* pages with dead items get their FSM entry in the second pass */
			if (vac.ndead == ndead_before)
				RecordPageWithFreeSpace(rel, blkno, freespace);
		}
		else
			UnlockReleaseBuffer(buf);

		vac.scanned_pages++;
		pgstat_progress_update_param(PROGRESS_VACUUM_HEAP_BLKS_SCANNED,
									 blkno + 1);
	}

	vac_dead_items(&vac);

	/* index cleanup: lets index AMs recycle pages and report their sizes */
	new_rel_tuples = (double) (vac.live_tuples + vac.recently_dead_tuples);
	pgstat_progress_update_param(PROGRESS_VACUUM_PHASE,
								 PROGRESS_VACUUM_PHASE_INDEX_CLEANUP);
	for (i = 0; i < vac.nindexes; i++)
	{
		IndexVacuumInfo ivinfo;
		IndexBulkDeleteResult *stats;

		if (params->index_cleanup == VACOPTVALUE_DISABLED)
			break;
		ivinfo.index = vac.indrels[i];
		ivinfo.analyze_only = false;
		ivinfo.report_progress = false;
		ivinfo.estimated_count = (vac.cleanup_skipped > 0);
		ivinfo.message_level = vac.elevel;
		ivinfo.num_heap_tuples = new_rel_tuples;
		ivinfo.strategy = bstrategy;
		stats = index_vacuum_cleanup(&ivinfo, vac.indstats[i]);
		if (stats && !stats->estimated_count)
			vac_update_relstats(vac.indrels[i], stats->num_pages,
								stats->num_index_tuples, 0, false,
								InvalidTransactionId, InvalidMultiXactId,
								NULL, NULL, false);
		if (stats)
			pfree(stats);
	}

	if (params->truncate != VACOPTVALUE_DISABLED)
		vac_truncate(&vac);

	pgstat_progress_update_param(PROGRESS_VACUUM_PHASE,
								 PROGRESS_VACUUM_PHASE_FINAL_CLEANUP);
	FreeSpaceMapVacuum(rel);

	vac_update_relstats(rel, vac.rel_pages, new_rel_tuples, 0,
						vac.nindexes > 0, vac.NewRelfrozenXid,
						vac.NewRelminMxid, &frozenxid_updated,
						&minmulti_updated, false);

	pgstat_report_vacuum(RelationGetRelid(rel), rel->rd_rel->relisshared,
						 Max(vac.live_tuples, 0), vac.recently_dead_tuples);

	ereport(vac.elevel,
			(errmsg("table \"%s\": removed %lld dead row versions, %lld line pointers freed, %lld rows frozen",
					RelationGetRelationName(rel),
					(long long) vac.tuples_deleted,
					(long long) vac.lpdead_removed,
					(long long) vac.frozen_tuples),
			 errdetail("%u pages scanned (%u only inspected: in use by others), %u pages truncated, %d index scans; %lld live rows, %lld dead rows not yet removable; new relfrozenxid %u.",
					   vac.scanned_pages, vac.cleanup_skipped,
					   vac.pages_removed, vac.num_index_scans,
					   (long long) vac.live_tuples,
					   (long long) vac.recently_dead_tuples,
					   vac.NewRelfrozenXid)));

	pgstat_progress_end_command();
	vac_close_indexes(vac.nindexes, vac.indrels, NoLock);
	pfree(vac.dead);
	pfree(vac.indstats);
}
