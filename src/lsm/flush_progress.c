/*-------------------------------------------------------------------------
 *
 * flush_progress.c
 *	  What flushes are doing now and what they did: the shared memory behind
 *	  rustydb.flush_progress (one row per running flush, in the manner of
 *	  pg_stat_progress_vacuum) and the per-table flush history that
 *	  rustydb.tables shows (last flush, flushes, rows and bytes since server
 *	  start).
 *
 * Why our own shared memory: PostgreSQL 15's progress reporting
 * (pgstat_progress_start_command) only knows its own command types, and
 * pg_stat_get_progress_info refuses any other, so an extension cannot add a
 * pg_stat_progress_* view of its own kind.  The layout follows it anyway:
 * one slot per backend (indexed by MyBackendId), written only by its owner
 * under the slot's spinlock, read by anyone.
 *
 * The history is a fixed-size shared hash keyed by (database, table) under
 * one LWLock (a flush updates it once, at its end).  When it is full the
 * table flushed longest ago is forgotten to make room (rustydb.tables then
 * shows NULL for it); the size, RDB_FLUSH_HISTORY_TABLES, is documented in
 * README.md.  Nothing
 * survives a restart: it is "since the server started", like the
 * cumulative statistics between resets.
 *
 * Privileges: a flush is shown only for a table of the current database the
 * user may SELECT; the history is read by the views, which apply the same
 * rule.
 *
 * IDENTIFICATION
 *	  src/lsm/flush_progress.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/backendid.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "rustydb/rustydb.h"
#include "rustydb/lsm.h"

/* tables whose flush history is kept */
#define RDB_FLUSH_HISTORY_TABLES	1024

typedef struct FlushProgressSlot
{
	slock_t		mutex;
	int			pid;			/* 0: no flush running in this backend */
	Oid			dbid;
	Oid			relid;
	bool		background;
	RdbFlushPhase phase;
	TimestampTz started;
	int64		l0_pages_total;
	int64		l0_pages_scanned;
	int64		rows_collected;	/* copied for the stripe being built */
	int64		rows_flushed;
	int			stripes;
	int64		stripe_bytes;
} FlushProgressSlot;

typedef struct FlushHistoryKey
{
	Oid			dbid;
	Oid			relid;
} FlushHistoryKey;

typedef struct FlushHistoryEntry
{
	FlushHistoryKey key;		/* hash key: must be first */
	TimestampTz last_flush;		/* end of the last flush that moved rows */
	int64		flushes;		/* flushes that moved rows */
	int64		rows_flushed;
	int64		stripes;
	int64		stripe_bytes;
	int64		raw_bytes;
} FlushHistoryEntry;

typedef struct FlushShared
{
	LWLock	   *history_lock;
	int			nslots;
	FlushProgressSlot slots[FLEXIBLE_ARRAY_MEMBER];
} FlushShared;

static FlushShared *flush_shared = NULL;
static HTAB *flush_history = NULL;
static FlushProgressSlot *my_slot = NULL;

static int
flush_nslots(void)
{
	return MaxBackends;
}

/*
 * rdb_flush_shmem_request
 *		Reserve the progress slots, the history hash and its lock
 *		(shmem_request_hook).
 */
void
rdb_flush_shmem_request(void)
{
	RequestAddinShmemSpace(add_size(offsetof(FlushShared, slots),
									mul_size(flush_nslots(), sizeof(FlushProgressSlot))));
	RequestAddinShmemSpace(hash_estimate_size(RDB_FLUSH_HISTORY_TABLES,
											  sizeof(FlushHistoryEntry)));
	RequestNamedLWLockTranche("rustydb flush history", 1);
}

