/*-------------------------------------------------------------------------
 *
 * scan.c
 *	  Scans of L0: sequential (serial, parallel, TID-range), bitmap,
 *	  TABLESAMPLE, ANALYZE sampling, and the index build/validate scans.
 *
 * Every scan walks pages in block order and, within a page, line pointers
 * in offset order, so scan order is row-number order (which CREATE INDEX
 * CONCURRENTLY's validation merge and TID-range scans rely on).
 *
 * With an MVCC snapshot a page is read "page at a time": under a share lock
 * we collect the offsets of the tuples visible to the snapshot, then drop
 * the lock and return tuples from the pinned buffer
 * (BufferHeapTupleTableSlot).  The pin keeps the tuples in place: VACUUM
 * needs a cleanup lock to move them.
 *
 * Any other snapshot (SnapshotDirty, SnapshotSelf, SnapshotAny, ...) and
 * scans whose caller disallows page mode are read "tuple at a time", as heap
 * does (heap_beginscan clears SO_ALLOW_PAGEMODE for them): the visibility of
 * each tuple is decided, under a share lock, only when the scan moves to it.
 * HeapTupleSatisfiesDirty reports the inserting/deleting transaction in
 * snapshot->xmin/xmax, and its callers (the logical replication apply
 * worker's RelationFindReplTupleSeq, for one) read them right after each
 * tuple is returned: page mode would leave there the values of the page's
 * last tuple instead.  Bitmap scans stay page-at-a-time, as in heap.
 *
 * Scans walk *units* in TID order (scan_unit_gen): blocks while the table
 * has no generation directory, generations once pages were retired
 * (gendir.h): the first-time ones, then the remapped ones, each resolved
 * through a copy of its directory leaf.  Rows never change generation, so a
 * scan sees each row once while flush and VACUUM retire pages and writers
 * revive them; a retired generation is read as the page of frozen stubs
 * its entry describes (rdb_gen_build_page), or handed to the columnar scan
 * whole (rdb_scan_next_chunk).  Block 0 is the metapage and yields no rows,
 * nor do stripe and directory pages.
 *
 * Parallel seq scans hand out units with PostgreSQL's block-based helpers
 * (table_block_parallelscan_*); what the units are is fixed by the leader
 * in RdbParallelScanDesc.  ANALYZE is handed physical blocks and meets
 * retired generations on their directory leaves.
 *
 * Memory: the scan descriptor is palloc'd in the caller's context (the
 * executor's per-query context) and freed in scan_end.
 *
 * IDENTIFICATION
 *	  src/tableam/scan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/relscan.h"
#include "access/tableam.h"
#include "access/tsmapi.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/tidbitmap.h"
#include "pgstat.h"
#include "port/pg_bitutils.h"
#include "storage/bufmgr.h"
#include "storage/predicate.h"
#include "storage/procarray.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/tuplesort.h"

#include "catalog/pg_am.h"

#include "rustydb/rustydb.h"
#include "rustydb/events.h"
#include "rustydb/gendir.h"
#include "rustydb/l0.h"
#include "rustydb/stripe.h"

typedef struct RdbScanDescData
{
	TableScanDescData base;

	BlockNumber nblocks;		/* relation size when the scan started */
	BlockNumber startblock;		/* first block to scan */
	BlockNumber numblocks;		/* number of blocks to scan */
	BufferAccessStrategy strategy;

	bool		inited;			/* is cblock/cbuf valid? */
	BlockNumber cblock;			/* current block */
	Buffer		cbuf;			/* pinned current buffer, or InvalidBuffer */

	/*
	 * Units (see scan_unit_gen): with a generation directory (gmode) the
	 * scan walks generations in TID order: nfirst first-time ones, then the
	 * remapped ones below gen_end, nunits in all; without one, blocks.
	 */
	bool		gmode;
	uint32		nfirst;
	uint32		gen_end;
	BlockNumber nunits;
	BlockNumber cunit;			/* current unit */
	uint32		cgen;			/* generation of the current page's rows */

	/*
	 * A retired generation's page is built into vpage (cvirtual).  ANALYZE,
	 * which is handed physical blocks, meets retired generations on the
	 * directory leaf that holds them (cleaf) and steps through its entries
	 * (centry).
	 */
	bool		cvirtual;
	bool		cleaf;
	int			centry;
	char	   *vpage;

	/*
	 * The pages of the last stripe met, [void_lo, void_hi): hold no rows
	 * (scan_note_stripe), passed over unread.
	 */
	BlockNumber void_lo;
	BlockNumber void_hi;

	/*
	 * The columnar scan takes retired generations whole (want_runs): then
	 * opening one does not build its page but leaves its entry in crun.
	 */
	bool		want_runs;
	bool		crun_pending;
	RdbGenEntry crun;

	/*
	 * ... and the run it asks for (rdb_scan_next_chunk), whose skip callback
	 * passes over retired generations before they are handed out
	 * (scan_skip_retired); their live rows are added to run->nskipped.
	 */
	RdbScanRun *run;

	/* gmode: a copy of the directory leaf of the generations being read */
	RdbGenEntry *lc;
	uint32		lc_base;
	bool		lc_valid;
	bool		lc_exists;

	/*
	 * ... and of the summaries of its root's leaf groups (gendir.h), for
	 * the columnar scan's skipping: sc_base is the root's first generation.
	 */
	RdbGenSummary *sc;
	uint32		sc_base;
	bool		sc_valid;
	bool		sc_exists;

	/* ... and the directory's own blocks, sorted (scan_directory_run) */
	BlockNumber *dirblocks;
	int			ndirblocks;
	bool		dir_valid;

	/* ... and the metapage's free extents (scan_free_extent_end) */
	RdbFreeExtent *extents;
	int			nextents;
	bool		ext_valid;

	int			cindex;			/* index into vistuples of current tuple */
	OffsetNumber coff;			/* tuple mode: current offset, or Invalid */
	int			ntuples;		/* number of visible tuples on the page */
	OffsetNumber vistuples[MaxHeapTuplesPerPage];
	HeapTupleData ctup;			/* current tuple */

	/* TID range scans: the bounds */
	ItemPointerData mintid;
	ItemPointerData maxtid;

	/* parallel scans: this worker's chunk state */
	ParallelBlockTableScanWorkerData *pworker;

	/* ANALYZE: next offset to look at on the locked page */
	OffsetNumber analyze_off;
	/* ... and the live rows met, and how many of them were flushed */
	double		analyze_live;
	double		analyze_flushed;

	/* the current run of consecutive blocks that missed shared_buffers */
	BlockNumber run_next;		/* block that would continue the run */
	int			run_pages;
	uint64		run_us;
} RdbScanDescData;

typedef RdbScanDescData *RdbScanDesc;

/*
 * The shared state of a parallel scan: PostgreSQL's block hand-out, over
 * units, and what the units are (scan_unit_gen), fixed by the leader.
 */
typedef struct RdbParallelScanDescData
{
	ParallelBlockTableScanDescData pb;
	bool		gmode;
	uint32		nfirst;
	uint32		gen_end;
} RdbParallelScanDescData;

typedef RdbParallelScanDescData *RdbParallelScanDesc;

/*
 * What a scan's units are beyond its blocks (see scan_unit_gen), from the
 * metapage as it is now: whether the relation has a generation directory,
 * and the end of the remapped generations.
 */
static void
scan_units_now(Relation rel, bool *gmode, uint32 *gen_end)
{
	uint32		next;

	*gmode = rdb_meta_gendir(rel, &next);
	*gen_end = *gmode ? next : RDB_FIRST_REMAPPED_GENERATION;
}

Size
rdb_am_parallelscan_estimate(Relation rel)
{
	return sizeof(RdbParallelScanDescData);
}

Size
rdb_am_parallelscan_initialize(Relation rel, ParallelTableScanDesc pscan)
{
	RdbParallelScanDesc p = (RdbParallelScanDesc) pscan;

	(void) table_block_parallelscan_initialize(rel, pscan);
	p->nfirst = p->pb.phs_nblocks;
	scan_units_now(rel, &p->gmode, &p->gen_end);
	if (p->gmode)
	{
		p->pb.phs_nblocks = p->nfirst + (p->gen_end - RDB_FIRST_REMAPPED_GENERATION);
		/* units are not blocks: other scans' positions mean nothing here */
		p->pb.base.phs_syncscan = false;
	}
	return sizeof(RdbParallelScanDescData);
}

/*
 * rdb_scan_nblocks
 *		The relation size the scan saw when it started (tuple_tid_valid).
 */
BlockNumber
rdb_scan_nblocks(TableScanDesc sscan)
{
	return ((RdbScanDesc) sscan)->nblocks;
}

/* ------------------------------------------------------------------------
 * Page loading
 * ------------------------------------------------------------------------
 */

/* report a finished run of two or more missed blocks as a VectoredRead */
static void
scan_end_read_run(RdbScanDesc scan)
{
	if (scan->run_pages >= 2)
		rdb_emit_vectored_read(scan->base.rs_rd, scan->run_pages, scan->run_us);
	scan->run_pages = 0;
	scan->run_us = 0;
}

/* account one block read of a sequential scan */
static void
scan_note_read(RdbScanDesc scan, BlockNumber blkno, int64 miss_us)
{
	if (miss_us < 0 || (scan->run_pages > 0 && blkno != scan->run_next))
		scan_end_read_run(scan);
	if (miss_us >= 0)
	{
		scan->run_pages++;
		scan->run_us += miss_us;
		scan->run_next = blkno + 1;
	}
}

