/*-------------------------------------------------------------------------
 *
 * metapage.c
 *	  Block 0 of every rustydb relation: format identification.
 *
 * The metapage identifies the relation's on-disk format (magic, version) and
 * carries the counter that hands out generations to L0 pages reused under a
 * new identity (see l0.h).  It is written when the relation's storage is
 * created (relation_set_new_filenode, TRUNCATE, rewrites) with log_newpage,
 * and, for unlogged relations, into the init fork as well, so that the
 * relation is valid again after the main fork is reset by crash recovery.
 *
 * Locking: the metapage is written whole while its storage is being
 * created, which nobody else can see yet; readers take a share lock.  The
 * one later change, the RDB_META_HAS_STRIPES flag set by flush, is made
 * under an exclusive lock with generic WAL (rdb_meta_note_stripes).
 *
 * IDENTIFICATION
 *	  src/rowstore/metapage.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/xloginsert.h"
#include "storage/lwlock.h"
#include "storage/procarray.h"
#include "storage/bufmgr.h"
#include "storage/smgr.h"
#include "utils/rel.h"

#include "rustydb/gendir.h"
#include "rustydb/l0.h"
#include "rustydb/stripe.h"

#define RdbPageGetMeta(page)	((RdbMetaPage) PageGetContents(page))

/*
 * rdb_meta_page_init
 *		Fill an 8 kB buffer with a fresh metapage.
 */
void
rdb_meta_page_init(Page page)
{
	RdbMetaPage meta;

	rdb_page_init_special(page, RDB_PAGE_KIND_META, RDB_METAPAGE_BLKNO);

	meta = RdbPageGetMeta(page);
	meta->magic = RDB_META_MAGIC;
	meta->version = RDB_META_VERSION;
	meta->next_generation = RDB_FIRST_REMAPPED_GENERATION;
	meta->flags = 0;

	/* pd_lower past the contents, so the unused-space hole is the rest */
	((PageHeader) page)->pd_lower =
		((char *) meta + sizeof(RdbMetaPageData)) - (char *) page;
}

/*
 * rdb_meta_create
 *		Write the metapage as block 0 of a new, empty fork.
 *
 * The fork belongs to a relfilenode that is being created and that nobody
 * else can see yet (relation_set_new_filenode), so we write through smgr
 * rather than shared buffers, as heap does for its init fork.  With 'log'
 * the page is WAL-logged with log_newpage.  With 'sync' the file is fsynced
 * right away: a checkpoint that started after our WAL record could
 * otherwise miss the write (the race nbtsort.c describes); temp relations
 * pass false.
 */
void
rdb_meta_create(SMgrRelation srel, ForkNumber forknum, bool log, bool sync)
{
	PGAlignedBlock buf;
	Page		page = (Page) buf.data;

	rdb_meta_page_init(page);

	if (log)
		log_newpage(&srel->smgr_rnode.node, forknum, RDB_METAPAGE_BLKNO,
					page, true);

	PageSetChecksumInplace(page, RDB_METAPAGE_BLKNO);
	smgrextend(srel, forknum, RDB_METAPAGE_BLKNO, buf.data, true);
	if (sync)
		smgrimmedsync(srel, forknum);
}

/*
 * rdb_meta_check
 *		Verify that block 0 is a rustydb metapage of a version we read.
 */
void
rdb_meta_check(Relation rel)
{
	Buffer		buf;
	Page		page;
	RdbMetaPage meta;
	RdbPageOpaque opaque;

	if (RelationGetNumberOfBlocks(rel) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("rustydb relation \"%s\" has no metapage",
						RelationGetRelationName(rel))));

	buf = ReadBuffer(rel, RDB_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	meta = RdbPageGetMeta(page);
	opaque = RdbPageGetOpaque(page);

	if (PageIsNew(page) ||
		opaque->magic != RDB_PAGE_MAGIC || opaque->kind != RDB_PAGE_KIND_META ||
		meta->magic != RDB_META_MAGIC)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("block 0 of relation \"%s\" is not a rustydb metapage",
						RelationGetRelationName(rel))));
	if (meta->version != RDB_META_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("rustydb relation \"%s\" has format version %u, this library reads version %u",
						RelationGetRelationName(rel), meta->version,
						RDB_META_VERSION)));

	UnlockReleaseBuffer(buf);
}

