/*-------------------------------------------------------------------------
 *
 * rustydb.h
 *	  Shared declarations of the rustydb table access method.
 *
 * rustydb stores a table like an LSM tree.  New rows land in L0, a
 * row-format memtable of slotted pages that live in the relation's main fork
 * next to a metapage (block 0).  This header carries what every subsystem
 * needs: the module's GUCs, the preload check and the callbacks that the
 * table AM handler (src/tableam/handler.c) wires into TableAmRoutine.
 *
 * IDENTIFICATION
 *	  include/rustydb/rustydb.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RUSTYDB_H
#define RUSTYDB_H

#include "access/tableam.h"
#include "access/xact.h"
#include "access/relscan.h"
#include "nodes/execnodes.h"
#include "utils/relcache.h"

#define RDB_EXTENSION_NAME	"rustydb_am"

/* rustydb.c */
extern bool rdb_preloaded;
extern void rdb_check_preloaded(void);
extern void rdb_require_select(Oid relid);
extern void rdb_require_rustydb_table(Oid relid);

/* guc.c */
extern void rdb_guc_init(void);

/* tableam/handler.c */
extern const TableAmRoutine *rdb_tableam_routine(void);

/* tableam/options.c: checks of table options on DDL */
extern void rdb_options_init(void);
extern void rdb_refuse_user_catalog_table(Relation rel) pg_attribute_noreturn();

/* tableam/scan.c: sequential, parallel, TID-range, bitmap and sample scans */
extern TableScanDesc rdb_am_scan_begin(Relation rel, Snapshot snapshot,
									   int nkeys, struct ScanKeyData *key,
									   ParallelTableScanDesc pscan,
									   uint32 flags);
extern void rdb_am_scan_end(TableScanDesc scan);
extern void rdb_am_scan_rescan(TableScanDesc scan, struct ScanKeyData *key,
							   bool set_params, bool allow_strat,
							   bool allow_sync, bool allow_pagemode);
extern bool rdb_am_scan_getnextslot(TableScanDesc scan, ScanDirection direction,
									TupleTableSlot *slot);
extern void rdb_am_scan_set_tidrange(TableScanDesc scan, ItemPointer mintid,
									 ItemPointer maxtid);
extern bool rdb_am_scan_getnextslot_tidrange(TableScanDesc scan,
											 ScanDirection direction,
											 TupleTableSlot *slot);
extern bool rdb_am_scan_bitmap_next_block(TableScanDesc scan,
										  struct TBMIterateResult *tbmres);
extern bool rdb_am_scan_bitmap_next_tuple(TableScanDesc scan,
										  struct TBMIterateResult *tbmres,
										  TupleTableSlot *slot);
extern bool rdb_am_scan_sample_next_block(TableScanDesc scan,
										  struct SampleScanState *scanstate);
extern bool rdb_am_scan_sample_next_tuple(TableScanDesc scan,
										  struct SampleScanState *scanstate,
										  TupleTableSlot *slot);
extern bool rdb_am_scan_analyze_next_block(TableScanDesc scan,
										   BlockNumber blockno,
										   BufferAccessStrategy bstrategy);
extern BlockNumber rdb_scan_nblocks(TableScanDesc scan);
extern Size rdb_am_parallelscan_estimate(Relation rel);
extern Size rdb_am_parallelscan_initialize(Relation rel,
										   ParallelTableScanDesc pscan);
/*
 * A retired generation's rows, handed to the columnar scan whole
 * (rdb_scan_next_chunk): row k is at TID (gen, offsets[k]) and is stripe
 * row rows[k] of the stripe starting at block stripe; rows ascend.  Every
 * MVCC snapshot sees them all (they are frozen, never deleted or locked).
 */
typedef struct RdbScanRun
{
	/*
	 * Set by the caller, may be NULL: asked first with the stripe rows a
	 * generation (or a series of them) spans, first .. last; true means
	 * none of them is wanted, and the scan passes over them, adding their
	 * live rows to nskipped.  Every call of rdb_scan_next_chunk resets
	 * nskipped and then reports there what it passed over, whatever it
	 * returns (a row, a run, or the end).
	 */
	bool		(*skip) (void *arg, uint32 stripe, uint32 first, uint32 last);
	void	   *skip_arg;

	uint32		gen;
	uint32		stripe;
	int			nrows;
	int64		nskipped;		/* (a whole table's rows, at most) */
	int64		ngens_skipped;	/* the generations they were in ... */
	int64		nskip_steps;	/* ... passed over in this many steps */
	int64		nskip_groups;	/* ... of which whole leaf groups (summaries) */
	OffsetNumber offsets[MaxHeapTuplesPerPage];
	uint32		rows[MaxHeapTuplesPerPage];
} RdbScanRun;

extern bool rdb_scan_next_chunk(TableScanDesc scan, HeapTuple *tuple,
								Buffer *buf, RdbScanRun *run);
extern bool rdb_scan_next_raw(TableScanDesc scan, HeapTuple *tuple,
							  Buffer *buf);
