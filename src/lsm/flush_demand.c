/*-------------------------------------------------------------------------
 *
 * flush_demand.c
 *	  Committed rows waiting for the background flush: commits tell the
 *	  storage-event worker when a table has flush_rows new rows, so that it
 *	  flushes them at once instead of at its next look.
 *
 * The worker looks at its database's tables every rustydb.flush_naptime
 * (2 s), and flushes a table whose cumulative statistics show flush_rows
 * rows inserted or updated since it last flushed it.  A writer that commits
 * faster than that fills L0 between two looks: bench/steady.sh's 200,000
 * rows arrived in well under a second in transactions of 20,000, and L0
 * held all of them (39 MB of pages, which then stay in the file as free L0
 * pages) although flush_rows was 20,000.  The statistics are no help for
 * waking it: a backend sends its counters at most once a second.
 *
 * So a backend counts the rows it inserts and updates into each rustydb
 * table whose flush_rows is above 0 (rdb_flush_demand_count, per
 * transaction, in backend memory).  When the transaction commits, its counts
 * are added to the table's entry in a shared hash (database, table) ->
 * committed rows not yet flushed; a commit that takes an entry to
 * flush_rows or beyond bumps its database's wake counter (the entry of
 * table InvalidOid) and sets the database worker's latch
 * (rdb_events_wake_worker).  The worker runs its flush round when its
 * database's wake counter moved (rdb_flush_demand_wakes), flushes a table
 * whose entry has reached flush_rows, and subtracts the rows the flush
 * moved (rdb_flush_demand_moved; rows moved while their transaction ran
 * count only once their page is settled): rows a snapshot still needs in L0 stay
 * counted, and the worker comes back for them (flush.c), for a while: rows
 * that are dead before they move (deleted, old versions of updated rows)
 * would keep a count up for good, so the worker gives a count up after
 * some fifteen minutes without progress.  Rows of a
 * subtransaction that rolled back are counted at the top-level commit (an
 * early wake at worst).  A table with flush_running is told sooner: a
 * transaction publishes its count each time it has written flush_rows rows
 * it has not published yet, and its rollback takes them back.  The statistics stay the worker's
 * other reason to flush, for what the counts miss: a transaction that
 * wrote into more tables than RDB_FLUSH_DEMAND_LOCAL, a full hash.  A
 * prepared transaction's rows are counted when it is prepared.  After a
 * crash both the counts and the statistics are gone: the worker's first
 * round after the server starts flushes every table once, whatever its
 * count (rdb_flush_demand_sweep_due), so rows already in L0 do not wait
 * for flush_rows more.
 *
 * Nothing here can fail a commit: the callback runs after the commit is
 * durable, allocates nothing (the per-transaction counts are a static
 * array), and a full hash (RDB_FLUSH_DEMAND_TABLES) forgets a table whose
 * count is zero, else any table's count (which the statistics then stand
 * in for): entries of dropped databases, which no worker prunes, cannot
 * hold the hash for good.
 *
 * IDENTIFICATION
 *	  src/lsm/flush_demand.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/rel.h"

#include "rustydb/events.h"
#include "rustydb/lsm.h"
#include "rustydb/options.h"

/* tables with committed rows counted for the worker */
#define RDB_FLUSH_DEMAND_TABLES		1024
/* tables one transaction counts for (more go to the statistics only) */
#define RDB_FLUSH_DEMAND_LOCAL		8

typedef struct FlushDemandKey
{
	Oid			dbid;
	Oid			relid;
} FlushDemandKey;

typedef struct FlushDemandEntry
{
	FlushDemandKey key;			/* hash key: must be first */
	pg_atomic_uint64 rows;		/* committed, not yet taken by a flush */
} FlushDemandEntry;

/* databases whose worker has looked at every table since the server started */
#define RDB_FLUSH_SWEPT_DBS		64

typedef struct FlushDemandShared
{
	LWLock	   *lock;			/* shared: find and add; exclusive: enter,
								 * remove, swept_dbs */
	int			nswept;
	Oid			swept_dbs[RDB_FLUSH_SWEPT_DBS];
} FlushDemandShared;

static FlushDemandShared *demand_shared = NULL;
static HTAB *demand_hash = NULL;

static int64 demand_get(Oid relid, int64 sub);

