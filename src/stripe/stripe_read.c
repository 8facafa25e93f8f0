/*-------------------------------------------------------------------------
 *
 * stripe_read.c
 *	  Read rows of columnar stripes: validation, per-backend stripe cache,
 *	  random access to one row, heap tuples of stripe rows.
 *
 * A stripe (format: stripe.h, src/stripe/README.md) is opened once per
 * backend: its header and chunk directory are read, validated (magic,
 * version, every page's kind and generation, the directory checksum, the
 * chunk bounds, every chunk reference within the stream) and kept in a
 * per-backend cache keyed by (relfilenode, first block), bounded by
 * rustydb.stripe_meta_cache_size with LRU eviction.  Rows are then read
 * by random access: the
 * chunk of a column's chunk group is copied out of its pages, its checksum
 * verified, decompressed and opened once, and kept in the reader until the
 * reader needs another chunk group of that column; so reading a stripe's
 * rows in order costs one decompression per chunk group and column.
 *
 * Two kinds of readers:
 *	  - rdb_stripe_open gives the caller its own reader, allocated in a
 *		child of the caller's memory context; it pins the cache entry
 *		until rdb_stripe_close or until that context is reset or deleted
 *		(a reset callback unpins), so a reader never loses its directory
 *		to eviction.  By-reference Datums from rdb_stripe_fetch_row point
 *		into the reader's decompressed chunks and stay valid until the next
 *		rdb_stripe_fetch_row or rdb_stripe_close on that reader.
 *	  - rdb_stripe_form_tuple (index lookups, TID fetches, scans of L0
 *		stubs) reads from the per-backend chunk group cache and returns a
 *		palloc'd tuple, so nothing it returns points into the cache.  The
 *		cache keeps every chunk group it decompressed (all the columns
 *		read of it), least recently used out first, within
 *		rustydb.stripe_cache_size: random lookups decompress a chunk group
 *		once per backend instead of once per lookup, which is what made
 *		them 14x slower than heap (src/lsm/README.md, measured).
 *
 * Every chunk load (stripe_decode_chunk) first asks the shared chunk cache
 * (src/cache): a hit copies the decompressed, verified chunk out of shared
 * memory instead of reading, checksumming and decompressing it; a miss
 * offers the chunk to it afterwards.  The per-backend chunk group cache
 * stays above it, a thin layer of opened decoders (a shared hit copies whole
 * chunks, too much to do for every row formed).
 *
 * Locking: stripe pages are immutable once written; a share content lock
 * is held only while bytes are copied out of one page.  No lock is held
 * across calls.  The caches are backend-local: no locking.  Both are keyed
 * by relfilenode and also emptied of a relation's entries by its relcache
 * invalidations (and by a TRUNCATE that keeps the relfilenode), so a
 * dropped, truncated or rewritten relation is never served from them; and
 * emptied whole when pages compaction gave back become reusable
 * (rdb_stripe_reuse_count moved: stripe_reuse.c), so a stripe written over
 * a replaced one is never served the old one's entries.
 *
 * Memory: the cache's hash table and entries live in "rustydb stripe
 * cache" (under TopMemoryContext), each entry's header, directory, bounds
 * and type info in a context of its own, deleted on eviction (or, if
 * readers still pin it, when the last one goes).  Validation runs in the
 * caller's context and copies into the entry only on success, so an error
 * leaks nothing long-lived.  Each chunk group of "rustydb chunk group
 * cache" has a context of its own too, whose allocated bytes count against
 * rustydb.stripe_cache_size; the cache may exceed it by the chunks of one
 * row while that row is formed.
 *
 * IDENTIFICATION
 *	  src/stripe/stripe_read.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "lib/ilist.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "rustydb/cache.h"
#include "rustydb/l0.h"
#include "rustydb/stripe.h"
#include "stripe_int.h"

/* the stripe cache's hash table starts with room for this many stripes */
#define RDB_STRIPE_CACHE_ENTRIES		64

/*
 * rustydb.stripe_meta_cache_size (kB, guc.c): what the headers,
 * directories and chunk bounds of the stripes a backend keeps may take.
 */
int			rdb_stripe_meta_cache_size = RDB_STRIPE_META_CACHE_SIZE_DEFAULT;

/*
 * rustydb.stripe_cache_size (kB, guc.c): decompressed chunk groups that
 * rdb_stripe_form_tuple keeps per backend.
 */
int			rdb_stripe_cache_size = RDB_STRIPE_CACHE_SIZE_DEFAULT;

typedef struct StripeCacheKey
{
	RelFileNode node;
	BlockNumber first_block;
} StripeCacheKey;

typedef struct StripeMeta StripeMeta;

/* a column's current chunk in a reader */
typedef struct StripeColumn
{
	int64		group;			/* chunk group loaded, -1 if none */
	StringInfoData raw;			/* decompressed chunk (MAXALIGNed) */
	RdbChunkDecoder *dec;		/* decoder over raw */
	bool		whole;			/* decode loaded chunks whole (scans) */
	Datum	   *values;			/* whole: the loaded chunk's rows */
	bool	   *isnull;
} StripeColumn;

struct RdbStripeReader
{
	StripeMeta *meta;
	Relation	rel;			/* as of the last open / form_tuple */
	MemoryContext cxt;			/* the reader's own context */
	StripeColumn *cols;			/* ncolumns */
	StringInfoData stored;		/* scratch: a chunk's stored frame */
	MemoryContextCallback unpin;
	Datum	   *nullvalues;		/* an all-NULL chunk, whole (lazily) */
	bool	   *nullflags;
	uint64		nloads;			/* chunks loaded (rdb_stripe_load_count) */
};

struct StripeMeta
{
	StripeCacheKey key;
	Oid			relid;			/* for relcache invalidations */
	MemoryContext cxt;
	RdbStripeHeader hdr;
	RdbStripeMap map;			/* where the stream's pages are */
	RdbChunkRef *dir;			/* nchunkgroups * ncolumns */
	RdbTypeInfo *types;			/* ncolumns */
	/* bounds section (format version 2), NULL for version 1 */
	RdbStripeColumnBounds *colbounds;	/* ncolumns */
	RdbChunkBounds *chunkbounds;	/* nchunkgroups * ncolumns */
	char	   *boundsdata;		/* MAXALIGNed: bound Datums point here */
	uint32		level;			/* LSM level (version 1: 1) */
	/* row order (version 3), NULL for stripes stored in row number order */
	RdbChunkRef *orderdir;		/* nchunkgroups */
	uint32	   *positions;		/* row number -> position, read lazily */
	uint32	   *rows;			/* position -> row number */
	uint32		max_shift;		/* largest |position - row number| */
	TupleDesc	formdesc;		/* relation's descriptor cut to ncolumns */
	int			pins;			/* caller readers using it */
	bool		dead;			/* out of the hash: free when unpinned */
	Size		bytes;			/* counted in stripe_cache_bytes */
	Datum	   *values;			/* ncolumns: scratch of form_tuple */
	bool	   *isnull;
	dlist_node	lru;			/* head = most recently used */
};

/*
 * The chunk group cache of rdb_stripe_form_tuple: every decompressed chunk
 * (and its decoder) of one chunk group of one stripe, loaded column by
 * column as rows need them.  An entry is a whole chunk group rather than
 * one chunk because form_tuple always reads every column of a row: one hash
 * probe per row instead of one per column.  Entries are LRU and their bytes
 * (their memory contexts' allocations) are kept within
 * rustydb.stripe_cache_size, trimmed after each tuple is formed (so the
 * chunks of the row being formed are never freed under it).  Keyed by
 * relfilenode like the stripe cache, and dropped on relcache invalidation
 * of the relation, so a truncated, rewritten or dropped (and renumbered)
 * relation is never served from it.
 */
typedef struct GroupCacheKey
{
	RelFileNode node;
	BlockNumber first_block;
	uint32		group;
} GroupCacheKey;

typedef struct GroupCacheEntry
{
	GroupCacheKey key;			/* hash key: must be first */
	Oid			relid;
	MemoryContext cxt;			/* the chunks and decoders */
	int			ncolumns;
	RdbChunkDecoder **dec;		/* ncolumns; NULL: not loaded yet */
	Size		bytes;			/* counted in group_cache_held */
	dlist_node	lru;			/* head = most recently used */
} GroupCacheEntry;

typedef struct StripeCacheEntry
{
	StripeCacheKey key;			/* hash key: must be first */
	StripeMeta *meta;
} StripeCacheEntry;

static MemoryContext stripe_cache_cxt = NULL;
static HTAB *stripe_cache = NULL;

/* rdb_stripe_reuse_count() when the caches were last found up to date */
static uint64 stripe_reuse_seen = 0;
static dlist_head stripe_lru = DLIST_STATIC_INIT(stripe_lru);
static Size stripe_cache_bytes = 0;	/* the entries' memory when cached */

static MemoryContext group_cache_cxt = NULL;
static HTAB *group_cache = NULL;
static dlist_head group_lru = DLIST_STATIC_INIT(group_lru);
static Size group_cache_held = 0;	/* sum of the entries' bytes */
static StringInfoData group_stored; /* scratch: a chunk's stored frame */
static bool stripe_callback_registered = false;

static void group_cache_forget(Oid relid);

/* ----------------------------------------------------------------
 * Errors
 * ----------------------------------------------------------------
 */

#define stripe_corrupt(rel, first, ...) \
	ereport(ERROR, \
			(errcode(ERRCODE_DATA_CORRUPTED), \
			 errmsg("rustydb stripe at block %u of table \"%s\" is corrupted", \
					(first), RelationGetRelationName(rel)), \
			 errdetail(__VA_ARGS__)))

/* name of column c (0-based) of rel, for messages */
static const char *
stripe_attname(Relation rel, int c)
{
	if (c < RelationGetDescr(rel)->natts)
		return NameStr(TupleDescAttr(RelationGetDescr(rel), c)->attname);
	return "?";
}

typedef struct StripeErrorContext
{
	Relation	rel;
	BlockNumber first_block;
	int			column;
	uint32		group;
} StripeErrorContext;

static void
stripe_error_callback(void *arg)
{
	StripeErrorContext *ctx = (StripeErrorContext *) arg;

	errcontext("while reading column \"%s\", chunk group %u of rustydb stripe at block %u of table \"%s\"",
			   stripe_attname(ctx->rel, ctx->column), ctx->group,
			   ctx->first_block, RelationGetRelationName(ctx->rel));
}

/* ----------------------------------------------------------------
 * Pages
 * ----------------------------------------------------------------
 */

/*
 * rdb_stripe_page_is_stripe
 *		Is this page a stripe page (rustydb special area of kind STRIPE)?
 */
bool
rdb_stripe_page_is_stripe(Page page)
{
	RdbPageOpaque opaque;

	if (PageIsNew(page) ||
		PageGetSpecialSize(page) != MAXALIGN(sizeof(RdbPageOpaqueData)))
		return false;
	opaque = RdbPageGetOpaque(page);
	return opaque->magic == RDB_PAGE_MAGIC && opaque->kind == RDB_PAGE_KIND_STRIPE;
}

/*
 * rdb_stripe_first_page_blocks
 *		If page (block blkno, share-locked by the caller) is the first page
 *		of a stripe whose header looks sane, the stripe's page count; else
 *		0.  Nothing is verified beyond the header's own consistency (no
 *		checksum): a hint, for callers that check it further.
 */