/* the page the scan is on: its buffer's, or a retired generation's built page */
static inline Page
scan_cpage(RdbScanDesc scan)
{
	return scan->cvirtual ? (Page) scan->vpage : BufferGetPage(scan->cbuf);
}

/* does the scan have a page at all (a unit may have none) */
static inline bool
scan_has_page(RdbScanDesc scan)
{
	return scan->cvirtual || BufferIsValid(scan->cbuf);
}

/* the buffer to hand visibility routines (none for a built page) */
static inline Buffer
scan_vbuf(RdbScanDesc scan)
{
	return scan->cvirtual ? InvalidBuffer : scan->cbuf;
}

/*
 * Units.  A scan walks *units*: without a generation directory a unit is a
 * block (and a generation); with one (some page was retired, gendir.h) unit
 * u is generation u for u < nfirst (the first-time generations: the blocks
 * when the scan started) and generation 2^31 + (u - nfirst) after that (the
 * remapped ones given so far).  So units go in TID order, and each
 * generation is visited exactly once even while flush or VACUUM retire
 * pages and writers revive them: rows never change generation.
 */
static BlockNumber scan_end_block(RdbScanDesc scan);
static void scan_note_stripe(RdbScanDesc scan, BlockNumber first,
							 uint32 nblocks, BlockNumber stripe);

static inline uint32
scan_unit_gen(RdbScanDesc scan, BlockNumber unit)
{
	if (!scan->gmode || unit < scan->nfirst)
		return unit;
	return RDB_FIRST_REMAPPED_GENERATION + (unit - scan->nfirst);
}

/* the first unit whose generation is >= gen */
static BlockNumber
scan_gen_unit_lo(RdbScanDesc scan, uint32 gen)
{
	if (!scan->gmode)
		return Min(gen, scan->nunits);
	if (gen < RDB_FIRST_REMAPPED_GENERATION)
		return Min(gen, scan->nfirst);
	return Min((uint64) scan->nfirst + (gen - RDB_FIRST_REMAPPED_GENERATION),
			   (uint64) scan->nunits);
}

/* one past the last unit whose generation is <= gen */
static BlockNumber
scan_gen_unit_hi(RdbScanDesc scan, uint32 gen)
{
	if (!scan->gmode)
		return Min((uint64) gen + 1, (uint64) scan->nunits);
	if (gen < RDB_FIRST_REMAPPED_GENERATION)
		return Min(gen + 1, scan->nfirst);
	return Min((uint64) scan->nfirst + (gen - RDB_FIRST_REMAPPED_GENERATION) + 1,
			   (uint64) scan->nunits);
}

/* restrict a serial scan to units [start, start + num) */
static void
scan_set_limits(RdbScanDesc scan, BlockNumber start, BlockNumber num)
{
	scan->startblock = Max(start, RDB_FIRST_DATA_BLKNO);
	if (num != InvalidBlockNumber && start < RDB_FIRST_DATA_BLKNO)
		num = (num > RDB_FIRST_DATA_BLKNO - start) ?
			num - (RDB_FIRST_DATA_BLKNO - start) : 0;
	scan->numblocks = num;
}

/* restrict a serial scan to the generations lo .. hi (inclusive) */
static void
scan_set_gen_limits(RdbScanDesc scan, uint32 lo, uint32 hi)
{
	BlockNumber ulo = scan_gen_unit_lo(scan, lo);
	BlockNumber uhi = scan_gen_unit_hi(scan, hi);

	scan_set_limits(scan, ulo, uhi > ulo ? uhi - ulo : 0);
}

/*
 * Point tup at the row at offset off of the current page (the generation's
 * TID); false if the line pointer holds no row.
 */
static inline bool
scan_item(RdbScanDesc scan, Page page, OffsetNumber off, HeapTuple tup)
{
	ItemId		lp = PageGetItemId(page, off);

	if (!ItemIdIsNormal(lp))
		return false;
	tup->t_data = (HeapTupleHeader) PageGetItem(page, lp);
	tup->t_len = ItemIdGetLength(lp);
	tup->t_tableOid = RelationGetRelid(scan->base.rs_rd);
	ItemPointerSet(&tup->t_self, scan->cgen, off);
	return true;
}

/*
 * Collect into vistuples the offsets of the current page (locked if it is a
 * buffer's) that the scan's snapshot sees; with offsets (bitmap scans,
 * exact pages) only those.
 */
static void
scan_collect_visible(RdbScanDesc scan, OffsetNumber *offsets, int noffsets)
{
	Relation	rel = scan->base.rs_rd;
	Snapshot	snapshot = scan->base.rs_snapshot;
	Page		page;
	Buffer		vbuf = scan_vbuf(scan);
	int			ntup = 0;
	OffsetNumber maxoff;
	int			i;
	int			n;
	bool		all_visible;

	scan->ntuples = 0;
	if (!scan_has_page(scan))
		return;
	page = scan_cpage(scan);
	if (!rdb_l0_page_is_l0(page))
		return;

	/*
	 * On a page VACUUM marked all-visible every row is visible to every
	 * MVCC snapshot: skip the per-row checks, as heapgetpage does.  Not on a
	 * hot standby: the flag may be replayed before the snapshot would see
	 * the rows' inserters as committed.  (A retired generation's built page
	 * is all-visible: its rows are frozen.)
	 */
	all_visible = snapshot != NULL &&
		IsMVCCSnapshot(snapshot) &&
		PageIsAllVisible(page) &&
		!snapshot->takenDuringRecovery;

	maxoff = PageGetMaxOffsetNumber(page);
	n = offsets ? noffsets : maxoff;
	for (i = 0; i < n; i++)
	{
		OffsetNumber off = offsets ? offsets[i] : (OffsetNumber) (i + 1);
		HeapTupleData tup;
		bool		valid;

		if (off < FirstOffsetNumber || off > maxoff ||
			!scan_item(scan, page, off, &tup))
			continue;

		if (snapshot == NULL || all_visible)
			valid = true;	/* (snapshot NULL: ANALYZE-style raw access) */
		else
			valid = HeapTupleSatisfiesVisibility(&tup, snapshot, vbuf);
		if (snapshot != NULL)
		{
			if (valid && (scan->base.rs_flags & SO_TYPE_BITMAPSCAN))
				PredicateLockTID(rel, &tup.t_self, snapshot,
								 HeapTupleHeaderGetXmin(tup.t_data));
			HeapCheckForSerializableConflictOut(valid, rel, &tup, vbuf,
												snapshot);
		}
		if (valid)
			scan->vistuples[ntup++] = off;
	}
	scan->ntuples = ntup;
}

/* make the built page of retired entry e (generation gen) the current page */
static void
scan_set_retired(RdbScanDesc scan, uint32 gen, const RdbGenEntry *e)
{
	if (scan->vpage == NULL)
		scan->vpage = MemoryContextAlloc(GetMemoryChunkContext(scan), BLCKSZ);
	rdb_gen_build_page((Page) scan->vpage, gen, e);
	scan->cvirtual = true;
	scan->cgen = gen;
}

/* drop the current page */
static void
scan_drop_page(RdbScanDesc scan)
{
	if (BufferIsValid(scan->cbuf))
		ReleaseBuffer(scan->cbuf);
	scan->cbuf = InvalidBuffer;
	scan->cblock = InvalidBlockNumber;
	scan->cvirtual = false;
	scan->cleaf = false;
	scan->centry = -1;
	scan->ntuples = 0;
	scan->crun_pending = false;
}

/* gmode: generation gen's entry as the scan's copy of its leaf has it */
static const RdbGenEntry *
scan_cached_entry(RdbScanDesc scan, uint32 gen)
{
	static const RdbGenEntry none = {0};
	uint32		base = gen - (gen & ~RDB_FIRST_REMAPPED_GENERATION) % RDB_GENDIR_PER_LEAF;

	if (!scan->lc_valid || scan->lc_base != base)
	{
		if (scan->lc == NULL)
			scan->lc = MemoryContextAlloc(GetMemoryChunkContext(scan),
										  sizeof(RdbGenEntry) * RDB_GENDIR_PER_LEAF);
		scan->lc_exists = rdb_gen_copy_leaf(scan->base.rs_rd, gen, scan->lc);
		scan->lc_base = base;
		scan->lc_valid = true;
	}
	return scan->lc_exists ? &scan->lc[gen - base] : &none;
}

/* the stripe rows retired entry e spans, first .. last; false if none */
static inline bool
scan_retired_span(const RdbGenEntry *e, uint32 *first, uint32 *last)
{
	uint64		nflushed = pg_popcount((const char *) e->flushed,
									   (e->maxoff - 1) / 8 + 1);

	/*
	 * The span may be wider than the live rows' (dead rows at either end,
	 * flushed offsets past maxoff in the last byte): only ever too wide, so
	 * a skip is never wrong.
	 */
	if (nflushed == 0)
		return false;
	*first = e->first;
	*last = e->first + (uint32) nflushed - 1;
	return true;
}

/*
 * scan_skip_retired
 *		The columnar scan's skip callback says whether retired entry ce
 *		(generation gen, the scan's current unit) is wanted at all; if not,
 *		it is passed over here, and the scan goes on with the next unit
 *		without handing anything out.
 *
 *		A serial forward scan first asks once for the span of ce and the
 *		retired entries after it in the cached leaf (the same stripe, rows
 *		ascending, as flush and compaction write them): within a skipped
 *		chunk group that passes over up to a leaf's worth of generations at
 *		once instead of one at a time.  Units and generations advance
 *		together within a leaf (scan_unit_gen), up to the end of the
 *		first-time generations and the scan's end.
 */
