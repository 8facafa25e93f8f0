/*-------------------------------------------------------------------------
 *
 * l0_page.c
 *	  L0 slotted pages: initialisation, sanity checks, finding room.
 *
 * An L0 page is a standard PostgreSQL page (header, line pointers, tuples,
 * special area) whose special area is RdbPageOpaqueData.  PostgreSQL's
 * buffer manager verifies the page header and the data checksum on every
 * read from disk; rdb_l0_page_check adds the rustydb-level checks (kind and
 * magic), so a page that passes the checksum but is not ours is reported as
 * corruption instead of being read as tuples.
 *
 * Finding room for a new tuple follows heap's hio.c: a cached target block,
 * then the room the transaction's own flush left (rdb_l0_room_add), then the
 * free space map, then the relation's last page, then extending
 * the relation under the relation extension lock.  A new page is zeroed on extension and initialised by the
 * caller inside the critical section that WAL-logs the first tuple on it
 * (XLOG_RDB_INIT_PAGE), so a crash can leave at most an all-zero page, which
 * every reader skips and the next insert initialises.
 *
 * Locking: callers hold a pin; functions that return a buffer return it
 * exclusively locked.  With otherBuffer (UPDATE), both buffers are locked in
 * block-number order to avoid deadlocks, like hio.c.
 *
 * IDENTIFICATION
 *	  src/rowstore/l0_page.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/hio.h"
#include "access/transam.h"
#include "access/xlog.h"
#include "storage/procarray.h"
#include "executor/instrument.h"
#include "portability/instr_time.h"
#include "storage/freespace.h"
#include "storage/lmgr.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "rustydb/events.h"
#include "rustydb/gendir.h"
#include "rustydb/l0.h"
#include "rustydb/rustydb.h"
#include "rustydb/stripe.h"

/*
 * rdb_l0_page_init
 *		Initialise an empty L0 page, stored at block blkno, whose rows get
 *		TIDs in 'generation'.  A first-time page (generation = blkno) gets
 *		no special area: its layout is a plain heap page's, and it holds
 *		rows as large as heap's.
 */
void
rdb_l0_page_init(Page page, uint32 generation, BlockNumber blkno)
{
	if (generation == blkno)
	{
		PageInit(page, BLCKSZ, 0);
		return;
	}
	Assert(generation >= RDB_FIRST_REMAPPED_GENERATION);
	rdb_page_init_special(page, RDB_PAGE_KIND_L0, generation);
}

/*
 * rdb_l0_page_is_l0
 *		True if the page is an initialised L0 page.
 */
bool
rdb_l0_page_is_l0(Page page)
{
	RdbPageOpaque opaque;

	if (PageIsNew(page))
		return false;
	/* a first-time L0 page; the metapage always has a special area */
	if (PageGetSpecialSize(page) == 0)
		return true;
	if (PageGetSpecialSize(page) != MAXALIGN(sizeof(RdbPageOpaqueData)))
		return false;
	opaque = RdbPageGetOpaque(page);
	return opaque->magic == RDB_PAGE_MAGIC && opaque->kind == RDB_PAGE_KIND_L0;
}

/*
 * rdb_l0_page_check
 *		Error out if a non-new data page of the relation is not a rustydb
 *		page.  Caller holds at least a share lock on buf.
 *
 * The checksum has already been verified by the buffer manager; this
 * catches pages that are structurally not ours (e.g. a block overwritten
 * with a valid page of some other kind while checksums are off).
 */
