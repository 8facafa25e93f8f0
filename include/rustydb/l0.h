/*-------------------------------------------------------------------------
 *
 * l0.h
 *	  L0, the row-format memtable: page layout, row numbers, page access.
 *
 * The main fork of a rustydb relation is a sequence of 8 kB pages that all
 * carry PostgreSQL's standard page header (so the buffer manager verifies
 * their data checksums) and a small rustydb special area naming the page's
 * kind:
 *
 *	block 0		the metapage (RdbMetaPageData, see metapage.c)
 *	block 1..	L0 pages: slotted pages (line pointers growing down, tuples
 *				growing up) whose tuples carry HeapTupleHeaderData, so
 *				PostgreSQL's own visibility, combo-CID, multixact, TOAST
 *				and freezing routines serve them as they serve heap.
 *
 * Row numbers.  Every row has a 64-bit row number, and its TID *is* that
 * number:
 *
 *		rownum = generation * MaxHeapTuplesPerPage + (offset - 1)
 *
 * where "generation" is the virtual block number stored in the L0 page's
 * special area.  Offsets therefore stay within 1..MaxHeapTuplesPerPage, as
 * tidbitmap.c and every index AM require, and TID order equals row-number
 * order.  A page that is initialised for the first time gets
 * generation == its block number, so a TID's block is then also the
 * physical block and lookups are one buffer read.  When flush has moved all
 * of a page's rows into a stripe, the page is retired into the generation
 * directory (gendir.h) and its block reused under a fresh generation from
 * the metapage's counter (RDB_FIRST_REMAPPED_GENERATION upwards), so that
 * row numbers are never reused while a row still has them (a generation
 * whose rows are all deleted, vacuumed and out of every index is recycled,
 * as heap reuses a line pointer); such generations are resolved through
 * the directory (rdb_gen_read).
 *
 * Locking: as heap.  Buffer content locks protect line pointers and tuple
 * headers; tuple-level locks go through xmax/multixacts and the heavyweight
 * tuple lock (LockTuple), exactly as heapam does.
 *
 * IDENTIFICATION
 *	  include/rustydb/l0.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RUSTYDB_L0_H
#define RUSTYDB_L0_H

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/tableam.h"
#include "access/multixact.h"
#include "storage/lmgr.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
#include "utils/rel.h"

#define RDB_METAPAGE_BLKNO		0
#define RDB_FIRST_DATA_BLKNO	1

#define RDB_PAGE_MAGIC			0x5244	/* "RD" */
#define RDB_PAGE_KIND_META		1
#define RDB_PAGE_KIND_L0		2

/*
 * Generations at or above this value are reserved for L0 pages that have
 * been reused under a new identity; block numbers of first-time pages stay
 * below it (a relation may have at most 2^31 pages of 8 kB = 16 TB of L0;
 * rdb_l0_get_buffer_for_tuple refuses to extend it further).
 */
#define RDB_FIRST_REMAPPED_GENERATION	((uint32) 0x80000000)

/*
 * Special area of rustydb pages that need one: the metapage, and L0 pages
 * reused under a generation other than their block number.  A first-time
 * L0 page (generation = block number) has no special area at all, so that
 * it holds rows up to heap's MaxHeapTupleSize (8160 bytes): every row heap
 * accepts must fit.  rdb_l0_page_generation() hides the difference.
 */
typedef struct RdbPageOpaqueData
{
	uint32		generation;		/* L0: virtual block number used in TIDs */
	uint16		kind;			/* RDB_PAGE_KIND_* */
	uint16		magic;			/* RDB_PAGE_MAGIC */
} RdbPageOpaqueData;

typedef RdbPageOpaqueData *RdbPageOpaque;

#define RdbPageGetOpaque(page) \
	((RdbPageOpaque) PageGetSpecialPointer(page))

/* an empty rustydb page with the special area: its kind and generation */
static inline void
rdb_page_init_special(Page page, uint16 kind, uint32 generation)
{
	RdbPageOpaque opaque;

	PageInit(page, BLCKSZ, sizeof(RdbPageOpaqueData));
	opaque = RdbPageGetOpaque(page);
	opaque->generation = generation;
	opaque->kind = kind;
	opaque->magic = RDB_PAGE_MAGIC;
}

/*
 * The largest tuple an L0 page can hold (after TOAST): heap's, on a
 * first-time page without a special area.
 */
#define RDB_MAX_TUPLE_SIZE	MaxHeapTupleSize

/*
 * rdb_l0_page_generation
 *		The generation (virtual block number of its rows' TIDs) of the L0
 *		page stored at block blkno.
 */
