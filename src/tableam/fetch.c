/*-------------------------------------------------------------------------
 *
 * fetch.c
 *	  Fetching rows by TID: index fetches, row versions, update chains.
 *
 * A TID is a row number (see l0.h).  Today every row number resolves to an
 * L0 page whose generation equals the TID's block number, so a fetch is one
 * buffer read.  L0 has no HOT chains: every UPDATE inserts new index
 * entries, so an index entry always names exactly one row version and
 * index fetches never need call_again.
 *
 * Locking: a share lock on the page while its line pointer and the tuple
 * header are examined; tuples are returned in the slot with the buffer
 * pinned (BufferHeapTupleTableSlot), as heap does, which keeps the tuple
 * bytes in place: only VACUUM moves tuples, and it needs a cleanup lock.
 *
 * IDENTIFICATION
 *	  src/tableam/fetch.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/heapam_xlog.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "executor/tuptable.h"
#include "storage/bufmgr.h"
#include "storage/predicate.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "rustydb/rustydb.h"
#include "rustydb/gendir.h"
#include "rustydb/l0.h"

typedef struct RdbIndexFetchData
{
	IndexFetchTableData base;
	Buffer		buf;			/* currently pinned page, or InvalidBuffer */
	uint32		gen;			/* its generation */
	char		stub[RDB_STUB_LEN];	/* a retired row's frozen stub */

	/*
	 * The entry of the last retired generation fetched from.  An MVCC
	 * snapshot may use it for the rest of the scan: what changed after the
	 * copy was made changed after the snapshot was taken.
	 */
	bool		rvalid;
	uint32		rgen;
	RdbGenEntry rentry;
} RdbIndexFetchData;

/*
 * rdb_l0_fetch
 *		Fetch the row version tuple->t_self if it is visible to snapshot.
 *
 * Like heap_fetch: on success *userbuf holds a pin and tuple->t_data points
 * into the page.  When the version exists but is invisible, with keep_buf
 * the pin and t_data are kept too (callers look at xmin/xmax/ctid), else
 * released.  When there is no such version, t_data is NULL and *userbuf
 * invalid.
 */
bool
rdb_l0_fetch(Relation rel, Snapshot snapshot, HeapTuple tuple,
			 Buffer *userbuf, bool keep_buf)
{
	ItemPointer tid = &tuple->t_self;
	Buffer		buffer;
	Page		page;
	ItemId		lp;
	bool		valid;
	bool		retired;
	char	   *stub = palloc(RDB_STUB_LEN);

	buffer = rdb_l0_read_tid_or_retired(rel, tid, NULL, stub, &retired);
	if (!BufferIsValid(buffer))
	{
		*userbuf = InvalidBuffer;
		if (!retired)
		{
			pfree(stub);
			tuple->t_data = NULL;
			return false;
		}
		/* a retired row: frozen, never deleted or locked; no page to pin */
		tuple->t_data = (HeapTupleHeader) stub;
		tuple->t_len = RDB_STUB_LEN;
		tuple->t_tableOid = RelationGetRelid(rel);
		valid = HeapTupleSatisfiesVisibility(tuple, snapshot, InvalidBuffer);
		if (valid)
			PredicateLockTID(rel, &tuple->t_self, snapshot,
							 HeapTupleHeaderGetXmin(tuple->t_data));
		return valid;
	}
	pfree(stub);
	LockBuffer(buffer, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buffer);
	rdb_l0_page_check(rel, buffer);

	if (!rdb_l0_tid_on_page(buffer, tid) ||
		!ItemIdIsNormal(lp = PageGetItemId(page, ItemPointerGetOffsetNumber(tid))))
	{
		UnlockReleaseBuffer(buffer);
		*userbuf = InvalidBuffer;
		tuple->t_data = NULL;
		return false;
	}

	tuple->t_data = (HeapTupleHeader) PageGetItem(page, lp);
	tuple->t_len = ItemIdGetLength(lp);
	tuple->t_tableOid = RelationGetRelid(rel);

	valid = HeapTupleSatisfiesVisibility(tuple, snapshot, buffer);
	if (valid)
		PredicateLockTID(rel, &tuple->t_self, snapshot,
						 HeapTupleHeaderGetXmin(tuple->t_data));
	HeapCheckForSerializableConflictOut(valid, rel, tuple, buffer, snapshot);
	LockBuffer(buffer, BUFFER_LOCK_UNLOCK);

	if (valid || keep_buf)
	{
		*userbuf = buffer;
		return valid;
	}
	ReleaseBuffer(buffer);
	*userbuf = InvalidBuffer;
	tuple->t_data = NULL;
	return false;
}

