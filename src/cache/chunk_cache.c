/*-------------------------------------------------------------------------
 *
 * chunk_cache.c
 *	  The shared chunk cache: decompressed, verified column chunks of
 *	  stripes in shared memory, with CLOCK, LRU-2 or 2Q eviction.
 *
 * Memory (all of it one ShmemInitStruct plus one ShmemInitHash, sized at
 * server start from rustydb.chunk_cache_size, which bounds the sum):
 *
 *	  CacheCtl			counters, free lists, clock hand, 2Q/LRU-2 history
 *	  CacheSlot[n]		one per entry that can exist (n = number of units)
 *	  int32 next[n]		unit chains: the units of an entry, or the free list
 *	  GhostEntry[n/2]	history of evicted keys (2Q's A1out, LRU-2's
 *						retained reference times)
 *	  units[n][BLCKSZ]	the bytes: an entry of len bytes takes
 *						ceil(len / BLCKSZ) units, chained, not contiguous
 *	  hash				RdbChunkKey -> slot, partitioned (16 partitions)
 *
 * A fixed pool of BLCKSZ units was chosen over an in-place DSA area: no
 * fragmentation (any free units serve any entry), memory is exact (the GUC
 * bounds units + slots + hash + history; nothing ever grows), capacity and
 * use are naturally counted in 8 kB pages (PoolStats' total_pages and
 * used_pages), and copying an entry out is a walk over its chain.  The cost
 * is up to BLCKSZ - 1 bytes of slack per entry (rustydb.pool_stats shows
 * bytes next to used pages).
 *
 * Locking:
 *	  - partition locks (NUM_PARTITIONS LWLocks): a lookup takes its key's
 *		partition lock shared, finds the entry, copies its bytes out and
 *		marks the access (atomics: CLOCK reference bit, LRU-2/2Q access
 *		times) -- no global lock on a hit.
 *	  - the alloc lock (one LWLock): free lists, the clock hand, the ghost
 *		history and the choice of victims; taken only to insert (after a
 *		miss, when the backend has the decompressed chunk in hand).  Under
 *		it, the inserter evicts victims (each under its partition lock,
 *		exclusive), copies the bytes into free units, and only then enters
 *		the key into the hash under its partition lock: an entry is never
 *		visible before it is complete.  A backend that errors or is
 *		cancelled before that point has changed nothing in shared memory
 *		(memcpy and hash operations on a preallocated table cannot fail
 *		under the locks).
 *	  Lock order: alloc lock, then one partition lock at a time.  Lookups
 *	  take only partition locks, so there is no cycle.
 *
 * Hits are copied into backend memory: no pin, nothing to leak on error.
 *
 * Policies (rustydb.chunk_cache_policy, PGC_POSTMASTER):
 *	  clock: second chance.  A hit sets the entry's reference bit; the hand
 *		clears set bits and evicts the first entry whose bit is clear.  New
 *		entries start with the bit clear, so a chunk read once (a scan) is
 *		evicted on the hand's first pass, while hot entries re-referenced
 *		within one sweep survive it.
 *	  lru2: LRU-K with K = 2.  Each entry keeps its last two access times
 *		(a global access counter); the victim is the entry with the oldest
 *		second-to-last access, entries seen only once (no second access,
 *		"infinite backward 2-distance") going first, least recently used
 *		among them.  The access time of evicted keys is kept in the history
 *		(half as many keys as the cache has units), so a key coming back
 *		soon is treated as referenced twice (LRU-K's retained information).
 *	  2q: full 2Q (Johnson & Shasha).  New keys go to A1in (FIFO, at most a
 *		quarter of the units); a key found in A1out (the history of keys
 *		evicted from A1in) goes to Am (LRU).  Hits in A1in do nothing, hits
 *		in Am refresh the entry's access time.  The victim is A1in's oldest
 *		while A1in holds more than its quarter, else Am's least recently
 *		used.
 *	  LRU-2 and 2Q order is kept as per-entry access times (atomics) rather
 *	  than linked lists, so that a hit needs no lock beyond its partition's;
 *	  the victim is found by a scan over the slots in use, under the alloc
 *	  lock, on inserts only.
 *
 * Staleness: see cache.h; keys carry the stripe's dir_checksum and the
 * chunk's checksum, so entries of dropped, truncated or rewritten relations
 * are never returned (they are never matched again) and age out.
 *
 * IDENTIFICATION
 *	  src/cache/chunk_cache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "common/hashfn.h"
#include "common/pg_prng.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "rustydb/cache.h"
#include "rustydb/events.h"

#define NUM_PARTITIONS		16
#define CACHE_UNIT			BLCKSZ
#define MIN_UNITS			8

/* rustydb.chunk_cache_size (kB) and rustydb.chunk_cache_policy (guc.c) */
int			rdb_chunk_cache_size = 64 * 1024;
int			rdb_chunk_cache_policy = RDB_CACHE_CLOCK;
bool		rdb_enable_chunk_cache = true;