static inline uint32
rdb_l0_page_generation(Page page, BlockNumber blkno)
{
	if (PageGetSpecialSize(page) == 0)
		return blkno;
	return RdbPageGetOpaque(page)->generation;
}

/*
 * rdb_l0_page_tuple
 *		Fill tup with the row at line pointer off (normal) of the L0 page
 *		stored at block blkno of rel: its TID carries the page's generation.
 */
static inline void
rdb_l0_page_tuple(Relation rel, Page page, BlockNumber blkno, OffsetNumber off,
				  HeapTuple tup)
{
	ItemId		lp = PageGetItemId(page, off);

	tup->t_data = (HeapTupleHeader) PageGetItem(page, lp);
	tup->t_len = ItemIdGetLength(lp);
	tup->t_tableOid = RelationGetRelid(rel);
	ItemPointerSet(&tup->t_self, rdb_l0_page_generation(page, blkno), off);
}

/* row number <-> TID */
static inline uint64
rdb_rownum_from_tid(ItemPointer tid)
{
	return (uint64) ItemPointerGetBlockNumber(tid) * MaxHeapTuplesPerPage +
		(ItemPointerGetOffsetNumber(tid) - 1);
}

static inline void
rdb_tid_from_rownum(uint64 rownum, ItemPointer tid)
{
	ItemPointerSet(tid, (BlockNumber) (rownum / MaxHeapTuplesPerPage),
				   (OffsetNumber) (rownum % MaxHeapTuplesPerPage + 1));
}

/*
 * Flushed rows.  Flush (src/lsm/flush.c) moves the values of L0 rows that
 * every transaction sees into a columnar stripe (stripe.h) and leaves in
 * each row's place a stub: the row's own heap tuple header (xmin, xmax,
 * infomask, t_ctid: MVCC, row locks, update chains, freezing and VACUUM
 * work on it exactly as before) with no attributes, followed by
 * RdbStubData, where the values went.  The row keeps its line pointer, so
 * its TID is unchanged and indexes are never touched.  Every path that
 * hands a row's values out materialises stubs first (stub.c).
 *
 * RDB_HEAP2_IN_STRIPE is a t_infomask2 bit heap leaves unused (0x1800 are
 * free in PostgreSQL 15); heap_mask leaves it alone.
 */
#define RDB_HEAP2_IN_STRIPE		0x0800

typedef struct RdbStubData
{
	uint32		stripe;			/* first block of the stripe */
	uint32		row;			/* row index within the stripe */
} RdbStubData;

#define RDB_STUB_HOFF		MAXALIGN(SizeofHeapTupleHeader)
#define RDB_STUB_LEN		(RDB_STUB_HOFF + sizeof(RdbStubData))

static inline bool
rdb_tuple_is_stub(HeapTupleHeader htup)
{
	return (htup->t_infomask2 & RDB_HEAP2_IN_STRIPE) != 0;
}

static inline RdbStubData
rdb_stub_data(HeapTupleHeader htup)
{
	RdbStubData sd;

	memcpy(&sd, (char *) htup + RDB_STUB_HOFF, sizeof(RdbStubData));
	return sd;
}

/* stub.c */
extern HeapTuple rdb_l0_materialize(Relation rel, HeapTuple tuple);
extern bool rdb_l0_row_is_live(HeapTuple tup, TransactionId oldest_xmin,
							   Buffer buf);
extern void rdb_l0_store_tuple(Relation rel, HeapTuple tuple,
							   TupleTableSlot *slot, Buffer buffer,
							   bool pinned);
extern bool rdb_l0_slot_satisfies(Relation rel, TupleTableSlot *slot,
								  Snapshot snapshot);
extern HTSV_Result rdb_l0_slot_vacuum_status(Relation rel,
											 TupleTableSlot *slot,
											 TransactionId OldestXmin);
extern void rdb_l0_make_stub(HeapTupleHeader tuple, uint32 stripe,
							 uint32 row, char *stub);

/* l0_page.c */
extern void rdb_l0_page_init(Page page, uint32 generation, BlockNumber blkno);
extern bool rdb_l0_page_is_l0(Page page);
extern void rdb_l0_page_check(Relation rel, Buffer buf);
extern Buffer rdb_read_buffer(Relation rel, BlockNumber blkno,
							  BufferAccessStrategy strategy);
extern Buffer rdb_read_buffer_timed(Relation rel, BlockNumber blkno,
									BufferAccessStrategy strategy,
									int64 *miss_us);
extern Buffer rdb_l0_read_tid_buffer(Relation rel, ItemPointer tid,
									 BufferAccessStrategy strategy);
extern bool rdb_l0_tid_on_page(Buffer buf, ItemPointer tid);
extern void rdb_l0_room_add(Relation rel, BlockNumber blkno);
extern Buffer rdb_l0_get_buffer_for_tuple(Relation rel, Size len,
										  Buffer otherBuffer,
										  BulkInsertState bistate,
										  bool *page_is_new);