extern bool rdb_am_scan_analyze_next_tuple(TableScanDesc scan,
										   TransactionId OldestXmin,
										   double *liverows, double *deadrows,
										   TupleTableSlot *slot);

/* tableam/fetch.c: row fetches by TID and index fetches */
extern struct IndexFetchTableData *rdb_am_index_fetch_begin(Relation rel);
extern void rdb_am_index_fetch_reset(struct IndexFetchTableData *scan);
extern void rdb_am_index_fetch_end(struct IndexFetchTableData *scan);
extern bool rdb_am_index_fetch_tuple(struct IndexFetchTableData *scan,
									 ItemPointer tid, Snapshot snapshot,
									 TupleTableSlot *slot,
									 bool *call_again, bool *all_dead);
extern bool rdb_am_tuple_fetch_row_version(Relation rel, ItemPointer tid,
										   Snapshot snapshot,
										   TupleTableSlot *slot);
extern bool rdb_am_tuple_tid_valid(TableScanDesc scan, ItemPointer tid);
extern void rdb_am_tuple_get_latest_tid(TableScanDesc scan, ItemPointer tid);
extern bool rdb_am_tuple_satisfies_snapshot(Relation rel, TupleTableSlot *slot,
											Snapshot snapshot);
extern TransactionId rdb_am_index_delete_tuples(Relation rel,
												TM_IndexDeleteOp *delstate);

/* tableam/modify.c: insert, delete, update, lock */
extern void rdb_am_tuple_insert(Relation rel, TupleTableSlot *slot,
								CommandId cid, int options,
								struct BulkInsertStateData *bistate);
extern void rdb_am_tuple_insert_speculative(Relation rel, TupleTableSlot *slot,
											CommandId cid, int options,
											struct BulkInsertStateData *bistate,
											uint32 specToken);
extern void rdb_am_tuple_complete_speculative(Relation rel,
											  TupleTableSlot *slot,
											  uint32 specToken,
											  bool succeeded);
extern void rdb_am_multi_insert(Relation rel, TupleTableSlot **slots,
								int nslots, CommandId cid, int options,
								struct BulkInsertStateData *bistate);
extern TM_Result rdb_am_tuple_delete(Relation rel, ItemPointer tid,
									 CommandId cid, Snapshot snapshot,
									 Snapshot crosscheck, bool wait,
									 TM_FailureData *tmfd, bool changingPart);
extern TM_Result rdb_am_tuple_update(Relation rel, ItemPointer otid,
									 TupleTableSlot *slot, CommandId cid,
									 Snapshot snapshot, Snapshot crosscheck,
									 bool wait, TM_FailureData *tmfd,
									 LockTupleMode *lockmode,
									 bool *update_indexes);
extern TM_Result rdb_am_tuple_lock(Relation rel, ItemPointer tid,
								   Snapshot snapshot, TupleTableSlot *slot,
								   CommandId cid, LockTupleMode mode,
								   LockWaitPolicy wait_policy, uint8 flags,
								   TM_FailureData *tmfd);

/* tableam/ddl.c: storage lifecycle, index builds, sizes */
extern void rdb_am_relation_set_new_filenode(Relation rel,
											 const RelFileNode *newrnode,
											 char persistence,
											 TransactionId *freezeXid,
											 MultiXactId *minmulti);
extern void rdb_am_relation_nontransactional_truncate(Relation rel);
extern void rdb_am_relation_copy_data(Relation rel, const RelFileNode *newrnode);
extern void rdb_am_relation_copy_for_cluster(Relation OldTable,
											 Relation NewTable,
											 Relation OldIndex,
											 bool use_sort,
											 TransactionId OldestXmin,
											 TransactionId *xid_cutoff,
											 MultiXactId *multi_cutoff,
											 double *num_tuples,
											 double *tups_vacuumed,
											 double *tups_recently_dead);
extern double rdb_am_index_build_range_scan(Relation table_rel,
											Relation index_rel,
											struct IndexInfo *index_info,
											bool allow_sync, bool anyvisible,
											bool progress,
											BlockNumber start_blockno,
											BlockNumber numblocks,
											IndexBuildCallback callback,
											void *callback_state,
											TableScanDesc scan);
extern void rdb_am_index_validate_scan(Relation table_rel, Relation index_rel,
									   struct IndexInfo *index_info,
									   Snapshot snapshot,
									   struct ValidateIndexState *state);
extern bool rdb_am_relation_needs_toast_table(Relation rel);
extern Oid	rdb_am_relation_toast_am(Relation rel);
extern void rdb_am_relation_estimate_size(Relation rel, int32 *attr_widths,
										  BlockNumber *pages, double *tuples,
										  double *allvisfrac);

/* tableam/vacuum.c */
extern void rdb_am_relation_vacuum(Relation rel, struct VacuumParams *params,
								   BufferAccessStrategy bstrategy);

/*
 * Does an XactCallback's event end the transaction (commit, abort or
 * prepare, in a parallel worker too)?  For callbacks that forget state kept
 * in TopTransactionContext.
 */
static inline bool
rdb_xact_event_ends(XactEvent event)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			return true;
		default:
			return false;
	}
}

#endif							/* RUSTYDB_H */
