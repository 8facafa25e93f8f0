/*-------------------------------------------------------------------------
 *
 * modify.c
 *	  Row changes on L0: insert, multi-insert, speculative insert, delete,
 *	  update and the tuple_lock callback.
 *
 * Semantics are heap's, because SQL must not be able to tell the two apart:
 * an UPDATE is a delete of the old version plus an insert of the new one,
 * linked through the old version's t_ctid (the update chain EvalPlanQual
 * follows); a writer that meets an in-progress modification queues on the
 * tuple lock, waits for the other transaction, and rechecks; in REPEATABLE
 * READ and SERIALIZABLE the executor turns TM_Updated into a serialization
 * failure.  L0 does no HOT updates: every new version gets index entries.
 *
 * Every page change happens in a critical section together with its WAL
 * record (l0_xlog.c): XLOG_RDB_INSERT / MULTI_INSERT for new tuples,
 * ROW_CHANGE for deletes and the end of speculative insertions,
 * SET_HEADERS for header changes that change no row (row locks), UPDATE
 * for both halves of an update in one record.  At wal_level = logical the
 * records also carry what logical decoding needs (decode.c).
 *
 * Locking: buffer content locks are held only across the header inspection
 * and the change itself, never while waiting for another transaction.  When
 * an UPDATE must move to another page it first marks the old version as
 * locked by us (so nobody can change it while we drop its buffer lock), as
 * heap_update does.
 *
 * Memory: tuples built here (TOAST-compressed copies) live in the caller's
 * context and are freed before returning.
 *
 * IDENTIFICATION
 *	  src/tableam/modify.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/heaptoast.h"
#include "access/multixact.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xloginsert.h"
#include "catalog/catalog.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/predicate.h"
#include "storage/procarray.h"
#include "utils/datum.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"

#include "rustydb/rustydb.h"
#include "rustydb/events.h"
#include "rustydb/l0.h"
#include "rustydb/lsm.h"
#include "rustydb/options.h"
#include "rustydb/xlog.h"

/* ------------------------------------------------------------------------
 * Inserts
 * ------------------------------------------------------------------------
 */

/*
 * Stamp a new tuple with our xid and command id, and TOAST it if needed.
 * Returns the tuple to store: the input, or a palloc'd toasted copy.
 */
static HeapTuple
l0_prepare_insert(Relation rel, HeapTuple tup, TransactionId xid,
				  CommandId cid, int options)
{
	tup->t_data->t_infomask &= ~(HEAP_XACT_MASK);
	tup->t_data->t_infomask2 &= ~(HEAP2_XACT_MASK);
	tup->t_data->t_infomask |= HEAP_XMAX_INVALID;
	HeapTupleHeaderSetXmin(tup->t_data, xid);
	if (options & HEAP_INSERT_FROZEN)
		HeapTupleHeaderSetXminFrozen(tup->t_data);
	HeapTupleHeaderSetCmin(tup->t_data, cid);
	HeapTupleHeaderSetXmax(tup->t_data, 0);
	tup->t_tableOid = RelationGetRelid(rel);

	if (HeapTupleHasExternal(tup) || tup->t_len > TOAST_TUPLE_THRESHOLD)
		return heap_toast_insert_or_update(rel, tup, NULL, options);
	return tup;
}

/* the part of a new tuple's header its WAL record carries (xlog.h) */
static inline void
l0_tuple_head(xl_rdb_tuple_head *head, HeapTupleHeader htup)
{
	head->t_infomask2 = htup->t_infomask2;
	head->t_infomask = htup->t_infomask;
	head->t_hoff = htup->t_hoff;
}

/*
 * Insert one prepared tuple: find a page, place it, WAL-log it.
 * Sets tup->t_self.  options are the table_tuple_insert options
 * (TABLE_INSERT_NO_LOGICAL keeps the row out of logical decoding).
 */
static void
l0_insert_prepared(Relation rel, HeapTuple tup, BulkInsertState bistate,
				   int options, bool speculative)
{
	Buffer		buffer;
	Page		page;
	bool		page_is_new;
	OffsetNumber offnum;
	uint8		xlflags = rdb_xlog_logical_flags(rel, options);

	buffer = rdb_l0_get_buffer_for_tuple(rel, tup->t_len, InvalidBuffer,
										 bistate, &page_is_new);

	/* a serializable reader of the whole table conflicts with us */
	CheckForSerializableConflictIn(rel, NULL, InvalidBlockNumber);

	page = BufferGetPage(buffer);

	START_CRIT_SECTION();

	if (page_is_new)
		rdb_l0_page_init(page, BufferGetBlockNumber(buffer),
							 BufferGetBlockNumber(buffer));
	/* the new row is not visible to everyone yet (redo clears it too) */
	PageClearAllVisible(page);
	offnum = rdb_l0_put_tuple(rel, buffer, tup);
	MarkBufferDirty(buffer);

	if (RelationNeedsWAL(rel))
	{
		xl_rdb_insert xlrec;
		xl_rdb_tuple_head head;
		XLogRecPtr	recptr;
		ItemId		lp = PageGetItemId(page, offnum);

		xlrec.generation = rdb_l0_page_generation(page,
												 BufferGetBlockNumber(buffer));
		xlrec.offnum = offnum;
		xlrec.flags = xlflags;
		if (speculative)
			xlrec.flags |= RDB_XLF_IS_SPECULATIVE;

		if (!speculative)
			xlrec.flags |= RDB_XLF_COMPACT_TUPLES;

		XLogBeginInsert();
		XLogRegisterData((char *) &xlrec, SizeOfRdbInsert);
		/* as heap: decoding filters and tags each change by its origin */
		XLogSetRecordFlags(XLOG_INCLUDE_ORIGIN);
		/* decoding needs the tuple even when a full-page image is taken */
		XLogRegisterBuffer(0, buffer,
						   REGBUF_STANDARD | (page_is_new ? REGBUF_WILL_INIT : 0) |
						   (xlflags & RDB_XLF_CONTAINS_NEW_TUPLE ? REGBUF_KEEP_DATA : 0));
		if (!speculative)
		{
			HeapTupleHeader htup = (HeapTupleHeader) PageGetItem(page, lp);

			l0_tuple_head(&head, htup);
			XLogRegisterBufData(0, (char *) &head, SizeOfRdbTupleHead);
			XLogRegisterBufData(0, (char *) htup + SizeofHeapTupleHeader,
								ItemIdGetLength(lp) - SizeofHeapTupleHeader);
		}
		else
			XLogRegisterBufData(0, (char *) PageGetItem(page, lp),
								ItemIdGetLength(lp));
		recptr = XLogInsert(RDB_RMGR_ID, XLOG_RDB_INSERT |
							(page_is_new ? XLOG_RDB_INIT_PAGE : 0));
		PageSetLSN(page, recptr);
	}

	END_CRIT_SECTION();

	/* the pages the writer's own flush looks at (writer_flush_rows) */
	if (rdb_table_writer_flush_rows(rel) > 0)
		rdb_flush_writer_note(rel, BufferGetBlockNumber(buffer));
	UnlockReleaseBuffer(buffer);
}