uint32
rdb_stripe_first_page_blocks(Page page, BlockNumber blkno)
{
	RdbStripeHeader hdr;

	if (!rdb_stripe_page_is_stripe(page) ||
		RdbPageGetOpaque(page)->generation != blkno ||
		((PageHeader) page)->pd_lower < SizeOfPageHeaderData + sizeof(hdr))
		return 0;
	memcpy(&hdr, page + SizeOfPageHeaderData, sizeof(hdr));
	if (hdr.magic != RDB_STRIPE_MAGIC || hdr.nblocks < 1 ||
		hdr.nblocks != (hdr.stream_len + RDB_STRIPE_PAGE_PAYLOAD - 1) /
		RDB_STRIPE_PAGE_PAYLOAD ||
		(!(hdr.version & RDB_STRIPE_MAPPED) &&
		 (uint64) blkno + hdr.nblocks > RDB_FIRST_REMAPPED_GENERATION))
		return 0;
	if (hdr.version & RDB_STRIPE_MAPPED)
	{
		RdbStripeMap map;

		/* a mapped stripe: the blocks of its first run */
		if (((PageHeader) page)->pd_lower <
			SizeOfPageHeaderData + sizeof(hdr) + sizeof(map))
			return 0;
		memcpy(&map, page + SizeOfPageHeaderData + sizeof(hdr), sizeof(map));
		if (map.nextents < 1 || map.nextents > RDB_STRIPE_MAX_EXTENTS ||
			map.ext[0].first != blkno || map.ext[0].nblocks < 1 ||
			map.ext[0].nblocks > hdr.nblocks)
			return 0;
		return map.ext[0].nblocks;
	}
	return hdr.nblocks;
}

/*
 * rdb_stripe_run_rest
 *		blkno holds a page of the stripe at first, which is not its first
 *		page: the blocks from blkno to the end of the run of the stripe's
 *		extent map that holds it (of its one run, if unmapped), or 0 if the
 *		stripe's first page does not say (being written, not sane).  A
 *		stripe's first block is below all its other blocks only in its first
 *		run; first >= blkno gets 0 without a read.  A hint, as
 *		rdb_stripe_first_page_blocks: scans check the run's last page.
 */
uint32
rdb_stripe_run_rest(Relation rel, BlockNumber first, BlockNumber blkno,
					BufferAccessStrategy strategy)
{
	Buffer		buf;
	Page		page;
	RdbStripeHeader hdr;
	RdbStripeMap map;
	uint32		result = 0;
	uint32		i;

	if (first < RDB_FIRST_DATA_BLKNO || first >= blkno)
		return 0;
	buf = rdb_read_buffer(rel, first, strategy);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	if (rdb_stripe_first_page_blocks(page, first) == 0)
	{
		UnlockReleaseBuffer(buf);
		return 0;
	}
	memcpy(&hdr, page + SizeOfPageHeaderData, sizeof(hdr));
	if (!(hdr.version & RDB_STRIPE_MAPPED))
	{
		/* one run (a parallel worker or a backward scan met it mid-way) */
		UnlockReleaseBuffer(buf);
		if ((uint64) blkno < (uint64) first + hdr.nblocks)
			return first + hdr.nblocks - blkno;
		return 0;
	}
	memcpy(&map, page + SizeOfPageHeaderData + sizeof(hdr), sizeof(map));
	UnlockReleaseBuffer(buf);
	for (i = 0; i < map.nextents; i++)
	{
		RdbStripeExtent *e = &map.ext[i];

		if (blkno >= e->first && (uint64) blkno < (uint64) e->first + e->nblocks)
		{
			result = e->first + e->nblocks - blkno;
			break;
		}
	}
	return result;
}

/*
 * rdb_stripe_map_block
 *		The block of page pageno of the stream of a stripe with this map,
 *		InvalidBlockNumber past its last page.
 */
BlockNumber
rdb_stripe_map_block(const RdbStripeMap *map, uint64 pageno)
{
	uint32		i;

	for (i = 0; i < map->nextents; i++)
	{
		if (pageno < map->ext[i].nblocks)
			return map->ext[i].first + (BlockNumber) pageno;
		pageno -= map->ext[i].nblocks;
	}
	return InvalidBlockNumber;
}

/* the one run of an unmapped stripe */
static inline void
stripe_map_single(RdbStripeMap *map, BlockNumber first_block, uint32 nblocks)
{
	memset(map, 0, sizeof(*map));
	map->nextents = 1;
	map->ext[0].first = first_block;
	map->ext[0].nblocks = nblocks;
}

/*
 * stripe_read_bytes
 *		Copy len bytes at offset off of the stream of the stripe at
 *		first_block into dst, checking every page read: a stripe page of
 *		this stripe whose payload (pd_lower) covers the bytes taken.  map:
 *		where its pages are (checked), NULL for bytes of the first page
 *		(the header and the map itself).
 */
/*
 * Pin and share-lock block blkno of the stripe at first_block, checked: a
 * stripe page of this stripe whose payload (pd_lower) holds at least need
 * bytes, and no more than a page's payload.  XX001 otherwise.
 */
static Buffer
stripe_lock_page(Relation rel, BlockNumber first_block, BlockNumber blkno,
				 Size need)
{
	Buffer		buf = rdb_read_buffer(rel, blkno, NULL);
	Page		page;
	uint16		lower;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	if (!rdb_stripe_page_is_stripe(page) ||
		RdbPageGetOpaque(page)->generation != first_block)
	{
		UnlockReleaseBuffer(buf);
		stripe_corrupt(rel, first_block,
					   "Block %u is not a page of this stripe.", blkno);
	}
	lower = ((PageHeader) page)->pd_lower;
	if (lower < SizeOfPageHeaderData + need ||
		lower > SizeOfPageHeaderData + RDB_STRIPE_PAGE_PAYLOAD)
	{
		UnlockReleaseBuffer(buf);
		stripe_corrupt(rel, first_block,
					   "Block %u holds %d bytes of the stripe, bytes up to %zu are needed.",
					   blkno, (int) lower - (int) SizeOfPageHeaderData, need);
	}
	return buf;
}

static void
stripe_read_bytes(Relation rel, BlockNumber first_block,
				  const RdbStripeMap *map, uint64 off, Size len, char *dst)
{
	while (len > 0)
	{
		BlockNumber blkno = map == NULL ?
			first_block + (BlockNumber) (off / RDB_STRIPE_PAGE_PAYLOAD) :
			rdb_stripe_map_block(map, off / RDB_STRIPE_PAGE_PAYLOAD);
		Size		inpage = off % RDB_STRIPE_PAGE_PAYLOAD;
		Size		n = Min(len, RDB_STRIPE_PAGE_PAYLOAD - inpage);
		Buffer		buf;
		Page		page;

		CHECK_FOR_INTERRUPTS();
		if (!BlockNumberIsValid(blkno))
			stripe_corrupt(rel, first_block,
						   "Stream offset %llu lies past the stripe's pages.",
						   (unsigned long long) off);
		buf = stripe_lock_page(rel, first_block, blkno, inpage + n);
		page = BufferGetPage(buf);
		memcpy(dst, page + SizeOfPageHeaderData + inpage, n);
		UnlockReleaseBuffer(buf);
		dst += n;
		off += n;
		len -= n;
	}
}

/*
 * stripe_first_page
 *		Copy the payload of the first page of the stripe at first_block
 *		(checked as stripe_read_bytes checks a page) into dst, which has
 *		room for RDB_STRIPE_PAGE_PAYLOAD bytes; returns how many bytes it
 *		holds (pd_lower).
 */
static Size
stripe_first_page(Relation rel, BlockNumber first_block, char *dst)
{
	Buffer		buf = stripe_lock_page(rel, first_block, first_block, 0);
	Page		page = BufferGetPage(buf);
	Size		n;

	n = ((PageHeader) page)->pd_lower - SizeOfPageHeaderData;
	memcpy(dst, page + SizeOfPageHeaderData, n);
	UnlockReleaseBuffer(buf);
	return n;
}

/*
 * rdb_stripe_dir_checksum
 *		XXH3 of the header (with dir_checksum taken as 0) followed by the
 *		extent map (mapped stripes), the column table, the directory and
 *		(format version 2) the bounds section.
 */
uint64
rdb_stripe_dir_checksum(const RdbStripeHeader *hdr, const RdbStripeMap *map,
						const RdbStripeColumn *cols,
						const char *summary, Size summarysize,
						const RdbChunkRef *dir, Size dirsize,
						const char *bounds, Size boundssize)
{
	Size		colsize = hdr->ncolumns * sizeof(RdbStripeColumn);
	Size		mapsize = RDB_STRIPE_MAP_SIZE(hdr->version);
	Size		head = sizeof(RdbStripeHeader) + mapsize;
	Size		total = head + colsize + summarysize + dirsize + boundssize;
	char	   *buf = palloc_extended(total, MCXT_ALLOC_HUGE);
	char	   *p;
	RdbStripeHeader *h = (RdbStripeHeader *) buf;
	uint64		sum;

	memcpy(buf, hdr, sizeof(RdbStripeHeader));
	h->dir_checksum = 0;
	if (mapsize > 0)
		memcpy(buf + sizeof(RdbStripeHeader), map, mapsize);
	p = buf + head;
	memcpy(p, cols, colsize);
	p += colsize;
	if (summarysize > 0)
		memcpy(p, summary, summarysize);
	p += summarysize;
	memcpy(p, dir, dirsize);
	p += dirsize;
	if (boundssize > 0)
		memcpy(p, bounds, boundssize);
	sum = rdb_checksum64(buf, total);
	pfree(buf);
	return sum;
}

/*
 * rdb_stripe_summary_checksum
 *		XXH3 of the header (with dir_checksum taken as 0 and the magic as
 *		sealed) followed by the extent map (mapped stripes), the column
 *		table and the stripe summary (with its checksum taken as 0).
 */
uint64
rdb_stripe_summary_checksum(const RdbStripeHeader *hdr, const RdbStripeMap *map,
							const RdbStripeColumn *cols,
							const char *summary, Size summarysize)
{
	Size		colsize = hdr->ncolumns * sizeof(RdbStripeColumn);
	Size		mapsize = RDB_STRIPE_MAP_SIZE(hdr->version);
	Size		head = sizeof(RdbStripeHeader) + mapsize;
	Size		total = head + colsize + summarysize;
	char	   *buf = palloc(total);
	RdbStripeHeader *h = (RdbStripeHeader *) buf;
	RdbStripeSummaryHeader sh;
	uint64		sum;

	Assert(summarysize >= sizeof(RdbStripeSummaryHeader));
	memcpy(buf, hdr, sizeof(RdbStripeHeader));
	h->dir_checksum = 0;
	h->magic = RDB_STRIPE_MAGIC;
	if (mapsize > 0)
		memcpy(buf + sizeof(RdbStripeHeader), map, mapsize);
	memcpy(buf + head, cols, colsize);
	memcpy(buf + head + colsize, summary, summarysize);
	memcpy(&sh, summary, sizeof(sh));
	sh.checksum = 0;
	memcpy(buf + head + colsize, &sh, sizeof(sh));
	sum = rdb_checksum64(buf, total);
	pfree(buf);
	return sum;
}

static void stripe_check_header(Relation rel, BlockNumber first_block,
								const RdbStripeHeader *hdr,
								const RdbStripeMap *map);

/*
 * stripe_read_head
 *		Copy the header at first_block, and the extent map that follows it
 *		in a mapped stripe, out of the stripe's first page; for an unmapped
 *		stripe, the map of its one run.  Nothing is checked.
 */
static void
stripe_read_head(Relation rel, BlockNumber first_block, RdbStripeHeader *hdr,
				 RdbStripeMap *map)
{
	stripe_read_bytes(rel, first_block, NULL, 0, sizeof(RdbStripeHeader),
					  (char *) hdr);
	if (hdr->version & RDB_STRIPE_MAPPED)
		stripe_read_bytes(rel, first_block, NULL, sizeof(RdbStripeHeader),
						  sizeof(RdbStripeMap), (char *) map);
	else
		stripe_map_single(map, first_block, hdr->nblocks);
}

/*
 * stripe_read_header
 *		Read and check the stripe header at first_block and its extent map
 *		(into *map, if not NULL; nothing else: the directory is not read).
 *		Used by rustydb.stripes(), compaction's survey and validation.
 */
void
rdb_stripe_read_header(Relation rel, BlockNumber first_block,
					   RdbStripeHeader *hdr, RdbStripeMap *map)
{
	RdbStripeMap scratch;

	if (map == NULL)
		map = &scratch;
	stripe_read_head(rel, first_block, hdr, map);
	stripe_check_header(rel, first_block, hdr, map);
}

/*
 * rdb_stripe_block_belongs
 *		Whether block blkno of rel is a page of the stripe whose first block
 *		is first_block (a stripe page naming it), under a share lock taken
 *		and released here.
 */
