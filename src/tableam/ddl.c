/*-------------------------------------------------------------------------
 *
 * ddl.c
 *	  Storage lifecycle of rustydb relations: create, truncate, copy to a
 *	  new tablespace, rewrite for CLUSTER / VACUUM FULL; TOAST and size
 *	  estimates.
 *
 * Every new relfilenode starts with a metapage in block 0 (and, for
 * unlogged relations, the same metapage in the init fork, from which crash
 * recovery resets the main fork).  TRUNCATE of a table created in the same
 * transaction cuts the main fork back to the metapage; other TRUNCATEs and
 * rewrites get a fresh relfilenode through relation_set_new_filenode.
 *
 * CLUSTER and VACUUM FULL copy every row version some snapshot may still see
 * into the new relfilenode, with its original header (freezing what is old
 * enough), in index or sort order when asked.  XXX: like heap's rewrite we
 * keep RECENTLY_DEAD versions, but unlike rewriteheap.c we do not rebuild
 * their update chains: their t_ctid points to themselves.  The rewrite holds
 * AccessExclusiveLock, so only a transaction whose snapshot predates it can
 * meet such a version, and it gets a serialization failure either way.
 *
 * IDENTIFICATION
 *	  src/tableam/ddl.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/heaptoast.h"
#include "access/multixact.h"
#include "access/tableam.h"
#include "access/toast_internals.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "access/xloginsert.h"
#include "catalog/pg_am_d.h"
#include "catalog/storage.h"
#include "catalog/storage_xlog.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "optimizer/plancat.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/smgr.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/tuplesort.h"

#include "rustydb/rustydb.h"
#include "rustydb/lsm.h"
#include "rustydb/stripe.h"
#include "rustydb/gendir.h"
#include "rustydb/l0.h"

/* what a row costs on an L0 page besides its data (as heap's estimate) */
#define RDB_OVERHEAD_BYTES_PER_TUPLE \
	(MAXALIGN(SizeofHeapTupleHeader) + sizeof(ItemIdData))
#define RDB_USABLE_BYTES_PER_PAGE \
	(BLCKSZ - SizeOfPageHeaderData - MAXALIGN(sizeof(RdbPageOpaqueData)))

void
rdb_am_relation_set_new_filenode(Relation rel, const RelFileNode *newrnode,
								 char persistence, TransactionId *freezeXid,
								 MultiXactId *minmulti)
{
	SMgrRelation srel;

	rdb_check_preloaded();

	/* no row of the new storage is older than this */
	*freezeXid = RecentXmin;
	*minmulti = GetOldestMultiXactId();

	srel = RelationCreateStorage(*newrnode, persistence, true);

	/* the flush history described stripes of the old storage */
	rdb_flush_forget(RelationGetRelid(rel));
	rdb_compact_forget(RelationGetRelid(rel));

	rdb_meta_create(srel, MAIN_FORKNUM,
					persistence == RELPERSISTENCE_PERMANENT && XLogIsNeeded(),
					persistence != RELPERSISTENCE_TEMP);

	/*
	 * An unlogged relation needs an init fork holding what an empty relation
	 * looks like: crash recovery copies it over the main fork.
	 */
	if (persistence == RELPERSISTENCE_UNLOGGED)
	{
		smgrcreate(srel, INIT_FORKNUM, false);
		log_smgrcreate(newrnode, INIT_FORKNUM);
		rdb_meta_create(srel, INIT_FORKNUM, true, true);
	}

	smgrclose(srel);
}

/*
 * rdb_am_relation_nontransactional_truncate
 *		TRUNCATE of a relation whose storage was created in this
 *		transaction: drop everything after the metapage and make the
 *		metapage a fresh one.
 *
 * The storage may hold more than this transaction's rows: ALTER TABLE ...
 * SET TABLESPACE copies the old storage block by block into new storage
 * (metapage included), and a TRUNCATE after it takes this path.  Its
 * metapage then names free stripe extents, directory roots and counters of
 * blocks that no longer exist and that the next rows will reuse: handing
 * out such an extent would write a stripe over their pages.  So the
 * metapage starts over, WAL-logged as a whole page like any other change
 * of it (not needed under wal_level = minimal, where the new storage is
 * synced at commit).
 */
