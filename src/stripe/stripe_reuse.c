/*-------------------------------------------------------------------------
 *
 * stripe_reuse.c
 *	  When the pages of stripes compaction replaced may be written again,
 *	  and how everyone who read the old stripes learns it: without an
 *	  AccessExclusiveLock.
 *
 * Compaction gives the pages of stripes nothing refers to any more back to
 * the metapage's free extent list, stamped with the giving transaction's
 * xid F (compact.c).  Three kinds of reader could still be holding on to an
 * old stripe S at those pages, and each is dealt with before a stripe
 * writer may overwrite them (rdb_meta_take_space, metapage.c):
 *
 * 1. A reader on the primary that copied a stub or directory entry leading
 *	  into S before compaction switched it to the output.  Its snapshot was
 *	  taken before the switch, so its xmin is at most F: an extent is handed
 *	  out only once F committed and precedes
 *	  GetOldestNonRemovableTransactionId(rel), as a dead heap tuple is
 *	  removed only then.  Hot-standby feedback holds that horizon back for
 *	  a standby's readers, as it does for heap.
 *
 * 2. A reader on a hot standby without feedback.  The first time extents
 *	  of F are handed out, an XLOG_RDB_STRIPE_REUSE record with F as its
 *	  conflict horizon is logged, before the metapage or any page changes;
 *	  its redo cancels the standby's queries whose snapshots could still
 *	  see S (ResolveRecoveryConflictWithSnapshot), exactly as heap's pruning
 *	  records do.
 *
 * 3. The per-backend caches of stripe metadata and decompressed chunk
 *	  groups (stripe_read.c), keyed by relfilenode and a stripe's first
 *	  block: a backend that cached S keeps its entries across transactions,
 *	  and a new stripe T written at S's first block would be served S's
 *	  header and directory.  A relcache invalidation is not enough: a
 *	  backend inside a transaction block that already holds the table's lock
 *	  accepts none until its next transaction.  So a counter in shared
 *	  memory is bumped (full barrier) whenever extents become reusable,
 *	  before any of their pages is written, on the primary and in the
 *	  standby's redo of the same record; every cache lookup compares it with
 *	  the value the backend last saw and empties both caches when it moved.
 *	  A lookup reads the counter after the buffer lock of the stub or entry
 *	  that led it to T, which was written after the bump: it cannot miss it.
 *	  The shared chunk cache needs nothing: its keys carry the stripe's
 *	  directory checksum and the chunk's own (src/cache/README.md).
 *
 * The counter moves once for all the extents that become usable in one
 * take, which is at most once per compaction's give-back; a backend empties
 * its caches then, and rebuilds what it reads next.
 *
 * Before this, compaction took an AccessExclusiveLock (without queueing) to
 * give space back and relied on the lock and its commit's invalidation for
 * all three; under load that never paused (writers and readers always
 * holding some lock on the table) the lock was never free, the replaced
 * stripes were never given back and the file grew while the load lasted.
 *
 * IDENTIFICATION
 *	  src/stripe/stripe_reuse.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "access/xloginsert.h"
#include "access/xlogutils.h"
#include "storage/bufpage.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "storage/standby.h"
#include "utils/rel.h"

#include "rustydb/stripe.h"
#include "rustydb/xlog.h"

typedef struct StripeReuseShared
{
	pg_atomic_uint64 count;		/* times extents became reusable */
} StripeReuseShared;

static StripeReuseShared *reuse_shared = NULL;

void
rdb_stripe_reuse_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(StripeReuseShared)));
}

void
rdb_stripe_reuse_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	reuse_shared = ShmemInitStruct("rustydb stripe reuse",
								   sizeof(StripeReuseShared), &found);
	if (!found)
		pg_atomic_init_u64(&reuse_shared->count, 0);
	LWLockRelease(AddinShmemInitLock);
}

/*
 * rdb_stripe_reuse_count
 *		How many times stripe pages became reusable since the server
 *		started (what the caches compare with).  Storage is refused
 *		without preloading (handler.c), so the memory is there whenever a
 *		stripe can be read.
 */
uint64
rdb_stripe_reuse_count(void)
{
	if (reuse_shared == NULL)
		return 0;
	return pg_atomic_read_u64(&reuse_shared->count);
}

static void
stripe_reuse_bump(void)
{
	if (reuse_shared != NULL)
		(void) pg_atomic_fetch_add_u64(&reuse_shared->count, 1);
}

/*
 * rdb_stripe_reuse_announce
 *		Extents of rel given back by transactions up to freed_by (the
 *		newest of them; committed, and older than every snapshot on this
 *		server) are about to be handed out again: cancel the standby's
 *		queries that could still read what they held, and make every
 *		backend here empty its stripe caches.  Before the metapage or any
 *		of those pages changes.
 */
void
rdb_stripe_reuse_announce(Relation rel, TransactionId freed_by)
{
	rdb_stripe_reuse_log_conflict(rel, freed_by);
	stripe_reuse_bump();
}

/*
 * rdb_stripe_reuse_log_conflict
 *		Only the standby's part of the above: its queries whose snapshot is
 *		as old as xid are cancelled before pages of rel change that such a
 *		query could still read otherwise (FREE L0 pages a stripe takes,
 *		gendir.c; no stripe cache here knows them).  The redo empties the
 *		standby's caches as well, which costs nothing but a re-read.
 */
void
rdb_stripe_reuse_log_conflict(Relation rel, TransactionId xid)
{
	if (RelationNeedsWAL(rel) && XLogStandbyInfoActive())
	{
		xl_rdb_stripe_reuse xlrec;

		xlrec.node = rel->rd_node;
		xlrec.conflict_xid = xid;
		XLogBeginInsert();
		XLogRegisterData((char *) &xlrec, SizeOfRdbStripeReuse);
		(void) XLogInsert(RDB_RMGR_ID, XLOG_RDB_STRIPE_REUSE);
	}
}

/*
 * rdb_stripe_reuse_redo
 *		Redo of XLOG_RDB_STRIPE_REUSE: no page changes; the standby's
 *		queries whose snapshot could still see stripes given back by
 *		conflict_xid (or earlier) are cancelled, and its backends' stripe
 *		caches emptied.
 */
void
rdb_stripe_reuse_redo(XLogReaderState *record)
{
	xl_rdb_stripe_reuse *xlrec = (xl_rdb_stripe_reuse *) XLogRecGetData(record);

	if (InHotStandby && TransactionIdIsValid(xlrec->conflict_xid))
		ResolveRecoveryConflictWithSnapshot(xlrec->conflict_xid, xlrec->node);
	stripe_reuse_bump();
}
