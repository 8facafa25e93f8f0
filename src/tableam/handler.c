/*-------------------------------------------------------------------------
 *
 * handler.c
 *	  The rustydb TableAmRoutine: a thin adapter from PostgreSQL's table AM
 *	  interface to rustydb's subsystems.
 *
 * Callbacks live with the code that does the work (scan.c, fetch.c,
 * modify.c, ddl.c, vacuum.c); this file only wires them up, the way
 * heapam_handler.c's vtable does.  Slots are BufferHeapTupleTableSlots:
 * L0 rows are heap-format tuples returned straight from pinned buffers.
 *
 * IDENTIFICATION
 *	  src/tableam/handler.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heaptoast.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "fmgr.h"

#include "rustydb/rustydb.h"

static const TupleTableSlotOps *
rdb_am_slot_callbacks(Relation rel)
{
	return &TTSOpsBufferHeapTuple;
}

static const TableAmRoutine rdb_methods = {
	.type = T_TableAmRoutine,

	.slot_callbacks = rdb_am_slot_callbacks,

	.scan_begin = rdb_am_scan_begin,
	.scan_end = rdb_am_scan_end,
	.scan_rescan = rdb_am_scan_rescan,
	.scan_getnextslot = rdb_am_scan_getnextslot,

	.scan_set_tidrange = rdb_am_scan_set_tidrange,
	.scan_getnextslot_tidrange = rdb_am_scan_getnextslot_tidrange,

	.parallelscan_estimate = rdb_am_parallelscan_estimate,
	.parallelscan_initialize = rdb_am_parallelscan_initialize,
	.parallelscan_reinitialize = table_block_parallelscan_reinitialize,

	.index_fetch_begin = rdb_am_index_fetch_begin,
	.index_fetch_reset = rdb_am_index_fetch_reset,
	.index_fetch_end = rdb_am_index_fetch_end,
	.index_fetch_tuple = rdb_am_index_fetch_tuple,

	.tuple_insert = rdb_am_tuple_insert,
	.tuple_insert_speculative = rdb_am_tuple_insert_speculative,
	.tuple_complete_speculative = rdb_am_tuple_complete_speculative,
	.multi_insert = rdb_am_multi_insert,
	.tuple_delete = rdb_am_tuple_delete,
	.tuple_update = rdb_am_tuple_update,
	.tuple_lock = rdb_am_tuple_lock,

	.tuple_fetch_row_version = rdb_am_tuple_fetch_row_version,
	.tuple_get_latest_tid = rdb_am_tuple_get_latest_tid,
	.tuple_tid_valid = rdb_am_tuple_tid_valid,
	.tuple_satisfies_snapshot = rdb_am_tuple_satisfies_snapshot,
	.index_delete_tuples = rdb_am_index_delete_tuples,

	.relation_set_new_filenode = rdb_am_relation_set_new_filenode,
	.relation_nontransactional_truncate = rdb_am_relation_nontransactional_truncate,
	.relation_copy_data = rdb_am_relation_copy_data,
	.relation_copy_for_cluster = rdb_am_relation_copy_for_cluster,
	.relation_vacuum = rdb_am_relation_vacuum,
	.scan_analyze_next_block = rdb_am_scan_analyze_next_block,
	.scan_analyze_next_tuple = rdb_am_scan_analyze_next_tuple,
	.index_build_range_scan = rdb_am_index_build_range_scan,
	.index_validate_scan = rdb_am_index_validate_scan,

	.relation_size = table_block_relation_size,
	.relation_needs_toast_table = rdb_am_relation_needs_toast_table,
	.relation_toast_am = rdb_am_relation_toast_am,
	.relation_fetch_toast_slice = heap_fetch_toast_slice,

	.relation_estimate_size = rdb_am_relation_estimate_size,

	.scan_bitmap_next_block = rdb_am_scan_bitmap_next_block,
	.scan_bitmap_next_tuple = rdb_am_scan_bitmap_next_tuple,
	.scan_sample_next_block = rdb_am_scan_sample_next_block,
	.scan_sample_next_tuple = rdb_am_scan_sample_next_tuple
};

const TableAmRoutine *
rdb_tableam_routine(void)
{
	return &rdb_methods;
}

PG_FUNCTION_INFO_V1(rustydb_am_handler);

/*
 * rustydb_am_handler
 *		The handler function named by CREATE ACCESS METHOD.
 *
 * Refuses to hand out the routine unless the library was preloaded: without
 * our WAL resource manager, nothing we write could be replayed.
 */
Datum
rustydb_am_handler(PG_FUNCTION_ARGS)
{
	rdb_check_preloaded();
	PG_RETURN_POINTER(&rdb_methods);
}
