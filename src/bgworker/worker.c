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
 * Backpressure: before sending, and every 64 events, the worker looks at
 * pg_notification_queue_usage(); above rustydb.notify_queue_threshold it
 * sheds events (marks them delivered, counts them as shed) instead of
 * queueing more.  It never waits for listeners, and nothing it does can
 * make a user's statement fail or wait: writers only ever touch the ring.
 *
 * IoStats: at each io round with read or write activity since the last one,
 * the worker turns the database's cumulative I/O counters into rates and
 * averages over the elapsed time, publishes the IoStats event (which this
 * same round sends) and keeps it for rustydb.io_stats.
 *
 * The worker exits quietly when the extension is not installed in its
 * database, and after rustydb.worker_idle_timeout without events; the
 * launcher starts it again when events arrive.  Errors are logged, and the
 * worker exits; the launcher restarts it on the next event.
 *
 * IDENTIFICATION
 *	  src/bgworker/worker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/async.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "rustydb/rustydb.h"
#include "rustydb/events.h"

PGDLLEXPORT void rdb_worker_main(Datum main_arg);

/* NOTIFY payloads must be shorter than this (async.c) */
#define RDB_NOTIFY_MAX_PAYLOAD	8000

typedef struct WorkerState
{
	uint64		cursor[RDB_NUM_CHANNELS];	/* next seq to look at */
	TimestampTz last_round[RDB_NUM_CHANNELS];
	TimestampTz last_event; /* when we last saw an event of ours */
} WorkerState;

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
 * Send the due channels' events.  Runs inside a transaction.
 */
static void
deliver_round(WorkerState *st, bool due[RDB_NUM_CHANNELS], TimestampTz now)
{
	uint64		next;
	uint64		oldest;
	uint64		capacity = rdb_events_capacity();
	bool		shedding;
	int			ch;
	StringInfoData payload;

	if (due[RDB_CH_IO])
		build_io_stats(now);

	next = rdb_events_next_seq();
	oldest = next > capacity ? next - capacity : 1;
	shedding = rdb_notify_scope != RDB_NOTIFY_NONE &&
		notify_queue_usage() > rdb_notify_queue_threshold;

	initStringInfo(&payload);
	for (ch = 0; ch < RDB_NUM_CHANNELS; ch++)
	{
		uint64		seq;
		uint64		nsent = 0;
		uint64		nsampled = 0;
		uint64		nshed = 0;

		if (!due[ch])
			continue;
		for (seq = Max(st->cursor[ch], oldest); seq < next; seq++)
		{
			RdbEvent	ev;
			bool		delivered;
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

			if (rdb_notify_scope == RDB_NOTIFY_NONE)
			{
				rdb_events_mark_notified(seq);
				continue;
			}
			if ((nsent + nsampled) % 64 == 63)
				shedding = notify_queue_usage() > rdb_notify_queue_threshold;

			resetStringInfo(&payload);
			rdb_event_payload(&ev, seq, &payload,
							  rdb_notify_scope == RDB_NOTIFY_ANONYMOUS);
			if (shedding || payload.len >= RDB_NOTIFY_MAX_PAYLOAD)
			{
				nshed++;
				rdb_events_mark_notified(seq);
				continue;
			}
			Async_Notify(rdb_event_channel_name(ch), payload.data);
			rdb_events_mark_notified(seq);
			if (ev.flags & RDB_EVF_SAMPLED)
				nsampled++;
			else
				nsent++;
		}
		st->cursor[ch] = seq;
		st->last_round[ch] = now;
		rdb_events_count(ch, RDB_COUNT_EMITTED, nsent);
		rdb_events_count(ch, RDB_COUNT_SAMPLED, nsampled);
		rdb_events_count(ch, RDB_COUNT_SHED, nshed);
	}
	pfree(payload.data);
}

/* at exit: new events of this database must wake the launcher again */
static void
worker_detach(int code, Datum arg)
{
	rdb_events_worker_detach(DatumGetObjectId(arg));
}

void
rdb_worker_main(Datum main_arg)
{
	Oid			dbid = DatumGetObjectId(main_arg);
	WorkerState st;
	bool		have_extension;
	int			ch;
	uint64		start;

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
		/* quiet where the extension is absent: nothing for us here */
		ereport(DEBUG1,
				(errmsg("rustydb worker: extension not installed in database %u, exiting",
						dbid)));
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
	st.last_event = GetCurrentTimestamp();

	for (;;)
	{
		TimestampTz now;
		bool		due[RDB_NUM_CHANNELS];
		bool		any = false;
		long		sleep_ms = 1000;

		CHECK_FOR_INTERRUPTS();
		if (ShutdownRequestPending)
			proc_exit(0);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		now = GetCurrentTimestamp();
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
			pgstat_report_activity(STATE_RUNNING, "delivering storage events");
			StartTransactionCommand();
			deliver_round(&st, due, now);
			CommitTransactionCommand();
			pgstat_report_activity(STATE_IDLE, NULL);
			pgstat_report_stat(false);
			continue;
		}

		if (TimestampDifferenceExceeds(st.last_event, now,
									   rdb_worker_idle_timeout_s * 1000))
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