typedef enum SlotQueue
{
	Q_FREE = 0,
	Q_MAIN,						/* clock, lru2; 2Q's Am */
	Q_A1IN						/* 2Q's A1in */
} SlotQueue;

typedef struct CacheSlot
{
	RdbChunkKey key;
	uint32		hashcode;
	uint8		queue;			/* SlotQueue; changed under the alloc lock */
	Oid			dbid;
	Oid			relid;
	uint64		page_id;		/* see chunk_page_id() in stripe_read.c */
	uint32		len;			/* bytes */
	int32		first_unit;
	int32		nunits;
	int32		next_free;		/* free slot list */
	uint64		inserted;		/* access tick at insertion (A1in FIFO) */
	pg_atomic_uint32 refbit;	/* CLOCK */
	pg_atomic_uint64 last;		/* tick of the last access */
	pg_atomic_uint64 prev;		/* tick of the access before, 0: none */
	pg_atomic_uint64 hits;
} CacheSlot;

typedef struct GhostEntry
{
	uint64		keyhash;		/* 0: empty */
	uint64		last;			/* last access tick when evicted */
} GhostEntry;

typedef struct CacheEntry
{
	RdbChunkKey key;			/* hash key: must be first */
	int32		slot;
} CacheEntry;

/* PoolStats: what each database's worker saw last */
typedef struct DbDelta
{
	Oid			dbid;
	uint64		hits;
	uint64		misses;
} DbDelta;

#define MAX_DELTA_DBS		64

typedef struct CacheCtl
{
	int			policy;			/* fixed at start */
	int32		nunits;
	int32		nghost;
	LWLockPadded *locks;		/* [0]: alloc lock, [1..]: partitions */
	pg_atomic_uint64 tick;		/* access counter */
	pg_atomic_uint64 hits;
	pg_atomic_uint64 misses;
	pg_atomic_uint64 evictions;
	pg_atomic_uint64 inserts;
	pg_atomic_uint64 skipped;	/* chunks too large to cache */
	/* under the alloc lock */
	int32		free_unit;		/* head of the free unit chain */
	int32		nfree_units;
	int32		free_slot;
	int32		slot_hwm;		/* slots [0, slot_hwm) were ever used */
	int32		nentries;
	int32		clock_hand;
	int32		a1in_units;		/* 2Q */
	int32		ghost_next;		/* ring position */
	uint64		bytes;			/* sum of the entries' len */
	/* PoolStats deltas, under delta_lock */
	slock_t		delta_lock;
	DbDelta		deltas[MAX_DELTA_DBS];
} CacheCtl;

static CacheCtl *ctl = NULL;
static CacheSlot *slots;
static int32 *unit_next;
static GhostEntry *ghosts;
static char *units;
static HTAB *cache_hash = NULL;

static const char *const policy_names[] = {"clock", "lru2", "2q"};

/* ----------------------------------------------------------------
 * Shared memory
 * ----------------------------------------------------------------
 */

static Size
layout_size(int32 nunits, Size *hashsize)
{
	Size		sz;

	*hashsize = hash_estimate_size(nunits, sizeof(CacheEntry));
	sz = MAXALIGN(sizeof(CacheCtl));
	sz = add_size(sz, MAXALIGN(mul_size(nunits, sizeof(CacheSlot))));
	sz = add_size(sz, MAXALIGN(mul_size(nunits, sizeof(int32))));
	sz = add_size(sz, MAXALIGN(mul_size(nunits / 2 + 1, sizeof(GhostEntry))));
	sz = add_size(sz, PG_CACHE_LINE_SIZE);
	sz = add_size(sz, mul_size(nunits, CACHE_UNIT));
	return add_size(sz, *hashsize);
}

/* units that fit in rustydb.chunk_cache_size with everything else; 0: off */
static int32
cache_nunits(void)
{
	Size		budget = (Size) rdb_chunk_cache_size * 1024;
	Size		hashsize;
	int32		n;

	if (rdb_chunk_cache_size <= 0)
		return 0;
	n = (int32) Min(budget / (CACHE_UNIT + sizeof(CacheSlot) + 64), (Size) INT_MAX / 2);
	while (n >= MIN_UNITS && layout_size(n, &hashsize) > budget)
		n -= Max(1, n / 256);
	return n >= MIN_UNITS ? n : 0;
}

void
rdb_cache_shmem_request(void)
{
	int32		n = cache_nunits();
	Size		hashsize;

	if (n == 0)
		return;
	RequestAddinShmemSpace(layout_size(n, &hashsize));
	RequestNamedLWLockTranche("rustydb_chunk_cache", NUM_PARTITIONS + 1);
}

