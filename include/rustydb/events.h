/*-------------------------------------------------------------------------
 *
 * events.h
 *	  Storage events: what the engine did, recorded in a shared-memory ring
 *	  and published as JSON on six LISTEN/NOTIFY channels and in SQL views.
 *
 * Backends call rdb_events_publish() at the point where the engine did the
 * thing, with the numbers it had; a background worker per database turns the
 * records into NOTIFYs (bgworker/), and the views read the ring directly
 * (events/events_views.c).  Field names, types and message shapes are those
 * of the seed schema (seeds/000_*.txt and the JSON files in test_data/); the table of
 * variants in payload.c is the single place that knows them.
 *
 * IDENTIFICATION
 *	  include/rustydb/events.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RUSTYDB_EVENTS_H
#define RUSTYDB_EVENTS_H

#include "lib/stringinfo.h"
#include "storage/latch.h"
#include "storage/block.h"
#include "utils/relcache.h"
#include "utils/timestamp.h"

typedef enum RdbEventChannel
{
	RDB_CH_BUFFER_POOL,
	RDB_CH_LSM,
	RDB_CH_IO,
	RDB_CH_TIERS,
	RDB_CH_PAGES,
	RDB_CH_COLUMNAR
} RdbEventChannel;

#define RDB_NUM_CHANNELS	6

typedef enum RdbEventVariant
{
	RDB_EV_PAGE_HIT,
	RDB_EV_PAGE_MISS,
	RDB_EV_PAGE_EVICTED,
	RDB_EV_PAGE_FLUSHED,
	RDB_EV_POOL_STATS,
	RDB_EV_MEMTABLE_FLUSHED,
	RDB_EV_COMPACTION_STARTED,
	RDB_EV_COMPACTION_COMPLETED,
	RDB_EV_LEVEL_MIGRATION,
	RDB_EV_READ_COMPLETED,
	RDB_EV_WRITE_COMPLETED,
	RDB_EV_VECTORED_READ,
	RDB_EV_VECTORED_WRITE,
	RDB_EV_IO_STATS,
	RDB_EV_PAGE_MIGRATED,
	RDB_EV_TIER_STATS,
	RDB_EV_PAGE_ALLOCATED,
	RDB_EV_PAGE_SPLIT,
	RDB_EV_PAGE_MERGED,
	RDB_EV_PAGE_COMPACTED,
	RDB_EV_CHECKSUM_FAILURE,
	RDB_EV_BATCH_INSERTED,
	RDB_EV_COLUMN_SCANNED,
	RDB_EV_ENCODING_CHANGED
} RdbEventVariant;

#define RDB_NUM_VARIANTS	24

/* per event: up to this many numeric and text field values */
#define RDB_EVENT_MAX_NUMS	7
#define RDB_EVENT_MAX_TEXTS	4
/*
 * Room for a full schema-qualified name: schema (NAMEDATALEN - 1 bytes),
 * '.', table (NAMEDATALEN - 1 bytes) and the terminator.  Longer texts are
 * cut on a character boundary (pg_mbcliplen), never inside a character.
 */
#define RDB_EVENT_TEXT_LEN	(2 * NAMEDATALEN)

/* how an event was delivered, for rustydb.event_stats */
typedef enum RdbEventCounter
{
	RDB_COUNT_EMITTED,			/* sent with NOTIFY */
	RDB_COUNT_AGGREGATED,		/* folded into a *Stats event */
	RDB_COUNT_SAMPLED,			/* high-frequency event sent one by one */
	RDB_COUNT_DROPPED,			/* overwritten in the ring before NOTIFY */
	RDB_COUNT_SHED				/* skipped by backpressure */
} RdbEventCounter;

#define RDB_NUM_COUNTERS	5

/*
 * One event.  Numeric fields go in num[] and text fields in text[], each in
 * the order the variant's field table (payload.c) lists them.
 */
