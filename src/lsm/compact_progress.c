/*-------------------------------------------------------------------------
 *
 * compact_progress.c
 *	  What compactions are doing now and what they did: the shared memory
 *	  behind rustydb.compaction_progress (one row per running compaction)
 *	  and the per-table compaction history rustydb.tables shows (last
 *	  compaction, steps, rows dropped, pages given back, the last error and
 *	  the back-off it imposes on the background worker).
 *
 * Same design as flush_progress.c, for the same reason (PostgreSQL 15's
 * progress API knows only its own commands): one slot per backend written
 * by its owner under the slot's spinlock, and a fixed-size shared hash of
 * RDB_COMPACT_HISTORY_TABLES tables under one LWLock, the table compacted
 * longest ago forgotten when it is full.  Nothing survives a restart.
 *
 * IDENTIFICATION
 *	  src/lsm/compact_progress.c
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
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "rustydb/rustydb.h"
#include "rustydb/lsm.h"

#define RDB_COMPACT_HISTORY_TABLES	1024
#define RDB_COMPACT_ERROR_LEN		256

/* back-off after a failed background compaction: 10 s doubling to 10 min */
#define RDB_COMPACT_BACKOFF_MIN_MS	10000
#define RDB_COMPACT_BACKOFF_MAX_MS	600000

typedef struct CompactSlot
{
	slock_t		mutex;
	int			pid;			/* 0: no compaction running here */
	Oid			dbid;
	Oid			relid;
	bool		background;
	RdbCompactPhase phase;
	TimestampTz started;
	int			level;
	int			stripes_total;	/* inputs of the current step */
	int64		rows_total;		/* rows they hold */
	int64		rows_written;	/* so far, this run */
	int64		rows_switched;
	int			steps;
	int			stripes_in;
	int			stripes_out;
} CompactSlot;

typedef struct CompactKey
{
	Oid			dbid;
	Oid			relid;
} CompactKey;

typedef struct CompactHistory
{
	CompactKey	key;			/* hash key: must be first */
	TimestampTz last_compaction;	/* end of the last run that did work */
	int64		runs;			/* runs that did work */
	int64		steps;
	int64		stripes_in;
	int64		stripes_out;
	int64		rows_dropped;
	int64		bytes_written;
	int64		blocks_freed;
	int64		blocks_pending;	/* of the last run */
	TimestampTz last_error_at;	/* 0: none */
	char		last_error[RDB_COMPACT_ERROR_LEN];
	int			failures;		/* in a row */
	TimestampTz retry_after;
} CompactHistory;

typedef struct CompactShared
{
	LWLock	   *lock;
	int			nslots;
	CompactSlot slots[FLEXIBLE_ARRAY_MEMBER];
} CompactShared;

static CompactShared *compact_shared = NULL;
static HTAB *compact_history = NULL;
static CompactSlot *my_slot = NULL;

static Size
compact_shared_size(void)
{
	return add_size(offsetof(CompactShared, slots),
					mul_size(MaxBackends, sizeof(CompactSlot)));
}

/* rdb_compact_shmem_request: slots, history, lock (shmem_request_hook) */
void
rdb_compact_shmem_request(void)
{
	RequestAddinShmemSpace(compact_shared_size());
	RequestAddinShmemSpace(hash_estimate_size(RDB_COMPACT_HISTORY_TABLES,
											  sizeof(CompactHistory)));
	RequestNamedLWLockTranche("rustydb compaction history", 1);
}