void
rdb_cache_shmem_startup(void)
{
	int32		n = cache_nunits();
	bool		found;
	HASHCTL		info;
	char	   *p;
	int32		i;
	Size		hashsize;
	Size		total;

	if (n == 0)
		return;

	total = layout_size(n, &hashsize);
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	p = ShmemInitStruct("rustydb chunk cache", total - hashsize, &found);
	ctl = (CacheCtl *) p;
	p += MAXALIGN(sizeof(CacheCtl));
	slots = (CacheSlot *) p;
	p += MAXALIGN(mul_size(n, sizeof(CacheSlot)));
	unit_next = (int32 *) p;
	p += MAXALIGN(mul_size(n, sizeof(int32)));
	ghosts = (GhostEntry *) p;
	p += MAXALIGN(mul_size(n / 2 + 1, sizeof(GhostEntry)));
	units = (char *) TYPEALIGN(PG_CACHE_LINE_SIZE, p);

	if (!found)
	{
		memset(ctl, 0, sizeof(CacheCtl));
		ctl->policy = rdb_chunk_cache_policy;
		ctl->nunits = n;
		ctl->nghost = n / 2 + 1;
		ctl->locks = GetNamedLWLockTranche("rustydb_chunk_cache");
		pg_atomic_init_u64(&ctl->tick, 1);
		pg_atomic_init_u64(&ctl->hits, 0);
		pg_atomic_init_u64(&ctl->misses, 0);
		pg_atomic_init_u64(&ctl->evictions, 0);
		pg_atomic_init_u64(&ctl->inserts, 0);
		pg_atomic_init_u64(&ctl->skipped, 0);
		SpinLockInit(&ctl->delta_lock);
		for (i = 0; i < n; i++)
		{
			CacheSlot  *s = &slots[i];

			memset(s, 0, sizeof(CacheSlot));
			s->queue = Q_FREE;
			s->next_free = i + 1 < n ? i + 1 : -1;
			pg_atomic_init_u32(&s->refbit, 0);
			pg_atomic_init_u64(&s->last, 0);
			pg_atomic_init_u64(&s->prev, 0);
			pg_atomic_init_u64(&s->hits, 0);
			unit_next[i] = i + 1 < n ? i + 1 : -1;
		}
		memset(ghosts, 0, (n / 2 + 1) * sizeof(GhostEntry));
		ctl->free_unit = 0;
		ctl->nfree_units = n;
		ctl->free_slot = 0;
	}

	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(RdbChunkKey);
	info.entrysize = sizeof(CacheEntry);
	info.num_partitions = NUM_PARTITIONS;
	cache_hash = ShmemInitHash("rustydb chunk cache hash", n, n, &info,
							   HASH_ELEM | HASH_BLOBS | HASH_PARTITION);
	LWLockRelease(AddinShmemInitLock);
}

/* is there a cache, and does this session read through it? */
bool
rdb_cache_enabled(void)
{
	return ctl != NULL && rdb_enable_chunk_cache;
}

const char *
rdb_cache_policy_name(void)
{
	return policy_names[ctl ? ctl->policy : rdb_chunk_cache_policy];
}

static inline LWLock *
partition_lock(uint32 hashcode)
{
	return &ctl->locks[1 + hashcode % NUM_PARTITIONS].lock;
}

#define ALLOC_LOCK	(&ctl->locks[0].lock)

static uint64
key_hash64(const RdbChunkKey *key)
{
	uint64		h = hash_bytes_extended((const unsigned char *) key,
										sizeof(RdbChunkKey), 0);

	return h ? h : 1;
}

/* ----------------------------------------------------------------
 * Events
 * ----------------------------------------------------------------
 */

static bool
sampled(void)
{
	return rdb_events_sample_rate > 0 &&
		pg_prng_double(&pg_global_prng_state) < rdb_events_sample_rate;
}

/* PageHit / PageMiss: aggregated into PoolStats unless sampled */
static void
emit_access(Relation rel, bool hit, uint64 page_id)
{
	RdbEvent	ev;

	if (!rdb_events_enabled)
		return;
	if (!sampled())
	{
		rdb_events_count(MyDatabaseId, RDB_CH_BUFFER_POOL, RDB_COUNT_AGGREGATED, 1);
		return;
	}
	rdb_event_init(&ev, hit ? RDB_EV_PAGE_HIT : RDB_EV_PAGE_MISS, rel);
	ev.flags |= RDB_EVF_SAMPLED;
	ev.num[0] = (double) page_id;
	rdb_events_publish(&ev);
}

typedef struct Evicted
{
	Oid			dbid;
	Oid			relid;
	uint64		page_id;
	const char *reason;
} Evicted;

static void
emit_evicted(const Evicted *e)
{
	RdbEvent	ev;

	if (!rdb_events_enabled)
		return;
	rdb_event_init(&ev, RDB_EV_PAGE_EVICTED, NULL);
	/* the event belongs to the database (and relation) of the chunk */
	ev.dbid = e->dbid;
	ev.relid = e->relid;
	ev.num[0] = (double) e->page_id;
	rdb_event_set_text(&ev, 0, e->reason, strlen(e->reason));
	rdb_events_publish(&ev);
}

/* ----------------------------------------------------------------
 * Lookup
 * ----------------------------------------------------------------
 */

