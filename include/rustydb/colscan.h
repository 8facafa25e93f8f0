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

/* scan/colscan.c */
extern void rdb_colscan_init(void);

/* prefetch_guard.c */
extern void rdb_prefetch_guard_init(void);

#endif							/* RUSTYDB_COLSCAN_H */
