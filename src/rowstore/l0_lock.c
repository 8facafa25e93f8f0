/*-------------------------------------------------------------------------
 *
 * l0_lock.c
 *	  Row locks and xmax bookkeeping for L0 tuples.
 *
 * L0 tuples carry heap's tuple header, so row-level locking works exactly
 * as on heap and interoperates with everything PostgreSQL builds on it
 * (EvalPlanQual, foreign keys, ON CONFLICT, SKIP LOCKED):
 *
 *	- a locker or updater stores its xid (or a MultiXactId naming several
 *	  lockers and at most one updater) in xmax, with lock-strength bits in
 *	  t_infomask / t_infomask2;
 *	- waiters queue on the heavyweight tuple lock (LockTuple) first, then
 *	  sleep on the xid or the multixact members they conflict with, and
 *	  recheck the tuple when they wake.
 *
 * heapam.c keeps the helpers for this static; this file is our
 * implementation of the same protocol for L0 pages, down to the lock mode
 * conflict table, because the on-disk state must mean the same thing to
 * heapam_visibility.c and multixact.c, which read it.
 *
 * Locking rules: callers pin the buffer; functions that wait release the
 * buffer content lock first and retake it after, rechecking xmax.  Never
 * wait for a transaction while holding a buffer lock.
 *
 * IDENTIFICATION
 *	  src/rowstore/l0_lock.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/multixact.h"
#include "access/xact.h"
#include "access/xloginsert.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/procarray.h"
#include "utils/rel.h"

#include "rustydb/l0.h"
#include "rustydb/xlog.h"

/*
 * For each tuple lock mode: the heavyweight lock mode that queues waiters,
 * and the multixact statuses of a locker and of an updater in that mode.
 */
static const struct
{
	LOCKMODE	hwlock;
	int			lockstatus;
	int			updstatus;
}			rdb_tuplock_info[LockTupleExclusive + 1] =
{
	[LockTupleKeyShare] = {AccessShareLock, MultiXactStatusForKeyShare, -1},
	[LockTupleShare] = {RowShareLock, MultiXactStatusForShare, -1},
	[LockTupleNoKeyExclusive] = {ExclusiveLock, MultiXactStatusForNoKeyUpdate,
	MultiXactStatusNoKeyUpdate},
	[LockTupleExclusive] = {AccessExclusiveLock, MultiXactStatusForUpdate,
	MultiXactStatusUpdate}
};

/* the tuple lock mode that a multixact member status stands for */
static LockTupleMode
mxstatus_lockmode(MultiXactStatus status)
{
	switch (status)
	{
		case MultiXactStatusForKeyShare:
			return LockTupleKeyShare;
		case MultiXactStatusForShare:
			return LockTupleShare;
		case MultiXactStatusForNoKeyUpdate:
		case MultiXactStatusNoKeyUpdate:
			return LockTupleNoKeyExclusive;
		case MultiXactStatusForUpdate:
		case MultiXactStatusUpdate:
			return LockTupleExclusive;
	}
	elog(ERROR, "unexpected multixact status %d", (int) status);
	return LockTupleExclusive;	/* keep compiler quiet */
}

#define MXSTATUS_HWLOCK(status)	(rdb_tuplock_info[mxstatus_lockmode(status)].hwlock)
#define MXSTATUS_IS_UPDATE(status)	((status) > MultiXactStatusForUpdate)

LOCKMODE
rdb_tuplock_hwlock(LockTupleMode mode)
{
	return rdb_tuplock_info[mode].hwlock;
}

/*
 * rdb_mxact_status_for_lock
 *		The multixact member status of a lock (or update) in 'mode'.
 */
MultiXactStatus
rdb_mxact_status_for_lock(LockTupleMode mode, bool is_update)
{
	int			status;

	status = is_update ? rdb_tuplock_info[mode].updstatus :
		rdb_tuplock_info[mode].lockstatus;
	if (status == -1)
		elog(ERROR, "invalid lock tuple mode %d/%s", mode,
			 is_update ? "true" : "false");
	return (MultiXactStatus) status;
}

/*
 * rdb_multixact_hint_bits
 *		The infomask bits that describe a multixact xmax: the strongest
 *		member lock, whether keys were updated, whether it is lock-only.
 */