/* rdb_flush_shmem_startup: create or attach (shmem_startup_hook) */
void
rdb_flush_shmem_startup(void)
{
	bool		found;
	HASHCTL		ctl;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	flush_shared = ShmemInitStruct("rustydb flush progress",
								   add_size(offsetof(FlushShared, slots),
											mul_size(flush_nslots(), sizeof(FlushProgressSlot))),
								   &found);
	if (!found)
	{
		int			i;

		flush_shared->history_lock =
			&(GetNamedLWLockTranche("rustydb flush history"))->lock;
		flush_shared->nslots = flush_nslots();
		for (i = 0; i < flush_shared->nslots; i++)
		{
			memset(&flush_shared->slots[i], 0, sizeof(FlushProgressSlot));
			SpinLockInit(&flush_shared->slots[i].mutex);
		}
	}
	ctl.keysize = sizeof(FlushHistoryKey);
	ctl.entrysize = sizeof(FlushHistoryEntry);
	flush_history = ShmemInitHash("rustydb flush history",
								  RDB_FLUSH_HISTORY_TABLES,
								  RDB_FLUSH_HISTORY_TABLES,
								  &ctl, HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
	LWLockRelease(AddinShmemInitLock);
}

/* the slot of this backend, NULL if there is none (not preloaded) */
static FlushProgressSlot *
flush_my_slot(void)
{
	if (flush_shared == NULL || MyBackendId == InvalidBackendId ||
		MyBackendId > flush_shared->nslots)
		return NULL;
	return &flush_shared->slots[MyBackendId - 1];
}

/*
 * rdb_flush_progress_begin
 *		This backend starts flushing rel, whose main fork has nblocks pages.
 */
void
rdb_flush_progress_begin(Relation rel, BlockNumber nblocks, bool background)
{
	FlushProgressSlot *s = flush_my_slot();

	my_slot = s;
	if (s == NULL)
		return;
	SpinLockAcquire(&s->mutex);
	s->pid = MyProcPid;
	s->dbid = MyDatabaseId;
	s->relid = RelationGetRelid(rel);
	s->background = background;
	s->phase = RDB_FLUSH_PHASE_SCANNING;
	s->started = GetCurrentTimestamp();
	s->l0_pages_total = nblocks;
	s->l0_pages_scanned = 0;
	s->rows_collected = 0;
	s->rows_flushed = 0;
	s->stripes = 0;
	s->stripe_bytes = 0;
	SpinLockRelease(&s->mutex);
}

/*
 * rdb_flush_progress_update
 *		Where the running flush is: its phase, the page it reached, the rows
 *		collected for the stripe being built, and its totals so far.
 */
void
rdb_flush_progress_update(RdbFlushPhase phase, BlockNumber blkno,
						  int64 rows_collected, const RdbFlushStats *stats)
{
	FlushProgressSlot *s = my_slot;

	if (s == NULL)
		return;
	SpinLockAcquire(&s->mutex);
	s->phase = phase;
	s->l0_pages_scanned = blkno;
	s->rows_collected = rows_collected;
	s->rows_flushed = stats->rows_flushed;
	s->stripes = stats->stripes;
	s->stripe_bytes = stats->stripe_bytes;
	SpinLockRelease(&s->mutex);
}

/*
 * rdb_flush_progress_end
 *		The flush of rel ended, normally or by an error: clear the slot,
 *		and add what it did (stats, may be NULL) to the table's history if
 *		it moved rows (pages converted before an error stay converted).
 */
void
rdb_flush_progress_end(Relation rel, const RdbFlushStats *stats)
{
	FlushProgressSlot *s = my_slot;

	if (s != NULL)
	{
		SpinLockAcquire(&s->mutex);
		s->pid = 0;
		SpinLockRelease(&s->mutex);
	}
	my_slot = NULL;

	if (stats != NULL && stats->rows_flushed > 0 && flush_history != NULL)
	{
		FlushHistoryKey key;
		FlushHistoryEntry *e;
		bool		found;

		memset(&key, 0, sizeof(key));
		key.dbid = MyDatabaseId;
		key.relid = RelationGetRelid(rel);
		LWLockAcquire(flush_shared->history_lock, LW_EXCLUSIVE);
		e = hash_search(flush_history, &key, HASH_ENTER_NULL, &found);
		if (e == NULL)
		{
			/* full: forget the table flushed longest ago */
			HASH_SEQ_STATUS it;
			FlushHistoryEntry *cur;
			FlushHistoryKey oldest;
			TimestampTz oldest_ts = DT_NOEND;

			memset(&oldest, 0, sizeof(oldest));
			hash_seq_init(&it, flush_history);
			while ((cur = hash_seq_search(&it)) != NULL)
			{
				if (cur->last_flush < oldest_ts)
				{
					oldest_ts = cur->last_flush;
					oldest = cur->key;
				}
			}
			hash_search(flush_history, &oldest, HASH_REMOVE, NULL);
			e = hash_search(flush_history, &key, HASH_ENTER_NULL, &found);
		}
		if (e != NULL)
		{
			if (!found)
			{
				e->flushes = 0;
				e->rows_flushed = 0;
				e->stripes = 0;
				e->stripe_bytes = 0;
				e->raw_bytes = 0;
			}
			e->last_flush = GetCurrentTimestamp();
			e->flushes++;
			e->rows_flushed += stats->rows_flushed;
			e->stripes += stats->stripes;
			e->stripe_bytes += stats->stripe_bytes;
			e->raw_bytes += stats->raw_bytes;
		}
		LWLockRelease(flush_shared->history_lock);
	}
}

/*
 * rdb_flush_forget
 *		Drop the history of a table whose storage is gone or replaced
 *		(DROP, TRUNCATE, rewrite): its numbers describe stripes that no
 *		longer exist.
 */
void
rdb_flush_forget(Oid relid)
{
	FlushHistoryKey key;

	if (flush_history == NULL)
		return;
	memset(&key, 0, sizeof(key));
	key.dbid = MyDatabaseId;
	key.relid = relid;
	LWLockAcquire(flush_shared->history_lock, LW_EXCLUSIVE);
	hash_search(flush_history, &key, HASH_REMOVE, NULL);
	LWLockRelease(flush_shared->history_lock);
	rdb_flush_demand_forget(relid);
}

static const char *
flush_phase_name(RdbFlushPhase phase)
{
	switch (phase)
	{
		case RDB_FLUSH_PHASE_SCANNING:
			return "scanning L0";
		case RDB_FLUSH_PHASE_WRITING:
			return "writing stripe";
		case RDB_FLUSH_PHASE_CONVERTING:
			return "converting rows to stubs";
	}
	return "unknown";
}

/*
 * rustydb.flush_progress_all() RETURNS TABLE (pid int, datid oid,
 *	relid oid, background bool, phase text, started timestamptz,
 *	l0_pages_total bigint, l0_pages_scanned bigint, rows_collected bigint,
 *	rows_flushed bigint, stripes_written int, stripe_bytes_written bigint)
 *
 * The running flushes of tables of this database the user may SELECT.
 */
PG_FUNCTION_INFO_V1(rustydb_flush_progress_all);
Datum
rustydb_flush_progress_all(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	rdb_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; flush_shared != NULL && i < flush_shared->nslots; i++)
	{
		FlushProgressSlot copy;
		FlushProgressSlot *s = &flush_shared->slots[i];
		Datum		values[12];
		bool		nulls[12] = {0};

		SpinLockAcquire(&s->mutex);
		copy = *s;
		SpinLockRelease(&s->mutex);
		if (copy.pid == 0)
			continue;
		/* the privilege rule of every rustydb view */
		if (copy.dbid != MyDatabaseId)
			continue;
		{
			bool		missing = false;

			if (pg_class_aclcheck_ext(copy.relid, GetUserId(), ACL_SELECT,
									  &missing) != ACLCHECK_OK || missing)
				continue;
		}
		values[0] = Int32GetDatum(copy.pid);
		values[1] = ObjectIdGetDatum(copy.dbid);
		values[2] = ObjectIdGetDatum(copy.relid);
		values[3] = BoolGetDatum(copy.background);
		values[4] = CStringGetTextDatum(flush_phase_name(copy.phase));
		values[5] = TimestampTzGetDatum(copy.started);
		values[6] = Int64GetDatum(copy.l0_pages_total);
		values[7] = Int64GetDatum(copy.l0_pages_scanned);
		values[8] = Int64GetDatum(copy.rows_collected);
		values[9] = Int64GetDatum(copy.rows_flushed);
		values[10] = Int32GetDatum(copy.stripes);
		values[11] = Int64GetDatum(copy.stripe_bytes);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * rustydb.flush_history(rel regclass, OUT last_flush timestamptz,
 *	OUT flushes bigint, OUT rows_flushed bigint, OUT stripes_written bigint,
 *	OUT stripe_bytes_written bigint)
 *
 * The table's flushes since the server started (all NULL if none, or if
 * its history was forgotten).  Needs SELECT on the table.
 */
PG_FUNCTION_INFO_V1(rustydb_flush_history);
Datum
rustydb_flush_history(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	TupleDesc	tupdesc;
	FlushHistoryKey key;
	FlushHistoryEntry *e;
	FlushHistoryEntry copy;
	bool		have = false;
	Datum		values[5];
	bool		nulls[5] = {0};

	rdb_check_preloaded();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	rdb_require_select(relid);
	rdb_require_rustydb_table(relid);
	memset(&key, 0, sizeof(key));
	key.dbid = MyDatabaseId;
	key.relid = relid;
	if (flush_history != NULL)
	{
		LWLockAcquire(flush_shared->history_lock, LW_SHARED);
		e = hash_search(flush_history, &key, HASH_FIND, NULL);
		if (e != NULL)
		{
			copy = *e;
			have = true;
		}
		LWLockRelease(flush_shared->history_lock);
	}
	if (!have)
	{
		memset(nulls, true, sizeof(nulls));
		memset(values, 0, sizeof(values));
	}
	else
	{
		values[0] = TimestampTzGetDatum(copy.last_flush);
		values[1] = Int64GetDatum(copy.flushes);
		values[2] = Int64GetDatum(copy.rows_flushed);
		values[3] = Int64GetDatum(copy.stripes);
		values[4] = Int64GetDatum(copy.stripe_bytes);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