static inline void
touch(CacheSlot *s)
{
	uint64		now = pg_atomic_fetch_add_u64(&ctl->tick, 1);

	switch (ctl->policy)
	{
		case RDB_CACHE_CLOCK:
			if (pg_atomic_read_u32(&s->refbit) == 0)
				pg_atomic_write_u32(&s->refbit, 1);
			break;
		case RDB_CACHE_LRU2:
			/* two racing hits may both move 'last' to 'prev': harmless */
			pg_atomic_write_u64(&s->prev, pg_atomic_exchange_u64(&s->last, now));
			break;
		case RDB_CACHE_2Q:
			/* a hit in A1in does nothing; in Am it refreshes LRU order */
			if (s->queue == Q_MAIN)
				pg_atomic_write_u64(&s->last, now);
			break;
	}
	pg_atomic_fetch_add_u64(&s->hits, 1);
}

/*
 * rdb_cache_lookup
 *		Copy the cached chunk of key (len bytes) into dst and return true,
 *		or return false (a miss).  Counts the hit or miss and emits its
 *		event.  len is the chunk's raw_len from the stripe directory, which
 *		the key (its checksums) pins down; an entry of another length is
 *		impossible and would be treated as a miss.
 */
bool
rdb_cache_lookup(const RdbChunkKey *key, Relation rel, uint64 page_id,
				 char *dst, Size len)
{
	uint32		hashcode;
	LWLock	   *lock;
	CacheEntry *e;
	bool		hit = false;

	if (ctl == NULL)
		return false;
	hashcode = get_hash_value(cache_hash, key);
	lock = partition_lock(hashcode);
	LWLockAcquire(lock, LW_SHARED);
	e = hash_search_with_hash_value(cache_hash, key, hashcode, HASH_FIND, NULL);
	if (e != NULL && slots[e->slot].len == len)
	{
		CacheSlot  *s = &slots[e->slot];
		int32		u = s->first_unit;
		Size		off = 0;

		while (off < len)
		{
			Size		n = Min(len - off, (Size) CACHE_UNIT);

			Assert(u >= 0);
			memcpy(dst + off, units + (Size) u * CACHE_UNIT, n);
			off += n;
			u = unit_next[u];
		}
		touch(s);
		hit = true;
	}
	LWLockRelease(lock);

	pg_atomic_fetch_add_u64(hit ? &ctl->hits : &ctl->misses, 1);
	emit_access(rel, hit, page_id);
	return hit;
}

/* ----------------------------------------------------------------
 * Insert and eviction (under the alloc lock)
 * ----------------------------------------------------------------
 */

static bool
ghost_find(uint64 kh, uint64 *last, bool remove)
{
	int32		i;

	for (i = 0; i < ctl->nghost; i++)
	{
		if (ghosts[i].keyhash == kh)
		{
			if (last)
				*last = ghosts[i].last;
			if (remove)
				ghosts[i].keyhash = 0;
			return true;
		}
	}
	return false;
}

static void
ghost_add(uint64 kh, uint64 last)
{
	ghosts[ctl->ghost_next].keyhash = kh;
	ghosts[ctl->ghost_next].last = last;
	ctl->ghost_next = (ctl->ghost_next + 1) % ctl->nghost;
}

/* remove slot i from the hash and free it; caller holds the alloc lock */
static void
evict_slot(int32 i, const char *reason, Evicted *ev, int *nev, int maxev)
{
	CacheSlot  *s = &slots[i];
	LWLock	   *lock = partition_lock(s->hashcode);
	int32		u;
	int32		last_u = -1;

	LWLockAcquire(lock, LW_EXCLUSIVE);
	hash_search_with_hash_value(cache_hash, &s->key, s->hashcode, HASH_REMOVE, NULL);
	LWLockRelease(lock);

	/* history: 2Q remembers keys leaving A1in, LRU-2 every key's last access */
	if (ctl->policy == RDB_CACHE_LRU2 ||
		(ctl->policy == RDB_CACHE_2Q && s->queue == Q_A1IN))
		ghost_add(key_hash64(&s->key), pg_atomic_read_u64(&s->last));
	if (s->queue == Q_A1IN)
		ctl->a1in_units -= s->nunits;

	for (u = s->first_unit; u >= 0; u = unit_next[u])
		last_u = u;
	if (last_u >= 0)
	{
		unit_next[last_u] = ctl->free_unit;
		ctl->free_unit = s->first_unit;
		ctl->nfree_units += s->nunits;
	}
	ctl->bytes -= s->len;
	ctl->nentries--;

	/* nothing here can fail: ev was sized before the alloc lock was taken */
	if (*nev < maxev)
	{
		ev[*nev].dbid = s->dbid;
		ev[*nev].relid = s->relid;
		ev[*nev].page_id = s->page_id;
		ev[*nev].reason = reason;
		(*nev)++;
	}

	s->queue = Q_FREE;
	s->next_free = ctl->free_slot;
	ctl->free_slot = i;
	pg_atomic_fetch_add_u64(&ctl->evictions, 1);
}