void
rdb_l0_page_check(Relation rel, Buffer buf)
{
	Page		page = BufferGetPage(buf);
	RdbPageOpaque opaque;

	if (PageIsNew(page))
		return;
	/* first-time L0 pages have none; block 0 is always the metapage */
	if (PageGetSpecialSize(page) == 0 && BufferGetBlockNumber(buf) != RDB_METAPAGE_BLKNO)
		return;
	opaque = RdbPageGetOpaque(page);
	if (PageGetSpecialSize(page) != MAXALIGN(sizeof(RdbPageOpaqueData)) ||
		opaque->magic != RDB_PAGE_MAGIC ||
		(opaque->kind != RDB_PAGE_KIND_L0 && opaque->kind != RDB_PAGE_KIND_META &&
		 opaque->kind != RDB_PAGE_KIND_STRIPE && opaque->kind != RDB_PAGE_KIND_FREE &&
		 opaque->kind != RDB_PAGE_KIND_GENDIR_ROOT &&
		 opaque->kind != RDB_PAGE_KIND_GENDIR_LEAF &&
		 opaque->kind != RDB_PAGE_KIND_GENDIR_SUMMARY))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid rustydb page in block %u of relation \"%s\"",
						BufferGetBlockNumber(buf), RelationGetRelationName(rel)),
				 errdetail("The page's special area does not identify it as a rustydb page.")));
}

/*
 * rdb_l0_tid_on_page
 *		Does the (locked) page in buf hold the row that tid names?
 *
 * True when the page is an L0 page of the TID's generation and the offset is
 * within its line pointer array.  The line pointer may still be unused or
 * dead; callers check that.
 */
bool
rdb_l0_tid_on_page(Buffer buf, ItemPointer tid)
{
	Page		page = BufferGetPage(buf);

	if (!rdb_l0_page_is_l0(page))
		return false;
	if (rdb_l0_page_generation(page, BufferGetBlockNumber(buf)) !=
		ItemPointerGetBlockNumber(tid))
		return false;
	return ItemPointerGetOffsetNumber(tid) >= FirstOffsetNumber &&
		ItemPointerGetOffsetNumber(tid) <= PageGetMaxOffsetNumber(page);
}

typedef struct RdbReadErrorContext
{
	Relation	rel;
	BlockNumber blkno;
} RdbReadErrorContext;

static void
rdb_read_error_callback(void *arg)
{
	RdbReadErrorContext *ctx = (RdbReadErrorContext *) arg;

	errcontext("while reading block %u of rustydb table \"%s\"",
			   ctx->blkno, RelationGetRelationName(ctx->rel));
}

/*
 * rdb_read_buffer_timed
 *		ReadBufferExtended for a rustydb page, with an error context naming
 *		the table and block, so that a checksum failure reported by the
 *		buffer manager (ERRCODE_DATA_CORRUPTED, "invalid page in block N of
 *		relation base/...") also says which table it is, and is published as
 *		a ChecksumFailure event.
 *
 * With events on, the read is timed; when it missed shared_buffers (the
 * backend's buffer-usage counters moved) it is accounted as a page read and
 * *miss_us (if given) gets its latency, else -1.
 */
Buffer
rdb_read_buffer_timed(Relation rel, BlockNumber blkno,
					  BufferAccessStrategy strategy, int64 *miss_us)
{
	ErrorContextCallback errcb;
	RdbReadErrorContext ctx;
	Buffer		buf;
	MemoryContext oldcxt = CurrentMemoryContext;
	bool		timed = rdb_events_enabled;
	instr_time	start;
	int64		nread = 0;

	ctx.rel = rel;
	ctx.blkno = blkno;
	errcb.callback = rdb_read_error_callback;
	errcb.arg = &ctx;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	if (timed)
	{
		nread = pgBufferUsage.shared_blks_read + pgBufferUsage.local_blks_read;
		INSTR_TIME_SET_CURRENT(start);
	}

	PG_TRY();
	{
		buf = ReadBufferExtended(rel, MAIN_FORKNUM, blkno, RBM_NORMAL, strategy);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		error_context_stack = errcb.previous;
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		if (edata->sqlerrcode == ERRCODE_DATA_CORRUPTED)
			rdb_emit_checksum_failure(rel, blkno);
		ReThrowError(edata);
	}
	PG_END_TRY();

	error_context_stack = errcb.previous;

	if (miss_us)
		*miss_us = -1;
	if (timed &&
		pgBufferUsage.shared_blks_read + pgBufferUsage.local_blks_read != nread)
	{
		instr_time	duration;
		int64		us;

		INSTR_TIME_SET_CURRENT(duration);
		INSTR_TIME_SUBTRACT(duration, start);
		us = INSTR_TIME_GET_MICROSEC(duration);
		rdb_emit_read(rel, blkno, us);
		if (miss_us)
			*miss_us = us;
	}
	return buf;
}