/* insert one tuple built from a slot; shared by plain and speculative */
static void
l0_insert_slot(Relation rel, TupleTableSlot *slot, CommandId cid, int options,
			   BulkInsertState bistate, uint32 specToken)
{
	bool		shouldFree = true;
	HeapTuple	tuple = ExecFetchSlotHeapTuple(slot, true, &shouldFree);
	HeapTuple	heaptup;
	TransactionId xid = GetCurrentTransactionId();

	slot->tts_tableOid = RelationGetRelid(rel);
	tuple->t_tableOid = slot->tts_tableOid;

	heaptup = l0_prepare_insert(rel, tuple, xid, cid, options);
	if (specToken != 0)
		HeapTupleHeaderSetSpeculativeToken(heaptup->t_data, specToken);

	l0_insert_prepared(rel, heaptup, bistate, options, specToken != 0);

	if (heaptup != tuple)
	{
		tuple->t_self = heaptup->t_self;
		heap_freetuple(heaptup);
	}
	ItemPointerCopy(&tuple->t_self, &slot->tts_tid);
	pgstat_count_heap_insert(rel, 1);

	/*
	 * The writer's own flush (writer_flush_rows), between two rows: no
	 * buffer is locked here.  Not in the middle of a speculative insertion,
	 * whose row is not confirmed yet.
	 */
	if (rdb_flush_demand_count(rel, 1) && specToken == 0)
		(void) rdb_flush_writer(rel);

	if (shouldFree)
		pfree(tuple);
}

void
rdb_am_tuple_insert(Relation rel, TupleTableSlot *slot, CommandId cid,
					int options, BulkInsertState bistate)
{
	l0_insert_slot(rel, slot, cid, options, bistate, 0);
}

void
rdb_am_tuple_insert_speculative(Relation rel, TupleTableSlot *slot,
								CommandId cid, int options,
								BulkInsertState bistate, uint32 specToken)
{
	Assert(specToken != 0);
	l0_insert_slot(rel, slot, cid, options, bistate, specToken);
}

/*
 * l0_log_row_change
 *		WAL-log the new header of one tuple whose change logical decoding
 *		must see (delete, speculative confirmation or kill), with the old
 *		row image, if any, that REPLICA IDENTITY asks for.  Caller is in
 *		the critical section that changed it and holds the buffer
 *		exclusively.
 */
static void
l0_log_row_change(Relation rel, Buffer buf, OffsetNumber offnum,
				  TransactionId prune_xid, uint8 kind, uint8 flags,
				  HeapTuple old_image)
{
	Page		page = BufferGetPage(buf);
	xl_rdb_row_change xlrec;
	xl_rdb_old_tuple oldhdr;
	XLogRecPtr	recptr;

	if (!RelationNeedsWAL(rel))
		return;

	xlrec.prune_xid = prune_xid;
	xlrec.kind = kind;
	xlrec.flags = flags;
	rdb_xlog_fill_header(&xlrec.hdr, (HeapTupleHeader)
						 PageGetItem(page, PageGetItemId(page, offnum)),
						 offnum);

	XLogBeginInsert();
	XLogRegisterData((char *) &xlrec, SizeOfRdbRowChange);
	XLogSetRecordFlags(XLOG_INCLUDE_ORIGIN);
	if (old_image != NULL)
		rdb_xlog_register_old_row(old_image, &oldhdr);
	XLogRegisterBuffer(0, buf, REGBUF_STANDARD);
	recptr = XLogInsert(RDB_RMGR_ID, XLOG_RDB_ROW_CHANGE);
	PageSetLSN(page, recptr);
}

/*
 * rdb_am_tuple_complete_speculative
 *		Confirm a speculative insertion (replace the token in t_ctid with
 *		the tuple's own TID), or kill it (xmin := invalid, so that it is dead
 *		to everyone at once, waiters included).
 */
void
rdb_am_tuple_complete_speculative(Relation rel, TupleTableSlot *slot,
								  uint32 specToken, bool succeeded)
{
	ItemPointer tid = &slot->tts_tid;
	Buffer		buffer;
	Page		page;
	ItemId		lp;
	HeapTupleData tp;
	TransactionId prune_xid = InvalidTransactionId;
	uint8		xlflags = rdb_xlog_logical_flags(rel, 0) & RDB_XLF_LOGICAL;

	buffer = rdb_l0_read_tid_buffer(rel, tid, NULL);
	if (!BufferIsValid(buffer))
		elog(ERROR, "speculative tuple (%u,%u) of \"%s\" not found",
			 ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid),
			 RelationGetRelationName(rel));
	LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buffer);
	if (!rdb_l0_tid_on_page(buffer, tid) ||
		!ItemIdIsNormal(lp = PageGetItemId(page, ItemPointerGetOffsetNumber(tid))))
		elog(ERROR, "speculative tuple (%u,%u) of \"%s\" not found",
			 ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid),
			 RelationGetRelationName(rel));

	tp.t_data = (HeapTupleHeader) PageGetItem(page, lp);
	tp.t_len = ItemIdGetLength(lp);
	tp.t_self = *tid;
	tp.t_tableOid = RelationGetRelid(rel);

	if (!HeapTupleHeaderIsSpeculative(tp.t_data))
		elog(ERROR, "tuple (%u,%u) of \"%s\" is not a speculative insertion",
			 ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid),
			 RelationGetRelationName(rel));
	if (!TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tp.t_data)))
		elog(ERROR, "speculative tuple was not inserted by this transaction");

	START_CRIT_SECTION();
	if (!succeeded)
	{
		PageClearAllVisible(page);
		/* dead at once; a prune candidate for everyone past our xmin */
		prune_xid = TransactionIdIsValid(TransactionXmin) ?
			TransactionXmin : ReadNextTransactionId();
		PageSetPrunable(page, prune_xid);
		tp.t_data->t_infomask &= ~(HEAP_XMAX_BITS | HEAP_MOVED);
		tp.t_data->t_infomask2 &= ~HEAP_KEYS_UPDATED;
		HeapTupleHeaderSetXmin(tp.t_data, InvalidTransactionId);
	}
	tp.t_data->t_ctid = tp.t_self;
	MarkBufferDirty(buffer);
	l0_log_row_change(rel, buffer, ItemPointerGetOffsetNumber(tid), prune_xid,
					  succeeded ? RDB_ROW_SPEC_CONFIRM : RDB_ROW_SPEC_KILL,
					  xlflags, NULL);
	END_CRIT_SECTION();

	LockBuffer(buffer, BUFFER_LOCK_UNLOCK);

	if (!succeeded)
	{
		if (HeapTupleHasExternal(&tp))
			heap_toast_delete(rel, &tp, true);
		pgstat_count_heap_delete(rel);
	}
	ReleaseBuffer(buffer);
}

