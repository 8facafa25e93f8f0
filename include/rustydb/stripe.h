/*-------------------------------------------------------------------------
 *
 * stripe.h
 *	  Columnar stripes: immutable runs of pages holding flushed rows' values
 *	  column by column, encoded (src/encoding) and compressed (src/compress).
 *
 * A stripe is written once, by flush (src/lsm/flush.c) or compaction
 * (src/lsm/compact.c), and never changed.  It occupies blocks of the
 * relation's main fork: consecutive [first_block, first_block + nblocks) in the
 * smallest free extent that fits (pages of stripes compaction replaced, see
 * RdbFreeExtent in l0.h), else appended by extending the relation.  When no
 * free extent fits it whole, it is *mapped* instead: spread over up to
 * RDB_STRIPE_MAX_EXTENTS runs of blocks (free extents, then FREE L0 pages
 * (RdbStripeOptions.free_pages, gendir.h), the last run maybe appended),
 * listed in an extent map (RdbStripeMap) right after its header,
 * so that the space compaction gives back is reused whatever its shape.  Its
 * identity is its first block: a flushed row's L0 stub (see l0.h) or retired
 * generation (gendir.h) records (first_block, row index), so a row is found
 * from its TID in O(1) reads.  Once nothing refers to a stripe, compaction
 * gives its pages back; they are written again only once no snapshot on
 * the server can still lead to the old stripe, after a WAL record that
 * cancels such snapshots on hot standbys and a shared counter that makes
 * every backend forget what it cached of old stripes (stripe_reuse.c).
 *
 * Page format: standard pages (checksummed by the buffer manager) with the
 * rustydb special area, kind RDB_PAGE_KIND_STRIPE and generation =
 * first_block of the stripe.  The pages' payload areas
 * [SizeOfPageHeaderData, pd_special) concatenated form one byte stream;
 * pd_lower marks the end of the payload on each page (pd_upper = pd_special),
 * so the pages pass PageIsVerified and masking leaves the payload alone.
 * The stream holds the stripe header (RdbStripeHeader), the column table
 * (ncolumns RdbStripeColumn), the stripe summary (RDB_STRIPE_SUMMARY: per
 * column its NULLs and bounds, on the first page), then the chunk directory (ncolumns *
 * nchunkgroups RdbChunkRef, chunk group major), then (format version 2)
 * the bounds section (see below), then the chunks.  Every chunk is a
 * compression frame (compress.h) around an
 * encoded column chunk (encoding.h) and carries an XXH3 checksum of its
 * stored bytes in its directory entry, verified on every read; the header
 * and directory carry one of their own.  A mismatch raises
 * ERRCODE_DATA_CORRUPTED naming the table, the stripe and the column; other
 * stripes stay readable.
 *
 * Values are stored as they were in the row: external TOAST pointers stay
 * pointers (the TOAST rows still belong to the row, and are deleted with
 * it), inline-compressed values stay compressed.
 *
 * WAL: every stripe page is logged whole (log_newpage_buffer), before any
 * stub refers to it, so crash recovery and standbys see the stripe before
 * any row that points into it.  Temp and unlogged relations log nothing.
 *
 * Locking: stripe pages are immutable; readers take a share lock only while
 * copying bytes out.  Writers extend the relation under the relation
 * extension lock.  Memory: reader state lives in the caller's context or in
 * the per-backend stripe cache (stripe_read.c), which is keyed by relfilenode
 * and first block, so a truncated or rewritten relation never hits a stale
 * entry.
 *
 * Readers: rdb_stripe_open allocates a reader in a child of the caller's
 * CurrentMemoryContext; it lives until rdb_stripe_close or until that
 * context is reset or deleted.  By-reference Datums from
 * rdb_stripe_fetch_row point into the reader's decompressed chunks and stay
 * valid until the next rdb_stripe_fetch_row or rdb_stripe_close on that
 * reader.  rdb_stripe_form_tuple returns a palloc'd tuple (caller's
 * context) that points into nothing else; its t_self is left invalid.  It
 * reads through a per-backend cache of decompressed chunk groups, bounded
 * by rustydb.stripe_cache_size, so random lookups decompress a chunk group
 * once per backend rather than once per lookup; rdb_stripe_cache_forget
 * drops a relation's cached stripes and chunk groups (relcache
 * invalidations do it by themselves).  The
 * format in detail, and what a read costs: src/stripe/README.md.
 *
 * IDENTIFICATION
 *	  include/rustydb/stripe.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RUSTYDB_STRIPE_H
#define RUSTYDB_STRIPE_H

#include "access/htup.h"
#include "access/tupdesc.h"
#include "storage/block.h"
#include "storage/buf.h"
#include "utils/relcache.h"

#include "rustydb/compress.h"
#include "rustydb/encoding.h"
#include "rustydb/options.h"

#define RDB_PAGE_KIND_STRIPE	3
#define RDB_STRIPE_MAGIC		0x52445331	/* "RDS1" */
#define RDB_STRIPE_VERSION		2	/* written by this code */
#define RDB_STRIPE_VERSION_V1	1	/* still read: no bounds section */
#define RDB_STRIPE_VERSION_SORTED 3 /* version 2 + row order (sort_key) */