bool
rdb_stripe_block_belongs(Relation rel, BlockNumber blkno,
						 BlockNumber first_block, BufferAccessStrategy strategy)
{
	Buffer		buf = rdb_read_buffer(rel, blkno, strategy);
	Page		page;
	bool		own;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	own = rdb_stripe_page_is_stripe(page) &&
		RdbPageGetOpaque(page)->generation == first_block;
	UnlockReleaseBuffer(buf);
	return own;
}

/*
 * Whether every page of a mapped stripe's runs after the first is still a
 * page of the stripe.  Compaction gives back the pages of a stripe nothing
 * refers to any more run by run (compact.c: a run that cannot join the
 * metapage's full list of free extents waits for a later survey), so a
 * mapped stripe's header can outlive a run that was given back and written
 * again by another stripe.  Such a stripe is being given back, not damaged:
 * nothing reads its rows.  (A referenced stripe whose pages are not its own
 * is damage, which every reader of its rows reports.)
 */
static bool
stripe_runs_own(Relation rel, BlockNumber first_block, const RdbStripeMap *map)
{
	BlockNumber relblocks;

	if (map->nextents <= 1)
		return true;
	relblocks = RelationGetNumberOfBlocks(rel);
	for (uint32 i = 1; i < map->nextents; i++)
	{
		for (uint32 b = 0; b < map->ext[i].nblocks; b++)
		{
			BlockNumber blkno = map->ext[i].first + b;

			CHECK_FOR_INTERRUPTS();
			if (blkno >= relblocks ||
				!rdb_stripe_block_belongs(rel, blkno, first_block, NULL))
				return false;
		}
	}
	return true;
}

/*
 * rdb_stripe_read_header_sealed
 *		For readers that walk the file (the views): rdb_stripe_read_header,
 *		except that a stripe whose header is not sealed yet (magic 0: being
 *		written, or left by a crash while it was; stripe_write.c) is no
 *		error but false.  *skip: the blocks to pass over from first_block,
 *		the pages of the stripe's first run (all of an unmapped stripe's
 *		pages); for an unsealed stripe only when its header says how many
 *		and the last of them names the stripe, else 1.  Pages of a mapped
 *		stripe's other runs are met later, as pages that are not a
 *		stripe's first.  A mapped stripe a run of which is no longer its
 *		own (given back and written again: stripe_runs_own) is not a
 *		stripe any more either: false, as for an unsealed one.
 */
bool
rdb_stripe_read_header_sealed(Relation rel, BlockNumber first_block,
							  RdbStripeHeader *hdr, RdbStripeMap *map,
							  BlockNumber *skip)
{
	RdbStripeMap scratch;

	if (map == NULL)
		map = &scratch;
	stripe_read_head(rel, first_block, hdr, map);
	*skip = 1;
	if (hdr->magic == 0)
	{
		BlockNumber relblocks = RelationGetNumberOfBlocks(rel);
		uint32		run = map->ext[0].nblocks;

		if (hdr->nblocks > 1 &&
			hdr->nblocks == (hdr->stream_len + RDB_STRIPE_PAGE_PAYLOAD - 1) / RDB_STRIPE_PAGE_PAYLOAD &&
			map->nextents >= 1 && map->nextents <= RDB_STRIPE_MAX_EXTENTS &&
			map->ext[0].first == first_block &&
			run > 1 && run <= hdr->nblocks &&
			(uint64) first_block + run <= relblocks)
		{
			if (rdb_stripe_block_belongs(rel, first_block + run - 1,
										 first_block, NULL))
				*skip = run;
		}
		return false;
	}
	stripe_check_header(rel, first_block, hdr, map);
	*skip = map->ext[0].nblocks;
	return stripe_runs_own(rel, first_block, map);
}

/* the checks of rdb_stripe_read_header on a header read */
static void
stripe_check_header(Relation rel, BlockNumber first_block,
					const RdbStripeHeader *hdr, const RdbStripeMap *map)
{
	uint64		cg;
	uint64		dirsize;
	uint64		mapped = 0;
	int			format = RDB_STRIPE_FORMAT(hdr->version);
	uint32		i;
	uint32		j;

	if (hdr->magic != RDB_STRIPE_MAGIC)
		stripe_corrupt(rel, first_block, "Bad magic number 0x%08x.", hdr->magic);
	if ((hdr->version & ~(RDB_STRIPE_FORMAT_MASK | RDB_STRIPE_MAPPED |
						  RDB_STRIPE_SUMMARY)) != 0 ||
		(format != RDB_STRIPE_VERSION &&
		 format != RDB_STRIPE_VERSION_V1 &&
		 format != RDB_STRIPE_VERSION_SORTED) ||
		((hdr->version & RDB_STRIPE_SUMMARY) && format == RDB_STRIPE_VERSION_V1))
		stripe_corrupt(rel, first_block, "Unknown stripe format version %u.",
					   hdr->version);
	if (hdr->ncolumns < 1 || hdr->ncolumns > RelationGetDescr(rel)->natts)
		stripe_corrupt(rel, first_block,
					   "The stripe has %u columns, the table %d.",
					   hdr->ncolumns, RelationGetDescr(rel)->natts);
	if (hdr->nrows < 1 || hdr->chunk_group_rows < 1 ||
		hdr->chunk_group_rows > RDB_MAX_CHUNK_ROWS)
		stripe_corrupt(rel, first_block,
					   "The stripe claims %u rows in chunk groups of %u.",
					   hdr->nrows, hdr->chunk_group_rows);
	cg = ((uint64) hdr->nrows + hdr->chunk_group_rows - 1) / hdr->chunk_group_rows;
	if (hdr->nchunkgroups != cg)
		stripe_corrupt(rel, first_block,
					   "The stripe claims %u chunk groups, its %u rows make %llu.",
					   hdr->nchunkgroups, hdr->nrows, (unsigned long long) cg);
	dirsize = (uint64) cg * hdr->ncolumns * sizeof(RdbChunkRef);
	if (hdr->stream_len < sizeof(RdbStripeHeader) +
		RDB_STRIPE_MAP_SIZE(hdr->version) +
		hdr->ncolumns * sizeof(RdbStripeColumn) + dirsize ||
		hdr->nblocks < 1 ||
		hdr->nblocks != (hdr->stream_len + RDB_STRIPE_PAGE_PAYLOAD - 1) / RDB_STRIPE_PAGE_PAYLOAD)
		stripe_corrupt(rel, first_block,
					   "The stripe claims %llu bytes in %u pages.",
					   (unsigned long long) hdr->stream_len, hdr->nblocks);

	/* the extent map: runs of data blocks, from the first, that never overlap */
	if (map->nextents < 1 || map->nextents > RDB_STRIPE_MAX_EXTENTS ||
		map->reserved != 0 || map->ext[0].first != first_block)
		stripe_corrupt(rel, first_block,
					   "The stripe's extent map lists %u runs, the first at block %u.",
					   map->nextents, map->ext[0].first);
	for (i = 0; i < map->nextents; i++)
	{
		const RdbStripeExtent *e = &map->ext[i];

		if (e->nblocks < 1 || e->first < RDB_FIRST_DATA_BLKNO ||
			(uint64) e->first + e->nblocks > RDB_FIRST_REMAPPED_GENERATION)
			stripe_corrupt(rel, first_block,
						   "Run %u of the stripe's extent map is %u blocks at block %u.",
						   i, e->nblocks, e->first);
		for (j = 0; j < i; j++)
			if (e->first < map->ext[j].first + map->ext[j].nblocks &&
				map->ext[j].first < e->first + e->nblocks)
				stripe_corrupt(rel, first_block,
							   "Runs %u and %u of the stripe's extent map overlap.",
							   j, i);
		mapped += e->nblocks;
	}
	if (mapped != hdr->nblocks)
		stripe_corrupt(rel, first_block,
					   "The stripe's extent map holds %llu pages, the header says %u.",
					   (unsigned long long) mapped, hdr->nblocks);
}

/*
 * Do the flat bounds at offset of data (data_len bytes: the min, min_len
 * bytes, and MAXALIGN(min_len) bytes after it the max, max_len bytes; each
 * at most limit) lie within it, aligned, and have the layout of values of
 * a column of length typlen?
 */
static bool
stripe_bounds_ok(int16 typlen, const char *data, uint64 data_len,
				 uint32 offset, uint16 min_len, uint16 max_len, uint32 limit)
{
	const char *min = data + offset;
	const char *max = min + MAXALIGN(min_len);

	if (min_len == 0 || max_len == 0 || min_len > limit || max_len > limit ||
		offset % MAXIMUM_ALIGNOF != 0 ||
		(uint64) offset + MAXALIGN(min_len) + max_len > data_len)
		return false;
	if (typlen > 0)
		return min_len == typlen && max_len == typlen;
	if (typlen == -1)
		return min_len >= VARHDRSZ && max_len >= VARHDRSZ &&
			VARATT_IS_4B_U(min) && VARSIZE(min) == min_len &&
			VARATT_IS_4B_U(max) && VARSIZE(max) == max_len;
	return false;				/* cstrings have no bounds */
}

/* XX001 unless every column of the column table has a possible layout */
static void
stripe_check_columns(Relation rel, BlockNumber first_block,
					 const RdbStripeHeader *hdr, const RdbStripeColumn *cols)
{
	int			c;

	for (c = 0; c < hdr->ncolumns; c++)
	{
		int16		len = cols[c].typlen;

		if (!(len > 0 || len == -1 || len == -2) ||
			(cols[c].typbyval && (len <= 0 || len > (int16) sizeof(Datum))))
			stripe_corrupt(rel, first_block,
						   "Column %d has an impossible layout (length %d).",
						   c + 1, len);
	}
}

/* XX001 unless a stripe summary's header fits at stream offset at */
static void
stripe_check_summary_at(Relation rel, BlockNumber first_block,
						const RdbStripeHeader *hdr, Size at)
{
	if (at + sizeof(RdbStripeSummaryHeader) > RDB_STRIPE_PAGE_PAYLOAD ||
		at + sizeof(RdbStripeSummaryHeader) > hdr->stream_len)
		stripe_corrupt(rel, first_block,
					   "The stripe summary would start at byte %zu of the stream.", at);
}

/* XX001 unless sh, at stream offset at, describes a summary that fits */
static void
stripe_check_summary_header(Relation rel, BlockNumber first_block,
							const RdbStripeHeader *hdr, Size at,
							const RdbStripeSummaryHeader *sh)
{
	if (sh->ncolumns != hdr->ncolumns || sh->reserved != 0 ||
		sh->len < RDB_STRIPE_SUMMARY_FIXED_SIZE(hdr->ncolumns) ||
		at + sh->len > RDB_STRIPE_PAGE_PAYLOAD || at + sh->len > hdr->stream_len)
		stripe_corrupt(rel, first_block,
					   "The stripe summary claims %u bytes for %u columns at byte %zu of the stream.",
					   sh->len, sh->ncolumns, at);
}

/*
 * stripe_summary_bytes
 *		Copy the stripe summary of a stripe whose header (checked) has one
 *		out of its first page, palloc'd; its length in *len.  XX001 if it
 *		does not lie within the first page, where the writer puts it, or
 *		within the stream.
 */
static char *
stripe_summary_bytes(Relation rel, BlockNumber first_block,
					 const RdbStripeHeader *hdr, const RdbStripeMap *map,
					 Size *len)
{
	Size		at = sizeof(RdbStripeHeader) + RDB_STRIPE_MAP_SIZE(hdr->version) +
		hdr->ncolumns * sizeof(RdbStripeColumn);
	RdbStripeSummaryHeader sh;
	char	   *out;

	stripe_check_summary_at(rel, first_block, hdr, at);
	stripe_read_bytes(rel, first_block, map, at, sizeof(sh), (char *) &sh);
	stripe_check_summary_header(rel, first_block, hdr, at, &sh);
	out = palloc(sh.len);
	stripe_read_bytes(rel, first_block, map, at, sh.len, out);
	*len = sh.len;
	return out;
}

/*
 * stripe_validate_summary
 *		Check a stripe summary (its checksum is already verified): every
 *		column's NULLs within the rows, its bounds within the data,
 *		aligned, of the column's layout, and none where the writer keeps
 *		none.
 */
