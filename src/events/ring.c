/*-------------------------------------------------------------------------
 *
 * ring.c
 *	  The shared-memory event ring, delivery counters and I/O accounting.
 *
 * Backends append events to a fixed-size ring of RdbEventSlots.  A writer
 * holds the ring's spinlock only to take the next sequence number (and to
 * settle the fate of the undelivered event it is about to overwrite); it
 * fills the slot outside the lock.  Each slot is a seqlock: the writer
 * stores the sequence number it is writing in 'wseq', then the event, then
 * 'pending' and 'seq' (with write barriers in between).  Readers (the NOTIFY
 * worker, the views) copy a slot without any lock and accept the copy only
 * if 'seq' before and 'wseq' after the copy both equal the sequence number
 * they asked for.  So writers never wait for readers, and a reader never
 * sees a torn event.
 *
 * Delivery: 'pending' holds the sequence number of the slot's event while
 * that event is undelivered, 0 once it was delivered (NOTIFYed, aggregated,
 * shed) or dropped.  Whoever delivers or drops an event clears it with a
 * compare-and-swap from that event's own number, so each event is delivered
 * or dropped exactly once, even when the ring wraps under a slow reader.
 *
 * Fair space.  The ring is shared by every database.  Each database's
 * undelivered events are counted; when the slot a writer needs still holds
 * an undelivered event of *another* database, that event is overwritten
 * (dropped) only if its database holds more than its fair share of the ring
 * (capacity / databases with undelivered events).  Otherwise the writer's
 * own new event is dropped instead.  So a database that floods the ring
 * while another one waits for its worker loses its own events, not the
 * other's.  Drops are counted per database and channel.
 *
 * The same shared struct carries per-database delivery counters
 * (rustydb.event_stats) and I/O counters from which the worker derives
 * IoStats.  RDB_MAX_EVENT_DBS databases get their own entry; further ones
 * share the last entry (dbid InvalidOid).  The launcher forgets the entry of
 * a dropped database.
 *
 * Locking: ring->mutex (spinlock) protects next_seq, the database table and
 * its counters; never held across anything but a few assignments and a
 * search of the (small) database table.
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

typedef struct RdbEventSlot
{
	pg_atomic_uint64 seq;		/* event stored here; 0 = never written */
	pg_atomic_uint64 wseq;		/* event being written here */
	pg_atomic_uint64 pending;	/* seq of the event here while undelivered,
								 * else 0 */
	RdbEvent	ev;
} RdbEventSlot;

/* one database: delivery counters, undelivered events, I/O accounting */
typedef struct RdbDbSlot
{
	Oid			dbid;			/* InvalidOid: the shared "other" entry */
	uint64		undelivered;
	uint64		counts[RDB_NUM_CHANNELS][RDB_NUM_COUNTERS];
	RdbIoCounters c;
	RdbIoCounters c_last;		/* counters when IoStats was last built */
	TimestampTz last_at;		/* ... and when */
	bool		has_stats;
	RdbEvent	last_stats;		/* the latest IoStats the worker built */
} RdbDbSlot;

