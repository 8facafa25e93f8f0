/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  The "rustydb worker": delivers one database's storage events as
 *	  NOTIFYs, channel by channel, and builds IoStats.
 *
 * Loop (worker_spi / autoprewarm style): sleep on the latch until the next
 * channel is due (rustydb.notify_interval_<area>), then, in one transaction
 * per round, for every due channel send one NOTIFY per undelivered event of
 * this database on that channel.  NOTIFY is transactional: the listeners
 * get the round's events when it commits.
 *
 * Database DDL comes first.  DROP DATABASE, ALTER DATABASE ... RENAME and
 * CREATE DATABASE ... TEMPLATE lock the database object (AccessExclusive,
 * AccessExclusive, Share) and then wait up to 5 s for the database's other
 * backends to go, asking only autovacuum workers to leave.  At least every
 * RDB_WORKER_CHECK_MS the worker tries a RowExclusiveLock on its database
 * object without waiting (what every backend takes on connecting); if it
 * cannot get it, such a command holds or waits for the database and the
 * worker exits at once.  The launcher does not start a worker for that
 * database until the lock is free again.
 *
 * Sharing worker slots: at most rustydb.max_event_workers workers run at a
 * time.  When the launcher reports databases waiting for a slot, a worker
 * that has served its database for RDB_WORKER_SLICE_MS (or has nothing left
 * to send) sends everything it has, whatever the channel intervals, and
 * exits; the launcher then serves the waiting database.  Without events
 * for rustydb.worker_idle_timeout the worker exits as well.
 *
 * Who may read a payload: LISTEN needs no privilege, so under
 * rustydb.notify_scope = public (the default) an event about a relation
 * that PUBLIC may not SELECT is sent anonymised (payload.c: no name, no
 * relation oid); 'all' sends every payload in full, 'anonymous' none.
 *
 * Backpressure: the NOTIFY queue holds (QUEUE_MAX_PAGE + 1) / 2 pages (8 GB)
 * and pg_notification_queue_usage() is the fraction of them in use.  A
 * round's notifications enter the queue only at commit, so the worker counts
 * the pages its own pending notifications will take and sheds (marks
 * delivered, counts as shed) every event that would take the queue above
 * rustydb.notify_queue_threshold; with several workers each may use its
 * share (1 / rustydb.max_event_workers) of the room left.  So a listener
 * that never reads cannot make the worker fill the queue past the
 * threshold.  It never waits for listeners, and nothing it does can make a
 * user's statement fail or wait: writers only ever touch the ring.
 *
 * IoStats: at each io round with read or write activity since the last one,
 * the worker turns the database's cumulative I/O counters into rates and
 * averages over the elapsed time, publishes the IoStats event (which this
 * same round sends) and keeps it for rustydb.io_stats.
 *
 * The worker exits quietly when the extension is not installed in its
 * database (discarding the database's events, which nobody can receive).
 * Errors are logged, and the worker exits; the launcher restarts it on the
 * next event.
 *
 * IDENTIFICATION
 *	  src/bgworker/worker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/slru.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "commands/async.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "rustydb/rustydb.h"
#include "rustydb/cache.h"
#include "rustydb/events.h"
#include "rustydb/lsm.h"

PGDLLEXPORT void rdb_worker_main(Datum main_arg);

/* NOTIFY payloads must be shorter than this (async.c) */
#define RDB_NOTIFY_MAX_PAYLOAD	8000

/* the NOTIFY queue's capacity in pages, as asyncQueueUsage() counts it */
#define RDB_NOTIFY_QUEUE_PAGES	((double) (SLRU_PAGES_PER_SEGMENT * 0xFFFF) / 2)

/* an AsyncQueueEntry's header: length, dboid, xid, srcPid (async.c) */
#define RDB_NOTIFY_ENTRY_HEADER	(4 * sizeof(int32))

/* how often the worker looks whether database DDL needs the database */
#define RDB_WORKER_CHECK_MS		100

/* how long a worker serves its database while others wait for a slot */
#define RDB_WORKER_SLICE_MS		1000

typedef struct WorkerState
{
	uint64		cursor[RDB_NUM_CHANNELS];	/* next seq to look at */
	TimestampTz last_round[RDB_NUM_CHANNELS];
	TimestampTz last_event; /* when we last saw an event of ours */
	TimestampTz last_flush_round;	/* background flush (src/lsm) */
	uint64		flush_wakes;	/* rdb_flush_demand_wakes() at that round */
	int			flush_again_ms; /* that round asked to come back this soon
								 * (0: at the naptime) */
} WorkerState;

/* what the round's own NOTIFYs will take of the queue */
typedef struct QueueBudget
{
	double		limit_pages;	/* our share of the room below the threshold */
	double		used_pages;		/* occupied when last looked */
	Size		bytes;			/* our pending entries */
	Size		max_entry;		/* the largest of them */
	int			since_check;
} QueueBudget;

static double
notify_queue_usage(void)
{
	return DatumGetFloat8(OidFunctionCall0(F_PG_NOTIFICATION_QUEUE_USAGE));
}

/*
 * Build an IoStats event from the database's I/O since the last one (by
 * whichever worker built it), if there was any.
 */
static void
build_io_stats(TimestampTz now)
{
	RdbIoCounters d;
	double		secs;
	RdbEvent	ev;

	if (!rdb_io_take_delta(MyDatabaseId, now, &d, &secs))
		return;

	rdb_event_init(&ev, RDB_EV_IO_STATS, NULL);
	ev.at = now;
	ev.num[0] = d.reads / secs;
	ev.num[1] = d.writes / secs;
	ev.num[2] = d.read_bytes / secs / 1000000.0;
	ev.num[3] = d.write_bytes / secs / 1000000.0;
	ev.num[4] = d.reads ? (double) (d.read_us / d.reads) : 0;
	ev.num[5] = d.writes ? (double) (d.write_us / d.writes) : 0;

	rdb_events_publish(&ev);
	rdb_io_set_stats(MyDatabaseId, &ev);
}

/*
 * Build a PoolStats event of the shared chunk cache, if there was a chunk
 * lookup since this database last built one.  The pool is shared by every
 * database: hit_rate is the pool's over the interval, total_pages its
 * capacity and used_pages its pages in use (8 kB units); dirty_pages is
 * always 0, the cache holds only immutable stripe data (src/cache/README.md).
 */
static void
build_pool_stats(TimestampTz now)
{
	double		hit_rate;
	int64		total;
	int64		used;
	RdbEvent	ev;

	if (!rdb_cache_take_delta(MyDatabaseId, &hit_rate, &total, &used))
		return;
	rdb_event_init(&ev, RDB_EV_POOL_STATS, NULL);
	ev.at = now;
	ev.num[0] = hit_rate;
	ev.num[1] = total;
	ev.num[2] = used;
	ev.num[3] = 0;
	rdb_events_publish(&ev);
}

/* read the queue's usage and work out our share of the room left */
static void
budget_refresh(QueueBudget *b)
{
	double		room;

	b->used_pages = notify_queue_usage() * RDB_NOTIFY_QUEUE_PAGES;
	room = floor(rdb_notify_queue_threshold * RDB_NOTIFY_QUEUE_PAGES) - b->used_pages;
	b->limit_pages = room > 0 ? room / Max(rdb_max_event_workers, 1) : 0;
	b->since_check = 0;
}

/*
 * Would one more notification of 'len' payload bytes on 'channel' still
 * keep the queue at or below the threshold?  Queue entries never span
 * pages, so a page holds at least BLCKSZ - (largest entry) bytes of
 * entries; and the head page may be partly used already (one more page).
 */
static bool
budget_take(QueueBudget *b, const char *channel, int len)
{
	Size		entry = MAXALIGN(RDB_NOTIFY_ENTRY_HEADER + strlen(channel) + 1 + len + 1);
	Size		max_entry = Max(b->max_entry, entry);
	double		pages;

	if (++b->since_check >= 64)
		budget_refresh(b);
	pages = 1 + ceil((double) (b->bytes + entry) / (BLCKSZ - max_entry));
	if (pages > b->limit_pages)
		return false;
	b->bytes += entry;
	b->max_entry = max_entry;
	return true;
}

/*
 * May PUBLIC SELECT this relation?  Names of other relations are not sent
 * under rustydb.notify_scope = public.  Relations that are gone: no.
 */
static bool
relation_public(Oid relid, Oid *cached_relid, bool *cached)
{
	bool		is_missing = false;

	if (relid == *cached_relid)
		return *cached;
	*cached_relid = relid;
	*cached = pg_class_aclcheck_ext(relid, ACL_ID_PUBLIC, ACL_SELECT,
									&is_missing) == ACLCHECK_OK && !is_missing;
	return *cached;
}

/*
 * Send the due channels' events.  Runs inside a transaction.
 */
static void
deliver_round(WorkerState *st, bool due[RDB_NUM_CHANNELS], TimestampTz now)
{
	uint64		next;
	uint64		oldest;
	uint64		capacity = rdb_events_capacity();
	int			ch;
	StringInfoData payload;
	QueueBudget budget;
	Oid			cached_relid = InvalidOid;
	bool		cached_public = false;
	int			scope = rdb_notify_scope;

	if (due[RDB_CH_IO])
		build_io_stats(now);
	if (due[RDB_CH_BUFFER_POOL])
		build_pool_stats(now);

	next = rdb_events_next_seq();
	oldest = next > capacity ? next - capacity : 1;
	memset(&budget, 0, sizeof(budget));
	if (scope != RDB_NOTIFY_NONE)
		budget_refresh(&budget);

	initStringInfo(&payload);
	for (ch = 0; ch < RDB_NUM_CHANNELS; ch++)
	{
		uint64		seq;
		uint64		nsent = 0;
		uint64		nsampled = 0;
		uint64		nshed = 0;
		uint64		nmarked = 0;
		const char *channel = rdb_event_channel_name(ch);

		if (!due[ch])
			continue;
		for (seq = Max(st->cursor[ch], oldest); seq < next; seq++)
		{
			RdbEvent	ev;
			bool		delivered;
			bool		anonymous;
			const RdbEventVariantInfo *vi;
			RdbEventReadResult r = rdb_events_read_ext(seq, &ev, &delivered);

			/* a writer is still filling this slot: resume here next round */
			if (r == RDB_READ_PENDING)
				break;
			if (r == RDB_READ_GONE || ev.dbid != MyDatabaseId)
				continue;
			vi = rdb_event_variant((RdbEventVariant) ev.variant);
			if (vi->channel != ch)
				continue;
			st->last_event = now;
			if (delivered)
				continue;

			if (scope == RDB_NOTIFY_NONE)
			{
				if (rdb_events_mark_notified(seq))
					nmarked++;
				continue;
			}

			anonymous = scope == RDB_NOTIFY_ANONYMOUS ||
				(scope == RDB_NOTIFY_PUBLIC && OidIsValid(ev.relid) &&
				 !relation_public(ev.relid, &cached_relid, &cached_public));
			resetStringInfo(&payload);
			rdb_event_payload(&ev, seq, &payload, anonymous);
			if (payload.len >= RDB_NOTIFY_MAX_PAYLOAD ||
				!budget_take(&budget, channel, payload.len))
			{
				nshed++;
				if (rdb_events_mark_notified(seq))
					nmarked++;
				continue;
			}
			Async_Notify(channel, payload.data);
			if (rdb_events_mark_notified(seq))
				nmarked++;
			if (ev.flags & RDB_EVF_SAMPLED)
				nsampled++;
			else
				nsent++;
		}
		st->cursor[ch] = seq;
		st->last_round[ch] = now;
		rdb_events_delivered(MyDatabaseId, nmarked);
		rdb_events_count(MyDatabaseId, ch, RDB_COUNT_EMITTED, nsent);
		rdb_events_count(MyDatabaseId, ch, RDB_COUNT_SAMPLED, nsampled);
		rdb_events_count(MyDatabaseId, ch, RDB_COUNT_SHED, nshed);
	}
	pfree(payload.data);
}

/*
 * Does a command need this database to itself (DROP DATABASE, ALTER
 * DATABASE RENAME, CREATE DATABASE ... TEMPLATE)?  They hold or wait for a
 * lock on the database object that conflicts with the RowExclusiveLock every
 * connecting backend takes; try that lock without waiting.
 */
static bool
database_wanted(void)
{
	LOCKTAG		tag;

	SET_LOCKTAG_OBJECT(tag, InvalidOid, DatabaseRelationId, MyDatabaseId, 0);
	if (LockAcquire(&tag, RowExclusiveLock, true, true) == LOCKACQUIRE_NOT_AVAIL)
		return true;
	LockRelease(&tag, RowExclusiveLock, true);
	return false;
}

/*
 * What the background flush and compaction ask between pages, rows and
 * chunk groups: should they stop?  A command needs the database, or the
 * worker was told to exit (SIGTERM: pg_terminate_backend, DROP DATABASE ...
 * WITH (FORCE), a fast shutdown), which the main loop only sees between
 * rounds.  A compaction step under way is given up then
 * (compact.c, compact_give_up_check), not finished first.
 */
static bool
worker_should_stop(void)
{
	return ShutdownRequestPending || database_wanted();
}

/*
 * Is a round of the background flush due: rustydb.flush_naptime passed, a
 * commit asked for it (flush_demand.c), or the last round asked to come
 * back sooner (more to flush than a stripe, rows a snapshot held back)?
 */
static bool
flush_due(const WorkerState *st, TimestampTz now)
{
	return TimestampDifferenceExceeds(st->last_flush_round, now,
									  rdb_flush_naptime_ms) ||
		rdb_flush_demand_wakes() != st->flush_wakes ||
		(st->flush_again_ms > 0 &&
		 TimestampDifferenceExceeds(st->last_flush_round, now,
									st->flush_again_ms));
}

/* at exit: new events of this database must wake the launcher again */
static void
worker_detach(int code, Datum arg)
{
	rdb_events_worker_detach(DatumGetObjectId(arg));
	rdb_events_wake_launcher();
}

/* one round, in a transaction of its own */
static void
run_round(WorkerState *st, bool due[RDB_NUM_CHANNELS], TimestampTz now)
{
	pgstat_report_activity(STATE_RUNNING, "delivering storage events");
	StartTransactionCommand();
	deliver_round(st, due, now);
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	pgstat_report_stat(false);
}

void
rdb_worker_main(Datum main_arg)
{
	Oid			dbid = DatumGetObjectId(main_arg);
	WorkerState st;
	bool		have_extension;
	int			ch;
	uint64		start;
	TimestampTz started;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();

	BackgroundWorkerInitializeConnectionByOid(dbid, InvalidOid, 0);
	pgstat_report_appname("rustydb worker");

	StartTransactionCommand();
	have_extension = OidIsValid(get_extension_oid(RDB_EXTENSION_NAME, true));
	CommitTransactionCommand();
	if (!have_extension)
	{
		/* nobody can receive these events: let them go, quietly */
		uint64		n = rdb_events_discard_db(dbid);

		ereport(DEBUG1,
				(errmsg("rustydb worker: extension not installed in database %u, discarded %llu events, exiting",
						dbid, (unsigned long long) n)));
		proc_exit(0);
	}
	ereport(DEBUG1, (errmsg("rustydb worker started for database %u", dbid)));
	rdb_events_worker_attach(dbid);
	before_shmem_exit(worker_detach, ObjectIdGetDatum(dbid));

	memset(&st, 0, sizeof(st));
	start = rdb_events_next_seq();
	start = start > rdb_events_capacity() ? start - rdb_events_capacity() : 1;
	for (ch = 0; ch < RDB_NUM_CHANNELS; ch++)
	{
		st.cursor[ch] = start;
		st.last_round[ch] = 0;
	}
	started = st.last_event = GetCurrentTimestamp();

	for (;;)
	{
		TimestampTz now;
		bool		due[RDB_NUM_CHANNELS];
		bool		any = false;
		long		sleep_ms = RDB_WORKER_CHECK_MS;

		CHECK_FOR_INTERRUPTS();
		if (ShutdownRequestPending)
			proc_exit(0);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		/* database DDL waits for nobody: leave at once */
		if (database_wanted())
		{
			ereport(LOG,
					(errmsg("rustydb worker for database %u exiting: a command needs the database",
							dbid)));
			proc_exit(0);
		}

		now = GetCurrentTimestamp();

		/*
		 * Others wait for a worker slot: after our slice (or at once if we
		 * have nothing to send), send everything now and make room -- after
		 * the flush round that is due, if any: a worker that left right
		 * after sending would never flush while more databases have events
		 * than there are slots (20 databases, 2 slots: 85,600 rows waited
		 * in one table's L0 after 90 s, none flushed).
		 */
		if (rdb_events_get_waiting() > 0 &&
			(rdb_events_undelivered(dbid) == 0 ||
			 TimestampDifferenceExceeds(started, now, RDB_WORKER_SLICE_MS)))
		{
			for (ch = 0; ch < RDB_NUM_CHANNELS; ch++)
				due[ch] = true;
			run_round(&st, due, now);
			if (flush_due(&st, now))
			{
				/* the flush only: a compaction's survey reads whole tables */
				(void) rdb_flush_background(worker_should_stop, false);
				/* what the flush sent */
				for (ch = 0; ch < RDB_NUM_CHANNELS; ch++)
					due[ch] = true;
				run_round(&st, due, GetCurrentTimestamp());
			}
			ereport(DEBUG1,
					(errmsg("rustydb worker for database %u yields its slot", dbid)));
			proc_exit(0);
		}

		for (ch = 0; ch < RDB_NUM_CHANNELS; ch++)
		{
			TimestampTz due_at = TimestampTzPlusMilliseconds(st.last_round[ch],
															 rdb_notify_interval_ms[ch]);

			due[ch] = now >= due_at;
			if (due[ch])
				any = true;
			else
				sleep_ms = Min(sleep_ms,
							   (long) ((due_at - now) / 1000) + 1);
		}

		if (any)
		{
			run_round(&st, due, now);
			continue;
		}

		/*
		 * background flush of the database's rustydb tables (src/lsm):
		 * every rustydb.flush_naptime, when a commit asked for it
		 * (flush_demand.c), or when the last round asked to come back
		 * sooner (more to flush than a stripe, rows a snapshot held back)
		 */
		if (flush_due(&st, now))
		{
			st.last_flush_round = now;
			st.flush_wakes = rdb_flush_demand_wakes();
			st.flush_again_ms = rdb_flush_background(worker_should_stop, true);
			continue;
		}
		if (st.flush_again_ms > 0)
			sleep_ms = Min(sleep_ms, st.flush_again_ms);

		/* idle: no events to send, no flush to come back for */
		if (TimestampDifferenceExceeds(st.last_event, now,
									   rdb_worker_idle_timeout_s * 1000) &&
			rdb_events_undelivered(dbid) == 0 && st.flush_again_ms == 0)
		{
			ereport(DEBUG1,
					(errmsg("rustydb worker for database %u idle, exiting", dbid)));
			proc_exit(0);
		}

		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max(sleep_ms, 10), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
