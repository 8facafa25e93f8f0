/*-------------------------------------------------------------------------
 *
 * emit.c
 *	  The engine's emit points: one call per thing the engine did.
 *
 * Each function fills an RdbEvent from numbers the caller really had and
 * appends it to the ring.  High-frequency I/O (ReadCompleted,
 * WriteCompleted) is accounted in per-database counters, from which the
 * worker builds IoStats, and goes into the ring one by one only for the
 * fraction rustydb.events_sample_rate asks for.
 *
 * All of these are cheap and never raise errors of their own beyond
 * out-of-memory; they are called outside critical sections.
 *
 * IDENTIFICATION
 *	  src/events/emit.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/pg_prng.h"
#include "miscadmin.h"
#include "storage/bufpage.h"
#include "storage/checksum.h"
#include "storage/smgr.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "rustydb/events.h"

/*
 * "schema.table" into an event text slot.  Both names are at most
 * NAMEDATALEN - 1 bytes, so the whole name fits (RDB_EVENT_TEXT_LEN);
 * rdb_event_set_text would cut it on a character boundary otherwise.
 */
static void
event_table_name(RdbEvent *ev, int slot, Relation rel)
{
	char	   *nsp = get_namespace_name(RelationGetNamespace(rel));
	char		buf[RDB_EVENT_TEXT_LEN + 1];
	int			len;

	len = snprintf(buf, sizeof(buf), "%s.%s",
				   nsp ? nsp : "?", RelationGetRelationName(rel));
	rdb_event_set_text(ev, slot, buf, Min(len, (int) sizeof(buf) - 1));
	if (nsp)
		pfree(nsp);
}

static bool
sampled(void)
{
	return rdb_events_sample_rate > 0 &&
		pg_prng_double(&pg_global_prng_state) < rdb_events_sample_rate;
}

/* a new L0 page was initialised */
void
rdb_emit_page_allocated(Relation rel, BlockNumber blkno)
{
	RdbEvent	ev;

	if (!rdb_events_enabled)
		return;
	rdb_event_init(&ev, RDB_EV_PAGE_ALLOCATED, rel);
	ev.num[0] = blkno;
	ev.num[1] = BLCKSZ;
	rdb_events_publish(&ev);
}

/* VACUUM pruned and defragmented a page, freeing bytes_reclaimed */
void
rdb_emit_page_compacted(Relation rel, BlockNumber blkno, Size bytes_reclaimed)
{
	RdbEvent	ev;

	if (!rdb_events_enabled)
		return;
	rdb_event_init(&ev, RDB_EV_PAGE_COMPACTED, rel);
	ev.num[0] = blkno;
	ev.num[1] = bytes_reclaimed;
	rdb_events_publish(&ev);
}

/*
 * A read of rel's block failed verification.  Read the block as it is on
 * disk and report the checksum stored in its header against the one its
 * contents give; nothing is reported unless they really differ.
 */
void
rdb_emit_checksum_failure(Relation rel, BlockNumber blkno)
{
	PGAlignedBlock raw;
	PageHeader	phdr = (PageHeader) raw.data;
	uint16		actual;
	RdbEvent	ev;

	if (!rdb_events_enabled)
		return;
	smgrread(RelationGetSmgr(rel), MAIN_FORKNUM, blkno, raw.data);
	if (PageIsNew((Page) raw.data))
		return;
	actual = pg_checksum_page(raw.data, blkno);
	if (actual == phdr->pd_checksum)
		return;

	rdb_event_init(&ev, RDB_EV_CHECKSUM_FAILURE, rel);
	ev.num[0] = blkno;
	ev.num[1] = phdr->pd_checksum;
	ev.num[2] = actual;
	rdb_events_publish(&ev);
}

/* a multi-insert batch of 'rows' rows went into rel */
void
rdb_emit_batch_inserted(Relation rel, int rows)
{
	RdbEvent	ev;
	TupleDesc	desc = RelationGetDescr(rel);
	int			ncols = 0;
	int			i;

	if (!rdb_events_enabled)
		return;
	for (i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped)
			ncols++;
	rdb_event_init(&ev, RDB_EV_BATCH_INSERTED, rel);
	event_table_name(&ev, 0, rel);
	ev.num[0] = rows;
	ev.num[1] = ncols;
	rdb_events_publish(&ev);
}