static void
stripe_validate_summary(Relation rel, BlockNumber first_block,
						const RdbStripeHeader *hdr, const RdbStripeColumn *cols,
						const char *summary, Size len)
{
	const RdbStripeColumnSummary *cs =
		(const RdbStripeColumnSummary *) (summary + sizeof(RdbStripeSummaryHeader));
	Size		fixed = RDB_STRIPE_SUMMARY_FIXED_SIZE(hdr->ncolumns);
	const char *data = summary + fixed;
	Size		data_len = len - fixed;
	int			c;

	for (c = 0; c < hdr->ncolumns; c++)
	{
		const RdbStripeColumnSummary *e = &cs[c];
		int16		typlen = cols[c].typlen;
		bool		ok = true;

		if (e->nnulls > hdr->nrows)
			ok = false;
		else if (e->min_len == 0)
			ok = (e->max_len == 0);
		else if (!OidIsValid(e->cmp_type) || cols[c].isdropped ||
				 e->nnulls == hdr->nrows)
			ok = false;
		else
			ok = stripe_bounds_ok(typlen, data, data_len, e->offset,
								  e->min_len, e->max_len, RDB_STRIPE_BOUND_MAX_LEN);
		if (!ok)
			stripe_corrupt(rel, first_block,
						   "The stripe summary of column \"%s\" is bad (%u NULLs of %u rows, bounds at %u, %u and %u bytes) in %zu bytes of data.",
						   stripe_attname(rel, c), e->nnulls, hdr->nrows,
						   e->offset, e->min_len, e->max_len, data_len);
	}
}

/*
 * rdb_stripe_read_summary
 *		The stripe summary of the stripe at first_block (stripe.h), from
 *		its first page alone; NULL if it was written without one.  The
 *		header and the summary are checked (the summary's own checksum)
 *		and XX001 raised when damaged, as rdb_stripe_open does; the column
 *		table's layouts too, since the bounds are read with them.
 */
RdbStripeSummary *
rdb_stripe_read_summary(Relation rel, BlockNumber first_block)
{
	RdbStripeHeader hdr;
	RdbStripeMap map;
	RdbStripeColumn *cols;
	RdbStripeSummary *out;
	const RdbStripeColumnSummary *cs;
	RdbStripeSummaryHeader sh;
	char	   *first = palloc(RDB_STRIPE_PAGE_PAYLOAD);
	char	   *summary;
	Size		nbytes;
	Size		at;
	Size		len;
	Size		colsize;
	uint64		sum;
	int			c;

	if (first_block < RDB_FIRST_DATA_BLKNO ||
		first_block >= RDB_FIRST_REMAPPED_GENERATION ||
		first_block >= RelationGetNumberOfBlocks(rel))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("rustydb stripe of relation \"%s\": block %u cannot start a stripe",
						RelationGetRelationName(rel), first_block)));

	/*
	 * Everything comes from the first page, copied once (one buffer
	 * access instead of one per part); it holds the bytes asked for only
	 * as far as its payload goes, which is checked before each is used.
	 */
	nbytes = stripe_first_page(rel, first_block, first);
	if (nbytes < sizeof(RdbStripeHeader))
		stripe_corrupt(rel, first_block,
					   "The first page holds %zu bytes, no header.", nbytes);
	memcpy(&hdr, first, sizeof(RdbStripeHeader));
	if (hdr.version & RDB_STRIPE_MAPPED)
	{
		if (nbytes < sizeof(RdbStripeHeader) + sizeof(RdbStripeMap))
			stripe_corrupt(rel, first_block,
						   "The first page holds %zu bytes, the extent map ends at byte %zu.",
						   nbytes, sizeof(RdbStripeHeader) + sizeof(RdbStripeMap));
		memcpy(&map, first + sizeof(RdbStripeHeader), sizeof(RdbStripeMap));
	}
	else
		stripe_map_single(&map, first_block, hdr.nblocks);
	stripe_check_header(rel, first_block, &hdr, &map);
	if (!(hdr.version & RDB_STRIPE_SUMMARY))
	{
		pfree(first);
		return NULL;
	}
	colsize = hdr.ncolumns * sizeof(RdbStripeColumn);
	at = sizeof(RdbStripeHeader) + RDB_STRIPE_MAP_SIZE(hdr.version) + colsize;
	stripe_check_summary_at(rel, first_block, &hdr, at);
	if (nbytes < at + sizeof(sh))
		stripe_corrupt(rel, first_block,
					   "The first page holds %zu bytes, the stripe summary starts at byte %zu.",
					   nbytes, at);
	memcpy(&sh, first + at, sizeof(sh));
	stripe_check_summary_header(rel, first_block, &hdr, at, &sh);
	if (nbytes < at + sh.len)
		stripe_corrupt(rel, first_block,
					   "The first page holds %zu bytes, the stripe summary ends at byte %zu.",
					   nbytes, at + sh.len);
	len = sh.len;
	cols = palloc(colsize);
	memcpy(cols, first + at - colsize, colsize);
	/* MAXALIGNed (palloc), as the bounds' offsets within it assume */
	summary = palloc(len);
	memcpy(summary, first + at, len);
	pfree(first);
	sum = rdb_stripe_summary_checksum(&hdr, &map, cols, summary, len);
	if (sum != ((RdbStripeSummaryHeader *) summary)->checksum)
		stripe_corrupt(rel, first_block,
					   "The stripe summary has checksum %016llx, it says %016llx.",
					   (unsigned long long) sum,
					   (unsigned long long) ((RdbStripeSummaryHeader *) summary)->checksum);
	stripe_check_columns(rel, first_block, &hdr, cols);
	stripe_validate_summary(rel, first_block, &hdr, cols, summary, len);

	out = palloc(offsetof(RdbStripeSummary, cols) +
				 hdr.ncolumns * sizeof(RdbStripeSummaryColumn));
	out->nrows = hdr.nrows;
	out->nchunkgroups = hdr.nchunkgroups;
	out->ncolumns = hdr.ncolumns;
	cs = (const RdbStripeColumnSummary *) (summary + sizeof(RdbStripeSummaryHeader));
	for (c = 0; c < hdr.ncolumns; c++)
	{
		RdbStripeSummaryColumn *o = &out->cols[c];
		/* palloc'd: MAXALIGNed, and so is every bound's offset in it */
		char	   *p = summary + RDB_STRIPE_SUMMARY_FIXED_SIZE(hdr.ncolumns) +
			cs[c].offset;

		o->typid = cols[c].typid;
		o->collation = cs[c].collation;
		o->nnulls = cs[c].nnulls;
		o->has_bounds = cs[c].min_len > 0;
		o->min = o->max = (Datum) 0;
		if (o->has_bounds)
		{
			o->min = fetch_att(p, cols[c].typbyval, cols[c].typlen);
			o->max = fetch_att(p + MAXALIGN(cs[c].min_len), cols[c].typbyval,
							   cols[c].typlen);
		}
	}
	pfree(cols);
	return out;
}

/*
 * stripe_validate_bounds
 *		Check the bounds section of a version 2 stripe (its checksum is
 *		already verified): every chunk's bounds within the data, aligned,
 *		of the column's layout, and none where the writer keeps none.
 */
static void
stripe_validate_bounds(Relation rel, BlockNumber first_block,
					   const RdbStripeHeader *hdr, const RdbStripeColumn *cols,
					   const RdbChunkRef *dir, const char *section)
{
	const RdbStripeBoundsHeader *bh = (const RdbStripeBoundsHeader *) section;
	const RdbStripeColumnBounds *colb;
	const RdbChunkBounds *cb;
	const char *data;
	uint32		g;
	int			c;

	colb = (const RdbStripeColumnBounds *) (section + sizeof(RdbStripeBoundsHeader));
	cb = (const RdbChunkBounds *) (section + sizeof(RdbStripeBoundsHeader) +
								   hdr->ncolumns * sizeof(RdbStripeColumnBounds));
	data = section + RDB_STRIPE_BOUNDS_FIXED_SIZE(hdr->ncolumns, hdr->nchunkgroups);

	for (g = 0; g < hdr->nchunkgroups; g++)
	{
		for (c = 0; c < hdr->ncolumns; c++)
		{
			Size		i = (Size) g * hdr->ncolumns + c;
			const RdbChunkBounds *b = &cb[i];
			int16		typlen = cols[c].typlen;
			bool		ok = true;

			if (b->min_len == 0)
			{
				if (b->max_len != 0)
					ok = false;
			}
			else if (!OidIsValid(colb[c].cmp_type) || cols[c].isdropped ||
					 (dir[i].flags & RDB_CHUNK_ALL_NULL))
				ok = false;
			else
				ok = stripe_bounds_ok(typlen, data, bh->data_len, b->offset,
									  b->min_len, b->max_len, bh->max_len);
			if (!ok)
				stripe_corrupt(rel, first_block,
							   "Chunk group %u of column \"%s\" has bad bounds (offset %u, %u and %u bytes) in %u bytes of bounds data.",
							   g, stripe_attname(rel, c), b->offset,
							   b->min_len, b->max_len, bh->data_len);
		}
	}
}

/*
 * stripe_validate
 *		Read and validate the header and directory of the stripe at
 *		first_block, its bounds section (format version 2 and up; *boundsp
 *		NULL for version 1) and its row order's directory (version 3;
 *		*orderdirp NULL for the others); *colsp, *dirp, *boundsp and
 *		*orderdirp are palloc'd in the current context.
 */
