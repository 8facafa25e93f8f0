/*-------------------------------------------------------------------------
 *
 * compact.c
 *	  Leveled compaction: rewrite stripes into fewer, larger stripes of the
 *	  next level, drop the stripe rows nothing refers to any more, and give
 *	  the space of the stripes replaced back for later stripes.
 *
 * A stripe row is *referenced* while a TID still leads to it: an L0 stub
 * (any line pointer with storage that is a stub, whatever its visibility:
 * a snapshot may still see it) or a live row of a retired generation's
 * directory entry (gendir.h).  A row whose stub VACUUM removed (its index
 * entries are gone) or whose retired generation no longer lists it as live
 * is dead weight.  Rows keep their TIDs: compaction never touches an index.
 *
 * One step, under ShareUpdateExclusiveLock (one rustydb.flush(), background
 * flush, VACUUM or compaction at a time; DML and queries go on; a writer's
 * own flush too, except during the survey):
 *
 *	1. survey: read every page, leaves of the generation directory first,
 *	   then L0 pages: which stripe rows are referenced, which pages are
 *	   stripe pages.  (A reviver moves a retired generation's rows from its
 *	   leaf to a page, never the other way, and writes the page before the
 *	   leaf says so; visiting leaves first and pages after sees every row.)
 *	   Under the table's stripe-reference lock too (flush.c,
 *	   rdb_stripe_refs_lock), which keeps a writer's own flush out: its
 *	   stripe, written and not yet stubbed, would look unreferenced.  The
 *	   later phases do not hold it, so writers' flushes go on meanwhile;
 *	   what they write is newer than the survey, hence never an input and
 *	   never given back by it.
 *	2. policy (compact_choose): the inputs and the output level.
 *	3. write: the referenced rows of the inputs, in input order, become
 *	   one or more new stripes (stripe_write.c; WAL-logged page by page
 *	   before anything refers to them).
 *	4. switch: every directory entry, then every L0 stub that points at an
 *	   input is rewritten to point at its row in an output: leaf entries
 *	   under the leaf's exclusive lock (generic WAL), stubs under the
 *	   page's cleanup lock (an XLOG_RDB_FLUSH record: the same stub with
 *	   another locator, as a flush writes it).  A page someone has pinned is
 *	   retried for a while and then left: its rows keep pointing at the
 *	   input, which then stays.
 *	5. free: a later survey finds stripes nothing refers to (the inputs,
 *	   orphans of crashed flushes and compactions); their pages are added
 *	   to the metapage's free extent list, stamped with this transaction,
 *	   under no lock but ours.  They are written again only once it
 *	   committed and every snapshot on the server is newer (a reader that
 *	   copied a stub or entry before the switch has an older one), after a
 *	   record that cancels standby readers as old and a counter that empties
 *	   every backend's stripe caches (src/stripe/stripe_reuse.c).
 *
 * Crash safety: no step changes a row.  Any prefix of the WAL leaves every
 * referenced row readable: until the switch, outputs are unreferenced
 * (found and freed later); during it, a row points at its input or its
 * output, both present; inputs are freed only once nothing refers to them.
 *
 * Policy (documented in src/lsm/README.md): a stripe more than
 * rustydb.compaction_dead_fraction dead is rewritten with the other such
 * stripes of its level (same level); otherwise, from level 1 up, when a
 * level holds level_ratio stripes that are not full (live rows at most half
 * of max_stripe_rows, so that any two fit in one output), the oldest
 * (written first: the LSN of their first page; without WAL, the smallest row
 * number referring to them) are merged into the next level, in that order: up to level_ratio
 * of them, as many as one output holds (max_stripe_rows rows, and at most
 * rustydb.compaction_max_rows), at least two.  A step writes one output, so
 * that its inputs are given back before the next piece is written.
 *
 * IDENTIFICATION
 *	  src/lsm/compact.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "access/xloginsert.h"
#include "catalog/pg_class.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "portability/instr_time.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "rustydb/rustydb.h"
#include "rustydb/events.h"
#include "rustydb/gendir.h"
#include "rustydb/l0.h"
#include "rustydb/lsm.h"
#include "rustydb/options.h"
#include "rustydb/stripe.h"
#include "rustydb/xlog.h"
#include "../stripe/stripe_int.h"

int			rdb_compaction_level_ratio = 4;
int			rdb_compaction_max_stripe_rows = 1000000;
double		rdb_compaction_dead_fraction = 0.2;
int			rdb_compaction_max_rows = 4000000;
bool		rdb_enable_background_compaction = true;
int			rdb_compaction_pause_phase = RDB_COMPACT_PHASE_NONE;
int			rdb_compaction_pause_lock = 0;

/*
 * The running compaction's stop() (NULL for rustydb.compact()): the
 * background worker's says so when it is shutting down or another session
 * waits for a lock on the table.  Consulted between steps and before a
 * step starts writing (compact_yield).
 */
static bool (*step_stop) (void) = NULL;	/* consulted before and while a
												 * step writes */
static bool step_gave_up = false;	/* the error is a step given up */

#define NO_ROW		PG_UINT32_MAX

/* one referenced stripe, as the survey found it */
typedef struct CStripe
{
	BlockNumber first;			/* hash key */
	uint32		nblocks;
	uint32		nextents;		/* runs of its extent map (stripe.h) */
	RdbStripeExtent *ext;
	uint32		nrows;
	uint32		level;
	uint32		refs;			/* referenced rows */
	XLogRecPtr	written;		/* LSN of its first page: when it was
								 * written (0 for a table without WAL) */
	uint32		min_gen;		/* smallest generation of a row referring to
								 * it: its age where there is no LSN, roughly
								 * (first-time generations are block numbers,
								 * recycled ones come back) */
	uint8	   *refmap;			/* bit per row: referenced */
	/* set for the inputs of a step */
	bool		input;
	int			output;			/* index of the output holding its rows */
	uint32	   *newrow;			/* row -> row in that output, or NO_ROW */
	bool		stuck;			/* rows on a busy page still point at it */
} CStripe;