/*
 * One page of the engine's own I/O: account it for IoStats, and put it in
 * the ring one by one only when sampled.
 */
static void
emit_page_io(Relation rel, RdbEventVariant variant, BlockNumber blkno,
			 uint64 us)
{
	RdbEvent	ev;

	if (!rdb_events_enabled)
		return;
	rdb_io_count(variant == RDB_EV_WRITE_COMPLETED, BLCKSZ, us);
	if (!sampled())
	{
		rdb_events_count(MyDatabaseId, RDB_CH_IO, RDB_COUNT_AGGREGATED, 1);
		return;
	}
	rdb_event_init(&ev, variant, rel);
	ev.flags |= RDB_EVF_SAMPLED;
	ev.num[0] = blkno;
	ev.num[1] = us;
	ev.num[2] = BLCKSZ;
	rdb_events_publish(&ev);
}

/* a page read from the kernel (shared_buffers miss), taking us microseconds */
void
rdb_emit_read(Relation rel, BlockNumber blkno, uint64 us)
{
	emit_page_io(rel, RDB_EV_READ_COMPLETED, blkno, us);
}

/* a page written by the engine itself (relation extension) */
void
rdb_emit_write(Relation rel, BlockNumber blkno, uint64 us)
{
	emit_page_io(rel, RDB_EV_WRITE_COMPLETED, blkno, us);
}

/* a scan read a run of consecutive pages that all missed shared_buffers */
void
rdb_emit_vectored_read(Relation rel, int pages, uint64 us)
{
	RdbEvent	ev;

	if (!rdb_events_enabled)
		return;
	rdb_event_init(&ev, RDB_EV_VECTORED_READ, rel);
	ev.num[0] = pages;
	ev.num[1] = (double) pages * BLCKSZ;
	ev.num[2] = us;
	rdb_events_publish(&ev);
}

/*
 * Flush moved rows from L0 into a stripe: MemtableFlushed (rows, stripe
 * bytes) and, for the stripe's pages, VectoredWrite with the measured time
 * of writing and logging them.
 */
void
rdb_emit_memtable_flushed(Relation rel, int64 rows, uint64 stripe_bytes,
						  int pages, uint64 write_us)
{
	RdbEvent	ev;

	if (!rdb_events_enabled)
		return;
	rdb_event_init(&ev, RDB_EV_MEMTABLE_FLUSHED, rel);
	event_table_name(&ev, 0, rel);
	ev.num[0] = rows;
	ev.num[1] = stripe_bytes;
	rdb_events_publish(&ev);

	rdb_event_init(&ev, RDB_EV_VECTORED_WRITE, rel);
	ev.num[0] = pages;
	ev.num[1] = (double) pages * BLCKSZ;
	ev.num[2] = write_us;
	rdb_events_publish(&ev);
}

/*
 * A column chunk written by flush chose another encoding than the column's
 * previous chunk: EncodingChanged with the new chunk's compression ratio.
 */
void
rdb_emit_encoding_changed(Relation rel, const char *column,
						  const char *old_encoding, const char *new_encoding,
						  double ratio)
{
	RdbEvent	ev;

	if (!rdb_events_enabled)
		return;
	rdb_event_init(&ev, RDB_EV_ENCODING_CHANGED, rel);
	event_table_name(&ev, 0, rel);
	rdb_event_set_text(&ev, 1, column, strlen(column));
	rdb_event_set_text(&ev, 2, old_encoding, strlen(old_encoding));
	rdb_event_set_text(&ev, 3, new_encoding, strlen(new_encoding));
	ev.num[0] = ratio;
	rdb_events_publish(&ev);
}

/*
 * A columnar scan (src/scan/colscan.c) finished: ColumnScanned for one
 * column it read, with the rows whose value of that column it read and the
 * scan's wall-clock time.
 */