extern OffsetNumber rdb_l0_put_tuple(Relation rel, Buffer buf, HeapTuple tuple);
extern Size rdb_l0_page_free_space(Page page);
/*
 * rdb_l0_xmin_committed_hint
 *		Is the tuple's inserter committed with the hint bit set, setting it
 *		(after flushing WAL as far as needed) when it is committed but not
 *		hinted?  What marking a page all-visible and flushing a row rely on.
 *		Caller holds at least a share lock on buf.
 */
extern bool rdb_l0_xmin_committed_hint(HeapTupleHeader htup, Buffer buf);

/* metapage.c */

/*
 * A run of stripe pages no stripe uses any more, free for the next stripe
 * that fits (stripe_write.c).  Compaction records it (src/lsm/compact.c)
 * once nothing refers to it, in transaction xid; it is handed out only once
 * xid committed and every snapshot on the server is newer (a reader that
 * still leads into the old stripe has an older one), with the record and
 * counter that cancel standby readers and empty backends' caches first
 * (src/stripe/stripe_reuse.c).
 */
typedef struct RdbFreeExtent
{
	uint32		first;
	uint32		nblocks;
	TransactionId xid;			/* freed by; FrozenTransactionId: usable
								 * (reuse announced) */
} RdbFreeExtent;

#define RDB_META_MAX_FREE_EXTENTS	128

/* cumulative counters of the metapage (rustydb.tables) */
typedef struct RdbMetaCounters
{
	uint64		flush_bytes;
	uint64		flush_raw_bytes;
	uint64		compact_bytes;
	uint64		compactions;
} RdbMetaCounters;

typedef struct RdbMetaPageData
{
	uint32		magic;			/* RDB_META_MAGIC */
	uint32		version;		/* RDB_META_VERSION */
	uint32		next_generation;	/* next generation for a reused L0 page */
	uint32		flags;			/* RDB_META_* */
	/* generation directory root pages per space (gendir.h), 0 = none */
	uint32		gendir_roots[2][200];

	/*
	 * Stripe space and what flush and compaction wrote (src/lsm/compact.c).
	 * Fields from here on are zero on metapages written before 0.4.0 (the
	 * page was zeroed when initialised), which is what they mean then.
	 */
	uint64		flush_bytes;	/* stripe bytes written by flush */
	uint64		flush_raw_bytes;	/* bytes of the values flush moved */
	uint64		compact_bytes;	/* stripe bytes written by compaction */
	uint64		compactions;	/* compaction steps completed */
	uint32		nfree_extents;

	/*
	 * Where rdb_gen_reuse_page looks for a remapped generation to recycle
	 * (an entry retired with no row left, gendir.c): from this generation
	 * on; 0 = none known.  Written by VACUUM and flush when they retire
	 * such entries, moved on by reuse.  (Was a reserved zero before 0.9.0.)
	 */
	uint32		recycle_gen;
	RdbFreeExtent free_extents[RDB_META_MAX_FREE_EXTENTS];

	/*
	 * Summary page per directory root (gendir.h), 0 = none.  Zero on
	 * metapages written before summaries existed: then the leaves are read
	 * until the next flush, VACUUM or compaction summarises them.
	 */
	uint32		gendir_sums[2][200];

	/*
	 * What the last ANALYZE (in the blocks it sampled, src/tableam/scan.c)
	 * or VACUUM (in every block, vacuum.c) counted: live rows, and how many
	 * of them were flushed (a stub, or a row of a retired generation).  The
	 * planner takes the share of rows a columnar scan can skip by chunk
	 * group from it (src/scan/colscan.c).  Zero on metapages neither has
	 * written since: not known.
	 */
	uint32		counted_rows;
	uint32		counted_flushed;
} RdbMetaPageData;

/*
 * The relation has (or had) stripes: set by flush before the first stub
 * points into one, never cleared (a new relfilenode gets a new metapage).
 * The planner reads it to offer the columnar scan (src/scan/) only where
 * there is something columnar to read.
 */
#define RDB_META_HAS_STRIPES	0x0001
/* The relation has a generation directory (gendir.h): some page was retired */
#define RDB_META_HAS_GENDIR		0x0002

typedef RdbMetaPageData *RdbMetaPage;

#define RDB_META_MAGIC		0x52444231	/* "RDB1" */
#define RDB_META_VERSION	1

extern void rdb_meta_page_init(Page page);
extern void rdb_meta_create(struct SMgrRelationData *srel, ForkNumber forknum,
							bool log, bool sync);
