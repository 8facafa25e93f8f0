/*-------------------------------------------------------------------------
 *
 * stub.c
 *	  Stubs of flushed rows: build them, and materialise them wherever a
 *	  row's values leave the access method.
 *
 * A stub (l0.h) is an L0 tuple that kept its heap header but whose values
 * live in a columnar stripe.  Visibility, locking, update chains and VACUUM
 * only ever look at the header, so they need nothing from here.  Everything
 * that hands values out (scans, fetches, tuple_lock, UPDATE's key and TOAST
 * handling, logical decoding's old row image, CLUSTER) calls
 * rdb_l0_materialize or rdb_l0_store_tuple, which read the row from its
 * stripe (stripe_read.c) and give it the stub's header.
 *
 * A slot holding a materialised row owns a copy and no buffer (as a virtual
 * row would); rdb_l0_slot_satisfies answers visibility questions for such
 * a slot from the stub on its page.
 *
 * Locking: the caller holds at least a pin on the stub's page; a stub's
 * locator never changes while the page is pinned (moving tuples needs a
 * cleanup lock).  Stripe pages are read under their own share locks.
 * Memory: materialised tuples are palloc'd in the caller's context.
 *
 * IDENTIFICATION
 *	  src/rowstore/stub.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/tuptable.h"
#include "storage/bufmgr.h"

#include "rustydb/gendir.h"
#include "rustydb/l0.h"
#include "rustydb/stripe.h"

/*
 * rdb_l0_make_stub
 *		Write into stub (RDB_STUB_LEN bytes) the stub that replaces tuple:
 *		its header with no attributes, plus the stripe locator.  Pure: used
 *		by flush and by its redo, which must produce identical bytes.
 */
void
rdb_l0_make_stub(HeapTupleHeader tuple, uint32 stripe, uint32 row, char *stub)
{
	HeapTupleHeader h = (HeapTupleHeader) stub;
	RdbStubData sd;

	memset(stub, 0, RDB_STUB_LEN);
	memcpy(h, tuple, offsetof(HeapTupleHeaderData, t_bits));
	/* no attributes; the values' flags describe nothing any more... */
	h->t_infomask &= ~(HEAP_HASNULL | HEAP_HASVARWIDTH | HEAP_HASOID_OLD);
	/* ...but HEAP_HASEXTERNAL stays: the stripe holds TOAST pointers */
	HeapTupleHeaderSetNatts(h, 0);
	h->t_infomask2 |= RDB_HEAP2_IN_STRIPE;
	h->t_hoff = RDB_STUB_HOFF;
	sd.stripe = stripe;
	sd.row = row;
	memcpy(stub + RDB_STUB_HOFF, &sd, sizeof(RdbStubData));
}

/*
 * rdb_l0_materialize
 *		The complete row for tuple: tuple itself unless it is a stub, else a
 *		palloc'd tuple of the stripe's values with the stub's header, t_self
 *		and t_tableOid.
 */
HeapTuple
rdb_l0_materialize(Relation rel, HeapTuple tuple)
{
	RdbStubData sd;
	HeapTuple	full;

	if (tuple->t_data == NULL || !rdb_tuple_is_stub(tuple->t_data))
		return tuple;
	sd = rdb_stub_data(tuple->t_data);
	full = rdb_stripe_form_tuple(rel, sd.stripe, sd.row, tuple->t_data,
								 tuple->t_len);
	full->t_self = tuple->t_self;
	full->t_tableOid = tuple->t_tableOid;
	return full;
}

/*
 * rdb_l0_store_tuple
 *		Store an L0 row into a slot: a real tuple as a buffer tuple (pinned:
 *		the slot takes over the caller's pin), a stub as its materialised
 *		copy, owned by the slot (the caller's pin, if pinned, is released).
 */
void
rdb_l0_store_tuple(Relation rel, HeapTuple tuple, TupleTableSlot *slot,
				   Buffer buffer, bool pinned)
{
	HeapTuple	full;
	ItemPointerData tid = tuple->t_self;

	if (!rdb_tuple_is_stub(tuple->t_data))
	{
		if (pinned)
			ExecStorePinnedBufferHeapTuple(tuple, slot, buffer);
		else
			ExecStoreBufferHeapTuple(tuple, slot, buffer);
		return;
	}
	/* before the slot lets go of whatever it held (tuple may be its own) */
	full = rdb_l0_materialize(rel, tuple);
	ExecForceStoreHeapTuple(full, slot, true);
	slot->tts_tid = tid;
	slot->tts_tableOid = RelationGetRelid(rel);
	if (pinned && BufferIsValid(buffer))
		ReleaseBuffer(buffer);
}

/*
 * stub_lock_slot_row
 *		For a slot holding a materialised stub (no buffer): pin and share-lock
 *		the stub's page and point *tup at the stub, if the line pointer still
 *		holds the same row version as the slot (same xmin; not a reused slot).
 *		Returns the locked buffer (InvalidBuffer if the page is gone) and
 *		whether *tup was set.
 */
static char retired_stub[RDB_STUB_LEN];