void
rdb_emit_column_scanned(Relation rel, const char *column, int64 rows,
						double duration_ms)
{
	RdbEvent	ev;

	if (!rdb_events_enabled)
		return;
	rdb_event_init(&ev, RDB_EV_COLUMN_SCANNED, rel);
	event_table_name(&ev, 0, rel);
	rdb_event_set_text(&ev, 1, column, strlen(column));
	ev.num[0] = rows;
	ev.num[1] = duration_ms;
	rdb_events_publish(&ev);
}

/*
 * A page the engine dirtied was written out whole: today the pages of a
 * stripe that flush fills, each WAL-logged whole (log_newpage_buffer)
 * before it is released; bytes = the page's header and payload (pd_lower),
 * the bytes that differ from a zeroed page.  The data file write itself is
 * the checkpointer's, as for every buffer.
 */
void
rdb_emit_page_flushed(Relation rel, BlockNumber blkno, Size bytes)
{
	RdbEvent	ev;

	if (!rdb_events_enabled)
		return;
	rdb_event_init(&ev, RDB_EV_PAGE_FLUSHED, rel);
	ev.num[0] = blkno;
	ev.num[1] = bytes;
	rdb_events_publish(&ev);
}

/*
 * Compaction (src/lsm/compact.c): a step starts on sstable_count stripes
 * of a level; it ends having written new_sstables stripes, in duration_ms
 * measured; its stripes moved from one level to the next.  tree_name is the
 * table.
 */
void
rdb_emit_compaction_started(Relation rel, int level, int stripes)
{
	RdbEvent	ev;

	if (!rdb_events_enabled)
		return;
	rdb_event_init(&ev, RDB_EV_COMPACTION_STARTED, rel);
	event_table_name(&ev, 0, rel);
	ev.num[0] = level;
	ev.num[1] = stripes;
	rdb_events_publish(&ev);
}

void
rdb_emit_compaction_completed(Relation rel, int level, int old_stripes,
							  int new_stripes, int64 duration_ms)
{
	RdbEvent	ev;

	if (!rdb_events_enabled)
		return;
	rdb_event_init(&ev, RDB_EV_COMPACTION_COMPLETED, rel);
	event_table_name(&ev, 0, rel);
	ev.num[0] = level;
	ev.num[1] = old_stripes;
	ev.num[2] = new_stripes;
	ev.num[3] = duration_ms;
	rdb_events_publish(&ev);
}

void
rdb_emit_level_migration(Relation rel, int from_level, int to_level,
						 int stripes)
{
	RdbEvent	ev;

	if (!rdb_events_enabled)
		return;
	rdb_event_init(&ev, RDB_EV_LEVEL_MIGRATION, rel);
	event_table_name(&ev, 0, rel);
	ev.num[0] = from_level;
	ev.num[1] = to_level;
	ev.num[2] = stripes;
	rdb_events_publish(&ev);
}

/*
 * Stripes as pages: compaction merged the stripe at block page2 into the
 * one written at result (with the stripe at page1, the step's first input),
 * or split the rows of one step into more than one stripe (new_page beside
 * original_page).  Ids are the stripes' first blocks.
 */
void
rdb_emit_page_merged(Relation rel, BlockNumber page1, BlockNumber page2,
					 BlockNumber result)
{
	RdbEvent	ev;

	if (!rdb_events_enabled)
		return;
	rdb_event_init(&ev, RDB_EV_PAGE_MERGED, rel);
	ev.num[0] = page1;
	ev.num[1] = page2;
	ev.num[2] = result;
	rdb_events_publish(&ev);
}

void
rdb_emit_page_split(Relation rel, BlockNumber original, BlockNumber new_page,
					const char *reason)
{
	RdbEvent	ev;

	if (!rdb_events_enabled)
		return;
	rdb_event_init(&ev, RDB_EV_PAGE_SPLIT, rel);
	ev.num[0] = original;
	ev.num[1] = new_page;
	rdb_event_set_text(&ev, 0, reason, (int) strlen(reason));
	rdb_events_publish(&ev);
}
