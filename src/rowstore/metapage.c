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
#include "access/xloginsert.h"
#include "storage/bufmgr.h"
#include "storage/smgr.h"
#include "utils/rel.h"

#include "rustydb/l0.h"

#define RdbPageGetMeta(page)	((RdbMetaPage) PageGetContents(page))

/*
 * rdb_meta_page_init
 *		Fill an 8 kB buffer with a fresh metapage.
 */
void
rdb_meta_page_init(Page page)
{
	RdbPageOpaque opaque;
	RdbMetaPage meta;

	PageInit(page, BLCKSZ, sizeof(RdbPageOpaqueData));
	opaque = RdbPageGetOpaque(page);
	opaque->generation = RDB_METAPAGE_BLKNO;
	opaque->kind = RDB_PAGE_KIND_META;
	opaque->magic = RDB_PAGE_MAGIC;

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
	Buffer		buf;
	Page		page;
	bool		result;

	if (RelationGetNumberOfBlocks(rel) == 0)
		return false;
	buf = ReadBuffer(rel, RDB_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	result = !PageIsNew(page) &&
		RdbPageGetOpaque(page)->kind == RDB_PAGE_KIND_META &&
		(RdbPageGetMeta(page)->flags & RDB_META_HAS_STRIPES) != 0;
	UnlockReleaseBuffer(buf);
	return result;
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