/*
 * Flag of the header's version field: an extent map (RdbStripeMap) follows
 * the header, and the column table (and all the rest) comes after it.  The
 * format (the versions above) is version & RDB_STRIPE_FORMAT_MASK.
 */
#define RDB_STRIPE_MAPPED		0x0100
#define RDB_STRIPE_FORMAT_MASK	0x00ff
#define RDB_STRIPE_FORMAT(version)	((version) & RDB_STRIPE_FORMAT_MASK)

/*
 * Flag of the header's version field (format 2 and 3): a stripe summary
 * (RdbStripeSummaryHeader, below) follows the column table, and the
 * directory (and all the rest) comes after it.
 */
#define RDB_STRIPE_SUMMARY		0x0200

/*
 * The runs of blocks a stripe's pages occupy, in stream order: page i of
 * the stream is the i-th block counting through the runs.  The first run
 * starts at the stripe's first block (its identity).  Unmapped stripes
 * have one run [first_block, first_block + nblocks); readers get one map
 * for both (rdb_stripe_read_header).  The map lies within the first page
 * (it is read with the header, before any other page is located), and is
 * covered by the header's checksum.
 */
#define RDB_STRIPE_MAX_EXTENTS	32

typedef struct RdbStripeExtent
{
	uint32		first;			/* first block of the run */
	uint32		nblocks;		/* blocks in the run, >= 1 */
} RdbStripeExtent;

typedef struct RdbStripeMap
{
	uint32		nextents;		/* 1 .. RDB_STRIPE_MAX_EXTENTS */
	uint32		reserved;		/* 0 */
	RdbStripeExtent ext[RDB_STRIPE_MAX_EXTENTS];
} RdbStripeMap;

/* bytes between the header and the column table */
#define RDB_STRIPE_MAP_SIZE(version) \
	(((version) & RDB_STRIPE_MAPPED) ? sizeof(RdbStripeMap) : 0)


/* stream header, at offset 0 of the stripe's byte stream */
typedef struct RdbStripeHeader
{
	uint32		magic;			/* RDB_STRIPE_MAGIC */
	uint16		version;		/* RDB_STRIPE_VERSION */
	uint16		ncolumns;		/* natts of the relation when written */
	uint32		nrows;			/* rows, indexes 0 .. nrows - 1 */
	uint32		chunk_group_rows;	/* rows per chunk group (last may be less) */
	uint32		nchunkgroups;
	uint32		nblocks;		/* pages of the stripe */
	uint64		stream_len;		/* bytes of the stream in use */
	uint64		raw_bytes;		/* sum of the values' sizes before encoding */
	uint64		dir_checksum;	/* XXH3 of the header (this field 0) +
								 * column table + directory */
} RdbStripeHeader;