static Buffer
stub_lock_slot_row(Relation rel, TupleTableSlot *slot, HeapTuple tup,
				   bool *found)
{
	BufferHeapTupleTableSlot *bslot = (BufferHeapTupleTableSlot *) slot;
	Buffer		buf;
	Page		page;
	ItemId		lp;
	bool		retired;

	*found = false;
	buf = rdb_l0_read_tid_or_retired(rel, &slot->tts_tid, NULL, retired_stub,
									 &retired);
	if (!BufferIsValid(buf))
	{
		/* retired: still that row (frozen, never deleted or locked) */
		if (retired)
		{
			tup->t_data = (HeapTupleHeader) retired_stub;
			tup->t_len = RDB_STUB_LEN;
			tup->t_self = slot->tts_tid;
			tup->t_tableOid = RelationGetRelid(rel);
			*found = true;
		}
		return buf;
	}
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	if (rdb_l0_tid_on_page(buf, &slot->tts_tid) &&
		ItemIdIsNormal(lp = PageGetItemId(page, ItemPointerGetOffsetNumber(&slot->tts_tid))))
	{
		tup->t_data = (HeapTupleHeader) PageGetItem(page, lp);
		tup->t_len = ItemIdGetLength(lp);
		tup->t_self = slot->tts_tid;
		tup->t_tableOid = RelationGetRelid(rel);
		*found = TransactionIdEquals(HeapTupleHeaderGetRawXmin(tup->t_data),
									 HeapTupleHeaderGetRawXmin(bslot->base.tuple->t_data));
	}
	return buf;
}

/*
 * rdb_l0_slot_vacuum_status
 *		HeapTupleSatisfiesVacuum for the row in slot (see
 *		rdb_l0_slot_satisfies).  A row whose line pointer no longer holds it
 *		is HEAPTUPLE_DEAD.
 */
HTSV_Result
rdb_l0_slot_vacuum_status(Relation rel, TupleTableSlot *slot,
						  TransactionId OldestXmin)
{
	BufferHeapTupleTableSlot *bslot = (BufferHeapTupleTableSlot *) slot;
	HeapTupleData tup;
	Buffer		buf;
	bool		found;
	HTSV_Result res = HEAPTUPLE_DEAD;

	if (BufferIsValid(bslot->buffer))
	{
		LockBuffer(bslot->buffer, BUFFER_LOCK_SHARE);
		res = HeapTupleSatisfiesVacuum(bslot->base.tuple, OldestXmin,
									   bslot->buffer);
		LockBuffer(bslot->buffer, BUFFER_LOCK_UNLOCK);
		return res;
	}
	buf = stub_lock_slot_row(rel, slot, &tup, &found);
	if (found)
	{
		HeapTupleHeader copy = bslot->base.tuple->t_data;

		res = HeapTupleSatisfiesVacuum(&tup, OldestXmin, buf);

		/*
		 * The copy's transaction fields must say what the stub says now (the
		 * caller freezes and copies them); its data flags stay.
		 */
		memcpy(copy, tup.t_data, offsetof(HeapTupleHeaderData, t_infomask2));
		copy->t_infomask = (copy->t_infomask & ~HEAP_XACT_MASK) |
			(tup.t_data->t_infomask & HEAP_XACT_MASK);
		copy->t_infomask2 = (copy->t_infomask2 & ~HEAP2_XACT_MASK) |
			(tup.t_data->t_infomask2 & HEAP2_XACT_MASK);
	}
	if (BufferIsValid(buf))
		UnlockReleaseBuffer(buf);
	return res;
}

/*
 * rdb_l0_slot_satisfies
 *		Does the row in slot (stored by rdb_l0_store_tuple) satisfy
 *		snapshot?  A buffer tuple is checked in place; a materialised stub
 *		through the stub on its page, whose header is the current one.
 */
bool
rdb_l0_slot_satisfies(Relation rel, TupleTableSlot *slot, Snapshot snapshot)
{
	BufferHeapTupleTableSlot *bslot = (BufferHeapTupleTableSlot *) slot;
	HeapTupleData tup;
	Buffer		buf;
	bool		found;
	bool		res = false;

	if (BufferIsValid(bslot->buffer))
	{
		LockBuffer(bslot->buffer, BUFFER_LOCK_SHARE);
		res = HeapTupleSatisfiesVisibility(bslot->base.tuple, snapshot,
										   bslot->buffer);
		LockBuffer(bslot->buffer, BUFFER_LOCK_UNLOCK);
		return res;
	}
	buf = stub_lock_slot_row(rel, slot, &tup, &found);
	if (found)
		res = HeapTupleSatisfiesVisibility(&tup, snapshot, buf);
	if (BufferIsValid(buf))
		UnlockReleaseBuffer(buf);
	return res;
}

/*
 * rdb_l0_row_is_live
 *		Does the row version on the share-locked page in buf still count as
 *		a row (its insert committed or in progress, its delete or update not
 *		committed)?  What the layout views count as live, flushed or not.
 */
bool
rdb_l0_row_is_live(HeapTuple tup, TransactionId oldest_xmin, Buffer buf)
{
	switch (HeapTupleSatisfiesVacuum(tup, oldest_xmin, buf))
	{
		case HEAPTUPLE_LIVE:
		case HEAPTUPLE_INSERT_IN_PROGRESS:
		case HEAPTUPLE_DELETE_IN_PROGRESS:
			return true;
		case HEAPTUPLE_DEAD:
		case HEAPTUPLE_RECENTLY_DEAD:
			return false;
	}
	return false;				/* keep compiler quiet */
}