/* choose a victim by the policy; -1 if the cache is empty */
static int32
choose_victim(const char **reason)
{
	int32		i;

	if (ctl->nentries == 0)
		return -1;

	if (ctl->policy == RDB_CACHE_CLOCK)
	{
		/* at most two sweeps: the first clears every bit it passes */
		for (i = 0; i < 2 * ctl->slot_hwm + 1; i++)
		{
			int32		h = ctl->clock_hand;
			CacheSlot  *s = &slots[h];

			ctl->clock_hand = (h + 1) % Max(ctl->slot_hwm, 1);
			if (s->queue == Q_FREE)
				continue;
			if (pg_atomic_read_u32(&s->refbit) != 0)
			{
				pg_atomic_write_u32(&s->refbit, 0);
				continue;
			}
			*reason = "CLOCK: reference bit clear";
			return h;
		}
		/* hits kept setting bits behind the hand: take the next entry */
		for (i = 0; i < ctl->slot_hwm; i++)
		{
			int32		h = (ctl->clock_hand + i) % ctl->slot_hwm;

			if (slots[h].queue != Q_FREE)
			{
				ctl->clock_hand = (h + 1) % ctl->slot_hwm;
				*reason = "CLOCK: second sweep, every bit was set again";
				return h;
			}
		}
		return -1;
	}
	else if (ctl->policy == RDB_CACHE_LRU2)
	{
		int32		best = -1;
		bool		best_once = false;
		uint64		best_t = PG_UINT64_MAX;

		for (i = 0; i < ctl->slot_hwm; i++)
		{
			CacheSlot  *s = &slots[i];
			uint64		prev;
			uint64		t;
			bool		once;

			if (s->queue == Q_FREE)
				continue;
			prev = pg_atomic_read_u64(&s->prev);
			once = (prev == 0);
			t = once ? pg_atomic_read_u64(&s->last) : prev;
			if (best < 0 || (once && !best_once) ||
				(once == best_once && t < best_t))
			{
				best = i;
				best_once = once;
				best_t = t;
			}
		}
		*reason = best_once ? "LRU-2: referenced once, least recently" :
			"LRU-2: oldest second-to-last reference";
		return best;
	}
	else
	{
		/* 2Q */
		bool		from_a1in = ctl->a1in_units > ctl->nunits / 4;
		int32		best = -1;
		uint64		best_t = PG_UINT64_MAX;
		int			pass;

		for (pass = 0; pass < 2 && best < 0; pass++)
		{
			uint8		want = from_a1in ? Q_A1IN : Q_MAIN;

			for (i = 0; i < ctl->slot_hwm; i++)
			{
				CacheSlot  *s = &slots[i];
				uint64		t;

				if (s->queue != want)
					continue;
				t = want == Q_A1IN ? s->inserted : pg_atomic_read_u64(&s->last);
				if (t < best_t)
				{
					best = i;
					best_t = t;
				}
			}
			if (best >= 0)
				*reason = want == Q_A1IN ?
					(from_a1in ? "2Q: A1in overflow" : "2Q: A1in oldest (Am empty)") :
					(from_a1in ? "2Q: Am least recently used (A1in empty)" :
					 "2Q: Am least recently used");
			from_a1in = !from_a1in;
		}
		return best;
	}
	return -1;
}

/*
 * rdb_cache_insert
 *		Cache the chunk of key: len bytes, decompressed and verified by the
 *		caller.  Evicts by the policy to make room.  Does nothing if the
 *		key is cached already (another backend was faster) or the chunk
 *		takes more than a quarter of the cache.
 */