/*
 * rdb_read_buffer
 *		rdb_read_buffer_timed for callers that don't need the latency.
 */
Buffer
rdb_read_buffer(Relation rel, BlockNumber blkno, BufferAccessStrategy strategy)
{
	return rdb_read_buffer_timed(rel, blkno, strategy, NULL);
}

/*
 * rdb_l0_read_tid_buffer
 *		For writers (UPDATE, DELETE, row locks): pin the page that holds the
 *		row named by tid, reviving its generation first if it is retired
 *		(gendir.h), so that the row is a stub on a page like any other.
 *
 * Returns InvalidBuffer when the TID names no page of this relation.  The
 * buffer is pinned, not locked.  Like heap_fetch, this trusts the TID to be
 * within the relation (it came from an index, a tuple's t_ctid, or passed
 * tuple_tid_valid): asking smgr for the size on every fetch would cost a
 * system call per index probe.
 */
Buffer
rdb_l0_read_tid_buffer(Relation rel, ItemPointer tid,
					   BufferAccessStrategy strategy)
{
	uint32		gen = ItemPointerGetBlockNumber(tid);
	int			tries;

	for (tries = 0; tries < 3; tries++)
	{
		bool		retired;
		Buffer		buf = rdb_gen_read(rel, gen, strategy, NULL, &retired);

		if (BufferIsValid(buf) || !retired)
			return buf;
		rdb_gen_revive(rel, gen);
	}
	elog(ERROR, "rustydb: could not revive generation %u of \"%s\"",
		 gen, RelationGetRelationName(rel));
	return InvalidBuffer;		/* keep compiler quiet */
}

/*
 * rdb_l0_read_tid_or_retired
 *		For readers: pin the page that holds tid's generation and return it,
 *		or, if the generation is retired, write the row's frozen stub into
 *		stub (RDB_STUB_LEN bytes), set *retired_row and return InvalidBuffer
 *		(InvalidBuffer and !*retired_row: no such row).  Reading never
 *		revives: it works on a standby.
 */
Buffer
rdb_l0_read_tid_or_retired(Relation rel, ItemPointer tid,
						   BufferAccessStrategy strategy, char *stub,
						   bool *retired_row)
{
	RdbGenEntry e;
	bool		retired;
	Buffer		buf;

	*retired_row = false;
	buf = rdb_gen_read(rel, ItemPointerGetBlockNumber(tid), strategy, &e,
					   &retired);
	if (!BufferIsValid(buf) && retired)
		*retired_row = rdb_gen_retired_stub(&e, tid, stub);
	return buf;
}

/*
 * rdb_l0_page_free_space
 *		Room for one more tuple on an L0 page, as PageGetHeapFreeSpace
 *		reckons it (which also stops at MaxHeapTuplesPerPage items, keeping
 *		TID offsets in range).
 */
bool
rdb_l0_xmin_committed_hint(HeapTupleHeader htup, Buffer buf)
{
	TransactionId xmin;
	XLogRecPtr	lsn;

	if (HeapTupleHeaderXminCommitted(htup))
		return true;
	if (HeapTupleHeaderXminInvalid(htup))
		return false;
	xmin = HeapTupleHeaderGetRawXmin(htup);
	if (!TransactionIdIsNormal(xmin) || TransactionIdIsInProgress(xmin) ||
		!TransactionIdDidCommit(xmin))
		return false;

	/*
	 * Committed, but SetHintBits would not say so while the commit's clog
	 * group holds an asynchronous commit not yet flushed (the event worker's
	 * NOTIFY transactions commit asynchronously every round, so this is
	 * common): flush that far, then the hint is safe, as SetHintBits knows.
	 */
	lsn = TransactionIdGetCommitLSN(xmin);
	if (!XLogRecPtrIsInvalid(lsn) && XLogNeedsFlush(lsn))
	{
		if (RecoveryInProgress())
			return false;
		XLogFlush(lsn);
	}
	htup->t_infomask |= HEAP_XMIN_COMMITTED;
	MarkBufferDirtyHint(buf, true);
	return true;
}