void
rdb_am_relation_nontransactional_truncate(Relation rel)
{
	Buffer		buf;

	rdb_check_preloaded();
	RelationTruncate(rel, RDB_FIRST_DATA_BLKNO);

	buf = ReadBuffer(rel, RDB_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	START_CRIT_SECTION();
	rdb_meta_page_init(BufferGetPage(buf));
	MarkBufferDirty(buf);
	if (RelationNeedsWAL(rel))
		log_newpage_buffer(buf, true);
	END_CRIT_SECTION();
	UnlockReleaseBuffer(buf);

	/* the relfilenode stays: new stripes may start at the same blocks */
	rdb_stripe_cache_forget(RelationGetRelid(rel));
	rdb_gen_forget();
	rdb_flush_forget(RelationGetRelid(rel));
	rdb_compact_forget(RelationGetRelid(rel));
}

/*
 * rdb_am_relation_copy_data
 *		ALTER TABLE ... SET TABLESPACE: copy every fork block by block (with
 *		checksum verification and WAL, by RelationCopyStorage).
 */
void
rdb_am_relation_copy_data(Relation rel, const RelFileNode *newrnode)
{
	SMgrRelation dstrel;
	ForkNumber	forkNum;

	rdb_check_preloaded();

	dstrel = smgropen(*newrnode, rel->rd_backend);
	FlushRelationBuffers(rel);

	RelationCreateStorage(*newrnode, rel->rd_rel->relpersistence, true);
	RelationCopyStorage(RelationGetSmgr(rel), dstrel, MAIN_FORKNUM,
						rel->rd_rel->relpersistence);

	for (forkNum = MAIN_FORKNUM + 1; forkNum <= MAX_FORKNUM; forkNum++)
	{
		if (smgrexists(RelationGetSmgr(rel), forkNum))
		{
			smgrcreate(dstrel, forkNum, false);
			if (RelationIsPermanent(rel) ||
				(rel->rd_rel->relpersistence == RELPERSISTENCE_UNLOGGED &&
				 forkNum == INIT_FORKNUM))
				log_smgrcreate(newrnode, forkNum);
			RelationCopyStorage(RelationGetSmgr(rel), dstrel, forkNum,
								rel->rd_rel->relpersistence);
		}
	}

	RelationDropStorage(rel);
	smgrclose(dstrel);
}

/* ------------------------------------------------------------------------
 * CLUSTER / VACUUM FULL
 * ------------------------------------------------------------------------
 */

#define CLUSTER_BATCH	256

typedef struct ClusterWriter
{
	Relation	rel;
	BulkInsertState bistate;
	HeapTuple	batch[CLUSTER_BATCH];
	int			nbatch;
	MemoryContext cxt;
	TransactionId freeze_xid;
	MultiXactId cutoff_multi;
	TransactionId relfrozenxid;
	MultiXactId relminmxid;
	int64		written;
	RdbRewriteStripes *stripes; /* rows every snapshot sees go here */
	TupleDesc	olddesc;		/* the old relation's, with its missing
								 * values (ADD COLUMN ... DEFAULT) */
	Datum	   *values;			/* for reforming rows, olddesc->natts */
	bool	   *isnull;
} ClusterWriter;

static void
cluster_flush(ClusterWriter *w)
{
	if (w->nbatch == 0)
		return;
	rdb_l0_insert_tuples(w->rel, w->batch, w->nbatch, w->bistate,
						 TABLE_INSERT_NO_LOGICAL, false);
	w->written += w->nbatch;
	pgstat_progress_update_param(PROGRESS_CLUSTER_HEAP_TUPLES_WRITTEN,
								 w->written);
	w->nbatch = 0;
	MemoryContextReset(w->cxt);
}

/*
 * Copy one old row version into the new relation, keeping its header, or,
 * when settled (it fits a stripe and was marked so: rewrite.c), into a
 * stripe.
 */
static void
cluster_write(ClusterWriter *w, HeapTuple oldtup, bool settled)
{
	MemoryContext oldcxt;
	HeapTuple	copy;

	if (settled)
	{
		/*
		 * Formed again with the old relation's descriptor, as heap's
		 * rewrite does every row (reform_and_rewrite_tuple): a row older
		 * than an ADD COLUMN ... DEFAULT lacks that column and reads the
		 * default from the old relation's attmissingval, which the new
		 * relation's stripes know nothing of (the stripe writer would store
		 * NULL); dropped columns' values go.  (No copy to freeze: the row
		 * reads as frozen in its stripe.)
		 */
		heap_deform_tuple(oldtup, w->olddesc, w->values, w->isnull);
		for (int i = 0; i < w->olddesc->natts; i++)
			if (TupleDescAttr(w->olddesc, i)->attisdropped)
				w->isnull[i] = true;
		rdb_rewrite_add(w->stripes, w->olddesc, w->values, w->isnull);
		w->written++;
		if (w->written % CLUSTER_BATCH == 0)
			pgstat_progress_update_param(PROGRESS_CLUSTER_HEAP_TUPLES_WRITTEN,
										 w->written);
		return;
	}

	oldcxt = MemoryContextSwitchTo(w->cxt);
	copy = heap_copytuple(oldtup);
	/* freeze what is old enough, as heap's rewrite does */
	heap_freeze_tuple(copy->t_data, w->relfrozenxid, w->relminmxid,
					  w->freeze_xid, w->cutoff_multi);
	/* an update chain into the old relation means nothing in the new one */
	ItemPointerSetInvalid(&copy->t_self);
	copy->t_data->t_infomask2 &= ~(HEAP_HOT_UPDATED | HEAP_ONLY_TUPLE);
	if (HeapTupleHasExternal(copy) || copy->t_len > TOAST_TUPLE_THRESHOLD)
		copy = heap_toast_insert_or_update(w->rel, copy, NULL,
										   HEAP_INSERT_SKIP_FSM |
										   HEAP_INSERT_NO_LOGICAL);
	MemoryContextSwitchTo(oldcxt);

	w->batch[w->nbatch++] = copy;
	if (w->nbatch == CLUSTER_BATCH)
		cluster_flush(w);
}

/* a settled row rdb_rewrite_end leaves to L0 (too few for a stripe) */
static void
cluster_write_l0(void *arg, HeapTuple tup)
{
	ClusterWriter *w = (ClusterWriter *) arg;

	w->written--;				/* counted when it went to the stripe */
	cluster_write(w, tup, false);
}

void
rdb_am_relation_copy_for_cluster(Relation OldTable, Relation NewTable,
								 Relation OldIndex, bool use_sort,
								 TransactionId OldestXmin,
								 TransactionId *xid_cutoff,
								 MultiXactId *multi_cutoff,
								 double *num_tuples, double *tups_vacuumed,
								 double *tups_recently_dead)
{
	ClusterWriter w;
	Tuplesortstate *tuplesort = NULL;
	TableScanDesc tscan = NULL;
	IndexScanDesc iscan = NULL;
	TupleTableSlot *slot;
	TupleDesc	desc = RelationGetDescr(OldTable);
	int64		scanned = 0;

	rdb_check_preloaded();

	memset(&w, 0, sizeof(w));
	w.rel = NewTable;
	w.bistate = GetBulkInsertState();
	w.cxt = AllocSetContextCreate(CurrentMemoryContext, "rustydb cluster batch",
								  ALLOCSET_DEFAULT_SIZES);
	w.freeze_xid = *xid_cutoff;
	w.cutoff_multi = *multi_cutoff;
	w.relfrozenxid = OldTable->rd_rel->relfrozenxid;
	w.relminmxid = OldTable->rd_rel->relminmxid;
	w.stripes = rdb_rewrite_begin(NewTable);
	w.olddesc = RelationGetDescr(OldTable);
	w.values = palloc(sizeof(Datum) * w.olddesc->natts);
	w.isnull = palloc(sizeof(bool) * w.olddesc->natts);

	*num_tuples = 0;
	*tups_vacuumed = 0;
	*tups_recently_dead = 0;

	if (use_sort)
		tuplesort = tuplesort_begin_cluster(desc, OldIndex,
											maintenance_work_mem, NULL,
											TUPLESORT_NONE);

	slot = table_slot_create(OldTable, NULL);
	if (OldIndex != NULL && !use_sort)
	{
		pgstat_progress_update_param(PROGRESS_CLUSTER_PHASE,
									 PROGRESS_CLUSTER_PHASE_INDEX_SCAN_HEAP);
		iscan = index_beginscan(OldTable, OldIndex, SnapshotAny, 0, 0);
		index_rescan(iscan, NULL, 0, NULL, 0);
	}
	else
	{
		pgstat_progress_update_param(PROGRESS_CLUSTER_PHASE,
									 PROGRESS_CLUSTER_PHASE_SEQ_SCAN_HEAP);
		tscan = table_beginscan(OldTable, SnapshotAny, 0, NULL);
		pgstat_progress_update_param(PROGRESS_CLUSTER_TOTAL_HEAP_BLKS,
									 RelationGetNumberOfBlocks(OldTable));
	}

	for (;;)
	{
		BufferHeapTupleTableSlot *bslot;
		HeapTuple	tuple;
		bool		keep = true;
		bool		fits;
		HTSV_Result status;

		CHECK_FOR_INTERRUPTS();

		if (iscan)
		{
			if (!index_getnext_slot(iscan, ForwardScanDirection, slot))
				break;
		}
		else if (!table_scan_getnextslot(tscan, ForwardScanDirection, slot))
			break;

		bslot = (BufferHeapTupleTableSlot *) slot;
		tuple = bslot->base.tuple;

		/* (a flushed row comes materialised: judged by its stub) */
		status = rdb_l0_slot_vacuum_status(OldTable, slot, OldestXmin);
		switch (status)
		{
			case HEAPTUPLE_DEAD:
				keep = false;
				break;
			case HEAPTUPLE_RECENTLY_DEAD:
				*tups_recently_dead += 1;
				break;
			case HEAPTUPLE_LIVE:
				break;
			case HEAPTUPLE_INSERT_IN_PROGRESS:
				/* only our own transaction can insert under our lock */
				if (!TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tuple->t_data)))
					elog(WARNING, "concurrent insert in progress within table \"%s\"",
						 RelationGetRelationName(OldTable));
				break;
			case HEAPTUPLE_DELETE_IN_PROGRESS:
				if (!TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetUpdateXid(tuple->t_data)))
					elog(WARNING, "concurrent delete in progress within table \"%s\"",
						 RelationGetRelationName(OldTable));
				/* count it as recently dead: someone may still see it */
				*tups_recently_dead += 1;
				break;
			default:
				elog(ERROR, "unexpected HeapTupleSatisfiesVacuum result");
		}

		scanned++;
		pgstat_progress_update_param(PROGRESS_CLUSTER_HEAP_TUPLES_SCANNED,
									 scanned);
		if (!keep)
		{
			*tups_vacuumed += 1;
			continue;
		}
		*num_tuples += 1;

		fits = rdb_rewrite_row_fits(w.stripes, tuple, status, OldestXmin);
		if (tuplesort != NULL && fits)
		{
			/* marked, to be told from the others once sorted */
			HeapTuple	copy = heap_copytuple(tuple);

			rdb_rewrite_settle(copy);
			tuplesort_putheaptuple(tuplesort, copy);
			heap_freetuple(copy);
		}
		else if (tuplesort != NULL)
			tuplesort_putheaptuple(tuplesort, tuple);
		else
			cluster_write(&w, tuple, fits);
	}

	if (iscan)
		index_endscan(iscan);
	if (tscan)
		table_endscan(tscan);
	ExecDropSingleTupleTableSlot(slot);

	if (tuplesort != NULL)
	{
		HeapTuple	tuple;

		pgstat_progress_update_param(PROGRESS_CLUSTER_PHASE,
									 PROGRESS_CLUSTER_PHASE_SORT_TUPLES);
		tuplesort_performsort(tuplesort);
		pgstat_progress_update_param(PROGRESS_CLUSTER_PHASE,
									 PROGRESS_CLUSTER_PHASE_WRITE_NEW_HEAP);
		while ((tuple = tuplesort_getheaptuple(tuplesort, true)) != NULL)
		{
			CHECK_FOR_INTERRUPTS();
			cluster_write(&w, tuple, rdb_rewrite_row_settled(tuple));
		}
		tuplesort_end(tuplesort);
	}
	cluster_flush(&w);
	(void) rdb_rewrite_end(w.stripes, cluster_write_l0, &w);
	cluster_flush(&w);
	pgstat_progress_update_param(PROGRESS_CLUSTER_HEAP_TUPLES_WRITTEN,
								 w.written);

	FreeBulkInsertState(w.bistate);
	MemoryContextDelete(w.cxt);
}