typedef struct RdbEventRing
{
	slock_t		mutex;
	uint64		next_seq;		/* first event is 1 */
	uint64		capacity;
	TimestampTz since;			/* counters start here */
	Latch	   *launcher_latch;
	int			nworker_dbs;	/* databases whose event worker is running */
	Oid			worker_dbs[RDB_MAX_EVENT_DBS];
	Latch	   *worker_latches[RDB_MAX_EVENT_DBS];	/* their workers' */
	int			waiting;		/* databases waiting for a worker slot */
	int			nactive;		/* databases with undelivered events */
	int			ndbs;			/* entries used in dbs[] (not counting
								 * the overflow entry) */
	RdbDbSlot	dbs[RDB_MAX_EVENT_DBS + 1]; /* [RDB_MAX_EVENT_DBS] = other */
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
		ring->launcher_latch = NULL;
		ring->nworker_dbs = 0;
		ring->waiting = 0;
		ring->nactive = 0;
		ring->ndbs = 0;
		memset(ring->dbs, 0, sizeof(ring->dbs));
		ring->dbs[RDB_MAX_EVENT_DBS].dbid = InvalidOid;
		ring->dbs[RDB_MAX_EVENT_DBS].last_at = ring->since;
		for (i = 0; i < ring->capacity; i++)
		{
			pg_atomic_init_u64(&ring->slots[i].seq, 0);
			pg_atomic_init_u64(&ring->slots[i].wseq, 0);
			pg_atomic_init_u64(&ring->slots[i].pending, 0);
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * The entry of a database (created if there is room, else the shared
 * "other" entry); caller holds ring->mutex.  With create = false, NULL when
 * the database has no entry of its own and the table is not full.
 */
static RdbDbSlot *
db_slot(Oid dbid, bool create)
{
	int			i;

	for (i = 0; i < ring->ndbs; i++)
		if (ring->dbs[i].dbid == dbid)
			return &ring->dbs[i];
	if (ring->ndbs < RDB_MAX_EVENT_DBS)
	{
		RdbDbSlot  *s;

		if (!create)
			return NULL;
		s = &ring->dbs[ring->ndbs++];
		memset(s, 0, sizeof(RdbDbSlot));
		s->dbid = dbid;
		s->last_at = GetCurrentTimestamp();
		return s;
	}
	return &ring->dbs[RDB_MAX_EVENT_DBS];
}

/* one undelivered event of this entry less; caller holds ring->mutex */
static void
db_undelivered_sub(RdbDbSlot *d, uint64 n)
{
	if (n == 0)
		return;
	Assert(d->undelivered >= n);
	d->undelivered = d->undelivered > n ? d->undelivered - n : 0;
	if (d->undelivered == 0)
		ring->nactive--;
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
 *		shared memory exists, it does nothing.  When the ring is full, either
 *		the oldest event or this one is dropped (see "Fair space" above).
 */
void
rdb_events_publish(RdbEvent *ev)
{
	uint64		seq;
	RdbEventSlot *slot;
	RdbDbSlot  *me;
	uint64		victim;
	Latch	   *latch;
	int			i;
	RdbEventChannel ch = rdb_event_variant((RdbEventVariant) ev->variant)->channel;

	if (ring == NULL || !rdb_events_enabled || !OidIsValid(ev->dbid))
		return;

	SpinLockAcquire(&ring->mutex);
	seq = ring->next_seq;
	slot = &ring->slots[seq % ring->capacity];
	me = db_slot(ev->dbid, true);

	/*
	 * An undelivered event in the slot: its writer finished it (pending is
	 * set after the event is copied in), and nobody else may reuse the slot
	 * while we hold the mutex, so its dbid and variant are stable.
	 */
	victim = pg_atomic_read_u64(&slot->pending);
	if (victim != 0)
	{
		RdbDbSlot  *vd = db_slot(slot->ev.dbid, false);
		RdbEventChannel vch =
			rdb_event_variant((RdbEventVariant) slot->ev.variant)->channel;

		if (vd == NULL)
			vd = &ring->dbs[RDB_MAX_EVENT_DBS];
		if (vd != me)
		{
			int			nactive = ring->nactive + (me->undelivered == 0 ? 1 : 0);

			/* the other database is within its share: ours is dropped */
			if (vd->undelivered <= ring->capacity / Max(nactive, 1))
			{
				me->counts[ch][RDB_COUNT_DROPPED]++;
				SpinLockRelease(&ring->mutex);
				return;
			}
		}
		if (pg_atomic_compare_exchange_u64(&slot->pending, &victim, 0))
		{
			vd->counts[vch][RDB_COUNT_DROPPED]++;
			db_undelivered_sub(vd, 1);
		}
	}
	ring->next_seq++;
	if (me->undelivered++ == 0)
		ring->nactive++;

	/* wake the launcher only if no worker serves this database yet */
	latch = ring->launcher_latch;
	for (i = 0; latch != NULL && i < ring->nworker_dbs; i++)
		if (ring->worker_dbs[i] == ev->dbid)
			latch = NULL;
	SpinLockRelease(&ring->mutex);

	pg_atomic_write_u64(&slot->wseq, seq);
	pg_write_barrier();
	memcpy(&slot->ev, ev, sizeof(RdbEvent));
	pg_write_barrier();
	pg_atomic_write_u64(&slot->pending, seq);
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
		*delivered = pg_atomic_read_u64(&slot->pending) != seq;
	pg_read_barrier();
	if (pg_atomic_read_u64(&slot->wseq) != seq ||
		pg_atomic_read_u64(&slot->seq) != seq)
		return RDB_READ_GONE;
	return RDB_READ_OK;
}

/*
 * rdb_events_peek
 *		Like rdb_events_read_ext, but copies only the event's database (the
 *		launcher scans the whole ring and needs nothing else).
 */
RdbEventReadResult
rdb_events_peek(uint64 seq, Oid *dbid, bool *delivered)
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
	*dbid = slot->ev.dbid;
	*delivered = pg_atomic_read_u64(&slot->pending) != seq;
	pg_read_barrier();
	if (pg_atomic_read_u64(&slot->wseq) != seq ||
		pg_atomic_read_u64(&slot->seq) != seq)
		return RDB_READ_GONE;
	return RDB_READ_OK;
}

/* how many events of database dbid the ring holds undelivered */
uint64
rdb_events_undelivered(Oid dbid)
{
	RdbDbSlot  *d;
	uint64		n = 0;

	if (ring == NULL)
		return 0;
	SpinLockAcquire(&ring->mutex);
	d = db_slot(dbid, false);
	if (d != NULL)
		n = d->undelivered;
	SpinLockRelease(&ring->mutex);
	return n;
}

/* rdb_events_read_ext for callers that only care whether they got it */
bool
rdb_events_read(uint64 seq, RdbEvent *ev, bool *delivered)
{
	return rdb_events_read_ext(seq, ev, delivered) == RDB_READ_OK;
}

/*
 * rdb_events_mark_notified
 *		Record that event 'seq' was delivered (notified, aggregated or shed).
 *		True if this call delivered it (it was neither delivered nor dropped
 *		before); the caller then reports the count with rdb_events_delivered.
 */
bool
rdb_events_mark_notified(uint64 seq)
{
	RdbEventSlot *slot;
	uint64		expected = seq;

	if (ring == NULL)
		return false;
	slot = &ring->slots[seq % ring->capacity];
	return pg_atomic_compare_exchange_u64(&slot->pending, &expected, 0);
}

/* n events of database dbid were delivered (rdb_events_mark_notified) */
void
rdb_events_delivered(Oid dbid, uint64 n)
{
	if (ring == NULL || n == 0)
		return;
	SpinLockAcquire(&ring->mutex);
	db_undelivered_sub(db_slot(dbid, true), n);
	SpinLockRelease(&ring->mutex);
}

void
rdb_events_count(Oid dbid, RdbEventChannel ch, RdbEventCounter which,
				 uint64 n)
{
	if (ring == NULL || n == 0)
		return;
	SpinLockAcquire(&ring->mutex);
	db_slot(dbid, true)->counts[ch][which] += n;
	SpinLockRelease(&ring->mutex);
}

/*
 * rdb_events_get_counts
 *		Copy out up to max databases' counters (the "other" entry last, if it
 *		was used); returns how many.
 */
int
rdb_events_get_counts(RdbDbCounts *out, int max, TimestampTz *since)
{
	int			i;
	int			n = 0;
	RdbDbSlot  *other;

	*since = 0;
	if (ring == NULL)
		return 0;
	SpinLockAcquire(&ring->mutex);
	*since = ring->since;
	for (i = 0; i <= ring->ndbs && n < max; i++)
	{
		RdbDbSlot  *d = &ring->dbs[i];

		if (i == ring->ndbs)
		{
			/* the "other" entry, only if something was counted there */
			other = &ring->dbs[RDB_MAX_EVENT_DBS];
			if (ring->ndbs < RDB_MAX_EVENT_DBS)
				break;
			d = other;
		}
		out[n].dbid = d->dbid;
		out[n].undelivered = d->undelivered;
		memcpy(out[n].counts, d->counts, sizeof(d->counts));
		n++;
	}
	SpinLockRelease(&ring->mutex);
	return n;
}

/*
 * rdb_events_discard_db
 *		A database is gone (dropped): its undelivered events can never be
 *		sent.  Count them as dropped, release their ring space, and forget
 *		the database's counters.  Returns how many were discarded.
 */
uint64
rdb_events_discard_db(Oid dbid)
{
	uint64		seq;
	uint64		next;
	uint64		oldest;
	uint64		n = 0;
	uint64		counts[RDB_NUM_CHANNELS] = {0};
	int			i;

	if (ring == NULL)
		return 0;
	next = rdb_events_next_seq();
	oldest = next > ring->capacity ? next - ring->capacity : 1;
	for (seq = oldest; seq < next; seq++)
	{
		RdbEvent	ev;
		bool		delivered;

		if (rdb_events_read_ext(seq, &ev, &delivered) != RDB_READ_OK ||
			delivered || ev.dbid != dbid)
			continue;
		if (rdb_events_mark_notified(seq))
		{
			counts[rdb_event_variant((RdbEventVariant) ev.variant)->channel]++;
			n++;
		}
	}

	SpinLockAcquire(&ring->mutex);
	for (i = 0; i < ring->ndbs; i++)
	{
		if (ring->dbs[i].dbid != dbid)
			continue;
		db_undelivered_sub(&ring->dbs[i], Min(n, ring->dbs[i].undelivered));
		/* events still counted here belong to writers still filling them */
		if (ring->dbs[i].undelivered == 0)
			ring->dbs[i] = ring->dbs[--ring->ndbs];
		else
		{
			int			ch;

			for (ch = 0; ch < RDB_NUM_CHANNELS; ch++)
				ring->dbs[i].counts[ch][RDB_COUNT_DROPPED] += counts[ch];
		}
		break;
	}
	if (i == ring->ndbs && ring->ndbs == RDB_MAX_EVENT_DBS)
	{
		/* the database shared the "other" entry */
		int			ch;

		db_undelivered_sub(&ring->dbs[RDB_MAX_EVENT_DBS],
						   Min(n, ring->dbs[RDB_MAX_EVENT_DBS].undelivered));
		for (ch = 0; ch < RDB_NUM_CHANNELS; ch++)
			ring->dbs[RDB_MAX_EVENT_DBS].counts[ch][RDB_COUNT_DROPPED] += counts[ch];
	}
	SpinLockRelease(&ring->mutex);
	return n;
}

/* the launcher: how many databases wait for an event worker slot */
void
rdb_events_set_waiting(int ndbs)
{
	if (ring == NULL)
		return;
	SpinLockAcquire(&ring->mutex);
	ring->waiting = ndbs;
	SpinLockRelease(&ring->mutex);
}

int
rdb_events_get_waiting(void)
{
	int			n;

	if (ring == NULL)
		return 0;
	SpinLockAcquire(&ring->mutex);
	n = ring->waiting;
	SpinLockRelease(&ring->mutex);
	return n;
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
	if (ring->nworker_dbs < RDB_MAX_EVENT_DBS)
	{
		ring->worker_latches[ring->nworker_dbs] = MyLatch;
		ring->worker_dbs[ring->nworker_dbs++] = dbid;
	}
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
			--ring->nworker_dbs;
			ring->worker_dbs[i] = ring->worker_dbs[ring->nworker_dbs];
			ring->worker_latches[i] = ring->worker_latches[ring->nworker_dbs];
			break;
		}
	}
	SpinLockRelease(&ring->mutex);
}