static bool
scan_skip_retired(RdbScanDesc scan, BlockNumber unit, uint32 gen,
				  const RdbGenEntry *ce)
{
	RdbScanRun *run = scan->run;
	uint32		first;
	uint32		last;
	int			idx = (int) (gen - scan->lc_base);
	int			j;

	if (!scan_retired_span(ce, &first, &last))
		return false;

	if (scan->base.rs_parallel == NULL)
	{
		BlockNumber limit = scan_end_block(scan);
		uint32		hi = last;
		int			nlive = ce->nlive;
		int			upto = idx;
		uint32		prev = first;

		if (unit < scan->nfirst)
			limit = Min(limit, scan->nfirst);

		/*
		 * Without counting each entry's flushed rows: an entry's live rows
		 * lie below first plus the bits of its bitmap up to maxoff (its
		 * highest live offset), which bounds the span from above (too wide
		 * only).
		 */
		for (j = idx + 1; j < RDB_GENDIR_PER_LEAF; j++)
		{
			const RdbGenEntry *e = &scan->lc[j];

			if ((uint64) unit + (j - idx) >= limit ||
				e->phys != RDB_GEN_RETIRED || e->stripe != ce->stripe ||
				e->first <= prev)
				break;
			prev = e->first;
			if (e->maxoff > 0)
				hi = Max(hi, e->first + ((e->maxoff - 1) / 8 + 1) * 8 - 1);
			nlive += e->nlive;
			upto = j;
		}
		if (upto > idx &&
			run->skip(run->skip_arg, ce->stripe, first, hi))
		{
			run->nskipped += nlive;
			run->ngens_skipped += upto - idx + 1;
			run->nskip_steps++;
			if (pgstat_should_count_relation(scan->base.rs_rd))
				scan->base.rs_rd->pgstat_info->t_counts.t_tuples_returned += nlive;
			scan->cunit = unit + (upto - idx);
			scan->cgen = gen + (upto - idx);
			return true;
		}
	}

	if (!run->skip(run->skip_arg, ce->stripe, first, last))
		return false;
	run->nskipped += ce->nlive;
	run->ngens_skipped++;
	run->nskip_steps++;
	if (pgstat_should_count_relation(scan->base.rs_rd))
		scan->base.rs_rd->pgstat_info->t_counts.t_tuples_returned += ce->nlive;
	return true;
}

/*
 * scan_directory_run
 *		If block blk is a page of the generation directory, one past the
 *		last of the directory pages that follow it without a gap; else blk.
 *		The directory's blocks are listed once per scan (metapage and
 *		roots), so that the directory's own pages are not read as units.
 */
static BlockNumber
scan_directory_run(RdbScanDesc scan, BlockNumber blk)
{
	int			lo = 0;
	int			hi;

	if (!scan->dir_valid)
	{
		scan->ndirblocks = rdb_gen_directory_blocks(scan->base.rs_rd,
													GetMemoryChunkContext(scan),
													&scan->dirblocks);
		scan->dir_valid = true;
	}
	hi = scan->ndirblocks;
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (scan->dirblocks[mid] < blk)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= scan->ndirblocks || scan->dirblocks[lo] != blk)
		return blk;
	while (lo + 1 < scan->ndirblocks && scan->dirblocks[lo + 1] == blk + 1)
	{
		lo++;
		blk++;
	}
	return blk + 1;
}

/*
 * scan_free_extent_end
 *		If block blk lies in one of the free extents the metapage listed
 *		when the scan first asked (read once per scan), the block after
 *		that extent; else blk.
 *
 *		An extent's blocks are pages of a stripe that nothing refers to
 *		(or one whose give-back rolled back), of a stripe written there
 *		since, or reused L0 pages, which belong to remapped generations
 *		(rdb_meta_take_l0_page): never the page of their own first-time
 *		generation.  A block that held one before a stripe took it was a
 *		retired generation's FREE page, whose rows the directory holds
 *		(its entry is not RDB_GEN_NONE).  So, as with a stripe's pages
 *		(scan_note_stripe), a first-time generation whose entry is none
 *		has no rows at such a block -- then, and later: a block leaves the
 *		extent list only to become one of those pages, so the list stays
 *		good across rescans.  Passing over an extent unread spares reading
 *		the first and last page of every stripe compaction gave back.
 */
static BlockNumber
scan_free_extent_end(RdbScanDesc scan, BlockNumber blk)
{
	if (!scan->ext_valid)
	{
		RdbFreeExtent ext[RDB_META_MAX_FREE_EXTENTS];
		int			n = rdb_meta_free_extents(scan->base.rs_rd, ext);

		if (n > 0)
		{
			scan->extents = MemoryContextAlloc(GetMemoryChunkContext(scan),
											   n * sizeof(RdbFreeExtent));
			memcpy(scan->extents, ext, n * sizeof(RdbFreeExtent));
		}
		scan->nextents = n;
		scan->ext_valid = true;
	}
	/* as the views' and compaction's walks over the file do */
	return rdb_extent_skip(scan->extents, scan->nextents, blk);
}

/*
 * scan_skip_group
 *		A serial forward columnar scan at the start of a directory leaf
 *		group (gendir.h) asks the group's summary first: when every one of
 *		its generations is retired into one stripe and the skip callback
 *		excludes their span, the whole group is passed over without its
 *		leaves being read.  (The scan's copy of the summaries is as safe as
 *		its copy of a leaf: whatever changes a summarised entry clears the
 *		summary first and belongs to a transaction the snapshot does not
 *		see, and a stripe a copied summary names outlives the scan.)
 */
static bool
scan_skip_group(RdbScanDesc scan, BlockNumber unit, uint32 gen)
{
	RdbScanRun *run = scan->run;
	uint32		local = gen & ~RDB_FIRST_REMAPPED_GENERATION;
	uint32		inroot = local % (RDB_GENDIR_PER_ROOT * RDB_GENDIR_PER_LEAF);
	uint32		ingroup = local % RDB_GENDIR_PER_GROUP;
	uint32		root_base = gen - inroot;
	uint32		ngens = RDB_GENDIR_PER_GROUP - ingroup;
	BlockNumber limit = scan_end_block(scan);
	const RdbGenSummary *sum;

	/*
	 * From the group's first generation, or from block 1 in group 0 (block
	 * 0 is the metapage, no generation with rows), and only for a group
	 * that lies wholly within the scan.
	 */
	if (ingroup != 0 && !(gen == RDB_FIRST_DATA_BLKNO && local == gen))
		return false;
	if (unit < scan->nfirst)
		limit = Min(limit, scan->nfirst);
	if ((uint64) unit + ngens > limit)
		return false;

	if (!scan->sc_valid || scan->sc_base != root_base)
	{
		if (scan->sc == NULL)
			scan->sc = MemoryContextAlloc(GetMemoryChunkContext(scan),
										  sizeof(RdbGenSummary) * RDB_GENDIR_GROUPS_PER_ROOT);
		scan->sc_exists = rdb_gen_copy_summaries(scan->base.rs_rd, gen, scan->sc);
		scan->sc_base = root_base;
		scan->sc_valid = true;
	}
	if (!scan->sc_exists)
		return false;
	sum = &scan->sc[inroot / RDB_GENDIR_PER_GROUP];
	if (sum->stripe == RDB_GEN_SUMMARY_NONE)
		return false;
	if (sum->stripe != RDB_GEN_SUMMARY_EMPTY &&
		!run->skip(run->skip_arg, sum->stripe, sum->lo, sum->hi))
		return false;

	run->nskipped += sum->nlive;
	run->ngens_skipped += ngens;
	run->nskip_steps++;
	run->nskip_groups++;
	if (pgstat_should_count_relation(scan->base.rs_rd))
		scan->base.rs_rd->pgstat_info->t_counts.t_tuples_returned += sum->nlive;
	scan->cunit = unit + ngens - 1;
	scan->cgen = gen + ngens - 1;
	return true;
}

/*
 * Make unit the scan's current page: a pinned (unlocked) buffer, the built
 * page of a retired generation, or nothing (the unit's block holds no rows).
 */
