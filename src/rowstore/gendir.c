/*-------------------------------------------------------------------------
 *
 * gendir.c
 *	  The generation directory: retire flushed L0 pages, reuse their blocks
 *	  under new generations, resolve a TID's generation to its page or to
 *	  its retired description, revive a retired generation for a writer.
 *
 * See gendir.h for the idea and the locking order.  WAL:
 *	- retiring a page (the page becomes FREE, its rows an entry) is one
 *	  XLOG_RDB_RETIRE record of our rmgr: redo needs a cleanup lock on the
 *	  page, as for pruning, and a recovery conflict horizon, as for freezing
 *	  (retired rows read as frozen);
 *	- directory pages (allocation, root pointers), reusing a FREE page under
 *	  a new or recycled generation and reviving a generation into a free
 *	  page are
 *	  generic WAL: they only ever write pages nobody reads tuples from
 *	  (directory pages, FREE or new pages), so neither cleanup locks nor
 *	  heap_mask matter, and none of them changes a row.
 *
 * IDENTIFICATION
 *	  src/rowstore/gendir.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/multixact.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/xloginsert.h"
#include "access/xlogutils.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "storage/bufmgr.h"
#include "storage/freespace.h"
#include "storage/lmgr.h"
#include "storage/procarray.h"
#include "storage/standby.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "rustydb/events.h"
#include "rustydb/gendir.h"
#include "rustydb/l0.h"
#include "rustydb/stripe.h"
#include "rustydb/xlog.h"

#define RdbPageGetMeta(page)	((RdbMetaPage) PageGetContents(page))
#define GenLeafEntries(page)	((RdbGenEntry *) PageGetContents(page))
#define GenRootSlots(page)		((uint32 *) PageGetContents(page))
#define GenSummaries(page)		((RdbGenSummary *) PageGetContents(page))

StaticAssertDecl(RDB_GENDIR_MAX_ROOTS == lengthof(((RdbMetaPageData *) 0)->gendir_roots[0]),
				 "metapage root array size");
StaticAssertDecl(RDB_GENDIR_MAX_ROOTS == lengthof(((RdbMetaPageData *) 0)->gendir_sums[0]),
				 "metapage summary array size");
StaticAssertDecl(RDB_GENDIR_PER_ROOT % RDB_GENDIR_LEAVES_PER_GROUP == 0,
				 "a leaf group never straddles two roots");
StaticAssertDecl(RDB_GENDIR_GROUPS_PER_ROOT * sizeof(RdbGenSummary) <=
				 BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(8),
				 "a root's summaries fit one page");
StaticAssertDecl(sizeof(RdbMetaPageData) <= BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(8),
				 "metapage size");

/* where a generation's entry lives */
typedef struct GenAddr
{
	int			space;			/* 0: first-time generations, 1: remapped */
	uint32		rootno;			/* index into the metapage's root array */
	uint32		rootslot;		/* leaf pointer within the root page */
	uint32		leafidx;		/* entry within the leaf page */
	uint32		leafbase;		/* first generation of the leaf */
} GenAddr;

static void
gen_addr(uint32 gen, GenAddr *a)
{
	uint32		local = gen & ~RDB_FIRST_REMAPPED_GENERATION;
	uint32		leafno = local / RDB_GENDIR_PER_LEAF;

	a->space = gen >= RDB_FIRST_REMAPPED_GENERATION ? 1 : 0;
	a->rootno = leafno / RDB_GENDIR_PER_ROOT;
	a->rootslot = leafno % RDB_GENDIR_PER_ROOT;
	a->leafidx = local % RDB_GENDIR_PER_LEAF;
	a->leafbase = gen - a->leafidx;
}

static void gen_note_changed(Relation rel, uint32 gen);
static Buffer gen_lock_summary(Relation rel, const GenAddr *a);
static bool gen_summary_clear(GenericXLogState *state, Buffer sumbuf,
							  const GenAddr *a);

/* ------------------------------------------------------------------------
 * Page kinds
 * ------------------------------------------------------------------------
 */

static bool
gen_page_kind_is(Page page, uint16 kind)
{
	RdbPageOpaque o;

	if (PageIsNew(page) ||
		PageGetSpecialSize(page) != MAXALIGN(sizeof(RdbPageOpaqueData)))
		return false;
	o = RdbPageGetOpaque(page);
	return o->magic == RDB_PAGE_MAGIC && o->kind == kind;
}

bool
rdb_gen_page_is_free(Page page)
{
	return gen_page_kind_is(page, RDB_PAGE_KIND_FREE);
}

bool
rdb_gen_page_is_leaf(Page page)
{
	return gen_page_kind_is(page, RDB_PAGE_KIND_GENDIR_LEAF);
}

/* initialise a non-L0 rustydb page; contents bytes stay out of the hole */
static void
gen_page_init(Page page, uint16 kind, uint32 ident, Size contents)
{
	rdb_page_init_special(page, kind, ident);
	if (contents > 0)
		((PageHeader) page)->pd_lower = MAXALIGN(SizeOfPageHeaderData) + contents;
}

/* metapage contents past the old pd_lower must not fall into the hole */
static void
gen_meta_fix_lower(Page page)
{
	RdbMetaPage meta = RdbPageGetMeta(page);
	LocationIndex lower = ((char *) meta + sizeof(RdbMetaPageData)) - (char *) page;

	if (((PageHeader) page)->pd_lower < lower)
		((PageHeader) page)->pd_lower = lower;
}

/* the identity (generation field) of the root page, and summary page, of a */
static inline uint32
gen_root_ident(const GenAddr *a)
{
	return (a->space ? RDB_FIRST_REMAPPED_GENERATION : 0) + a->rootno;
}

/* pin and lock (mode) the root page at block root; ERROR if it is none */
static Buffer
gen_lock_root(Relation rel, BlockNumber root, int mode)
{
	Buffer		buf = ReadBuffer(rel, root);

	LockBuffer(buf, mode);
	if (!gen_page_kind_is(BufferGetPage(buf), RDB_PAGE_KIND_GENDIR_ROOT))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("block %u of rustydb table \"%s\" is not a generation directory root",
						root, RelationGetRelationName(rel))));
	return buf;
}

/* ------------------------------------------------------------------------
 * Finding a leaf
 * ------------------------------------------------------------------------
 */

/* per-backend cache: (relfilenode, leaf base) -> leaf block, checked on use */
typedef struct GenLeafKey
{
	RelFileNode node;
	uint32		leafbase;
} GenLeafKey;

typedef struct GenLeafCacheEnt
{
	GenLeafKey	key;
	BlockNumber leaf;
} GenLeafCacheEnt;

static HTAB *gen_leaf_cache = NULL;
static bool gen_leaf_cache_stale = false;

/*
 * Any relcache invalidation (a relation dropped, truncated or rewritten, in
 * this backend or another) makes the next lookup start from an empty cache:
 * a relfilenode number can come back for another relation.  Entries are
 * also checked against the leaf page itself when used.
 */
static void
gen_cache_inval(Datum arg, Oid relid)
{
	gen_leaf_cache_stale = true;
}

static GenLeafCacheEnt *
gen_cache_lookup(Relation rel, uint32 leafbase, bool create)
{
	GenLeafKey	key;
	bool		found;
	static bool registered = false;

	if (!registered)
	{
		CacheRegisterRelcacheCallback(gen_cache_inval, (Datum) 0);
		registered = true;
	}
	if (gen_leaf_cache_stale)
	{
		gen_leaf_cache_stale = false;
		rdb_gen_forget();
	}
	if (gen_leaf_cache == NULL)
	{
		HASHCTL		ctl;

		if (!create)
			return NULL;
		ctl.keysize = sizeof(GenLeafKey);
		ctl.entrysize = sizeof(GenLeafCacheEnt);
		ctl.hcxt = TopMemoryContext;
		gen_leaf_cache = hash_create("rustydb generation directory leaves",
									 256, &ctl,
									 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	memset(&key, 0, sizeof(key));
	key.node = rel->rd_node;
	key.leafbase = leafbase;
	return hash_search(gen_leaf_cache, &key, create ? HASH_ENTER : HASH_FIND,
					   &found);
}

/*
 * rdb_gen_forget
 *		Drop the leaf cache (a relation truncated in place may reuse blocks).
 */
void
rdb_gen_forget(void)
{
	if (gen_leaf_cache != NULL)
	{
		hash_destroy(gen_leaf_cache);
		gen_leaf_cache = NULL;
	}
}

/* the leaf block for a, from the metapage and root, or InvalidBlockNumber */
static BlockNumber
gen_find_leaf_uncached(Relation rel, const GenAddr *a)
{
	Buffer		buf;
	uint32		root;
	uint32		leaf = 0;

	if (a->rootno >= RDB_GENDIR_MAX_ROOTS)
		return InvalidBlockNumber;
	buf = ReadBuffer(rel, RDB_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	root = RdbPageGetMeta(BufferGetPage(buf))->gendir_roots[a->space][a->rootno];
	UnlockReleaseBuffer(buf);
	if (root == 0)
		return InvalidBlockNumber;
	buf = gen_lock_root(rel, root, BUFFER_LOCK_SHARE);
	leaf = GenRootSlots(BufferGetPage(buf))[a->rootslot];
	UnlockReleaseBuffer(buf);
	return leaf == 0 ? InvalidBlockNumber : leaf;
}

/*
 * Pin and lock the leaf of a (mode: BUFFER_LOCK_SHARE or _EXCLUSIVE), or
 * return InvalidBuffer if it does not exist.
 */
static Buffer
gen_lock_leaf(Relation rel, const GenAddr *a, int mode)
{
	GenLeafCacheEnt *ent = gen_cache_lookup(rel, a->leafbase, false);
	BlockNumber leaf;
	bool		cached = false;

	for (;;)
	{
		Buffer		buf;
		Page		page;

		if (ent != NULL && !cached)
		{
			leaf = ent->leaf;
			cached = true;
		}
		else
		{
			leaf = gen_find_leaf_uncached(rel, a);
			cached = false;
			if (!BlockNumberIsValid(leaf))
				return InvalidBuffer;
		}
		{
			buf = ReadBuffer(rel, leaf);
			LockBuffer(buf, mode);
			page = BufferGetPage(buf);
			if (gen_page_kind_is(page, RDB_PAGE_KIND_GENDIR_LEAF) &&
				RdbPageGetOpaque(page)->generation == a->leafbase)
			{
				if (!cached)
					gen_cache_lookup(rel, a->leafbase, true)->leaf = leaf;
				return buf;
			}
			UnlockReleaseBuffer(buf);
		}
		if (!cached)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("block %u of rustydb table \"%s\" is not the generation directory leaf for generation %u",
							leaf, RelationGetRelationName(rel), a->leafbase)));
		/* a stale cache entry: forget it, ask the directory */
		hash_search(gen_leaf_cache, &ent->key, HASH_REMOVE, NULL);
		ent = NULL;
	}
}

/*
 * Copy n entries, from index first, of the leaf holding the generation at a
 * (share-locked while copying); false if that leaf does not exist.
 */
static bool
gen_copy_entries(Relation rel, const GenAddr *a, int first, int n,
				 RdbGenEntry *out)
{
	Buffer		buf = gen_lock_leaf(rel, a, BUFFER_LOCK_SHARE);
	uint32		leafgen;
	int			i;

	if (!BufferIsValid(buf))
		return false;
	leafgen = RdbPageGetOpaque(BufferGetPage(buf))->generation;
	memcpy(out, &GenLeafEntries(BufferGetPage(buf))[first],
		   sizeof(RdbGenEntry) * n);
	UnlockReleaseBuffer(buf);
	for (i = 0; i < n; i++)
		rdb_gen_check_entry(&out[i], leafgen + first + i);
	return true;
}

/*
 * rdb_gen_check_entry
 *		Raise XX001 for a retired entry no writer could have made.  Its
 *		maxoff bounds every loop over its offsets, which index line pointers
 *		of a page built from it (rdb_gen_build_page), its bitmaps, and row
 *		arrays sized for MaxHeapTuplesPerPage: a damaged maxoff must stop
 *		the reader here, not run past those (or, as a uint16 counter that
 *		wraps, forever).  Every path that copies entries out of a leaf
 *		checks them (gen_copy_entries, rdb_gen_leaf_retired, reviving and
 *		summarising); compaction's survey has its own check.
 */
void
rdb_gen_check_entry(const RdbGenEntry *e, uint32 gen)
{
	if (e->phys == RDB_GEN_RETIRED &&
		(e->maxoff > RDB_GEN_MAX_OFFSET || e->nlive > e->maxoff))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("rustydb generation directory entry of generation %u is corrupted", gen),
				 errdetail("It describes %u offsets and %u live rows; an entry describes at most %d offsets.",
						   e->maxoff, e->nlive, (int) RDB_GEN_MAX_OFFSET)));
}