Size
rdb_l0_page_free_space(Page page)
{
	if (PageIsNew(page))
		return RDB_MAX_TUPLE_SIZE;
	return PageGetHeapFreeSpace(page);
}

/* read and exclusively lock a block, through the bulk-insert state if any */
static Buffer
l0_read_block(Relation rel, BlockNumber blkno, BulkInsertState bistate)
{
	Buffer		buf;

	if (bistate == NULL)
		return rdb_read_buffer(rel, blkno, NULL);

	if (bistate->current_buf != InvalidBuffer)
	{
		if (BufferGetBlockNumber(bistate->current_buf) == blkno)
		{
			IncrBufferRefCount(bistate->current_buf);
			return bistate->current_buf;
		}
		ReleaseBuffer(bistate->current_buf);
		bistate->current_buf = InvalidBuffer;
	}
	buf = rdb_read_buffer(rel, blkno, bistate->strategy);
	IncrBufferRefCount(buf);
	bistate->current_buf = buf;
	return buf;
}

/* lock buf and otherBuffer (if valid and different) in block order */
static void
l0_lock_pair(Buffer buf, Buffer otherBuffer)
{
	if (otherBuffer == InvalidBuffer || otherBuffer == buf)
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	else if (BufferGetBlockNumber(otherBuffer) < BufferGetBlockNumber(buf))
	{
		LockBuffer(otherBuffer, BUFFER_LOCK_EXCLUSIVE);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	}
	else
	{
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		LockBuffer(otherBuffer, BUFFER_LOCK_EXCLUSIVE);
	}
}

/*
 * A transaction's own room.  The writer's own flush (writer_flush_rows,
 * src/lsm/flush.c) moves the values of the transaction's rows out of its
 * pages while it still writes; the room they leave is kept for that
 * transaction's next rows (rdb_l0_room_add) instead of being published in
 * the free space map.  Published, it took other sessions' rows (single-row
 * inserts beside a batch load): such a row holds the batch's page in L0 until
 * it is settled and flushed itself, and the page's stubs are then copied
 * into a stripe a second time so the page can be retired.  Kept private, the
 * batch's pages fill with its own stubs only (~200 rows a page, and as many
 * a retired generation), and retire as soon as the batch is settled.
 *
 * A hint list per table in transaction memory, taken first-in first-out by
 * rdb_l0_get_buffer_for_tuple before it asks the free space map; forgotten
 * when the transaction ends (what is left then is found by VACUUM, or
 * retired by the next flush, as any page).
 */
typedef struct L0Room
{
	RelFileNode node;			/* hash key */
	BlockNumber *blocks;
	int			next;			/* the first not taken */
	int			n;
	int			max;
} L0Room;

static HTAB *l0_rooms = NULL;

static void
l0_room_xact_callback(XactEvent event, void *arg)
{
	if (rdb_xact_event_ends(event))
		l0_rooms = NULL;		/* gone with TopTransactionContext */
}

/*
 * rdb_l0_room_add
 *		Keep the room on block blkno of rel for the current transaction's
 *		next rows.
 */