static void
stripe_validate(Relation rel, BlockNumber first_block, RdbStripeHeader *hdr,
				RdbStripeMap *map,
				RdbStripeColumn **colsp, RdbChunkRef **dirp, char **boundsp,
				Size *boundslenp, RdbChunkRef **orderdirp)
{
	Size		head;
	uint32		i;
	char	   *summary = NULL;
	Size		summarylen = 0;
	char	   *bounds = NULL;
	Size		boundslen = 0;
	Size		orderdirsize = 0;
	RdbChunkRef *orderdir = NULL;
	Size		dirsize;
	Size		colsize;
	RdbStripeColumn *cols;
	RdbChunkRef *dir;
	uint64		sum;
	uint64		data_start;
	uint32		g;
	int			c;
	BlockNumber relblocks;
	char		last;

	rdb_stripe_read_header(rel, first_block, hdr, map);

	relblocks = RelationGetNumberOfBlocks(rel);
	for (i = 0; i < map->nextents; i++)
		if ((uint64) map->ext[i].first + map->ext[i].nblocks > relblocks)
			stripe_corrupt(rel, first_block,
						   "The stripe claims blocks %u to %u, the table ends before block %u.",
						   map->ext[i].first,
						   map->ext[i].first + map->ext[i].nblocks - 1, relblocks);

	head = sizeof(RdbStripeHeader) + RDB_STRIPE_MAP_SIZE(hdr->version);
	colsize = hdr->ncolumns * sizeof(RdbStripeColumn);
	cols = palloc(colsize);
	stripe_read_bytes(rel, first_block, map, head, colsize, (char *) cols);
	if (hdr->version & RDB_STRIPE_SUMMARY)
	{
		summary = stripe_summary_bytes(rel, first_block, hdr, map, &summarylen);
		if (rdb_stripe_summary_checksum(hdr, map, cols, summary, summarylen) !=
			((RdbStripeSummaryHeader *) summary)->checksum)
			stripe_corrupt(rel, first_block,
						   "The stripe summary has checksum %016llx, it says %016llx.",
						   (unsigned long long) rdb_stripe_summary_checksum(hdr, map, cols,
																			summary, summarylen),
						   (unsigned long long) ((RdbStripeSummaryHeader *) summary)->checksum);
	}
	dirsize = (Size) hdr->nchunkgroups * hdr->ncolumns * sizeof(RdbChunkRef);
	dir = palloc_extended(dirsize, MCXT_ALLOC_HUGE);
	stripe_read_bytes(rel, first_block, map, head + colsize + summarylen,
					  dirsize, (char *) dir);
	data_start = head + colsize + summarylen + dirsize;
	if (RDB_STRIPE_FORMAT(hdr->version) >= RDB_STRIPE_VERSION)
	{
		RdbStripeBoundsHeader bh;
		uint64		fixed = RDB_STRIPE_BOUNDS_FIXED_SIZE(hdr->ncolumns,
														 hdr->nchunkgroups);

		/* the section's size is checked against the stream before use */
		if (data_start + fixed > hdr->stream_len)
			stripe_corrupt(rel, first_block,
						   "The bounds section does not fit in a stream of %llu bytes.",
						   (unsigned long long) hdr->stream_len);
		stripe_read_bytes(rel, first_block, map, data_start, sizeof(bh),
						  (char *) &bh);
		if (data_start + fixed + bh.data_len > hdr->stream_len)
			stripe_corrupt(rel, first_block,
						   "The bounds section claims %u bytes of data in a stream of %llu bytes.",
						   bh.data_len, (unsigned long long) hdr->stream_len);
		if (bh.level < 1 || bh.reserved != 0)
			stripe_corrupt(rel, first_block,
						   "The bounds section gives level %u (reserved field %u).",
						   bh.level, bh.reserved);
		boundslen = fixed + bh.data_len;
		if (RDB_STRIPE_FORMAT(hdr->version) == RDB_STRIPE_VERSION_SORTED)
		{
			orderdirsize = (Size) hdr->nchunkgroups * sizeof(RdbChunkRef);
			if (data_start + boundslen + orderdirsize > hdr->stream_len)
				stripe_corrupt(rel, first_block,
							   "The row order's directory does not fit in a stream of %llu bytes.",
							   (unsigned long long) hdr->stream_len);
		}
		/* the order's directory is checksummed with the bounds: read both */
		bounds = palloc_extended(boundslen + orderdirsize, MCXT_ALLOC_HUGE);
		stripe_read_bytes(rel, first_block, map, data_start,
						  boundslen + orderdirsize, bounds);
		data_start += boundslen + orderdirsize;
	}
	sum = rdb_stripe_dir_checksum(hdr, map, cols, summary, summarylen,
								  dir, dirsize, bounds,
								  boundslen + orderdirsize);
	if (sum != hdr->dir_checksum)
		stripe_corrupt(rel, first_block,
					   "Header and directory have checksum %016llx, the header says %016llx.",
					   (unsigned long long) sum,
					   (unsigned long long) hdr->dir_checksum);

	stripe_check_columns(rel, first_block, hdr, cols);
	if (bounds)
		stripe_validate_bounds(rel, first_block, hdr, cols, dir, bounds);
	if (summary)
	{
		stripe_validate_summary(rel, first_block, hdr, cols, summary, summarylen);
		pfree(summary);
	}
	for (g = 0; g < hdr->nchunkgroups; g++)
	{
		uint32		rows = Min(hdr->chunk_group_rows,
							   hdr->nrows - g * hdr->chunk_group_rows);

		for (c = 0; c < hdr->ncolumns; c++)
		{
			RdbChunkRef *ref = &dir[(Size) g * hdr->ncolumns + c];

			if (ref->nnulls > rows)
				stripe_corrupt(rel, first_block,
							   "Chunk group %u of column \"%s\" claims %u NULLs in %u rows.",
							   g, stripe_attname(rel, c), ref->nnulls, rows);
			if (ref->flags & RDB_CHUNK_ALL_NULL)
			{
				if (ref->nnulls != rows || ref->stored_len != 0)
					stripe_corrupt(rel, first_block,
								   "All-NULL chunk group %u of column \"%s\" has %u NULLs and %u bytes.",
								   g, stripe_attname(rel, c), ref->nnulls,
								   ref->stored_len);
				continue;
			}
			if (ref->offset < data_start ||
				ref->stored_len < RDB_COMPRESS_HEADER_SIZE ||
				ref->offset + ref->stored_len > hdr->stream_len ||
				ref->codec >= RDB_NUM_CODECS ||
				ref->encoding >= RDB_NUM_ENCODINGS)
				stripe_corrupt(rel, first_block,
							   "Chunk group %u of column \"%s\" has a bad directory entry (offset %llu, %u bytes, codec %u, encoding %u) in a stream of %llu bytes.",
							   g, stripe_attname(rel, c),
							   (unsigned long long) ref->offset,
							   ref->stored_len, ref->codec, ref->encoding,
							   (unsigned long long) hdr->stream_len);
		}
	}

	if (orderdirsize > 0)
	{
		orderdir = palloc_extended(orderdirsize, MCXT_ALLOC_HUGE);
		memcpy(orderdir, bounds + boundslen, orderdirsize);
		for (g = 0; g < hdr->nchunkgroups; g++)
		{
			RdbChunkRef *ref = &orderdir[g];

			if (ref->offset < data_start ||
				ref->stored_len < RDB_COMPRESS_HEADER_SIZE ||
				ref->offset + ref->stored_len > hdr->stream_len ||
				ref->codec >= RDB_NUM_CODECS ||
				ref->encoding >= RDB_NUM_ENCODINGS ||
				ref->nnulls != 0 || ref->flags != 0)
				stripe_corrupt(rel, first_block,
							   "Chunk group %u of the row order has a bad directory entry (offset %llu, %u bytes, codec %u, encoding %u) in a stream of %llu bytes.",
							   g, (unsigned long long) ref->offset,
							   ref->stored_len, ref->codec, ref->encoding,
							   (unsigned long long) hdr->stream_len);
		}
	}

	/* the last page must be there and end where the stream ends */
	stripe_read_bytes(rel, first_block, map, hdr->stream_len - 1, 1, &last);

	*colsp = cols;
	*orderdirp = orderdir;
	*dirp = dir;
	*boundsp = bounds;
	*boundslenp = boundslen;
}

/* ----------------------------------------------------------------
 * The per-backend cache
 * ----------------------------------------------------------------
 */

static void
stripe_meta_free(StripeMeta *meta)
{
	MemoryContextDelete(meta->cxt);
}

/* take meta out of the hash and the LRU list; free it unless pinned */
static void
stripe_meta_evict(StripeMeta *meta)
{
	hash_search(stripe_cache, &meta->key, HASH_REMOVE, NULL);
	dlist_delete(&meta->lru);
	stripe_cache_bytes -= meta->bytes;
	if (meta->pins > 0)
		meta->dead = true;
	else
		stripe_meta_free(meta);
}

/*
 * stripe_relcache_callback
 *		A relation's relcache entry was invalidated (DROP, TRUNCATE, rewrite,
 *		any DDL; InvalidOid: all of them): forget its cached stripes and
 *		chunk groups.  Keying by relfilenode already keeps a new relfilenode
 *		from hitting old entries; this also covers a relfilenode number
 *		reused after its relation was dropped.  Runs only where invalidation
 *		messages are accepted, never while form_tuple uses an entry.
 */
static void
stripe_relcache_callback(Datum arg, Oid relid)
{
	dlist_mutable_iter it;

	if (stripe_cache != NULL)
	{
		dlist_foreach_modify(it, &stripe_lru)
		{
			StripeMeta *meta = dlist_container(StripeMeta, lru, it.cur);

			if (!OidIsValid(relid) || meta->relid == relid)
				stripe_meta_evict(meta);
		}
	}
	group_cache_forget(relid);
}

static void
stripe_register_callback(void)
{
	if (!stripe_callback_registered)
	{
		CacheRegisterRelcacheCallback(stripe_relcache_callback, (Datum) 0);
		stripe_callback_registered = true;
	}
}

/*
 * stripe_meta_get
 *		The validated header and directory of the stripe at first_block of
 *		rel, from the cache or read now; it becomes the most recently used.
 */
static StripeMeta *
stripe_meta_get(Relation rel, BlockNumber first_block)
{
	StripeCacheKey key;
	StripeCacheEntry *entry;
	StripeMeta *meta;
	RdbStripeHeader hdr;
	RdbStripeMap map;
	RdbStripeColumn *cols = NULL;
	RdbChunkRef *dir = NULL;
	char	   *bounds = NULL;
	Size		boundslen = 0;
	RdbChunkRef *orderdir = NULL;
	MemoryContext cxt;
	MemoryContext old;
	Size		dirsize;
	bool		found;
	int			c;
	uint64		reuse_now;

	if (stripe_cache == NULL)
	{
		HASHCTL		ctl;

		stripe_register_callback();
		stripe_cache_cxt = AllocSetContextCreate(TopMemoryContext,
												 "rustydb stripe cache",
												 ALLOCSET_SMALL_SIZES);
		ctl.keysize = sizeof(StripeCacheKey);
		ctl.entrysize = sizeof(StripeCacheEntry);
		ctl.hcxt = stripe_cache_cxt;
		stripe_cache = hash_create("rustydb stripe cache",
								   RDB_STRIPE_CACHE_ENTRIES * 2, &ctl,
								   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}

	/*
	 * Pages given back by compaction became reusable since we last looked:
	 * a stripe we cached may have been replaced at its first block by
	 * another (stripe_reuse.c).  Forget everything; nothing of either
	 * cache is in use between two calls of ours.
	 */
	reuse_now = rdb_stripe_reuse_count();
	if (reuse_now != stripe_reuse_seen)
	{
		stripe_relcache_callback((Datum) 0, InvalidOid);
		stripe_reuse_seen = reuse_now;
	}

	memset(&key, 0, sizeof(key));
	key.node = rel->rd_node;
	key.first_block = first_block;
	entry = hash_search(stripe_cache, &key, HASH_FIND, NULL);
	if (entry)
	{
		meta = entry->meta;
		dlist_move_head(&stripe_lru, &meta->lru);
		return meta;
	}

	if (first_block < RDB_FIRST_DATA_BLKNO ||
		first_block >= RDB_FIRST_REMAPPED_GENERATION)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("rustydb stripe of relation \"%s\": block %u cannot start a stripe",
			 RelationGetRelationName(rel), first_block)));

	/* validate in the caller's context: an error leaves the cache alone */
	stripe_validate(rel, first_block, &hdr, &map, &cols, &dir, &bounds,
					&boundslen, &orderdir);
	dirsize = (Size) hdr.nchunkgroups * hdr.ncolumns * sizeof(RdbChunkRef);

	/*
	 * Make room: evict the least recently used entries nobody pins while
	 * the cached ones take more than rustydb.stripe_meta_cache_size.  (A
	 * fixed 64 stripes before: a scan of a table of more stripes read every
	 * stripe's directory and bounds again, 4,300 buffers for the last 1 %
	 * of a 5 M-row table in 334 stripes, against 300 when they fit.)
	 */
	while (stripe_cache_bytes > (Size) rdb_stripe_meta_cache_size * 1024)
	{
		dlist_iter	it;
		StripeMeta *victim = NULL;

		dlist_reverse_foreach(it, &stripe_lru)
		{
			StripeMeta *old_meta = dlist_container(StripeMeta, lru, it.cur);

			if (old_meta->pins == 0)
			{
				victim = old_meta;
				break;
			}
		}
		if (victim == NULL)
			break;				/* all in use: they stay */
		stripe_meta_evict(victim);
	}

	cxt = AllocSetContextCreate(stripe_cache_cxt, "rustydb stripe",
								ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	meta = palloc0(sizeof(StripeMeta));
	meta->key = key;
	meta->relid = RelationGetRelid(rel);
	meta->cxt = cxt;
	meta->hdr = hdr;
	meta->map = map;
	meta->dir = palloc_extended(dirsize, MCXT_ALLOC_HUGE);
	memcpy(meta->dir, dir, dirsize);
	if (bounds)
	{
		Size		fixed = RDB_STRIPE_BOUNDS_FIXED_SIZE(hdr.ncolumns,
														 hdr.nchunkgroups);
		Size		colbsize = hdr.ncolumns * sizeof(RdbStripeColumnBounds);

		meta->level = ((const RdbStripeBoundsHeader *) bounds)->level;
		meta->colbounds = palloc(colbsize);
		memcpy(meta->colbounds, bounds + sizeof(RdbStripeBoundsHeader), colbsize);
		meta->chunkbounds = palloc_extended(fixed - sizeof(RdbStripeBoundsHeader) - colbsize,
											MCXT_ALLOC_HUGE);
		memcpy(meta->chunkbounds, bounds + sizeof(RdbStripeBoundsHeader) + colbsize,
			   fixed - sizeof(RdbStripeBoundsHeader) - colbsize);
		/* palloc'd: MAXALIGNed, so the MAXALIGNed offsets give aligned Datums */
		meta->boundsdata = palloc_extended(Max(boundslen - fixed, 1), MCXT_ALLOC_HUGE);
		memcpy(meta->boundsdata, bounds + fixed, boundslen - fixed);
	}
	else
		meta->level = 1;		/* version 1: only flush wrote stripes */
	if (orderdir)
	{
		meta->orderdir = palloc_extended(hdr.nchunkgroups * sizeof(RdbChunkRef),
										 MCXT_ALLOC_HUGE);
		memcpy(meta->orderdir, orderdir, hdr.nchunkgroups * sizeof(RdbChunkRef));
	}
	meta->types = palloc(hdr.ncolumns * sizeof(RdbTypeInfo));
	/* rows are formed with the layout they were written with */
	meta->formdesc = CreateTemplateTupleDesc(hdr.ncolumns);
	for (c = 0; c < hdr.ncolumns; c++)
	{
		Form_pg_attribute att = TupleDescAttr(meta->formdesc, c);

		meta->types[c].typlen = cols[c].typlen;
		meta->types[c].typbyval = cols[c].typbyval;
		meta->types[c].typalign = cols[c].typalign;
		att->attnum = c + 1;
		att->atttypid = cols[c].typid;
		att->atttypmod = -1;
		att->attlen = cols[c].typlen;
		att->attbyval = cols[c].typbyval;
		att->attalign = cols[c].typalign;
		att->attstorage = cols[c].typstorage;
		att->attisdropped = cols[c].isdropped;
		att->attcacheoff = -1;
		att->attndims = 0;
		att->attnotnull = false;
		att->atthasdef = false;
		att->atthasmissing = false;
		att->attcollation = InvalidOid;
	}
	MemoryContextSwitchTo(old);
	pfree(dir);
	pfree(cols);
	if (bounds)
		pfree(bounds);
	if (orderdir)
		pfree(orderdir);

	entry = hash_search(stripe_cache, &key, HASH_ENTER, &found);
	Assert(!found);
	entry->meta = meta;
	dlist_push_head(&stripe_lru, &meta->lru);
	meta->bytes = MemoryContextMemAllocated(cxt, true);
	stripe_cache_bytes += meta->bytes;
	return meta;
}