/*
 * rdb_meta_has_stripes
 *		Has flush ever written a stripe into rel's current relfilenode?
 *		(RDB_META_HAS_STRIPES; one share-locked read of block 0.)
 */
bool
rdb_meta_has_stripes(Relation rel)
{
	double		share;

	return rdb_meta_stripes_share(rel, &share);
}

/*
 * rdb_meta_note_stripes
 *		Set RDB_META_HAS_STRIPES, WAL-logged with generic WAL (nothing for
 *		relations that need no WAL), unless it is set already.  Called by
 *		flush after writing a stripe and before any stub points into it.
 */
void
rdb_meta_note_stripes(Relation rel)
{
	Buffer		buf;
	GenericXLogState *state;
	Page		page;

	if (rdb_meta_has_stripes(rel))
		return;
	buf = ReadBuffer(rel, RDB_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(rel);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	RdbPageGetMeta(page)->flags |= RDB_META_HAS_STRIPES;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
}

/* ------------------------------------------------------------------------
 * Stripe space and write counters (src/lsm/compact.c, stripe_write.c)
 * ------------------------------------------------------------------------
 */

/* contents past an old metapage's pd_lower must not fall into the hole */
static void
meta_fix_lower(Page page)
{
	RdbMetaPage meta = RdbPageGetMeta(page);
	LocationIndex lower = ((char *) meta + sizeof(RdbMetaPageData)) - (char *) page;

	if (((PageHeader) page)->pd_lower < lower)
		((PageHeader) page)->pd_lower = lower;
}

/* a metapage we may trust the new fields of (block 0 pinned, locked) */
static RdbMetaPage
meta_get(Relation rel, Buffer buf)
{
	Page		page = BufferGetPage(buf);
	RdbMetaPage meta = RdbPageGetMeta(page);

	BlockNumber nblocks;

	if (PageIsNew(page) || RdbPageGetOpaque(page)->kind != RDB_PAGE_KIND_META ||
		meta->magic != RDB_META_MAGIC ||
		meta->nfree_extents > RDB_META_MAX_FREE_EXTENTS)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("block 0 of relation \"%s\" is not a valid rustydb metapage",
						RelationGetRelationName(rel))));

	/*
	 * Free extents are blocks a stripe overwrites without reading them
	 * first: one outside the file's data blocks (the metapage, past the
	 * end) can only be damage, and must not be written through.  (Damage
	 * that names live blocks inside the file is not caught here: data
	 * checksums catch the metapage's.)
	 */
	nblocks = RelationGetNumberOfBlocks(rel);
	for (uint32 i = 0; i < meta->nfree_extents; i++)
	{
		const RdbFreeExtent *e = &meta->free_extents[i];

		if (e->first < RDB_FIRST_DATA_BLKNO || e->nblocks == 0 ||
			e->nblocks > nblocks || e->first > nblocks - e->nblocks)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("block 0 of relation \"%s\" is not a valid rustydb metapage",
							RelationGetRelationName(rel)),
					 errdetail("Its free extent %u names blocks %u to %u; the relation's data blocks are 1 to %u.",
							   i + 1, e->first, e->first + e->nblocks - 1,
							   nblocks - 1)));
	}
	return meta;
}

/*
 * The metapage pinned and locked in mode, or InvalidBuffer when the
 * relation has no blocks yet (its metapage not written): the readers of
 * the metapage's fields share this.
 */
static Buffer
meta_read(Relation rel, int mode)
{
	Buffer		buf;

	if (RelationGetNumberOfBlocks(rel) == 0)
		return InvalidBuffer;
	buf = ReadBuffer(rel, RDB_METAPAGE_BLKNO);
	LockBuffer(buf, mode);
	return buf;
}

static bool meta_extent_dead(const RdbFreeExtent *e);

