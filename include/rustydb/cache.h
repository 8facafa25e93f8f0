/*-------------------------------------------------------------------------
 *
 * cache.h
 *	  The shared chunk cache: rustydb's buffer pool of decompressed column
 *	  chunks of stripes, in shared memory, used by every backend.
 *
 * A chunk's stored bytes (a compression frame, see compress.h) are read out
 * of the stripe's pages, their XXH3 checksum verified, and decompressed; the
 * result, the encoded chunk (encoding.h), is what the cache keeps.  "Decoded"
 * in the sense means exactly this: decompressed and verified, not
 * expanded into Datums -- the encoded form is what the chunk decoders read
 * directly, it is several times smaller than an array of Datums (bitpacked,
 * dictionary, RLE), and it holds no pointers, so it can live in shared memory
 * and be copied out as plain bytes.
 *
 * Keys (RdbChunkKey) carry the relfilenode, the stripe's first block, the
 * stripe header's dir_checksum, the chunk's own stored-bytes checksum, the
 * column and the chunk group: an entry can only be served for a block range
 * that holds the very same stripe bytes (see src/cache/README.md).
 *
 * Layout, locking, policies: src/cache/chunk_cache.c and src/cache/README.md.
 *
 * IDENTIFICATION
 *	  include/rustydb/cache.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RUSTYDB_CACHE_H
#define RUSTYDB_CACHE_H

#include "storage/block.h"
#include "storage/relfilenode.h"
#include "utils/relcache.h"

typedef struct RdbChunkKey
{
	RelFileNode node;
	BlockNumber first_block;	/* of the stripe */
	uint32		group;			/* chunk group */
	uint32		column;			/* 0-based */
	uint64		dir_checksum;	/* the stripe header's */
	uint64		chunk_checksum; /* XXH3 of the chunk's stored bytes */
} RdbChunkKey;

typedef enum RdbCachePolicy
{
	RDB_CACHE_CLOCK,
	RDB_CACHE_LRU2,
	RDB_CACHE_2Q
} RdbCachePolicy;

/* guc.c */
extern int	rdb_chunk_cache_size;	/* kB, PGC_POSTMASTER; 0: off */
extern int	rdb_chunk_cache_policy; /* RdbCachePolicy, PGC_POSTMASTER */
extern bool rdb_enable_chunk_cache; /* PGC_USERSET: this session uses it */

/* chunk_cache.c */
extern void rdb_cache_shmem_request(void);
extern void rdb_cache_shmem_startup(void);
extern bool rdb_cache_enabled(void);
extern bool rdb_cache_lookup(const RdbChunkKey *key, Relation rel,
							 uint64 page_id, char *dst, Size len);
extern void rdb_cache_insert(const RdbChunkKey *key, Relation rel,
							 uint64 page_id, const char *data, Size len);
extern const char *rdb_cache_policy_name(void);

/* for PoolStats (bgworker/worker.c) */
extern bool rdb_cache_take_delta(Oid dbid, double *hit_rate,
								 int64 *total_pages, int64 *used_pages);

#endif							/* RUSTYDB_CACHE_H */