void
rdb_cache_insert(const RdbChunkKey *key, Relation rel, uint64 page_id,
				 const char *data, Size len)
{
	uint32		hashcode;
	int32		need;
	int32		i;
	int32		u;
	int32		prev_u;
	CacheSlot  *s;
	LWLock	   *lock;
	CacheEntry *e;
	bool		found;
	Evicted    *ev;
	int			nev = 0;
	int			maxev;
	Size		off;
	uint64		now;
	uint64		kh = 0;
	uint64		ghost_last = 0;
	bool		in_ghost = false;

	if (ctl == NULL)
		return;
	need = (int32) Max((len + CACHE_UNIT - 1) / CACHE_UNIT, 1);
	if (need > ctl->nunits / 4)
	{
		pg_atomic_fetch_add_u64(&ctl->skipped, 1);
		return;
	}
	hashcode = get_hash_value(cache_hash, key);
	lock = partition_lock(hashcode);
	/*
	 * At most `need` evictions make room: every entry holds at least one
	 * unit, and when no slot is free every unit is in use, so freeing
	 * `need` units frees slots too.
	 */
	maxev = need + 1;
	ev = palloc(maxev * sizeof(Evicted));
	if (ctl->policy != RDB_CACHE_CLOCK)
		kh = key_hash64(key);

	LWLockAcquire(ALLOC_LOCK, LW_EXCLUSIVE);

	/* already there (inserted since our miss)? */
	LWLockAcquire(lock, LW_SHARED);
	found = hash_search_with_hash_value(cache_hash, key, hashcode, HASH_FIND, NULL) != NULL;
	LWLockRelease(lock);
	if (found)
	{
		LWLockRelease(ALLOC_LOCK);
		pfree(ev);
		return;
	}

	while (ctl->nfree_units < need || ctl->free_slot < 0)
	{
		const char *reason = NULL;
		int32		v = choose_victim(&reason);

		if (v < 0)
			break;
		evict_slot(v, reason, ev, &nev, maxev);
	}
	if (ctl->nfree_units < need || ctl->free_slot < 0)
	{
		/* cannot happen: need <= nunits / 4 */
		LWLockRelease(ALLOC_LOCK);
		elog(WARNING, "rustydb chunk cache: no room for %zu bytes", len);
		pfree(ev);
		return;
	}

	/* take a slot and the units, and copy the bytes in */
	i = ctl->free_slot;
	s = &slots[i];
	ctl->free_slot = s->next_free;
	if (i >= ctl->slot_hwm)
		ctl->slot_hwm = i + 1;
	s->first_unit = ctl->free_unit;
	u = ctl->free_unit;
	prev_u = -1;
	off = 0;
	while (off < len || prev_u < 0)
	{
		Size		n = Min(len - off, (Size) CACHE_UNIT);

		if (n > 0)
			memcpy(units + (Size) u * CACHE_UNIT, data + off, n);
		off += n;
		prev_u = u;
		u = unit_next[u];
		if (len == 0)
			break;
	}
	unit_next[prev_u] = -1;
	ctl->free_unit = u;
	ctl->nfree_units -= need;

	now = pg_atomic_fetch_add_u64(&ctl->tick, 1);
	s->key = *key;
	s->hashcode = hashcode;
	s->dbid = MyDatabaseId;
	s->relid = rel ? RelationGetRelid(rel) : InvalidOid;
	s->page_id = page_id;
	s->len = (uint32) len;
	s->nunits = need;
	s->inserted = now;
	pg_atomic_write_u32(&s->refbit, 0);
	pg_atomic_write_u64(&s->last, now);
	pg_atomic_write_u64(&s->prev, 0);
	pg_atomic_write_u64(&s->hits, 0);
	s->queue = Q_MAIN;
	if (ctl->policy == RDB_CACHE_LRU2)
	{
		/* retained history: the previous reference of a returning key */
		in_ghost = ghost_find(kh, &ghost_last, true);
		if (in_ghost)
			pg_atomic_write_u64(&s->prev, ghost_last);
	}
	else if (ctl->policy == RDB_CACHE_2Q)
	{
		in_ghost = ghost_find(kh, NULL, true);
		if (!in_ghost)
		{
			s->queue = Q_A1IN;
			ctl->a1in_units += need;
		}
	}
	ctl->bytes += len;
	ctl->nentries++;

	/* publish: the entry is complete */
	LWLockAcquire(lock, LW_EXCLUSIVE);
	e = hash_search_with_hash_value(cache_hash, key, hashcode, HASH_ENTER_NULL, &found);
	Assert(e != NULL && !found);
	if (e != NULL)
		e->slot = i;
	LWLockRelease(lock);
	pg_atomic_fetch_add_u64(&ctl->inserts, 1);

	LWLockRelease(ALLOC_LOCK);

	for (i = 0; i < nev; i++)
		emit_evicted(&ev[i]);
	pfree(ev);
}

/* ----------------------------------------------------------------
 * PoolStats
 * ----------------------------------------------------------------
 */

/*
 * rdb_cache_take_delta
 *		For dbid's PoolStats: the pool's hit rate since this database last
 *		built one, the capacity and the pages in use (BLCKSZ units).  False
 *		if there was no access since (no activity: no PoolStats).
 */
bool
rdb_cache_take_delta(Oid dbid, double *hit_rate, int64 *total_pages,
					 int64 *used_pages)
{
	uint64		hits;
	uint64		misses;
	DbDelta    *d = NULL;
	DbDelta    *empty = NULL;
	uint64		dh;
	uint64		dm;
	int			i;

	if (ctl == NULL)
		return false;
	hits = pg_atomic_read_u64(&ctl->hits);
	misses = pg_atomic_read_u64(&ctl->misses);

	SpinLockAcquire(&ctl->delta_lock);
	for (i = 0; i < MAX_DELTA_DBS; i++)
	{
		if (ctl->deltas[i].dbid == dbid)
		{
			d = &ctl->deltas[i];
			break;
		}
		if (empty == NULL && !OidIsValid(ctl->deltas[i].dbid))
			empty = &ctl->deltas[i];
	}
	if (d == NULL)
		d = empty ? empty : &ctl->deltas[dbid % MAX_DELTA_DBS];
	if (d->dbid != dbid)
	{
		d->dbid = dbid;
		d->hits = 0;
		d->misses = 0;
	}
	dh = hits - d->hits;
	dm = misses - d->misses;
	d->hits = hits;
	d->misses = misses;
	SpinLockRelease(&ctl->delta_lock);

	if (dh + dm == 0)
		return false;
	*hit_rate = (double) dh / (double) (dh + dm);
	*total_pages = ctl->nunits;
	*used_pages = ctl->nunits - ctl->nfree_units;	/* unlocked read: a snapshot */
	return true;
}