/*
 * rdb_gen_lookup
 *		Copy generation gen's entry; false if it has none.
 */
bool
rdb_gen_lookup(Relation rel, uint32 gen, RdbGenEntry *entry)
{
	GenAddr		a;

	gen_addr(gen, &a);
	return gen_copy_entries(rel, &a, a.leafidx, 1, entry) &&
		entry->phys != RDB_GEN_NONE;
}

/*
 * rdb_gen_copy_leaf
 *		Copy all entries of the directory leaf that holds generation gen
 *		(RDB_GENDIR_PER_LEAF of them, the first for the leaf's first
 *		generation) into entries; false if that leaf does not exist.
 */
bool
rdb_gen_copy_leaf(Relation rel, uint32 gen, RdbGenEntry *entries)
{
	GenAddr		a;

	gen_addr(gen, &a);
	return gen_copy_entries(rel, &a, 0, RDB_GENDIR_PER_LEAF, entries);
}

/* the metapage's flags and generation counter */
static void
gen_meta_read(Relation rel, uint32 *flags, uint32 *next_generation)
{
	Buffer		buf;
	RdbMetaPage meta;

	buf = ReadBuffer(rel, RDB_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	meta = RdbPageGetMeta(BufferGetPage(buf));
	*flags = meta->flags;
	*next_generation = meta->next_generation;
	UnlockReleaseBuffer(buf);
}

/*
 * rdb_meta_gendir
 *		Has any page of rel ever been retired (then physical block order is
 *		no longer TID order)?  *next_generation (if not NULL) gets one past
 *		the highest remapped generation given so far.  One metapage read.
 */
bool
rdb_meta_gendir(Relation rel, uint32 *next_generation)
{
	uint32		flags;
	uint32		next;

	gen_meta_read(rel, &flags, &next);
	if (next_generation)
		*next_generation = next;
	return (flags & RDB_META_HAS_GENDIR) != 0;
}

/* is buf (pinned) the L0 page of generation gen?  Takes a share lock. */
static bool
gen_buffer_holds(Buffer buf, uint32 gen)
{
	Page		page = BufferGetPage(buf);
	bool		ok;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	ok = rdb_l0_page_is_l0(page) &&
		rdb_l0_page_generation(page, BufferGetBlockNumber(buf)) == gen;
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	return ok;
}

/*
 * rdb_gen_read
 *		Pin the L0 page of generation gen (not locked).  While pinned it
 *		stays that generation's page: retiring needs a cleanup lock.
 *
 * Returns InvalidBuffer if the generation has no page: then *is_retired
 * says whether it is retired, and *retired (if not NULL) gets its entry.
 */
Buffer
rdb_gen_read(Relation rel, uint32 gen, BufferAccessStrategy strategy,
			 RdbGenEntry *retired, bool *is_retired)
{
	uint32		tried = RDB_GEN_NONE;
	bool		own_block;

	*is_retired = false;
	if (gen < RDB_FIRST_DATA_BLKNO)
		return InvalidBuffer;

	/*
	 * A first-time generation is looked for at its own block first (one
	 * buffer read, the common case of an unflushed page), unless this
	 * backend already knows its directory leaf: then the generation is
	 * probably retired, and the leaf answers without reading the free page
	 * its block has become.
	 */
	own_block = gen < RDB_FIRST_REMAPPED_GENERATION;
	if (own_block)
	{
		GenAddr		a;

		gen_addr(gen, &a);
		if (gen_cache_lookup(rel, a.leafbase, false) == NULL)
		{
			Buffer		buf = rdb_read_buffer(rel, gen, strategy);

			if (gen_buffer_holds(buf, gen))
				return buf;
			ReleaseBuffer(buf);
			own_block = false;	/* tried */
		}
	}
	for (;;)
	{
		RdbGenEntry e;
		uint32		blkno;
		Buffer		buf;

		if (rdb_gen_lookup(rel, gen, &e))
		{
			if (e.phys == RDB_GEN_RETIRED)
			{
				*is_retired = true;
				if (retired)
					*retired = e;
				return InvalidBuffer;
			}
			blkno = e.phys;
		}
		else if (own_block)
			blkno = gen;		/* no entry: a first-time page, not tried yet */
		else
			return InvalidBuffer;
		own_block = false;
		/* the entry did not change but its page is not the generation's */
		if (blkno == tried)
			return InvalidBuffer;
		buf = rdb_read_buffer(rel, blkno, strategy);
		if (gen_buffer_holds(buf, gen))
			return buf;
		ReleaseBuffer(buf);
		tried = blkno;
	}
}

/* stripe row of offset off in a retired entry */
static uint32
gen_stripe_row(const RdbGenEntry *e, OffsetNumber off)
{
	uint32		rank = 0;
	OffsetNumber o;

	for (o = FirstOffsetNumber; o < off; o++)
		if (rdb_gen_bit(e->flushed, o))
			rank++;
	return e->first + rank;
}

/* the frozen stub of (gen, off) of a retired entry, into stub */
static void
gen_make_stub(uint32 gen, OffsetNumber off, uint32 stripe, uint32 row,
			  char *stub)
{
	HeapTupleHeaderData h;

	memset(&h, 0, sizeof(h));
	HeapTupleHeaderSetXmin(&h, FrozenTransactionId);
	HeapTupleHeaderSetXmax(&h, InvalidTransactionId);
	HeapTupleHeaderSetCmin(&h, FirstCommandId);
	h.t_infomask = HEAP_XMIN_FROZEN | HEAP_XMAX_INVALID;
	ItemPointerSet(&h.t_ctid, gen, off);
	rdb_l0_make_stub(&h, stripe, row, stub);
}

/*
 * rdb_gen_retired_stub
 *		For a read path: the frozen stub of tid in retired entry e, in stub
 *		(RDB_STUB_LEN bytes); false if the offset holds no row.
 */
bool
rdb_gen_retired_stub(const RdbGenEntry *e, ItemPointer tid, char *stub)
{
	OffsetNumber off = ItemPointerGetOffsetNumber(tid);

	if (off < FirstOffsetNumber || off > e->maxoff || !rdb_gen_bit(e->live, off))
		return false;
	gen_make_stub(ItemPointerGetBlockNumber(tid), off, e->stripe,
				  gen_stripe_row(e, off), stub);
	return true;
}

/*
 * rdb_gen_build_page
 *		The L0 page of frozen stubs a retired entry describes: what readers
 *		look at, and what reviving writes.  Pure (redo of reviving is a
 *		page image, but scans must build the same bytes).
 */
void
rdb_gen_build_page(Page page, uint32 gen, const RdbGenEntry *e)
{
	PageHeader	ph = (PageHeader) page;
	LocationIndex upper;
	OffsetNumber off;
	uint32		row = e->first;
	bool		holes = false;

	rdb_gen_check_entry(e, gen);
	rdb_page_init_special(page, RDB_PAGE_KIND_L0, gen);
	upper = ph->pd_upper;
	for (off = FirstOffsetNumber; off <= e->maxoff; off++)
	{
		ItemId		lp = PageGetItemId(page, off);

		if (rdb_gen_bit(e->live, off))
		{
			upper -= MAXALIGN(RDB_STUB_LEN);
			gen_make_stub(gen, off, e->stripe, row, (char *) page + upper);
			ItemIdSetNormal(lp, upper, RDB_STUB_LEN);
		}
		else
		{
			ItemIdSetUnused(lp);
			holes = true;
		}
		if (rdb_gen_bit(e->flushed, off))
			row++;
	}
	ph->pd_lower = SizeOfPageHeaderData + e->maxoff * sizeof(ItemIdData);
	ph->pd_upper = upper;
	if (holes)
		PageSetHasFreeLinePointers(page);
	/* every row is frozen: scans may skip per-row visibility checks */
	PageSetAllVisible(page);
}

/*
 * rdb_gen_leaf_retired
 *		The first retired entry of a (share-locked) leaf page at index >=
 *		from: its index, with *gen and *e set; -1 if none.
 */
int
rdb_gen_leaf_retired(Page leaf, int from, uint32 *gen, RdbGenEntry *e)
{
	RdbGenEntry *entries = GenLeafEntries(leaf);
	int			i;

	for (i = Max(from, 0); i < (int) RDB_GENDIR_PER_LEAF; i++)
	{
		if (entries[i].phys == RDB_GEN_RETIRED)
		{
			*e = entries[i];
			*gen = RdbPageGetOpaque(leaf)->generation + i;
			rdb_gen_check_entry(e, *gen);
			return i;
		}
	}
	return -1;
}

/* ------------------------------------------------------------------------
 * Directory pages
 * ------------------------------------------------------------------------
 */

/* a new directory page at the end of the relation, WAL-logged */
static BlockNumber
gen_alloc_page(Relation rel, uint16 kind, uint32 ident, Size contents)
{
	Buffer		buf;
	BlockNumber blkno;

	if (!RELATION_IS_LOCAL(rel))
		LockRelationForExtension(rel, ExclusiveLock);
	buf = ReadBufferExtended(rel, MAIN_FORKNUM, P_NEW, RBM_ZERO_AND_LOCK, NULL);
	if (!RELATION_IS_LOCAL(rel))
		UnlockRelationForExtension(rel, ExclusiveLock);
	blkno = BufferGetBlockNumber(buf);

	START_CRIT_SECTION();
	gen_page_init(BufferGetPage(buf), kind, ident, contents);
	MarkBufferDirty(buf);
	if (RelationNeedsWAL(rel))
		log_newpage_buffer(buf, true);
	END_CRIT_SECTION();
	UnlockReleaseBuffer(buf);
	return blkno;
}

/*
 * Make sure the leaf of a exists; metabuf is the exclusively locked
 * metapage.  Returns the leaf's block, InvalidBlockNumber if a is beyond
 * what the directory can address.
 */
static BlockNumber
gen_prepare_locked(Relation rel, Buffer metabuf, const GenAddr *a)
{
	RdbMetaPage meta = RdbPageGetMeta(BufferGetPage(metabuf));
	uint32		root;
	Buffer		rootbuf;
	uint32		leaf;

	if (a->rootno >= RDB_GENDIR_MAX_ROOTS)
		return InvalidBlockNumber;
	root = meta->gendir_roots[a->space][a->rootno];
	if (root == 0)
	{
		GenericXLogState *state;
		Page		page;

		root = gen_alloc_page(rel, RDB_PAGE_KIND_GENDIR_ROOT, gen_root_ident(a),
							  RDB_GENDIR_PER_ROOT * sizeof(uint32));
		state = GenericXLogStart(rel);
		page = GenericXLogRegisterBuffer(state, metabuf, 0);
		gen_meta_fix_lower(page);
		RdbPageGetMeta(page)->gendir_roots[a->space][a->rootno] = root;
		RdbPageGetMeta(page)->flags |= RDB_META_HAS_GENDIR;
		GenericXLogFinish(state);
		/* TID order is no longer block order: plans are made again */
		CacheInvalidateRelcache(rel);
	}
	/* never write a slot into a page that is not a root (a damaged metapage) */
	rootbuf = gen_lock_root(rel, root, BUFFER_LOCK_EXCLUSIVE);
	leaf = GenRootSlots(BufferGetPage(rootbuf))[a->rootslot];
	if (leaf == 0)
	{
		GenericXLogState *state;
		Page		page;

		leaf = gen_alloc_page(rel, RDB_PAGE_KIND_GENDIR_LEAF, a->leafbase,
							  RDB_GENDIR_PER_LEAF * sizeof(RdbGenEntry));
		state = GenericXLogStart(rel);
		page = GenericXLogRegisterBuffer(state, rootbuf, 0);
		GenRootSlots(page)[a->rootslot] = leaf;
		GenericXLogFinish(state);
	}
	UnlockReleaseBuffer(rootbuf);
	return leaf;
}

/*
 * rdb_gen_prepare
 *		Make sure generation gen has a directory leaf.  Call with no buffer
 *		locks other than L0 pages'.
 */
void
rdb_gen_prepare(Relation rel, uint32 gen)
{
	GenAddr		a;
	Buffer		buf;
	Buffer		metabuf;

	gen_addr(gen, &a);
	buf = gen_lock_leaf(rel, &a, BUFFER_LOCK_SHARE);
	if (BufferIsValid(buf))
	{
		UnlockReleaseBuffer(buf);
		return;
	}
	metabuf = ReadBuffer(rel, RDB_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	(void) gen_prepare_locked(rel, metabuf, &a);
	UnlockReleaseBuffer(metabuf);
}

/* ------------------------------------------------------------------------
 * Retiring
 * ------------------------------------------------------------------------
 */

/*
 * gen_xmax_is_void
 *		Is the xmax of stub h (set, not hinted invalid) one that no snapshot
 *		needs: lockers that have all ended, or an updater or deleter that
 *		aborted (or crashed)?  Asks the transaction status, as heap's
 *		pruning and freezing do; sets no hint bits.
 */
static bool
gen_xmax_is_void(HeapTupleHeader h)
{
	TransactionId xmax = HeapTupleHeaderGetRawXmax(h);

	if (h->t_infomask & HEAP_XMAX_IS_MULTI)
	{
		/* only lockers, none running (an updater's multi is left alone) */
		return HEAP_XMAX_IS_LOCKED_ONLY(h->t_infomask) &&
			!MultiXactIdIsRunning((MultiXactId) xmax, true);
	}
	if (TransactionIdIsCurrentTransactionId(xmax) ||
		TransactionIdIsInProgress(xmax))
		return false;
	if (HEAP_XMAX_IS_LOCKED_ONLY(h->t_infomask))
		return true;
	/* an updater or deleter that ended: void unless it committed */
	return !TransactionIdDidCommit(xmax);
}

/*
 * rdb_gen_try_retire
 *		Retire the L0 page in buf (cleanup-locked by the caller) if every row
 *		on it is a stub that every snapshot sees, never deleted or locked,
 *		all in one stripe in offset order, no TOAST pointers.  The page
 *		becomes FREE (and goes to the FSM), its rows an entry.  True if
 *		retired; then *nrows and *leaf (if not NULL) say how many rows the
 *		entry holds and which directory leaf has it.  oldest_xmin: rows
 *		inserted before it are visible to all.
 */
bool
rdb_gen_try_retire(Relation rel, Buffer buf, TransactionId oldest_xmin,
				   int *nrows, BlockNumber *leaf)
{
	Page		page = BufferGetPage(buf);
	BlockNumber blkno = BufferGetBlockNumber(buf);
	uint32		gen;
	OffsetNumber maxoff;
	OffsetNumber off;
	OffsetNumber prev_off = InvalidOffsetNumber;
	uint32		prev_row = 0;
	RdbGenEntry e;
	TransactionId conflict = InvalidTransactionId;
	TransactionId stamp;
	GenAddr		a;
	Buffer		leafbuf;
	Size		before;

	if (!rdb_l0_page_is_l0(page))
		return false;
	gen = rdb_l0_page_generation(page, blkno);
	maxoff = PageGetMaxOffsetNumber(page);
	if (maxoff > RDB_GEN_MAX_OFFSET)
		return false;

	memset(&e, 0, sizeof(e));
	e.phys = RDB_GEN_RETIRED;
	for (off = FirstOffsetNumber; off <= maxoff; off++)
	{
		ItemId		lp = PageGetItemId(page, off);
		HeapTupleHeader h;
		RdbStubData sd;
		ItemPointerData self;

		if (!ItemIdIsUsed(lp))
			continue;
		if (!ItemIdIsNormal(lp))
			return false;
		h = (HeapTupleHeader) PageGetItem(page, lp);
		if (!rdb_tuple_is_stub(h) || (h->t_infomask & HEAP_HASEXTERNAL))
			return false;
		if (!HeapTupleHeaderXminFrozen(h))
		{
			TransactionId xmin = HeapTupleHeaderGetRawXmin(h);

			if (!HeapTupleHeaderXminCommitted(h) ||
				!TransactionIdPrecedes(xmin, oldest_xmin))
				return false;
			if (!TransactionIdIsValid(conflict) ||
				TransactionIdFollows(xmin, conflict))
				conflict = xmin;
		}
		if (!(h->t_infomask & HEAP_XMAX_INVALID) &&
			TransactionIdIsValid(HeapTupleHeaderGetRawXmax(h)))
		{
			/*
			 * An xmax that no longer means anything lets the row retire
			 * (it then reads as never locked, as heap's freezing would
			 * leave it): a row lock whose lockers have all ended, or an
			 * UPDATE or DELETE that aborted (whose t_ctid may still point
			 * at its aborted new version, also once the xmax is hinted
			 * invalid, below).  Without this, rows once
			 * locked by SELECT FOR UPDATE or touched by a rolled-back
			 * UPDATE kept their revived page for ever.
			 */
			if (!gen_xmax_is_void(h))
				return false;
		}
		else if (!(h->t_infomask & HEAP_XMAX_INVALID))
		{
			/* no xmax at all: it is its own latest version */
			ItemPointerSet(&self, gen, off);
			if (!ItemPointerEquals(&self, &h->t_ctid))
				return false;
		}
		/*
		 * (an xmax hinted invalid, also after freezing cleared it: an
		 * aborted updater's t_ctid may be left behind)
		 */
		sd = rdb_stub_data(h);
		if (e.nlive == 0)
		{
			e.stripe = sd.stripe;
			e.first = sd.row;
		}
		else
		{
			uint32		gap;

			if (sd.stripe != e.stripe || sd.row <= prev_row)
				return false;
			/* stripe rows skipped between two live offsets need offsets */
			gap = sd.row - prev_row - 1;
			if (gap > (uint32) (off - prev_off - 1))
				return false;
			while (gap-- > 0)
				rdb_gen_set_bit(e.flushed, ++prev_off);
		}
		rdb_gen_set_bit(e.flushed, off);
		rdb_gen_set_bit(e.live, off);
		e.nlive++;
		e.maxoff = off;
		prev_off = off;
		prev_row = sd.row;
	}
	/*
	 * A page with no row left: a first-time page stays where it is (its
	 * block takes new rows under its own generation), but the page of a
	 * revived or reused generation is retired empty, so that its block
	 * becomes a free page again (for new rows, or the next revival) instead
	 * of an empty page only inserts may find.
	 */
	if (e.nlive == 0 && gen == blkno)
		return false;

	gen_addr(gen, &a);
	leafbuf = gen_lock_leaf(rel, &a, BUFFER_LOCK_EXCLUSIVE);
	if (!BufferIsValid(leafbuf))
	{
		rdb_gen_prepare(rel, gen);
		leafbuf = gen_lock_leaf(rel, &a, BUFFER_LOCK_EXCLUSIVE);
		if (!BufferIsValid(leafbuf))
			return false;		/* beyond the directory's reach */
	}

	before = PageGetHeapFreeSpace(page);

	/*
	 * The FREE page's stamp (rdb_gen_take_free_pages): no snapshot that may
	 * have copied the leaf before the retirement is newer than it.  On the
	 * primary the next xid now does (the leaf's lock orders us after such a
	 * copy), but a standby replaying commits of xids assigned between this
	 * read and the retire record takes snapshots newer than it before the
	 * record replays.  A logged page is stamped only once the record is in
	 * the WAL (below): every xid assigned later writes its WAL after it.
	 */
	stamp = RelationNeedsWAL(rel) ? InvalidTransactionId : ReadNextTransactionId();
	START_CRIT_SECTION();
	GenLeafEntries(BufferGetPage(leafbuf))[a.leafidx] = e;
	MarkBufferDirty(leafbuf);
	gen_page_init(page, RDB_PAGE_KIND_FREE, stamp, 0);
	MarkBufferDirty(buf);
	if (RelationNeedsWAL(rel))
	{
		xl_rdb_retire xlrec;
		XLogRecPtr	recptr;

		xlrec.conflict_xid = conflict;
		xlrec.leafidx = a.leafidx;
		xlrec.free_stamp = stamp;
		XLogBeginInsert();
		XLogRegisterData((char *) &xlrec, SizeOfRdbRetire);
		XLogRegisterBuffer(0, buf, REGBUF_WILL_INIT | REGBUF_STANDARD);
		XLogRegisterBuffer(1, leafbuf, REGBUF_STANDARD);
		XLogRegisterBufData(1, (char *) &e, sizeof(e));
		recptr = XLogInsert(RDB_RMGR_ID, XLOG_RDB_RETIRE);
		PageSetLSN(page, recptr);
		PageSetLSN(BufferGetPage(leafbuf), recptr);
	}
	END_CRIT_SECTION();
	if (RelationNeedsWAL(rel))
	{
		/*
		 * A crash before this record leaves the page unstamped: never taken
		 * by a stripe, still reused for L0 rows.
		 */
		START_CRIT_SECTION();
		RdbPageGetOpaque(page)->generation = ReadNextTransactionId();
		MarkBufferDirty(buf);
		log_newpage_buffer(buf, true);
		END_CRIT_SECTION();
	}
	if (nrows)
		*nrows = e.nlive;
	if (leaf)
		*leaf = BufferGetBlockNumber(leafbuf);
	UnlockReleaseBuffer(leafbuf);
	gen_note_changed(rel, gen);
	/* a reused or revived generation with no row left: its number is free */
	rdb_gen_note_recyclable(rel, gen, &e);
	RecordPageWithFreeSpace(rel, blkno, PageGetFreeSpace(page));
	/* the page's rows now take 92 bytes of a directory leaf */
	rdb_emit_page_compacted(rel, blkno, PageGetFreeSpace(page) - before);
	return true;
}

void
rdb_gen_redo_retire(XLogReaderState *record)
{
	xl_rdb_retire *xlrec = (xl_rdb_retire *) XLogRecGetData(record);
	Buffer		buf;
	Buffer		leafbuf;
	TransactionId stamp = InvalidTransactionId;

	if (XLogRecGetDataLen(record) >= SizeOfRdbRetire)
		stamp = xlrec->free_stamp;

	if (InHotStandby && TransactionIdIsValid(xlrec->conflict_xid))
	{
		RelFileNode rnode;

		XLogRecGetBlockTag(record, 0, &rnode, NULL, NULL);
		ResolveRecoveryConflictWithSnapshot(xlrec->conflict_xid, rnode);
	}

	/* readers on the standby may hold pointers into the page: cleanup lock */
	if (XLogReadBufferForRedoExtended(record, 0, RBM_ZERO_AND_CLEANUP_LOCK,
									  true, &buf) != BLK_RESTORED)
	{
		Page		page = BufferGetPage(buf);

		gen_page_init(page, RDB_PAGE_KIND_FREE, stamp, 0);
		PageSetLSN(page, record->EndRecPtr);
		MarkBufferDirty(buf);
	}
	if (XLogReadBufferForRedo(record, 1, &leafbuf) == BLK_NEEDS_REDO)
	{
		Page		page = BufferGetPage(leafbuf);
		Size		len;
		char	   *data = XLogRecGetBlockData(record, 1, &len);

		if (len != sizeof(RdbGenEntry) || xlrec->leafidx >= RDB_GENDIR_PER_LEAF)
			elog(PANIC, "rustydb redo: invalid retire record");
		memcpy(&GenLeafEntries(page)[xlrec->leafidx], data, sizeof(RdbGenEntry));
		PageSetLSN(page, record->EndRecPtr);
		MarkBufferDirty(leafbuf);
	}
	UnlockReleaseBuffer(buf);
	if (BufferIsValid(leafbuf))
		UnlockReleaseBuffer(leafbuf);
}

/* ------------------------------------------------------------------------
 * Reviving and reusing
 * ------------------------------------------------------------------------
 */

/*
 * A FREE (or new) page for a revived generation, exclusively locked: from
 * the FSM if it knows one, else a block of the stripe pages compaction
 * gave back, else a new page at the end.
 */
static Buffer
gen_get_free_page(Relation rel)
{
	BlockNumber blkno;
	int			tries = 0;
	Buffer		buf;

	blkno = GetPageWithFreeSpace(rel, BLCKSZ / 2);
	while (BlockNumberIsValid(blkno) && tries++ < 8)
	{
		Size		avail = 0;

		if (blkno >= RDB_FIRST_DATA_BLKNO)
		{
			buf = rdb_read_buffer(rel, blkno, NULL);
			if (ConditionalLockBuffer(buf))
			{
				Page		page = BufferGetPage(buf);

				if (rdb_gen_page_is_free(page))
					return buf;
				if (rdb_l0_page_is_l0(page))
					avail = Min(PageGetHeapFreeSpace(page), BLCKSZ / 2 - 64);
				LockBuffer(buf, BUFFER_LOCK_UNLOCK);
			}
			else
				avail = BLCKSZ / 2 - 64;	/* busy: unknown, keep it findable */
			ReleaseBuffer(buf);
		}
		/*
		 * Not a free page (an L0 page with room, or taken meanwhile): leave
		 * it to inserts with what it really has, but below what we ask
		 * for, so that the next answer is another page.
		 */
		blkno = RecordAndGetPageWithFreeSpace(rel, blkno, avail, BLCKSZ / 2);
	}

	/*
	 * Before the file grows, a block of a usable free extent, as a new L0
	 * page takes one (rdb_meta_take_l0_page makes it a FREE page).  A
	 * DELETE of old rows revives a page for each generation it touches:
	 * in bench/steady.sh the file grew by 350-680 pages in such rounds
	 * while 600-840 given-back stripe pages waited for the next merge.
	 */
	blkno = rdb_meta_take_l0_page(rel);
	if (BlockNumberIsValid(blkno))
	{
		buf = rdb_read_buffer(rel, blkno, NULL);
		if (ConditionalLockBuffer(buf))
		{
			if (rdb_gen_page_is_free(BufferGetPage(buf)))
				return buf;
			LockBuffer(buf, BUFFER_LOCK_UNLOCK);
		}
		else
		{
			/* busy: a FREE page, left for the FSM to hand out */
			RecordPageWithFreeSpace(rel, blkno, BLCKSZ / 2);
		}
		ReleaseBuffer(buf);
	}

	if (!RELATION_IS_LOCAL(rel))
		LockRelationForExtension(rel, ExclusiveLock);
	buf = ReadBufferExtended(rel, MAIN_FORKNUM, P_NEW, RBM_ZERO_AND_LOCK, NULL);
	if (!RELATION_IS_LOCAL(rel))
		UnlockRelationForExtension(rel, ExclusiveLock);
	return buf;
}

/*
 * rdb_gen_remap_leaf
 *		Let fn rewrite the retired entries of the directory leaf at block
 *		leaf (compaction moving their rows into another stripe): fn gets a
 *		copy of each retired entry and returns true if it changed it.  One
 *		generic WAL record for the changed entries, under the leaf's
 *		exclusive lock, so a reviver (which holds it while it copies an
 *		entry to a page) sees the entry before or after, never half.
 *		Returns how many entries changed; 0 if the block is no leaf.
 */
int
rdb_gen_remap_leaf(Relation rel, BlockNumber leaf,
				   bool (*fn) (void *arg, RdbGenEntry *e), void *arg)
{
	Buffer		buf;
	RdbGenEntry *copy;
	bool	   *changed;
	int			nchanged = 0;
	int			i;
	Buffer		sumbuf;
	GenAddr		a;

	/*
	 * The leaf's group summary is cleared with the entries: locked first
	 * (summary pages before leaves), found from the leaf's generations.
	 */
	buf = ReadBuffer(rel, leaf);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	if (!gen_page_kind_is(BufferGetPage(buf), RDB_PAGE_KIND_GENDIR_LEAF))
	{
		UnlockReleaseBuffer(buf);
		return 0;
	}
	gen_addr(RdbPageGetOpaque(BufferGetPage(buf))->generation, &a);
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	sumbuf = gen_lock_summary(rel, &a);
	/* (a leaf page stays the leaf of the same generations for ever) */
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	copy = palloc(sizeof(RdbGenEntry) * RDB_GENDIR_PER_LEAF);
	changed = palloc0(sizeof(bool) * RDB_GENDIR_PER_LEAF);
	memcpy(copy, GenLeafEntries(BufferGetPage(buf)),
		   sizeof(RdbGenEntry) * RDB_GENDIR_PER_LEAF);
	for (i = 0; i < (int) RDB_GENDIR_PER_LEAF; i++)
	{
		if (copy[i].phys != RDB_GEN_RETIRED)
			continue;
		if (fn(arg, &copy[i]))
		{
			changed[i] = true;
			nchanged++;
		}
	}
	if (nchanged > 0)
	{
		GenericXLogState *state = GenericXLogStart(rel);
		Page		page = GenericXLogRegisterBuffer(state, buf, 0);

		for (i = 0; i < (int) RDB_GENDIR_PER_LEAF; i++)
			if (changed[i])
				GenLeafEntries(page)[i] = copy[i];
		(void) gen_summary_clear(state, sumbuf, &a);
		GenericXLogFinish(state);
	}
	UnlockReleaseBuffer(buf);
	if (BufferIsValid(sumbuf))
		UnlockReleaseBuffer(sumbuf);
	if (nchanged > 0)
		gen_note_changed(rel, a.leafbase);
	pfree(copy);
	pfree(changed);
	return nchanged;
}

/*
 * rdb_gen_revive
 *		If generation gen is retired, give it a page again: its frozen stubs
 *		written to a free page, the entry pointing there.  For writers (UPDATE,
 *		DELETE, row locks), before they read the row's page.
 */
void
rdb_gen_revive(Relation rel, uint32 gen)
{
	GenAddr		a;
	Buffer		leafbuf;
	Buffer		buf;
	Buffer		sumbuf;
	RdbGenEntry e;
	GenericXLogState *state;
	Page		page;

	if (!rdb_gen_lookup(rel, gen, &e) || e.phys != RDB_GEN_RETIRED)
		return;
	buf = gen_get_free_page(rel);
	gen_addr(gen, &a);
	/* the group's summary goes with the entry (summary pages before leaves) */
	sumbuf = gen_lock_summary(rel, &a);
	leafbuf = gen_lock_leaf(rel, &a, BUFFER_LOCK_EXCLUSIVE);
	if (!BufferIsValid(leafbuf))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("rustydb table \"%s\": generation %u lost its directory leaf",
						RelationGetRelationName(rel), gen)));
	e = GenLeafEntries(BufferGetPage(leafbuf))[a.leafidx];
	rdb_gen_check_entry(&e, gen);

	state = GenericXLogStart(rel);
	page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
	if (e.phys == RDB_GEN_RETIRED)
	{
		Page		leaf;

		rdb_gen_build_page(page, gen, &e);
		leaf = GenericXLogRegisterBuffer(state, leafbuf, 0);
		GenLeafEntries(leaf)[a.leafidx].phys = BufferGetBlockNumber(buf);
		(void) gen_summary_clear(state, sumbuf, &a);
	}
	else if (PageIsNew(BufferGetPage(buf)))
		gen_page_init(page, RDB_PAGE_KIND_FREE, ReadNextTransactionId(), 0);	/* revived meanwhile */
	GenericXLogFinish(state);
	UnlockReleaseBuffer(leafbuf);
	if (BufferIsValid(sumbuf))
		UnlockReleaseBuffer(sumbuf);
	if (e.phys != RDB_GEN_RETIRED)
		RecordPageWithFreeSpace(rel, BufferGetBlockNumber(buf),
								PageGetFreeSpace(BufferGetPage(buf)));
	UnlockReleaseBuffer(buf);
}