/* this transaction's counts */
typedef struct FlushDemandLocal
{
	Oid			relid;
	int			flush_rows;
	int64		rows;
	int64		published;		/* of rows, already added to the hash */
	bool		running;		/* publish while running (flush_running) */
	int			writer_rows;	/* writer_flush_rows (0: none) */
	int64		writer_at;		/* of rows, when the writer's own flush is
								 * due next */
} FlushDemandLocal;

static FlushDemandLocal pending[RDB_FLUSH_DEMAND_LOCAL];
static int	npending = 0;
static bool callback_registered = false;

void
rdb_flush_demand_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(FlushDemandShared)));
	RequestAddinShmemSpace(hash_estimate_size(RDB_FLUSH_DEMAND_TABLES,
											  sizeof(FlushDemandEntry)));
	RequestNamedLWLockTranche("rustydb flush demand", 1);
}

void
rdb_flush_demand_shmem_startup(void)
{
	bool		found;
	HASHCTL		ctl;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	demand_shared = ShmemInitStruct("rustydb flush demand state",
									sizeof(FlushDemandShared), &found);
	if (!found)
	{
		demand_shared->lock = &(GetNamedLWLockTranche("rustydb flush demand"))->lock;
		demand_shared->nswept = 0;
	}
	ctl.keysize = sizeof(FlushDemandKey);
	ctl.entrysize = sizeof(FlushDemandEntry);
	demand_hash = ShmemInitHash("rustydb flush demand",
								RDB_FLUSH_DEMAND_TABLES,
								RDB_FLUSH_DEMAND_TABLES,
								&ctl, HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
	LWLockRelease(AddinShmemInitLock);
}

/*
 * Add n committed rows to the entry of (MyDatabaseId, relid); returns the
 * count before, or -1 when there was no room.  Never raises an error.
 */
static int64
demand_add(Oid relid, int64 n)
{
	FlushDemandKey key;
	FlushDemandEntry *e;
	bool		found;
	int64		before;

	key.dbid = MyDatabaseId;
	key.relid = relid;
	LWLockAcquire(demand_shared->lock, LW_SHARED);
	e = hash_search(demand_hash, &key, HASH_FIND, NULL);
	if (e != NULL)
	{
		before = (int64) pg_atomic_fetch_add_u64(&e->rows, (uint64) n);
		LWLockRelease(demand_shared->lock);
		return before;
	}
	LWLockRelease(demand_shared->lock);

	LWLockAcquire(demand_shared->lock, LW_EXCLUSIVE);
	e = hash_search(demand_hash, &key, HASH_ENTER_NULL, &found);
	if (e == NULL)
	{
		HASH_SEQ_STATUS it;
		FlushDemandEntry *cur;
		FlushDemandKey victim;
		bool		have = false;

		/*
		 * full: forget a table nothing waits for (flushed, or dropped),
		 * else any table's count, a database's wake counter last
		 */
		hash_seq_init(&it, demand_hash);
		while ((cur = hash_seq_search(&it)) != NULL)
		{
			if (pg_atomic_read_u64(&cur->rows) == 0)
			{
				victim = cur->key;
				have = true;
				hash_seq_term(&it);
				break;
			}
			if (!have || !OidIsValid(victim.relid))
			{
				victim = cur->key;
				have = true;
			}
		}
		if (have)
		{
			hash_search(demand_hash, &victim, HASH_REMOVE, NULL);
			e = hash_search(demand_hash, &key, HASH_ENTER_NULL, &found);
		}
		if (e == NULL)
		{
			LWLockRelease(demand_shared->lock);
			return -1;
		}
	}
	if (!found)
		pg_atomic_init_u64(&e->rows, 0);
	before = (int64) pg_atomic_fetch_add_u64(&e->rows, (uint64) n);
	LWLockRelease(demand_shared->lock);
	return before;
}

/*
 * Add what l counted and has not published yet to its table's entry; true
 * if that took the entry to flush_rows.
 */
static bool
demand_publish(FlushDemandLocal *l)
{
	int64		n = l->rows - l->published;
	int64		before;

	if (n <= 0 || l->flush_rows <= 0)
		return false;			/* not flushed in the background */
	before = demand_add(l->relid, n);
	l->published = l->rows;
	return before >= 0 && before < l->flush_rows && before + n >= l->flush_rows;
}

/* bump this database's wake counter (the entry of no table), set the latch */
static void
demand_wake(void)
{
	(void) demand_add(InvalidOid, 1);
	rdb_events_wake_worker(MyDatabaseId);
}

/* at commit: publish this transaction's counts; at any end: forget them */
static void
flush_demand_xact_callback(XactEvent event, void *arg)
{
	bool		wake = false;
	int			i;

	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PREPARE:

			/*
			 * A prepared transaction's rows are counted when it is
			 * prepared (COMMIT PREPARED runs elsewhere, without the counts):
			 * with flush_running, the worker's flush moves them as rows of
			 * a running transaction and retires their pages once they are
			 * settled; without, it moves none of them until the commit and
			 * looks again (flush.c).
			 */
			for (i = 0; i < npending && demand_shared != NULL; i++)
				if (demand_publish(&pending[i]))
					wake = true;
			npending = 0;
			if (wake)
				demand_wake();
			break;
		case XACT_EVENT_ABORT:

			/*
			 * Aborted rows need no flush: take back what a large
			 * transaction published while it ran (LWLocks were released
			 * before the callbacks run; this takes one briefly).
			 */
			for (i = 0; i < npending && demand_shared != NULL; i++)
				if (pending[i].published > 0)
					(void) demand_get(pending[i].relid, pending[i].published);
			npending = 0;
			break;
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			npending = 0;
			break;
		default:
			break;
	}
}