/* rdb_compact_shmem_startup: create or attach (shmem_startup_hook) */
void
rdb_compact_shmem_startup(void)
{
	bool		found;
	HASHCTL		ctl;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	compact_shared = ShmemInitStruct("rustydb compaction progress",
									 compact_shared_size(), &found);
	if (!found)
	{
		int			i;

		compact_shared->lock =
			&(GetNamedLWLockTranche("rustydb compaction history"))->lock;
		compact_shared->nslots = MaxBackends;
		for (i = 0; i < compact_shared->nslots; i++)
		{
			memset(&compact_shared->slots[i], 0, sizeof(CompactSlot));
			SpinLockInit(&compact_shared->slots[i].mutex);
		}
	}
	ctl.keysize = sizeof(CompactKey);
	ctl.entrysize = sizeof(CompactHistory);
	compact_history = ShmemInitHash("rustydb compaction history",
									RDB_COMPACT_HISTORY_TABLES,
									RDB_COMPACT_HISTORY_TABLES,
									&ctl, HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
	LWLockRelease(AddinShmemInitLock);
}

/* rdb_compact_progress_begin: this backend starts compacting rel */
void
rdb_compact_progress_begin(Relation rel, bool background)
{
	CompactSlot *s = NULL;

	if (compact_shared != NULL && MyBackendId != InvalidBackendId &&
		MyBackendId <= compact_shared->nslots)
		s = &compact_shared->slots[MyBackendId - 1];
	my_slot = s;
	if (s == NULL)
		return;
	SpinLockAcquire(&s->mutex);
	s->pid = MyProcPid;
	s->dbid = MyDatabaseId;
	s->relid = RelationGetRelid(rel);
	s->background = background;
	s->phase = RDB_COMPACT_PHASE_SURVEYING;
	s->started = GetCurrentTimestamp();
	s->level = 0;
	s->stripes_total = 0;
	s->rows_total = 0;
	s->rows_written = 0;
	s->rows_switched = 0;
	s->steps = 0;
	s->stripes_in = 0;
	s->stripes_out = 0;
	SpinLockRelease(&s->mutex);
}

/* rdb_compact_progress_update: phase, the current step's size, totals */
void
rdb_compact_progress_update(RdbCompactPhase phase, int stripes_total,
							int64 rows_total, const RdbCompactStats *stats)
{
	CompactSlot *s = my_slot;

	if (s == NULL)
		return;
	SpinLockAcquire(&s->mutex);
	s->phase = phase;
	if (phase == RDB_COMPACT_PHASE_WRITING || phase == RDB_COMPACT_PHASE_SWITCHING)
	{
		s->stripes_total = stripes_total;
		s->rows_total = rows_total;
		s->level = stats->level;
	}
	s->rows_written = stats->rows_read;
	s->rows_switched = stats->rows_switched;
	s->steps = stats->steps;
	s->stripes_in = stats->stripes_in;
	s->stripes_out = stats->stripes_out;
	SpinLockRelease(&s->mutex);
}

/* the history entry of rel, made if needed (history lock held exclusively) */
static CompactHistory *
compact_history_enter(Oid relid)
{
	CompactKey	key;
	CompactHistory *e;
	bool		found;

	memset(&key, 0, sizeof(key));
	key.dbid = MyDatabaseId;
	key.relid = relid;
	e = hash_search(compact_history, &key, HASH_ENTER_NULL, &found);
	if (e == NULL)
	{
		/* full: forget the table compacted longest ago */
		HASH_SEQ_STATUS it;
		CompactHistory *cur;
		CompactKey	oldest;
		TimestampTz oldest_ts = DT_NOEND;

		memset(&oldest, 0, sizeof(oldest));
		hash_seq_init(&it, compact_history);
		while ((cur = hash_seq_search(&it)) != NULL)
		{
			TimestampTz ts = Max(cur->last_compaction, cur->last_error_at);

			if (ts < oldest_ts)
			{
				oldest_ts = ts;
				oldest = cur->key;
			}
		}
		hash_search(compact_history, &oldest, HASH_REMOVE, NULL);
		e = hash_search(compact_history, &key, HASH_ENTER_NULL, &found);
	}
	if (e != NULL && !found)
		memset((char *) e + sizeof(CompactKey), 0,
			   sizeof(CompactHistory) - sizeof(CompactKey));
	return e;
}

/*
 * rdb_compact_progress_end
 *		The compaction of rel ended: normally (error NULL) or by that error.
 *		Clear the slot and add it to the table's history: what it did, or
 *		the error and the next time the background worker may try.
 */
void
rdb_compact_progress_end(Relation rel, const RdbCompactStats *stats,
						 const char *error)
{
	CompactSlot *s = my_slot;
	CompactHistory *e;

	if (s != NULL)
	{
		SpinLockAcquire(&s->mutex);
		s->pid = 0;
		SpinLockRelease(&s->mutex);
	}
	my_slot = NULL;
	if (compact_history == NULL)
		return;
	if (error == NULL && stats->steps == 0 && stats->blocks_freed == 0)
	{
		/* nothing done: only a success after failures is worth noting */
		CompactKey	key;

		if (stats->put_off)
			return;				/* neither a success nor a failure */

		memset(&key, 0, sizeof(key));
		key.dbid = MyDatabaseId;
		key.relid = RelationGetRelid(rel);
		LWLockAcquire(compact_shared->lock, LW_EXCLUSIVE);
		e = hash_search(compact_history, &key, HASH_FIND, NULL);
		if (e != NULL)
			e->failures = 0;
		LWLockRelease(compact_shared->lock);
		return;
	}

	LWLockAcquire(compact_shared->lock, LW_EXCLUSIVE);
	e = compact_history_enter(RelationGetRelid(rel));
	if (e != NULL)
	{
		TimestampTz now = GetCurrentTimestamp();

		e->steps += stats->steps;
		e->stripes_in += stats->stripes_in;
		e->stripes_out += stats->stripes_out;
		e->rows_dropped += stats->rows_dropped;
		e->bytes_written += stats->bytes_written;
		e->blocks_freed += stats->blocks_freed;
		e->blocks_pending = stats->blocks_pending;
		if (stats->steps > 0 || stats->blocks_freed > 0)
		{
			e->last_compaction = now;
			e->runs++;
		}
		if (error != NULL)
		{
			int64		wait_ms;

			e->last_error_at = now;
			strlcpy(e->last_error, error, sizeof(e->last_error));
			e->failures++;
			wait_ms = (int64) RDB_COMPACT_BACKOFF_MIN_MS << Min(e->failures - 1, 10);
			wait_ms = Min(wait_ms, RDB_COMPACT_BACKOFF_MAX_MS);
			e->retry_after = TimestampTzPlusMilliseconds(now, wait_ms);
		}
		else
			e->failures = 0;
	}
	LWLockRelease(compact_shared->lock);
}

/*
 * rdb_compact_backoff
 *		Should the background worker leave rel alone for now, because its
 *		last compaction failed not long ago?
 */
bool
rdb_compact_backoff(Relation rel)
{
	CompactKey	key;
	CompactHistory *e;
	bool		wait = false;

	if (compact_history == NULL)
		return false;
	memset(&key, 0, sizeof(key));
	key.dbid = MyDatabaseId;
	key.relid = RelationGetRelid(rel);
	LWLockAcquire(compact_shared->lock, LW_SHARED);
	e = hash_search(compact_history, &key, HASH_FIND, NULL);
	if (e != NULL && e->failures > 0 && GetCurrentTimestamp() < e->retry_after)
		wait = true;
	LWLockRelease(compact_shared->lock);
	return wait;
}

/* rdb_compact_forget: the table's storage is gone or replaced */
void
rdb_compact_forget(Oid relid)
{
	CompactKey	key;

	if (compact_history == NULL)
		return;
	memset(&key, 0, sizeof(key));
	key.dbid = MyDatabaseId;
	key.relid = relid;
	LWLockAcquire(compact_shared->lock, LW_EXCLUSIVE);
	hash_search(compact_history, &key, HASH_REMOVE, NULL);
	LWLockRelease(compact_shared->lock);
}

static const char *
compact_phase_name(RdbCompactPhase phase)
{
	switch (phase)
	{
		case RDB_COMPACT_PHASE_NONE:
			break;
		case RDB_COMPACT_PHASE_SURVEYING:
			return "surveying";
		case RDB_COMPACT_PHASE_WRITING:
			return "writing stripes";
		case RDB_COMPACT_PHASE_SWITCHING:
			return "switching rows";
		case RDB_COMPACT_PHASE_FREEING:
			return "freeing space";
	}
	return "unknown";
}

/*
 * rustydb.compaction_progress_all() RETURNS TABLE (pid int, datid oid,
 *	relid oid, background bool, phase text, started timestamptz, level int,
 *	step_stripes int, step_rows bigint, steps_done int, stripes_rewritten
 *	int, stripes_written int, rows_written bigint, rows_switched bigint)
 *
 * The compactions running now on tables of this database the user may
 * SELECT.
 */
PG_FUNCTION_INFO_V1(rustydb_compaction_progress_all);
Datum
rustydb_compaction_progress_all(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	rdb_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; compact_shared != NULL && i < compact_shared->nslots; i++)
	{
		CompactSlot copy;
		CompactSlot *s = &compact_shared->slots[i];
		Datum		values[14];
		bool		nulls[14] = {0};
		bool		missing = false;

		SpinLockAcquire(&s->mutex);
		copy = *s;
		SpinLockRelease(&s->mutex);
		if (copy.pid == 0 || copy.dbid != MyDatabaseId)
			continue;
		if (pg_class_aclcheck_ext(copy.relid, GetUserId(), ACL_SELECT,
								  &missing) != ACLCHECK_OK || missing)
			continue;
		values[0] = Int32GetDatum(copy.pid);
		values[1] = ObjectIdGetDatum(copy.dbid);
		values[2] = ObjectIdGetDatum(copy.relid);
		values[3] = BoolGetDatum(copy.background);
		values[4] = CStringGetTextDatum(compact_phase_name(copy.phase));
		values[5] = TimestampTzGetDatum(copy.started);
		values[6] = Int32GetDatum(copy.level);
		values[7] = Int32GetDatum(copy.stripes_total);
		values[8] = Int64GetDatum(copy.rows_total);
		values[9] = Int32GetDatum(copy.steps);
		values[10] = Int32GetDatum(copy.stripes_in);
		values[11] = Int32GetDatum(copy.stripes_out);
		values[12] = Int64GetDatum(copy.rows_written);
		values[13] = Int64GetDatum(copy.rows_switched);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * rustydb.compaction_history(rel regclass, OUT last_compaction timestamptz,
 *	OUT compactions bigint, OUT steps bigint, OUT stripes_rewritten bigint,
 *	OUT stripes_written bigint, OUT rows_dropped bigint, OUT bytes_written
 *	bigint, OUT pages_freed bigint, OUT pages_pending bigint,
 *	OUT last_error text, OUT last_error_at timestamptz)
 *
 * The table's compactions since the server started (all NULL if none).
 * Needs SELECT on the table.
 */
PG_FUNCTION_INFO_V1(rustydb_compaction_history);
Datum
rustydb_compaction_history(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	TupleDesc	tupdesc;
	CompactKey	key;
	CompactHistory *e;
	CompactHistory copy;
	bool		have = false;
	Datum		values[11];
	bool		nulls[11] = {0};

	rdb_check_preloaded();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	rdb_require_select(relid);
	rdb_require_rustydb_table(relid);
	memset(&key, 0, sizeof(key));
	key.dbid = MyDatabaseId;
	key.relid = relid;
	if (compact_history != NULL)
	{
		LWLockAcquire(compact_shared->lock, LW_SHARED);
		e = hash_search(compact_history, &key, HASH_FIND, NULL);
		if (e != NULL)
		{
			copy = *e;
			have = true;
		}
		LWLockRelease(compact_shared->lock);
	}
	memset(values, 0, sizeof(values));
	if (!have)
		memset(nulls, true, sizeof(nulls));
	else
	{
		if (copy.last_compaction != 0)
			values[0] = TimestampTzGetDatum(copy.last_compaction);
		else
			nulls[0] = true;
		values[1] = Int64GetDatum(copy.runs);
		values[2] = Int64GetDatum(copy.steps);
		values[3] = Int64GetDatum(copy.stripes_in);
		values[4] = Int64GetDatum(copy.stripes_out);
		values[5] = Int64GetDatum(copy.rows_dropped);
		values[6] = Int64GetDatum(copy.bytes_written);
		values[7] = Int64GetDatum(copy.blocks_freed);
		values[8] = Int64GetDatum(copy.blocks_pending);
		if (copy.last_error_at != 0)
		{
			values[9] = CStringGetTextDatum(copy.last_error);
			values[10] = TimestampTzGetDatum(copy.last_error_at);
		}
		else
			nulls[9] = nulls[10] = true;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