static void
scan_open_unit(RdbScanDesc scan, BlockNumber unit)
{
	Relation	rel = scan->base.rs_rd;
	Snapshot	snapshot = scan->base.rs_snapshot;
	uint32		gen = scan_unit_gen(scan, unit);
	int64		miss_us;
	Buffer		buf;
	Page		page;
	RdbGenEntry e;
	bool		retired;
	bool		no_entry = false;

	CHECK_FOR_INTERRUPTS();
	scan_drop_page(scan);
	scan->cunit = unit;
	scan->cgen = gen;

	/*
	 * Without a directory, or for a generation the scan's copy of its leaf
	 * shows at a block: read that block; it is the generation's page unless
	 * it was retired or reused since, and then the directory says where the
	 * rows are now.  A non-MVCC snapshot always asks the directory afresh
	 * (it must see changes made after the copy).
	 */
	if (scan->gmode && snapshot != NULL && IsMVCCSnapshot(snapshot))
	{
		const RdbGenEntry *ce;

		if (scan->want_runs && scan->run != NULL && scan->run->skip != NULL &&
			scan->base.rs_parallel == NULL &&
			scan_skip_group(scan, unit, gen))
			return;
		ce = scan_cached_entry(scan, gen);

		if (ce->phys == RDB_GEN_RETIRED)
		{
			if (scan->want_runs && ce->nlive > 0 &&
				scan->run != NULL && scan->run->skip != NULL &&
				scan_skip_retired(scan, unit, gen, ce))
				return;
			if (scan->want_runs && ce->nlive > 0)
			{
				scan->crun = *ce;
				scan->crun_pending = true;
			}
			else
				scan_set_retired(scan, gen, ce);
			return;
		}
		if (ce->phys != RDB_GEN_NONE)
			unit = ce->phys;
		else if (gen >= scan->nfirst)
			unit = InvalidBlockNumber;
		else
			no_entry = true;
	}
	else if (scan->gmode)
		unit = InvalidBlockNumber;

	/* a page of a stripe met before: no generation lives there */
	if (BlockNumberIsValid(unit) && unit == gen &&
		unit > scan->void_lo && unit < scan->void_hi)
		return;

	/*
	 * A directory page (never anything else until the relfilenode goes):
	 * the columnar scan's serial forward walk passes over it, and the
	 * directory pages right after it, unread.
	 */
	if (BlockNumberIsValid(unit) && unit == gen && scan->gmode &&
		scan->want_runs && scan->base.rs_parallel == NULL)
	{
		BlockNumber run_end = scan_directory_run(scan, unit);

		/*
		 * Units from nfirst on are remapped generations, not blocks: a
		 * directory page added at or past nfirst since the scan started
		 * must not make the walk jump into them.
		 */
		if (unit < scan->nfirst)
			run_end = Min(run_end, scan->nfirst);
		if (run_end > unit)
		{
			scan->cunit = Min(run_end, scan_end_block(scan)) - 1;
			scan->cgen = scan_unit_gen(scan, scan->cunit);
			return;
		}
	}

	/*
	 * A first-time generation with no entry, at a block of a free extent:
	 * nothing there (scan_free_extent_end).  The columnar scan's serial
	 * forward walk passes over the extent unread, up to the first block
	 * whose generation the directory holds, as over a stripe's pages.
	 */
	if (no_entry && scan->want_runs && scan->base.rs_parallel == NULL)
	{
		BlockNumber ext_end = scan_free_extent_end(scan, unit);

		if (ext_end > unit)
		{
			BlockNumber end = Min(Min(ext_end, scan_end_block(scan)), scan->nfirst);
			BlockNumber u;

			for (u = unit + 1; u < end; u++)
				if (scan_cached_entry(scan, scan_unit_gen(scan, u))->phys != RDB_GEN_NONE)
					break;
			scan->cunit = u - 1;
			scan->cgen = scan_unit_gen(scan, scan->cunit);
			return;
		}
	}

	if (BlockNumberIsValid(unit))
	{
		uint32		stripe_blocks = 0;
		BlockNumber stripe_first = InvalidBlockNumber;

		buf = rdb_read_buffer_timed(rel, unit, scan->strategy, &miss_us);
		scan_note_read(scan, unit, miss_us);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		rdb_l0_page_check(rel, buf);
		page = BufferGetPage(buf);
		if (rdb_l0_page_is_l0(page) && rdb_l0_page_generation(page, unit) == gen)
		{
			LockBuffer(buf, BUFFER_LOCK_UNLOCK);
			/* dead row versions go before we read it, as heap's scans do */
			rdb_l0_prune_opt(rel, buf);
			scan->cbuf = buf;
			scan->cblock = unit;
			return;
		}

		/*
		 * Not the generation's page: retired (and maybe reused) since the
		 * scan started or copied the leaf -- the directory knows where its
		 * rows are.  A stripe, directory or metapage at a first-time
		 * generation's block holds no rows: a stripe takes a retired
		 * generation's FREE block only once no snapshot older than the
		 * retirement is left (scan_note_stripe), and this scan copied the
		 * leaf after its snapshot was taken.
		 */
		retired = rdb_gen_page_is_free(page) || rdb_l0_page_is_l0(page) ||
			PageIsNew(page);
		if (!retired && unit == gen)
		{
			stripe_blocks = rdb_stripe_first_page_blocks(page, unit);
			/* a page of a later run of a mapped stripe */
			if (stripe_blocks == 0 && rdb_stripe_page_is_stripe(page))
				stripe_first = RdbPageGetOpaque(page)->generation;
		}
		UnlockReleaseBuffer(buf);
		if (stripe_first != InvalidBlockNumber && stripe_first != unit)
			stripe_blocks = rdb_stripe_run_rest(rel, stripe_first, unit,
												scan->strategy);
		else
			stripe_first = unit;
		if (stripe_blocks > 1)
		{
			scan_note_stripe(scan, unit, stripe_blocks, stripe_first);

			/*
			 * The columnar scan's serial forward walk passes over the rest
			 * of the stripe's blocks in one step -- up to the first whose
			 * generation the directory holds: a stripe may have taken the
			 * FREE block of a retired generation (gendir.c), whose rows
			 * are read from its entry when the walk comes to its unit.
			 */
			if (scan->want_runs && scan->base.rs_parallel == NULL &&
				scan->void_lo == unit && scan->void_hi > unit + 1)
			{
				BlockNumber end = Min(scan->void_hi, scan_end_block(scan));
				BlockNumber u;

				for (u = unit + 1; u < end; u++)
					if (scan->gmode &&
						scan_cached_entry(scan, scan_unit_gen(scan, u))->phys != RDB_GEN_NONE)
						break;
				scan->cunit = u - 1;
				scan->cgen = scan_unit_gen(scan, scan->cunit);
			}
		}
		if (!retired)
			return;
	}

	/* ask the directory */
	buf = rdb_gen_read(rel, gen, scan->strategy, &e, &retired);
	if (BufferIsValid(buf))
	{
		rdb_l0_prune_opt(rel, buf);
		scan->cbuf = buf;
		scan->cblock = BufferGetBlockNumber(buf);
	}
	else if (retired)
		scan_set_retired(scan, gen, &e);
}

/*
 * scan_note_stripe
 *		The scan met a page of the stripe at stripe as a unit, at block
 *		first, which the stripe's pages fill for nblocks blocks (its first
 *		run, or the rest of a later run of its extent map): remember them,
 *		so that the units at the other blocks are passed over without being
 *		read.  No generation this scan may still find at its own block lives
 *		at a stripe's block: a stripe takes a FREE L0 page (whose block is
 *		that of a retired first-time generation) only once every snapshot
 *		is newer than the retirement (gendir.c, rdb_gen_take_free_pages),
 *		so this scan copied that generation's leaf entry after it retired
 *		and reads its rows from the entry, never from the block (checked
 *		before the stripe's blocks are passed over, scan_open_unit); and an
 *		L0 page that takes a stripe's block (l0_page.c) is a page of a new
 *		generation, which the directory names.  The header is only believed
 *		when it is consistent and the page it names as the run's last says
 *		it belongs to the stripe; otherwise every page is read, as before.
 */
static void
scan_note_stripe(RdbScanDesc scan, BlockNumber first, uint32 nblocks,
				 BlockNumber stripe)
{
	BlockNumber last;
	bool		ok;

	if ((uint64) first + nblocks > (scan->gmode ? scan->nfirst : scan->nunits))
		return;
	last = first + nblocks - 1;
	ok = rdb_stripe_block_belongs(scan->base.rs_rd, last, stripe,
								  scan->strategy);
	if (!ok)
		return;
	scan->void_lo = first;
	scan->void_hi = first + nblocks;
}

/*
 * Read unit and collect the offsets of the tuples visible to the scan's
 * snapshot.  With offsets (bitmap scans, exact pages) only those are
 * considered.  Leaves the page pinned, unlocked.
 */
static void
scan_load_page(RdbScanDesc scan, BlockNumber unit,
			   OffsetNumber *offsets, int noffsets)
{
	scan_open_unit(scan, unit);
	if (BufferIsValid(scan->cbuf))
		LockBuffer(scan->cbuf, BUFFER_LOCK_SHARE);
	scan_collect_visible(scan, offsets, noffsets);
	if (BufferIsValid(scan->cbuf))
		LockBuffer(scan->cbuf, BUFFER_LOCK_UNLOCK);
}

/* page mode or tuple at a time?  (heap_beginscan's rule) */
static inline bool
scan_pagemode(RdbScanDesc scan)
{
	return (scan->base.rs_flags & SO_ALLOW_PAGEMODE) != 0;
}

/*
 * Tuple mode: read unit and leave it pinned, unlocked, positioned before its
 * first (forward) or after its last (backward) tuple.
 */
static void
scan_pin_page(RdbScanDesc scan, BlockNumber unit)
{
	scan_open_unit(scan, unit);
	scan->coff = InvalidOffsetNumber;
}

/*
 * Tuple mode: move to the next tuple of the current page that the snapshot
 * sees, checking the visibility of one tuple at a time under a share lock.
 * The line pointer array is re-read at each call, so rows added to the page
 * since it was pinned are seen, as in heapgettup.  Sets scan->ctup; false
 * when the page has no further visible tuple in that direction (the caller
 * then moves on to another page).
 */