/*
 * The layout of each column when the stripe was written, right after the
 * header: rows are formed back with these, never with the relation's
 * current descriptor, because ALTER TABLE ... ALTER TYPE reads the old
 * rows (to rewrite them) after the catalogs already describe the new type.
 */
typedef struct RdbStripeColumn
{
	Oid			typid;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	char		typstorage;
	bool		isdropped;
	uint16		pad;
} RdbStripeColumn;

/* one chunk: column c of chunk group g, at directory[g * ncolumns + c] */
typedef struct RdbChunkRef
{
	uint64		offset;			/* in the stream */
	uint32		stored_len;		/* bytes of the compression frame */
	uint32		raw_len;		/* bytes of the encoded chunk inside it */
	uint64		checksum;		/* XXH3 of the stored bytes */
	uint32		nnulls;
	uint8		encoding;		/* RdbEncoding */
	uint8		codec;			/* RdbCodec */
	uint16		flags;			/* RDB_CHUNK_* */
} RdbChunkRef;

#define RDB_CHUNK_ALL_NULL		0x0001	/* no chunk stored: every value NULL
										 * (dropped columns, all-NULL data) */

/*
 * Bounds section (format version 2), right after the directory, covered by
 * the header's dir_checksum like the header, column table and directory:
 *
 *	  RdbStripeBoundsHeader
 *	  RdbStripeColumnBounds[ncolumns]
 *	  RdbChunkBounds[nchunkgroups * ncolumns]	(chunk group major, like the
 *												 directory)
 *	  bounds data (data_len bytes)
 *
 * For column c of chunk group g, the smallest and the largest non-NULL value
 * of the chunk, ordered by the comparison function of the default btree
 * opclass of the column's type (of its base type for a domain) under the
 * column's collation when written.  Values are stored flat, as a Datum's
 * bytes: fixed-length types as typlen bytes (by-value ones as heap stores
 * them), varlena types detoasted and decompressed with a 4-byte header.  A
 * chunk keeps bounds only if both values take at most
 * RDB_STRIPE_BOUND_MAX_LEN bytes (a larger compressed or out-of-line value
 * in the chunk is not fetched: no bounds); none for types without a default
 * btree opclass or whose opclass has no sort support (jsonb, arrays...), for
 * dropped columns and for all-NULL chunks (min_len = 0).  The
 * min value is at data offset `offset` (MAXALIGNed, so that the reader's
 * MAXALIGNed copy of the data gives aligned Datums), the max value at
 * offset + MAXALIGN(min_len).
 */
#define RDB_STRIPE_BOUND_MAX_LEN	256

typedef struct RdbStripeBoundsHeader
{
	uint32		data_len;		/* bytes of bounds data */
	uint32		max_len;		/* the bound size limit when written */
	uint32		level;			/* LSM level: 1 for stripes flush writes */
	uint32		reserved;		/* 0 */
} RdbStripeBoundsHeader;

typedef struct RdbStripeColumnBounds
{
	Oid			collation;		/* attcollation when written */
	Oid			cmp_type;		/* type whose default btree opclass ordered
								 * the values; InvalidOid: no bounds */
} RdbStripeColumnBounds;

typedef struct RdbChunkBounds
{
	uint32		offset;			/* of the min value in the bounds data */
	uint16		min_len;		/* 0: no bounds for this chunk */
	uint16		max_len;
	uint32		value_bytes;	/* the chunk's values before encoding
								 * (rdb_datum_raw_size summed), bounds or
								 * not */
} RdbChunkBounds;