/* ------------------------------------------------------------------------
 * FREE pages for stripes
 * ------------------------------------------------------------------------
 */

/* at most this many FREE pages noted per flush or survey (1 MB) */
#define RDB_FREE_HINT_MAX	262144

/*
 * rdb_gen_hint_add
 *		Note the page at blkno (share-locked by the caller, who reads blocks
 *		in ascending order) if it is a FREE page a stripe could take: its
 *		stamp is valid (retired since stamps exist).  Allocated in the
 *		current memory context.
 */
void
rdb_gen_hint_add(RdbFreePageHint *hint, Page page, BlockNumber blkno)
{
	if (!rdb_gen_page_is_free(page) ||
		!TransactionIdIsNormal(RdbPageGetOpaque(page)->generation) ||
		hint->n >= RDB_FREE_HINT_MAX)
		return;
	if (hint->n == hint->max)
	{
		hint->max = Max(256, hint->max * 2);
		hint->blocks = hint->blocks == NULL ?
			palloc(sizeof(BlockNumber) * hint->max) :
			repalloc(hint->blocks, sizeof(BlockNumber) * hint->max);
	}
	hint->blocks[hint->n++] = blkno;
}

/*
 * rdb_gen_make_free_page
 *		Make the page in buf (exclusively locked; a free extent's block the
 *		caller took, rdb_meta_take_l0_page) a FREE page, stamped as a
 *		retired page is, logged whole.
 */