static bool
scan_page_next_visible(RdbScanDesc scan, bool forward)
{
	Relation	rel = scan->base.rs_rd;
	Snapshot	snapshot = scan->base.rs_snapshot;
	Buffer		vbuf = scan_vbuf(scan);
	Page		page;
	int			maxoff;
	int			off = scan->coff;
	bool		found = false;

	if (!scan_has_page(scan))
		return false;
	if (!scan->cvirtual)
		LockBuffer(scan->cbuf, BUFFER_LOCK_SHARE);
	page = scan_cpage(scan);
	if (rdb_l0_page_is_l0(page))
	{
		maxoff = PageGetMaxOffsetNumber(page);
		for (;;)
		{
			HeapTupleData tup;
			bool		valid;

			if (off == InvalidOffsetNumber)
				off = forward ? FirstOffsetNumber : maxoff;
			else
				off += forward ? 1 : -1;
			if (off < FirstOffsetNumber || off > maxoff)
				break;
			if (!scan_item(scan, page, off, &tup))
				continue;

			if (snapshot == NULL)
				valid = true;
			else
			{
				valid = HeapTupleSatisfiesVisibility(&tup, snapshot, vbuf);
				HeapCheckForSerializableConflictOut(valid, rel, &tup, vbuf,
													snapshot);
			}
			if (valid)
			{
				scan->ctup = tup;
				scan->coff = (OffsetNumber) off;
				found = true;
				break;
			}
		}
	}
	if (!scan->cvirtual)
		LockBuffer(scan->cbuf, BUFFER_LOCK_UNLOCK);
	return found;
}

/* point scan->ctup at vistuples[cindex] of the current page */
static void
scan_set_ctup(RdbScanDesc scan)
{
	(void) scan_item(scan, scan_cpage(scan), scan->vistuples[scan->cindex],
					 &scan->ctup);
}

/* one past the last unit a serial scan reads */
static BlockNumber
scan_end_block(RdbScanDesc scan)
{
	if (scan->numblocks == InvalidBlockNumber ||
		scan->numblocks >= scan->nunits - Min(scan->startblock, scan->nunits))
		return scan->nunits;
	return scan->startblock + scan->numblocks;
}

/* the next unit of a serial or parallel scan, or InvalidBlockNumber */
static BlockNumber
scan_next_block(RdbScanDesc scan, ScanDirection dir)
{
	ParallelBlockTableScanDesc pbscan =
		(ParallelBlockTableScanDesc) scan->base.rs_parallel;
	BlockNumber endblock = scan_end_block(scan);

	if (pbscan != NULL)
	{
		BlockNumber blk;

		if (!scan->inited)
			table_block_parallelscan_startblock_init(scan->base.rs_rd,
													 scan->pworker, pbscan);
		blk = table_block_parallelscan_nextpage(scan->base.rs_rd,
												scan->pworker, pbscan);
		return blk;
	}

	if (!scan->inited)
	{
		if (scan->startblock >= endblock)
			return InvalidBlockNumber;
		if (ScanDirectionIsForward(dir))
			return scan->startblock;
		return endblock - 1;
	}

	if (ScanDirectionIsForward(dir))
	{
		if (scan->cunit + 1 >= endblock)
			return InvalidBlockNumber;
		return scan->cunit + 1;
	}
	if (scan->cunit <= scan->startblock)
		return InvalidBlockNumber;
	return scan->cunit - 1;
}

/* the end of a scan: drop the page */
static void
scan_finish(RdbScanDesc scan)
{
	scan_drop_page(scan);
	scan->cunit = InvalidBlockNumber;
	scan->inited = false;
	scan_end_read_run(scan);
}

/* scan_next_tuple for tuple-at-a-time scans */
static bool
scan_next_tuple_tmode(RdbScanDesc scan, ScanDirection dir)
{
	bool		forward = ScanDirectionIsForward(dir);

	if (scan->inited && scan_page_next_visible(scan, forward))
		return true;

	for (;;)
	{
		BlockNumber blk = scan_next_block(scan, dir);

		if (!BlockNumberIsValid(blk))
		{
			scan_finish(scan);
			return false;
		}
		scan_pin_page(scan, blk);
		scan->inited = true;
		if (scan_page_next_visible(scan, forward))
			return true;
	}
}

/*
 * Advance to the next visible tuple in the given direction; false at the
 * end of the scan.
 */
static bool
scan_next_tuple(RdbScanDesc scan, ScanDirection dir)
{
	bool		forward = ScanDirectionIsForward(dir);

	if (!scan_pagemode(scan))
		return scan_next_tuple_tmode(scan, dir);

	if (scan->inited)
	{
		scan->cindex += forward ? 1 : -1;
		if (scan->cindex >= 0 && scan->cindex < scan->ntuples)
		{
			scan_set_ctup(scan);
			return true;
		}
	}

	for (;;)
	{
		BlockNumber blk = scan_next_block(scan, dir);

		if (!BlockNumberIsValid(blk))
		{
			scan_finish(scan);
			return false;
		}
		scan_load_page(scan, blk, NULL, 0);
		scan->inited = true;
		if (scan->crun_pending)
			return true;		/* (rdb_scan_next_chunk takes it) */
		if (scan->ntuples > 0)
		{
			scan->cindex = forward ? 0 : scan->ntuples - 1;
			scan_set_ctup(scan);
			return true;
		}
	}
}

/* ------------------------------------------------------------------------
 * Scan lifecycle
 * ------------------------------------------------------------------------
 */

static void
scan_init(RdbScanDesc scan, bool keep_startblock)
{
	Relation	rel = scan->base.rs_rd;
	ParallelBlockTableScanDesc pbscan =
		(ParallelBlockTableScanDesc) scan->base.rs_parallel;

	/* stripes are noted afresh (a rescan may see other units) */
	scan->void_lo = scan->void_hi = 0;

	if (pbscan != NULL)
	{
		/* the units every participant of a parallel scan agrees on */
		RdbParallelScanDesc rpscan = (RdbParallelScanDesc) pbscan;

		scan->gmode = rpscan->gmode;
		scan->nfirst = rpscan->nfirst;
		scan->gen_end = rpscan->gen_end;
		scan->nunits = pbscan->phs_nblocks;
	}
	else
	{
		scan->nfirst = RelationGetNumberOfBlocks(rel);
		scan_units_now(rel, &scan->gmode, &scan->gen_end);
		scan->nunits = scan->nfirst +
			(scan->gen_end - RDB_FIRST_REMAPPED_GENERATION);
	}
	scan->nblocks = scan->nfirst;
	scan->lc_valid = false;
	scan->sc_valid = false;
	/*
	 * (dir_valid stays across rescans: directory pages are never freed, and
	 * one added since is only read as a unit, as before)
	 */

	/* a large table is read through a ring buffer, as heap does */
	if ((scan->base.rs_flags & SO_ALLOW_STRAT) && !RelationUsesLocalBuffers(rel) &&
		scan->nblocks > (BlockNumber) (NBuffers / 4))
	{
		if (scan->strategy == NULL)
			scan->strategy = GetAccessStrategy(BAS_BULKREAD);
	}
	else if (scan->strategy != NULL)
	{
		FreeAccessStrategy(scan->strategy);
		scan->strategy = NULL;
	}

	if (!keep_startblock)
	{
		scan->startblock = RDB_FIRST_DATA_BLKNO;
		scan->numblocks = InvalidBlockNumber;
	}
	scan_drop_page(scan);
	scan->cunit = InvalidBlockNumber;
	scan->inited = false;
	scan->cindex = 0;

	if (scan->base.rs_flags & SO_TYPE_SEQSCAN)
		pgstat_count_heap_scan(rel);
}

TableScanDesc
rdb_am_scan_begin(Relation rel, Snapshot snapshot, int nkeys,
				  struct ScanKeyData *key, ParallelTableScanDesc pscan,
				  uint32 flags)
{
	RdbScanDesc scan;

	rdb_check_preloaded();
	if (nkeys > 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("rustydb scans do not support scan keys")));

	RelationIncrementReferenceCount(rel);

	scan = palloc0(sizeof(RdbScanDescData));
	scan->base.rs_rd = rel;
	scan->base.rs_snapshot = snapshot;
	scan->base.rs_nkeys = 0;
	scan->base.rs_key = NULL;
	scan->base.rs_flags = flags;
	scan->base.rs_parallel = pscan;
	/* tuple at a time unless the snapshot is MVCC, as heap_beginscan */
	if (!(snapshot && IsMVCCSnapshot(snapshot)))
		scan->base.rs_flags &= ~SO_ALLOW_PAGEMODE;
	scan->cbuf = InvalidBuffer;
	ItemPointerSetInvalid(&scan->mintid);
	ItemPointerSetInvalid(&scan->maxtid);

	if (pscan != NULL)
		scan->pworker = palloc0(sizeof(ParallelBlockTableScanWorkerData));

	/*
	 * A serializable seq or sample scan reads the whole table: lock it all,
	 * so that later inserts by others conflict with us.
	 */
	if (flags & (SO_TYPE_SEQSCAN | SO_TYPE_SAMPLESCAN))
		PredicateLockRelation(rel, snapshot);

	scan_init(scan, false);
	return &scan->base;
}

void
rdb_am_scan_rescan(TableScanDesc sscan, struct ScanKeyData *key,
				   bool set_params, bool allow_strat, bool allow_sync,
				   bool allow_pagemode)
{
	RdbScanDesc scan = (RdbScanDesc) sscan;

	if (set_params)
	{
		if (allow_strat)
			scan->base.rs_flags |= SO_ALLOW_STRAT;
		else
			scan->base.rs_flags &= ~SO_ALLOW_STRAT;
		if (allow_sync)
			scan->base.rs_flags |= SO_ALLOW_SYNC;
		else
			scan->base.rs_flags &= ~SO_ALLOW_SYNC;
		if (allow_pagemode && scan->base.rs_snapshot &&
			IsMVCCSnapshot(scan->base.rs_snapshot))
			scan->base.rs_flags |= SO_ALLOW_PAGEMODE;
		else
			scan->base.rs_flags &= ~SO_ALLOW_PAGEMODE;
	}
	/* a TID-range scan keeps its limits; they are set again anyway */
	scan_init(scan, (scan->base.rs_flags & SO_TYPE_TIDRANGESCAN) != 0);
}