/*
 * rdb_l0_insert_tuples
 *		Place prepared tuples (headers already stamped, TOAST done) on L0
 *		pages: each page takes as many as fit, one WAL record per page.
 *		Sets each tuple's t_self.  Used by COPY batches (fresh: stamped by
 *		this transaction now, so logged without the header redo rebuilds,
 *		RDB_XLF_COMPACT_TUPLES) and by CLUSTER / VACUUM FULL, which carry
 *		over the old tuples' headers (and pass TABLE_INSERT_NO_LOGICAL: a
 *		rewrite changes no row).
 */
void
rdb_l0_insert_tuples(Relation rel, HeapTuple *tuples, int ntuples,
					 BulkInsertState bistate, int options, bool fresh)
{
	Size		saveFreeSpace;
	int			ndone = 0;
	bool		needwal = RelationNeedsWAL(rel);
	bool		writer_flush = rdb_table_writer_flush_rows(rel) > 0;
	char	   *scratch = NULL;
	uint8		xlflags = rdb_xlog_logical_flags(rel, options);

	saveFreeSpace = RelationGetTargetPageFreeSpace(rel, HEAP_DEFAULT_FILLFACTOR);
	if (needwal)
		scratch = palloc(BLCKSZ + MaxHeapTuplesPerPage * (sizeof(OffsetNumber) + sizeof(uint16)));

	while (ndone < ntuples)
	{
		Buffer		buffer;
		Page		page;
		bool		page_is_new;
		int			nthispage;
		char	   *sp = scratch;

		CHECK_FOR_INTERRUPTS();

		buffer = rdb_l0_get_buffer_for_tuple(rel, tuples[ndone]->t_len,
											 InvalidBuffer, bistate,
											 &page_is_new);
		page = BufferGetPage(buffer);

		START_CRIT_SECTION();

		if (page_is_new)
			rdb_l0_page_init(page, BufferGetBlockNumber(buffer),
							 BufferGetBlockNumber(buffer));
		PageClearAllVisible(page);

		/* the first tuple fits: we were given this page for it */
		for (nthispage = 0; ndone + nthispage < ntuples; nthispage++)
		{
			HeapTuple	heaptup = tuples[ndone + nthispage];
			OffsetNumber offnum;

			if (nthispage > 0 &&
				PageGetHeapFreeSpace(page) < MAXALIGN(heaptup->t_len) + saveFreeSpace)
				break;
			offnum = rdb_l0_put_tuple(rel, buffer, heaptup);
			if (needwal)
			{
				ItemId		lp = PageGetItemId(page, offnum);
				HeapTupleHeader htup = (HeapTupleHeader) PageGetItem(page, lp);
				uint16		len = ItemIdGetLength(lp);

				memcpy(sp, &offnum, sizeof(OffsetNumber));
				sp += sizeof(OffsetNumber);
				if (fresh)
				{
					xl_rdb_tuple_head head;
					uint16		loglen = SizeOfRdbTupleHead +
						(len - SizeofHeapTupleHeader);

					l0_tuple_head(&head, htup);
					memcpy(sp, &loglen, sizeof(uint16));
					sp += sizeof(uint16);
					memcpy(sp, &head, SizeOfRdbTupleHead);
					sp += SizeOfRdbTupleHead;
					memcpy(sp, (char *) htup + SizeofHeapTupleHeader,
						   len - SizeofHeapTupleHeader);
					sp += len - SizeofHeapTupleHeader;
				}
				else
				{
					memcpy(sp, &len, sizeof(uint16));
					sp += sizeof(uint16);
					memcpy(sp, htup, len);
					sp += len;
				}
			}
		}
		MarkBufferDirty(buffer);

		if (needwal)
		{
			xl_rdb_multi_insert xlrec;
			XLogRecPtr	recptr;

			xlrec.generation = rdb_l0_page_generation(page,
												 BufferGetBlockNumber(buffer));
			xlrec.ntuples = nthispage;
			xlrec.flags = xlflags;
			if (ndone + nthispage == ntuples)
				xlrec.flags |= RDB_XLF_LAST_IN_MULTI;
			if (fresh)
				xlrec.flags |= RDB_XLF_COMPACT_TUPLES;

			XLogBeginInsert();
			XLogRegisterData((char *) &xlrec, SizeOfRdbMultiInsert);
			XLogSetRecordFlags(XLOG_INCLUDE_ORIGIN);
			XLogRegisterBuffer(0, buffer,
							   REGBUF_STANDARD | (page_is_new ? REGBUF_WILL_INIT : 0) |
							   (xlflags & RDB_XLF_CONTAINS_NEW_TUPLE ? REGBUF_KEEP_DATA : 0));
			XLogRegisterBufData(0, scratch, sp - scratch);
			recptr = XLogInsert(RDB_RMGR_ID, XLOG_RDB_MULTI_INSERT |
								(page_is_new ? XLOG_RDB_INIT_PAGE : 0));
			PageSetLSN(page, recptr);
		}

		END_CRIT_SECTION();

		if (writer_flush)
			rdb_flush_writer_note(rel, BufferGetBlockNumber(buffer));
		UnlockReleaseBuffer(buffer);
		ndone += nthispage;
	}

	if (scratch)
		pfree(scratch);
}

/*
 * rdb_am_multi_insert
 *		Insert a batch of rows (COPY batches).
 */