/*
 * Stripe summary (RDB_STRIPE_SUMMARY), right after the column table, within
 * the stripe's first page (the writer leaves it out when it would not fit):
 *
 *	  RdbStripeSummaryHeader
 *	  RdbStripeColumnSummary[ncolumns]
 *	  summary data, from MAXALIGN of the two above
 *
 * For each column, the NULLs of the whole stripe and, where every chunk of
 * the column that is not all NULL keeps bounds, the smallest and largest of
 * them (the stripe's bounds), stored as chunk bounds are.  A reader that
 * only needs to know whether a scan's quals exclude the whole stripe reads
 * this page alone (rdb_stripe_read_summary), instead of the directory and
 * the bounds of every chunk (about one page per 300 chunks).  Its own
 * checksum covers header (dir_checksum and magic taken as they are when the
 * header is sealed, dir_checksum as 0), extent map, column table and the
 * summary (checksum as 0); dir_checksum covers it too.
 */
typedef struct RdbStripeSummaryHeader
{
	uint32		len;			/* bytes of the summary, all of it */
	uint16		ncolumns;		/* = the header's */
	uint16		reserved;		/* 0 */
	uint64		checksum;		/* see above */
} RdbStripeSummaryHeader;

typedef struct RdbStripeColumnSummary
{
	Oid			cmp_type;		/* as RdbStripeColumnBounds */
	Oid			collation;
	uint32		nnulls;			/* NULLs of the column in the stripe */
	uint32		offset;			/* of the min value in the summary data */
	uint16		min_len;		/* 0: no bounds for the stripe */
	uint16		max_len;
} RdbStripeColumnSummary;

/* what rdb_stripe_read_summary found, for column c of the stripe */
typedef struct RdbStripeSummaryColumn
{
	Oid			typid;			/* the column's type when written */
	Oid			collation;
	uint32		nnulls;
	bool		has_bounds;
	Datum		min;			/* point into the summary's memory */
	Datum		max;
} RdbStripeSummaryColumn;

typedef struct RdbStripeSummary
{
	uint32		nrows;
	uint32		nchunkgroups;
	int			ncolumns;
	RdbStripeSummaryColumn cols[FLEXIBLE_ARRAY_MEMBER];
} RdbStripeSummary;

/*
 * Row order (format version 3, written when the sort_key table option put
 * the rows in another order than they were given in).  The stripe's rows
 * keep their numbers (a retired generation or a stub names row r = the
 * r-th row given to rdb_stripe_write, so indexes are never touched), but
 * are stored sorted: the row at *position* p (chunk group p / chunk group
 * rows, place p % chunk group rows) is row number order[p].  order is kept
 * a chunk group at a time, as one more chunk per group (int4 values,
 * encoded and compressed like any chunk, XXH3-checked), whose directory
 * entries (RdbChunkRef[nchunkgroups]) follow the bounds section, covered
 * by dir_checksum; the chunks themselves follow the columns' chunks.
 * Stripes of versions 1 and 2, and version 3 only when some rows moved:
 * position = row number.
 */

/* how to write a stripe */
typedef struct RdbStripeOptions
{
	RdbCodec	codec;
	int			level;			/* codec level (zstd) */
	int			chunk_group_rows;
	int			stripe_level;	/* LSM level to record (flush: 1) */
	int			nsortkeys;		/* 0: rows stay in the order given */
	AttrNumber	sortkeys[RDB_MAX_SORT_KEYS];	/* 1-based, ascending,
												 * NULLS LAST */
	struct RdbFreePageHint *free_pages; /* FREE L0 pages the stripe may take
										 * when no free extent holds it
										 * (gendir.h), or NULL */
	void		(*interrupt_check) (void);	/* or NULL: called between
											 * chunk groups while encoding,
											 * before any page is written;
											 * may ereport(ERROR) */
} RdbStripeOptions;

/* what a written stripe is */
typedef struct RdbStripeInfo
{
	BlockNumber first_block;
	uint32		nblocks;
	uint32		nrows;
	uint64		raw_bytes;
	uint64		stored_bytes;	/* pages * BLCKSZ */
	double		write_us;		/* time spent writing and logging pages */
	bool		sorted;			/* rows stored in sort-key order (version 3) */
} RdbStripeInfo;

typedef struct RdbStripeReader RdbStripeReader;