void
rdb_gen_make_free_page(Relation rel, Buffer buf)
{
	TransactionId stamp = ReadNextTransactionId();

	START_CRIT_SECTION();
	gen_page_init(BufferGetPage(buf), RDB_PAGE_KIND_FREE, stamp, 0);
	MarkBufferDirty(buf);
	if (RelationNeedsWAL(rel))
		log_newpage_buffer(buf, true);
	END_CRIT_SECTION();
}

/* a run of consecutive blocks in a hint (rdb_gen_take_free_pages) */
typedef struct HintRun
{
	int			from;			/* index of its first block in the hint */
	int			len;
} HintRun;

static int
hint_run_cmp(const void *a, const void *b)
{
	const HintRun *x = a;
	const HintRun *y = b;

	/* longest first, then in block order */
	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	return x->from < y->from ? -1 : x->from > y->from ? 1 : 0;
}

/* turn FREE page blkno into an empty stripe page of no stripe yet */
static bool
gen_take_free_page(Relation rel, BlockNumber blkno, TransactionId horizon,
				   bool *announced)
{
	Buffer		buf;
	Page		page;
	TransactionId stamp = InvalidTransactionId;

	buf = ReadBufferExtended(rel, MAIN_FORKNUM, blkno, RBM_NORMAL, NULL);
	if (!ConditionalLockBufferForCleanup(buf))
	{
		ReleaseBuffer(buf);
		return false;
	}
	page = BufferGetPage(buf);
	if (rdb_gen_page_is_free(page))
		stamp = RdbPageGetOpaque(page)->generation;
	if (!TransactionIdIsNormal(stamp) || !TransactionIdPrecedes(stamp, horizon))
	{
		UnlockReleaseBuffer(buf);
		return false;
	}
	if (!*announced)
	{
		TransactionId latest = horizon;

		TransactionIdRetreat(latest);
		rdb_stripe_reuse_log_conflict(rel, latest);
		*announced = true;
	}
	START_CRIT_SECTION();
	gen_page_init(page, RDB_PAGE_KIND_STRIPE, InvalidBlockNumber, 0);
	MarkBufferDirty(buf);
	if (RelationNeedsWAL(rel))
		log_newpage_buffer(buf, true);
	END_CRIT_SECTION();
	UnlockReleaseBuffer(buf);
	RecordPageWithFreeSpace(rel, blkno, 0);
	return true;
}