void
rdb_am_scan_end(TableScanDesc sscan)
{
	RdbScanDesc scan = (RdbScanDesc) sscan;

	if (BufferIsValid(scan->cbuf))
		ReleaseBuffer(scan->cbuf);
	scan_end_read_run(scan);

	/*
	 * ANALYZE's blocks are done: the share of their live rows that are
	 * flushed goes to the metapage, for the planner's estimate of what a
	 * columnar scan skips (src/scan/colscan.c).  Not on error: then the
	 * scan is not ended but dropped with its resource owner.
	 */
	if (scan->base.rs_flags & SO_TYPE_ANALYZE)
		rdb_meta_note_flushed_share(scan->base.rs_rd, scan->analyze_live,
							  scan->analyze_flushed);
	RelationDecrementReferenceCount(scan->base.rs_rd);
	if (scan->strategy)
		FreeAccessStrategy(scan->strategy);
	if (scan->pworker)
		pfree(scan->pworker);
	if (scan->vpage)
		pfree(scan->vpage);
	if (scan->lc)
		pfree(scan->lc);
	if (scan->sc)
		pfree(scan->sc);
	if (scan->dirblocks)
		pfree(scan->dirblocks);
	if (scan->base.rs_flags & SO_TEMP_SNAPSHOT)
		UnregisterSnapshot(scan->base.rs_snapshot);
	pfree(scan);
}

bool
rdb_am_scan_getnextslot(TableScanDesc sscan, ScanDirection direction,
						TupleTableSlot *slot)
{
	RdbScanDesc scan = (RdbScanDesc) sscan;

	if (!scan_next_tuple(scan, direction))
	{
		ExecClearTuple(slot);
		return false;
	}
	pgstat_count_heap_getnext(scan->base.rs_rd);
	rdb_l0_store_tuple(scan->base.rs_rd, &scan->ctup, slot, scan->cbuf, false);
	return true;
}

/*
 * rdb_scan_next_raw
 *		For the columnar scan (src/scan/): advance a forward sequential or
 *		parallel scan begun by rdb_am_scan_begin (table_beginscan,
 *		table_beginscan_parallel) to the next row its snapshot sees, and
 *		hand it out as it lies on the page: a whole L0 row or a stub,
 *		nothing materialised.  *tuple points at the scan's own HeapTupleData
 *		and *buf is the scan's pinned buffer holding it; both stay valid until
 *		the next call (the pin keeps the row in place).  Visibility, page
 *		mode (all-visible pages skip per-row checks), serializable conflict
 *		checks and parallel block hand-out are those of the seq scan.  False
 *		at the end of the scan.
 */
bool
rdb_scan_next_chunk(TableScanDesc sscan, HeapTuple *tuple, Buffer *buf,
					RdbScanRun *run)
{
	RdbScanDesc scan = (RdbScanDesc) sscan;
	const RdbGenEntry *e = &scan->crun;
	OffsetNumber off;
	uint32		row;

	/* only MVCC snapshots may take retired rows unchecked */
	scan->want_runs = scan_pagemode(scan);
	scan->run = run;
	run->nrows = 0;
	run->nskipped = 0;
	run->ngens_skipped = 0;
	run->nskip_steps = 0;
	run->nskip_groups = 0;
	if (!scan_next_tuple(scan, ForwardScanDirection))
		return false;
	if (!scan->crun_pending)
	{
		pgstat_count_heap_getnext(scan->base.rs_rd);
		*tuple = &scan->ctup;
		*buf = scan->cbuf;
		return true;
	}

	/* a retired generation: its live rows, in offset (and stripe row) order */
	scan->crun_pending = false;
	if (pgstat_should_count_relation(scan->base.rs_rd))
		scan->base.rs_rd->pgstat_info->t_counts.t_tuples_returned += e->nlive;
	*tuple = NULL;
	*buf = InvalidBuffer;
	run->gen = scan->cgen;
	run->stripe = e->stripe;
	row = e->first;
	for (off = FirstOffsetNumber; off <= e->maxoff; off++)
	{
		if (rdb_gen_bit(e->live, off))
		{
			run->offsets[run->nrows] = off;
			run->rows[run->nrows] = row;
			run->nrows++;
		}
		if (rdb_gen_bit(e->flushed, off))
			row++;
	}
	return true;
}

bool
rdb_scan_next_raw(TableScanDesc sscan, HeapTuple *tuple, Buffer *buf)
{
	RdbScanDesc scan = (RdbScanDesc) sscan;

	if (!scan_next_tuple(scan, ForwardScanDirection))
		return false;
	pgstat_count_heap_getnext(scan->base.rs_rd);
	*tuple = &scan->ctup;
	*buf = scan->cbuf;
	return true;
}

/* ------------------------------------------------------------------------
 * TID range scans
 * ------------------------------------------------------------------------
 */

void
rdb_am_scan_set_tidrange(TableScanDesc sscan, ItemPointer mintid,
						 ItemPointer maxtid)
{
	RdbScanDesc scan = (RdbScanDesc) sscan;
	ItemPointerData lowest;
	ItemPointerData highest;

	/* clamp to the TIDs that can exist: the units' generations */
	ItemPointerSet(&lowest, RDB_FIRST_DATA_BLKNO, FirstOffsetNumber);
	if (scan->nunits <= RDB_FIRST_DATA_BLKNO)
	{
		scan_set_limits(scan, 0, 0);
		return;
	}
	ItemPointerSet(&highest, scan_unit_gen(scan, scan->nunits - 1), MaxOffsetNumber);

	if (ItemPointerCompare(mintid, &lowest) > 0)
		ItemPointerCopy(mintid, &lowest);
	if (ItemPointerCompare(maxtid, &highest) < 0)
		ItemPointerCopy(maxtid, &highest);

	if (ItemPointerCompare(&highest, &lowest) < 0)
	{
		scan_set_limits(scan, 0, 0);
		return;
	}
	/* units are in TID order */
	scan_set_gen_limits(scan, ItemPointerGetBlockNumberNoCheck(&lowest),
						ItemPointerGetBlockNumberNoCheck(&highest));
	scan->mintid = lowest;
	scan->maxtid = highest;
}

bool
rdb_am_scan_getnextslot_tidrange(TableScanDesc sscan, ScanDirection direction,
								 TupleTableSlot *slot)
{
	RdbScanDesc scan = (RdbScanDesc) sscan;

	for (;;)
	{
		if (!scan_next_tuple(scan, direction))
		{
			ExecClearTuple(slot);
			return false;
		}
		/* rows outside the range on the first and last page are skipped */
		if (ItemPointerCompare(&scan->ctup.t_self, &scan->mintid) < 0)
		{
			if (ScanDirectionIsBackward(direction))
			{
				ExecClearTuple(slot);
				return false;
			}
			continue;
		}
		if (ItemPointerCompare(&scan->ctup.t_self, &scan->maxtid) > 0)
		{
			if (ScanDirectionIsForward(direction))
			{
				ExecClearTuple(slot);
				return false;
			}
			continue;
		}
		break;
	}
	pgstat_count_heap_getnext(scan->base.rs_rd);
	rdb_l0_store_tuple(scan->base.rs_rd, &scan->ctup, slot, scan->cbuf, false);
	return true;
}

/* ------------------------------------------------------------------------
 * Bitmap scans
 * ------------------------------------------------------------------------
 */

bool
rdb_am_scan_bitmap_next_block(TableScanDesc sscan, TBMIterateResult *tbmres)
{
	RdbScanDesc scan = (RdbScanDesc) sscan;
	uint32		gen = tbmres->blockno;	/* a TID's block is a generation */
	OffsetNumber *offsets = tbmres->ntuples >= 0 ? tbmres->offsets : NULL;
	RdbGenEntry e;
	bool		retired;
	Buffer		buf;

	scan->cindex = 0;
	scan->ntuples = 0;

	/* pages past our start-of-scan end, or the metapage, hold no rows */
	if (gen < RDB_FIRST_DATA_BLKNO ||
		(gen < RDB_FIRST_REMAPPED_GENERATION && gen >= scan->nblocks))
		return false;

	CHECK_FOR_INTERRUPTS();
	scan_drop_page(scan);
	scan->cgen = gen;
	buf = rdb_gen_read(scan->base.rs_rd, gen, scan->strategy, &e, &retired);
	if (BufferIsValid(buf))
	{
		scan->cbuf = buf;
		scan->cblock = BufferGetBlockNumber(buf);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		/* lossy pages: every row */
		scan_collect_visible(scan, offsets, offsets ? tbmres->ntuples : 0);
		LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	}
	else if (retired)
	{
		scan_set_retired(scan, gen, &e);
		scan_collect_visible(scan, offsets, offsets ? tbmres->ntuples : 0);
	}
	return scan->ntuples > 0;
}

bool
rdb_am_scan_bitmap_next_tuple(TableScanDesc sscan, TBMIterateResult *tbmres,
							  TupleTableSlot *slot)
{
	RdbScanDesc scan = (RdbScanDesc) sscan;

	if (scan->cindex < 0 || scan->cindex >= scan->ntuples)
		return false;
	scan_set_ctup(scan);
	scan->cindex++;
	pgstat_count_heap_fetch(scan->base.rs_rd);
	rdb_l0_store_tuple(scan->base.rs_rd, &scan->ctup, slot, scan->cbuf, false);
	return true;
}