/*
 * rdb_events_wake_worker
 *		Wake the worker serving dbid (background flush: flush_demand.c), or
 *		the launcher when none does, which starts one for a database with
 *		events to send (a writer's inserts publish some).
 */
void
rdb_events_wake_worker(Oid dbid)
{
	Latch	   *latch;
	int			i;

	if (ring == NULL)
		return;
	SpinLockAcquire(&ring->mutex);
	latch = ring->launcher_latch;
	for (i = 0; i < ring->nworker_dbs; i++)
		if (ring->worker_dbs[i] == dbid)
			latch = ring->worker_latches[i];
	SpinLockRelease(&ring->mutex);
	if (latch)
		SetLatch(latch);
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

/* account one page read (or write) of the current database */
void
rdb_io_count(bool is_write, uint64 bytes, uint64 us)
{
	RdbDbSlot  *s;

	if (ring == NULL || !OidIsValid(MyDatabaseId))
		return;
	SpinLockAcquire(&ring->mutex);
	s = db_slot(MyDatabaseId, true);
	if (is_write)
	{
		s->c.writes++;
		s->c.write_bytes += bytes;
		s->c.write_us += us;
	}
	else
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
 *		was no I/O at all (and for databases sharing the "other" entry, whose
 *		I/O cannot be told apart).
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
	for (i = 0; i < ring->ndbs; i++)
	{
		RdbDbSlot  *s = &ring->dbs[i];

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
	RdbDbSlot  *s;

	if (ring == NULL)
		return;
	SpinLockAcquire(&ring->mutex);
	s = db_slot(dbid, true);
	if (OidIsValid(s->dbid))
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
	for (i = 0; i < ring->ndbs && n < max; i++)
		if (ring->dbs[i].has_stats)
			out[n++] = ring->dbs[i].last_stats;
	SpinLockRelease(&ring->mutex);
	return n;
}