void
rdb_l0_room_add(Relation rel, BlockNumber blkno)
{
	static bool registered = false;
	L0Room	   *room;
	bool		found;

	if (l0_rooms == NULL)
	{
		HASHCTL		ctl;

		if (!registered)
		{
			RegisterXactCallback(l0_room_xact_callback, NULL);
			registered = true;
		}
		ctl.keysize = sizeof(RelFileNode);
		ctl.entrysize = sizeof(L0Room);
		ctl.hcxt = TopTransactionContext;
		l0_rooms = hash_create("rustydb transaction room", 8, &ctl,
							   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	room = hash_search(l0_rooms, &rel->rd_node, HASH_ENTER, &found);
	if (!found)
	{
		room->blocks = NULL;
		room->next = room->n = room->max = 0;
	}
	if (room->next > 0 && room->next == room->n)
		room->next = room->n = 0;	/* all taken: start over */
	if (room->n == room->max)
	{
		int			max = room->max > 0 ? room->max * 2 : 64;

		room->blocks = room->blocks == NULL ?
			MemoryContextAlloc(TopTransactionContext, sizeof(BlockNumber) * max) :
			repalloc(room->blocks, sizeof(BlockNumber) * max);
		room->max = max;
	}
	room->blocks[room->n++] = blkno;
}

/* the next block of the transaction's own room in rel, or none */
static BlockNumber
l0_room_take(Relation rel)
{
	L0Room	   *room;

	if (l0_rooms == NULL)
		return InvalidBlockNumber;
	room = hash_search(l0_rooms, &rel->rd_node, HASH_FIND, NULL);
	if (room == NULL)
		return InvalidBlockNumber;
	while (room->next < room->n)
	{
		BlockNumber blkno = room->blocks[room->next++];

		/*
		 * The file may have been cut since: a TRUNCATE in the transaction
		 * that created the file truncates it in place (same relfilenode),
		 * and a VACUUM may cut the tail of pages a rolled-back
		 * subtransaction filled.
		 */
		if (blkno < RelationGetNumberOfBlocks(rel))
			return blkno;
	}
	return InvalidBlockNumber;
}

/*
 * The next page to try after targetBlock (freespace bytes free) had no
 * room for needed bytes: the transaction's own room first, then the free
 * space map.
 */
static BlockNumber
l0_next_target(Relation rel, BlockNumber targetBlock, Size freespace,
			   Size needed)
{
	BlockNumber own = l0_room_take(rel);

	if (own == InvalidBlockNumber)
		return RecordAndGetPageWithFreeSpace(rel, targetBlock, freespace,
											 needed);
	RecordPageWithFreeSpace(rel, targetBlock, freespace);
	return own;
}

/*
 * rdb_l0_get_buffer_for_tuple
 *		Find an L0 page with room for a tuple of len bytes.
 *
 * Returns the buffer pinned and exclusively locked.  If otherBuffer is valid
 * (UPDATE: the page of the old version, pinned but not locked by the caller)
 * it is locked as well, in block order.  *page_is_new tells the caller that
 * the page is all zeroes and must be initialised (inside its critical
 * section, with XLOG_RDB_INIT_PAGE).
 */
Buffer
rdb_l0_get_buffer_for_tuple(Relation rel, Size len, Buffer otherBuffer,
							BulkInsertState bistate, bool *page_is_new)
{
	Size		saveFreeSpace;
	BlockNumber targetBlock;
	bool		took_extent = false;
	BlockNumber otherBlock;
	BlockNumber nblocks;
	instr_time	ext_start;
	instr_time	ext_time;
	Buffer		buf;
	Page		page;

	len = MAXALIGN(len);
	if (len > RDB_MAX_TUPLE_SIZE)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("row is too big: size %zu, maximum size %zu",
						len, (Size) RDB_MAX_TUPLE_SIZE)));

	saveFreeSpace = RelationGetTargetPageFreeSpace(rel, HEAP_DEFAULT_FILLFACTOR);
	/* never let fillfactor make a tuple that fits an empty page homeless */
	if (len + saveFreeSpace > RDB_MAX_TUPLE_SIZE)
		saveFreeSpace = 0;

	otherBlock = BufferIsValid(otherBuffer) ?
		BufferGetBlockNumber(otherBuffer) : InvalidBlockNumber;

	if (bistate && bistate->current_buf != InvalidBuffer)
		targetBlock = BufferGetBlockNumber(bistate->current_buf);
	else
		targetBlock = RelationGetTargetBlock(rel);

	if (targetBlock == InvalidBlockNumber)
		targetBlock = l0_room_take(rel);
	if (targetBlock == InvalidBlockNumber)
		targetBlock = GetPageWithFreeSpace(rel, len + saveFreeSpace);

	/*
	 * If the FSM knows nothing (only VACUUM fills it), try the last page
	 * before extending, as hio.c does: the cached target block is lost in
	 * every new backend and at every relcache invalidation, and without this
	 * each of those would start a new page.  If the last page is full, the
	 * loop below records its free space and asks the FSM again.
	 */
	if (targetBlock == InvalidBlockNumber)
	{
		nblocks = RelationGetNumberOfBlocks(rel);
		if (nblocks > RDB_FIRST_DATA_BLKNO)
			targetBlock = nblocks - 1;
	}

	for (;;)
	{
	while (targetBlock != InvalidBlockNumber)
	{
		Size		freespace;

		if (targetBlock < RDB_FIRST_DATA_BLKNO)
		{
			/* the FSM never names the metapage, but a stale target might */
			targetBlock = GetPageWithFreeSpace(rel, len + saveFreeSpace);
			if (targetBlock < RDB_FIRST_DATA_BLKNO)
				break;
			continue;
		}

		if (otherBuffer != InvalidBuffer && targetBlock == otherBlock)
		{
			buf = otherBuffer;
			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		}
		else
		{
			buf = l0_read_block(rel, targetBlock, bistate);
			l0_lock_pair(buf, otherBuffer);
		}

		page = BufferGetPage(buf);
		if (PageIsNew(page))
		{
			/* zeroed page left by a crash during extension: ours to use */
			*page_is_new = true;
			RelationSetTargetBlock(rel, targetBlock);
			rdb_emit_page_allocated(rel, targetBlock);
			return buf;
		}
		/* a retired page's block: reuse it under a new (or recycled) generation */
		if (rdb_gen_page_is_free(page))
			(void) rdb_gen_reuse_page(rel, buf);
		if (rdb_l0_page_is_l0(page))
		{
			freespace = PageGetHeapFreeSpace(page);
			if (len + saveFreeSpace <= freespace)
			{
				*page_is_new = false;
				RelationSetTargetBlock(rel, targetBlock);
				return buf;
			}
		}
		else
			freespace = 0;

		/* not enough room: unlock, tell the FSM, and try what it suggests */
		LockBuffer(buf, BUFFER_LOCK_UNLOCK);
		if (otherBuffer != InvalidBuffer && buf != otherBuffer)
			LockBuffer(otherBuffer, BUFFER_LOCK_UNLOCK);
		if (buf != otherBuffer)
			ReleaseBuffer(buf);

		targetBlock = l0_next_target(rel, targetBlock, freespace,
									 len + saveFreeSpace);
	}

	/*
	 * No page with room.  Before the file grows, a block of the stripe
	 * pages compaction gave back (a usable free extent), once per call: it
	 * becomes a FREE page, which the loop turns into an empty page of a new
	 * generation (rdb_meta_take_l0_page).  Stripes take FREE L0 pages the
	 * same way (gendir.c), so neither pool grows the file while the other
	 * has room.  (Such a page holds every row but the largest first-time
	 * pages hold; a row that does not fit extends the file.)
	 */
	if (took_extent)
		break;
	took_extent = true;
	targetBlock = rdb_meta_take_l0_page(rel);
	if (targetBlock == InvalidBlockNumber)
		break;
	}

	/*
	 * Extend the relation by one page.  No buffer lock is held while we wait
	 * for the extension lock (as in hio.c), so this cannot deadlock against
	 * a backend that holds the extension lock and wants one of our pages.
	 */
	if (!RELATION_IS_LOCAL(rel))
		LockRelationForExtension(rel, ExclusiveLock);

	nblocks = RelationGetNumberOfBlocks(rel);
	if (nblocks == 0)
		elog(ERROR, "rustydb relation \"%s\" has no metapage",
			 RelationGetRelationName(rel));

	/*
	 * A TID's block number is the page's generation, and generations from
	 * RDB_FIRST_REMAPPED_GENERATION up mean "reused page" (l0.h): a block at
	 * or beyond it could hold rows that no TID can name.
	 */
	if (nblocks >= RDB_FIRST_REMAPPED_GENERATION)
	{
		if (!RELATION_IS_LOCAL(rel))
			UnlockRelationForExtension(rel, ExclusiveLock);
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("cannot extend rustydb table \"%s\" beyond %u blocks",
						RelationGetRelationName(rel),
						RDB_FIRST_REMAPPED_GENERATION),
				 errdetail("Row identifiers of a rustydb table address at most %u pages of row storage.",
						   RDB_FIRST_REMAPPED_GENERATION),
				 errhint("Delete rows and VACUUM the table to make room, or move rows to another table.")));
	}

	if (bistate && bistate->current_buf != InvalidBuffer)
	{
		ReleaseBuffer(bistate->current_buf);
		bistate->current_buf = InvalidBuffer;
	}
	INSTR_TIME_SET_CURRENT(ext_start);
	buf = ReadBufferExtended(rel, MAIN_FORKNUM, P_NEW, RBM_ZERO_AND_LOCK,
							 bistate ? bistate->strategy : NULL);
	INSTR_TIME_SET_CURRENT(ext_time);
	INSTR_TIME_SUBTRACT(ext_time, ext_start);
	if (bistate)
	{
		IncrBufferRefCount(buf);
		bistate->current_buf = buf;
	}

	if (!RELATION_IS_LOCAL(rel))
		UnlockRelationForExtension(rel, ExclusiveLock);

	/* the new page was written to the file (zeroed) by smgrextend */
	rdb_emit_write(rel, BufferGetBlockNumber(buf),
				   INSTR_TIME_GET_MICROSEC(ext_time));

	/*
	 * The new buffer is locked; lock otherBuffer too.  Its block number is
	 * lower than the new block's, so lock order would want it first: drop
	 * and retake the new buffer's lock.  Nobody else can be using the new,
	 * all-zero page in between except to initialise it, which we recheck.
	 */
	if (otherBuffer != InvalidBuffer)
	{
		LockBuffer(buf, BUFFER_LOCK_UNLOCK);
		LockBuffer(otherBuffer, BUFFER_LOCK_EXCLUSIVE);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	}

	page = BufferGetPage(buf);
	if (!PageIsNew(page))
	{
		/* someone initialised it meanwhile; it still has room for us? */
		if (!rdb_l0_page_is_l0(page) ||
			PageGetHeapFreeSpace(page) < len)
			elog(ERROR, "page %u of relation \"%s\" was filled concurrently",
				 BufferGetBlockNumber(buf), RelationGetRelationName(rel));
		*page_is_new = false;
	}
	else
	{
		*page_is_new = true;
		rdb_emit_page_allocated(rel, BufferGetBlockNumber(buf));
	}

	RelationSetTargetBlock(rel, BufferGetBlockNumber(buf));
	return buf;
}