extern void rdb_meta_check(Relation rel);
extern bool rdb_meta_has_stripes(Relation rel);
extern bool rdb_meta_stripes_share(Relation rel, double *share);
extern void rdb_meta_note_flushed_share(Relation rel, double rows, double flushed);
extern void rdb_meta_note_stripes(Relation rel);
extern int	rdb_meta_free_extents(Relation rel, RdbFreeExtent *out);
extern int64 rdb_meta_add_free_extents(Relation rel, const RdbFreeExtent *add,
									   int n);
extern BlockNumber rdb_meta_take_l0_page(Relation rel);
extern int	rdb_meta_take_space(Relation rel, uint32 whole, uint32 scattered,
								RdbFreeExtent *out, int max, bool *mapped);
extern void rdb_meta_count_written(Relation rel, bool compaction,
								   uint64 stored_bytes, uint64 raw_bytes,
								   int steps);
extern void rdb_meta_counters(Relation rel, RdbMetaCounters *out);

/*
 * rdb_extent_skip
 *		If blkno lies in one of the n extents, the block after that extent,
 *		else blkno.  For walks over a relation's pages: free extents hold
 *		pages of old stripes that nothing refers to.
 */
static inline BlockNumber
rdb_extent_skip(const RdbFreeExtent *ext, int n, BlockNumber blkno)
{
	int			i;

	for (i = 0; i < n; i++)
		if (blkno >= ext[i].first && blkno < ext[i].first + ext[i].nblocks)
			return ext[i].first + ext[i].nblocks;
	return blkno;
}

/* qsort comparator of BlockNumbers, ascending */
static inline int
rdb_block_cmp(const void *a, const void *b)
{
	BlockNumber x = *(const BlockNumber *) a;
	BlockNumber y = *(const BlockNumber *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/* l0_lock.c: xmax bookkeeping and row locks, as heapam does them */
extern LOCKMODE rdb_tuplock_hwlock(LockTupleMode mode);
extern MultiXactStatus rdb_mxact_status_for_lock(LockTupleMode mode,
												 bool is_update);
extern void rdb_compute_new_xmax_infomask(TransactionId xmax,
										  uint16 old_infomask,
										  uint16 old_infomask2,
										  TransactionId add_to_xmax,
										  LockTupleMode mode, bool is_update,
										  TransactionId *result_xmax,
										  uint16 *result_infomask,
										  uint16 *result_infomask2);
extern void rdb_multixact_hint_bits(MultiXactId multi, uint16 *new_infomask,
									uint16 *new_infomask2);
extern bool rdb_acquire_tuplock(Relation rel, ItemPointer tid,
								LockTupleMode mode, LockWaitPolicy wait_policy,
								bool *have_tuple_lock);
extern void rdb_release_tuplock(Relation rel, ItemPointer tid,
								LockTupleMode mode);
extern bool rdb_xmax_infomask_changed(uint16 new_infomask, uint16 old_infomask);
extern void rdb_update_xmax_hint_bits(HeapTupleHeader tuple, Buffer buffer,
									  TransactionId xid);
extern bool rdb_does_multixact_conflict(MultiXactId multi, uint16 infomask,
										LockTupleMode lockmode,
										bool *current_is_member);
extern bool rdb_multixact_wait(MultiXactId multi, MultiXactStatus status,
							   uint16 infomask, bool nowait, Relation rel,
							   ItemPointer ctid, XLTW_Oper oper,
							   int *remaining);
extern void rdb_log_header_change(Relation rel, Buffer buf, OffsetNumber offnum,
								  TransactionId prune_xid);
extern TM_Result rdb_l0_lock_tuple(Relation rel, HeapTuple tuple,
								   CommandId cid, LockTupleMode mode,
								   LockWaitPolicy wait_policy,
								   bool follow_updates, Buffer *buffer,
								   TM_FailureData *tmfd);

/*
 * tableam/vacuum.c: heap_page_prune_opt for L0.  A reader about to read an
 * L0 page it has pinned (not locked) prunes it when it is nearly full and
 * holds row versions dead to everyone, if it can have the cleanup lock at
 * once: their line pointers become LP_DEAD (VACUUM removes the index
 * entries and frees them) and their space is reused.
 */
extern void rdb_l0_prune_opt(Relation rel, Buffer buf);

/* tableam/modify.c */
extern void rdb_l0_insert_tuples(Relation rel, HeapTuple *tuples, int ntuples,
								 BulkInsertState bistate, int options,
								 bool fresh);

/* fetch.c */
extern bool rdb_l0_fetch(Relation rel, Snapshot snapshot, HeapTuple tuple,
						 Buffer *userbuf, bool keep_buf);

#endif							/* RUSTYDB_L0_H */