void
rdb_am_multi_insert(Relation rel, TupleTableSlot **slots, int nslots,
					CommandId cid, int options, BulkInsertState bistate)
{
	TransactionId xid = GetCurrentTransactionId();
	HeapTuple  *heaptuples;
	int			i;

	heaptuples = palloc(nslots * sizeof(HeapTuple));
	for (i = 0; i < nslots; i++)
	{
		HeapTuple	tuple = ExecFetchSlotHeapTuple(slots[i], true, NULL);

		slots[i]->tts_tableOid = RelationGetRelid(rel);
		tuple->t_tableOid = slots[i]->tts_tableOid;
		heaptuples[i] = l0_prepare_insert(rel, tuple, xid, cid, options);
	}

	/* the whole batch is one insertion as far as SSI is concerned */
	CheckForSerializableConflictIn(rel, NULL, InvalidBlockNumber);

	rdb_l0_insert_tuples(rel, heaptuples, nslots, bistate, options, true);

	/* hand the TIDs back (toasted copies die with the batch's context) */
	for (i = 0; i < nslots; i++)
		slots[i]->tts_tid = heaptuples[i]->t_self;
	pgstat_count_heap_insert(rel, nslots);
	rdb_emit_batch_inserted(rel, nslots);
	pfree(heaptuples);
	/* the writer's own flush (writer_flush_rows), between two batches */
	if (rdb_flush_demand_count(rel, nslots))
		(void) rdb_flush_writer(rel);
}

/* ------------------------------------------------------------------------
 * Delete and update
 * ------------------------------------------------------------------------
 */

/* do the key columns (those FKs can reference) keep their values? */
static bool
l0_keys_intact(Relation rel, HeapTuple oldtup, HeapTuple newtup)
{
	Bitmapset  *key_attrs = RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_KEY);
	TupleDesc	tupdesc = RelationGetDescr(rel);
	int			attidx = -1;
	bool		intact = true;

	while ((attidx = bms_next_member(key_attrs, attidx)) >= 0)
	{
		AttrNumber	attnum = attidx + FirstLowInvalidHeapAttributeNumber;
		Datum		v1,
					v2;
		bool		isnull1,
					isnull2;
		Form_pg_attribute att;

		if (attnum <= 0)
		{
			/* system columns never change under UPDATE, but for safety */
			if (attnum != 0)
				continue;
			intact = false;
			break;
		}
		v1 = heap_getattr(oldtup, attnum, tupdesc, &isnull1);
		v2 = heap_getattr(newtup, attnum, tupdesc, &isnull2);
		if (isnull1 != isnull2)
		{
			intact = false;
			break;
		}
		if (isnull1)
			continue;
		att = TupleDescAttr(tupdesc, attnum - 1);
		if (!datumIsEqual(v1, v2, att->attbyval, att->attlen))
		{
			intact = false;
			break;
		}
	}
	bms_free(key_attrs);
	return intact;
}

typedef enum L0WaitResult
{
	L0_WAIT_RECHECK,			/* tuple changed while we waited: start over */
	L0_WAIT_DONE				/* *result holds the outcome */
} L0WaitResult;

/*
 * The tuple is being modified (TM_BeingModified) by someone else: queue on
 * the tuple lock, wait for the conflicting lockers/updater, and decide.
 * Called with the buffer exclusively locked; returns with it locked.
 */
static L0WaitResult
l0_wait_for_modifiers(Relation rel, Buffer buffer, HeapTuple tup,
					  LockTupleMode lockmode, MultiXactStatus mxstatus,
					  bool key_intact, XLTW_Oper oper, bool *have_tuple_lock,
					  bool *checked_lockers, bool *locker_remains,
					  TM_Result *result)
{
	TransactionId xwait = HeapTupleHeaderGetRawXmax(tup->t_data);
	uint16		infomask = tup->t_data->t_infomask;
	bool		can_continue = false;

	if (infomask & HEAP_XMAX_IS_MULTI)
	{
		bool		current_is_member = false;
		TransactionId update_xact;

		if (rdb_does_multixact_conflict(xwait, infomask, lockmode,
										&current_is_member))
		{
			int			remain;

			LockBuffer(buffer, BUFFER_LOCK_UNLOCK);
			/* don't queue if we already hold a lock: that could deadlock */
			if (!current_is_member)
				rdb_acquire_tuplock(rel, &tup->t_self, lockmode, LockWaitBlock,
									have_tuple_lock);
			rdb_multixact_wait(xwait, mxstatus, infomask, false, rel,
							   &tup->t_self, oper, &remain);
			*checked_lockers = true;
			*locker_remains = remain != 0;
			LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);

			if (rdb_xmax_infomask_changed(tup->t_data->t_infomask, infomask) ||
				!TransactionIdEquals(HeapTupleHeaderGetRawXmax(tup->t_data), xwait))
				return L0_WAIT_RECHECK;
		}

		/*
		 * Surviving members (ours, or KEY SHARE lockers when we don't touch
		 * the key) stay; a committed update among them is a conflict.
		 */
		if (!HEAP_XMAX_IS_LOCKED_ONLY(tup->t_data->t_infomask))
			update_xact = HeapTupleGetUpdateXid(tup->t_data);
		else
			update_xact = InvalidTransactionId;
		if (!TransactionIdIsValid(update_xact) ||
			TransactionIdDidAbort(update_xact))
			can_continue = true;
	}
	else if (TransactionIdIsCurrentTransactionId(xwait))
	{
		/* we are the only locker: keep our lock in the new xmax */
		*checked_lockers = true;
		*locker_remains = true;
		can_continue = true;
	}
	else if (HEAP_XMAX_IS_KEYSHR_LOCKED(infomask) && key_intact)
	{
		/* a KEY SHARE locker does not block a non-key update */
		*checked_lockers = true;
		*locker_remains = true;
		can_continue = true;
	}
	else
	{
		LockBuffer(buffer, BUFFER_LOCK_UNLOCK);
		rdb_acquire_tuplock(rel, &tup->t_self, lockmode, LockWaitBlock,
							have_tuple_lock);
		XactLockTableWait(xwait, rel, &tup->t_self, oper);
		*checked_lockers = true;
		LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);

		if (rdb_xmax_infomask_changed(tup->t_data->t_infomask, infomask) ||
			!TransactionIdEquals(xwait, HeapTupleHeaderGetRawXmax(tup->t_data)))
			return L0_WAIT_RECHECK;

		rdb_update_xmax_hint_bits(tup->t_data, buffer, xwait);
		if (tup->t_data->t_infomask & HEAP_XMAX_INVALID)
			can_continue = true;
		else if (HEAP_XMAX_IS_LOCKED_ONLY(tup->t_data->t_infomask))
			can_continue = true;
	}

	if (can_continue)
		*result = TM_Ok;
	else if (!ItemPointerEquals(&tup->t_self, &tup->t_data->t_ctid))
		*result = TM_Updated;
	else
		*result = TM_Deleted;
	return L0_WAIT_DONE;
}