/*
 * rdb_l0_put_tuple
 *		Place a prepared tuple on a locked page; sets tuple->t_self and the
 *		tuple's t_ctid (unless it is a speculative insertion, whose t_ctid
 *		holds the token).  Caller is in a critical section.
 */
OffsetNumber
rdb_l0_put_tuple(Relation rel, Buffer buf, HeapTuple tuple)
{
	Page		page = BufferGetPage(buf);
	OffsetNumber offnum;
	uint32		generation = rdb_l0_page_generation(page, BufferGetBlockNumber(buf));

	offnum = PageAddItem(page, (Item) tuple->t_data, tuple->t_len,
						 InvalidOffsetNumber, false, true);
	if (offnum == InvalidOffsetNumber)
		elog(PANIC, "failed to add tuple to rustydb page %u of relation \"%s\"",
			 BufferGetBlockNumber(buf), RelationGetRelationName(rel));
	if (offnum > MaxHeapTuplesPerPage)
		elog(PANIC, "rustydb page %u of relation \"%s\" has too many items",
			 BufferGetBlockNumber(buf), RelationGetRelationName(rel));

	ItemPointerSet(&tuple->t_self, generation, offnum);

	if (!HeapTupleHeaderIsSpeculative(tuple->t_data))
	{
		HeapTupleHeader item = (HeapTupleHeader)
			PageGetItem(page, PageGetItemId(page, offnum));

		item->t_ctid = tuple->t_self;
	}
	return offnum;
}