/* stripe_write.c */
extern void rdb_stripe_write(Relation rel, HeapTuple *tuples, int ntuples,
							 const RdbStripeOptions *opts,
							 RdbStripeInfo *info);
extern bool rdb_stripe_type_orderable(Oid typid);

/* stripe_read.c */
extern bool rdb_stripe_block_belongs(Relation rel, BlockNumber blkno,
									 BlockNumber first_block,
									 BufferAccessStrategy strategy);
extern RdbStripeReader *rdb_stripe_open(Relation rel, BlockNumber first_block);
extern void rdb_stripe_close(RdbStripeReader *sr);
extern uint32 rdb_stripe_nrows(RdbStripeReader *sr);
extern const RdbStripeHeader *rdb_stripe_header(RdbStripeReader *sr);
extern void rdb_stripe_fetch_row(RdbStripeReader *sr, uint32 row,
								 Datum *values, bool *isnull, int natts);
extern HeapTuple rdb_stripe_form_tuple(Relation rel, BlockNumber first_block,
									   uint32 row, HeapTupleHeader stub,
									   uint32 stub_len);
extern bool rdb_stripe_page_is_stripe(Page page);
extern uint32 rdb_stripe_first_page_blocks(Page page, BlockNumber blkno);
extern uint32 rdb_stripe_run_rest(Relation rel, BlockNumber first,
								  BlockNumber blkno,
								  BufferAccessStrategy strategy);

/*
 * Column-wise access, for the columnar scan (src/scan/).  These functions
 * address rows by *position* (see "Row order" above): rdb_stripe_fetch_row
 * and rdb_stripe_form_tuple take row numbers, everything below positions,
 * and rdb_stripe_row_positions gives the map between them (NULL when they
 * are the same, for every stripe not sorted by a sort key).
 *
 * rdb_stripe_fetch_row_cols is rdb_stripe_fetch_row for the row at a
 * position, and for the columns c with needed[c] true only (needed has natts entries, or is NULL for all; the
 * others come back NULL and their chunks are not read).  Same lifetime rules for by-reference
 * Datums.
 *
 * rdb_stripe_chunk_minmax: bounds of column c (0-based) in chunk group g.
 * Always sets *nrows (rows of the group), *nnulls and *collation (the
 * column's collation when written, InvalidOid if none or for columns the
 * stripe does not have).  Returns true and sets
 * *min / *max (the smallest and largest non-NULL value, ordered by the
 * default btree opclass of the column's type under collation *collation;
 * by-reference Datums point into the stripe's cached metadata and stay valid
 * while the reader is open) when the stripe keeps bounds for that chunk;
 * false when it keeps none (stripes written before format version 2, types
 * without a default btree opclass, values too large to keep, all values
 * NULL).  A column the stripe does not have (added later): false, *nnulls =
 * *nrows.  No page is read: the bounds were read and validated with the
 * directory when the stripe was opened.  The bounds cover every row of the
 * stripe, whatever its visibility.  A caller comparing them with its own
 * values must use the same collation (and the type rdb_stripe_column_type
 * gives), else ignore them; like a btree index, they assume the collation's
 * order has not changed since the stripe was written.
 *
 * rdb_stripe_column_type: the type column c had when the stripe was
 * written (InvalidOid for columns the stripe does not have).
 *
 * rdb_stripe_is_sorted: whether the stripe has a row order (cheap: nothing
 * is read).  rdb_stripe_row_positions: position of each row number (nrows
 * entries),
 * rdb_stripe_position_rows: row number at each position; both NULL for a
 * stripe whose rows are stored in their numbers' order.  Read, checked
 * (a permutation of 0 .. nrows - 1, else ERRCODE_DATA_CORRUPTED) and kept
 * with the stripe's cached metadata the first time they are asked for;
 * valid while the reader is open.  rdb_stripe_order_shift: the largest
 * distance between a row's number and its position (reads the order too).
 *
 * rdb_stripe_fetch_row_list: the same for the columns listed in cols[]
 * (0-based): only their entries of values / isnull are set, and the chunks
 * of other columns stay loaded (their Datums stay valid), so a scan may
 * fetch a row's filter columns first and its other columns afterwards.
 *
 * rdb_stripe_decode_whole: decode the chunks of the columns with whole[c]
 * in one pass when they are loaded (a scan's columns), the others row by
 * row; the Datums of a whole-decoded chunk stay valid as long as the chunk
 * stays loaded (same rules as above).  rdb_stripe_chunk_whole: such a
 * column's chunk of group g as arrays indexed by position in the group
 * (all-NULL chunks too); false for columns not decoded whole or missing
 * from the stripe.
 */