/* fill tmfd for a failed delete/update/lock */
static void
l0_fill_tmfd(TM_FailureData *tmfd, HeapTuple tup, TM_Result result)
{
	tmfd->ctid = tup->t_data->t_ctid;
	tmfd->xmax = HeapTupleHeaderGetUpdateXid(tup->t_data);
	if (result == TM_SelfModified)
		tmfd->cmax = HeapTupleHeaderGetCmax(tup->t_data);
	else
		tmfd->cmax = InvalidCommandId;
}

/*
 * Pin and exclusively lock the page of *tid and point tup at the row.
 * Returns false (buffer released) when the TID names no row any more.
 */
static bool
l0_lock_row_page(Relation rel, ItemPointer tid, HeapTuple tup, Buffer *buffer)
{
	Page		page;
	ItemId		lp;

	*buffer = rdb_l0_read_tid_buffer(rel, tid, NULL);
	if (!BufferIsValid(*buffer))
		return false;
	LockBuffer(*buffer, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(*buffer);
	if (!rdb_l0_tid_on_page(*buffer, tid) ||
		!ItemIdIsNormal(lp = PageGetItemId(page, ItemPointerGetOffsetNumber(tid))))
	{
		UnlockReleaseBuffer(*buffer);
		*buffer = InvalidBuffer;
		return false;
	}
	tup->t_data = (HeapTupleHeader) PageGetItem(page, lp);
	tup->t_len = ItemIdGetLength(lp);
	tup->t_self = *tid;
	tup->t_tableOid = RelationGetRelid(rel);
	return true;
}

TM_Result
rdb_am_tuple_delete(Relation rel, ItemPointer tid, CommandId cid,
					Snapshot snapshot, Snapshot crosscheck, bool wait,
					TM_FailureData *tmfd, bool changingPart)
{
	TransactionId xid = GetCurrentTransactionId();
	HeapTupleData tp;
	Buffer		buffer;
	Page		page;
	TM_Result	result;
	bool		have_tuple_lock = false;
	bool		iscombo;
	TransactionId new_xmax;
	uint16		new_infomask;
	uint16		new_infomask2;
	HeapTuple	old_image;
	HeapTuple	oldfull;
	uint8		xlflags;

	if (IsInParallelMode())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
				 errmsg("cannot delete tuples during a parallel operation")));

	if (!l0_lock_row_page(rel, tid, &tp, &buffer))
	{
		/* pruned away: it was deleted by a transaction everybody sees */
		tmfd->ctid = *tid;
		tmfd->xmax = InvalidTransactionId;
		tmfd->cmax = InvalidCommandId;
		return TM_Deleted;
	}
	page = BufferGetPage(buffer);

recheck:
	result = HeapTupleSatisfiesUpdate(&tp, cid, buffer);

	if (result == TM_Invisible)
	{
		UnlockReleaseBuffer(buffer);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("attempted to delete invisible tuple")));
	}
	else if (result == TM_BeingModified && wait)
	{
		bool		checked_lockers = false;
		bool		locker_remains = false;

		if (l0_wait_for_modifiers(rel, buffer, &tp, LockTupleExclusive,
								  MultiXactStatusUpdate, false, XLTW_Delete,
								  &have_tuple_lock, &checked_lockers,
								  &locker_remains, &result) == L0_WAIT_RECHECK)
			goto recheck;
	}

	/* RI checks in transaction-snapshot mode see through a crosscheck */
	if (crosscheck != InvalidSnapshot && result == TM_Ok &&
		!HeapTupleSatisfiesVisibility(&tp, crosscheck, buffer))
		result = TM_Updated;

	if (result != TM_Ok)
	{
		l0_fill_tmfd(tmfd, &tp, result);
		UnlockReleaseBuffer(buffer);
		if (have_tuple_lock)
			rdb_release_tuplock(rel, &tp.t_self, LockTupleExclusive);
		return result;
	}

	CheckForSerializableConflictIn(rel, tid, BufferGetBlockNumber(buffer));

	HeapTupleHeaderAdjustCmax(tp.t_data, &cid, &iscombo);

	MultiXactIdSetOldestMember();
	rdb_compute_new_xmax_infomask(HeapTupleHeaderGetRawXmax(tp.t_data),
								  tp.t_data->t_infomask, tp.t_data->t_infomask2,
								  xid, LockTupleExclusive, true,
								  &new_xmax, &new_infomask, &new_infomask2);

	/*
	 * The row's values, where logical decoding or TOAST needs them: a
	 * flushed row's come from its stripe (read while we hold the page).
	 */
	if (rdb_tuple_is_stub(tp.t_data) &&
		(RelationIsLogicallyLogged(rel) || HeapTupleHasExternal(&tp)))
		oldfull = rdb_l0_materialize(rel, &tp);
	else
		oldfull = &tp;

	/* what logical decoding needs of the old row (nothing below logical) */
	old_image = rdb_xlog_old_row_image(rel, oldfull, NULL, &xlflags);

	START_CRIT_SECTION();
	PageSetPrunable(page, xid);
	PageClearAllVisible(page);
	tp.t_data->t_infomask &= ~(HEAP_XMAX_BITS | HEAP_MOVED);
	tp.t_data->t_infomask2 &= ~HEAP_KEYS_UPDATED;
	tp.t_data->t_infomask |= new_infomask;
	tp.t_data->t_infomask2 |= new_infomask2;
	HeapTupleHeaderClearHotUpdated(tp.t_data);
	HeapTupleHeaderSetXmax(tp.t_data, new_xmax);
	HeapTupleHeaderSetCmax(tp.t_data, cid, iscombo);
	tp.t_data->t_ctid = tp.t_self;
	if (changingPart)
		HeapTupleHeaderSetMovedPartitions(tp.t_data);
	MarkBufferDirty(buffer);
	l0_log_row_change(rel, buffer, ItemPointerGetOffsetNumber(tid), xid,
					  RDB_ROW_DELETE, xlflags, old_image);
	END_CRIT_SECTION();

	LockBuffer(buffer, BUFFER_LOCK_UNLOCK);
	if (old_image != NULL)
		heap_freetuple(old_image);

	/* the row's out-of-line values go with it */
	if (HeapTupleHasExternal(&tp))
		heap_toast_delete(rel, oldfull, false);

	ReleaseBuffer(buffer);
	if (have_tuple_lock)
		rdb_release_tuplock(rel, &tp.t_self, LockTupleExclusive);

	pgstat_count_heap_delete(rel);
	return TM_Ok;
}