/*
 * rdb_gen_take_free_pages
 *		Pages for a stripe from the FREE pages hint lists, when no free
 *		extent holds it (metapage.c, rdb_meta_take_space) and before the
 *		file grows: retired L0 blocks no insert has reused yet.  (The other
 *		way round, an L0 page takes a free extent's block before the file
 *		grows: l0_page.c.)  Up to need blocks in at most maxruns runs of
 *		consecutive blocks, into out, in block order; returns the runs.
 *
 *		Such a block may still be the block of a retired first-time
 *		generation, and a scan that copied the generation's directory leaf
 *		before the retirement reads that block for its rows (scan.c,
 *		scan_open_unit): finding a stripe page there, it would pass over
 *		them.  So a FREE page is taken only once every snapshot on the
 *		server is newer than its retirement: its stamp (the next xid once
 *		the retire record was in the WAL, in the FREE page's generation
 *		field: a standby snapshot taken before that record replayed is no
 *		newer) precedes GetOldestNonRemovableTransactionId, which
 *		hot_standby_feedback holds back for a standby's scans; and before
 *		the first page changes, an XLOG_RDB_STRIPE_REUSE record cancels a
 *		standby's older snapshots, as for free extents (stripe_reuse.c).
 *
 *		Each page taken becomes, under its cleanup lock taken without
 *		waiting, an empty stripe page of no stripe yet (one small WAL
 *		record; the free space map forgets it).  Inserts and revivals pass
 *		it over from then on; if the stripe is never written (an error, a
 *		crash), compaction's survey finds it unreferenced and gives it back
 *		as a free extent.
 */
int
rdb_gen_take_free_pages(Relation rel, RdbFreePageHint *hint, uint32 need,
						RdbFreeExtent *out, int maxruns)
{
	TransactionId horizon;
	BlockNumber nblocks;
	bool		announced = false;
	HintRun    *runs;
	int			nhruns = 0;
	int			nruns = 0;
	uint32		taken = 0;
	int			i;
	int			r;

	if (hint == NULL || hint->n == 0 || need == 0 || maxruns <= 0)
		return 0;

	/*
	 * Not for a temporary table (or one created in this transaction): its
	 * horizon does not count this backend's own snapshots, and a cursor
	 * of ours may still walk it with a leaf copied before a retirement.
	 */
	if (RELATION_IS_LOCAL(rel))
		return 0;

	/*
	 * The longest runs of consecutive FREE blocks first: a stripe holds at
	 * most maxruns runs, and FREE pages lie between pages inserts reused.
	 * Blocks tried are struck out of the hint (InvalidBlockNumber).
	 */
	runs = palloc(sizeof(HintRun) * hint->n);
	for (i = 0; i < hint->n; i++)
	{
		if (!BlockNumberIsValid(hint->blocks[i]))
			continue;
		if (nhruns > 0)
		{
			HintRun    *last = &runs[nhruns - 1];
			int			end = last->from + last->len;

			if (end == i && hint->blocks[end - 1] + 1 == hint->blocks[i])
			{
				last->len++;
				continue;
			}
		}
		runs[nhruns].from = i;
		runs[nhruns].len = 1;
		nhruns++;
	}
	qsort(runs, nhruns, sizeof(HintRun), hint_run_cmp);

	horizon = GetOldestNonRemovableTransactionId(rel);
	nblocks = RelationGetNumberOfBlocks(rel);
	for (r = 0; r < nhruns && taken < need; r++)
	{
		bool		open = false;	/* out[nruns - 1] goes on at this block */

		for (i = runs[r].from; i < runs[r].from + runs[r].len && taken < need; i++)
		{
			BlockNumber blkno = hint->blocks[i];

			if (!open && nruns == maxruns)
				break;
			hint->blocks[i] = InvalidBlockNumber;
			if (blkno < RDB_FIRST_DATA_BLKNO || blkno >= nblocks ||
				!gen_take_free_page(rel, blkno, horizon, &announced))
			{
				open = false;
				continue;
			}
			if (open)
				out[nruns - 1].nblocks++;
			else
			{
				out[nruns].first = blkno;
				out[nruns].nblocks = 1;
				out[nruns].xid = InvalidTransactionId;
				nruns++;
				open = true;
			}
			taken++;
		}
		if (nruns == maxruns && !open)
			break;
	}
	pfree(runs);
	return nruns;
}

/* ------------------------------------------------------------------------
 * Recycling remapped generations
 *
 * Every reused page used to take a new generation from the metapage's
 * counter, so the remapped space (and its directory) grew by one entry per
 * reuse for ever: 92 bytes per ~100 rows ever inserted under a steady
 * insert-and-delete load, and the directory's reach (RDB_GENDIR_MAX_ROOTS
 * roots, about 35.9 million remapped generations) would be used up after
 * some billions of rows, after which freed pages were no longer reused and
 * the file grew.  A remapped generation whose entry is retired with no row
 * left has no row a TID could name: VACUUM retired it so only after its
 * rows' index entries were gone and their line pointers unused (a page
 * with dead line pointers is not retired).  Its number is then reused for
 * the next reused page, as heap reuses an unused line pointer; a TID of
 * one of its old rows kept elsewhere (an update chain's t_ctid, a bitmap
 * built before the VACUUM) leads to rows an older snapshot cannot see, and
 * update chains check xmin against the prior xmax as heap's do.  Leaf
 * groups whose generations are all recyclable are taken first, so that
 * groups keep their summaries (gen_group_recyclable).
 * ------------------------------------------------------------------------
 */

/*
 * The lowest recyclable generation this backend's VACUUM or flush met, for
 * one relfilenode at a time, until rdb_gen_publish_recyclable writes it to
 * the metapage.  A hint: reuse checks the entry again.
 */
static struct
{
	RelFileNode node;
	uint32		min;			/* 0: none */
} gen_recycle_pending;

static inline bool
gen_entry_recyclable(uint32 gen, const RdbGenEntry *e)
{
	return gen >= RDB_FIRST_REMAPPED_GENERATION &&
		e->phys == RDB_GEN_RETIRED && e->nlive == 0;
}

/*
 * rdb_gen_note_recyclable
 *		Note generation gen, whose entry e is, if it can be recycled (VACUUM
 *		meeting a leaf, a retirement that left no row).
 */
void
rdb_gen_note_recyclable(Relation rel, uint32 gen, const RdbGenEntry *e)
{
	if (!gen_entry_recyclable(gen, e))
		return;
	if (!RelFileNodeEquals(gen_recycle_pending.node, rel->rd_node))
	{
		gen_recycle_pending.node = rel->rd_node;
		gen_recycle_pending.min = 0;
	}
	if (gen_recycle_pending.min == 0 || gen < gen_recycle_pending.min)
		gen_recycle_pending.min = gen;
}

/* the metapage's recycle_gen and next_generation */
static void
gen_meta_recycle_read(Relation rel, uint32 *recycle_gen, uint32 *next)
{
	Buffer		metabuf = ReadBuffer(rel, RDB_METAPAGE_BLKNO);
	RdbMetaPage meta;

	LockBuffer(metabuf, BUFFER_LOCK_SHARE);
	meta = RdbPageGetMeta(BufferGetPage(metabuf));
	*recycle_gen = meta->recycle_gen;
	*next = meta->next_generation;
	UnlockReleaseBuffer(metabuf);
}