/*
 * rdb_stripe_cache_reset
 *		Forget every cached stripe and chunk group.  Readers that callers
 *		still hold keep their (unchanged, immutable) directory until they
 *		are closed.
 */
void
rdb_stripe_cache_reset(void)
{
	stripe_relcache_callback((Datum) 0, InvalidOid);
	Assert(stripe_cache == NULL || hash_get_num_entries(stripe_cache) == 0);
}

/*
 * rdb_stripe_cache_forget
 *		Forget the cached stripes and chunk groups of one relation: for a
 *		TRUNCATE that keeps the relfilenode (of a table created in the same
 *		transaction), which sends no relcache invalidation of its own.
 */
void
rdb_stripe_cache_forget(Oid relid)
{
	stripe_relcache_callback((Datum) 0, relid);
}

/* ----------------------------------------------------------------
 * Readers
 * ----------------------------------------------------------------
 */

static RdbStripeReader *
stripe_reader_create(StripeMeta *meta, MemoryContext parent)
{
	MemoryContext cxt;
	RdbStripeReader *sr;
	int			c;
	int			ncol = meta->hdr.ncolumns;

	cxt = AllocSetContextCreate(parent, "rustydb stripe reader",
								ALLOCSET_DEFAULT_SIZES);
	sr = MemoryContextAllocZero(cxt, sizeof(RdbStripeReader));
	sr->meta = meta;
	sr->cxt = cxt;
	sr->cols = MemoryContextAllocZero(cxt, ncol * sizeof(StripeColumn));
	for (c = 0; c < ncol; c++)
		sr->cols[c].group = -1;
	return sr;
}

/* reset callback of a caller's reader context: unpin the cache entry */
static void
stripe_reader_unpin(void *arg)
{
	RdbStripeReader *sr = (RdbStripeReader *) arg;
	StripeMeta *meta = sr->meta;

	sr->meta = NULL;
	if (meta && --meta->pins == 0 && meta->dead)
		stripe_meta_free(meta);
}

/*
 * rdb_stripe_open
 *		A reader of the stripe at first_block of rel, validated (through
 *		the cache) and ready for rdb_stripe_fetch_row.
 *
 * The reader is allocated in a new child of CurrentMemoryContext and lives
 * until rdb_stripe_close or until that context is reset or deleted.  It
 * keeps the decompressed chunk of the last chunk group used of every
 * column it read.  rel must stay open (and is used for messages) as long
 * as the reader is used.
 */
RdbStripeReader *
rdb_stripe_open(Relation rel, BlockNumber first_block)
{
	StripeMeta *meta = stripe_meta_get(rel, first_block);
	RdbStripeReader *sr;

	sr = stripe_reader_create(meta, CurrentMemoryContext);
	sr->rel = rel;
	meta->pins++;
	sr->unpin.func = stripe_reader_unpin;
	sr->unpin.arg = sr;
	MemoryContextRegisterResetCallback(sr->cxt, &sr->unpin);
	return sr;
}

/*
 * rdb_stripe_close
 *		Free a reader from rdb_stripe_open and its chunks (optional: the
 *		reader also goes with its memory context).
 */
void
rdb_stripe_close(RdbStripeReader *sr)
{
	MemoryContextDelete(sr->cxt);
}

uint32
rdb_stripe_nrows(RdbStripeReader *sr)
{
	return sr->meta->hdr.nrows;
}

const RdbStripeHeader *
rdb_stripe_header(RdbStripeReader *sr)
{
	return &sr->meta->hdr;
}

/*
 * stripe_read_frame
 *		The chunk ref describes (column c of chunk group g, or with c = -1
 *		the group's row order chunk): copy its stored bytes out of the pages
 *		into *stored (scratch), verify their checksum and that the frame
 *		matches the directory entry, and decompress them into *raw (empty).
 *		A mismatch is ERRCODE_DATA_CORRUPTED naming table, stripe and what
 *		the chunk is.
 */
static void
stripe_read_frame(StripeMeta *meta, Relation rel, const RdbChunkRef *ref,
				  int c, uint32 g, StringInfo stored, StringInfo raw)
{
	uint64		sum;

	resetStringInfo(stored);
	enlargeStringInfo(stored, ref->stored_len);
	stripe_read_bytes(rel, meta->key.first_block, &meta->map, ref->offset,
					  ref->stored_len,
					  stored->data);
	stored->len = ref->stored_len;
	sum = rdb_checksum64(stored->data, ref->stored_len);
	if (sum != ref->checksum)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 c >= 0 ?
				 errmsg("rustydb stripe at block %u of table \"%s\" is corrupted in column \"%s\"",
						meta->key.first_block, RelationGetRelationName(rel),
						stripe_attname(rel, c)) :
				 errmsg("rustydb stripe at block %u of table \"%s\" is corrupted in its row order",
						meta->key.first_block, RelationGetRelationName(rel)),
				 errdetail("Chunk group %u of %s (%u bytes at stream offset %llu) has checksum %016llx, its directory entry says %016llx.",
						   g,
						   c >= 0 ? psprintf("column \"%s\"", stripe_attname(rel, c)) :
						   "the row order",
						   ref->stored_len,
						   (unsigned long long) ref->offset,
						   (unsigned long long) sum,
						   (unsigned long long) ref->checksum)));

	if ((uint8) stored->data[0] != ref->codec ||
		rdb_decompressed_size(stored->data, ref->stored_len) != ref->raw_len)
		stripe_corrupt(rel, meta->key.first_block,
					   "Chunk group %u of %s does not match its directory entry.",
					   g,
					   c >= 0 ? psprintf("column \"%s\"", stripe_attname(rel, c)) :
					   "the row order");
	Assert(raw->len == 0);
	rdb_decompress(stored->data, ref->stored_len, raw);
	raw->len = ref->raw_len;
}

/*
 * stripe_decode_chunk
 *		Chunk group g of column c: copy its stored bytes out of the pages
 *		(into *stored, scratch), verify their checksum, decompress them
 *		into *raw (empty) and open a decoder over them, allocated in the
 *		current memory context.
 */
static RdbChunkDecoder *
stripe_decode_chunk(StripeMeta *meta, Relation rel, int c, uint32 g,
					StringInfo stored, StringInfo raw)
{
	const RdbStripeHeader *hdr = &meta->hdr;
	const RdbChunkRef *ref = &meta->dir[(Size) g * hdr->ncolumns + c];
	uint32		rows = Min(hdr->chunk_group_rows,
						   hdr->nrows - g * hdr->chunk_group_rows);
	ErrorContextCallback errcb;
	StripeErrorContext ectx;
	RdbChunkDecoder *dec;
	RdbChunkKey key;
	uint64		page_id = 0;
	bool		use_cache = false;

	memset(&key, 0, sizeof(key));
	ectx.rel = rel;
	ectx.first_block = meta->key.first_block;
	ectx.column = c;
	ectx.group = g;
	errcb.callback = stripe_error_callback;
	errcb.arg = &ectx;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	/*
	 * The shared chunk cache (src/cache): the decompressed, verified chunk,
	 * keyed by this stripe's and this chunk's checksums.  page_id: the
	 * byte address in the main fork of the chunk's first stored byte.
	 */
	if (rdb_cache_enabled())
	{
		Assert(raw->len == 0);
		key.node = rel->rd_node;
		key.first_block = meta->key.first_block;
		key.group = g;
		key.column = (uint32) c;
		key.dir_checksum = hdr->dir_checksum;
		key.chunk_checksum = ref->checksum;
		page_id = (uint64) rdb_stripe_map_block(&meta->map,
												ref->offset / RDB_STRIPE_PAGE_PAYLOAD) * BLCKSZ +
			SizeOfPageHeaderData + ref->offset % RDB_STRIPE_PAGE_PAYLOAD;
		enlargeStringInfo(raw, ref->raw_len);
		if (rdb_cache_lookup(&key, rel, page_id, raw->data, ref->raw_len))
		{
			raw->len = ref->raw_len;
			raw->data[raw->len] = '\0';
			goto decode;
		}
		use_cache = true;
	}

	stripe_read_frame(meta, rel, ref, c, g, stored, raw);
	if (use_cache)
		rdb_cache_insert(&key, rel, page_id, raw->data, ref->raw_len);

decode:
	dec = rdb_chunk_decoder_begin(&meta->types[c], raw->data, ref->raw_len);
	if (rdb_chunk_nrows(dec) != rows ||
		rdb_chunk_nnulls(dec) != ref->nnulls ||
		(uint8) rdb_chunk_encoding(dec) != ref->encoding)
		stripe_corrupt(rel, meta->key.first_block,
					   "Chunk group %u of column \"%s\" holds %d rows (%d NULL), its directory entry says %u (%u NULL).",
					   g, stripe_attname(rel, c), rdb_chunk_nrows(dec),
					   rdb_chunk_nnulls(dec), rows, ref->nnulls);

	error_context_stack = errcb.previous;
	return dec;
}

/*
 * stripe_load_chunk
 *		Make chunk group g of column c the reader's current chunk of that
 *		column.
 */
static void
stripe_load_chunk(RdbStripeReader *sr, int c, uint32 g)
{
	StripeColumn *col = &sr->cols[c];
	MemoryContext old;

	if (col->dec)
	{
		rdb_chunk_decoder_end(col->dec);
		col->dec = NULL;
	}
	col->group = -1;
	sr->nloads++;

	old = MemoryContextSwitchTo(sr->cxt);
	if (sr->stored.data == NULL)
		initStringInfo(&sr->stored);
	if (col->raw.data == NULL)
		initStringInfo(&col->raw);
	resetStringInfo(&col->raw);
	col->dec = stripe_decode_chunk(sr->meta, sr->rel, c, g, &sr->stored,
								   &col->raw);
	if (col->whole)
	{
		/* every row at once: a scan reads (nearly) all of them in order */
		if (col->values == NULL)
		{
			uint32		rows = sr->meta->hdr.chunk_group_rows;

			col->values = palloc_extended(sizeof(Datum) * rows, MCXT_ALLOC_HUGE);
			col->isnull = palloc_extended(sizeof(bool) * rows, MCXT_ALLOC_HUGE);
		}
		rdb_chunk_decode_all(col->dec, col->values, col->isnull);
	}
	col->group = g;
	MemoryContextSwitchTo(old);
}