typedef struct RdbEvent
{
	uint8		variant;		/* RdbEventVariant */
	uint8		flags;			/* RDB_EVF_* */
	Oid			dbid;			/* database the event belongs to */
	Oid			relid;			/* relation, or InvalidOid */
	TimestampTz at;				/* when the engine did it */
	double		num[RDB_EVENT_MAX_NUMS];
	char		text[RDB_EVENT_MAX_TEXTS][RDB_EVENT_TEXT_LEN];
} RdbEvent;

/* the event is a high-frequency one, emitted one by one only if sampled */
#define RDB_EVF_SAMPLED		0x01

typedef enum RdbFieldType
{
	RDB_FIELD_INT,
	RDB_FIELD_FLOAT,
	RDB_FIELD_TEXT
} RdbFieldType;

typedef struct RdbEventField
{
	const char *name;
	RdbFieldType type;
	int			slot;			/* index into num[] or text[] */
} RdbEventField;

#define RDB_EVENT_MAX_FIELDS	(RDB_EVENT_MAX_NUMS + RDB_EVENT_MAX_TEXTS)

typedef struct RdbEventVariantInfo
{
	const char *name;			/* "PageAllocated" */
	RdbEventChannel channel;
	bool		high_frequency; /* aggregated into a *Stats unless sampled */
	int			nfields;
	RdbEventField fields[RDB_EVENT_MAX_FIELDS];
} RdbEventVariantInfo;

/* guc.c */
extern bool rdb_events_enabled;
extern int	rdb_event_ring_size;
extern double rdb_events_sample_rate;
extern double rdb_notify_queue_threshold;
extern int	rdb_notify_scope;
extern int	rdb_notify_interval_ms[RDB_NUM_CHANNELS];
extern int	rdb_worker_idle_timeout_s;
extern int	rdb_max_event_workers;

/*
 * rustydb.notify_scope: what a NOTIFY payload may tell every listener of the
 * database (LISTEN needs no privilege).
 */
typedef enum RdbNotifyScope
{
	RDB_NOTIFY_ALL,				/* full payloads (opt-in) */
	RDB_NOTIFY_ANONYMOUS,		/* never a name or relation oid */
	RDB_NOTIFY_NONE,			/* no NOTIFY at all */
	RDB_NOTIFY_PUBLIC			/* names only of tables PUBLIC may SELECT
								 * (default) */
} RdbNotifyScope;

/* what an anonymised payload puts where a table or column name was */
#define RDB_HIDDEN_NAME		"(hidden)"

/* payload.c */
extern const RdbEventVariantInfo *rdb_event_variant(RdbEventVariant v);
extern int	rdb_event_variant_by_name(const char *name);
extern const char *rdb_event_channel_name(RdbEventChannel ch);
extern const char *rdb_event_message_type(RdbEventChannel ch);
extern void rdb_event_payload(const RdbEvent *ev, uint64 seq, StringInfo buf,
							  bool anonymous);
extern void rdb_event_set_text(RdbEvent *ev, int slot, const char *str,
							   int len);

/* ring.c */
extern void rdb_events_shmem_request(void);
extern void rdb_events_shmem_startup(void);
extern void rdb_events_publish(RdbEvent *ev);
extern void rdb_event_init(RdbEvent *ev, RdbEventVariant variant,
						   Relation rel);
extern uint64 rdb_events_next_seq(void);
extern uint64 rdb_events_capacity(void);
typedef enum RdbEventReadResult
{
	RDB_READ_OK,				/* copied */
	RDB_READ_PENDING,			/* not written yet (a writer is filling it) */
	RDB_READ_GONE				/* overwritten by a newer event */
} RdbEventReadResult;

extern RdbEventReadResult rdb_events_read_ext(uint64 seq, RdbEvent *ev,
											  bool *delivered);
extern bool rdb_events_read(uint64 seq, RdbEvent *ev, bool *notified);
extern RdbEventReadResult rdb_events_peek(uint64 seq, Oid *dbid,
										  bool *delivered);