void
rdb_multixact_hint_bits(MultiXactId multi, uint16 *new_infomask,
						uint16 *new_infomask2)
{
	MultiXactMember *members;
	int			nmembers;
	int			i;
	uint16		bits = HEAP_XMAX_IS_MULTI;
	uint16		bits2 = 0;
	bool		has_update = false;
	LockTupleMode strongest = LockTupleKeyShare;

	nmembers = GetMultiXactIdMembers(multi, &members, false, false);
	for (i = 0; i < nmembers; i++)
	{
		LockTupleMode mode = mxstatus_lockmode(members[i].status);

		if (mode > strongest)
			strongest = mode;
		if (members[i].status == MultiXactStatusForUpdate ||
			members[i].status == MultiXactStatusUpdate)
			bits2 |= HEAP_KEYS_UPDATED;
		if (MXSTATUS_IS_UPDATE(members[i].status))
			has_update = true;
	}
	if (nmembers > 0)
		pfree(members);

	if (strongest >= LockTupleNoKeyExclusive)
		bits |= HEAP_XMAX_EXCL_LOCK;
	else if (strongest == LockTupleShare)
		bits |= HEAP_XMAX_SHR_LOCK;
	else
		bits |= HEAP_XMAX_KEYSHR_LOCK;
	if (!has_update)
		bits |= HEAP_XMAX_LOCK_ONLY;

	*new_infomask = bits;
	*new_infomask2 = bits2;
}

/* the single-xid lock or update mode that a tuple's infomask records */
static MultiXactStatus
single_xmax_status(uint16 infomask, uint16 infomask2)
{
	if (!HEAP_XMAX_IS_LOCKED_ONLY(infomask))
		return (infomask2 & HEAP_KEYS_UPDATED) ?
			MultiXactStatusUpdate : MultiXactStatusNoKeyUpdate;
	if (HEAP_XMAX_IS_KEYSHR_LOCKED(infomask))
		return MultiXactStatusForKeyShare;
	if (HEAP_XMAX_IS_SHR_LOCKED(infomask))
		return MultiXactStatusForShare;
	if (HEAP_XMAX_IS_EXCL_LOCKED(infomask))
		return (infomask2 & HEAP_KEYS_UPDATED) ?
			MultiXactStatusForUpdate : MultiXactStatusForNoKeyUpdate;
	/* a lock-only xmax without lock bits: treat as the weakest lock */
	return MultiXactStatusForKeyShare;
}

/* the updater among a multixact's members, or InvalidTransactionId */
static TransactionId
multixact_update_xid(MultiXactId multi)
{
	MultiXactMember *members;
	int			nmembers;
	int			i;
	TransactionId update_xact = InvalidTransactionId;

	nmembers = GetMultiXactIdMembers(multi, &members, false, false);
	for (i = 0; i < nmembers; i++)
	{
		if (MXSTATUS_IS_UPDATE(members[i].status))
		{
			update_xact = members[i].xid;
			break;
		}
	}
	if (nmembers > 0)
		pfree(members);
	return update_xact;
}

/*
 * rdb_compute_new_xmax_infomask
 *		Given a tuple's current xmax state, compute the xmax and infomask
 *		bits after transaction add_to_xmax locks it in 'mode' (or updates
 *		it, is_update).
 *
 * The result is a plain xid when add_to_xmax is alone (or the old lockers
 * are gone), and a new or expanded MultiXactId when other lockers, or a
 * committed updater that must stay recorded, remain.  May create
 * multixacts, so call it before entering a critical section.
 */