/*
 * rdb_stripe_chunk_whole
 *		The values of column c in chunk group g, decoded whole, as arrays
 *		indexed by the row's position in the group (valid while the chunk
 *		stays loaded: until this reader loads another group of column c or
 *		closes).  False when the column is not decoded whole
 *		(rdb_stripe_decode_whole) or the stripe does not have it.
 */
bool
rdb_stripe_chunk_whole(RdbStripeReader *sr, int c, uint32 g,
					   const Datum **values, const bool **isnull)
{
	const RdbStripeHeader *hdr = &sr->meta->hdr;
	StripeColumn *col;

	if (c < 0 || c >= (int) hdr->ncolumns || g >= hdr->nchunkgroups)
		return false;
	col = &sr->cols[c];
	if (!col->whole)
		return false;
	if (sr->meta->dir[(Size) g * hdr->ncolumns + c].flags & RDB_CHUNK_ALL_NULL)
	{
		if (sr->nullvalues == NULL)
		{
			sr->nullvalues = MemoryContextAllocZero(sr->cxt,
													sizeof(Datum) * hdr->chunk_group_rows);
			sr->nullflags = MemoryContextAlloc(sr->cxt,
											   sizeof(bool) * hdr->chunk_group_rows);
			memset(sr->nullflags, true, sizeof(bool) * hdr->chunk_group_rows);
		}
		*values = sr->nullvalues;
		*isnull = sr->nullflags;
		return true;
	}
	if (col->group != (int64) g)
		stripe_load_chunk(sr, c, g);
	*values = col->values;
	*isnull = col->isnull;
	return true;
}

/*
 * rdb_stripe_load_count
 *		Chunks this reader has loaded so far: while it stays the same, every
 *		Datum the reader handed out is still where it was.
 */
uint64
rdb_stripe_load_count(RdbStripeReader *sr)
{
	return sr->nloads;
}

/*
 * rdb_stripe_decode_whole
 *		From now on, decode the chunks of the columns c with whole[c] (of
 *		natts) whole when they are loaded, rather than row by row as they
 *		are asked for: what a scan that reads the rows of a chunk group in
 *		order wants (one pass of the decoder over the chunk, then an array
 *		read per row).  Columns read only for some rows (late
 *		materialisation) are better left to per-row decoding.
 */
void
rdb_stripe_decode_whole(RdbStripeReader *sr, const bool *whole, int natts)
{
	int			ncol = Min(natts, (int) sr->meta->hdr.ncolumns);
	int			c;

	for (c = 0; c < ncol; c++)
	{
		StripeColumn *col = &sr->cols[c];

		if (col->whole == whole[c])
			continue;
		col->whole = whole[c];
		/* a chunk already loaded is reloaded in the new way */
		if (col->dec)
		{
			rdb_chunk_decoder_end(col->dec);
			col->dec = NULL;
			sr->nloads++;		/* its Datums are gone */
		}
		col->group = -1;
	}
}

/*
 * stripe_meta_order
 *		Read the row order of a version 3 stripe into meta (positions and
 *		rows, in meta's context) unless it is there already: each chunk
 *		group's order chunk checked against its checksum, decompressed and
 *		decoded; together they must be a permutation of the row numbers.
 *		An error leaves meta without an order, to be read again.
 */
static void
stripe_meta_order(StripeMeta *meta, Relation rel)
{
	static const RdbTypeInfo int4type = {4, true, TYPALIGN_INT};
	const RdbStripeHeader *hdr = &meta->hdr;
	uint32	   *positions;
	uint32	   *rows;
	Datum	   *values;
	bool	   *isnull;
	StringInfoData stored;
	StringInfoData raw;
	uint32		g;
	uint32		p;
	uint32		shift = 0;

	if (meta->orderdir == NULL || meta->positions != NULL)
		return;

	positions = MemoryContextAllocHuge(meta->cxt, (Size) hdr->nrows * sizeof(uint32));
	rows = MemoryContextAllocHuge(meta->cxt, (Size) hdr->nrows * sizeof(uint32));
	memset(positions, 0xff, (Size) hdr->nrows * sizeof(uint32));
	values = palloc(hdr->chunk_group_rows * sizeof(Datum));
	isnull = palloc(hdr->chunk_group_rows * sizeof(bool));
	initStringInfo(&stored);
	initStringInfo(&raw);
	PG_TRY();
	{
		for (g = 0; g < hdr->nchunkgroups; g++)
		{
			const RdbChunkRef *ref = &meta->orderdir[g];
			uint32		first = g * hdr->chunk_group_rows;
			uint32		n = Min(hdr->chunk_group_rows, hdr->nrows - first);
			RdbChunkDecoder *dec;

			CHECK_FOR_INTERRUPTS();
			resetStringInfo(&raw);
			stripe_read_frame(meta, rel, ref, -1, g, &stored, &raw);
			dec = rdb_chunk_decoder_begin(&int4type, raw.data, ref->raw_len);
			if (rdb_chunk_nrows(dec) != (int) n || rdb_chunk_nnulls(dec) != 0)
				stripe_corrupt(rel, meta->key.first_block,
							   "Chunk group %u of the row order holds %d rows (%d NULL), the group has %u.",
							   g, rdb_chunk_nrows(dec), rdb_chunk_nnulls(dec), n);
			rdb_chunk_decode_all(dec, values, isnull);
			rdb_chunk_decoder_end(dec);
			for (p = 0; p < n; p++)
			{
				uint32		row = (uint32) DatumGetInt32(values[p]);

				if (row >= hdr->nrows || positions[row] != PG_UINT32_MAX)
					stripe_corrupt(rel, meta->key.first_block,
								   "Position %u of the row order names row %u, which is out of range or named twice.",
								   first + p, row);
				positions[row] = first + p;
				rows[first + p] = row;
				shift = Max(shift, (first + p > row) ? first + p - row : row - (first + p));
			}
		}
	}
	PG_CATCH();
	{
		pfree(positions);
		pfree(rows);
		PG_RE_THROW();
	}
	PG_END_TRY();
	pfree(values);
	pfree(isnull);
	pfree(stored.data);
	pfree(raw.data);
	meta->positions = positions;
	meta->rows = rows;
	meta->max_shift = shift;
	/* counted against rustydb.stripe_meta_cache_size from now on */
	if (!meta->dead)
	{
		Size		extra = (Size) hdr->nrows * sizeof(uint32) * 2;

		meta->bytes += extra;
		stripe_cache_bytes += extra;
	}
}

/* the position of row number row of the stripe meta describes */
static inline uint32
stripe_meta_position(StripeMeta *meta, Relation rel, uint32 row)
{
	if (meta->orderdir == NULL)
		return row;
	stripe_meta_order(meta, rel);
	return meta->positions[row];
}

/*
 * rdb_stripe_row_positions / rdb_stripe_position_rows
 *		The stripe's row order, both ways (stripe.h); NULL when positions
 *		are row numbers.
 */
/* is the stripe sorted by a sort key (rows not at their numbers' positions)? */
bool
rdb_stripe_is_sorted(RdbStripeReader *sr)
{
	return sr->meta->orderdir != NULL;
}

const uint32 *
rdb_stripe_row_positions(RdbStripeReader *sr)
{
	if (sr->meta->orderdir == NULL)
		return NULL;
	stripe_meta_order(sr->meta, sr->rel);
	return sr->meta->positions;
}

/* how far the row order moved any row (0 for stripes without one) */
uint32
rdb_stripe_order_shift(RdbStripeReader *sr)
{
	if (sr->meta->orderdir == NULL)
		return 0;
	stripe_meta_order(sr->meta, sr->rel);
	return sr->meta->max_shift;
}

const uint32 *
rdb_stripe_position_rows(RdbStripeReader *sr)
{
	if (sr->meta->orderdir == NULL)
		return NULL;
	stripe_meta_order(sr->meta, sr->rel);
	return sr->meta->rows;
}

/*
 * rdb_stripe_fetch_row
 *		The values of row `row` of the stripe, columns 0 .. natts - 1;
 *		columns the stripe does not have (added later) come back NULL.
 *
 * By-reference Datums point into the reader's decompressed chunks: they
 * stay valid until the next rdb_stripe_fetch_row or rdb_stripe_close on
 * this reader (copy them to keep them longer).  Varlena values are as the
 * row stored them: short headers, inline-compressed, external TOAST
 * pointers.
 */
void
rdb_stripe_fetch_row(RdbStripeReader *sr, uint32 row, Datum *values,
					 bool *isnull, int natts)
{
	if (row >= sr->meta->hdr.nrows)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("rustydb stripe at block %u of relation \"%s\": row %u out of range (%u rows)",
			 sr->meta->key.first_block, RelationGetRelationName(sr->rel), row,
			 sr->meta->hdr.nrows)));
	rdb_stripe_fetch_row_cols(sr, stripe_meta_position(sr->meta, sr->rel, row),
							  values, isnull, natts, NULL);
}

/* chunk groups of the stripe, and rows per chunk group */
uint32
rdb_stripe_nchunkgroups(RdbStripeReader *sr)
{
	return sr->meta->hdr.nchunkgroups;
}

uint32
rdb_stripe_chunk_group_rows(RdbStripeReader *sr)
{
	return sr->meta->hdr.chunk_group_rows;
}

/*
 * rdb_stripe_fetch_row_cols
 *		rdb_stripe_fetch_row for the columns marked in needed[] only (NULL:
 *		every column; rdb_stripe_fetch_row is that).
 */
void
rdb_stripe_fetch_row_cols(RdbStripeReader *sr, uint32 row, Datum *values,
						  bool *isnull, int natts, const bool *needed)
{
	StripeMeta *meta = sr->meta;
	const RdbStripeHeader *hdr = &meta->hdr;
	uint32		g;
	int			r;
	int			c;
	int			ncol;

	if (row >= hdr->nrows)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("rustydb stripe at block %u of relation \"%s\": row %u out of range (%u rows)",
			 meta->key.first_block, RelationGetRelationName(sr->rel), row,
			 hdr->nrows)));
	g = row / hdr->chunk_group_rows;
	r = (int) (row % hdr->chunk_group_rows);
	ncol = Min(natts, (int) hdr->ncolumns);

	for (c = 0; c < ncol; c++)
	{
		const RdbChunkRef *ref = &meta->dir[(Size) g * hdr->ncolumns + c];

		if ((needed != NULL && !needed[c]) || (ref->flags & RDB_CHUNK_ALL_NULL))
		{
			values[c] = (Datum) 0;
			isnull[c] = true;
			continue;
		}
		if (sr->cols[c].group != (int64) g)
			stripe_load_chunk(sr, c, g);
		if (sr->cols[c].whole)
		{
			values[c] = sr->cols[c].values[r];
			isnull[c] = sr->cols[c].isnull[r];
		}
		else
			values[c] = rdb_chunk_decode_row(sr->cols[c].dec, r, &isnull[c]);
	}
	for (; c < natts; c++)
	{
		values[c] = (Datum) 0;
		isnull[c] = true;
	}
}

/*
 * rdb_stripe_fetch_row_list
 *		rdb_stripe_fetch_row_cols for the ncols columns listed in cols[]
 *		(0-based, ascending), the scan's way: only those entries of values
 *		and isnull are set.  Columns the stripe does not have come back
 *		NULL (the caller substitutes their defaults).
 */