extern uint64 rdb_events_undelivered(Oid dbid);
extern bool rdb_events_mark_notified(uint64 seq);
extern void rdb_events_delivered(Oid dbid, uint64 n);
extern void rdb_events_count(Oid dbid, RdbEventChannel ch,
							 RdbEventCounter which, uint64 n);

/* databases with their own counters; more share one "other" row */
#define RDB_MAX_EVENT_DBS	64

/* per-database delivery counters, for rustydb.event_stats */
typedef struct RdbDbCounts
{
	Oid			dbid;			/* InvalidOid: databases beyond the table */
	uint64		undelivered;	/* events of the database in the ring, not
								 * yet delivered */
	uint64		counts[RDB_NUM_CHANNELS][RDB_NUM_COUNTERS];
} RdbDbCounts;

extern int	rdb_events_get_counts(RdbDbCounts *out, int max,
								  TimestampTz *since);
extern uint64 rdb_events_discard_db(Oid dbid);
extern void rdb_events_set_waiting(int ndbs);
extern int	rdb_events_get_waiting(void);
extern void rdb_events_wake_launcher(void);
extern void rdb_events_worker_attach(Oid dbid);
extern void rdb_events_worker_detach(Oid dbid);
extern void rdb_events_set_launcher_latch(Latch *latch);
extern void rdb_events_wake_worker(Oid dbid);

/* I/O accounting (ring.c): cumulative per-database counters for IoStats */
typedef struct RdbIoCounters
{
	uint64		reads;
	uint64		read_bytes;
	uint64		read_us;
	uint64		writes;
	uint64		write_bytes;
	uint64		write_us;
} RdbIoCounters;

extern void rdb_io_count(bool is_write, uint64 bytes, uint64 us);
extern bool rdb_io_take_delta(Oid dbid, TimestampTz now, RdbIoCounters *delta,
							  double *secs);
extern void rdb_io_set_stats(Oid dbid, const RdbEvent *iostats);
extern int	rdb_io_get_stats(RdbEvent *out, int max);

/* emit.c: the engine's emit points, one call each */
extern void rdb_emit_page_allocated(Relation rel, BlockNumber blkno);
extern void rdb_emit_page_compacted(Relation rel, BlockNumber blkno,
									Size bytes_reclaimed);
extern void rdb_emit_checksum_failure(Relation rel, BlockNumber blkno);
extern void rdb_emit_batch_inserted(Relation rel, int rows);
extern void rdb_emit_read(Relation rel, BlockNumber blkno, uint64 us);
extern void rdb_emit_write(Relation rel, BlockNumber blkno, uint64 us);
extern void rdb_emit_vectored_read(Relation rel, int pages, uint64 us);
extern void rdb_emit_encoding_changed(Relation rel, const char *column,
									  const char *old_encoding,
									  const char *new_encoding, double ratio);
extern void rdb_emit_column_scanned(Relation rel, const char *column,
									int64 rows, double duration_ms);
extern void rdb_emit_page_flushed(Relation rel, BlockNumber blkno, Size bytes);
extern void rdb_emit_memtable_flushed(Relation rel, int64 rows,
									  uint64 stripe_bytes, int pages,
									  uint64 write_us);

extern void rdb_emit_compaction_started(Relation rel, int level, int stripes);
extern void rdb_emit_compaction_completed(Relation rel, int level,
										  int old_stripes, int new_stripes,
										  int64 duration_ms);
extern void rdb_emit_level_migration(Relation rel, int from_level,
									 int to_level, int stripes);
extern void rdb_emit_page_merged(Relation rel, BlockNumber page1,
								 BlockNumber page2, BlockNumber result);
extern void rdb_emit_page_split(Relation rel, BlockNumber original,
								BlockNumber new_page, const char *reason);

/* bgworker/launcher.c, bgworker/worker.c */
extern void rdb_bgw_register(void);

#endif							/* RUSTYDB_EVENTS_H */
