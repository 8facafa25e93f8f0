/*-------------------------------------------------------------------------
 *
 * colscan.h
 *	  The columnar custom scan: SELECT scans of rustydb tables that have
 *	  stripes, decoding only the columns a query needs and skipping chunk
 *	  groups whose bounds cannot match its quals.
 *
 * The planner hook (set_rel_pathlist_hook) offers a CustomPath "RustydbScan"
 * next to the ordinary seq scan of a rustydb table whose metapage says it
 * has stripes (RDB_META_HAS_STRIPES), in SELECT and INSERT ... SELECT
 * without row marks;
 * the executor walks L0 with the seq scan's own page-at-a-time MVCC code
 * (rdb_scan_next_raw) and reads flushed rows' values column by column from
 * their stripes (rdb_stripe_fetch_row_cols).  Design, restrictions and
 * costs: src/scan/README.md.
 *
 * IDENTIFICATION
 *	  include/rustydb/colscan.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RUSTYDB_COLSCAN_H
#define RUSTYDB_COLSCAN_H

/* name of the CustomScan provider, as EXPLAIN shows it */
#define RDB_COLSCAN_NAME	"RustydbScan"

/* guc.c */
extern bool rdb_enable_columnar_scan;

/*
 * A by-value integer-like Datum (integers, bool, char, oid, date, time,
 * timestamps) of len bytes (1, 2, 4 or 8) as int64, sign-extended.
 */
static inline int64
rdb_datum_int64(int len, Datum d)
{
	switch (len)
	{
		case 1:
			return (int64) DatumGetChar(d);
		case 2:
			return DatumGetInt16(d);
		case 4:
			return DatumGetInt32(d);
		default:
			return DatumGetInt64(d);
	}
}

/* scan/colscan.c */
extern void rdb_colscan_init(void);

/*
 * For nodes built on the scan (aggscan.c): recognise its paths and states,
 * and take its rows one by one without projection (rdb_colscan_next_row:
 * the scan slot, quals applied; NULL at the end).
 */
struct Path;
struct PlanState;
struct CustomScanState;
struct TupleTableSlot;
extern bool rdb_colscan_is_path(struct Path *path);
extern bool rdb_colscan_is_state(struct PlanState *ps);
extern struct TupleTableSlot *rdb_colscan_next_row(struct CustomScanState *node);

/*
 * ... or in batches (rdb_colscan_next, colscan.c says when): the rows of a
 * retired generation (or, for a stripe sorted by a sort key, of the
 * generations gathered together) that lie in one chunk group, as positions
 * into the group's decoded columns; up to RDB_MAX_CHUNK_ROWS of them.
 */
typedef struct RdbColBatch
{
	int			n;				/* rows */
	uint32		stripe;			/* the stripe's first block */
	uint32		group;			/* the chunk group */
	uint64		epoch;			/* changes whenever a chunk is (re)loaded:
								 * while it does not, by-reference values
								 * of earlier batches stay where they were */
	const uint32 *pos;			/* their positions in the chunk group */
	const Datum **values;		/* by 0-based column: the group's values */
	const bool **isnull;		/* (only the scan's columns are set) */
} RdbColBatch;

typedef enum RdbColNext
{
	RDB_COL_END,
	RDB_COL_ROW,
	RDB_COL_BATCH
} RdbColNext;

extern void rdb_colscan_want_batches(struct CustomScanState *node);
extern RdbColNext rdb_colscan_next(struct CustomScanState *node,
								   RdbColBatch *batch,
								   struct TupleTableSlot **slot);

/*
 * The aggregate pushdown (RustydbAgg): plain aggregates over a RustydbScan
 * computed in one node, without the executor's per-row Agg machinery.
 * Design: src/scan/README.md.
 */
#define RDB_AGGSCAN_NAME	"RustydbAgg"

/* guc.c */
extern bool rdb_enable_aggregate_pushdown;

/* scan/aggscan.c */
extern void rdb_aggscan_init(void);

/* prefetch_guard.c */
extern void rdb_prefetch_guard_init(void);

#endif							/* RUSTYDB_COLSCAN_H */