/*
 * Set the metapage's recycle_gen to to, if it still is from (another
 * backend may have moved it meanwhile; or, with from 0, if to is lower than
 * what it is).  One record of the metapage alone.
 */
static void
gen_meta_recycle_set(Relation rel, uint32 from, uint32 to)
{
	Buffer		metabuf = ReadBuffer(rel, RDB_METAPAGE_BLKNO);
	RdbMetaPage meta;
	bool		set;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	meta = RdbPageGetMeta(BufferGetPage(metabuf));
	if (from != 0)
		set = meta->recycle_gen == from;
	else
		set = to != 0 && (meta->recycle_gen == 0 || to < meta->recycle_gen);
	if (set && meta->recycle_gen != to)
	{
		GenericXLogState *state = GenericXLogStart(rel);
		Page		page = GenericXLogRegisterBuffer(state, metabuf, 0);

		gen_meta_fix_lower(page);
		RdbPageGetMeta(page)->recycle_gen = to;
		GenericXLogFinish(state);
	}
	UnlockReleaseBuffer(metabuf);
}

/* first generation of gen's leaf group */
static inline uint32
gen_group_base(uint32 gen)
{
	return gen - (gen & ~RDB_FIRST_REMAPPED_GENERATION) % RDB_GENDIR_PER_GROUP;
}

/*
 * Is every generation of the leaf group starting at base recyclable (all
 * given out, below next)?  Such groups are recycled first: their new rows
 * then hold the group alone, and it can be summarised again once they are
 * retired into one stripe.  Recycling a few generations of a group that
 * still has rows (or of the empty entries a rewrite pads its last group
 * with, rewrite.c) leaves it unsummarisable, a columnar scan reading its
 * leaves one by one, until a compaction unites its stripes; that is done
 * only where no such group is near.
 */
static bool
gen_group_recyclable(Relation rel, uint32 base, uint32 next, RdbGenEntry *entries)
{
	int			k;

	if ((uint64) base + RDB_GENDIR_PER_GROUP > next)
		return false;
	for (k = 0; k < RDB_GENDIR_LEAVES_PER_GROUP; k++)
	{
		uint32		leafbase = base + k * RDB_GENDIR_PER_LEAF;
		uint32		i;

		if (!rdb_gen_copy_leaf(rel, leafbase, entries))
			return false;
		for (i = 0; i < RDB_GENDIR_PER_LEAF; i++)
			if (!gen_entry_recyclable(leafbase + i, &entries[i]))
				return false;
	}
	return true;
}

/*
 * rdb_gen_publish_recyclable
 *		Lower the metapage's recycle_gen to where the next reused pages
 *		should look, from the lowest recyclable generation noted for rel
 *		since the last call (end of a VACUUM or flush): the first leaf
 *		group from there whose generations are all recyclable, else that
 *		generation's leaf.  Reads the remapped leaves from there until it
 *		finds such a group (VACUUM read every page).
 */
void
rdb_gen_publish_recyclable(Relation rel)
{
	uint32		cur;
	uint32		next;
	uint32		min;
	uint32		base;
	uint32		to;
	GenAddr		a;
	RdbGenEntry *entries;

	if (gen_recycle_pending.min == 0 ||
		!RelFileNodeEquals(gen_recycle_pending.node, rel->rd_node))
		return;
	min = gen_recycle_pending.min;
	gen_recycle_pending.min = 0;
	gen_meta_recycle_read(rel, &cur, &next);
	if (min >= next || (cur != 0 && cur <= min))
		return;
	/* the leaf of min, unless a wholly recyclable group comes first */
	gen_addr(min, &a);
	to = a.leafbase;
	entries = palloc(sizeof(RdbGenEntry) * RDB_GENDIR_PER_LEAF);
	for (base = gen_group_base(min);
		 (uint64) base + RDB_GENDIR_PER_GROUP <= next && (cur == 0 || base < cur);
		 base += RDB_GENDIR_PER_GROUP)
	{
		CHECK_FOR_INTERRUPTS();
		if (gen_group_recyclable(rel, base, next, entries))
		{
			to = base;
			break;
		}
	}
	pfree(entries);
	gen_meta_recycle_set(rel, 0, to);
}

/* groups gen_recycle_candidate looks ahead, at most, for a whole one */
#define RDB_RECYCLE_GROUPS	2
/* leaves it reads, at most, for a recyclable generation */
#define RDB_RECYCLE_LEAVES	8

/*
 * gen_recycle_candidate
 *		A recyclable generation from the metapage's recycle_gen (0: none
 *		known; else the first generation of a leaf) on, or 0.  Entering
 *		another leaf group, it first looks at most RDB_RECYCLE_GROUPS
 *		groups ahead for one whose generations are all recyclable and goes
 *		there (gen_group_recyclable says why); the groups passed over wait
 *		for the next VACUUM to point back at them.  Reads leaves as readers
 *		do, with no metapage lock meanwhile (the result is a hint:
 *		gen_recycle checks the entry again), at most RDB_RECYCLE_LEAVES
 *		besides the look-ahead, and moves recycle_gen to the leaf it found
 *		one in, or past what it read (0 at next_generation): a record of
 *		the metapage alone when it moves, about once per leaf.
 */
static uint32
gen_recycle_candidate(Relation rel)
{
	uint32		from;
	uint32		next;
	uint32		g;
	uint32		group;
	uint32		at;
	uint32		found = 0;
	int			looked = 0;
	RdbGenEntry *entries;

	gen_meta_recycle_read(rel, &from, &next);
	if (from == 0)
		return 0;
	entries = palloc(sizeof(RdbGenEntry) * RDB_GENDIR_PER_LEAF);
	g = from < RDB_FIRST_REMAPPED_GENERATION ? next : from;
	at = g;
	group = gen_group_base(g);
	while (g < next && looked < RDB_RECYCLE_LEAVES)
	{
		GenAddr		a;
		uint32		i;

		if (gen_group_base(g) != group)
		{
			uint32		ahead;
			int			k;

			/* into another group: a wholly recyclable one nearby first */
			group = gen_group_base(g);
			for (k = 0, ahead = group; k < RDB_RECYCLE_GROUPS;
				 k++, ahead += RDB_GENDIR_PER_GROUP)
			{
				if (gen_group_recyclable(rel, ahead, next, entries))
				{
					g = group = ahead;
					break;
				}
			}
		}
		gen_addr(g, &a);
		if (a.rootno >= RDB_GENDIR_MAX_ROOTS)
		{
			g = next;
			break;
		}
		looked++;
		at = a.leafbase;
		if (rdb_gen_copy_leaf(rel, a.leafbase, entries))
		{
			for (i = a.leafidx; i < RDB_GENDIR_PER_LEAF && a.leafbase + i < next; i++)
				if (gen_entry_recyclable(a.leafbase + i, &entries[i]))
				{
					found = a.leafbase + i;
					break;
				}
		}
		if (found != 0)
			break;
		g = a.leafbase + RDB_GENDIR_PER_LEAF;
		at = g;
	}
	pfree(entries);
	if (found == 0 && g >= next)
		at = 0;
	if (at != from)
		gen_meta_recycle_set(rel, from, at);
	return found;
}

/*
 * gen_recycle
 *		Turn the FREE page in buf (exclusively locked) into an empty L0 page
 *		of recyclable generation gen, if its entry is still recyclable (two
 *		backends may pick the same one); false if not.  Its group's summary
 *		goes with the entry, as when reviving (summary page before leaf).
 */
static bool
gen_recycle(Relation rel, Buffer buf, uint32 gen)
{
	GenAddr		a;
	Buffer		sumbuf;
	Buffer		leafbuf;
	GenericXLogState *state;
	Page		page;

	gen_addr(gen, &a);
	sumbuf = gen_lock_summary(rel, &a);
	leafbuf = gen_lock_leaf(rel, &a, BUFFER_LOCK_EXCLUSIVE);
	if (!BufferIsValid(leafbuf) ||
		!gen_entry_recyclable(gen, &GenLeafEntries(BufferGetPage(leafbuf))[a.leafidx]))
	{
		if (BufferIsValid(leafbuf))
			UnlockReleaseBuffer(leafbuf);
		if (BufferIsValid(sumbuf))
			UnlockReleaseBuffer(sumbuf);
		return false;
	}
	state = GenericXLogStart(rel);
	page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
	rdb_l0_page_init(page, gen, BufferGetBlockNumber(buf));
	page = GenericXLogRegisterBuffer(state, leafbuf, 0);
	memset(&GenLeafEntries(page)[a.leafidx], 0, sizeof(RdbGenEntry));
	GenLeafEntries(page)[a.leafidx].phys = BufferGetBlockNumber(buf);
	(void) gen_summary_clear(state, sumbuf, &a);
	GenericXLogFinish(state);
	UnlockReleaseBuffer(leafbuf);
	if (BufferIsValid(sumbuf))
		UnlockReleaseBuffer(sumbuf);
	return true;
}

/*
 * rdb_gen_reuse_page
 *		Turn the FREE page in buf (exclusively locked) into an empty L0 page
 *		of a new generation: a recycled one if the metapage knows of one,
 *		else the next number; returns the generation, or 0 if none can be
 *		given (the page stays FREE).
 */
uint32
rdb_gen_reuse_page(Relation rel, Buffer buf)
{
	Buffer		metabuf;
	Buffer		leafbuf;
	BlockNumber leaf;
	uint32		gen;
	GenAddr		a;
	GenericXLogState *state;
	Page		page;
	int			tries;

	for (tries = 0; tries < 3; tries++)
	{
		gen = gen_recycle_candidate(rel);
		if (gen == 0)
			break;
		if (gen_recycle(rel, buf, gen))
		{
			rdb_emit_page_allocated(rel, BufferGetBlockNumber(buf));
			return gen;
		}
	}

	metabuf = ReadBuffer(rel, RDB_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	gen = RdbPageGetMeta(BufferGetPage(metabuf))->next_generation;
	if (gen < RDB_FIRST_REMAPPED_GENERATION || gen == PG_UINT32_MAX)
	{
		UnlockReleaseBuffer(metabuf);
		return 0;
	}
	gen_addr(gen, &a);
	leaf = gen_prepare_locked(rel, metabuf, &a);
	if (!BlockNumberIsValid(leaf))
	{
		UnlockReleaseBuffer(metabuf);
		return 0;
	}
	/* the metapage is ours: no gen_lock_leaf (it may read the metapage) */
	leafbuf = ReadBuffer(rel, leaf);
	LockBuffer(leafbuf, BUFFER_LOCK_EXCLUSIVE);
	if (!gen_page_kind_is(BufferGetPage(leafbuf), RDB_PAGE_KIND_GENDIR_LEAF))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("block %u of rustydb table \"%s\" is not a generation directory leaf",
						leaf, RelationGetRelationName(rel))));

	/*
	 * The metapage's counter names a generation never given out: its entry
	 * must be empty.  One that is not means a damaged counter, and
	 * overwriting the entry would lose its rows for good.
	 */
	if (GenLeafEntries(BufferGetPage(leafbuf))[a.leafidx].phys != RDB_GEN_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("rustydb table \"%s\": the metapage's next generation %u is in use already",
						RelationGetRelationName(rel), gen),
				 errdetail("Its directory entry at block %u is not empty; the metapage is damaged.",
						   leaf)));

	state = GenericXLogStart(rel);
	page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
	rdb_l0_page_init(page, gen, BufferGetBlockNumber(buf));
	page = GenericXLogRegisterBuffer(state, metabuf, 0);
	gen_meta_fix_lower(page);
	RdbPageGetMeta(page)->next_generation = gen + 1;
	page = GenericXLogRegisterBuffer(state, leafbuf, 0);
	memset(&GenLeafEntries(page)[a.leafidx], 0, sizeof(RdbGenEntry));
	GenLeafEntries(page)[a.leafidx].phys = BufferGetBlockNumber(buf);
	GenericXLogFinish(state);

	UnlockReleaseBuffer(leafbuf);
	UnlockReleaseBuffer(metabuf);
	/* an L0 page initialised for new rows, as on extension */
	rdb_emit_page_allocated(rel, BufferGetBlockNumber(buf));
	return gen;
}