void
rdb_compute_new_xmax_infomask(TransactionId xmax, uint16 old_infomask,
							  uint16 old_infomask2, TransactionId add_to_xmax,
							  LockTupleMode mode, bool is_update,
							  TransactionId *result_xmax,
							  uint16 *result_infomask,
							  uint16 *result_infomask2)
{
	TransactionId new_xmax;
	uint16		new_infomask;
	uint16		new_infomask2;

restart:
	new_infomask = 0;
	new_infomask2 = 0;

	if (old_infomask & HEAP_XMAX_INVALID)
	{
		/* nobody else: just us */
		new_xmax = add_to_xmax;
		if (is_update)
		{
			if (mode == LockTupleExclusive)
				new_infomask2 |= HEAP_KEYS_UPDATED;
		}
		else
		{
			new_infomask |= HEAP_XMAX_LOCK_ONLY;
			switch (mode)
			{
				case LockTupleKeyShare:
					new_infomask |= HEAP_XMAX_KEYSHR_LOCK;
					break;
				case LockTupleShare:
					new_infomask |= HEAP_XMAX_SHR_LOCK;
					break;
				case LockTupleNoKeyExclusive:
					new_infomask |= HEAP_XMAX_EXCL_LOCK;
					break;
				case LockTupleExclusive:
					new_infomask |= HEAP_XMAX_EXCL_LOCK;
					new_infomask2 |= HEAP_KEYS_UPDATED;
					break;
			}
		}
	}
	else if (old_infomask & HEAP_XMAX_IS_MULTI)
	{
		/*
		 * Expand the multixact, unless none of its members is alive and it
		 * holds no committed update: then it can be forgotten.
		 */
		if (!MultiXactIdIsRunning(xmax, HEAP_XMAX_IS_LOCKED_ONLY(old_infomask)))
		{
			if (HEAP_XMAX_IS_LOCKED_ONLY(old_infomask) ||
				!TransactionIdDidCommit(multixact_update_xid(xmax)))
			{
				old_infomask &= ~HEAP_XMAX_IS_MULTI;
				old_infomask |= HEAP_XMAX_INVALID;
				goto restart;
			}
		}
		new_xmax = MultiXactIdExpand((MultiXactId) xmax, add_to_xmax,
									 rdb_mxact_status_for_lock(mode, is_update));
		rdb_multixact_hint_bits(new_xmax, &new_infomask, &new_infomask2);
	}
	else if ((old_infomask & HEAP_XMAX_COMMITTED) ||
			 (!TransactionIdIsInProgress(xmax) &&
			  !HEAP_XMAX_IS_LOCKED_ONLY(old_infomask) &&
			  TransactionIdDidCommit(xmax)))
	{
		/* a committed updater: keep it as the multixact's update member */
		MultiXactStatus status;

		status = (old_infomask2 & HEAP_KEYS_UPDATED) ?
			MultiXactStatusUpdate : MultiXactStatusNoKeyUpdate;
		new_xmax = MultiXactIdCreate(xmax, status, add_to_xmax,
									 rdb_mxact_status_for_lock(mode, is_update));
		rdb_multixact_hint_bits(new_xmax, &new_infomask, &new_infomask2);
	}
	else if (TransactionIdIsInProgress(xmax))
	{
		MultiXactStatus old_status = single_xmax_status(old_infomask,
														old_infomask2);

		if (xmax == add_to_xmax)
		{
			/*
			 * We already lock the tuple: keep only the stronger of the two
			 * locks, as a single xid.  (We cannot be its updater here: the
			 * tuple would be invisible to us.)
			 */
			LockTupleMode old_mode = mxstatus_lockmode(old_status);

			if (mode < old_mode)
				mode = old_mode;
			old_infomask |= HEAP_XMAX_INVALID;
			goto restart;
		}
		new_xmax = MultiXactIdCreate(xmax, old_status, add_to_xmax,
									 rdb_mxact_status_for_lock(mode, is_update));
		rdb_multixact_hint_bits(new_xmax, &new_infomask, &new_infomask2);
	}
	else
	{
		/* the old locker, or an aborted updater, is gone: forget it */
		old_infomask |= HEAP_XMAX_INVALID;
		goto restart;
	}

	*result_xmax = new_xmax;
	*result_infomask = new_infomask;
	*result_infomask2 = new_infomask2;
}

/*
 * rdb_acquire_tuplock
 *		Take the heavyweight tuple lock that orders waiters for a row.
 *
 * Returns false only under LockWaitSkip when the lock is busy; raises
 * LOCK_NOT_AVAILABLE under LockWaitError.
 */
bool
rdb_acquire_tuplock(Relation rel, ItemPointer tid, LockTupleMode mode,
					LockWaitPolicy wait_policy, bool *have_tuple_lock)
{
	if (*have_tuple_lock)
		return true;

	switch (wait_policy)
	{
		case LockWaitBlock:
			LockTuple(rel, tid, rdb_tuplock_info[mode].hwlock);
			break;
		case LockWaitSkip:
			if (!ConditionalLockTuple(rel, tid, rdb_tuplock_info[mode].hwlock))
				return false;
			break;
		case LockWaitError:
			if (!ConditionalLockTuple(rel, tid, rdb_tuplock_info[mode].hwlock))
				ereport(ERROR,
						(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
						 errmsg("could not obtain lock on row in relation \"%s\"",
								RelationGetRelationName(rel))));
			break;
	}
	*have_tuple_lock = true;
	return true;
}

void
rdb_release_tuplock(Relation rel, ItemPointer tid, LockTupleMode mode)
{
	UnlockTuple(rel, tid, rdb_tuplock_info[mode].hwlock);
}

/*
 * rdb_xmax_infomask_changed
 *		Did the xmax-related infomask bits change while we waited?
 */
bool
rdb_xmax_infomask_changed(uint16 new_infomask, uint16 old_infomask)
{
	const uint16 interesting =
		HEAP_XMAX_IS_MULTI | HEAP_XMAX_LOCK_ONLY | HEAP_LOCK_MASK;

	return (new_infomask & interesting) != (old_infomask & interesting);
}

/*
 * rdb_update_xmax_hint_bits
 *		After waiting for a single-xid xmax to finish, record its fate.
 *		Caller holds the buffer exclusively locked.
 */
void
rdb_update_xmax_hint_bits(HeapTupleHeader tuple, Buffer buffer,
						  TransactionId xid)
{
	if (tuple->t_infomask & (HEAP_XMAX_COMMITTED | HEAP_XMAX_INVALID))
		return;
	if (!HEAP_XMAX_IS_LOCKED_ONLY(tuple->t_infomask) &&
		TransactionIdDidCommit(xid))
		HeapTupleSetHintBits(tuple, buffer, HEAP_XMAX_COMMITTED, xid);
	else
		HeapTupleSetHintBits(tuple, buffer, HEAP_XMAX_INVALID,
							 InvalidTransactionId);
}

