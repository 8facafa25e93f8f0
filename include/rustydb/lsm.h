/*-------------------------------------------------------------------------
 *
 * lsm.h
 *	  The LSM layer of a rustydb table: flushing L0 rows into stripes.
 *
 * Flush (src/lsm/flush.c) moves the values of L0 rows every transaction
 * sees into columnar stripes (stripe.h) and leaves stubs (l0.h) behind.
 * Compaction is not built yet.
 *
 * IDENTIFICATION
 *	  include/rustydb/lsm.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RUSTYDB_LSM_H
#define RUSTYDB_LSM_H

#include "storage/block.h"
#include "utils/relcache.h"

/* what one flush did */
typedef struct RdbFlushStats
{
	int64		rows_flushed;	/* rows now stubs in a stripe */
	int64		rows_skipped;	/* copied, but changed or page busy: stay */
	int64		rows_left;		/* not yet visible to all, locked, ... */
	int64		pages_scanned;
	int64		pages_converted;
	int64		pages_skipped;	/* cleanup lock not free at once */
	int64		pages_retired;	/* pages whose rows all went: now free */
	int			stripes;
	int64		stripe_bytes;
	int64		raw_bytes;
	bool		stopped_early;	/* stopped by max_stripes or stop() */
} RdbFlushStats;

/* GUC defaults of the flush knobs (guc.c); tables override them (options.h) */
extern int	rdb_flush_rows;
extern int	rdb_flush_stripe_rows;
extern int	rdb_flush_chunk_group_rows;
extern int	rdb_flush_compression;
extern int	rdb_flush_compression_level;

/* what a running flush is doing (rustydb.flush_progress) */
typedef enum RdbFlushPhase
{
	RDB_FLUSH_PHASE_SCANNING = 1,	/* reading L0 pages, copying candidates */
	RDB_FLUSH_PHASE_WRITING,	/* encoding, compressing, writing a stripe */
	RDB_FLUSH_PHASE_CONVERTING	/* turning the stripe's rows into stubs */
} RdbFlushPhase;

/* flush_progress.c */
extern void rdb_flush_shmem_request(void);
extern void rdb_flush_shmem_startup(void);
extern void rdb_flush_progress_begin(Relation rel, BlockNumber nblocks,
									 bool background);
extern void rdb_flush_progress_update(RdbFlushPhase phase, BlockNumber blkno,
									  int64 rows_collected,
									  const RdbFlushStats *stats);
extern void rdb_flush_progress_end(Relation rel, const RdbFlushStats *stats);
extern void rdb_flush_forget(Oid relid);

/* flush.c */
extern int64 rdb_flush_relation(Relation rel, RdbFlushStats *stats,
								int max_stripes, bool (*stop) (void),
								bool background);
extern void rdb_flush_background(bool (*stop) (void));

#endif							/* RUSTYDB_LSM_H */