/*
 * rdb_gen_add_retired
 *		Directory entries for nrows rows that a rewrite (CLUSTER, VACUUM FULL:
 *		src/lsm/rewrite.c) wrote straight into the stripe at stripe, as its
 *		rows 0 .. nrows - 1, without ever putting them on a page: retired
 *		generations of per_gen rows each (the last may hold fewer), new ones
 *		from the metapage's counter, described as a retired page of those
 *		rows would be.  Stripe row i is then the row at TID (gen0 + i /
 *		per_gen, i % per_gen + 1), where gen0 is what this returns.  With
 *		align, the generations after the last one up to the next leaf group
 *		are given out too, as empty retired entries (as a page retired with
 *		no row left is): a group whose generations all went into one stripe
 *		gets a summary, which a group shared with the next stripe's rows
 *		could not (the caller aligns stripes that fill most of a group).
 *
 *		For a relfilenode no other transaction can read yet (the rewrite's
 *		new one, under AccessExclusiveLock): no page is stamped, since no
 *		snapshot can have read these generations before (the caller logs
 *		the standby conflict the rows' frozen visibility needs).  One generic WAL record per leaf
 *		(the leaf and the metapage's counter); call with no buffer locks.
 */
uint32
rdb_gen_add_retired(Relation rel, BlockNumber stripe, uint32 nrows, int per_gen,
					bool align)
{
	Buffer		metabuf;
	uint32		gen0;
	uint32		gen;
	uint32		ngen;
	uint32		nused;
	uint32		done = 0;

	Assert(per_gen >= 1 && per_gen <= RDB_GEN_MAX_OFFSET);
	nused = (nrows + per_gen - 1) / per_gen;
	ngen = nused;
	metabuf = ReadBuffer(rel, RDB_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	gen0 = RdbPageGetMeta(BufferGetPage(metabuf))->next_generation;
	if (gen0 < RDB_FIRST_REMAPPED_GENERATION ||
		(uint64) gen0 + ngen >= (uint64) PG_UINT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("rustydb table \"%s\" has no generation left for %u rows",
						RelationGetRelationName(rel), nrows)));
	if (align && (gen0 + ngen - RDB_FIRST_REMAPPED_GENERATION) % RDB_GENDIR_PER_GROUP != 0)
		ngen += RDB_GENDIR_PER_GROUP -
			(gen0 + ngen - RDB_FIRST_REMAPPED_GENERATION) % RDB_GENDIR_PER_GROUP;
	gen = gen0;
	while (gen < gen0 + ngen)
	{
		GenAddr		a;
		BlockNumber leaf;
		Buffer		leafbuf;
		GenericXLogState *state;
		Page		page;
		uint32		upto;
		uint32		g;

		gen_addr(gen, &a);
		leaf = gen_prepare_locked(rel, metabuf, &a);
		if (!BlockNumberIsValid(leaf))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("rustydb table \"%s\": generation %u is beyond what the generation directory can address",
							RelationGetRelationName(rel), gen)));
		/* the metapage is ours: no gen_lock_leaf (it may read the metapage) */
		leafbuf = ReadBuffer(rel, leaf);
		LockBuffer(leafbuf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(leafbuf);
		if (!gen_page_kind_is(page, RDB_PAGE_KIND_GENDIR_LEAF) ||
			RdbPageGetOpaque(page)->generation != a.leafbase)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("block %u of rustydb table \"%s\" is not the generation directory leaf for generation %u",
							leaf, RelationGetRelationName(rel), a.leafbase)));
		upto = Min(gen0 + ngen, a.leafbase + (uint32) RDB_GENDIR_PER_LEAF);
		/* never given out: as in rdb_gen_reuse_page, a used one is damage */
		for (g = gen; g < upto; g++)
			if (GenLeafEntries(page)[g - a.leafbase].phys != RDB_GEN_NONE)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("rustydb table \"%s\": the metapage's next generation %u is in use already",
								RelationGetRelationName(rel), g),
						 errdetail("Its directory entry at block %u is not empty; the metapage is damaged.",
								   leaf)));

		state = GenericXLogStart(rel);
		page = GenericXLogRegisterBuffer(state, leafbuf, 0);
		for (g = gen; g < upto; g++)
		{
			RdbGenEntry *e = &GenLeafEntries(page)[g - a.leafbase];
			uint32		k = Min((uint32) per_gen, nrows - done);
			OffsetNumber off;

			memset(e, 0, sizeof(RdbGenEntry));
			e->phys = RDB_GEN_RETIRED;
			if (g >= gen0 + nused)
				continue;		/* padding: retired with no row */
			e->stripe = stripe;
			e->first = done;
			e->maxoff = (uint16) k;
			e->nlive = (uint16) k;
			for (off = FirstOffsetNumber; off <= k; off++)
			{
				rdb_gen_set_bit(e->flushed, off);
				rdb_gen_set_bit(e->live, off);
			}
			done += k;
		}
		page = GenericXLogRegisterBuffer(state, metabuf, 0);
		gen_meta_fix_lower(page);
		RdbPageGetMeta(page)->next_generation = upto;
		GenericXLogFinish(state);
		UnlockReleaseBuffer(leafbuf);
		gen_note_changed(rel, gen);
		gen_note_changed(rel, upto - 1);
		gen = upto;
	}
	UnlockReleaseBuffer(metabuf);
	return gen0;
}

/* ------------------------------------------------------------------------
 * Leaf-group summaries (gendir.h)
 * ------------------------------------------------------------------------
 */

/* the group of a generation: within its root, and its first generation */
static inline uint32
gen_group_index(const GenAddr *a)
{
	return a->rootslot / RDB_GENDIR_LEAVES_PER_GROUP;
}

/*
 * The block of the summary page of a's root, InvalidBlockNumber if there is
 * none (and, with create, none could be made: a damaged metapage).
 */
static BlockNumber
gen_summary_block(Relation rel, const GenAddr *a, bool create)
{
	Buffer		metabuf;
	RdbMetaPage meta;
	uint32		blk;

	if (a->rootno >= RDB_GENDIR_MAX_ROOTS)
		return InvalidBlockNumber;
	metabuf = ReadBuffer(rel, RDB_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_SHARE);
	meta = RdbPageGetMeta(BufferGetPage(metabuf));
	blk = meta->gendir_sums[a->space][a->rootno];
	if (blk == 0 && create)
	{
		GenericXLogState *state;
		Page		page;

		LockBuffer(metabuf, BUFFER_LOCK_UNLOCK);
		LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
		meta = RdbPageGetMeta(BufferGetPage(metabuf));
		blk = meta->gendir_sums[a->space][a->rootno];
		if (blk == 0)
		{
			blk = gen_alloc_page(rel, RDB_PAGE_KIND_GENDIR_SUMMARY, gen_root_ident(a),
								 RDB_GENDIR_GROUPS_PER_ROOT * sizeof(RdbGenSummary));
			state = GenericXLogStart(rel);
			page = GenericXLogRegisterBuffer(state, metabuf, 0);
			gen_meta_fix_lower(page);
			RdbPageGetMeta(page)->gendir_sums[a->space][a->rootno] = blk;
			GenericXLogFinish(state);
		}
	}
	UnlockReleaseBuffer(metabuf);
	return blk == 0 ? InvalidBlockNumber : blk;
}

/* pin and lock the summary page at blk, checked; ERROR if it is none */
static Buffer
gen_summary_read(Relation rel, BlockNumber blk, const GenAddr *a, int mode)
{
	Buffer		buf = ReadBuffer(rel, blk);
	Page		page;

	LockBuffer(buf, mode);
	page = BufferGetPage(buf);
	if (!gen_page_kind_is(page, RDB_PAGE_KIND_GENDIR_SUMMARY) ||
		RdbPageGetOpaque(page)->generation != gen_root_ident(a))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("block %u of rustydb table \"%s\" is not a generation directory summary page",
						blk, RelationGetRelationName(rel))));
	return buf;
}

/*
 * The summary page of a's root, for a writer about to change an entry of
 * a's group: share-locked if the group has no summary (a summariser needs
 * the exclusive lock, so none can be set before the writer lets go),
 * exclusively locked if it has one (to clear it).  The page is made if the
 * root has none yet: a writer that found none and went on unlocked could
 * meet a summariser that makes it and summarises the group meanwhile.
 * InvalidBuffer only beyond the directory's reach.
 */
static Buffer
gen_lock_summary(Relation rel, const GenAddr *a)
{
	BlockNumber blk = gen_summary_block(rel, a, true);
	Buffer		buf;

	if (!BlockNumberIsValid(blk))
		return InvalidBuffer;
	buf = gen_summary_read(rel, blk, a, BUFFER_LOCK_SHARE);
	if (GenSummaries(BufferGetPage(buf))[gen_group_index(a)].stripe == RDB_GEN_SUMMARY_NONE)
		return buf;
	/* (a summary page stays one: no need to check the page again) */
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	return buf;
}

/*
 * Clear the summary of a's group in sumbuf (from gen_lock_summary: locked
 * exclusively whenever the summary can be set, or InvalidBuffer) as part of
 * the generic WAL record state; true if it was set.
 */
static bool
gen_summary_clear(GenericXLogState *state, Buffer sumbuf, const GenAddr *a)
{
	Page		page;

	if (!BufferIsValid(sumbuf) ||
		GenSummaries(BufferGetPage(sumbuf))[gen_group_index(a)].stripe == RDB_GEN_SUMMARY_NONE)
		return false;
	page = GenericXLogRegisterBuffer(state, sumbuf, 0);
	memset(&GenSummaries(page)[gen_group_index(a)], 0, sizeof(RdbGenSummary));
	return true;
}

/*
 * rdb_gen_copy_summaries
 *		Copy the summaries of the root holding generation gen
 *		(RDB_GENDIR_GROUPS_PER_ROOT of them); false if it has none.
 */
