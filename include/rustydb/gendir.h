/*-------------------------------------------------------------------------
 *
 * gendir.h
 *	  The generation directory: retired L0 pages and reused ones.
 *
 * A row's TID is (generation, offset) (l0.h).  A first-time L0 page has
 * generation = its block number.  Once flush has moved every row of a page
 * into one stripe and every snapshot sees those rows, the page is *retired*:
 * its rows are described by one directory entry (stripe, first stripe row,
 * which offsets map to which stripe rows, which are still live) and its
 * physical block becomes a FREE page.  Free pages are reused for new L0 rows
 * under fresh generations (RDB_FIRST_REMAPPED_GENERATION and up, from the
 * metapage's counter, or recycled: see below), whose directory entry names
 * their physical block.
 * So a flushed row costs ~92 bytes per page of rows in L0 instead of a 36-byte
 * stub per row, and the table's L0 part stays as big as its unflushed rows.
 *
 * A retired row reads as a frozen, never-locked row: rdb_gen_build_page
 * synthesises the page of frozen stubs the entry describes, and readers run
 * their ordinary page code on it.  The first UPDATE, DELETE or row lock of a
 * retired row *revives* its generation (rdb_gen_revive): that page is
 * written to a free page and the entry points at it, so every existing stub
 * path works unchanged; VACUUM retires it again later.
 * A CLUSTER or VACUUM FULL gives the rows it writes straight into stripes
 * retired generations that never had a page (rdb_gen_add_retired).
 *
 * Storage: entries live in directory leaf pages (RDB_GENDIR_PER_LEAF each)
 * found through root pages (RDB_GENDIR_PER_ROOT leaves each) whose block
 * numbers the metapage holds, one array per generation space (first-time,
 * remapped).  All in the main fork, allocated on demand, never freed before
 * the relfilenode goes.  A remapped generation whose entry is retired with
 * no row left (VACUUM removed its rows and their index entries) names the
 * next reused page instead of a new number (rdb_gen_reuse_page), as heap
 * reuses an unused line pointer: the directory holds as many remapped
 * generations as have rows at once, not as many as were ever given out.
 *
 * Locking order: L0 pages, then the metapage, then root pages, then summary
 * pages, then leaf pages.  (A holder of a summary page's lock may still
 * share-lock the metapage or a root to find a leaf: nobody waits for a
 * summary page while holding those.)  A leaf's entry changes under the
 * leaf's exclusive lock; readers copy an entry under a share lock and
 * re-check the page they then pin.
 *
 * IDENTIFICATION
 *	  include/rustydb/gendir.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RUSTYDB_GENDIR_H
#define RUSTYDB_GENDIR_H

#include "access/htup_details.h"
#include "access/xlogreader.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "utils/rel.h"

#define RDB_PAGE_KIND_FREE			4	/* retired page, free for reuse */
#define RDB_PAGE_KIND_GENDIR_ROOT	5
#define RDB_PAGE_KIND_GENDIR_LEAF	6
#define RDB_PAGE_KIND_GENDIR_SUMMARY 7

/* offsets an entry can describe; pages with higher offsets are not retired */
#define RDB_GEN_MAX_OFFSET		(MaxHeapTuplesPerPage)
#define RDB_GEN_BITMAP_BYTES	((RDB_GEN_MAX_OFFSET + 7) / 8)

/* phys values of an entry */
#define RDB_GEN_NONE			((uint32) 0)	/* no entry (block 0 is the metapage) */
#define RDB_GEN_RETIRED			InvalidBlockNumber

/*
 * One generation.  When retired, the row at offset o (bit o-1 of live set)
 * is stripe row  first + (number of flushed bits below o).  flushed keeps
 * the offsets whose rows were deleted since (their stripe rows stay in the
 * stripe), so the numbering never shifts.
 */
typedef struct RdbGenEntry
{
	uint32		phys;			/* RDB_GEN_NONE, RDB_GEN_RETIRED, or the block */
	uint32		stripe;			/* retired: first block of the stripe */
	uint32		first;			/* retired: stripe row of the first flushed offset */
	uint16		maxoff;			/* retired: highest live offset */
	uint16		nlive;			/* retired: live rows */
	uint8		flushed[RDB_GEN_BITMAP_BYTES];
	uint8		live[RDB_GEN_BITMAP_BYTES];
} RdbGenEntry;

#define RDB_GENDIR_PER_LEAF \
	((BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(8)) / sizeof(RdbGenEntry))
#define RDB_GENDIR_PER_ROOT \
	((BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(8)) / sizeof(uint32))
#define RDB_GENDIR_MAX_ROOTS	200		/* per space, in the metapage */

/*
 * Leaf-group summaries.  The generations of RDB_GENDIR_LEAVES_PER_GROUP
 * consecutive leaves (RDB_GENDIR_PER_GROUP of them) make a group.  One
 * summary page per root (block in the metapage's gendir_sums) holds a
 * summary per group of that root's leaves: when set, every generation of
 * the group is retired (space 0's generations below RDB_FIRST_DATA_BLKNO
 * excepted: block 0 is the metapage), those with rows into stripe `stripe`,
 * with stripe rows within [lo, hi] (only ever too wide), nlive rows in
 * all.  A scan whose quals exclude that span passes over the group's
 * generations without reading its leaves.
 *
 * A summary is set only by rdb_gen_summarize_pending, which reads the
 * group's leaves under the summary page's exclusive lock; anything that
 * changes a retired entry (reviving, compaction's remap) clears the
 * summary in the same WAL record, taking the summary page's lock before the
 * leaf's.  Retiring never breaks a set summary (its entries were all
 * retired already).  Tables whose metapage predates summaries have none
 * until their next flush, VACUUM or compaction summarises them.
 */