typedef struct CSurvey
{
	Oid			relid;
	MemoryContext cxt;
	HTAB	   *stripes;		/* CStripe by first block */
	BlockNumber nblocks;
	uint8	   *stripe_page;	/* bit per block < nblocks: a stripe page */
	BlockNumber *leaves;
	int			nleaves;
	int			maxleaves;
	RdbFreeExtent listed[RDB_META_MAX_FREE_EXTENTS];
	int			nlisted;
	RdbFreePageHint free_pages; /* FREE L0 pages, for the outputs */
	RdbFreeExtent *unref;		/* stripe pages nothing uses, not listed */
	int			nunref;
	int64		unref_blocks;
} CSurvey;

static inline bool
bit_test(const uint8 *map, uint32 i)
{
	return (map[i / 8] & (1 << (i % 8))) != 0;
}

static inline void
bit_set(uint8 *map, uint32 i)
{
	map[i / 8] |= (1 << (i % 8));
}

/* ------------------------------------------------------------------------
 * Pausing, for tests: wait on an advisory lock at a phase boundary
 * ------------------------------------------------------------------------
 */
static void
compact_pause(RdbCompactPhase phase)
{
	LOCKTAG		tag;

	if (rdb_compaction_pause_phase != (int) phase || rdb_compaction_pause_lock == 0)
		return;
	/* the lock pg_advisory_lock(rdb_compaction_pause_lock) takes */
	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, 0, (uint32) rdb_compaction_pause_lock, 1);
	(void) LockAcquire(&tag, ShareLock, false, false);
	LockRelease(&tag, ShareLock, false);
}

/* ------------------------------------------------------------------------
 * Survey
 * ------------------------------------------------------------------------
 */

/* the survey's record of the stripe starting at first, created on demand */
static CStripe *
survey_stripe(Relation rel, CSurvey *sv, uint32 first)
{
	CStripe    *st;
	bool		found;

	st = hash_search(sv->stripes, &first, HASH_ENTER, &found);
	if (!found)
	{
		RdbStripeHeader hdr;
		RdbStripeMap map;
		RdbStripeReader *sr;

		if (first < RDB_FIRST_DATA_BLKNO || first >= sv->nblocks)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("rustydb table \"%s\" refers to a stripe at block %u, beyond its %u blocks",
							RelationGetRelationName(rel), first, sv->nblocks)));
		rdb_stripe_read_header(rel, first, &hdr, &map);
		/* opening validates the directory and reads the level */
		sr = rdb_stripe_open(rel, first);
		st->level = rdb_stripe_level(sr);
		rdb_stripe_close(sr);
		st->nblocks = hdr.nblocks;
		st->nextents = map.nextents;
		st->ext = MemoryContextAlloc(sv->cxt, map.nextents * sizeof(RdbStripeExtent));
		memcpy(st->ext, map.ext, map.nextents * sizeof(RdbStripeExtent));
		st->nrows = hdr.nrows;
		st->refs = 0;
		{
			Buffer		buf = ReadBuffer(rel, first);

			LockBuffer(buf, BUFFER_LOCK_SHARE);
			st->written = RelationNeedsWAL(rel) ? PageGetLSN(BufferGetPage(buf)) : 0;
			UnlockReleaseBuffer(buf);
		}
		st->min_gen = PG_UINT32_MAX;
		st->refmap = MemoryContextAllocZero(sv->cxt, (hdr.nrows + 7) / 8);
		st->input = false;
		st->stuck = false;
		st->output = -1;
		st->newrow = NULL;
	}
	return st;
}

static void
survey_ref(Relation rel, CSurvey *sv, uint32 stripe, uint32 row, uint32 gen)
{
	CStripe    *st = survey_stripe(rel, sv, stripe);

	st->min_gen = Min(st->min_gen, gen);

	if (row >= st->nrows)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("rustydb table \"%s\" refers to row %u of the stripe at block %u, which has %u rows",
						RelationGetRelationName(rel), row, stripe, st->nrows)));
	if (!bit_test(st->refmap, row))
	{
		bit_set(st->refmap, row);
		st->refs++;
	}
}

/* the rows of retired entry e (copied) that are referenced */
static void
survey_entry(Relation rel, CSurvey *sv, const RdbGenEntry *e, uint32 gen)
{
	OffsetNumber off;
	uint32		k = 0;

	if (e->nlive == 0)
		return;
	if (e->maxoff > RDB_GEN_MAX_OFFSET)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("rustydb table \"%s\": generation %u has a directory entry for %u offsets",
						RelationGetRelationName(rel), gen, e->maxoff)));
	for (off = FirstOffsetNumber; off <= e->maxoff; off++)
	{
		if (!rdb_gen_bit(e->flushed, off))
			continue;
		if (rdb_gen_bit(e->live, off))
			survey_ref(rel, sv, e->stripe, e->first + k, gen);
		k++;
	}
}

/*
 * compact_survey
 *		Who refers to which stripe rows, and which pages are stripe pages
 *		nothing uses.  Caller holds ShareUpdateExclusiveLock and the
 *		stripe-reference lock (no flush may run meanwhile).
 */