/*
 * rdb_flush_demand_count
 *		rel (a rustydb table) received n new row versions (INSERT, COPY, the
 *		new version of an UPDATE) in this transaction: count them for the
 *		worker if the table is flushed in the background.  Cheap: the
 *		table's options are cached in its relcache entry.
 *
 *		Returns true when the table has writer_flush_rows and this
 *		transaction has written that many rows into it since its own flush
 *		was last due: the caller, an insert that holds no buffer lock, then
 *		calls rdb_flush_writer (flush.c).
 */
bool
rdb_flush_demand_count(Relation rel, int64 n)
{
	int			flush_rows;
	int			writer_rows;
	Oid			relid = RelationGetRelid(rel);
	FlushDemandLocal *l = NULL;
	int			i;

	if (demand_shared == NULL || n <= 0 ||
		rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP)
		return false;			/* the worker flushes no temporary table */
	for (i = 0; i < npending; i++)
	{
		if (pending[i].relid == relid)
		{
			l = &pending[i];
			l->rows += n;
			break;
		}
	}
	if (l == NULL)
	{
		if (npending >= RDB_FLUSH_DEMAND_LOCAL)
			return false;		/* the statistics will tell the worker */
		flush_rows = rdb_table_flush_rows(rel);
		writer_rows = rdb_table_writer_flush_rows(rel);
		if (flush_rows <= 0 && writer_rows <= 0)
			return false;
		if (!callback_registered)
		{
			RegisterXactCallback(flush_demand_xact_callback, NULL);
			callback_registered = true;
		}
		l = &pending[npending++];
		l->relid = relid;
		l->flush_rows = flush_rows;
		l->rows = n;
		l->published = 0;
		l->running = flush_rows > 0 && rdb_table_flush_running(rel);
		l->writer_rows = writer_rows;
		l->writer_at = writer_rows;
	}

	/*
	 * A transaction that has written flush_rows rows it has not published
	 * yet publishes them now, before it commits, if the table has
	 * flush_running: the flush then moves rows of a running transaction too
	 * (flush.c), so that its L0 pages hold their stubs, not their values.
	 */
	if (l->running && l->rows - l->published >= l->flush_rows &&
		demand_publish(l))
		demand_wake();
	if (l->writer_rows > 0 && l->rows >= l->writer_at)
	{
		l->writer_at = l->rows + l->writer_rows;
		return true;
	}
	return false;
}

/*
 * Committed rows of relid (this database) not yet moved by a flush, after
 * subtracting sub of them (down to zero).  relid InvalidOid: how many
 * commits asked this database's worker for a flush so far.
 */