/* ----------------------------------------------------------------
 * SQL
 * ----------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(rustydb_pool_stats);
PG_FUNCTION_INFO_V1(rustydb_cache_entries);
PG_FUNCTION_INFO_V1(rustydb_cache_relations);
PG_FUNCTION_INFO_V1(rustydb_pool_reset);
PG_FUNCTION_INFO_V1(rustydb_chunk_cache_clear);

/*
 * rustydb.pool_stats_raw(): one row (no row when the cache is off)
 */
Datum
rustydb_pool_stats(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[12];
	bool		nulls[12] = {0};
	uint64		hits;
	uint64		misses;
	int32		nfree;
	int32		nentries;
	uint64		bytes;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (ctl == NULL)
	{
		memset(nulls, true, sizeof(nulls));
		values[0] = Int64GetDatum(0);
		nulls[0] = false;
		values[9] = Int64GetDatum(0);
		nulls[9] = false;
		values[10] = CStringGetTextDatum("off");
		nulls[10] = false;
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
	}
	LWLockAcquire(ALLOC_LOCK, LW_SHARED);
	nfree = ctl->nfree_units;
	nentries = ctl->nentries;
	bytes = ctl->bytes;
	LWLockRelease(ALLOC_LOCK);
	hits = pg_atomic_read_u64(&ctl->hits);
	misses = pg_atomic_read_u64(&ctl->misses);

	values[0] = Int64GetDatum((int64) hits);
	values[1] = Int64GetDatum((int64) misses);
	values[2] = Int64GetDatum((int64) pg_atomic_read_u64(&ctl->evictions));
	values[3] = Int64GetDatum((int64) pg_atomic_read_u64(&ctl->inserts));
	values[4] = Int64GetDatum((int64) pg_atomic_read_u64(&ctl->skipped));
	values[5] = Int64GetDatum(nentries);
	values[6] = Int64GetDatum((int64) bytes);
	values[7] = Int64GetDatum((int64) ctl->nunits - nfree);
	values[8] = Int64GetDatum(ctl->nunits);
	values[9] = Int64GetDatum((int64) ctl->nunits * CACHE_UNIT);
	values[10] = CStringGetTextDatum(policy_names[ctl->policy]);
	if (hits + misses > 0)
		values[11] = Float8GetDatum((double) hits / (double) (hits + misses));
	else
		nulls[11] = true;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * rustydb.cache_entries(): one row per cached chunk (superuser only; the
 * views on top filter or aggregate).
 */
Datum
rustydb_cache_entries(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int32		i;
	int32		hwm;

	InitMaterializedSRF(fcinfo, 0);
	if (ctl == NULL)
		return (Datum) 0;

	LWLockAcquire(ALLOC_LOCK, LW_SHARED);
	hwm = ctl->slot_hwm;
	for (i = 0; i < hwm; i++)
	{
		CacheSlot  *s = &slots[i];
		Datum		values[14];
		bool		nulls[14] = {0};
		const char *q;

		if (s->queue == Q_FREE)
			continue;
		q = ctl->policy == RDB_CACHE_2Q ?
			(s->queue == Q_A1IN ? "A1in" : "Am") : "main";
		values[0] = ObjectIdGetDatum(s->dbid);
		values[1] = ObjectIdGetDatum(s->relid);
		values[2] = ObjectIdGetDatum(s->key.node.relNode);
		values[3] = Int64GetDatum(s->key.first_block);
		values[4] = Int64GetDatum(s->key.group);
		values[5] = Int32GetDatum((int32) s->key.column + 1);
		values[6] = Int64GetDatum((int64) s->page_id);
		values[7] = Int64GetDatum(s->len);
		values[8] = Int32GetDatum(s->nunits);
		values[9] = Int64GetDatum((int64) pg_atomic_read_u64(&s->hits));
		values[10] = CStringGetTextDatum(q);
		values[11] = BoolGetDatum(pg_atomic_read_u32(&s->refbit) != 0);
		values[12] = Int64GetDatum((int64) pg_atomic_read_u64(&s->last));
		if (pg_atomic_read_u64(&s->prev) != 0)
			values[13] = Int64GetDatum((int64) pg_atomic_read_u64(&s->prev));
		else
			nulls[13] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	LWLockRelease(ALLOC_LOCK);
	return (Datum) 0;
}

/* per relation totals of rustydb.cache_relations() */
typedef struct CacheRelTotals
{
	Oid			relid;			/* hash key */
	int64		chunks;
	int64		bytes;
	int64		pages;
	int64		hits;
} CacheRelTotals;

/*
 * rustydb.cache_relations(): per relation of this database that the caller
 * may SELECT, its cached chunks, their bytes, 8 kB pages and hits (the view
 * rustydb.pool_relations).  Runs as the caller, so that it can ask the
 * caller's privileges: what other users' tables hold in the cache, and how
 * often they are read, is not everyone's business.
 */
Datum
rustydb_cache_relations(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASHCTL		hctl;
	HTAB	   *rels;
	HASH_SEQ_STATUS seq;
	CacheRelTotals *t;
	int32		i;
	int32		hwm;

	InitMaterializedSRF(fcinfo, 0);
	if (ctl == NULL)
		return (Datum) 0;

	hctl.keysize = sizeof(Oid);
	hctl.entrysize = sizeof(CacheRelTotals);
	hctl.hcxt = CurrentMemoryContext;
	rels = hash_create("rustydb cache relations", 64, &hctl,
					   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	/* totals first, under the lock; privileges after (catalog lookups) */
	LWLockAcquire(ALLOC_LOCK, LW_SHARED);
	hwm = ctl->slot_hwm;
	for (i = 0; i < hwm; i++)
	{
		CacheSlot  *s = &slots[i];
		bool		found;

		if (s->queue == Q_FREE || s->dbid != MyDatabaseId)
			continue;
		t = hash_search(rels, &s->relid, HASH_ENTER, &found);
		if (!found)
			t->chunks = t->bytes = t->pages = t->hits = 0;
		t->chunks++;
		t->bytes += s->len;
		t->pages += s->nunits;
		t->hits += (int64) pg_atomic_read_u64(&s->hits);
	}
	LWLockRelease(ALLOC_LOCK);

	hash_seq_init(&seq, rels);
	while ((t = hash_seq_search(&seq)) != NULL)
	{
		Datum		values[5];
		bool		nulls[5] = {0};
		bool		missing = false;

		if (pg_class_aclcheck_ext(t->relid, GetUserId(), ACL_SELECT,
								  &missing) != ACLCHECK_OK || missing)
			continue;
		values[0] = ObjectIdGetDatum(t->relid);
		values[1] = Int64GetDatum(t->chunks);
		values[2] = Int64GetDatum(t->bytes);
		values[3] = Int64GetDatum(t->pages);
		values[4] = Int64GetDatum(t->hits);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	hash_destroy(rels);
	return (Datum) 0;
}

/* rustydb.pool_reset(): zero the hit, miss, eviction, insert counters */
Datum
rustydb_pool_reset(PG_FUNCTION_ARGS)
{
	int32		i;

	if (ctl == NULL)
		PG_RETURN_VOID();
	LWLockAcquire(ALLOC_LOCK, LW_SHARED);
	pg_atomic_write_u64(&ctl->hits, 0);
	pg_atomic_write_u64(&ctl->misses, 0);
	pg_atomic_write_u64(&ctl->evictions, 0);
	pg_atomic_write_u64(&ctl->inserts, 0);
	pg_atomic_write_u64(&ctl->skipped, 0);
	for (i = 0; i < ctl->slot_hwm; i++)
		pg_atomic_write_u64(&slots[i].hits, 0);
	LWLockRelease(ALLOC_LOCK);
	SpinLockAcquire(&ctl->delta_lock);
	memset(ctl->deltas, 0, sizeof(ctl->deltas));
	SpinLockRelease(&ctl->delta_lock);
	PG_RETURN_VOID();
}

/*
 * rustydb.chunk_cache_clear(): drop every entry (not counted as
 * evictions, no events), and the history.  Returns the entries dropped.
 */
Datum
rustydb_chunk_cache_clear(PG_FUNCTION_ARGS)
{
	int32		i;
	int64		n = 0;

	if (ctl == NULL)
		PG_RETURN_INT64(0);
	LWLockAcquire(ALLOC_LOCK, LW_EXCLUSIVE);
	for (i = 0; i < ctl->slot_hwm; i++)
	{
		CacheSlot  *s = &slots[i];
		LWLock	   *lock;

		if (s->queue == Q_FREE)
			continue;
		lock = partition_lock(s->hashcode);
		LWLockAcquire(lock, LW_EXCLUSIVE);
		hash_search_with_hash_value(cache_hash, &s->key, s->hashcode, HASH_REMOVE, NULL);
		LWLockRelease(lock);
		s->queue = Q_FREE;
		n++;
	}
	/* rebuild the free lists from scratch */
	for (i = 0; i < ctl->nunits; i++)
	{
		slots[i].next_free = i + 1 < ctl->nunits ? i + 1 : -1;
		unit_next[i] = i + 1 < ctl->nunits ? i + 1 : -1;
	}
	ctl->free_unit = 0;
	ctl->nfree_units = ctl->nunits;
	ctl->free_slot = 0;
	ctl->slot_hwm = 0;
	ctl->nentries = 0;
	ctl->clock_hand = 0;
	ctl->a1in_units = 0;
	ctl->bytes = 0;
	ctl->ghost_next = 0;
	memset(ghosts, 0, ctl->nghost * sizeof(GhostEntry));
	LWLockRelease(ALLOC_LOCK);
	PG_RETURN_INT64(n);
}
