/*-------------------------------------------------------------------------
 *
 * launcher.c
 *	  The "rustydb launcher" background worker: starts short-lived event
 *	  workers, at most rustydb.max_event_workers at a time, for databases
 *	  that have storage events to deliver.
 *
 * Events can only come from rustydb tables, so "a database has undelivered
 * events in the ring" is exactly "a database where the extension is in use
 * and there is work": the launcher never starts workers where the extension
 * is absent.  It sleeps on its latch, which rdb_events_publish() sets for
 * databases without a worker, scans the ring for databases with undelivered
 * events and no worker, and starts workers for them, oldest undelivered
 * event first, as long as slots are free.  A bgworker connects to one
 * database for life (PostgreSQL 15), so "serving several databases in turn"
 * means: a worker serves one database, and yields (exits) after a time slice
 * when the launcher reports other databases waiting (rdb_events_set_waiting);
 * the launcher then starts one for the database that has waited longest.
 *
 * Before starting a worker the launcher looks at the database (it is
 * connected to the shared catalogs only, like the autovacuum launcher): a
 * database that is gone, invalid or does not accept connections gets its
 * events discarded (counted as dropped); a database whose object lock a
 * command holds (DROP DATABASE, ALTER DATABASE ... RENAME, CREATE DATABASE
 * ... TEMPLATE) gets no worker until the command is done.  See README.md.
 *
 * The postmaster restarts the launcher if it dies.
 *
 * IDENTIFICATION
 *	  src/bgworker/launcher.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/syscache.h"

#include "rustydb/events.h"

PGDLLEXPORT void rdb_launcher_main(Datum main_arg);
PGDLLEXPORT void rdb_worker_main(Datum main_arg);

#define RDB_MAX_WORKERS		64

/* the launcher scans the ring at most this often */
#define RDB_LAUNCHER_MIN_NAP_MS	100

typedef struct LauncherWorker
{
	Oid			dbid;
	BackgroundWorkerHandle *handle;
} LauncherWorker;

/* a database with undelivered events and no worker */
typedef struct PendingDb
{
	Oid			dbid;
	uint64		first_seq;		/* its oldest undelivered event */
} PendingDb;

typedef enum DbState
{
	DB_OK,						/* start a worker */
	DB_BUSY,					/* a command holds the database: later */
	DB_GONE						/* dropped, invalid, or no connections */
} DbState;

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
	/* a connection to the shared catalogs only, to look at pg_database */
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	/* NOTIFY is impossible during recovery: a standby runs no workers */
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = 5;
	snprintf(bgw.bgw_library_name, BGW_MAXLEN, "rustydb_am");
	snprintf(bgw.bgw_function_name, BGW_MAXLEN, "rdb_launcher_main");
	snprintf(bgw.bgw_name, BGW_MAXLEN, "rustydb launcher");
	snprintf(bgw.bgw_type, BGW_MAXLEN, "rustydb launcher");
	RegisterBackgroundWorker(&bgw);
}

/* forget workers that have exited; true if any had */
static bool
reap_workers(void)
{
	int			i = 0;
	bool		reaped = false;

	while (i < nworkers)
	{
		pid_t		pid;

		if (GetBackgroundWorkerPid(workers[i].handle, &pid) == BGWH_STOPPED)
		{
			pfree(workers[i].handle);
			workers[i] = workers[--nworkers];
			reaped = true;
		}
		else
			i++;
	}
	return reaped;
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

/*
 * Can a worker connect to the database now?  Looks at pg_database and tries
 * the lock every connecting backend takes, without waiting.
 */
static DbState
database_state(Oid dbid)
{
	HeapTuple	tup;
	DbState		state = DB_OK;

	StartTransactionCommand();
	tup = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(dbid));
	if (!HeapTupleIsValid(tup))
		state = DB_GONE;
	else
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

		if (database_is_invalid_form(db) || !db->datallowconn)
			state = DB_GONE;
		ReleaseSysCache(tup);
	}
	if (state == DB_OK)
	{
		LOCKTAG		tag;

		SET_LOCKTAG_OBJECT(tag, InvalidOid, DatabaseRelationId, dbid, 0);
		if (LockAcquire(&tag, RowExclusiveLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
			state = DB_BUSY;
		else
			LockRelease(&tag, RowExclusiveLock, false);
	}
	CommitTransactionCommand();
	return state;
}

static bool
start_worker(Oid dbid)
{
	BackgroundWorker bgw;
	BackgroundWorkerHandle *handle;

	if (nworkers >= RDB_MAX_WORKERS)
		return false;

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
					 errhint("Raise max_worker_processes: it must leave room for the launcher and rustydb.max_event_workers (%d) besides other background workers.",
							 rdb_max_event_workers)));
		warned_no_slot = true;
		return false;
	}
	warned_no_slot = false;
	workers[nworkers].dbid = dbid;
	workers[nworkers].handle = handle;
	nworkers++;
	return true;
}