/*
 * rdb_does_multixact_conflict
 *		Does a live member of the multixact hold a lock (or a not-aborted
 *		update) that conflicts with locking the tuple in lockmode?
 *
 * Members of our own transaction never conflict; *current_is_member (if
 * given) tells whether there are any.
 */
bool
rdb_does_multixact_conflict(MultiXactId multi, uint16 infomask,
							LockTupleMode lockmode, bool *current_is_member)
{
	MultiXactMember *members;
	int			nmembers;
	int			i;
	bool		result = false;
	LOCKMODE	wanted = rdb_tuplock_info[lockmode].hwlock;

	if (HEAP_LOCKED_UPGRADED(infomask))
		return false;

	nmembers = GetMultiXactIdMembers(multi, &members, false,
									 HEAP_XMAX_IS_LOCKED_ONLY(infomask));
	for (i = 0; i < nmembers; i++)
	{
		TransactionId memxid = members[i].xid;

		if (result && (current_is_member == NULL || *current_is_member))
			break;
		if (TransactionIdIsCurrentTransactionId(memxid))
		{
			if (current_is_member)
				*current_is_member = true;
			continue;
		}
		if (result)
			continue;
		if (!DoLockModesConflict(MXSTATUS_HWLOCK(members[i].status), wanted))
			continue;
		if (MXSTATUS_IS_UPDATE(members[i].status))
		{
			if (TransactionIdDidAbort(memxid))
				continue;
		}
		else if (!TransactionIdIsInProgress(memxid))
			continue;
		result = true;
	}
	if (nmembers > 0)
		pfree(members);
	return result;
}

/*
 * rdb_multixact_wait
 *		Wait for every member of the multixact whose lock conflicts with
 *		'status' to finish.  With nowait, return false instead of sleeping.
 *
 * *remaining (if given) receives the number of members still running that
 * we did not wait for (our own, and non-conflicting lockers).
 */
bool
rdb_multixact_wait(MultiXactId multi, MultiXactStatus status, uint16 infomask,
				   bool nowait, Relation rel, ItemPointer ctid,
				   XLTW_Oper oper, int *remaining)
{
	MultiXactMember *members;
	int			nmembers;
	int			remain = 0;
	bool		result = true;
	int			i;

	nmembers = HEAP_LOCKED_UPGRADED(infomask) ? -1 :
		GetMultiXactIdMembers(multi, &members, false,
							  HEAP_XMAX_IS_LOCKED_ONLY(infomask));
	for (i = 0; i < nmembers; i++)
	{
		TransactionId memxid = members[i].xid;

		if (TransactionIdIsCurrentTransactionId(memxid))
		{
			remain++;
			continue;
		}
		if (!DoLockModesConflict(MXSTATUS_HWLOCK(members[i].status),
								 MXSTATUS_HWLOCK(status)))
		{
			if (remaining && TransactionIdIsInProgress(memxid))
				remain++;
			continue;
		}
		if (nowait)
		{
			result = ConditionalXactLockTableWait(memxid);
			if (!result)
				break;
		}
		else
			XactLockTableWait(memxid, rel, ctid, oper);
	}
	if (nmembers > 0)
		pfree(members);
	if (remaining)
		*remaining = remain;
	return result;
}

/*
 * rdb_log_header_change
 *		WAL-log the current header of one tuple (after a delete, lock,
 *		speculative confirmation or super-deletion).  Caller is in the
 *		critical section that changed it and holds the buffer exclusively.
 */
void
rdb_log_header_change(Relation rel, Buffer buf, OffsetNumber offnum,
					  TransactionId prune_xid)
{
	Page		page = BufferGetPage(buf);
	xl_rdb_set_headers xlrec;
	xl_rdb_header xlh;
	XLogRecPtr	recptr;

	if (!RelationNeedsWAL(rel))
		return;

	rdb_xlog_fill_header(&xlh, (HeapTupleHeader)
						 PageGetItem(page, PageGetItemId(page, offnum)),
						 offnum);
	xlrec.prune_xid = prune_xid;
	xlrec.conflict_xid = InvalidTransactionId;
	xlrec.nheaders = 1;

	XLogBeginInsert();
	XLogRegisterData((char *) &xlrec, SizeOfRdbSetHeaders);
	XLogRegisterBuffer(0, buf, REGBUF_STANDARD);
	XLogRegisterBufData(0, (char *) &xlh, SizeOfRdbHeader);
	recptr = XLogInsert(RDB_RMGR_ID, XLOG_RDB_SET_HEADERS);
	PageSetLSN(page, recptr);
}

/*
 * Would a lock in 'mode' by us conflict with the xmax 'xid' (of status
 * 'status') of a later tuple version?  Sets *needwait when we must wait
 * for xid; returns TM_Ok unless the conflict is with a committed update.
 */