/*
 * The UPDATE proper: the old version is locked and known updatable.
 * Returns the new version's TID in newtup->t_self.
 */
static TM_Result
l0_update(Relation rel, ItemPointer otid, HeapTuple newtup, CommandId cid,
		  Snapshot crosscheck, bool wait, TM_FailureData *tmfd,
		  LockTupleMode *lockmode)
{
	TransactionId xid = GetCurrentTransactionId();
	HeapTupleData oldtup;
	HeapTuple	heaptup;
	Buffer		buffer;
	Buffer		newbuf;
	Page		page;
	Page		newpage;
	TM_Result	result;
	bool		have_tuple_lock = false;
	bool		checked_lockers;
	bool		locker_remains;
	bool		key_intact;
	bool		iscombo;
	bool		page_is_new = false;
	MultiXactStatus mxact_status;
	TransactionId xmax_old_tuple,
				xmax_new_tuple;
	uint16		infomask_old_tuple,
				infomask2_old_tuple,
				infomask_new_tuple,
				infomask2_new_tuple;
	OffsetNumber new_offnum;
	CommandId	cmax = cid;
	bool		need_toast;
	Size		newtupsize;
	HeapTuple	old_image;
	HeapTuple	oldfull;
	uint8		xlflags;
	xl_rdb_old_tuple oldhdr;

	if (IsInParallelMode())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
				 errmsg("cannot update tuples during a parallel operation")));

	if (!l0_lock_row_page(rel, otid, &oldtup, &buffer))
	{
		tmfd->ctid = *otid;
		tmfd->xmax = InvalidTransactionId;
		tmfd->cmax = InvalidCommandId;
		*lockmode = LockTupleExclusive;
		return TM_Deleted;
	}
	page = BufferGetPage(buffer);
	newtup->t_tableOid = RelationGetRelid(rel);

	/*
	 * The old row's values (key columns, TOAST pointers, logical decoding's
	 * old image): a flushed row's come from its stripe.  They never change
	 * while we hold the row, only its header does.
	 */
	oldfull = rdb_l0_materialize(rel, &oldtup);

	/* an update that keeps the key only takes a NO KEY lock (FKs proceed) */
	key_intact = l0_keys_intact(rel, oldfull, newtup);
	*lockmode = key_intact ? LockTupleNoKeyExclusive : LockTupleExclusive;
	mxact_status = key_intact ? MultiXactStatusNoKeyUpdate : MultiXactStatusUpdate;