/* ------------------------------------------------------------------------
 * Index fetches
 * ------------------------------------------------------------------------
 */

struct IndexFetchTableData *
rdb_am_index_fetch_begin(Relation rel)
{
	RdbIndexFetchData *scan = palloc0(sizeof(RdbIndexFetchData));

	scan->base.rel = rel;
	scan->buf = InvalidBuffer;
	return &scan->base;
}

void
rdb_am_index_fetch_reset(struct IndexFetchTableData *scan)
{
	RdbIndexFetchData *rscan = (RdbIndexFetchData *) scan;

	if (BufferIsValid(rscan->buf))
	{
		ReleaseBuffer(rscan->buf);
		rscan->buf = InvalidBuffer;
	}
	rscan->rvalid = false;
}

void
rdb_am_index_fetch_end(struct IndexFetchTableData *scan)
{
	rdb_am_index_fetch_reset(scan);
	pfree(scan);
}

/*
 * rdb_am_index_fetch_tuple
 *		Return the row an index entry points to, if visible.
 *
 * *all_dead is set when the row is dead to every snapshot, so the index AM
 * may mark its entry killed (kill_prior_tuple).
 */
bool
rdb_am_index_fetch_tuple(struct IndexFetchTableData *scan, ItemPointer tid,
						 Snapshot snapshot, TupleTableSlot *slot,
						 bool *call_again, bool *all_dead)
{
	RdbIndexFetchData *rscan = (RdbIndexFetchData *) scan;
	BufferHeapTupleTableSlot *bslot = (BufferHeapTupleTableSlot *) slot;
	Relation	rel = scan->rel;
	uint32		gen = ItemPointerGetBlockNumber(tid);
	HeapTuple	tuple = &bslot->base.tupdata;
	Page		page;
	ItemId		lp;
	bool		valid;

	*call_again = false;
	if (all_dead)
		*all_dead = false;

	if (!BufferIsValid(rscan->buf) || rscan->gen != gen)
	{
		bool		retired;

		if (BufferIsValid(rscan->buf))
			ReleaseBuffer(rscan->buf);
		rscan->buf = InvalidBuffer;
		if (rscan->rvalid && rscan->rgen == gen && IsMVCCSnapshot(snapshot))
			retired = true;
		else
		{
			rscan->buf = rdb_gen_read(rel, gen, NULL, &rscan->rentry, &retired);
			rscan->rvalid = retired;
			rscan->rgen = gen;
			/* dead row versions go before we read it, as heap's fetches do */
			if (BufferIsValid(rscan->buf))
				rdb_l0_prune_opt(rel, rscan->buf);
		}
		rscan->gen = gen;
		if (!BufferIsValid(rscan->buf))
		{
			if (!retired || !rdb_gen_retired_stub(&rscan->rentry, tid, rscan->stub))
				return false;
			/* a retired row: frozen, so every snapshot sees it */
			tuple->t_data = (HeapTupleHeader) rscan->stub;
			tuple->t_len = RDB_STUB_LEN;
			tuple->t_tableOid = RelationGetRelid(rel);
			tuple->t_self = *tid;
			if (!HeapTupleSatisfiesVisibility(tuple, snapshot, InvalidBuffer))
				return false;
			PredicateLockTID(rel, tid, snapshot, FrozenTransactionId);
			slot->tts_tableOid = RelationGetRelid(rel);
			rdb_l0_store_tuple(rel, tuple, slot, InvalidBuffer, false);
			return true;
		}
	}

	LockBuffer(rscan->buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(rscan->buf);
	rdb_l0_page_check(rel, rscan->buf);

	if (!rdb_l0_tid_on_page(rscan->buf, tid))
	{
		LockBuffer(rscan->buf, BUFFER_LOCK_UNLOCK);
		return false;
	}
	lp = PageGetItemId(page, ItemPointerGetOffsetNumber(tid));
	if (!ItemIdIsNormal(lp))
	{
		/* pruned by VACUUM: its index entries are about to go */
		if (all_dead && ItemIdIsDead(lp))
			*all_dead = true;
		LockBuffer(rscan->buf, BUFFER_LOCK_UNLOCK);
		return false;
	}

	tuple->t_data = (HeapTupleHeader) PageGetItem(page, lp);
	tuple->t_len = ItemIdGetLength(lp);
	tuple->t_tableOid = RelationGetRelid(rel);
	tuple->t_self = *tid;

	valid = HeapTupleSatisfiesVisibility(tuple, snapshot, rscan->buf);
	if (valid)
		PredicateLockTID(rel, tid, snapshot,
						 HeapTupleHeaderGetXmin(tuple->t_data));
	HeapCheckForSerializableConflictOut(valid, rel, tuple, rscan->buf, snapshot);

	if (!valid && all_dead)
	{
		GlobalVisState *vistest = GlobalVisTestFor(rel);

		if (HeapTupleIsSurelyDead(tuple, vistest))
			*all_dead = true;
	}
	LockBuffer(rscan->buf, BUFFER_LOCK_UNLOCK);

	if (!valid)
		return false;

	slot->tts_tableOid = RelationGetRelid(rel);
	rdb_l0_store_tuple(rel, tuple, slot, rscan->buf, false);
	return true;
}

/* ------------------------------------------------------------------------
 * Row versions by TID
 * ------------------------------------------------------------------------
 */

bool
rdb_am_tuple_fetch_row_version(Relation rel, ItemPointer tid,
							   Snapshot snapshot, TupleTableSlot *slot)
{
	BufferHeapTupleTableSlot *bslot = (BufferHeapTupleTableSlot *) slot;
	Buffer		buffer;

	bslot->base.tupdata.t_self = *tid;
	if (rdb_l0_fetch(rel, snapshot, &bslot->base.tupdata, &buffer, false))
	{
		slot->tts_tableOid = RelationGetRelid(rel);
		rdb_l0_store_tuple(rel, &bslot->base.tupdata, slot, buffer, true);
		return true;
	}
	return false;
}

bool
rdb_am_tuple_tid_valid(TableScanDesc scan, ItemPointer tid)
{
	BlockNumber blkno = ItemPointerGetBlockNumber(tid);

	/* first-time generations are blocks; remapped ones are looked up */
	return ItemPointerIsValid(tid) &&
		blkno >= RDB_FIRST_DATA_BLKNO &&
		(blkno >= RDB_FIRST_REMAPPED_GENERATION ||
		 blkno < rdb_scan_nblocks(scan));
}

/*
 * rdb_am_tuple_get_latest_tid
 *		Follow the update chain from *tid to the latest version visible to
 *		the scan's snapshot (currtid_byrelname, WHERE CURRENT OF).
 */
void
rdb_am_tuple_get_latest_tid(TableScanDesc sscan, ItemPointer tid)
{
	Relation	rel = sscan->rs_rd;
	Snapshot	snapshot = sscan->rs_snapshot;
	ItemPointerData ctid = *tid;
	TransactionId priorXmax = InvalidTransactionId;

	for (;;)
	{
		Buffer		buffer;
		Page		page;
		ItemId		lp;
		HeapTupleData tp;
		bool		valid;
		bool		retired;
		char		stub[RDB_STUB_LEN];

		buffer = rdb_l0_read_tid_or_retired(rel, &ctid, NULL, stub, &retired);
		if (!BufferIsValid(buffer))
		{
			/* a retired row ends its chain and every snapshot sees it */
			if (retired)
				*tid = ctid;
			break;
		}
		LockBuffer(buffer, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buffer);
		if (!rdb_l0_tid_on_page(buffer, &ctid) ||
			!ItemIdIsNormal(lp = PageGetItemId(page, ItemPointerGetOffsetNumber(&ctid))))
		{
			UnlockReleaseBuffer(buffer);
			break;
		}
		tp.t_self = ctid;
		tp.t_data = (HeapTupleHeader) PageGetItem(page, lp);
		tp.t_len = ItemIdGetLength(lp);
		tp.t_tableOid = RelationGetRelid(rel);

		/* a reused slot ends the chain */
		if (TransactionIdIsValid(priorXmax) &&
			!TransactionIdEquals(priorXmax, HeapTupleHeaderGetXmin(tp.t_data)))
		{
			UnlockReleaseBuffer(buffer);
			break;
		}

		valid = HeapTupleSatisfiesVisibility(&tp, snapshot, buffer);
		HeapCheckForSerializableConflictOut(valid, rel, &tp, buffer, snapshot);
		if (valid)
			*tid = ctid;

		/* stop at the end of the chain, or where it was only locked */
		if ((tp.t_data->t_infomask & HEAP_XMAX_INVALID) ||
			HeapTupleHeaderIsOnlyLocked(tp.t_data) ||
			HeapTupleHeaderIndicatesMovedPartitions(tp.t_data) ||
			ItemPointerEquals(&tp.t_self, &tp.t_data->t_ctid))
		{
			UnlockReleaseBuffer(buffer);
			break;
		}
		ctid = tp.t_data->t_ctid;
		priorXmax = HeapTupleHeaderGetUpdateXid(tp.t_data);
		UnlockReleaseBuffer(buffer);
	}
}

bool
rdb_am_tuple_satisfies_snapshot(Relation rel, TupleTableSlot *slot,
								Snapshot snapshot)
{
	Assert(TTS_IS_BUFFERTUPLE(slot));

	/* a buffer tuple in place; a flushed row through its stub */
	return rdb_l0_slot_satisfies(rel, slot, snapshot);
}

/*
 * rdb_am_index_delete_tuples
 *		Tell an index AM which of its entries point to rows dead to all
 *		(simple and bottom-up index deletion).
 *
 * An entry is deletable when its line pointer is LP_DEAD (pruned by VACUUM,
 * index entries not yet removed) or its row is dead to every snapshot.
 * Returns the newest xid among the removed rows, the recovery-conflict
 * horizon the index AM logs.
 */
TransactionId
rdb_am_index_delete_tuples(Relation rel, TM_IndexDeleteOp *delstate)
{
	TransactionId latestRemovedXid = InvalidTransactionId;
	GlobalVisState *vistest = GlobalVisTestFor(rel);
	Buffer		buf = InvalidBuffer;
	int			i;

	for (i = 0; i < delstate->ndeltids; i++)
	{
		TM_IndexDelete *ideltid = &delstate->deltids[i];
		TM_IndexStatus *istatus = delstate->status + ideltid->id;
		ItemPointer tid = &ideltid->tid;
		Page		page;
		ItemId		lp;
		bool		deletable = false;

		if (!BufferIsValid(buf) ||
			rdb_l0_page_generation(BufferGetPage(buf), BufferGetBlockNumber(buf)) !=
			ItemPointerGetBlockNumber(tid))
		{
			bool		retired;
			char		stub[RDB_STUB_LEN];

			if (BufferIsValid(buf))
				UnlockReleaseBuffer(buf);
			/* a retired row is live: never deletable */
			buf = rdb_l0_read_tid_or_retired(rel, tid, NULL, stub, &retired);
			if (!BufferIsValid(buf))
			{
				istatus->knowndeletable = false;
				continue;
			}
			LockBuffer(buf, BUFFER_LOCK_SHARE);
		}
		page = BufferGetPage(buf);

		if (rdb_l0_tid_on_page(buf, tid))
		{
			lp = PageGetItemId(page, ItemPointerGetOffsetNumber(tid));
			if (ItemIdIsDead(lp))
				deletable = true;
			else if (ItemIdIsNormal(lp))
			{
				HeapTupleData tup;

				tup.t_data = (HeapTupleHeader) PageGetItem(page, lp);
				tup.t_len = ItemIdGetLength(lp);
				tup.t_self = *tid;
				tup.t_tableOid = RelationGetRelid(rel);
				if (HeapTupleIsSurelyDead(&tup, vistest))
				{
					deletable = true;
					HeapTupleHeaderAdvanceLatestRemovedXid(tup.t_data,
														   &latestRemovedXid);
				}
			}
		}
		istatus->knowndeletable = deletable;

	}
	if (BufferIsValid(buf))
		UnlockReleaseBuffer(buf);

	return latestRemovedXid;
}
