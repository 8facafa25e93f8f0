/*-------------------------------------------------------------------------
 *
 * launcher.c
 *	  The "rustydb launcher" background worker: starts one event worker per
 *	  database that has storage events to deliver.
 *
 * Events can only come from rustydb tables, so "a database has undelivered
 * events in the ring" is exactly "a database where the extension is in use
 * and there is work": the launcher never connects to a database and never
 * starts workers where the extension is absent.  It sleeps on its latch,
 * which every rdb_events_publish() sets, scans the events that arrived since
 * it last looked, and starts a worker (worker.c) for each database that has
 * none running.  Workers exit when idle; the launcher starts them again when
 * events arrive.  The postmaster restarts the launcher if it dies.
 *
 * IDENTIFICATION
 *	  src/bgworker/launcher.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"

#include "rustydb/events.h"

PGDLLEXPORT void rdb_launcher_main(Datum main_arg);
PGDLLEXPORT void rdb_worker_main(Datum main_arg);

#define RDB_MAX_WORKERS		64

typedef struct LauncherWorker
{
	Oid			dbid;
	BackgroundWorkerHandle *handle;
} LauncherWorker;

static LauncherWorker workers[RDB_MAX_WORKERS];
static int	nworkers = 0;
static bool warned_no_slot = false;

/*
 * rdb_bgw_register
 *		Register the launcher; called from _PG_init while preloading.
 */
void
rdb_bgw_register(void)
{
	BackgroundWorker bgw;

	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS;
	/* NOTIFY is impossible during recovery: a standby runs no workers */
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = 5;
	snprintf(bgw.bgw_library_name, BGW_MAXLEN, "rustydb_am");
	snprintf(bgw.bgw_function_name, BGW_MAXLEN, "rdb_launcher_main");
	snprintf(bgw.bgw_name, BGW_MAXLEN, "rustydb launcher");
	snprintf(bgw.bgw_type, BGW_MAXLEN, "rustydb launcher");
	RegisterBackgroundWorker(&bgw);
}

/* forget workers that have exited */
static void
reap_workers(void)
{
	int			i = 0;

	while (i < nworkers)
	{
		pid_t		pid;

		if (GetBackgroundWorkerPid(workers[i].handle, &pid) == BGWH_STOPPED)
		{
			pfree(workers[i].handle);
			workers[i] = workers[--nworkers];
		}
		else
			i++;
	}
}

static bool
worker_running(Oid dbid)
{
	int			i;

	for (i = 0; i < nworkers; i++)
		if (workers[i].dbid == dbid)
			return true;
	return false;
}

static void
start_worker(Oid dbid)
{
	BackgroundWorker bgw;
	BackgroundWorkerHandle *handle;

	if (nworkers >= RDB_MAX_WORKERS)
		return;

	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(bgw.bgw_library_name, BGW_MAXLEN, "rustydb_am");
	snprintf(bgw.bgw_function_name, BGW_MAXLEN, "rdb_worker_main");
	snprintf(bgw.bgw_name, BGW_MAXLEN, "rustydb worker for database %u", dbid);
	snprintf(bgw.bgw_type, BGW_MAXLEN, "rustydb worker");
	bgw.bgw_main_arg = ObjectIdGetDatum(dbid);
	bgw.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&bgw, &handle))
	{
		/* report once, not on every wakeup (TimescaleDB's convention) */
		if (!warned_no_slot)
			ereport(LOG,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("rustydb launcher could not start an event worker for database %u",
							dbid),
					 errhint("Raise max_worker_processes.")));
		warned_no_slot = true;
		return;
	}
	warned_no_slot = false;
	workers[nworkers].dbid = dbid;
	workers[nworkers].handle = handle;
	nworkers++;
}

/* at exit: publishers must stop setting our latch */
static void
launcher_forget_latch(int code, Datum arg)
{
	rdb_events_set_launcher_latch(NULL);
}

void
rdb_launcher_main(Datum main_arg)
{
	uint64		cursor;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();

	pgstat_report_appname("rustydb launcher");
	ereport(LOG, (errmsg("rustydb launcher started")));

	rdb_events_set_launcher_latch(MyLatch);
	on_shmem_exit(launcher_forget_latch, (Datum) 0);

	/* events still in the ring from before a restart count too */
	cursor = rdb_events_next_seq();
	cursor = cursor > rdb_events_capacity() ? cursor - rdb_events_capacity() : 1;

	for (;;)
	{
		uint64		next;
		uint64		seq;
		Oid			pending[RDB_MAX_WORKERS];
		int			npending = 0;
		int			i;

		CHECK_FOR_INTERRUPTS();
		if (ShutdownRequestPending)
			proc_exit(0);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		reap_workers();

		next = rdb_events_next_seq();
		if (next > cursor + rdb_events_capacity())
			cursor = next - rdb_events_capacity();
		for (seq = cursor; seq < next; seq++)
		{
			RdbEvent	ev;
			bool		delivered;
			int			j;
			RdbEventReadResult r = rdb_events_read_ext(seq, &ev, &delivered);

			/* still being written: look again from here next time */
			if (r == RDB_READ_PENDING)
				break;
			if (r == RDB_READ_GONE || delivered)
				continue;
			if (worker_running(ev.dbid))
				continue;
			for (j = 0; j < npending; j++)
				if (pending[j] == ev.dbid)
					break;
			if (j == npending && npending < RDB_MAX_WORKERS)
				pending[npending++] = ev.dbid;
		}
		cursor = seq;

		for (i = 0; i < npending; i++)
			start_worker(pending[i]);

		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
