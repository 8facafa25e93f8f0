/*-------------------------------------------------------------------------
 *
 * ring.c
 *	  The shared-memory event ring, delivery counters and I/O accounting.
 *
 * Backends append events to a fixed-size ring of RdbEventSlots.  A writer
 * holds the ring's spinlock only to take the next sequence number (and to
 * count the unsent event it is about to overwrite as dropped); it fills the
 * slot outside the lock.  Each slot is a seqlock: the writer stores the
 * sequence number it is writing in 'wseq', then the event, then 'seq'
 * (with write barriers in between).  Readers (the NOTIFY worker, the views)
 * copy a slot without any lock and accept the copy only if 'seq' before and
 * 'wseq' after the copy both equal the sequence number they asked for.
 * So writers never wait for readers, and a reader never sees a torn event.
 *
 * When the ring is full the oldest events are overwritten; one that had not
 * been delivered (NOTIFYed or aggregated) yet counts as dropped.
 *
 * The same shared struct carries per-channel delivery counters
 * (rustydb.event_stats) and per-database I/O counters from which the worker
 * derives IoStats.
 *
 * Locking: ring->mutex (spinlock) protects next_seq, the counters and the
 * I/O slots; never held across anything but a few assignments.
 *
 * IDENTIFICATION
 *	  src/events/ring.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "rustydb/events.h"

/* databases whose I/O counters we keep; more share the last slot */
#define RDB_MAX_IO_DBS		64

typedef struct RdbEventSlot
{
	pg_atomic_uint64 seq;		/* event stored here; 0 = never written */
	pg_atomic_uint64 wseq;		/* event being written here */
	pg_atomic_uint32 delivered; /* NOTIFYed, aggregated or shed */
	RdbEvent	ev;
} RdbEventSlot;

typedef struct RdbIoSlot
{
	Oid			dbid;
	RdbIoCounters c;
	RdbIoCounters c_last;		/* counters when IoStats was last built */
	TimestampTz last_at;		/* ... and when */
	bool		has_stats;
	RdbEvent	last_stats;		/* the latest IoStats the worker built */
} RdbIoSlot;

typedef struct RdbEventRing
{
	slock_t		mutex;
	uint64		next_seq;		/* first event is 1 */
	uint64		capacity;
	TimestampTz since;			/* counters start here */
	uint64		counts[RDB_NUM_CHANNELS][RDB_NUM_COUNTERS];
	Latch	   *launcher_latch;
	int			nworker_dbs;	/* databases whose event worker is running */
	Oid			worker_dbs[RDB_MAX_IO_DBS];
	int			nio;
	RdbIoSlot	io[RDB_MAX_IO_DBS];
	RdbEventSlot slots[FLEXIBLE_ARRAY_MEMBER];
} RdbEventRing;

static RdbEventRing *ring = NULL;

static Size
rdb_events_shmem_size(void)
{
	return add_size(offsetof(RdbEventRing, slots),
					mul_size(rdb_event_ring_size, sizeof(RdbEventSlot)));
}

/*
 * rdb_events_shmem_request
 *		Reserve the ring's shared memory (shmem_request_hook).
 */
void
rdb_events_shmem_request(void)
{
	RequestAddinShmemSpace(rdb_events_shmem_size());
}

/*
 * rdb_events_shmem_startup
 *		Create or attach to the ring (shmem_startup_hook).
 */