static TM_Result
chain_test_conflict(TransactionId xid, MultiXactStatus status,
					LockTupleMode mode, HeapTuple tup, bool *needwait)
{
	MultiXactStatus wanted = rdb_mxact_status_for_lock(mode, false);

	*needwait = false;
	if (TransactionIdIsCurrentTransactionId(xid))
		return TM_SelfModified;
	if (TransactionIdIsInProgress(xid))
	{
		if (DoLockModesConflict(MXSTATUS_HWLOCK(status), MXSTATUS_HWLOCK(wanted)))
			*needwait = true;
		return TM_Ok;
	}
	if (TransactionIdDidAbort(xid))
		return TM_Ok;
	/* committed: a finished locker is harmless, a finished update is not */
	if (!MXSTATUS_IS_UPDATE(status))
		return TM_Ok;
	if (DoLockModesConflict(MXSTATUS_HWLOCK(status), MXSTATUS_HWLOCK(wanted)))
		return ItemPointerEquals(&tup->t_self, &tup->t_data->t_ctid) ?
			TM_Deleted : TM_Updated;
	return TM_Ok;
}

/*
 * lock_update_chain
 *		Add our lock to every later version of a row that was updated
 *		(without changing its key) by a transaction that may still commit.
 *
 * This is what keeps FOR KEY SHARE (foreign key checks) honest: deleting the
 * new version, or changing its key, must wait for us too.
 */
static TM_Result
lock_update_chain(Relation rel, ItemPointer ctid, TransactionId priorXmax,
				  LockTupleMode mode)
{
	ItemPointerData tid = *ctid;
	TransactionId xid = GetCurrentTransactionId();

	MultiXactIdSetOldestMember();

	for (;;)
	{
		Buffer		buf;
		Page		page;
		ItemId		lp;
		HeapTupleData tup;
		TransactionId xmax;
		uint16		old_infomask;
		uint16		new_infomask;
		uint16		new_infomask2;
		TransactionId new_xmax;
		TM_Result	result = TM_Ok;

		buf = rdb_l0_read_tid_buffer(rel, &tid, NULL);
		if (!BufferIsValid(buf))
			return TM_Ok;
retry:
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);
		if (!rdb_l0_tid_on_page(buf, &tid) ||
			!ItemIdIsNormal(lp = PageGetItemId(page, ItemPointerGetOffsetNumber(&tid))))
		{
			UnlockReleaseBuffer(buf);
			return TM_Ok;
		}
		tup.t_data = (HeapTupleHeader) PageGetItem(page, lp);
		tup.t_len = ItemIdGetLength(lp);
		tup.t_self = tid;
		tup.t_tableOid = RelationGetRelid(rel);

		/* the slot was reused for another row, or the updater aborted */
		if (!TransactionIdEquals(HeapTupleHeaderGetXmin(tup.t_data), priorXmax) ||
			HeapTupleHeaderXminInvalid(tup.t_data) ||
			TransactionIdDidAbort(priorXmax))
		{
			UnlockReleaseBuffer(buf);
			return TM_Ok;
		}

		old_infomask = tup.t_data->t_infomask;
		xmax = HeapTupleHeaderGetRawXmax(tup.t_data);

		if (!(old_infomask & HEAP_XMAX_INVALID))
		{
			bool		needwait = false;

			if (old_infomask & HEAP_XMAX_IS_MULTI)
			{
				MultiXactMember *members;
				int			nmembers;
				int			i;

				nmembers = GetMultiXactIdMembers(xmax, &members, false,
												 HEAP_XMAX_IS_LOCKED_ONLY(old_infomask));
				for (i = 0; i < nmembers && result == TM_Ok; i++)
				{
					result = chain_test_conflict(members[i].xid, members[i].status,
												 mode, &tup, &needwait);
					if (result == TM_SelfModified)
						result = TM_Ok; /* we are already a member */
					if (needwait)
					{
						LockBuffer(buf, BUFFER_LOCK_UNLOCK);
						XactLockTableWait(members[i].xid, rel, &tup.t_self,
										  XLTW_LockUpdated);
						pfree(members);
						goto retry;
					}
				}
				if (nmembers > 0)
					pfree(members);
			}
			else
			{
				result = chain_test_conflict(xmax,
											 single_xmax_status(old_infomask,
																tup.t_data->t_infomask2),
											 mode, &tup, &needwait);
				if (result == TM_SelfModified)
				{
					/* we locked this version already */
					UnlockReleaseBuffer(buf);
					return TM_Ok;
				}
				if (needwait)
				{
					LockBuffer(buf, BUFFER_LOCK_UNLOCK);
					XactLockTableWait(xmax, rel, &tup.t_self, XLTW_LockUpdated);
					goto retry;
				}
			}
			if (result != TM_Ok)
			{
				UnlockReleaseBuffer(buf);
				return result;
			}
		}

		rdb_compute_new_xmax_infomask(xmax, old_infomask, tup.t_data->t_infomask2,
									  xid, mode, false, &new_xmax,
									  &new_infomask, &new_infomask2);

		START_CRIT_SECTION();
		tup.t_data->t_infomask &= ~HEAP_XMAX_BITS;
		tup.t_data->t_infomask2 &= ~HEAP_KEYS_UPDATED;
		tup.t_data->t_infomask |= new_infomask;
		tup.t_data->t_infomask2 |= new_infomask2;
		HeapTupleHeaderSetXmax(tup.t_data, new_xmax);
		MarkBufferDirty(buf);
		rdb_log_header_change(rel, buf, ItemPointerGetOffsetNumber(&tid),
							  InvalidTransactionId);
		END_CRIT_SECTION();

		/* the end of the chain, or a version that was only locked? */
		if (ItemPointerEquals(&tup.t_self, &tup.t_data->t_ctid) ||
			HeapTupleHeaderIsOnlyLocked(tup.t_data))
		{
			UnlockReleaseBuffer(buf);
			return TM_Ok;
		}
		priorXmax = HeapTupleHeaderGetUpdateXid(tup.t_data);
		tid = tup.t_data->t_ctid;
		UnlockReleaseBuffer(buf);
	}
}