bool
rdb_gen_copy_summaries(Relation rel, uint32 gen, RdbGenSummary *summaries)
{
	GenAddr		a;
	BlockNumber blk;
	Buffer		buf;

	gen_addr(gen, &a);
	blk = gen_summary_block(rel, &a, false);
	if (!BlockNumberIsValid(blk))
		return false;
	buf = gen_summary_read(rel, blk, &a, BUFFER_LOCK_SHARE);
	memcpy(summaries, GenSummaries(BufferGetPage(buf)),
		   sizeof(RdbGenSummary) * RDB_GENDIR_GROUPS_PER_ROOT);
	UnlockReleaseBuffer(buf);
	return true;
}

/*
 * Summarise the group whose first generation is base, if it is not yet
 * and every generation of it is retired into one stripe.
 */
static void
gen_summarize_group(Relation rel, uint32 base)
{
	GenAddr		a;
	BlockNumber leaves[RDB_GENDIR_LEAVES_PER_GROUP];
	BlockNumber sumblk;
	Buffer		sumbuf;
	Buffer		buf;
	RdbGenSummary sum;
	bool		ok = true;
	int			k;

	gen_addr(base, &a);
	if (a.rootno >= RDB_GENDIR_MAX_ROOTS)
		return;

	/* already summarised (VACUUM asks for every group): nothing to read */
	sumblk = gen_summary_block(rel, &a, false);
	if (BlockNumberIsValid(sumblk))
	{
		bool		set;

		sumbuf = gen_summary_read(rel, sumblk, &a, BUFFER_LOCK_SHARE);
		set = GenSummaries(BufferGetPage(sumbuf))[gen_group_index(&a)].stripe !=
			RDB_GEN_SUMMARY_NONE;
		UnlockReleaseBuffer(sumbuf);
		if (set)
			return;
	}

	/* the group's leaves, all of which must exist */
	{
		BlockNumber root;

		buf = ReadBuffer(rel, RDB_METAPAGE_BLKNO);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		root = RdbPageGetMeta(BufferGetPage(buf))->gendir_roots[a.space][a.rootno];
		UnlockReleaseBuffer(buf);
		if (root == 0)
			return;
		buf = gen_lock_root(rel, root, BUFFER_LOCK_SHARE);
		for (k = 0; k < RDB_GENDIR_LEAVES_PER_GROUP; k++)
			leaves[k] = GenRootSlots(BufferGetPage(buf))[a.rootslot + k];
		UnlockReleaseBuffer(buf);
		for (k = 0; k < RDB_GENDIR_LEAVES_PER_GROUP; k++)
			if (leaves[k] == 0)
				return;
	}

	sumblk = gen_summary_block(rel, &a, true);
	if (!BlockNumberIsValid(sumblk))
		return;
	/*
	 * Held exclusively while the leaves are read: a reviver or compaction's
	 * remap takes it before changing a leaf, so no entry changes between
	 * our reading it and the summary being set.
	 */
	sumbuf = gen_summary_read(rel, sumblk, &a, BUFFER_LOCK_EXCLUSIVE);
	if (GenSummaries(BufferGetPage(sumbuf))[gen_group_index(&a)].stripe !=
		RDB_GEN_SUMMARY_NONE)
	{
		UnlockReleaseBuffer(sumbuf);
		return;
	}

	memset(&sum, 0, sizeof(sum));
	sum.stripe = RDB_GEN_SUMMARY_EMPTY;
	sum.lo = PG_UINT32_MAX;
	for (k = 0; ok && k < RDB_GENDIR_LEAVES_PER_GROUP; k++)
	{
		uint32		leafbase = base + k * RDB_GENDIR_PER_LEAF;
		Page		page;
		int			i;

		buf = ReadBuffer(rel, leaves[k]);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (!gen_page_kind_is(page, RDB_PAGE_KIND_GENDIR_LEAF) ||
			RdbPageGetOpaque(page)->generation != leafbase)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("block %u of rustydb table \"%s\" is not the generation directory leaf for generation %u",
							leaves[k], RelationGetRelationName(rel), leafbase)));
		for (i = 0; i < (int) RDB_GENDIR_PER_LEAF; i++)
		{
			const RdbGenEntry *e = &GenLeafEntries(page)[i];
			uint64		nflushed;

			/* block 0, the metapage, is no generation with rows */
			if (leafbase + i < RDB_FIRST_DATA_BLKNO && e->phys == RDB_GEN_NONE)
				continue;
			if (e->phys != RDB_GEN_RETIRED)
			{
				ok = false;
				break;
			}
			if (e->nlive == 0)
				continue;
			rdb_gen_check_entry(e, leafbase + i);
			/* the span as the scan computes it (scan_retired_span) */
			nflushed = e->maxoff > 0 ?
				pg_popcount((const char *) e->flushed, (e->maxoff - 1) / 8 + 1) : 0;
			if (nflushed == 0 ||
				(sum.stripe != RDB_GEN_SUMMARY_EMPTY && e->stripe != sum.stripe) ||
				e->stripe == RDB_GEN_SUMMARY_NONE || e->stripe == RDB_GEN_SUMMARY_EMPTY)
			{
				ok = false;
				break;
			}
			sum.stripe = e->stripe;
			sum.lo = Min(sum.lo, e->first);
			sum.hi = Max(sum.hi, e->first + (uint32) nflushed - 1);
			sum.nlive += e->nlive;
		}
		UnlockReleaseBuffer(buf);
	}
	if (ok)
	{
		GenericXLogState *state = GenericXLogStart(rel);
		Page		page = GenericXLogRegisterBuffer(state, sumbuf, 0);

		if (sum.stripe == RDB_GEN_SUMMARY_EMPTY)
			sum.lo = sum.hi = 0;
		GenSummaries(page)[gen_group_index(&a)] = sum;
		GenericXLogFinish(state);
	}
	UnlockReleaseBuffer(sumbuf);
}

/*
 * Groups whose entries this backend changed (retired into, remapped),
 * per space a range of group numbers, for one relfilenode at a time:
 * summarised by the flush, VACUUM or compaction that changed them.  Lost
 * on an error or when another relation's changes come; a group left
 * unsummarised is only read leaf by leaf.
 */
static struct
{
	RelFileNode node;
	bool		any[2];
	uint32		lo[2];
	uint32		hi[2];
} gen_pending;

static void
gen_note_changed(Relation rel, uint32 gen)
{
	int			space = gen >= RDB_FIRST_REMAPPED_GENERATION ? 1 : 0;
	uint32		group = (gen & ~RDB_FIRST_REMAPPED_GENERATION) / RDB_GENDIR_PER_GROUP;

	if (!RelFileNodeEquals(gen_pending.node, rel->rd_node))
	{
		memset(&gen_pending, 0, sizeof(gen_pending));
		gen_pending.node = rel->rd_node;
	}
	if (!gen_pending.any[space])
	{
		gen_pending.any[space] = true;
		gen_pending.lo[space] = gen_pending.hi[space] = group;
	}
	gen_pending.lo[space] = Min(gen_pending.lo[space], group);
	gen_pending.hi[space] = Max(gen_pending.hi[space], group);
}

/*
 * rdb_gen_summarize_pending
 *		Summarise the groups this backend changed in rel (those that can
 *		be).  Call with no buffer locks held.
 */
void
rdb_gen_summarize_pending(Relation rel)
{
	int			space;

	if (!RelFileNodeEquals(gen_pending.node, rel->rd_node))
		return;
	for (space = 0; space < 2; space++)
	{
		uint32		g;

		if (!gen_pending.any[space])
			continue;
		gen_pending.any[space] = false;
		for (g = gen_pending.lo[space]; g <= gen_pending.hi[space]; g++)
		{
			CHECK_FOR_INTERRUPTS();
			gen_summarize_group(rel, (space ? RDB_FIRST_REMAPPED_GENERATION : 0) +
								g * RDB_GENDIR_PER_GROUP);
		}
	}
}

/*
 * rdb_gen_summarize_all
 *		Summarise every group of rel's directory that can be (VACUUM: also
 *		the groups of tables written before summaries existed).
 */
void
rdb_gen_summarize_all(Relation rel)
{
	uint32		next_generation;
	uint32		nblocks;
	uint32		g;

	if (!rdb_meta_gendir(rel, &next_generation))
		return;
	nblocks = RelationGetNumberOfBlocks(rel);
	for (g = 0; (uint64) g * RDB_GENDIR_PER_GROUP < nblocks; g++)
	{
		CHECK_FOR_INTERRUPTS();
		gen_summarize_group(rel, g * RDB_GENDIR_PER_GROUP);
	}
	for (g = 0; (uint64) g * RDB_GENDIR_PER_GROUP <
		 next_generation - RDB_FIRST_REMAPPED_GENERATION; g++)
	{
		CHECK_FOR_INTERRUPTS();
		gen_summarize_group(rel, RDB_FIRST_REMAPPED_GENERATION + g * RDB_GENDIR_PER_GROUP);
	}
}

/*
 * rdb_gen_directory_blocks
 *		The blocks of rel's directory pages (roots, summary pages, leaves),
 *		sorted, in *blocks (allocated in mcxt); returns how many.  Pages
 *		added after the call are not listed.
 */
int
rdb_gen_directory_blocks(Relation rel, MemoryContext mcxt, BlockNumber **blocks)
{
	uint32		roots[2][RDB_GENDIR_MAX_ROOTS];
	uint32		sums[2][RDB_GENDIR_MAX_ROOTS];
	Buffer		buf;
	BlockNumber *out;
	int			n = 0;
	int			cap = 64;
	int			space;
	int			r;

	buf = ReadBuffer(rel, RDB_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	memcpy(roots, RdbPageGetMeta(BufferGetPage(buf))->gendir_roots, sizeof(roots));
	memcpy(sums, RdbPageGetMeta(BufferGetPage(buf))->gendir_sums, sizeof(sums));
	UnlockReleaseBuffer(buf);

	out = MemoryContextAlloc(mcxt, sizeof(BlockNumber) * cap);
	for (space = 0; space < 2; space++)
	{
		for (r = 0; r < RDB_GENDIR_MAX_ROOTS; r++)
		{
			const uint32 *slots;
			int			k;

			if (roots[space][r] == 0)
				continue;
			if (n + 2 + (int) RDB_GENDIR_PER_ROOT > cap)
			{
				cap = 2 * (n + 2 + (int) RDB_GENDIR_PER_ROOT);
				out = repalloc(out, sizeof(BlockNumber) * cap);
			}
			out[n++] = roots[space][r];
			if (sums[space][r] != 0)
				out[n++] = sums[space][r];
			buf = gen_lock_root(rel, roots[space][r], BUFFER_LOCK_SHARE);
			slots = GenRootSlots(BufferGetPage(buf));
			for (k = 0; k < (int) RDB_GENDIR_PER_ROOT; k++)
				if (slots[k] != 0)
					out[n++] = slots[k];
			UnlockReleaseBuffer(buf);
		}
	}
	qsort(out, n, sizeof(BlockNumber), rdb_block_cmp);
	*blocks = out;
	return n;
}