recheck:
	checked_lockers = false;
	locker_remains = false;
	result = HeapTupleSatisfiesUpdate(&oldtup, cid, buffer);

	if (result == TM_Invisible)
	{
		UnlockReleaseBuffer(buffer);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("attempted to update invisible tuple")));
	}
	else if (result == TM_BeingModified && wait)
	{
		if (l0_wait_for_modifiers(rel, buffer, &oldtup, *lockmode, mxact_status,
								  key_intact, XLTW_Update, &have_tuple_lock,
								  &checked_lockers, &locker_remains,
								  &result) == L0_WAIT_RECHECK)
			goto recheck;
	}

	if (crosscheck != InvalidSnapshot && result == TM_Ok &&
		!HeapTupleSatisfiesVisibility(&oldtup, crosscheck, buffer))
		result = TM_Updated;

	if (result != TM_Ok)
	{
		l0_fill_tmfd(tmfd, &oldtup, result);
		UnlockReleaseBuffer(buffer);
		if (have_tuple_lock)
			rdb_release_tuplock(rel, &oldtup.t_self, *lockmode);
		return result;
	}

	CheckForSerializableConflictIn(rel, otid, BufferGetBlockNumber(buffer));

	MultiXactIdSetOldestMember();

	/* the old version's xmax: us as updater, plus surviving lockers */
	rdb_compute_new_xmax_infomask(HeapTupleHeaderGetRawXmax(oldtup.t_data),
								  oldtup.t_data->t_infomask,
								  oldtup.t_data->t_infomask2,
								  xid, *lockmode, true,
								  &xmax_old_tuple, &infomask_old_tuple,
								  &infomask2_old_tuple);

	/*
	 * The new version inherits KEY SHARE lockers that are still running, so
	 * a foreign key check that locked the old version protects the new one.
	 */
	if ((oldtup.t_data->t_infomask & HEAP_XMAX_INVALID) ||
		HEAP_LOCKED_UPGRADED(oldtup.t_data->t_infomask) ||
		(checked_lockers && !locker_remains))
		xmax_new_tuple = InvalidTransactionId;
	else
		xmax_new_tuple = HeapTupleHeaderGetRawXmax(oldtup.t_data);

	if (!TransactionIdIsValid(xmax_new_tuple))
	{
		infomask_new_tuple = HEAP_XMAX_INVALID;
		infomask2_new_tuple = 0;
	}
	else if (oldtup.t_data->t_infomask & HEAP_XMAX_IS_MULTI)
		rdb_multixact_hint_bits(xmax_new_tuple, &infomask_new_tuple,
								&infomask2_new_tuple);
	else
	{
		infomask_new_tuple = HEAP_XMAX_KEYSHR_LOCK | HEAP_XMAX_LOCK_ONLY;
		infomask2_new_tuple = 0;
	}

	newtup->t_data->t_infomask &= ~(HEAP_XACT_MASK);
	newtup->t_data->t_infomask2 &= ~(HEAP2_XACT_MASK);
	HeapTupleHeaderSetXmin(newtup->t_data, xid);
	HeapTupleHeaderSetCmin(newtup->t_data, cid);
	newtup->t_data->t_infomask |= HEAP_UPDATED | infomask_new_tuple;
	newtup->t_data->t_infomask2 |= infomask2_new_tuple;
	HeapTupleHeaderSetXmax(newtup->t_data, xmax_new_tuple);

	HeapTupleHeaderAdjustCmax(oldtup.t_data, &cmax, &iscombo);

	/*
	 * What logical decoding needs of the old row, taken while its page is
	 * still locked (as heap_update does); nothing below wal_level logical.
	 */
	old_image = rdb_xlog_old_row_image(rel, oldfull, newtup, &xlflags);
	if (xlflags & RDB_XLF_LOGICAL)
		xlflags |= RDB_XLF_CONTAINS_NEW_TUPLE;

	need_toast = HeapTupleHasExternal(&oldtup) ||
		HeapTupleHasExternal(newtup) ||
		newtup->t_len > TOAST_TUPLE_THRESHOLD;
	newtupsize = MAXALIGN(newtup->t_len);

	if (need_toast || newtupsize > PageGetHeapFreeSpace(page))
	{
		TransactionId xmax_lock_old_tuple;
		uint16		infomask_lock_old_tuple,
					infomask2_lock_old_tuple;

		/*
		 * We must drop the old page's lock to TOAST or to find another page.
		 * Mark the old version locked by us first, so that nobody else can
		 * update or delete it meanwhile; waiters will queue behind us.
		 */
		rdb_compute_new_xmax_infomask(HeapTupleHeaderGetRawXmax(oldtup.t_data),
									  oldtup.t_data->t_infomask,
									  oldtup.t_data->t_infomask2,
									  xid, *lockmode, false,
									  &xmax_lock_old_tuple,
									  &infomask_lock_old_tuple,
									  &infomask2_lock_old_tuple);

		START_CRIT_SECTION();
		oldtup.t_data->t_infomask &= ~(HEAP_XMAX_BITS | HEAP_MOVED);
		oldtup.t_data->t_infomask2 &= ~HEAP_KEYS_UPDATED;
		HeapTupleClearHotUpdated(&oldtup);
		oldtup.t_data->t_infomask |= infomask_lock_old_tuple;
		oldtup.t_data->t_infomask2 |= infomask2_lock_old_tuple;
		HeapTupleHeaderSetXmax(oldtup.t_data, xmax_lock_old_tuple);
		HeapTupleHeaderSetCmax(oldtup.t_data, cmax, iscombo);
		oldtup.t_data->t_ctid = oldtup.t_self;
		MarkBufferDirty(buffer);
		rdb_log_header_change(rel, buffer, ItemPointerGetOffsetNumber(otid),
							  InvalidTransactionId);
		END_CRIT_SECTION();

		LockBuffer(buffer, BUFFER_LOCK_UNLOCK);

		if (need_toast)
			heaptup = heap_toast_insert_or_update(rel, newtup, oldfull, 0);
		else
			heaptup = newtup;

		/* locks both pages (in block order), or the old page alone */
		newbuf = rdb_l0_get_buffer_for_tuple(rel, heaptup->t_len, buffer,
											 NULL, &page_is_new);
	}
	else
	{
		newbuf = buffer;
		heaptup = newtup;
	}
	newpage = BufferGetPage(newbuf);

	START_CRIT_SECTION();

	if (page_is_new)
		rdb_l0_page_init(newpage, BufferGetBlockNumber(newbuf),
						 BufferGetBlockNumber(newbuf));
	new_offnum = rdb_l0_put_tuple(rel, newbuf, heaptup);

	PageSetPrunable(page, xid);
	PageClearAllVisible(page);
	PageClearAllVisible(newpage);
	oldtup.t_data->t_infomask &= ~(HEAP_XMAX_BITS | HEAP_MOVED);
	oldtup.t_data->t_infomask2 &= ~HEAP_KEYS_UPDATED;
	HeapTupleClearHotUpdated(&oldtup);
	oldtup.t_data->t_infomask |= infomask_old_tuple;
	oldtup.t_data->t_infomask2 |= infomask2_old_tuple;
	HeapTupleHeaderSetXmax(oldtup.t_data, xmax_old_tuple);
	HeapTupleHeaderSetCmax(oldtup.t_data, cmax, iscombo);
	oldtup.t_data->t_ctid = heaptup->t_self;

	if (newbuf != buffer)
		MarkBufferDirty(newbuf);
	MarkBufferDirty(buffer);

	if (RelationNeedsWAL(rel))
	{
		xl_rdb_update xlrec;
		XLogRecPtr	recptr;
		ItemId		lp = PageGetItemId(newpage, new_offnum);

		xlrec.generation = rdb_l0_page_generation(newpage,
												 BufferGetBlockNumber(newbuf));
		xlrec.new_offnum = new_offnum;
		xlrec.prune_xid = xid;
		rdb_xlog_fill_header(&xlrec.old, oldtup.t_data,
							 ItemPointerGetOffsetNumber(otid));
		xlrec.flags = xlflags;

		XLogBeginInsert();
		XLogRegisterData((char *) &xlrec, SizeOfRdbUpdate);
		XLogSetRecordFlags(XLOG_INCLUDE_ORIGIN);
		if (old_image != NULL)
			rdb_xlog_register_old_row(old_image, &oldhdr);
		XLogRegisterBuffer(0, newbuf,
						   REGBUF_STANDARD | (page_is_new ? REGBUF_WILL_INIT : 0) |
						   (xlflags & RDB_XLF_CONTAINS_NEW_TUPLE ? REGBUF_KEEP_DATA : 0));
		XLogRegisterBufData(0, (char *) PageGetItem(newpage, lp),
							ItemIdGetLength(lp));
		if (newbuf != buffer)
			XLogRegisterBuffer(1, buffer, REGBUF_STANDARD);
		recptr = XLogInsert(RDB_RMGR_ID, XLOG_RDB_UPDATE |
							(page_is_new ? XLOG_RDB_INIT_PAGE : 0));
		if (newbuf != buffer)
			PageSetLSN(newpage, recptr);
		PageSetLSN(page, recptr);
	}

	END_CRIT_SECTION();

	/* the new version is this transaction's row too (writer_flush_rows) */
	if (rdb_table_writer_flush_rows(rel) > 0)
		rdb_flush_writer_note(rel, BufferGetBlockNumber(newbuf));
	if (newbuf != buffer)
		UnlockReleaseBuffer(newbuf);
	UnlockReleaseBuffer(buffer);

	if (have_tuple_lock)
		rdb_release_tuplock(rel, &oldtup.t_self, *lockmode);
	if (old_image != NULL)
		heap_freetuple(old_image);

	pgstat_count_heap_update(rel, false);
	(void) rdb_flush_demand_count(rel, 1);

	if (heaptup != newtup)
	{
		newtup->t_self = heaptup->t_self;
		heap_freetuple(heaptup);
	}
	return TM_Ok;
}