extern bool rdb_stripe_is_sorted(RdbStripeReader *sr);
extern const uint32 *rdb_stripe_row_positions(RdbStripeReader *sr);
extern const uint32 *rdb_stripe_position_rows(RdbStripeReader *sr);
extern uint32 rdb_stripe_order_shift(RdbStripeReader *sr);
extern uint32 rdb_stripe_nchunkgroups(RdbStripeReader *sr);
extern uint32 rdb_stripe_chunk_group_rows(RdbStripeReader *sr);
extern void rdb_stripe_fetch_row_cols(RdbStripeReader *sr, uint32 row,
									  Datum *values, bool *isnull, int natts,
									  const bool *needed);
extern void rdb_stripe_fetch_row_list(RdbStripeReader *sr, uint32 row,
									  const int *cols, int ncols,
									  Datum *values, bool *isnull);
extern bool rdb_stripe_chunk_whole(RdbStripeReader *sr, int c, uint32 g,
								   const Datum **values, const bool **isnull);
extern uint64 rdb_stripe_load_count(RdbStripeReader *sr);
extern void rdb_stripe_decode_whole(RdbStripeReader *sr, const bool *whole,
									int natts);
extern bool rdb_stripe_chunk_minmax(RdbStripeReader *sr, uint32 g, int c,
									Datum *min, Datum *max, Oid *collation,
									uint32 *nnulls, uint32 *nrows);
extern Oid	rdb_stripe_column_type(RdbStripeReader *sr, int c);

/*
 * rdb_stripe_read_summary: the stripe summary of the stripe at first_block,
 * from its first page alone (checked: XX001 when damaged), palloc'd in the
 * current context; NULL for a stripe written without one.  Nothing is
 * cached.
 */
extern RdbStripeSummary *rdb_stripe_read_summary(Relation rel,
												 BlockNumber first_block);

/*
 * rdb_stripe_level: the stripe's LSM level (format version 1 stripes, all
 * written by flush: 1).  rdb_stripe_chunk_value_bytes: bytes of the values
 * of column c in chunk group g before encoding, -1 where the stripe does not
 * say (version 1), 0 for all-NULL chunks and columns it does not have.
 * rdb_stripe_chunk_ref: the directory entry of that chunk (NULL for columns
 * the stripe does not have).
 */
extern uint32 rdb_stripe_level(RdbStripeReader *sr);
extern int64 rdb_stripe_chunk_value_bytes(RdbStripeReader *sr, uint32 g, int c);
extern const RdbChunkRef *rdb_stripe_chunk_ref(RdbStripeReader *sr, uint32 g, int c);
extern uint32 rdb_stripe_ncolumns(RdbStripeReader *sr);
extern void rdb_stripe_cache_reset(void);
extern void rdb_stripe_cache_forget(Oid relid);

/* stripe_reuse.c: given-back stripe pages written again (see there) */
struct XLogReaderState;
extern void rdb_stripe_reuse_shmem_request(void);
extern void rdb_stripe_reuse_shmem_startup(void);
extern uint64 rdb_stripe_reuse_count(void);
extern void rdb_stripe_reuse_announce(Relation rel, TransactionId freed_by);
extern void rdb_stripe_reuse_log_conflict(Relation rel, TransactionId xid);
extern void rdb_stripe_reuse_redo(struct XLogReaderState *record);

#endif							/* RUSTYDB_STRIPE_H */