void
rdb_events_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	ring = ShmemInitStruct("rustydb event ring", rdb_events_shmem_size(),
						   &found);
	if (!found)
	{
		uint64		i;

		SpinLockInit(&ring->mutex);
		ring->next_seq = 1;
		ring->capacity = rdb_event_ring_size;
		ring->since = GetCurrentTimestamp();
		memset(ring->counts, 0, sizeof(ring->counts));
		ring->launcher_latch = NULL;
		ring->nworker_dbs = 0;
		ring->nio = 0;
		memset(ring->io, 0, sizeof(ring->io));
		for (i = 0; i < ring->capacity; i++)
		{
			pg_atomic_init_u64(&ring->slots[i].seq, 0);
			pg_atomic_init_u64(&ring->slots[i].wseq, 0);
			pg_atomic_init_u32(&ring->slots[i].delivered, 0);
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * rdb_event_init
 *		Start an event of the given variant about rel (may be NULL), now,
 *		in the current database.
 */
void
rdb_event_init(RdbEvent *ev, RdbEventVariant variant, Relation rel)
{
	memset(ev, 0, sizeof(RdbEvent));
	ev->variant = variant;
	ev->dbid = MyDatabaseId;
	ev->relid = rel ? RelationGetRelid(rel) : InvalidOid;
	ev->at = GetCurrentTimestamp();
}

/*
 * rdb_events_publish
 *		Append an event to the ring.  Never blocks beyond a spinlock's
 *		moment, never fails: with events off, outside a database, or before
 *		shared memory exists, it does nothing.
 */
void
rdb_events_publish(RdbEvent *ev)
{
	uint64		seq;
	RdbEventSlot *slot;
	Latch	   *latch;
	int			i;

	if (ring == NULL || !rdb_events_enabled || !OidIsValid(ev->dbid))
		return;

	SpinLockAcquire(&ring->mutex);
	seq = ring->next_seq++;
	slot = &ring->slots[seq % ring->capacity];
	if (pg_atomic_read_u64(&slot->seq) != 0 &&
		pg_atomic_read_u32(&slot->delivered) == 0)
	{
		const RdbEventVariantInfo *old =
			rdb_event_variant((RdbEventVariant) slot->ev.variant);

		ring->counts[old->channel][RDB_COUNT_DROPPED]++;
	}
	/* wake the launcher only if no worker serves this database yet */
	latch = ring->launcher_latch;
	for (i = 0; latch != NULL && i < ring->nworker_dbs; i++)
		if (ring->worker_dbs[i] == ev->dbid)
			latch = NULL;
	SpinLockRelease(&ring->mutex);

	pg_atomic_write_u64(&slot->wseq, seq);
	pg_write_barrier();
	memcpy(&slot->ev, ev, sizeof(RdbEvent));
	pg_atomic_write_u32(&slot->delivered, 0);
	pg_write_barrier();
	pg_atomic_write_u64(&slot->seq, seq);

	if (latch)
		SetLatch(latch);
}

/* the sequence number the next event will get */
uint64
rdb_events_next_seq(void)
{
	uint64		seq;

	if (ring == NULL)
		return 1;
	SpinLockAcquire(&ring->mutex);
	seq = ring->next_seq;
	SpinLockRelease(&ring->mutex);
	return seq;
}

uint64
rdb_events_capacity(void)
{
	return ring ? ring->capacity : 0;
}

/*
 * rdb_events_read_ext
 *		Copy event 'seq' if the ring still holds it.  PENDING means a writer
 *		took the number but has not finished filling the slot; GONE means the
 *		slot was reused for a newer event.
 */
RdbEventReadResult
rdb_events_read_ext(uint64 seq, RdbEvent *ev, bool *delivered)
{
	RdbEventSlot *slot;
	uint64		s;

	if (ring == NULL || seq == 0)
		return RDB_READ_GONE;
	slot = &ring->slots[seq % ring->capacity];
	s = pg_atomic_read_u64(&slot->seq);
	if (s != seq)
		return s < seq ? RDB_READ_PENDING : RDB_READ_GONE;
	pg_read_barrier();
	memcpy(ev, &slot->ev, sizeof(RdbEvent));
	if (delivered)
		*delivered = pg_atomic_read_u32(&slot->delivered) != 0;
	pg_read_barrier();
	if (pg_atomic_read_u64(&slot->wseq) != seq ||
		pg_atomic_read_u64(&slot->seq) != seq)
		return RDB_READ_GONE;
	return RDB_READ_OK;
}

/* rdb_events_read_ext for callers that only care whether they got it */
bool
rdb_events_read(uint64 seq, RdbEvent *ev, bool *delivered)
{
	return rdb_events_read_ext(seq, ev, delivered) == RDB_READ_OK;
}

/* record that event 'seq' was delivered (notified, aggregated or shed) */
void
rdb_events_mark_notified(uint64 seq)
{
	RdbEventSlot *slot;

	if (ring == NULL)
		return;
	slot = &ring->slots[seq % ring->capacity];
	if (pg_atomic_read_u64(&slot->seq) == seq)
		pg_atomic_write_u32(&slot->delivered, 1);
}

void
rdb_events_count(RdbEventChannel ch, RdbEventCounter which, uint64 n)
{
	if (ring == NULL || n == 0)
		return;
	SpinLockAcquire(&ring->mutex);
	ring->counts[ch][which] += n;
	SpinLockRelease(&ring->mutex);
}

void
rdb_events_get_counts(uint64 counts[RDB_NUM_CHANNELS][RDB_NUM_COUNTERS],
					  TimestampTz *since)
{
	if (ring == NULL)
	{
		memset(counts, 0, sizeof(uint64) * RDB_NUM_CHANNELS * RDB_NUM_COUNTERS);
		*since = 0;
		return;
	}
	SpinLockAcquire(&ring->mutex);
	memcpy(counts, ring->counts, sizeof(ring->counts));
	*since = ring->since;
	SpinLockRelease(&ring->mutex);
}

/* the launcher publishes its latch so that new events wake it */
void
rdb_events_set_launcher_latch(Latch *latch)
{
	if (ring == NULL)
		return;
	SpinLockAcquire(&ring->mutex);
	ring->launcher_latch = latch;
	SpinLockRelease(&ring->mutex);
}

/*
 * rdb_events_worker_attach / detach
 *		An event worker announces that it serves its database, so that
 *		publishers stop waking the launcher for that database's events
 *		(one wakeup per event would cost writers a context switch each).
 */
void
rdb_events_worker_attach(Oid dbid)
{
	if (ring == NULL)
		return;
	SpinLockAcquire(&ring->mutex);
	if (ring->nworker_dbs < RDB_MAX_IO_DBS)
		ring->worker_dbs[ring->nworker_dbs++] = dbid;
	SpinLockRelease(&ring->mutex);
}

void
rdb_events_worker_detach(Oid dbid)
{
	int			i;

	if (ring == NULL)
		return;
	SpinLockAcquire(&ring->mutex);
	for (i = 0; i < ring->nworker_dbs; i++)
	{
		if (ring->worker_dbs[i] == dbid)
		{
			ring->worker_dbs[i] = ring->worker_dbs[--ring->nworker_dbs];
			break;
		}
	}
	SpinLockRelease(&ring->mutex);
}

void
rdb_events_wake_launcher(void)
{
	Latch	   *latch;

	if (ring == NULL)
		return;
	SpinLockAcquire(&ring->mutex);
	latch = ring->launcher_latch;
	SpinLockRelease(&ring->mutex);
	if (latch)
		SetLatch(latch);
}

/* ------------------------------------------------------------------------
 * I/O accounting
 * ------------------------------------------------------------------------
 */

/* the I/O slot of a database; caller holds ring->mutex */
static RdbIoSlot *
io_slot(Oid dbid)
{
	int			i;

	for (i = 0; i < ring->nio; i++)
		if (ring->io[i].dbid == dbid)
			return &ring->io[i];
	if (ring->nio < RDB_MAX_IO_DBS)
	{
		RdbIoSlot  *s = &ring->io[ring->nio++];

		memset(s, 0, sizeof(RdbIoSlot));
		s->dbid = dbid;
		s->last_at = GetCurrentTimestamp();
		return s;
	}
	return NULL;
}

/* account one page read (or write) of the current database */
void
rdb_io_count(bool is_write, uint64 bytes, uint64 us)
{
	RdbIoSlot  *s;

	if (ring == NULL || !OidIsValid(MyDatabaseId))
		return;
	SpinLockAcquire(&ring->mutex);
	s = io_slot(MyDatabaseId);
	if (s && is_write)
	{
		s->c.writes++;
		s->c.write_bytes += bytes;
		s->c.write_us += us;
	}
	else if (s)
	{
		s->c.reads++;
		s->c.read_bytes += bytes;
		s->c.read_us += us;
	}
	SpinLockRelease(&ring->mutex);
}

/*
 * rdb_io_take_delta
 *		The database's I/O since the previous call (or since its first I/O),
 *		and the time that covers; starts the next interval.  False when there
 *		was no I/O at all.
 */
bool
rdb_io_take_delta(Oid dbid, TimestampTz now, RdbIoCounters *delta,
				  double *secs)
{
	int			i;
	bool		found = false;

	if (ring == NULL)
		return false;
	SpinLockAcquire(&ring->mutex);
	for (i = 0; i < ring->nio; i++)
	{
		RdbIoSlot  *s = &ring->io[i];

		if (s->dbid != dbid)
			continue;
		delta->reads = s->c.reads - s->c_last.reads;
		delta->read_bytes = s->c.read_bytes - s->c_last.read_bytes;
		delta->read_us = s->c.read_us - s->c_last.read_us;
		delta->writes = s->c.writes - s->c_last.writes;
		delta->write_bytes = s->c.write_bytes - s->c_last.write_bytes;
		delta->write_us = s->c.write_us - s->c_last.write_us;
		*secs = (double) (now - s->last_at) / USECS_PER_SEC;
		found = (delta->reads > 0 || delta->writes > 0) && *secs > 0;
		if (found)
		{
			s->c_last = s->c;
			s->last_at = now;
		}
		break;
	}
	SpinLockRelease(&ring->mutex);
	return found;
}

/* remember the latest IoStats of a database, for rustydb.io_stats */
void
rdb_io_set_stats(Oid dbid, const RdbEvent *iostats)
{
	RdbIoSlot  *s;

	if (ring == NULL)
		return;
	SpinLockAcquire(&ring->mutex);
	s = io_slot(dbid);
	if (s)
	{
		s->last_stats = *iostats;
		s->has_stats = true;
	}
	SpinLockRelease(&ring->mutex);
}

/* copy out up to max latest IoStats events, one per database */
int
rdb_io_get_stats(RdbEvent *out, int max)
{
	int			i;
	int			n = 0;

	if (ring == NULL)
		return 0;
	SpinLockAcquire(&ring->mutex);
	for (i = 0; i < ring->nio && n < max; i++)
		if (ring->io[i].has_stats)
			out[n++] = ring->io[i].last_stats;
	SpinLockRelease(&ring->mutex);
	return n;
}