#define RDB_GENDIR_LEAVES_PER_GROUP	4
#define RDB_GENDIR_PER_GROUP	(RDB_GENDIR_PER_LEAF * RDB_GENDIR_LEAVES_PER_GROUP)
#define RDB_GENDIR_GROUPS_PER_ROOT	(RDB_GENDIR_PER_ROOT / RDB_GENDIR_LEAVES_PER_GROUP)

#define RDB_GEN_SUMMARY_NONE	((uint32) 0)	/* stripe: not summarised */
#define RDB_GEN_SUMMARY_EMPTY	InvalidBlockNumber	/* stripe: no live row */

typedef struct RdbGenSummary
{
	uint32		stripe;			/* first block, or one of the above */
	uint32		lo;				/* lowest stripe row of the group's rows */
	uint32		hi;				/* highest (too high at most) */
	uint32		nlive;			/* live rows of the group's generations */
} RdbGenSummary;

static inline bool
rdb_gen_bit(const uint8 *map, OffsetNumber off)
{
	return (map[(off - 1) / 8] & (1 << ((off - 1) % 8))) != 0;
}

static inline void
rdb_gen_set_bit(uint8 *map, OffsetNumber off)
{
	map[(off - 1) / 8] |= (1 << ((off - 1) % 8));
}

/*
 * FREE pages a flush or a compaction's survey met, which the stripes it
 * writes may take (rdb_gen_take_free_pages): blocks in ascending order,
 * InvalidBlockNumber for those tried already.
 */
typedef struct RdbFreePageHint
{
	BlockNumber *blocks;
	int			n;
	int			max;
} RdbFreePageHint;

struct RdbFreeExtent;
extern void rdb_gen_hint_add(RdbFreePageHint *hint, Page page,
							 BlockNumber blkno);
extern void rdb_gen_make_free_page(Relation rel, Buffer buf);
extern int	rdb_gen_take_free_pages(Relation rel, RdbFreePageHint *hint,
									uint32 need, struct RdbFreeExtent *out,
									int maxruns);

/* reading */
extern bool rdb_gen_page_is_free(Page page);
extern bool rdb_gen_page_is_leaf(Page page);
extern bool rdb_gen_lookup(Relation rel, uint32 gen, RdbGenEntry *entry);
extern bool rdb_gen_copy_leaf(Relation rel, uint32 gen, RdbGenEntry *entries);
extern Buffer rdb_gen_read(Relation rel, uint32 gen,
						   BufferAccessStrategy strategy,
						   RdbGenEntry *retired, bool *is_retired);
extern void rdb_gen_build_page(Page page, uint32 gen, const RdbGenEntry *e);
extern void rdb_gen_check_entry(const RdbGenEntry *e, uint32 gen);
extern bool rdb_gen_retired_stub(const RdbGenEntry *e, ItemPointer tid,
								 char *stub);
extern Buffer rdb_l0_read_tid_or_retired(Relation rel, ItemPointer tid,
										 BufferAccessStrategy strategy,
										 char *stub, bool *retired_row);
extern int	rdb_gen_leaf_retired(Page leaf, int from, uint32 *gen,
								 RdbGenEntry *e);
extern bool rdb_meta_gendir(Relation rel, uint32 *next_generation);
extern bool rdb_gen_copy_summaries(Relation rel, uint32 gen,
								   RdbGenSummary *summaries);
extern int	rdb_gen_directory_blocks(Relation rel, MemoryContext mcxt,
									 BlockNumber **blocks);

/* writing */
extern void rdb_gen_prepare(Relation rel, uint32 gen);
extern bool rdb_gen_try_retire(Relation rel, Buffer buf,
							   TransactionId oldest_xmin, int *nrows,
							   BlockNumber *leaf);
extern void rdb_gen_revive(Relation rel, uint32 gen);
extern int	rdb_gen_remap_leaf(Relation rel, BlockNumber leaf,
							   bool (*fn) (void *arg, RdbGenEntry *e),
							   void *arg);
extern uint32 rdb_gen_reuse_page(Relation rel, Buffer buf);
extern void rdb_gen_note_recyclable(Relation rel, uint32 gen,
									const RdbGenEntry *e);
extern void rdb_gen_publish_recyclable(Relation rel);
extern uint32 rdb_gen_add_retired(Relation rel, BlockNumber stripe,
								  uint32 nrows, int per_gen, bool align);
extern void rdb_gen_forget(void);
extern void rdb_gen_summarize_pending(Relation rel);
extern void rdb_gen_summarize_all(Relation rel);

/* redo of XLOG_RDB_RETIRE (l0_xlog.c dispatches) */
extern void rdb_gen_redo_retire(XLogReaderState *record);

#endif							/* RUSTYDB_GENDIR_H */