/*
 * rdb_meta_free_extents
 *		Copy the relation's free stripe extents into out (room for
 *		RDB_META_MAX_FREE_EXTENTS); returns how many.
 */
int
rdb_meta_free_extents(Relation rel, RdbFreeExtent *out)
{
	Buffer		buf;
	RdbMetaPage meta;
	int			n;
	int			i;
	int			k;

	buf = meta_read(rel, BUFFER_LOCK_SHARE);
	if (!BufferIsValid(buf))
		return 0;
	meta = meta_get(rel, buf);
	n = (int) meta->nfree_extents;
	memcpy(out, meta->free_extents, n * sizeof(RdbFreeExtent));
	UnlockReleaseBuffer(buf);
	/* extents of a rolled-back give-back are not free: compaction adds them again */
	for (i = 0, k = 0; i < n; i++)
		if (!meta_extent_dead(&out[i]))
			out[k++] = out[i];
	return k;
}

/* replace the extent list of the metapage in buf (exclusively locked) */
static void
meta_write_extents(Relation rel, Buffer buf, const RdbFreeExtent *ext, int n)
{
	GenericXLogState *state = GenericXLogStart(rel);
	Page		page = GenericXLogRegisterBuffer(state, buf, 0);
	RdbMetaPage meta;

	meta_fix_lower(page);
	meta = RdbPageGetMeta(page);
	meta->nfree_extents = (uint32) n;
	memcpy(meta->free_extents, ext, n * sizeof(RdbFreeExtent));
	memset(meta->free_extents + n, 0,
		   (RDB_META_MAX_FREE_EXTENTS - n) * sizeof(RdbFreeExtent));
	GenericXLogFinish(state);
}

/* order extents by first block */
static int
meta_extent_cmp(const void *a, const void *b)
{
	const RdbFreeExtent *x = a;
	const RdbFreeExtent *y = b;

	return x->first < y->first ? -1 : x->first > y->first ? 1 : 0;
}

/* order extents by size, largest first */
static int
meta_extent_size_cmp(const void *a, const void *b)
{
	const RdbFreeExtent *x = a;
	const RdbFreeExtent *y = b;

	return x->nblocks > y->nblocks ? -1 : x->nblocks < y->nblocks ? 1 : 0;
}

/*
 * May extents freed by transactions a and b be joined, and under which
 * xid?  Only if they are the same transaction or one of them is known
 * committed (FrozenTransactionId): xid order is not commit order, so two
 * different transactions' extents stay apart.
 */
static bool
meta_extent_join_xid(TransactionId a, TransactionId b, TransactionId *joined)
{
	if (!TransactionIdIsNormal(a))
		*joined = b;
	else if (!TransactionIdIsNormal(b) || TransactionIdEquals(a, b))
		*joined = a;
	else
		return false;
	return true;
}

/*
 * Join neighbouring extents of a list sorted by first block (only those
 * both known committed, if committed_only); returns the new count.
 */
static int
meta_extents_join(RdbFreeExtent *ext, int n, bool committed_only)
{
	int			i;
	int			j;

	for (i = 0, j = 0; i < n; i++)
	{
		TransactionId joined;

		if (j > 0 && ext[j - 1].first + ext[j - 1].nblocks == ext[i].first &&
			(!committed_only ||
			 (!TransactionIdIsNormal(ext[j - 1].xid) && !TransactionIdIsNormal(ext[i].xid))) &&
			meta_extent_join_xid(ext[j - 1].xid, ext[i].xid, &joined))
		{
			ext[j - 1].nblocks += ext[i].nblocks;
			ext[j - 1].xid = joined;
		}
		else
			ext[j++] = ext[i];
	}
	return j;
}

/*
 * rdb_meta_add_free_extents
 *		Add n extents freed by transaction xid to the free extent list
 *		(generic WAL), merged with what it holds under the metapage's lock:
 *		extents that overlap one already listed are left out, neighbours
 *		are joined when freed by the same transaction or one is known
 *		committed (usable once the other committed),
 *		and when there are more than the metapage holds, the smallest are
 *		forgotten (compaction finds their pages again).  Returns the number
 *		of blocks the list gained.
 */