/* ------------------------------------------------------------------------
 * TOAST and size estimates
 * ------------------------------------------------------------------------
 */

/*
 * rdb_am_relation_needs_toast_table
 *		Same rule as heap: a TOAST table unless no row can ever exceed
 *		TOAST_TUPLE_THRESHOLD.
 */
bool
rdb_am_relation_needs_toast_table(Relation rel)
{
	TupleDesc	tupdesc = rel->rd_att;
	int32		data_length = 0;
	bool		maxlength_unknown = false;
	bool		has_toastable_attrs = false;
	int32		tuple_length;
	int			i;

	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (att->attisdropped)
			continue;
		data_length = att_align_nominal(data_length, att->attalign);
		if (att->attlen > 0)
			data_length += att->attlen;
		else
		{
			int32		maxlen = type_maximum_size(att->atttypid,
												   att->atttypmod);

			if (maxlen < 0)
				maxlength_unknown = true;
			else
				data_length += maxlen;
			if (att->attstorage != TYPSTORAGE_PLAIN)
				has_toastable_attrs = true;
		}
	}
	if (!has_toastable_attrs)
		return false;
	if (maxlength_unknown)
		return true;
	tuple_length = MAXALIGN(SizeofHeapTupleHeader + BITMAPLEN(tupdesc->natts)) +
		MAXALIGN(data_length);
	return tuple_length > TOAST_TUPLE_THRESHOLD;
}

/* TOAST values of a rustydb table live in an ordinary heap TOAST table */
Oid
rdb_am_relation_toast_am(Relation rel)
{
	return HEAP_TABLE_AM_OID;
}

void
rdb_am_relation_estimate_size(Relation rel, int32 *attr_widths,
							  BlockNumber *pages, double *tuples,
							  double *allvisfrac)
{
	table_block_relation_estimate_size(rel, attr_widths, pages, tuples,
									   allvisfrac,
									   RDB_OVERHEAD_BYTES_PER_TUPLE,
									   RDB_USABLE_BYTES_PER_PAGE);
}