void
rdb_stripe_fetch_row_list(RdbStripeReader *sr, uint32 row, const int *cols,
						  int ncols, Datum *values, bool *isnull)
{
	StripeMeta *meta = sr->meta;
	const RdbStripeHeader *hdr = &meta->hdr;
	const RdbChunkRef *refs;
	uint32		g;
	int			r;
	int			i;

	if (row >= hdr->nrows)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("rustydb stripe at block %u of relation \"%s\": row %u out of range (%u rows)",
			 meta->key.first_block, RelationGetRelationName(sr->rel), row,
			 hdr->nrows)));
	g = row / hdr->chunk_group_rows;
	r = (int) (row % hdr->chunk_group_rows);
	refs = &meta->dir[(Size) g * hdr->ncolumns];

	for (i = 0; i < ncols; i++)
	{
		int			c = cols[i];
		StripeColumn *col;

		if (c >= (int) hdr->ncolumns || (refs[c].flags & RDB_CHUNK_ALL_NULL))
		{
			values[c] = (Datum) 0;
			isnull[c] = true;
			continue;
		}
		col = &sr->cols[c];
		if (col->group != (int64) g)
			stripe_load_chunk(sr, c, g);
		if (col->whole)
		{
			values[c] = col->values[r];
			isnull[c] = col->isnull[r];
		}
		else
			values[c] = rdb_chunk_decode_row(col->dec, r, &isnull[c]);
	}
}

/*
 * rdb_stripe_chunk_minmax
 *		Bounds of column c in chunk group g (see stripe.h), from the bounds
 *		section validated when the stripe was opened; no page is read.
 *		Format version 1 keeps no bounds.
 */
bool
rdb_stripe_chunk_minmax(RdbStripeReader *sr, uint32 g, int c, Datum *min,
						Datum *max, Oid *collation, uint32 *nnulls,
						uint32 *nrows)
{
	StripeMeta *meta = sr->meta;
	const RdbStripeHeader *hdr = &meta->hdr;
	const RdbChunkBounds *b;
	const RdbTypeInfo *type;
	char	   *p;

	if (g >= hdr->nchunkgroups)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("rustydb stripe: chunk group %u out of range (%u groups)",
			 g, hdr->nchunkgroups)));
	*nrows = Min(hdr->chunk_group_rows, hdr->nrows - g * hdr->chunk_group_rows);
	*collation = InvalidOid;
	if (c < 0 || c >= (int) hdr->ncolumns)
	{
		*nnulls = *nrows;
		return false;
	}
	*nnulls = meta->dir[(Size) g * hdr->ncolumns + c].nnulls;
	if (meta->chunkbounds == NULL)
		return false;
	*collation = meta->colbounds[c].collation;
	b = &meta->chunkbounds[(Size) g * hdr->ncolumns + c];
	if (b->min_len == 0)
		return false;
	type = &meta->types[c];
	p = meta->boundsdata + b->offset;
	*min = fetch_att(p, type->typbyval, type->typlen);
	*max = fetch_att(p + MAXALIGN(b->min_len), type->typbyval, type->typlen);
	return true;
}

/* the stripe's LSM level */
uint32
rdb_stripe_level(RdbStripeReader *sr)
{
	return sr->meta->level;
}

/* columns of the stripe (the relation's natts when it was written) */
uint32
rdb_stripe_ncolumns(RdbStripeReader *sr)
{
	return sr->meta->hdr.ncolumns;
}

/* directory entry of column c in chunk group g (NULL: no such column) */
const RdbChunkRef *
rdb_stripe_chunk_ref(RdbStripeReader *sr, uint32 g, int c)
{
	const RdbStripeHeader *hdr = &sr->meta->hdr;

	if (g >= hdr->nchunkgroups)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("rustydb stripe: chunk group %u out of range (%u groups)",
			 g, hdr->nchunkgroups)));
	if (c < 0 || c >= (int) hdr->ncolumns)
		return NULL;
	return &sr->meta->dir[(Size) g * hdr->ncolumns + c];
}

/* bytes of the values of column c in chunk group g before encoding */
int64
rdb_stripe_chunk_value_bytes(RdbStripeReader *sr, uint32 g, int c)
{
	const RdbChunkRef *ref = rdb_stripe_chunk_ref(sr, g, c);

	if (ref == NULL || (ref->flags & RDB_CHUNK_ALL_NULL))
		return 0;
	if (sr->meta->chunkbounds == NULL)
		return -1;
	return sr->meta->chunkbounds[(Size) g * sr->meta->hdr.ncolumns + c].value_bytes;
}

/* the type column c had when the stripe was written */
Oid
rdb_stripe_column_type(RdbStripeReader *sr, int c)
{
	if (c < 0 || c >= (int) sr->meta->hdr.ncolumns)
		return InvalidOid;
	return TupleDescAttr(sr->meta->formdesc, c)->atttypid;
}

/* ----------------------------------------------------------------
 * The chunk group cache (rdb_stripe_form_tuple)
 * ----------------------------------------------------------------
 */

static void
group_cache_remove(GroupCacheEntry *e)
{
	group_cache_held -= e->bytes;
	dlist_delete(&e->lru);
	MemoryContextDelete(e->cxt);
	hash_search(group_cache, &e->key, HASH_REMOVE, NULL);
}

/* forget the chunk groups of relid (every one for InvalidOid) */
static void
group_cache_forget(Oid relid)
{
	dlist_mutable_iter it;

	if (group_cache == NULL)
		return;
	dlist_foreach_modify(it, &group_lru)
	{
		GroupCacheEntry *e = dlist_container(GroupCacheEntry, lru, it.cur);

		if (!OidIsValid(relid) || e->relid == relid)
			group_cache_remove(e);
	}
}

/* evict least recently used chunk groups until the cache fits its budget */
static void
group_cache_trim(void)
{
	Size		budget = (Size) rdb_stripe_cache_size * 1024;

	while (group_cache_held > budget && !dlist_is_empty(&group_lru))
		group_cache_remove(dlist_container(GroupCacheEntry, lru,
										   dlist_tail_node(&group_lru)));
}

/*
 * group_cache_get
 *		The cache entry of chunk group g of the stripe, made the most
 *		recently used; a new one without any chunk if there is none.
 */
static GroupCacheEntry *
group_cache_get(StripeMeta *meta, Relation rel, uint32 g)
{
	GroupCacheKey key;
	GroupCacheEntry *e;
	MemoryContext cxt;
	RdbChunkDecoder **dec;
	bool		found;

	if (group_cache == NULL)
	{
		HASHCTL		ctl;
		MemoryContext old;

		stripe_register_callback();
		group_cache_cxt = AllocSetContextCreate(TopMemoryContext,
												"rustydb chunk group cache",
												ALLOCSET_SMALL_SIZES);
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(GroupCacheKey);
		ctl.entrysize = sizeof(GroupCacheEntry);
		ctl.hcxt = group_cache_cxt;
		group_cache = hash_create("rustydb chunk group cache", 256, &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		old = MemoryContextSwitchTo(group_cache_cxt);
		initStringInfo(&group_stored);
		MemoryContextSwitchTo(old);
	}

	memset(&key, 0, sizeof(key));
	key.node = meta->key.node;
	key.first_block = meta->key.first_block;
	key.group = g;
	e = hash_search(group_cache, &key, HASH_FIND, NULL);
	if (e)
	{
		dlist_move_head(&group_lru, &e->lru);
		return e;
	}

	/* allocate first, so that an error leaves no half-made hash entry */
	cxt = AllocSetContextCreate(group_cache_cxt, "rustydb chunk group",
								ALLOCSET_SMALL_SIZES);
	dec = MemoryContextAllocZero(cxt, meta->hdr.ncolumns * sizeof(RdbChunkDecoder *));
	e = hash_search(group_cache, &key, HASH_ENTER, &found);
	Assert(!found);
	e->relid = RelationGetRelid(rel);
	e->cxt = cxt;
	e->ncolumns = meta->hdr.ncolumns;
	e->dec = dec;
	e->bytes = MemoryContextMemAllocated(cxt, false);
	group_cache_held += e->bytes;
	dlist_push_head(&group_lru, &e->lru);
	return e;
}

/*
 * group_cache_load
 *		Decompress column c of the entry's chunk group into the entry.  On
 *		error the column stays unloaded (what was allocated stays in the
 *		entry's context until the entry goes).
 */
static void
group_cache_load(GroupCacheEntry *e, StripeMeta *meta, Relation rel, int c)
{
	const RdbChunkRef *ref = &meta->dir[(Size) e->key.group * meta->hdr.ncolumns + c];
	StringInfoData raw;
	MemoryContext old;
	Size		bytes;

	old = MemoryContextSwitchTo(e->cxt);
	/* exactly the chunk's size: rdb_decompress then needs no more */
	raw.data = palloc(ref->raw_len + 1);
	raw.maxlen = ref->raw_len + 1;
	raw.len = 0;
	raw.cursor = 0;
	e->dec[c] = stripe_decode_chunk(meta, rel, c, e->key.group, &group_stored,
									&raw);
	MemoryContextSwitchTo(old);

	bytes = MemoryContextMemAllocated(e->cxt, false);
	group_cache_held += bytes - e->bytes;
	e->bytes = bytes;
}

/*
 * rdb_stripe_form_tuple
 *		Row `row` of the stripe at first_block as a heap tuple palloc'd in
 *		CurrentMemoryContext, with the transaction fields of its stub.
 *
 * The tuple has the stripe's ncolumns attributes (heap semantics give the
 * columns added since then their missing/default values when deformed
 * with the relation's descriptor).  From the stub header (stub_len bytes;
 * NULL for none) it takes t_choice (xmin, xmax, cid/xvac), t_ctid, the
 * HEAP_XACT_MASK bits of t_infomask and the HEAP2_XACT_MASK bits of
 * t_infomask2; HASNULL/HASVARWIDTH/HASEXTERNAL and the attribute count
 * come from the formed tuple.  t_tableOid is set; t_self is left invalid
 * for the caller (who knows the row's TID) to set.  Nothing in the result
 * points into the cache.
 */
HeapTuple
rdb_stripe_form_tuple(Relation rel, BlockNumber first_block, uint32 row,
					  HeapTupleHeader stub, uint32 stub_len)
{
	StripeMeta *meta = stripe_meta_get(rel, first_block);
	const RdbStripeHeader *hdr = &meta->hdr;
	GroupCacheEntry *e;
	HeapTuple	tup;
	uint32		g;
	int			r;
	int			c;

	if (row >= hdr->nrows)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("rustydb stripe at block %u of relation \"%s\": row %u out of range (%u rows)",
			 first_block, RelationGetRelationName(rel), row, hdr->nrows)));
	if (meta->values == NULL)
	{
		meta->values = MemoryContextAlloc(meta->cxt, hdr->ncolumns * sizeof(Datum));
		meta->isnull = MemoryContextAlloc(meta->cxt, hdr->ncolumns * sizeof(bool));
	}
	row = stripe_meta_position(meta, rel, row);
	g = row / hdr->chunk_group_rows;
	r = (int) (row % hdr->chunk_group_rows);

	/*
	 * Decode the row from the cached chunk group.  Nothing between here and
	 * heap_form_tuple accepts invalidations or trims the cache, so the entry
	 * and the chunks that by-reference Datums point into stay.
	 */
	e = group_cache_get(meta, rel, g);
	for (c = 0; c < hdr->ncolumns; c++)
	{
		const RdbChunkRef *ref = &meta->dir[(Size) g * hdr->ncolumns + c];

		if (ref->flags & RDB_CHUNK_ALL_NULL)
		{
			meta->values[c] = (Datum) 0;
			meta->isnull[c] = true;
			continue;
		}
		if (e->dec[c] == NULL)
			group_cache_load(e, meta, rel, c);
		meta->values[c] = rdb_chunk_decode_row(e->dec[c], r, &meta->isnull[c]);
	}
	/* the layout the row was written with (see RdbStripeColumn) */
	tup = heap_form_tuple(meta->formdesc, meta->values, meta->isnull);

	if (stub != NULL)
	{
		HeapTupleHeader td = tup->t_data;

		if (stub_len < SizeofHeapTupleHeader)
			ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("rustydb stripe row stub of %u bytes is too short", stub_len)));
		td->t_choice = stub->t_choice;
		td->t_ctid = stub->t_ctid;
		td->t_infomask = (td->t_infomask & ~HEAP_XACT_MASK) |
			(stub->t_infomask & HEAP_XACT_MASK);
		td->t_infomask2 = (td->t_infomask2 & ~HEAP2_XACT_MASK) |
			(stub->t_infomask2 & HEAP2_XACT_MASK);
	}
	tup->t_tableOid = RelationGetRelid(rel);
	ItemPointerSetInvalid(&tup->t_self);

	group_cache_trim();
	return tup;
}
