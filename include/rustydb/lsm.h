/*-------------------------------------------------------------------------
 *
 * lsm.h
 *	  The LSM layer of a rustydb table: flushing L0 rows into stripes.
 *
 * Flush (src/lsm/flush.c) moves the values of L0 rows every transaction
 * sees into columnar stripes (stripe.h) and leaves stubs (l0.h) behind.
 * Compaction (src/lsm/compact.c) rewrites stripes into fewer, larger ones
 * of the next level, drops the rows nothing refers to any more, and gives
 * the space of the stripes it replaced back for later stripes.
 *
 * IDENTIFICATION
 *	  include/rustydb/lsm.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RUSTYDB_LSM_H
#define RUSTYDB_LSM_H

#include "access/heapam.h"
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
	int64		rows_restubbed;	/* moved before, copied again with their page */
	int64		rows_done;		/* moved or retired, their page settled as far
								 * as they go: not rows of a running
								 * transaction, whose page needs a later look */
	int			stripes;
	int64		stripe_bytes;
	int64		raw_bytes;
	bool		stopped_early;	/* stopped by max_stripes or stop() */
} RdbFlushStats;

/* GUC defaults of the flush knobs (guc.c); tables override them (options.h) */
extern int	rdb_flush_rows;
extern bool rdb_flush_running;
extern int	rdb_writer_flush_rows;
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

/*
 * flush_demand.c: commits that give a table flush_rows new rows wake the
 * worker (rustydb.flush_naptime is how long it waits otherwise)
 */
extern int	rdb_flush_naptime_ms;
extern void rdb_flush_demand_shmem_request(void);
extern void rdb_flush_demand_shmem_startup(void);
extern bool rdb_flush_demand_count(Relation rel, int64 n);
extern uint64 rdb_flush_demand_wakes(void);
extern int64 rdb_flush_demand_peek(Oid relid);
extern int64 rdb_flush_demand_moved(Oid relid, int64 rows);
extern void rdb_flush_demand_forget(Oid relid);
extern void rdb_flush_demand_prune(const Oid *relids, int nrelids);
extern bool rdb_flush_demand_sweep_due(void);
extern void rdb_flush_demand_swept(void);

/* flush.c */
extern int64 rdb_flush_relation(Relation rel, RdbFlushStats *stats,
								int max_stripes, bool (*stop) (void),
								bool background);
extern int	rdb_flush_background(bool (*stop) (void), bool compact);
extern int64 rdb_flush_writer(Relation rel);
extern void rdb_flush_writer_note(Relation rel, BlockNumber blkno);
extern Relation rdb_lsm_open_table(Oid relid, const char *what,
								   const char *verb);

/*
 * The table's stripe-reference lock (flush.c): one holder at a time among
 * the flushes (background, rustydb.flush(), a writer's own), VACUUM and a
 * compaction's survey.  A writer's own flush takes it instead of the
 * table's ShareUpdateExclusiveLock, so it runs while a compaction step
 * writes and switches (which hold that lock for seconds) but never while a
 * survey decides which stripes nothing refers to.
 */
extern bool rdb_stripe_refs_lock(Relation rel, bool wait);
extern bool rdb_stripe_refs_lock_unless(Relation rel, bool (*stop) (void));
extern void rdb_stripe_refs_unlock(Relation rel);

/* ------------------------------------------------------------------------
 * Compaction (compact.c, compact_progress.c)
 * ------------------------------------------------------------------------
 */

/* GUCs (guc.c); tables override level_ratio and max_stripe_rows */
extern int	rdb_compaction_level_ratio;
extern int	rdb_compaction_max_stripe_rows;
extern double rdb_compaction_dead_fraction;
extern int	rdb_compaction_max_rows;
extern bool rdb_enable_background_compaction;
extern int	rdb_compaction_pause_phase;
extern int	rdb_compaction_pause_lock;

/* what a running compaction is doing (rustydb.compaction_progress) */
typedef enum RdbCompactPhase
{
	RDB_COMPACT_PHASE_NONE = 0,
	RDB_COMPACT_PHASE_SURVEYING,	/* reading every page: who refers to what */
	RDB_COMPACT_PHASE_WRITING,	/* reading the input stripes, writing outputs */
	RDB_COMPACT_PHASE_SWITCHING,	/* pointing rows at the outputs */
	RDB_COMPACT_PHASE_FREEING	/* giving unreferenced stripe space back */
} RdbCompactPhase;

/* what one compaction run did */
typedef struct RdbCompactStats
{
	int			steps;			/* merges / rewrites completed */
	int			stripes_in;		/* stripes rewritten */
	int			stripes_out;	/* stripes written */
	int64		rows_read;		/* rows copied into the outputs */
	int64		rows_dropped;	/* stripe rows nothing referred to */
	int64		rows_switched;	/* rows now pointing at an output */
	int64		rows_unswitched;	/* left pointing at an input (page busy) */
	int64		bytes_written;
	int64		blocks_freed;	/* stripe pages given back */
	int64		blocks_pending;	/* unreferenced, not yet given back */
	int			level;			/* level of the last step's inputs */
	int			out_level;
	bool		put_off;		/* a background step yielded before writing */
} RdbCompactStats;

extern int64 rdb_compact_relation(Relation rel, RdbCompactStats *stats,
								  int max_steps, bool (*stop) (void),
								  bool background);
extern bool rdb_compact_gave_up(void);
extern bool rdb_compact_background_table(Relation rel, bool flushed,
										 bool (*stop) (void));

/* compact_progress.c */
extern void rdb_compact_shmem_request(void);
extern void rdb_compact_shmem_startup(void);
extern void rdb_compact_progress_begin(Relation rel, bool background);
extern void rdb_compact_progress_update(RdbCompactPhase phase, int stripes_total,
										int64 rows_total,
										const RdbCompactStats *stats);
extern void rdb_compact_progress_end(Relation rel, const RdbCompactStats *stats,
									 const char *error);
extern bool rdb_compact_backoff(Relation rel);
extern void rdb_compact_forget(Oid relid);

/*
 * rewrite.c: the rows of a CLUSTER / VACUUM FULL rewrite that every
 * snapshot sees go straight into stripes of the new relfilenode, as retired
 * generations that never had a page
 */
typedef struct RdbRewriteStripes RdbRewriteStripes;
extern bool rdb_rewrite_row_fits(RdbRewriteStripes *rw, HeapTuple tup,
								 HTSV_Result status, TransactionId oldest_xmin);
extern void rdb_rewrite_settle(HeapTuple tup);
extern bool rdb_rewrite_row_settled(HeapTuple tup);
extern RdbRewriteStripes *rdb_rewrite_begin(Relation rel);
extern void rdb_rewrite_add(RdbRewriteStripes *rw, TupleDesc desc,
							Datum *values, bool *isnull);
extern int64 rdb_rewrite_end(RdbRewriteStripes *rw,
							 void (*to_l0) (void *arg, HeapTuple tup),
							 void *arg);

#endif							/* RUSTYDB_LSM_H */