/* ------------------------------------------------------------------------
 * TABLESAMPLE
 * ------------------------------------------------------------------------
 */

bool
rdb_am_scan_sample_next_block(TableScanDesc sscan, SampleScanState *scanstate)
{
	RdbScanDesc scan = (RdbScanDesc) sscan;
	TsmRoutine *tsm = scanstate->tsmroutine;
	BlockNumber blkno;

	/* the sampler chooses among units (blocks, or generations: see units) */
	if (scan->nunits == 0)
		return false;

	if (tsm->NextSampleBlock)
		blkno = tsm->NextSampleBlock(scanstate, scan->nunits);
	else if (!scan->inited)
		blkno = 0;
	else if (scan->cunit + 1 < scan->nunits)
		blkno = scan->cunit + 1;
	else
		blkno = InvalidBlockNumber;

	if (!BlockNumberIsValid(blkno))
	{
		scan_drop_page(scan);
		scan->cunit = InvalidBlockNumber;
		scan->inited = false;
		return false;
	}

	if (scan_pagemode(scan))
		scan_load_page(scan, blkno, NULL, 0);
	else
		scan_pin_page(scan, blkno);
	scan->inited = true;
	return true;
}

/* is offset among the page's visible tuples?  (vistuples is sorted) */
static bool
sample_offset_visible(RdbScanDesc scan, OffsetNumber off)
{
	int			lo = 0;
	int			hi = scan->ntuples - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (scan->vistuples[mid] == off)
			return true;
		if (scan->vistuples[mid] < off)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return false;
}

bool
rdb_am_scan_sample_next_tuple(TableScanDesc sscan, SampleScanState *scanstate,
							  TupleTableSlot *slot)
{
	RdbScanDesc scan = (RdbScanDesc) sscan;
	TsmRoutine *tsm = scanstate->tsmroutine;
	bool		pagemode = scan_pagemode(scan);
	Buffer		vbuf = scan_vbuf(scan);
	bool		locked = false;
	Page		page;
	OffsetNumber maxoff = 0;

	/* tuple at a time: the page stays share-locked while we look at it */
	if (!pagemode && BufferIsValid(scan->cbuf))
	{
		LockBuffer(scan->cbuf, BUFFER_LOCK_SHARE);
		locked = true;
	}

	/* a unit without an L0 page (the metapage, stripes) offers no tuples */
	if (scan_has_page(scan))
	{
		page = scan_cpage(scan);
		if (rdb_l0_page_is_l0(page))
			maxoff = PageGetMaxOffsetNumber(page);
	}

	for (;;)
	{
		OffsetNumber off;

		CHECK_FOR_INTERRUPTS();
		/* samplers that hash block numbers get the generation */
		off = tsm->NextSampleTuple(scanstate, scan->cgen, maxoff);
		if (!OffsetNumberIsValid(off))
		{
			if (locked)
				LockBuffer(scan->cbuf, BUFFER_LOCK_UNLOCK);
			ExecClearTuple(slot);
			return false;
		}
		page = scan_cpage(scan);
		if ((pagemode && !sample_offset_visible(scan, off)) ||
			!scan_item(scan, page, off, &scan->ctup))
			continue;
		if (!pagemode)
		{
			Snapshot	snapshot = scan->base.rs_snapshot;
			bool		valid;

			valid = snapshot == NULL ||
				HeapTupleSatisfiesVisibility(&scan->ctup, snapshot, vbuf);
			if (snapshot != NULL)
				HeapCheckForSerializableConflictOut(valid, scan->base.rs_rd,
													&scan->ctup, vbuf,
													snapshot);
			if (!valid)
				continue;
			if (locked)
				LockBuffer(scan->cbuf, BUFFER_LOCK_UNLOCK);
		}
		pgstat_count_heap_getnext(scan->base.rs_rd);
		rdb_l0_store_tuple(scan->base.rs_rd, &scan->ctup, slot, scan->cbuf, false);
		return true;
	}
}

/* ------------------------------------------------------------------------
 * ANALYZE
 * ------------------------------------------------------------------------
 */

bool
rdb_am_scan_analyze_next_block(TableScanDesc sscan, BlockNumber blockno,
							   BufferAccessStrategy bstrategy)
{
	RdbScanDesc scan = (RdbScanDesc) sscan;
	Page		page;

	/* the page stays share-locked until analyze_next_tuple is done with it */
	scan->cblock = blockno;
	scan->cbuf = rdb_read_buffer(scan->base.rs_rd, blockno, bstrategy);
	LockBuffer(scan->cbuf, BUFFER_LOCK_SHARE);
	rdb_l0_page_check(scan->base.rs_rd, scan->cbuf);
	page = BufferGetPage(scan->cbuf);
	scan->cleaf = rdb_gen_page_is_leaf(page);
	scan->cvirtual = false;
	scan->centry = -1;
	if (rdb_l0_page_is_l0(page))
		scan->cgen = rdb_l0_page_generation(page, blockno);
	scan->analyze_off = FirstOffsetNumber;
	return true;
}

/* a directory leaf (share-locked): build its next retired generation */
static bool
analyze_leaf_step(RdbScanDesc scan)
{
	RdbGenEntry e;
	uint32		gen;
	int			i;

	i = rdb_gen_leaf_retired(BufferGetPage(scan->cbuf), scan->centry + 1,
							 &gen, &e);
	if (i < 0)
		return false;
	scan->centry = i;
	scan->cgen = gen;
	if (scan->vpage == NULL)
		scan->vpage = MemoryContextAlloc(GetMemoryChunkContext(scan), BLCKSZ);
	rdb_gen_build_page((Page) scan->vpage, gen, &e);
	scan->cvirtual = true;
	scan->analyze_off = FirstOffsetNumber;
	return true;
}

bool
rdb_am_scan_analyze_next_tuple(TableScanDesc sscan, TransactionId OldestXmin,
							   double *liverows, double *deadrows,
							   TupleTableSlot *slot)
{
	RdbScanDesc scan = (RdbScanDesc) sscan;

	for (;;)
	{
		Page		page;
		OffsetNumber maxoff;

		if (scan->cleaf && !scan->cvirtual && !analyze_leaf_step(scan))
			break;
		page = scan_cpage(scan);
		if (rdb_l0_page_is_l0(page))
			maxoff = PageGetMaxOffsetNumber(page);
		else
			maxoff = InvalidOffsetNumber;

		for (; scan->analyze_off <= maxoff; scan->analyze_off++)
		{
			ItemId		lp = PageGetItemId(page, scan->analyze_off);
			HeapTuple	tup = &scan->ctup;
			bool		sample_it = false;

			if (ItemIdIsDead(lp))
			{
				*deadrows += 1;
				continue;
			}
			if (!ItemIdIsNormal(lp))
				continue;

			tup->t_data = (HeapTupleHeader) PageGetItem(page, lp);
			tup->t_len = ItemIdGetLength(lp);
			tup->t_tableOid = RelationGetRelid(scan->base.rs_rd);
			ItemPointerSet(&tup->t_self, scan->cgen, scan->analyze_off);

			switch (HeapTupleSatisfiesVacuum(tup, OldestXmin, scan_vbuf(scan)))
			{
				case HEAPTUPLE_LIVE:
					sample_it = true;
					*liverows += 1;
					break;
				case HEAPTUPLE_DEAD:
				case HEAPTUPLE_RECENTLY_DEAD:
					*deadrows += 1;
					break;
				case HEAPTUPLE_INSERT_IN_PROGRESS:
					/* our own inserts count, others' not yet (as heap) */
					if (TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tup->t_data)))
					{
						sample_it = true;
						*liverows += 1;
					}
					break;
				case HEAPTUPLE_DELETE_IN_PROGRESS:
					if (TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetUpdateXid(tup->t_data)))
						*deadrows += 1;
					else
					{
						sample_it = true;
						*liverows += 1;
					}
					break;
			}

			if (sample_it)
			{
				scan->analyze_live += 1;
				if (scan->cvirtual || rdb_tuple_is_stub(tup->t_data))
					scan->analyze_flushed += 1;
				rdb_l0_store_tuple(scan->base.rs_rd, tup, slot, scan->cbuf, false);
				scan->analyze_off++;
				return true;		/* the buffer stays locked */
			}
		}
		if (!scan->cleaf)
			break;
		scan->cvirtual = false;	/* next generation of the leaf */
	}

	UnlockReleaseBuffer(scan->cbuf);
	scan->cbuf = InvalidBuffer;
	scan->cleaf = false;
	scan->cvirtual = false;
	scan->centry = -1;
	ExecClearTuple(slot);
	return false;
}

/* ------------------------------------------------------------------------
 * Index builds
 * ------------------------------------------------------------------------
 */

/*
 * rdb_am_index_build_range_scan
 *		Feed the rows of blocks [start_blockno, +numblocks) to an index
 *		build callback.
 *
 * A plain CREATE INDEX (ShareLock held) reads every row version with
 * SnapshotAny and indexes those that some snapshot may still see, marking
 * recently dead ones as not alive; CREATE INDEX CONCURRENTLY and anyvisible
 * builds index what an MVCC snapshot sees.  Returns the live row count.
 */