static CSurvey *
compact_survey(Relation rel, BufferAccessStrategy strategy)
{
	CSurvey    *sv;
	MemoryContext cxt;
	MemoryContext old;
	HASHCTL		ctl;
	BlockNumber blkno;
	BlockNumber nblocks2;
	RdbGenEntry *entries;
	uint32	   *gens;
	RdbStubData *stubs;
	HASH_SEQ_STATUS hs;
	CStripe    *st;
	uint8	   *covered;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "rustydb compaction survey",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	sv = palloc0(sizeof(CSurvey));
	sv->relid = RelationGetRelid(rel);
	sv->cxt = cxt;
	ctl.keysize = sizeof(uint32);
	ctl.entrysize = sizeof(CStripe);
	ctl.hcxt = cxt;
	sv->stripes = hash_create("rustydb compaction stripes", 64, &ctl,
							  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	sv->nlisted = rdb_meta_free_extents(rel, sv->listed);
	sv->nblocks = RelationGetNumberOfBlocks(rel);
	sv->stripe_page = palloc0(sv->nblocks / 8 + 1);
	sv->maxleaves = 16;
	sv->leaves = palloc(sizeof(BlockNumber) * sv->maxleaves);
	entries = palloc(sizeof(RdbGenEntry) * RDB_GENDIR_PER_LEAF);
	gens = palloc(sizeof(uint32) * RDB_GENDIR_PER_LEAF);
	stubs = palloc(sizeof(RdbStubData) * MaxHeapTuplesPerPage);

	/* pass 1: stripe pages and directory leaves */
	for (blkno = RDB_FIRST_DATA_BLKNO; blkno < sv->nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;
		int			n = 0;
		int			i = -1;
		int			j;

		CHECK_FOR_INTERRUPTS();
		buf = rdb_read_buffer(rel, blkno, strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (rdb_stripe_page_is_stripe(page))
			bit_set(sv->stripe_page, blkno);
		else if (rdb_gen_page_is_leaf(page))
		{
			if (sv->nleaves == sv->maxleaves)
			{
				sv->maxleaves *= 2;
				sv->leaves = repalloc(sv->leaves, sizeof(BlockNumber) * sv->maxleaves);
			}
			sv->leaves[sv->nleaves++] = blkno;
			while ((i = rdb_gen_leaf_retired(page, i + 1, &gens[n], &entries[n])) >= 0)
				n++;
		}
		UnlockReleaseBuffer(buf);
		/* stripe headers are read with no page of ours locked */
		for (j = 0; j < n; j++)
			survey_entry(rel, sv, &entries[j], gens[j]);
	}

	/* pass 2: stubs on L0 pages (pages added since hold no stripe rows) */
	nblocks2 = RelationGetNumberOfBlocks(rel);
	for (blkno = RDB_FIRST_DATA_BLKNO; blkno < nblocks2; blkno++)
	{
		Buffer		buf;
		Page		page;
		int			n = 0;
		int			j;
		uint32		gen = 0;

		CHECK_FOR_INTERRUPTS();

		/*
		 * A free extent's block may have become an L0 page since pass 1
		 * saw its old stripe contents (rdb_meta_take_l0_page), and taken
		 * a revived generation's stubs: read again.
		 */
		if (blkno < sv->nblocks && bit_test(sv->stripe_page, blkno) &&
			rdb_extent_skip(sv->listed, sv->nlisted, blkno) == blkno)
			continue;
		buf = rdb_read_buffer(rel, blkno, strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (rdb_l0_page_is_l0(page))
		{
			OffsetNumber off;
			OffsetNumber maxoff = PageGetMaxOffsetNumber(page);

			gen = rdb_l0_page_generation(page, blkno);
			for (off = FirstOffsetNumber; off <= maxoff; off++)
			{
				ItemId		lp = PageGetItemId(page, off);
				HeapTupleHeader h;

				if (!ItemIdIsNormal(lp))
					continue;
				h = (HeapTupleHeader) PageGetItem(page, lp);
				if (rdb_tuple_is_stub(h))
					stubs[n++] = rdb_stub_data(h);
			}
		}
		else
			rdb_gen_hint_add(&sv->free_pages, page, blkno);
		UnlockReleaseBuffer(buf);
		for (j = 0; j < n; j++)
			survey_ref(rel, sv, stubs[j].stripe, stubs[j].row, gen);
	}

	/* stripe pages that no referenced stripe covers and no extent lists */
	covered = palloc0(sv->nblocks / 8 + 1);
	hash_seq_init(&hs, sv->stripes);
	while ((st = hash_seq_search(&hs)) != NULL)
	{
		uint32		b;
		uint32		r;

		for (r = 0; r < st->nextents; r++)
			for (b = st->ext[r].first;
				 b < st->ext[r].first + st->ext[r].nblocks && b < sv->nblocks; b++)
				bit_set(covered, b);
	}
	sv->unref = palloc(sizeof(RdbFreeExtent) * 16);
	{
		int			max = 16;

		for (blkno = RDB_FIRST_DATA_BLKNO; blkno < sv->nblocks;)
		{
			BlockNumber next = rdb_extent_skip(sv->listed, sv->nlisted, blkno);
			BlockNumber end;

			if (next != blkno)
			{
				blkno = next;
				continue;
			}
			if (!bit_test(sv->stripe_page, blkno) || bit_test(covered, blkno))
			{
				blkno++;
				continue;
			}
			end = blkno + 1;
			while (end < sv->nblocks && bit_test(sv->stripe_page, end) &&
				   !bit_test(covered, end) &&
				   rdb_extent_skip(sv->listed, sv->nlisted, end) == end)
				end++;
			if (sv->nunref == max)
			{
				max *= 2;
				sv->unref = repalloc(sv->unref, sizeof(RdbFreeExtent) * max);
			}
			sv->unref[sv->nunref].first = blkno;
			sv->unref[sv->nunref].nblocks = end - blkno;
			sv->unref[sv->nunref].xid = InvalidTransactionId;
			sv->nunref++;
			sv->unref_blocks += end - blkno;
			blkno = end;
		}
	}
	pfree(covered);
	pfree(entries);
	pfree(gens);
	pfree(stubs);
	MemoryContextSwitchTo(old);
	return sv;
}

static void
survey_free(CSurvey *sv)
{
	MemoryContextDelete(sv->cxt);
}

/*
 * compact_free_space
 *		Give the stripe pages the survey found unused back (free extent
 *		list), stamped with this transaction's xid: they are handed out
 *		again once it committed and every snapshot is newer
 *		(src/stripe/stripe_reuse.c).  No lock beyond the caller's
 *		ShareUpdateExclusiveLock, so load that never pauses cannot keep
 *		the space from coming back, and a transaction block may do it too.
 *		Returns the blocks given back.
 */
static int64
compact_free_space(Relation rel, CSurvey *sv, RdbCompactStats *stats)
{
	TransactionId xid;
	int64		gained;
	int			i;

	if (sv->nunref == 0)
		return 0;
	compact_pause(RDB_COMPACT_PHASE_FREEING);
	xid = GetCurrentTransactionId();
	for (i = 0; i < sv->nunref; i++)
		sv->unref[i].xid = xid;
	gained = rdb_meta_add_free_extents(rel, sv->unref, sv->nunref);
	stats->blocks_freed += gained;
	stats->blocks_pending += sv->unref_blocks - gained;
	return gained;
}

/* ------------------------------------------------------------------------
 * Policy
 * ------------------------------------------------------------------------
 */

/*
 * Inputs a step could not fully switch (a page was pinned), per backend:
 * the background worker starts a run every round, and rewriting such a
 * stripe again for its dead rows would write another copy of the same rows
 * each round while the page stays pinned.  They are left out of dead-row
 * rewrites for RDB_STUCK_MS.
 */
typedef struct StuckKey
{
	Oid			relid;
	BlockNumber first;
} StuckKey;

typedef struct StuckEnt
{
	StuckKey	key;
	TimestampTz at;
} StuckEnt;

#define RDB_STUCK_MS	(10 * 60 * 1000)

static HTAB *stuck_inputs = NULL;

static StuckKey
stuck_key(Oid relid, BlockNumber first)
{
	StuckKey	key;

	memset(&key, 0, sizeof(key));
	key.relid = relid;
	key.first = first;
	return key;
}

static void
stuck_note(Oid relid, BlockNumber first)
{
	StuckKey	key = stuck_key(relid, first);
	StuckEnt   *e;

	if (stuck_inputs == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(StuckKey);
		ctl.entrysize = sizeof(StuckEnt);
		ctl.hcxt = TopMemoryContext;
		stuck_inputs = hash_create("rustydb compaction stuck inputs", 64, &ctl,
								   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	/* bounded: forget everything rather than grow without end */
	if (hash_get_num_entries(stuck_inputs) >= 4096)
	{
		hash_destroy(stuck_inputs);
		stuck_inputs = NULL;
		stuck_note(relid, first);
		return;
	}
	e = hash_search(stuck_inputs, &key, HASH_ENTER, NULL);
	e->at = GetCurrentTimestamp();
}

static bool
stuck_recently(Oid relid, BlockNumber first)
{
	StuckKey	key = stuck_key(relid, first);
	StuckEnt   *e;

	if (stuck_inputs == NULL)
		return false;
	e = hash_search(stuck_inputs, &key, HASH_FIND, NULL);
	if (e == NULL)
		return false;
	if (TimestampDifferenceExceeds(e->at, GetCurrentTimestamp(), RDB_STUCK_MS))
	{
		hash_search(stuck_inputs, &key, HASH_REMOVE, NULL);
		return false;
	}
	return true;
}

static int
cstripe_cmp(const void *a, const void *b)
{
	const CStripe *x = *(CStripe *const *) a;
	const CStripe *y = *(CStripe *const *) b;

	if (x->level != y->level)
		return x->level < y->level ? -1 : 1;
	/* older first: the order they were written in (their first page's LSN) */
	if (x->written != 0 && y->written != 0 && x->written != y->written)
		return x->written < y->written ? -1 : 1;
	if (x->min_gen != y->min_gen)
		return x->min_gen < y->min_gen ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first ? 1 : 0;
}

/*
 * compact_choose
 *		The inputs of the next step (marked input = true, in order into
 *		*inputs) and the level of its outputs; 0 inputs: nothing to do.
 */
/* is block b among the n blocks of list? */
static bool
block_in(const BlockNumber *list, int n, BlockNumber b)
{
	int			i;

	for (i = 0; i < n; i++)
		if (list[i] == b)
			return true;
	return false;
}

/*
 * Within one run, stripes it rewrote are not chosen again (rows left on
 * busy pages keep them referenced), nor are its outputs rewritten for
 * their dead rows (copies of those same rows): either would loop.
 */
typedef struct CRunDone
{
	BlockNumber *inputs;
	int			ninputs;
	BlockNumber *outputs;
	int			noutputs;
} CRunDone;

static int
compact_choose(CSurvey *sv, const RdbTableOptions *opts, const CRunDone *done,
			   CStripe ***inputs, int *in_level, int *out_level)
{
	HASH_SEQ_STATUS hs;
	CStripe    *st;
	CStripe   **all;
	int			n = 0;
	int			ninputs = 0;
	int			i;
	/* more than half full: no two such stripes fit in one output */
	int64		full_rows = (int64) opts->max_stripe_rows / 2 + 1;
	int64		rows = 0;

	/*
	 * A step writes one output: its inputs can be given back right after
	 * (the background worker does so at the end of its round), before the
	 * next piece is written, and that piece can reuse their space.  A step
	 * of several outputs wrote them all while every input was still in use:
	 * a level-3 merge of 2 M rows grew bench/steady.sh's table by 29 MB at
	 * once.
	 */
	int64		cap = Min((int64) rdb_compaction_max_rows, (int64) opts->max_stripe_rows);

	all = palloc(sizeof(CStripe *) * Max(hash_get_num_entries(sv->stripes), 1));
	*inputs = palloc(sizeof(CStripe *) * Max(hash_get_num_entries(sv->stripes), 1));
	hash_seq_init(&hs, sv->stripes);
	while ((st = hash_seq_search(&hs)) != NULL)
		if (st->refs > 0 && !block_in(done->inputs, done->ninputs, st->first))
			all[n++] = st;
	qsort(all, n, sizeof(CStripe *), cstripe_cmp);

	/* 1. stripes too dead: rewritten (with their level's others) in place */
	for (i = 0; i < n; i++)
	{
		st = all[i];
		if (block_in(done->outputs, done->noutputs, st->first) ||
			stuck_recently(sv->relid, st->first))
			continue;
		if ((double) (st->nrows - st->refs) >= rdb_compaction_dead_fraction * st->nrows &&
			st->nrows > st->refs &&
			(ninputs == 0 || st->level == (uint32) *in_level) &&
			(ninputs == 0 || rows + st->refs <= cap))
		{
			(*inputs)[ninputs++] = st;
			rows += st->refs;
			*in_level = *out_level = (int) st->level;
		}
	}
	if (ninputs > 0)
		goto done;

	/* 2. a level with level_ratio stripes that are not full: merge them */
	for (i = 0; i < n;)
	{
		int			j;
		int			k = 0;
		uint32		level = all[i]->level;
		int			first_in = ninputs;

		rows = 0;
		for (j = i; j < n && all[j]->level == level; j++)
			if ((int64) all[j]->refs < full_rows)
				k++;
		if (k >= opts->level_ratio)
		{
			for (j = i; j < n && all[j]->level == level &&
				 ninputs - first_in < opts->level_ratio; j++)
			{
				if ((int64) all[j]->refs >= full_rows)
					continue;
				if (ninputs - first_in >= 2 && rows + all[j]->refs > cap)
					break;
				(*inputs)[ninputs++] = all[j];
				rows += all[j]->refs;
			}
			if (ninputs - first_in >= 2)
			{
				*in_level = (int) level;
				*out_level = (int) level + 1;
				break;
			}
			ninputs = first_in;
		}
		while (i < n && all[i]->level == level)
			i++;
	}

done:
	for (i = 0; i < ninputs; i++)
		(*inputs)[i]->input = true;
	pfree(all);
	return ninputs;
}

/* ------------------------------------------------------------------------
 * One step: write the outputs, switch the rows
 * ------------------------------------------------------------------------
 */

typedef struct CStep
{
	Relation	rel;
	CSurvey    *sv;
	CStripe   **inputs;
	int			ninputs;
	BlockNumber *out_first;		/* per output */
	int			noutputs;
	RdbCompactStats *stats;
} CStep;

static CStripe *
step_input(CStep *cs, uint32 stripe)
{
	CStripe    *st = hash_search(cs->sv->stripes, &stripe, HASH_FIND, NULL);

	return (st != NULL && st->input) ? st : NULL;
}

/* leaf entries: rdb_gen_remap_leaf's callback */
static bool
step_remap_entry(void *arg, RdbGenEntry *e)
{
	CStep	   *cs = (CStep *) arg;
	CStripe    *st = step_input(cs, e->stripe);
	OffsetNumber off;
	uint32		k = 0;
	uint32		nlive = 0;
	uint32		newfirst = NO_ROW;
	uint8		flushed[RDB_GEN_BITMAP_BYTES];

	if (st == NULL || st->output < 0 || e->maxoff > RDB_GEN_MAX_OFFSET)
		return false;
	memset(flushed, 0, sizeof(flushed));
	for (off = FirstOffsetNumber; off <= e->maxoff && e->nlive > 0; off++)
	{
		if (!rdb_gen_bit(e->flushed, off))
			continue;
		if (rdb_gen_bit(e->live, off))
		{
			uint32		r = e->first + k;
			uint32		nr = r < st->nrows ? st->newrow[r] : NO_ROW;

			/* every live row went, consecutively, or the entry stays */
			if (nr == NO_ROW || (newfirst != NO_ROW && nr != newfirst + nlive))
				return false;
			if (newfirst == NO_ROW)
				newfirst = nr;
			rdb_gen_set_bit(flushed, off);
			nlive++;
		}
		k++;
	}
	e->stripe = cs->out_first[st->output];
	e->first = newfirst == NO_ROW ? 0 : newfirst;
	memcpy(e->flushed, flushed, sizeof(flushed));
	cs->stats->rows_switched += nlive;
	return true;
}

/*
 * step_switch_page
 *		Point the stubs of block blkno that lead into an input at their
 *		rows in the outputs.  false: the cleanup lock was not free (retry).
 */
static bool
step_switch_page(CStep *cs, BlockNumber blkno, BufferAccessStrategy strategy)
{
	Relation	rel = cs->rel;
	Buffer		buf;
	Page		page;
	OffsetNumber off;
	OffsetNumber maxoff;
	xl_rdb_stub *stubs;
	int		   *stub_out;
	int			n = 0;
	int			o;

	buf = rdb_read_buffer(rel, blkno, strategy);
	if (!ConditionalLockBufferForCleanup(buf))
	{
		ReleaseBuffer(buf);
		return false;
	}
	page = BufferGetPage(buf);
	if (!rdb_l0_page_is_l0(page))
	{
		UnlockReleaseBuffer(buf);
		return true;
	}
	maxoff = PageGetMaxOffsetNumber(page);
	stubs = palloc(sizeof(xl_rdb_stub) * Max(maxoff, 1));
	stub_out = palloc(sizeof(int) * Max(maxoff, 1));
	for (off = FirstOffsetNumber; off <= maxoff; off++)
	{
		ItemId		lp = PageGetItemId(page, off);
		HeapTupleHeader h;
		RdbStubData sd;
		CStripe    *st;
		uint32		nr;

		if (!ItemIdIsNormal(lp))
			continue;
		h = (HeapTupleHeader) PageGetItem(page, lp);
		if (!rdb_tuple_is_stub(h))
			continue;
		sd = rdb_stub_data(h);
		st = step_input(cs, sd.stripe);
		if (st == NULL || st->output < 0)
			continue;
		nr = sd.row < st->nrows ? st->newrow[sd.row] : NO_ROW;
		if (nr == NO_ROW)
			continue;			/* not copied: keeps the input alive */
		stubs[n].offnum = off;
		stubs[n].row = nr;
		stub_out[n] = st->output;
		n++;
	}

	/* one record per output the page's rows went to */
	for (o = 0; o < cs->noutputs && n > 0; o++)
	{
		xl_rdb_stub *mine = palloc(sizeof(xl_rdb_stub) * n);
		int			m = 0;
		int			i;

		for (i = 0; i < n; i++)
			if (stub_out[i] == o)
				mine[m++] = stubs[i];
		if (m > 0)
		{
			START_CRIT_SECTION();
			rdb_l0_apply_stubs(page, cs->out_first[o], mine, m);
			MarkBufferDirty(buf);
			if (RelationNeedsWAL(rel))
			{
				xl_rdb_flush xlrec;
				XLogRecPtr	recptr;

				xlrec.stripe = cs->out_first[o];
				xlrec.nstubs = m;
				XLogBeginInsert();
				XLogRegisterData((char *) &xlrec, SizeOfRdbFlush);
				XLogRegisterBuffer(0, buf, REGBUF_STANDARD);
				XLogRegisterBufData(0, (char *) mine, m * SizeOfRdbStub);
				recptr = XLogInsert(RDB_RMGR_ID, XLOG_RDB_FLUSH);
				PageSetLSN(page, recptr);
			}
			END_CRIT_SECTION();
			cs->stats->rows_switched += m;
		}
		pfree(mine);
	}
	UnlockReleaseBuffer(buf);
	pfree(stubs);
	pfree(stub_out);
	return true;
}

/* the stubs of a page left pointing at inputs (for the stats) */
static int64
step_count_unswitched(CStep *cs, BlockNumber blkno)
{
	Buffer		buf = rdb_read_buffer(cs->rel, blkno, NULL);
	Page		page;
	OffsetNumber off;
	int64		n = 0;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	if (rdb_l0_page_is_l0(page))
	{
		for (off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); off++)
		{
			ItemId		lp = PageGetItemId(page, off);
			HeapTupleHeader h;

			if (!ItemIdIsNormal(lp))
				continue;
			h = (HeapTupleHeader) PageGetItem(page, lp);
			if (rdb_tuple_is_stub(h))
			{
				CStripe    *st = step_input(cs, rdb_stub_data(h).stripe);

				if (st != NULL)
				{
					st->stuck = true;
					n++;
				}
			}
		}
	}
	UnlockReleaseBuffer(buf);
	return n;
}

/*
 * compact_yield
 *		Should a step not start writing, because stop() says so (another
 *		session waits for a lock on the table, or the worker is stopping)?
 *		Then the step is put off, with nothing written: not a failure (no
 *		error, no back-off), only a line in the server log; the worker
 *		looks again at its next flush of the table or within a minute.  A
 *		step that has begun writing is given up (compact_give_up_check)
 *		if stop() says so while it writes or switches.
 */
static bool
compact_yield(Relation rel)
{
	if (step_stop == NULL || !step_stop())
		return false;
	ereport(LOG,
			(errmsg("background compaction of \"%s\" put its step off",
					RelationGetRelationName(rel)),
			 errdetail("Another session waits for a lock on the table, or the worker is stopping."),
			 errhint("A later round of the worker compacts the table again.")));
	return true;
}

/*
 * compact_give_up_check
 *		A step under way (writing, or switching rows to its outputs) whose
 *		stop() says so is given up with an ERROR, which the background
 *		worker logs as such (rdb_compact_gave_up): no failure, no back-off.
 *		Then DDL, VACUUM or a command that needs the database waits for a
 *		chunk group or a page at most, not for the step (seconds with a
 *		large max_stripe_rows or a sort key), and a DDL statement under
 *		lock_timeout no longer fails behind it.  What the step did stays
 *		as a crash would leave it: outputs nothing refers to yet, or rows
 *		switched to them, every row at its input or its output; the next
 *		survey gives back what nothing refers to.
 */
static void
compact_give_up_check(void)
{
	if (step_stop == NULL || !step_stop())
		return;
	step_gave_up = true;
	ereport(ERROR,
			(errcode(ERRCODE_QUERY_CANCELED),
			 errmsg("background compaction gave its step up"),
			 errdetail("Another session waits for a lock on the table, or the worker is stopping.")));
}

/*
 * rdb_compact_gave_up
 *		Was the error the background worker caught a step given up
 *		(compact_give_up_check)?  Resets the answer.
 */
bool
rdb_compact_gave_up(void)
{
	bool		r = step_gave_up;

	step_gave_up = false;
	return r;
}

/*
 * compact_step
 *		Rewrite the inputs into outputs of out_level and switch every row to
 *		them.  Emits the step's events.  False if the step was put off
 *		before writing anything (compact_yield).
 */
static bool
compact_step(Relation rel, CSurvey *sv, CStripe **inputs, int ninputs,
			 int in_level, int out_level, const RdbTableOptions *topts,
			 RdbCompactStats *stats, BufferAccessStrategy strategy,
			 CRunDone *done)
{
	CStep		cs;
	RdbStripeOptions sopts;
	MemoryContext batch;
	MemoryContext old;
	instr_time	start,
				duration;
	int64		rows_total = 0;
	int			i;
	int			g;
	BlockNumber blkno;
	BlockNumber nblocks;
	BlockNumber *retry;
	int			nretry = 0;
	int			round;
	int			stripes_out_before = stats->stripes_out;

	INSTR_TIME_SET_CURRENT(start);
	memset(&cs, 0, sizeof(cs));
	cs.rel = rel;
	cs.sv = sv;
	cs.inputs = inputs;
	cs.ninputs = ninputs;
	cs.stats = stats;
	cs.out_first = palloc(sizeof(BlockNumber) * ninputs);
	for (i = 0; i < ninputs; i++)
		rows_total += inputs[i]->refs;
	stats->level = in_level;
	stats->out_level = out_level;

	rdb_compact_progress_update(RDB_COMPACT_PHASE_WRITING, ninputs, rows_total, stats);
	compact_pause(RDB_COMPACT_PHASE_WRITING);
	if (compact_yield(rel))
	{
		pfree(cs.out_first);
		stats->put_off = true;
		return false;
	}
	rdb_emit_compaction_started(rel, in_level, ninputs);

	sopts.codec = topts->compression;
	sopts.level = topts->compression == RDB_CODEC_ZSTD ? topts->compression_level : 0;
	sopts.chunk_group_rows = topts->chunk_group_rows;
	sopts.stripe_level = out_level;
	sopts.nsortkeys = topts->nsortkeys;
	memcpy(sopts.sortkeys, topts->sortkeys, sizeof(sopts.sortkeys));
	sopts.free_pages = &sv->free_pages;
	sopts.interrupt_check = compact_give_up_check;

	batch = AllocSetContextCreate(CurrentMemoryContext, "rustydb compaction batch",
								  ALLOCSET_DEFAULT_SIZES);
	/* inputs in order, cut into outputs of at most max_stripe_rows rows */
	for (i = 0; i < ninputs;)
	{
		int			j = i;
		int64		rows = 0;
		HeapTuple  *tuples;
		int			nt = 0;
		RdbStripeInfo info;

		while (j < ninputs &&
			   (j == i || rows + inputs[j]->refs <= topts->max_stripe_rows))
			rows += inputs[j++]->refs;
		old = MemoryContextSwitchTo(batch);
		tuples = palloc_extended(sizeof(HeapTuple) * Max(rows, 1), MCXT_ALLOC_HUGE);
		for (g = i; g < j; g++)
		{
			CStripe    *st = inputs[g];
			uint32		r;
			RdbStripeReader *sr;
			const uint32 *rows_at;

			/*
			 * New row numbers keep the old ones' order (a retired
			 * generation's rows stay consecutive, gendir.h)...
			 */
			st->output = cs.noutputs;
			st->newrow = MemoryContextAllocHuge(sv->cxt, sizeof(uint32) * st->nrows);
			for (r = 0; r < st->nrows; r++)
			{
				if (!bit_test(st->refmap, r))
				{
					st->newrow[r] = NO_ROW;
					stats->rows_dropped++;
					continue;
				}
				st->newrow[r] = (uint32) nt++;
			}

			/*
			 * ... but the rows are read in the order the stripe stores them,
			 * so that a stripe sorted by a sort key is decoded a chunk group
			 * at a time rather than a chunk group per row.
			 */
			sr = rdb_stripe_open(rel, st->first);
			rows_at = rdb_stripe_position_rows(sr);
			for (r = 0; r < st->nrows; r++)
			{
				uint32		row = rows_at ? rows_at[r] : r;

				if ((r & 1023) == 0)
				{
					CHECK_FOR_INTERRUPTS();
					compact_give_up_check();
				}
				if (st->newrow[row] == NO_ROW)
					continue;
				tuples[st->newrow[row]] = rdb_stripe_form_tuple(rel, st->first,
																row, NULL, 0);
			}
			rdb_stripe_close(sr);
		}
		MemoryContextSwitchTo(old);
		rdb_stripe_write(rel, tuples, nt, &sopts, &info);
		rdb_meta_count_written(rel, true, info.stored_bytes, 0, 0);
		cs.out_first[cs.noutputs++] = info.first_block;
		done->outputs = repalloc(done->outputs,
								 sizeof(BlockNumber) * (done->noutputs + 1));
		done->outputs[done->noutputs++] = info.first_block;
		stats->stripes_out++;
		stats->rows_read += nt;
		stats->bytes_written += info.stored_bytes;
		MemoryContextReset(batch);
		rdb_compact_progress_update(RDB_COMPACT_PHASE_WRITING, ninputs, rows_total, stats);
		i = j;
	}
	MemoryContextDelete(batch);

	/* switch: directory entries first, then stubs */
	rdb_compact_progress_update(RDB_COMPACT_PHASE_SWITCHING, ninputs, rows_total, stats);
	compact_pause(RDB_COMPACT_PHASE_SWITCHING);
	for (i = 0; i < sv->nleaves; i++)
	{
		CHECK_FOR_INTERRUPTS();
		compact_give_up_check();
		(void) rdb_gen_remap_leaf(rel, sv->leaves[i], step_remap_entry, &cs);
	}
	nblocks = RelationGetNumberOfBlocks(rel);
	retry = palloc(sizeof(BlockNumber) * 64);
	for (blkno = RDB_FIRST_DATA_BLKNO; blkno < nblocks; blkno++)
	{
		CHECK_FOR_INTERRUPTS();
		if (blkno % 64 == 0)
			compact_give_up_check();
		/*
		 * Stripe pages are passed over, but not a free extent's block: it
		 * may have become an L0 page since the survey, and taken a revived
		 * generation's stubs, which point into the inputs as any others
		 * (rdb_meta_take_l0_page; the survey reads such blocks again too).
		 */
		if (blkno < sv->nblocks && bit_test(sv->stripe_page, blkno) &&
			rdb_extent_skip(sv->listed, sv->nlisted, blkno) == blkno)
			continue;
		if (!step_switch_page(&cs, blkno, strategy))
		{
			if (nretry % 64 == 0 && nretry > 0)
				retry = repalloc(retry, sizeof(BlockNumber) * (nretry + 64));
			retry[nretry++] = blkno;
		}
		if (blkno % 256 == 0)
			rdb_compact_progress_update(RDB_COMPACT_PHASE_SWITCHING, ninputs,
										rows_total, stats);
	}
	/* pinned pages: a few more tries, then their rows keep their inputs */
	for (round = 0; round < 20 && nretry > 0; round++)
	{
		int			left = 0;

		pg_usleep(50 * 1000L);
		compact_give_up_check();
		for (i = 0; i < nretry; i++)
			if (!step_switch_page(&cs, retry[i], strategy))
				retry[left++] = retry[i];
		nretry = left;
	}
	for (i = 0; i < nretry; i++)
		stats->rows_unswitched += step_count_unswitched(&cs, retry[i]);
	for (i = 0; i < ninputs; i++)
		if (inputs[i]->stuck)
			stuck_note(RelationGetRelid(rel), inputs[i]->first);
	pfree(retry);
	/* the remapped directory groups, summarised again for their outputs */
	rdb_gen_summarize_pending(rel);

	stats->steps++;
	stats->stripes_in += ninputs;
	rdb_meta_count_written(rel, true, 0, 0, 1);
	done->inputs = repalloc(done->inputs,
							sizeof(BlockNumber) * (done->ninputs + ninputs));
	for (i = 0; i < ninputs; i++)
		done->inputs[done->ninputs++] = inputs[i]->first;
	INSTR_TIME_SET_CURRENT(duration);
	INSTR_TIME_SUBTRACT(duration, start);

	/* events: what really happened */
	for (i = 1; i < ninputs; i++)
		if (inputs[i]->output == inputs[0]->output)
			rdb_emit_page_merged(rel, inputs[0]->first, inputs[i]->first,
								 cs.out_first[inputs[0]->output]);
	for (g = 1; g < cs.noutputs; g++)
		rdb_emit_page_split(rel, cs.out_first[0], cs.out_first[g],
							psprintf("merged rows exceed max_stripe_rows (%d)",
									 topts->max_stripe_rows));
	if (out_level != in_level)
		rdb_emit_level_migration(rel, in_level, out_level, ninputs);
	rdb_emit_compaction_completed(rel, in_level, ninputs,
								  stats->stripes_out - stripes_out_before,
								  (int64) INSTR_TIME_GET_MILLISEC(duration));
	pfree(cs.out_first);
	return true;
}

/* ------------------------------------------------------------------------
 * Entry points
 * ------------------------------------------------------------------------
 */

/* the work of rdb_compact_relation, between its progress reports */
static int64
compact_relation(Relation rel, RdbCompactStats *stats, int max_steps,
				 bool (*stop) (void), bool background)
{
	RdbTableOptions topts;
	BufferAccessStrategy strategy = GetAccessStrategy(BAS_BULKREAD);
	CSurvey    *sv;
	CRunDone	done;

	rdb_table_options(rel, &topts);
	done.inputs = palloc(sizeof(BlockNumber));
	done.ninputs = 0;
	done.outputs = palloc(sizeof(BlockNumber));
	done.noutputs = 0;
	/* a run is bounded: at most this many steps (each bounded in rows) */
	if (max_steps <= 0)
		max_steps = 1000;
	for (;;)
	{
		CStripe   **inputs;
		int			ninputs;
		int			in_level = 0;
		int			out_level = 0;

		rdb_compact_progress_update(RDB_COMPACT_PHASE_SURVEYING, 0, 0, stats);
		/*
		 * A writer's own flush may hold it for a moment.  The background
		 * worker puts the step off rather than wait long (and the space a
		 * previous step freed waits for its next survey).
		 */
		if (!rdb_stripe_refs_lock_unless(rel, stop))
		{
			stats->put_off = true;
			sv = NULL;
			break;
		}
		sv = compact_survey(rel, strategy);
		rdb_stripe_refs_unlock(rel);
		if (stats->steps >= max_steps || (stop != NULL && stop()))
			break;
		ninputs = compact_choose(sv, &topts, &done, &inputs, &in_level, &out_level);
		if (ninputs == 0)
			break;
		if (!compact_step(rel, sv, inputs, ninputs, in_level, out_level,
						  &topts, stats, strategy, &done))
			break;
		survey_free(sv);
	}
	/*
	 * The last survey saw what the steps left unreferenced: give it back
	 * (one metapage change, waiting for nobody).
	 */
	if (sv != NULL)
	{
		rdb_compact_progress_update(RDB_COMPACT_PHASE_FREEING, 0, 0, stats);
		(void) compact_free_space(rel, sv, stats);
		survey_free(sv);
	}
	FreeAccessStrategy(strategy);
	return stats->stripes_in;
}

/*
 * rdb_compact_relation
 *		Compact rel (a rustydb table the caller holds
 *		ShareUpdateExclusiveLock on) as the policy says, at most max_steps
 *		steps (0: until the policy has nothing to do, at most 1000), stopping early when
 *		stop() says so; then give back the stripe space nothing uses
 *		(reused once this transaction committed and no snapshot is older:
 *		compact_free_space).  Returns the stripes rewritten.  Shows in
 *		rustydb.compaction_progress while it runs and in the table's history
 *		after, with the error if it failed.
 */
int64
rdb_compact_relation(Relation rel, RdbCompactStats *stats, int max_steps,
					 bool (*stop) (void), bool background)
{
	int64		n;

	memset(stats, 0, sizeof(*stats));
	rdb_compact_progress_begin(rel, background);
	step_stop = stop;
	PG_TRY();
	{
		n = compact_relation(rel, stats, max_steps, stop, background);
	}
	PG_CATCH();
	{
		MemoryContext ecxt;
		ErrorData  *edata;

		step_stop = NULL;
		ecxt = MemoryContextSwitchTo(ErrorContext);
		edata = CopyErrorData();

		MemoryContextSwitchTo(ecxt);
		/*
		 * A step given up is no failure: no error in the history, and no
		 * success either, which would reset the table's back-off
		 * (compact_progress.c): recorded as put off.
		 */
		if (step_gave_up)
			stats->put_off = true;
		rdb_compact_progress_end(rel, stats, step_gave_up ? NULL : edata->message);
		FreeErrorData(edata);
		PG_RE_THROW();
	}
	PG_END_TRY();
	step_stop = NULL;
	rdb_compact_progress_end(rel, stats, NULL);
	return n;
}

/*
 * rustydb.compact(regclass) RETURNS bigint
 *		Compact the table now, as far as the policy goes; returns the
 *		stripes rewritten.
 */
PG_FUNCTION_INFO_V1(rustydb_compact);
Datum
rustydb_compact(PG_FUNCTION_ARGS)
{
	Relation	rel;
	RdbCompactStats stats;
	int64		n;

	rel = rdb_lsm_open_table(PG_GETARG_OID(0), "rustydb.compact()", "compact");
	n = rdb_compact_relation(rel, &stats, 0, NULL, false);
	ereport(DEBUG1,
			(errmsg("compacted \"%s\": %d steps, %d stripes into %d, %lld rows copied, %lld dropped, %lld rows switched, %lld left on busy pages, %lld stripe pages freed, %lld pending",
					RelationGetRelationName(rel), stats.steps, stats.stripes_in,
					stats.stripes_out, (long long) stats.rows_read,
					(long long) stats.rows_dropped, (long long) stats.rows_switched,
					(long long) stats.rows_unswitched,
					(long long) stats.blocks_freed, (long long) stats.blocks_pending)));
	relation_close(rel, ShareUpdateExclusiveLock);
	PG_RETURN_INT64(n);
}

/*
 * rdb_compact_background_table
 *		The background worker's compaction of one table (caller holds
 *		ShareUpdateExclusiveLock and an active snapshot, in a transaction of
 *		its own that it commits right after): one step, then the space
 *		given back.  Skipped while the table backs off after a failure
 *		(rdb_compact_backoff).  flushed: the worker just flushed it.
 *		Returns whether it did a step (the next round should look again).
 */
bool
rdb_compact_background_table(Relation rel, bool flushed, bool (*stop) (void))
{
	RdbCompactStats stats;

	if (!rdb_enable_background_compaction || !rdb_meta_has_stripes(rel))
		return false;
	if (rdb_compact_backoff(rel))
		return false;
	(void) flushed;
	pgstat_report_activity(STATE_RUNNING, "rustydb background compaction");
	(void) rdb_compact_relation(rel, &stats, 1, stop, true);
	if (stats.steps > 0 || stats.blocks_freed > 0)
		ereport(DEBUG1,
				(errmsg("rustydb background compaction of \"%s\": %d stripes of level %d into %d of level %d, %lld rows dropped, %lld stripe pages freed",
						RelationGetRelationName(rel), stats.stripes_in, stats.level,
						stats.stripes_out, stats.out_level,
						(long long) stats.rows_dropped, (long long) stats.blocks_freed)));
	return stats.steps > 0;
}
