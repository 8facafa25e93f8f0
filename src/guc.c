/*-------------------------------------------------------------------------
 *
 * guc.c
 *	  Every rustydb.* configuration parameter, in one place.
 *
 * The L0 row store follows heap's settings (fillfactor, autovacuum,
 * vacuum_freeze_*).  The parameters here steer storage events: the ring's
 * size (shared memory, so PGC_POSTMASTER), what is recorded and sampled,
 * how often each channel is drained into NOTIFYs, backpressure, and what
 * NOTIFY may expose database-wide.  The prefix is reserved, so a misspelt
 * rustydb.* setting is an error rather than a silently ignored custom variable.
 *
 * IDENTIFICATION
 *	  src/guc.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "miscadmin.h"
#include "utils/guc.h"

#include "rustydb/rustydb.h"
#include "rustydb/cache.h"
#include "rustydb/colscan.h"
#include "rustydb/events.h"
#include "rustydb/compress.h"
#include "rustydb/lsm.h"
#include "rustydb/stripe.h"
#include "stripe/stripe_int.h"

bool		rdb_events_enabled = true;
int			rdb_event_ring_size = 16384;
double		rdb_events_sample_rate = 0.0;
double		rdb_notify_queue_threshold = 0.5;
int			rdb_notify_scope = RDB_NOTIFY_PUBLIC;
int			rdb_notify_interval_ms[RDB_NUM_CHANNELS] = {100, 1000, 100, 5000, 500, 1000};
int			rdb_worker_idle_timeout_s = 5;
int			rdb_max_event_workers = 2;

static const struct config_enum_entry notify_scope_options[] = {
	{"public", RDB_NOTIFY_PUBLIC, false},
	{"all", RDB_NOTIFY_ALL, false},
	{"anonymous", RDB_NOTIFY_ANONYMOUS, false},
	{"none", RDB_NOTIFY_NONE, false},
	{NULL, 0, false}
};

static const struct config_enum_entry cache_policy_options[] = {
	{"clock", RDB_CACHE_CLOCK, false},
	{"lru2", RDB_CACHE_LRU2, false},
	{"2q", RDB_CACHE_2Q, false},
	{NULL, 0, false}
};

static const struct config_enum_entry compression_options[] = {
	{"none", RDB_CODEC_NONE, false},
	{"lz4", RDB_CODEC_LZ4, false},
	{"zstd", RDB_CODEC_ZSTD, false},
	{NULL, 0, false}
};

static const struct config_enum_entry compaction_phase_options[] = {
	{"none", RDB_COMPACT_PHASE_NONE, false},
	{"writing", RDB_COMPACT_PHASE_WRITING, false},
	{"switching", RDB_COMPACT_PHASE_SWITCHING, false},
	{"freeing", RDB_COMPACT_PHASE_FREEING, false},
	{NULL, 0, false}
};

/* GUC names of the per-channel intervals, in RdbEventChannel order */
static const char *const interval_names[RDB_NUM_CHANNELS] = {
	"rustydb.notify_interval_buffer_pool",
	"rustydb.notify_interval_lsm",
	"rustydb.notify_interval_io",
	"rustydb.notify_interval_tiers",
	"rustydb.notify_interval_pages",
	"rustydb.notify_interval_columnar"
};

/*
 * rdb_guc_init
 *		Define the module's GUCs; called from _PG_init while preloading.
 */