double
rdb_am_index_build_range_scan(Relation table_rel, Relation index_rel,
							  IndexInfo *index_info, bool allow_sync,
							  bool anyvisible, bool progress,
							  BlockNumber start_blockno, BlockNumber numblocks,
							  IndexBuildCallback callback,
							  void *callback_state, TableScanDesc sscan)
{
	RdbScanDesc scan;
	Snapshot	snapshot;
	bool		need_unregister_snapshot = false;
	TransactionId OldestXmin = InvalidTransactionId;
	bool		checking_uniqueness;
	EState	   *estate;
	ExprContext *econtext;
	TupleTableSlot *slot;
	ExprState  *predicate;
	Datum		values[INDEX_MAX_KEYS];
	bool		isnull[INDEX_MAX_KEYS];
	double		reltuples = 0;
	BlockNumber last_reported = InvalidBlockNumber;

	checking_uniqueness = (index_info->ii_Unique ||
						   index_info->ii_ExclusionOps != NULL);

	/* a concurrent build must see only what its snapshot sees */
	if (!index_info->ii_Concurrent)
		OldestXmin = GetOldestNonRemovableTransactionId(table_rel);

	estate = CreateExecutorState();
	econtext = GetPerTupleExprContext(estate);
	slot = table_slot_create(table_rel, NULL);
	econtext->ecxt_scantuple = slot;
	predicate = ExecPrepareQual(index_info->ii_Predicate, estate);

	if (sscan == NULL)
	{
		if (!TransactionIdIsValid(OldestXmin))
		{
			snapshot = RegisterSnapshot(GetTransactionSnapshot());
			need_unregister_snapshot = true;
		}
		else
			snapshot = SnapshotAny;
		sscan = table_beginscan_strat(table_rel, snapshot, 0, NULL, true,
									  allow_sync);
	}
	else
		snapshot = sscan->rs_snapshot;	/* parallel build */
	scan = (RdbScanDesc) sscan;

	if (!sscan->rs_parallel &&
		(start_blockno != 0 || numblocks != InvalidBlockNumber))
	{
		/*
		 * A range of TID blocks is a range of generations.  BRIN, the one
		 * caller of ranges, summarises block ranges of the file: the rows of
		 * reused blocks (generations from 2^31 up) would make it summarise
		 * 2^24 empty ranges before them.  It never answers queries on such a
		 * table (colscan.c), so it gets the first-time generations only.
		 */
		uint64		last = numblocks == InvalidBlockNumber ? PG_UINT32_MAX - 1 :
			Min((uint64) start_blockno + numblocks, (uint64) PG_UINT32_MAX) - 1;

		if (index_rel->rd_rel->relam == BRIN_AM_OID)
			last = Min(last, (uint64) RDB_FIRST_REMAPPED_GENERATION - 1);
		if (numblocks == 0 || last < start_blockno)
			scan_set_limits(scan, 0, 0);
		else
			scan_set_gen_limits(scan, start_blockno, (uint32) last);
	}
	else if (!sscan->rs_parallel && scan->gmode &&
			 index_rel->rd_rel->relam == BRIN_AM_OID)
		scan_set_gen_limits(scan, 0, RDB_FIRST_REMAPPED_GENERATION - 1);

	if (progress)
		pgstat_progress_update_param(PROGRESS_SCAN_BLOCKS_TOTAL,
									 scan->nblocks);

	while (scan_next_tuple(scan, ForwardScanDirection))
	{
		HeapTuple	tup = &scan->ctup;
		bool		tupleIsAlive = true;
		bool		indexIt = true;

		CHECK_FOR_INTERRUPTS();

		if (progress && scan->cblock != last_reported)
		{
			pgstat_progress_update_param(PROGRESS_SCAN_BLOCKS_DONE,
										 scan->cblock);
			last_reported = scan->cblock;
		}

		if (snapshot == SnapshotAny)
		{
			TransactionId xwait;

	recheck:
			LockBuffer(scan->cbuf, BUFFER_LOCK_SHARE);
			switch (HeapTupleSatisfiesVacuum(tup, OldestXmin, scan->cbuf))
			{
				case HEAPTUPLE_DEAD:
					indexIt = false;
					tupleIsAlive = false;
					break;
				case HEAPTUPLE_LIVE:
					reltuples += 1;
					break;
				case HEAPTUPLE_RECENTLY_DEAD:
					/* older snapshots may still need it in the index */
					tupleIsAlive = false;
					reltuples += 1;
					break;
				case HEAPTUPLE_INSERT_IN_PROGRESS:
					xwait = HeapTupleHeaderGetXmin(tup->t_data);
					if (!TransactionIdIsCurrentTransactionId(xwait))
					{
						if (checking_uniqueness)
						{
							/* wait: a rollback would make the duplicate spurious */
							LockBuffer(scan->cbuf, BUFFER_LOCK_UNLOCK);
							XactLockTableWait(xwait, table_rel, &tup->t_self,
											  XLTW_InsertIndexUnique);
							CHECK_FOR_INTERRUPTS();
							goto recheck;
						}
					}
					else
						reltuples += 1;
					break;
				case HEAPTUPLE_DELETE_IN_PROGRESS:
					xwait = HeapTupleHeaderGetUpdateXid(tup->t_data);
					if (!TransactionIdIsCurrentTransactionId(xwait))
					{
						if (checking_uniqueness)
						{
							LockBuffer(scan->cbuf, BUFFER_LOCK_UNLOCK);
							XactLockTableWait(xwait, table_rel, &tup->t_self,
											  XLTW_InsertIndexUnique);
							CHECK_FOR_INTERRUPTS();
							goto recheck;
						}
						reltuples += 1;
					}
					tupleIsAlive = false;
					break;
				default:
					elog(ERROR, "unexpected HeapTupleSatisfiesVacuum result");
			}
			LockBuffer(scan->cbuf, BUFFER_LOCK_UNLOCK);
			if (!indexIt)
				continue;
		}
		else
			reltuples += 1;

		MemoryContextReset(econtext->ecxt_per_tuple_memory);
		rdb_l0_store_tuple(scan->base.rs_rd, tup, slot, scan->cbuf, false);

		if (predicate != NULL && !ExecQual(predicate, econtext))
			continue;

		FormIndexDatum(index_info, slot, estate, values, isnull);
		callback(index_rel, &tup->t_self, values, isnull, tupleIsAlive,
				 callback_state);
	}

	if (progress)
		pgstat_progress_update_param(PROGRESS_SCAN_BLOCKS_DONE, scan->nblocks);

	table_endscan(sscan);
	if (need_unregister_snapshot)
		UnregisterSnapshot(snapshot);

	ExecDropSingleTupleTableSlot(slot);
	FreeExecutorState(estate);
	index_info->ii_ExpressionsState = NIL;
	index_info->ii_PredicateState = NULL;

	return reltuples;
}

/*
 * rdb_am_index_validate_scan
 *		Second pass of CREATE INDEX CONCURRENTLY: insert into the index every
 *		row the reference snapshot sees that the index does not have yet.
 *
 * state->tuplesort holds the index's TIDs, sorted; we merge them with a
 * TID-ordered scan of the table.
 */
void
rdb_am_index_validate_scan(Relation table_rel, Relation index_rel,
						   IndexInfo *index_info, Snapshot snapshot,
						   ValidateIndexState *state)
{
	TableScanDesc sscan;
	RdbScanDesc scan;
	EState	   *estate;
	ExprContext *econtext;
	TupleTableSlot *slot;
	ExprState  *predicate;
	Datum		values[INDEX_MAX_KEYS];
	bool		isnull[INDEX_MAX_KEYS];
	ItemPointer indexcursor = NULL;
	ItemPointerData decoded;
	bool		tuplesort_empty = false;

	estate = CreateExecutorState();
	econtext = GetPerTupleExprContext(estate);
	slot = table_slot_create(table_rel, NULL);
	econtext->ecxt_scantuple = slot;
	predicate = ExecPrepareQual(index_info->ii_Predicate, estate);

	sscan = table_beginscan_strat(table_rel, snapshot, 0, NULL, true, false);
	scan = (RdbScanDesc) sscan;
	pgstat_progress_update_param(PROGRESS_SCAN_BLOCKS_TOTAL, scan->nblocks);
	/* (units are in TID order, as the merge needs) */

	while (scan_next_tuple(scan, ForwardScanDirection))
	{
		ItemPointer heapcursor = &scan->ctup.t_self;

		CHECK_FOR_INTERRUPTS();
		state->htups += 1;

		while (!tuplesort_empty &&
			   (indexcursor == NULL ||
				ItemPointerCompare(indexcursor, heapcursor) < 0))
		{
			Datum		ts_val;
			bool		ts_isnull;

			tuplesort_empty = !tuplesort_getdatum(state->tuplesort, true,
												  &ts_val, &ts_isnull, NULL);
			if (!tuplesort_empty)
			{
				itemptr_decode(&decoded, DatumGetInt64(ts_val));
				indexcursor = &decoded;
			}
			else
				indexcursor = NULL;
		}

		if (tuplesort_empty || ItemPointerCompare(indexcursor, heapcursor) > 0)
		{
			MemoryContextReset(econtext->ecxt_per_tuple_memory);
			rdb_l0_store_tuple(scan->base.rs_rd, &scan->ctup, slot, scan->cbuf, false);
			if (predicate != NULL && !ExecQual(predicate, econtext))
				continue;
			FormIndexDatum(index_info, slot, estate, values, isnull);
			index_insert(index_rel, values, isnull, heapcursor, table_rel,
						 index_info->ii_Unique ? UNIQUE_CHECK_YES : UNIQUE_CHECK_NO,
						 false, index_info);
			state->tups_inserted += 1;
		}
	}

	table_endscan(sscan);
	ExecDropSingleTupleTableSlot(slot);
	FreeExecutorState(estate);
	index_info->ii_ExpressionsState = NIL;
	index_info->ii_PredicateState = NULL;
}