int64
rdb_meta_add_free_extents(Relation rel, const RdbFreeExtent *add, int n)
{
	Buffer		buf;
	RdbMetaPage meta;
	RdbFreeExtent *all;
	int			m;
	int			i;
	int			j;
	int64		before = 0;
	int64		after = 0;

	if (n == 0)
		return 0;
	all = palloc((RDB_META_MAX_FREE_EXTENTS + n) * sizeof(RdbFreeExtent));
	buf = ReadBuffer(rel, RDB_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	meta = meta_get(rel, buf);
	m = (int) meta->nfree_extents;
	memcpy(all, meta->free_extents, m * sizeof(RdbFreeExtent));
	/* a rolled-back give-back's extents make way for the pages again */
	for (i = 0, j = 0; i < m; i++)
		if (!meta_extent_dead(&all[i]))
			all[j++] = all[i];
	m = j;
	for (i = 0; i < m; i++)
		before += all[i].nblocks;
	for (i = 0; i < n; i++)
	{
		bool		overlaps = false;

		for (j = 0; j < m && !overlaps; j++)
			overlaps = add[i].first < all[j].first + all[j].nblocks &&
				all[j].first < add[i].first + add[i].nblocks;
		if (!overlaps && add[i].nblocks > 0)
			all[m++] = add[i];
	}
	qsort(all, m, sizeof(RdbFreeExtent), meta_extent_cmp);
	m = meta_extents_join(all, m, false);
	if (m > RDB_META_MAX_FREE_EXTENTS)
	{
		qsort(all, m, sizeof(RdbFreeExtent), meta_extent_size_cmp);
		m = RDB_META_MAX_FREE_EXTENTS;
		qsort(all, m, sizeof(RdbFreeExtent), meta_extent_cmp);
	}
	for (i = 0; i < m; i++)
		after += all[i].nblocks;

	meta_write_extents(rel, buf, all, m);
	UnlockReleaseBuffer(buf);
	pfree(all);
	return after - before;
}

/* has the transaction that freed extent e rolled back (or is it too old to ask)? */
static bool
meta_extent_dead(const RdbFreeExtent *e)
{
	bool		dead;

	if (!TransactionIdIsNormal(e->xid) ||
		TransactionIdIsCurrentTransactionId(e->xid) ||
		TransactionIdIsInProgress(e->xid))
		return false;
	/*
	 * Too old to ask the commit log: forget it, compaction finds it again.
	 * The lock keeps the commit log from being truncated under the lookup
	 * (as pg_xact_status does).
	 */
	LWLockAcquire(XactTruncationLock, LW_SHARED);
	dead = TransactionIdPrecedes(e->xid, ShmemVariableCache->oldestClogXid) ||
		!TransactionIdDidCommit(e->xid);
	LWLockRelease(XactTruncationLock);
	return dead;
}

/*
 * May extent e be handed out?  (-1: never again, drop it; 0: not yet.)
 * Once the transaction that freed it committed and every snapshot on the
 * server is newer (GetOldestNonRemovableTransactionId, computed once per
 * call into *horizon), it becomes usable: *announce gets the newest such
 * xid (the caller announces the reuse before anything is written, see
 * stripe_reuse.c) and e->xid becomes FrozenTransactionId.
 */
static int
meta_extent_usable(Relation rel, RdbFreeExtent *e, TransactionId *horizon,
				   TransactionId *announce)
{
	if (!TransactionIdIsNormal(e->xid))
		return 1;
	if (TransactionIdIsCurrentTransactionId(e->xid) ||
		TransactionIdIsInProgress(e->xid))
		return 0;
	/* aborted: nothing was given back; compaction frees it again */
	if (meta_extent_dead(e))
		return -1;
	if (!TransactionIdIsValid(*horizon))
		*horizon = GetOldestNonRemovableTransactionId(rel);
	if (!TransactionIdPrecedes(e->xid, *horizon))
		return 0;
	if (!TransactionIdIsValid(*announce) ||
		TransactionIdFollows(e->xid, *announce))
		*announce = e->xid;
	e->xid = FrozenTransactionId;
	return 1;
}

/* the first n blocks of free extent e into run *out; e keeps the rest */
static inline void
meta_take_blocks(RdbFreeExtent *e, uint32 n, RdbFreeExtent *out)
{
	out->first = e->first;
	out->nblocks = n;
	out->xid = InvalidTransactionId;
	e->first += n;
	e->nblocks -= n;
}

/*
 * rdb_meta_take_space
 *		Pages for a stripe out of the free extent list (generic WAL).  The
 *		smallest usable extent that holds whole blocks, as one run (its
 *		rest staying free; *mapped false); else, when none does, usable
 *		extents, largest first, until they hold scattered blocks or max
 *		runs are taken (*mapped true; the last one maybe in part).  Returns
 *		how many runs were taken into out (first, nblocks; in block order),
 *		0 if no extent is usable.  Scattered runs may hold fewer than
 *		scattered blocks: the caller extends the file for the rest.  The
 *		pages still hold old stripes: the caller overwrites every one.
 */
static int meta_take(Relation rel, uint32 whole, uint32 scattered,
					 RdbFreeExtent *out, int max, bool *mapped, Buffer *keep);

int
rdb_meta_take_space(Relation rel, uint32 whole, uint32 scattered,
					RdbFreeExtent *out, int max, bool *mapped)
{
	return meta_take(rel, whole, scattered, out, max, mapped, NULL);
}

/*
 * rdb_meta_take_l0_page
 *		A block of a usable free extent for a new L0 page, before the file
 *		is extended for one (l0_page.c): the free pages of stripes and of
 *		L0 serve each other (a stripe takes FREE L0 pages: gendir.c,
 *		rdb_gen_take_free_pages).  The block becomes a FREE page, which the
 *		caller turns into a page of a new generation as every FREE page
 *		(rdb_gen_reuse_page): its block number never names a generation.
 *		It is made FREE while the metapage is still locked, after the list
 *		without it is logged: a compaction survey (which runs alongside
 *		inserts) that read the list before sees the block listed, one that
 *		read it after sees a FREE page, so none takes the old stripe
 *		contents for pages of an unreferenced stripe and gives them back a
 *		second time.
 *
 *		The block's lock is only tried, with the metapage locked: a backend
 *		that knew the block as the page it once was (a stale free space map
 *		entry, an UPDATE's target block) may hold it while it waits for
 *		another page, whose holder may wait for the metapage.  If it is
 *		busy the caller extends the file, and the block is left out of the
 *		list: compaction's survey lists the unreferenced stripe page again.
 *		(The old contents are read for that: a damaged page is an error,
 *		as reading it anywhere is -- zeroed in shared buffers it would be a
 *		new page to inserts, a first-time page whose generation may be
 *		retired.)  InvalidBlockNumber if no extent is usable.
 */
BlockNumber
rdb_meta_take_l0_page(Relation rel)
{
	RdbFreeExtent run;
	bool		mapped;
	Buffer		metabuf;
	Buffer		buf;

	if (meta_take(rel, 1, 0, &run, 0, &mapped, &metabuf) == 0)
		return InvalidBlockNumber;
	/* old stripe contents, read only to try the lock, then overwritten */
	buf = ReadBufferExtended(rel, MAIN_FORKNUM, run.first, RBM_NORMAL, NULL);
	if (!ConditionalLockBuffer(buf))
	{
		ReleaseBuffer(buf);
		UnlockReleaseBuffer(metabuf);
		return InvalidBlockNumber;
	}
	rdb_gen_make_free_page(rel, buf);
	UnlockReleaseBuffer(buf);
	UnlockReleaseBuffer(metabuf);
	return run.first;
}

/*
 * meta_take
 *		rdb_meta_take_space's work; with keep, the metapage stays locked
 *		and pinned in *keep when something was taken.
 */
static int
meta_take(Relation rel, uint32 whole, uint32 scattered,
		  RdbFreeExtent *out, int max, bool *mapped, Buffer *keep)
{
	Buffer		buf;
	RdbMetaPage meta;
	RdbFreeExtent ext[RDB_META_MAX_FREE_EXTENTS];
	int			n;
	int			i;
	int			m = 0;
	int			best = -1;
	int			ntaken = 0;
	bool		changed = false;
	TransactionId horizon = InvalidTransactionId;
	TransactionId announce = InvalidTransactionId;

	*mapped = false;
	buf = ReadBuffer(rel, RDB_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	meta = meta_get(rel, buf);
	n = (int) meta->nfree_extents;
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	if (n == 0)
	{
		ReleaseBuffer(buf);
		return 0;
	}

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	meta = meta_get(rel, buf);
	n = (int) meta->nfree_extents;
	memcpy(ext, meta->free_extents, n * sizeof(RdbFreeExtent));
	for (i = 0; i < n; i++)
	{
		TransactionId xid = ext[i].xid;
		int			usable = meta_extent_usable(rel, &ext[i], &horizon,
												&announce);

		if (usable < 0)
		{
			changed = true;
			continue;
		}
		if (ext[i].xid != xid)
			changed = true;
		ext[m] = ext[i];
		if (usable > 0 && ext[m].nblocks >= whole &&
			(best < 0 || ext[m].nblocks < ext[best].nblocks))
			best = m;
		m++;
	}
	/*
	 * Neighbours both known committed now (frozen just above) join: the
	 * inputs of one compaction step often lie side by side, and together
	 * they fit the step's output.  (Usable from here on: xid not normal.)
	 */
	if (best < 0 && m > 1)
	{
		int			k;
		int			before = m;

		qsort(ext, m, sizeof(RdbFreeExtent), meta_extent_cmp);
		m = meta_extents_join(ext, m, true);
		if (m != before)
			changed = true;
		for (k = 0; k < m; k++)
			if (!TransactionIdIsNormal(ext[k].xid) && ext[k].nblocks >= whole &&
				(best < 0 || ext[k].nblocks < ext[best].nblocks))
				best = k;
	}
	if (best >= 0)
	{
		meta_take_blocks(&ext[best], whole, &out[ntaken++]);
		changed = true;
	}
	else if (max > 0)
	{
		uint32		need = scattered;

		/*
		 * Scattered: the largest usable extents first, so that the stripe
		 * takes few runs; the last one taken in part.
		 */
		qsort(ext, m, sizeof(RdbFreeExtent), meta_extent_size_cmp);
		for (i = 0; i < m && ntaken < max && need > 0; i++)
		{
			uint32		take;

			if (TransactionIdIsNormal(ext[i].xid) || ext[i].nblocks == 0)
				continue;
			take = Min(ext[i].nblocks, need);
			meta_take_blocks(&ext[i], take, &out[ntaken++]);
			need -= take;
		}
		if (ntaken > 0)
		{
			changed = true;
			*mapped = true;
			qsort(out, ntaken, sizeof(RdbFreeExtent), meta_extent_cmp);
		}
	}
	/*
	 * Extents that became usable: cancel the standby's readers of what they
	 * held and make backends forget it, before the metapage says they are
	 * usable and before the caller writes a page (stripe_reuse.c).
	 */
	if (TransactionIdIsValid(announce))
		rdb_stripe_reuse_announce(rel, announce);
	if (changed)
	{
		int			k;

		/* drop what was taken whole; keep the list in block order */
		for (i = 0, k = 0; i < m; i++)
			if (ext[i].nblocks > 0)
				ext[k++] = ext[i];
		m = k;
		qsort(ext, m, sizeof(RdbFreeExtent), meta_extent_cmp);
		meta_write_extents(rel, buf, ext, m);
	}
	if (keep != NULL && ntaken > 0)
		*keep = buf;
	else
		UnlockReleaseBuffer(buf);
	return ntaken;
}

/*
 * rdb_meta_count_written
 *		Add a stripe written by flush (with the bytes of the values it
 *		moved) or by compaction to the metapage's counters, which
 *		rustydb.tables turns into write amplification; steps: compaction
 *		steps completed with it.
 */
void
rdb_meta_count_written(Relation rel, bool compaction, uint64 stored_bytes,
					   uint64 raw_bytes, int steps)
{
	Buffer		buf;
	GenericXLogState *state;
	Page		page;
	RdbMetaPage meta;

	buf = ReadBuffer(rel, RDB_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	(void) meta_get(rel, buf);
	state = GenericXLogStart(rel);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	meta_fix_lower(page);
	meta = RdbPageGetMeta(page);
	if (compaction)
	{
		meta->compact_bytes += stored_bytes;
		meta->compactions += steps;
	}
	else
	{
		meta->flush_bytes += stored_bytes;
		meta->flush_raw_bytes += raw_bytes;
	}
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
}

/*
 * rdb_meta_stripes_share
 *		Does the relation have stripes (as rdb_meta_has_stripes), and which
 *		share of its rows were flushed when ANALYZE or VACUUM last counted
 *		(*share; -1 when neither has since the metapage had the fields)?
 */
bool
rdb_meta_stripes_share(Relation rel, double *share)
{
	Buffer		buf;
	Page		page;
	bool		result;

	*share = -1;
	buf = meta_read(rel, BUFFER_LOCK_SHARE);
	if (!BufferIsValid(buf))
		return false;
	page = BufferGetPage(buf);
	result = !PageIsNew(page) &&
		RdbPageGetOpaque(page)->kind == RDB_PAGE_KIND_META &&
		(RdbPageGetMeta(page)->flags & RDB_META_HAS_STRIPES) != 0;
	if (result)
	{
		RdbMetaPage meta = RdbPageGetMeta(page);

		if (meta->counted_rows > 0 && meta->counted_flushed <= meta->counted_rows)
			*share = (double) meta->counted_flushed / meta->counted_rows;
	}
	UnlockReleaseBuffer(buf);
	return result;
}

/*
 * rdb_meta_note_flushed_share
 *		Keep what ANALYZE or VACUUM counted: rows live rows, flushed of them
 *		in stripes.  Generic WAL, as the other counters.  Only for a
 *		relation with stripes (the planner asks only then), and only when
 *		the figures changed.  No live rows: the share becomes unknown.
 */
void
rdb_meta_note_flushed_share(Relation rel, double rows, double flushed)
{
	Buffer		buf;
	GenericXLogState *state;
	Page		page;
	RdbMetaPage meta;

	/* no live rows: no share (not the share of rows long gone) */
	if (rows < 1)
		rows = flushed = 0;
	/* the ratio is what matters: keep it within 32 bits */
	if (rows > (double) PG_INT32_MAX)
	{
		flushed = flushed * (double) PG_INT32_MAX / rows;
		rows = (double) PG_INT32_MAX;
	}
	buf = meta_read(rel, BUFFER_LOCK_EXCLUSIVE);
	if (!BufferIsValid(buf))
		return;
	meta = meta_get(rel, buf);
	if ((meta->flags & RDB_META_HAS_STRIPES) == 0 ||
		(meta->counted_rows == (uint32) rows &&
		 meta->counted_flushed == (uint32) flushed))
	{
		UnlockReleaseBuffer(buf);
		return;
	}
	state = GenericXLogStart(rel);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	meta_fix_lower(page);
	meta = RdbPageGetMeta(page);
	meta->counted_rows = (uint32) rows;
	meta->counted_flushed = (uint32) Min(flushed, rows);
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
}

/* rdb_meta_counters: the metapage's cumulative counters */
void
rdb_meta_counters(Relation rel, RdbMetaCounters *out)
{
	Buffer		buf;
	RdbMetaPage meta;

	memset(out, 0, sizeof(*out));
	buf = meta_read(rel, BUFFER_LOCK_SHARE);
	if (!BufferIsValid(buf))
		return;
	meta = meta_get(rel, buf);
	out->flush_bytes = meta->flush_bytes;
	out->flush_raw_bytes = meta->flush_raw_bytes;
	out->compact_bytes = meta->compact_bytes;
	out->compactions = meta->compactions;
	UnlockReleaseBuffer(buf);
}