TM_Result
rdb_am_tuple_update(Relation rel, ItemPointer otid, TupleTableSlot *slot,
					CommandId cid, Snapshot snapshot, Snapshot crosscheck,
					bool wait, TM_FailureData *tmfd, LockTupleMode *lockmode,
					bool *update_indexes)
{
	bool		shouldFree = true;
	HeapTuple	tuple = ExecFetchSlotHeapTuple(slot, true, &shouldFree);
	TM_Result	result;

	slot->tts_tableOid = RelationGetRelid(rel);
	tuple->t_tableOid = slot->tts_tableOid;

	result = l0_update(rel, otid, tuple, cid, crosscheck, wait, tmfd, lockmode);
	ItemPointerCopy(&tuple->t_self, &slot->tts_tid);

	/* no HOT: a new version always needs index entries */
	*update_indexes = (result == TM_Ok);

	if (shouldFree)
		pfree(tuple);
	return result;
}

/* ------------------------------------------------------------------------
 * tuple_lock: lock a row, optionally chasing it to its latest version
 * ------------------------------------------------------------------------
 */

static void
l0_lock_wait_failed(Relation rel)
{
	ereport(ERROR,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 errmsg("could not obtain lock on row in relation \"%s\"",
					RelationGetRelationName(rel))));
}

TM_Result
rdb_am_tuple_lock(Relation rel, ItemPointer tid, Snapshot snapshot,
				  TupleTableSlot *slot, CommandId cid, LockTupleMode mode,
				  LockWaitPolicy wait_policy, uint8 flags,
				  TM_FailureData *tmfd)
{
	BufferHeapTupleTableSlot *bslot = (BufferHeapTupleTableSlot *) slot;
	HeapTuple	tuple = &bslot->base.tupdata;
	bool		follow_updates = (flags & TUPLE_LOCK_FLAG_LOCK_UPDATE_IN_PROGRESS) != 0;
	Buffer		buffer;
	TM_Result	result;

	tmfd->traversed = false;

	/*
	 * A flushed row sits in its slot as an owned copy (rdb_l0_store_tuple),
	 * and ExecCopySlot copies such a tuple without the slot's tts_tid.  The
	 * executor's sequential lookup of logical replication's apply
	 * (RelationFindReplTupleSeq: REPLICA IDENTITY FULL, no usable index)
	 * copies the row it found into another slot and locks it by that
	 * slot's tts_tid.  The copied tuple's t_self still names the row.
	 */
	if (!ItemPointerIsValid(tid) && tid == &slot->tts_tid &&
		!TTS_EMPTY(slot) && bslot->base.tuple != NULL &&
		ItemPointerIsValid(&bslot->base.tuple->t_self))
		*tid = bslot->base.tuple->t_self;

retry:
	tuple->t_self = *tid;
	result = rdb_l0_lock_tuple(rel, tuple, cid, mode, wait_policy,
							   follow_updates, &buffer, tmfd);

	if (result == TM_Updated && (flags & TUPLE_LOCK_FLAG_FIND_LAST_VERSION))
	{
		SnapshotData SnapshotDirty;
		TransactionId priorXmax;

		ReleaseBuffer(buffer);

		if (ItemPointerEquals(&tmfd->ctid, &tuple->t_self))
			return TM_Deleted;

		/* chase the update chain to the version we should lock instead */
		*tid = tmfd->ctid;
		priorXmax = tmfd->xmax;
		tmfd->traversed = true;
		InitDirtySnapshot(SnapshotDirty);

		for (;;)
		{
			if (ItemPointerIndicatesMovedPartitions(tid))
				ereport(ERROR,
						(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
						 errmsg("tuple to be locked was already moved to another partition due to concurrent update")));

			tuple->t_self = *tid;
			if (rdb_l0_fetch(rel, &SnapshotDirty, tuple, &buffer, true))
			{
				/* a reused slot: the row we chased was deleted */
				if (!TransactionIdEquals(HeapTupleHeaderGetXmin(tuple->t_data),
										 priorXmax))
				{
					ReleaseBuffer(buffer);
					return TM_Deleted;
				}
				if (TransactionIdIsValid(SnapshotDirty.xmin))
					ereport(ERROR,
							(errcode(ERRCODE_DATA_CORRUPTED),
							 errmsg_internal("t_xmin %u is uncommitted in tuple (%u,%u) to be updated in table \"%s\"",
											 SnapshotDirty.xmin,
											 ItemPointerGetBlockNumber(&tuple->t_self),
											 ItemPointerGetOffsetNumber(&tuple->t_self),
											 RelationGetRelationName(rel))));

				/* being changed right now: wait, then look again */
				if (TransactionIdIsValid(SnapshotDirty.xmax))
				{
					ReleaseBuffer(buffer);
					switch (wait_policy)
					{
						case LockWaitBlock:
							XactLockTableWait(SnapshotDirty.xmax, rel,
											  &tuple->t_self, XLTW_FetchUpdated);
							break;
						case LockWaitSkip:
							if (!ConditionalXactLockTableWait(SnapshotDirty.xmax))
								return TM_WouldBlock;
							break;
						case LockWaitError:
							if (!ConditionalXactLockTableWait(SnapshotDirty.xmax))
								l0_lock_wait_failed(rel);
							break;
					}
					continue;
				}

				/* inserted by a later command of ours: invisible to us */
				if (TransactionIdIsCurrentTransactionId(priorXmax) &&
					HeapTupleHeaderGetCmin(tuple->t_data) >= cid)
				{
					tmfd->xmax = priorXmax;
					tmfd->cmax = HeapTupleHeaderGetCmin(tuple->t_data);
					ReleaseBuffer(buffer);
					return TM_SelfModified;
				}

				ReleaseBuffer(buffer);
				goto retry;
			}

			if (tuple->t_data == NULL)
				return TM_Deleted;

			if (!TransactionIdEquals(HeapTupleHeaderGetXmin(tuple->t_data),
									 priorXmax))
			{
				ReleaseBuffer(buffer);
				return TM_Deleted;
			}

			/* updated or deleted by a committed transaction (or by us) */
			if (ItemPointerEquals(&tuple->t_self, &tuple->t_data->t_ctid))
			{
				ReleaseBuffer(buffer);
				return TM_Deleted;
			}
			*tid = tuple->t_data->t_ctid;
			priorXmax = HeapTupleHeaderGetUpdateXid(tuple->t_data);
			ReleaseBuffer(buffer);
		}
	}

	if (tuple->t_data == NULL)
		return result;

	slot->tts_tableOid = RelationGetRelid(rel);
	tuple->t_tableOid = slot->tts_tableOid;
	rdb_l0_store_tuple(rel, tuple, slot, buffer, true);
	return result;
}