static int
pending_cmp(const void *a, const void *b)
{
	const PendingDb *pa = a;
	const PendingDb *pb = b;

	if (pa->first_seq != pb->first_seq)
		return pa->first_seq < pb->first_seq ? -1 : 1;
	return 0;
}

/* at exit: publishers must stop setting our latch */
static void
launcher_forget_latch(int code, Datum arg)
{
	rdb_events_set_launcher_latch(NULL);
	rdb_events_set_waiting(0);
}

void
rdb_launcher_main(Datum main_arg)
{
	uint64		cursor;
	bool		rescan = true;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();

	/* shared catalogs only: counts for no database */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("rustydb launcher");
	ereport(LOG, (errmsg("rustydb launcher started")));

	rdb_events_set_launcher_latch(MyLatch);
	on_shmem_exit(launcher_forget_latch, (Datum) 0);

	cursor = 1;

	for (;;)
	{
		uint64		next;
		uint64		oldest;
		uint64		seq;
		PendingDb	pending[RDB_MAX_WORKERS];
		int			npending = 0;
		int			nwaiting = 0;
		int			i;
		long		nap = 1000L;

		CHECK_FOR_INTERRUPTS();
		if (ShutdownRequestPending)
			proc_exit(0);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		/*
		 * A worker that exits may leave events behind that arrived after
		 * its last round (while publishers did not wake us for its
		 * database): look at the whole ring again.
		 */
		if (reap_workers())
			rescan = true;

		next = rdb_events_next_seq();
		oldest = next > rdb_events_capacity() ? next - rdb_events_capacity() : 1;
		if (rescan || cursor < oldest)
			cursor = oldest;
		rescan = false;
		for (seq = cursor; seq < next; seq++)
		{
			Oid			dbid;
			bool		delivered;
			int			j;
			RdbEventReadResult r = rdb_events_peek(seq, &dbid, &delivered);

			/* still being written: look again from here next time */
			if (r == RDB_READ_PENDING)
				break;
			if (r == RDB_READ_GONE || delivered)
				continue;
			if (worker_running(dbid))
				continue;
			for (j = 0; j < npending; j++)
				if (pending[j].dbid == dbid)
					break;
			if (j == npending && npending < RDB_MAX_WORKERS)
			{
				pending[npending].dbid = dbid;
				pending[npending].first_seq = seq;
				npending++;
			}
		}
		cursor = seq;

		/* the database that has waited longest first */
		qsort(pending, npending, sizeof(PendingDb), pending_cmp);
		for (i = 0; i < npending; i++)
		{
			bool		started = false;

			if (nworkers < rdb_max_event_workers)
			{
				switch (database_state(pending[i].dbid))
				{
					case DB_GONE:
						rdb_events_discard_db(pending[i].dbid);
						continue;
					case DB_BUSY:
						/* try again soon, from its events on */
						break;
					case DB_OK:
						started = start_worker(pending[i].dbid);
						break;
				}
			}
			if (!started)
			{
				/* not served yet: look at its events again next time */
				cursor = Min(cursor, pending[i].first_seq);
				nwaiting++;
				nap = RDB_LAUNCHER_MIN_NAP_MS * 2;
			}
		}
		rdb_events_set_waiting(nworkers >= rdb_max_event_workers ? nwaiting : 0);

		/* at most one scan per RDB_LAUNCHER_MIN_NAP_MS, however busy */
		(void) WaitLatch(MyLatch, WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 RDB_LAUNCHER_MIN_NAP_MS, PG_WAIT_EXTENSION);
		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 nap, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