static int64
demand_get(Oid relid, int64 sub)
{
	FlushDemandKey key;
	FlushDemandEntry *e;
	uint64		rows = 0;

	if (demand_shared == NULL)
		return 0;
	key.dbid = MyDatabaseId;
	key.relid = relid;
	LWLockAcquire(demand_shared->lock, LW_SHARED);
	e = hash_search(demand_hash, &key, HASH_FIND, NULL);
	if (e != NULL)
	{
		rows = pg_atomic_read_u64(&e->rows);
		while (sub > 0 && rows > 0)
		{
			uint64		left = rows > (uint64) sub ? rows - (uint64) sub : 0;

			if (pg_atomic_compare_exchange_u64(&e->rows, &rows, left))
			{
				rows = left;
				break;
			}
		}
	}
	LWLockRelease(demand_shared->lock);
	return (int64) rows;
}

/* commits that asked this database's worker for a flush (it compares) */
uint64
rdb_flush_demand_wakes(void)
{
	return (uint64) demand_get(InvalidOid, 0);
}

int64
rdb_flush_demand_peek(Oid relid)
{
	return demand_get(relid, 0);
}

/*
 * The worker's flush of relid moved rows rows: they are counted no more.
 * Returns the rows still counted (committed since, or kept in L0 because a
 * snapshot may still need them as they are).
 */
int64
rdb_flush_demand_moved(Oid relid, int64 rows)
{
	return demand_get(relid, rows);
}

/* TRUNCATE or a rewrite: the rows counted for relid are gone */
void
rdb_flush_demand_forget(Oid relid)
{
	FlushDemandKey key;

	if (demand_shared == NULL)
		return;
	key.dbid = MyDatabaseId;
	key.relid = relid;
	LWLockAcquire(demand_shared->lock, LW_EXCLUSIVE);
	hash_search(demand_hash, &key, HASH_REMOVE, NULL);
	LWLockRelease(demand_shared->lock);
}

/*
 * rdb_flush_demand_prune
 *		The worker's round: forget the entries of this database whose table
 *		is not among relids (the database's rustydb tables, ascending): a
 *		dropped table's count would otherwise hold its entry for good.
 */
void
rdb_flush_demand_prune(const Oid *relids, int nrelids)
{
	HASH_SEQ_STATUS it;
	FlushDemandEntry *cur;

	if (demand_shared == NULL)
		return;
	LWLockAcquire(demand_shared->lock, LW_EXCLUSIVE);
	hash_seq_init(&it, demand_hash);
	while ((cur = hash_seq_search(&it)) != NULL)
	{
		if (cur->key.dbid == MyDatabaseId && OidIsValid(cur->key.relid) &&
			bsearch(&cur->key.relid, relids, nrelids, sizeof(Oid),
					oid_cmp) == NULL)
			hash_search(demand_hash, &cur->key, HASH_REMOVE, NULL);
	}
	LWLockRelease(demand_shared->lock);
}

/*
 * rdb_flush_demand_sweep_due
 *		Has this database's worker not yet flushed every table since the
 *		server started?  The counts live in shared memory and the
 *		statistics are discarded after a crash, so rows committed before a
 *		restart are counted nowhere: they would wait in L0 for flush_rows
 *		more.  The worker's first round lists the tables and flushes each
 *		once whatever its count, then calls rdb_flush_demand_swept (flush.c).
 *		Beyond RDB_FLUSH_SWEPT_DBS databases, every worker start sweeps.
 */
bool
rdb_flush_demand_sweep_due(void)
{
	bool		due = true;
	int			i;

	if (demand_shared == NULL)
		return false;
	LWLockAcquire(demand_shared->lock, LW_SHARED);
	for (i = 0; i < demand_shared->nswept && due; i++)
		due = demand_shared->swept_dbs[i] != MyDatabaseId;
	LWLockRelease(demand_shared->lock);
	return due;
}

/* the worker's round went through every table of the database */
void
rdb_flush_demand_swept(void)
{
	int			i;

	if (demand_shared == NULL)
		return;
	LWLockAcquire(demand_shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < demand_shared->nswept; i++)
		if (demand_shared->swept_dbs[i] == MyDatabaseId)
			break;
	if (i == demand_shared->nswept && i < RDB_FLUSH_SWEPT_DBS)
		demand_shared->swept_dbs[demand_shared->nswept++] = MyDatabaseId;
	LWLockRelease(demand_shared->lock);
}