void
rdb_guc_init(void)
{
	int			ch;

	DefineCustomBoolVariable("rustydb.events",
							 "Records storage events (rustydb.events view, LISTEN/NOTIFY channels).",
							 NULL,
							 &rdb_events_enabled, true,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("rustydb.event_ring_size",
							"Number of storage events the shared-memory ring holds.",
							"When the ring is full the oldest events are overwritten; "
							"undelivered ones are counted as dropped in rustydb.event_stats.",
							&rdb_event_ring_size, 16384, 64, 4 * 1024 * 1024,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);

	DefineCustomRealVariable("rustydb.events_sample_rate",
							 "Fraction of high-frequency events (ReadCompleted, WriteCompleted, PageHit, PageMiss) sent one by one.",
							 "0 sends them only aggregated into IoStats or PoolStats; 1 sends every one as well.",
							 &rdb_events_sample_rate, 0.0, 0.0, 1.0,
							 PGC_SUSET, 0, NULL, NULL, NULL);

	DefineCustomRealVariable("rustydb.notify_queue_threshold",
							 "NOTIFY queue usage above which the event worker sheds events instead of sending them.",
							 "Compared with pg_notification_queue_usage(); shed events are counted in rustydb.event_stats.",
							 &rdb_notify_queue_threshold, 0.5, 0.0, 1.0,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);

	DefineCustomEnumVariable("rustydb.notify_scope",
							 "What storage-event NOTIFYs expose to every listener of the database.",
							 "Any user may LISTEN.  public: full payloads only for tables PUBLIC may SELECT, "
							 "others anonymised (no table or column name, no relation OID); all: full "
							 "payloads for every table; anonymous: every payload anonymised; none: no "
							 "NOTIFY at all (the views, which check privileges, still show the events).",
							 &rdb_notify_scope, RDB_NOTIFY_PUBLIC, notify_scope_options,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);

	for (ch = 0; ch < RDB_NUM_CHANNELS; ch++)
		DefineCustomIntVariable(interval_names[ch],
								"How often the event worker sends this channel's events.",
								NULL,
								&rdb_notify_interval_ms[ch], rdb_notify_interval_ms[ch],
								10, 3600 * 1000,
								PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);

	DefineCustomIntVariable("rustydb.worker_idle_timeout",
							"How long a database's event worker stays without events before it exits.",
							"The launcher starts it again when events arrive.  A worker leaves earlier "
							"when another database waits for a worker slot, and at once when DROP "
							"DATABASE, ALTER DATABASE RENAME or CREATE DATABASE ... TEMPLATE needs its "
							"database.",
							&rdb_worker_idle_timeout_s, 5, 1, 86400,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);

	DefineCustomIntVariable("rustydb.max_event_workers",
							"Maximum number of event workers running at the same time.",
							"Each takes a max_worker_processes slot (plus one for the launcher); "
							"databases with events beyond this many are served in turn.",
							&rdb_max_event_workers, 2, 1, 64,
							PGC_SIGHUP, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("rustydb.flush_rows",
							"Default L0 row count at which a table is flushed in the background.",
							"0 means never in the background.  A table's WITH (flush_rows = ...) "
							"overrides it.  The database's storage-event worker flushes a table "
							"once this many rows were inserted or updated since it last flushed "
							"it; rustydb.flush() flushes on demand whatever this says.",
							&rdb_flush_rows, 0, 0, INT_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomBoolVariable("rustydb.flush_running",
							 "Default of whether flush moves rows of transactions still running.",
							 "Their headers stay in L0 as stubs, so no snapshot can tell; the room "
							 "their values leave takes the transaction's next rows, and a "
							 "transaction publishes its count to the background flush each time "
							 "it has written flush_rows rows.  A table's WITH (flush_running = ...) "
							 "overrides it.",
							 &rdb_flush_running, false,
							 PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("rustydb.writer_flush_rows",
							"Default number of rows after which a transaction moves the rows it "
							"wrote into a table into a stripe itself.",
							"0 means never.  The inserting backend moves its own rows, in the "
							"statement, each time it has written this many into the table since "
							"it last did, if the table's stripe-reference lock is free at once; "
							"its L0 pages then hold stubs, not rows.  A table's "
							"WITH (writer_flush_rows = ...) overrides it.  Superuser-only: "
							"whoever may only INSERT into a table would otherwise choose "
							"how it is stored (at 1, a stripe page a row).",
							&rdb_writer_flush_rows, 0, 0, INT_MAX,
							PGC_SUSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("rustydb.flush_naptime",
							"How often the storage-event worker looks for tables to flush.",
							"Besides, a commit that gives a table flush_rows new rows since its "
							"last flush wakes the worker at once.",
							&rdb_flush_naptime_ms, 2000, 100, 3600000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);

	DefineCustomEnumVariable("rustydb.compression",
							 "Default codec of the column chunks that flush writes.",
							 "A table's WITH (compression = ...) overrides it.",
							 &rdb_flush_compression, RDB_CODEC_ZSTD,
							 compression_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("rustydb.compression_level",
							"Default compression level of zstd chunks that flush writes.",
							"lz4 and none ignore it.  A table's WITH (compression_level = ...) overrides it.",
							&rdb_flush_compression_level, 3, 1, 19,
							PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("rustydb.chunk_group_rows",
							"Default rows per chunk group of the stripes flush writes.",
							"Each column of a chunk group is one chunk, encoded and compressed "
							"on its own.  A table's WITH (chunk_group_rows = ...) overrides it.",
							&rdb_flush_chunk_group_rows, 10000, 1000, 65536,
							PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("rustydb.stripe_rows",
							"Default of the most rows one stripe written by flush holds.",
							"A table's WITH (stripe_rows = ...) overrides it.",
							&rdb_flush_stripe_rows, 150000, 1000, 10000000,
							PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("rustydb.level_ratio",
							"Default of how many stripes of one level compaction merges into the next.",
							"A table's WITH (level_ratio = ...) overrides it.",
							&rdb_compaction_level_ratio, 4, 2, 64,
							PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("rustydb.max_stripe_rows",
							"Default of the most rows one stripe written by compaction holds.",
							"Stripes with more than half of it in live rows are full: compaction "
							"merges them no further.  A table's WITH (max_stripe_rows = ...) overrides it.",
							&rdb_compaction_max_stripe_rows, 1000000, 1000, 10000000,
							PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomRealVariable("rustydb.compaction_dead_fraction",
							 "Share of a stripe's rows that, once dead, makes compaction rewrite it.",
							 "Dead rows are those no TID leads to any more (VACUUM removed them).",
							 &rdb_compaction_dead_fraction, 0.2, 0.01, 1.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("rustydb.compaction_max_rows",
							"Most rows one compaction step reads.",
							"Bounds the work (and memory) of a step; a level is merged in "
							"several steps when its stripes hold more.",
							&rdb_compaction_max_rows, 4000000, 1000, INT_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomBoolVariable("rustydb.enable_background_compaction",
							 "Lets the storage-event worker compact rustydb tables.",
							 "It looks at a table after flushing it and once a minute, and does "
							 "one compaction step per table and round.",
							 &rdb_enable_background_compaction, true,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);

	/* Test hooks: make a compaction wait at a phase for an advisory lock */
	DefineCustomEnumVariable("rustydb.compaction_pause_phase",
							 "Phase at which compactions wait for rustydb.compaction_pause_lock (for tests).",
							 NULL,
							 &rdb_compaction_pause_phase, RDB_COMPACT_PHASE_NONE,
							 compaction_phase_options,
							 PGC_SUSET, GUC_NOT_IN_SAMPLE, NULL, NULL, NULL);

	DefineCustomIntVariable("rustydb.compaction_pause_lock",
							"Advisory lock key a compaction waits for at rustydb.compaction_pause_phase (for tests).",
							"It takes the lock pg_advisory_lock(key) takes, in share mode, and "
							"releases it at once; 0 never waits.",
							&rdb_compaction_pause_lock, 0, 0, INT_MAX,
							PGC_SUSET, GUC_NOT_IN_SAMPLE, NULL, NULL, NULL);

	DefineCustomBoolVariable("rustydb.enable_columnar_scan",
							 "Lets the planner use the columnar scan (RustydbScan) on rustydb tables with stripes.",
							 "It decodes only the columns a query needs and skips chunk groups "
							 "that cannot match its quals; off, such tables are read by the "
							 "ordinary sequential scan.",
							 &rdb_enable_columnar_scan, true,
							 PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomBoolVariable("rustydb.enable_aggregate_pushdown",
							 "Lets the planner compute plain aggregates inside the columnar scan (RustydbAgg).",
							 "Aggregates without GROUP BY over a rustydb table read by the columnar "
							 "scan are fed from the scan's rows directly, without the Aggregate node; "
							 "off, the ordinary Aggregate node does it.",
							 &rdb_enable_aggregate_pushdown, true,
							 PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("rustydb.stripe_cache_size",
							"Memory for decompressed chunk groups of flushed rows, per backend.",
							"Index lookups and other single-row reads of flushed rows keep the chunk "
							"groups they decompressed, least recently used out first, within this "
							"size.  0 keeps none (every such read decompresses again).",
							&rdb_stripe_cache_size, RDB_STRIPE_CACHE_SIZE_DEFAULT, 0,
							MAX_KILOBYTES,
							PGC_USERSET, GUC_UNIT_KB, NULL, NULL, NULL);

	DefineCustomIntVariable("rustydb.stripe_meta_cache_size",
							"Memory for the headers, directories and chunk bounds of stripes, per backend.",
							"Scans and lookups read a stripe's header, directory and chunk bounds "
							"once and keep them, least recently used out first, within this size.  "
							"Make it large enough for the stripes of the tables a backend scans, "
							"or every scan reads them again.",
							&rdb_stripe_meta_cache_size, RDB_STRIPE_META_CACHE_SIZE_DEFAULT, 0,
							MAX_KILOBYTES,
							PGC_USERSET, GUC_UNIT_KB, NULL, NULL, NULL);

	DefineCustomIntVariable("rustydb.chunk_cache_size",
							"Shared memory for decompressed column chunks of stripes (the chunk cache).",
							"Allocated at server start and shared by every backend; it bounds the "
							"chunks' 8 kB pages and the cache's own hash table and bookkeeping.  "
							"0 disables the cache.",
							&rdb_chunk_cache_size, 64 * 1024, 0, MAX_KILOBYTES,
							PGC_POSTMASTER, GUC_UNIT_KB, NULL, NULL, NULL);

	DefineCustomEnumVariable("rustydb.chunk_cache_policy",
							 "Eviction policy of the chunk cache.",
							 "clock (second chance), lru2 (LRU-K with K = 2) or 2q; lru2 and 2q "
							 "keep a sequential scan from flushing chunks that are used again.",
							 &rdb_chunk_cache_policy, RDB_CACHE_CLOCK,
							 cache_policy_options,
							 PGC_POSTMASTER, 0, NULL, NULL, NULL);

	DefineCustomBoolVariable("rustydb.enable_chunk_cache",
							 "Lets this session read chunks through the shared chunk cache.",
							 "Off, every chunk the session reads is read from its pages, verified "
							 "and decompressed, and nothing is added to the cache (for comparisons).",
							 &rdb_enable_chunk_cache, true,
							 PGC_USERSET, 0, NULL, NULL, NULL);

	/*
	 * Developer option: lets the tests write format version 1 stripes (no
	 * bounds) and check that they are still read.
	 */
	DefineCustomIntVariable("rustydb.stripe_format_version",
							"Format version of the stripes written (developer option, for tests).",
							"2 keeps chunk bounds (min/max); 1 writes the older format without them.",
							&rdb_stripe_format_version, RDB_STRIPE_VERSION,
							RDB_STRIPE_VERSION_V1, RDB_STRIPE_VERSION,
							PGC_SUSET, GUC_NOT_IN_SAMPLE, NULL, NULL, NULL);

	MarkGUCPrefixReserved("rustydb");
}