/* report LOCK_NOT_AVAILABLE for NOWAIT */
static void
report_lock_not_available(Relation rel)
{
	ereport(ERROR,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 errmsg("could not obtain lock on row in relation \"%s\"",
					RelationGetRelationName(rel))));
}

/*
 * rdb_l0_lock_tuple
 *		Lock the row version tuple->t_self in 'mode'.
 *
 * On return *buffer holds a pin (not a lock) on the tuple's page and
 * tuple->t_data points into it.  Results are those of heap_lock_tuple:
 * TM_Ok, TM_Invisible, TM_SelfModified, TM_Updated, TM_Deleted or
 * TM_WouldBlock (SKIP LOCKED); on failure tmfd describes the conflict.
 */
TM_Result
rdb_l0_lock_tuple(Relation rel, HeapTuple tuple, CommandId cid,
				  LockTupleMode mode, LockWaitPolicy wait_policy,
				  bool follow_updates, Buffer *buffer, TM_FailureData *tmfd)
{
	ItemPointer tid = &tuple->t_self;
	Page		page;
	ItemId		lp;
	TM_Result	result;
	bool		first_time = true;
	bool		skip_tuple_lock = false;
	bool		have_tuple_lock = false;
	TransactionId xid;
	uint16		new_infomask;
	uint16		new_infomask2;

	*buffer = rdb_l0_read_tid_buffer(rel, tid, NULL);
	if (!BufferIsValid(*buffer))
		elog(ERROR, "tid (%u,%u) names no row of relation \"%s\"",
			 ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid),
			 RelationGetRelationName(rel));
	LockBuffer(*buffer, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(*buffer);
	if (!rdb_l0_tid_on_page(*buffer, tid) ||
		!ItemIdIsNormal(lp = PageGetItemId(page, ItemPointerGetOffsetNumber(tid))))
	{
		/* the row is gone (pruned): nothing to lock */
		tuple->t_data = NULL;
		UnlockReleaseBuffer(*buffer);
		*buffer = InvalidBuffer;
		tmfd->ctid = *tid;
		tmfd->xmax = InvalidTransactionId;
		tmfd->cmax = InvalidCommandId;
		return TM_Deleted;
	}
	tuple->t_data = (HeapTupleHeader) PageGetItem(page, lp);
	tuple->t_len = ItemIdGetLength(lp);
	tuple->t_tableOid = RelationGetRelid(rel);

recheck:
	result = HeapTupleSatisfiesUpdate(tuple, cid, *buffer);

	if (result == TM_Invisible)
	{
		/* only ON CONFLICT DO UPDATE gets here; it raises its own error */
		goto out_locked;
	}
	else if (result == TM_BeingModified || result == TM_Updated ||
			 result == TM_Deleted)
	{
		TransactionId xwait = HeapTupleHeaderGetRawXmax(tuple->t_data);
		uint16		infomask = tuple->t_data->t_infomask;
		uint16		infomask2 = tuple->t_data->t_infomask2;
		ItemPointerData t_ctid = tuple->t_data->t_ctid;
		bool		require_sleep = true;

		LockBuffer(*buffer, BUFFER_LOCK_UNLOCK);

		/*
		 * If our own transaction already holds a lock at least as strong, we
		 * hold the requested lock already and must succeed without queueing
		 * on the tuple lock (or we would deadlock against a waiter that
		 * wants a stronger lock and waits for us).
		 */
		if (first_time)
		{
			first_time = false;
			if (infomask & HEAP_XMAX_IS_MULTI)
			{
				MultiXactMember *members;
				int			nmembers;
				int			i;

				nmembers = GetMultiXactIdMembers(xwait, &members, false,
												 HEAP_XMAX_IS_LOCKED_ONLY(infomask));
				for (i = 0; i < nmembers; i++)
				{
					if (!TransactionIdIsCurrentTransactionId(members[i].xid))
						continue;
					if (mxstatus_lockmode(members[i].status) >= mode)
					{
						pfree(members);
						result = TM_Ok;
						goto out_unlocked;
					}
					/* upgrading a weaker lock of ours: don't queue */
					skip_tuple_lock = true;
				}
				if (nmembers > 0)
					pfree(members);
			}
			else if (TransactionIdIsCurrentTransactionId(xwait))
			{
				bool		held = false;

				switch (mode)
				{
					case LockTupleKeyShare:
						held = true;
						break;
					case LockTupleShare:
						held = HEAP_XMAX_IS_SHR_LOCKED(infomask) ||
							HEAP_XMAX_IS_EXCL_LOCKED(infomask);
						break;
					case LockTupleNoKeyExclusive:
						held = HEAP_XMAX_IS_EXCL_LOCKED(infomask);
						break;
					case LockTupleExclusive:
						held = HEAP_XMAX_IS_EXCL_LOCKED(infomask) &&
							(infomask2 & HEAP_KEYS_UPDATED);
						break;
				}
				if (held)
				{
					result = TM_Ok;
					goto out_unlocked;
				}
			}
		}

		/* cases where the existing lockers/updater do not conflict with us */
		if (mode == LockTupleKeyShare)
		{
			/* only a key update conflicts with KEY SHARE */
			if (!(infomask2 & HEAP_KEYS_UPDATED))
			{
				bool		updated = !HEAP_XMAX_IS_LOCKED_ONLY(infomask);

				if (follow_updates && updated)
				{
					TM_Result	res;

					res = lock_update_chain(rel, &t_ctid,
											HeapTupleHeaderGetUpdateXid(tuple->t_data),
											mode);
					if (res != TM_Ok)
					{
						result = res;
						LockBuffer(*buffer, BUFFER_LOCK_EXCLUSIVE);
						goto failed;
					}
				}
				LockBuffer(*buffer, BUFFER_LOCK_EXCLUSIVE);
				if (!HeapTupleHeaderIsOnlyLocked(tuple->t_data) &&
					((tuple->t_data->t_infomask2 & HEAP_KEYS_UPDATED) || !updated))
					goto recheck;
				require_sleep = false;
			}
		}
		else if (mode == LockTupleShare)
		{
			/* SHARE conflicts only with updates and exclusive locks */
			if (HEAP_XMAX_IS_LOCKED_ONLY(infomask) &&
				!HEAP_XMAX_IS_EXCL_LOCKED(infomask))
			{
				LockBuffer(*buffer, BUFFER_LOCK_EXCLUSIVE);
				if (!HEAP_XMAX_IS_LOCKED_ONLY(tuple->t_data->t_infomask) ||
					HEAP_XMAX_IS_EXCL_LOCKED(tuple->t_data->t_infomask))
					goto recheck;
				require_sleep = false;
			}
		}
		else if (mode == LockTupleNoKeyExclusive)
		{
			/* NO KEY UPDATE does not conflict with KEY SHARE lockers */
			if (((infomask & HEAP_XMAX_IS_MULTI) &&
				 !rdb_does_multixact_conflict(xwait, infomask, mode, NULL)) ||
				(!(infomask & HEAP_XMAX_IS_MULTI) &&
				 HEAP_XMAX_IS_KEYSHR_LOCKED(infomask)))
			{
				LockBuffer(*buffer, BUFFER_LOCK_EXCLUSIVE);
				if (rdb_xmax_infomask_changed(tuple->t_data->t_infomask, infomask) ||
					!TransactionIdEquals(HeapTupleHeaderGetRawXmax(tuple->t_data), xwait))
					goto recheck;
				require_sleep = false;
			}
		}

		/* we are the only locker: no need to sleep, just record the lock */
		if (require_sleep && !(infomask & HEAP_XMAX_IS_MULTI) &&
			TransactionIdIsCurrentTransactionId(xwait))
		{
			LockBuffer(*buffer, BUFFER_LOCK_EXCLUSIVE);
			if (rdb_xmax_infomask_changed(tuple->t_data->t_infomask, infomask) ||
				!TransactionIdEquals(HeapTupleHeaderGetRawXmax(tuple->t_data), xwait))
				goto recheck;
			require_sleep = false;
		}

		if (require_sleep && (result == TM_Updated || result == TM_Deleted))
		{
			/* a committed update: waiting cannot help */
			LockBuffer(*buffer, BUFFER_LOCK_EXCLUSIVE);
			goto failed;
		}
		else if (require_sleep)
		{
			/* queue on the tuple lock, then wait for the current holders */
			if (!skip_tuple_lock &&
				!rdb_acquire_tuplock(rel, tid, mode, wait_policy, &have_tuple_lock))
			{
				result = TM_WouldBlock;
				LockBuffer(*buffer, BUFFER_LOCK_EXCLUSIVE);
				goto failed;
			}

			if (infomask & HEAP_XMAX_IS_MULTI)
			{
				MultiXactStatus status = rdb_mxact_status_for_lock(mode, false);

				if (!rdb_multixact_wait(xwait, status, infomask,
										wait_policy != LockWaitBlock, rel,
										&tuple->t_self, XLTW_Lock, NULL))
				{
					if (wait_policy == LockWaitError)
						report_lock_not_available(rel);
					result = TM_WouldBlock;
					LockBuffer(*buffer, BUFFER_LOCK_EXCLUSIVE);
					goto failed;
				}
			}
			else
			{
				switch (wait_policy)
				{
					case LockWaitBlock:
						XactLockTableWait(xwait, rel, &tuple->t_self, XLTW_Lock);
						break;
					case LockWaitSkip:
						if (!ConditionalXactLockTableWait(xwait))
						{
							result = TM_WouldBlock;
							LockBuffer(*buffer, BUFFER_LOCK_EXCLUSIVE);
							goto failed;
						}
						break;
					case LockWaitError:
						if (!ConditionalXactLockTableWait(xwait))
							report_lock_not_available(rel);
						break;
				}
			}

			/* lock later versions too, if the waited-for xact updated it */
			if (follow_updates && !HEAP_XMAX_IS_LOCKED_ONLY(infomask))
			{
				TM_Result	res;

				res = lock_update_chain(rel, &t_ctid,
										HeapTupleHeaderGetUpdateXid(tuple->t_data),
										mode);
				if (res != TM_Ok)
				{
					result = res;
					LockBuffer(*buffer, BUFFER_LOCK_EXCLUSIVE);
					goto failed;
				}
			}

			LockBuffer(*buffer, BUFFER_LOCK_EXCLUSIVE);
			if (rdb_xmax_infomask_changed(tuple->t_data->t_infomask, infomask) ||
				!TransactionIdEquals(HeapTupleHeaderGetRawXmax(tuple->t_data), xwait))
				goto recheck;
			if (!(infomask & HEAP_XMAX_IS_MULTI))
				rdb_update_xmax_hint_bits(tuple->t_data, *buffer, xwait);
		}

		/* buffer is exclusively locked again here */
		if (!require_sleep ||
			(tuple->t_data->t_infomask & HEAP_XMAX_INVALID) ||
			HEAP_XMAX_IS_LOCKED_ONLY(tuple->t_data->t_infomask) ||
			HeapTupleHeaderIsOnlyLocked(tuple->t_data))
			result = TM_Ok;
		else if (!ItemPointerEquals(&tuple->t_self, &tuple->t_data->t_ctid))
			result = TM_Updated;
		else
			result = TM_Deleted;
	}

failed:
	if (result != TM_Ok)
	{
		tmfd->ctid = tuple->t_data->t_ctid;
		tmfd->xmax = HeapTupleHeaderGetUpdateXid(tuple->t_data);
		if (result == TM_SelfModified)
			tmfd->cmax = HeapTupleHeaderGetCmax(tuple->t_data);
		else
			tmfd->cmax = InvalidCommandId;
		goto out_locked;
	}

	/*
	 * Record the lock.  Any xid or multixact we store must be covered by WAL
	 * before the page can reach disk, or they could be reused after a crash.
	 */
	MultiXactIdSetOldestMember();
	rdb_compute_new_xmax_infomask(HeapTupleHeaderGetRawXmax(tuple->t_data),
								  tuple->t_data->t_infomask,
								  tuple->t_data->t_infomask2,
								  GetCurrentTransactionId(), mode, false,
								  &xid, &new_infomask, &new_infomask2);

	START_CRIT_SECTION();
	tuple->t_data->t_infomask &= ~HEAP_XMAX_BITS;
	tuple->t_data->t_infomask2 &= ~HEAP_KEYS_UPDATED;
	tuple->t_data->t_infomask |= new_infomask;
	tuple->t_data->t_infomask2 |= new_infomask2;
	if (HEAP_XMAX_IS_LOCKED_ONLY(new_infomask))
		HeapTupleHeaderClearHotUpdated(tuple->t_data);
	HeapTupleHeaderSetXmax(tuple->t_data, xid);
	/* an updated tuple keeps its forward link; a merely locked one points home */
	if (HEAP_XMAX_IS_LOCKED_ONLY(new_infomask))
		tuple->t_data->t_ctid = *tid;
	MarkBufferDirty(*buffer);
	rdb_log_header_change(rel, *buffer, ItemPointerGetOffsetNumber(tid),
						  InvalidTransactionId);
	END_CRIT_SECTION();

	result = TM_Ok;

out_locked:
	LockBuffer(*buffer, BUFFER_LOCK_UNLOCK);

out_unlocked:
	if (have_tuple_lock)
		rdb_release_tuplock(rel, tid, mode);
	return result;
}
