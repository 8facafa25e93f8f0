/*-------------------------------------------------------------------------
 *
 * options.h
 *	  Per-table options of rustydb tables (WITH (...) / ALTER TABLE SET).
 *
 * PostgreSQL 15 gives a table access method no reloptions of its own, so
 * the DDL hook (src/tableam/options.c) takes ours out of the statement,
 * validates them and stores them in pg_class.reloptions next to heap's,
 * where heap ignores them (the relcache parses reloptions with
 * validate = false).  rdb_table_options() reads them back, with the
 * rustydb.* GUCs as defaults for the ones a table does not set.
 *
 * IDENTIFICATION
 *	  include/rustydb/options.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RUSTYDB_OPTIONS_H
#define RUSTYDB_OPTIONS_H

#include "nodes/pg_list.h"
#include "utils/relcache.h"

#include "rustydb/compress.h"

/* our option names, in the order they are stored and shown */
typedef enum RdbTableOption
{
	RDB_OPT_FLUSH_ROWS = 0,
	RDB_OPT_COMPRESSION,
	RDB_OPT_COMPRESSION_LEVEL,
	RDB_OPT_CHUNK_GROUP_ROWS,
	RDB_OPT_STRIPE_ROWS,
	RDB_OPT_LEVEL_RATIO,
	RDB_OPT_MAX_STRIPE_ROWS,
	RDB_OPT_SORT_KEY,
	RDB_OPT_FLUSH_RUNNING,
	RDB_OPT_WRITER_FLUSH_ROWS
} RdbTableOption;

#define RDB_NUM_TABLE_OPTIONS	10

/*
 * sort_key: up to RDB_MAX_SORT_KEYS column names, stored as
 * text ("a,\"B c\"", each name quoted as needed); no GUC default.  Flush
 * and compaction store each stripe's rows sorted by it (stripe.h, "Row
 * order").  Names are resolved when the table's options are read; DROP
 * COLUMN takes a column out of the key and RENAME COLUMN renames it in
 * the key (options.c), so the key never names a column that is not there.
 */
#define RDB_MAX_SORT_KEYS		8
#define RDB_SORT_KEY_TEXT_LEN	(RDB_MAX_SORT_KEYS * (2 * NAMEDATALEN + 3))

/* a table's effective options */
typedef struct RdbTableOptions
{
	int			flush_rows;		/* 0 = never flush in the background */
	RdbCodec	compression;
	int			compression_level;	/* zstd only */
	int			chunk_group_rows;
	int			stripe_rows;
	int			level_ratio;	/* compaction: stripes that fill a level */
	int			max_stripe_rows;	/* compaction: largest stripe it writes */
	int			nsortkeys;		/* sort_key: 0 when not set */
	AttrNumber	sortkeys[RDB_MAX_SORT_KEYS];	/* 1-based */
	char		sort_key[RDB_SORT_KEY_TEXT_LEN];	/* as stored, "" if none */
	bool		flush_running;	/* flush moves rows of running transactions */
	int			writer_flush_rows;	/* a transaction moves its own rows
									 * each time it wrote this many; 0 =
									 * never */
	bits32		from_table;		/* bit (1 << RdbTableOption): set on the
								 * table rather than taken from the GUC */
} RdbTableOptions;

/* reloptions.c */
extern const char *rdb_table_option_name(RdbTableOption opt);
extern int	rdb_table_option_lookup(const char *name);
extern char *rdb_table_option_check(RdbTableOption opt, const char *value);
extern void rdb_table_options_split(Datum reloptions,
									char *ours[RDB_NUM_TABLE_OPTIONS],
									List **others);
extern void rdb_table_options(Relation rel, RdbTableOptions *opts);
extern int	rdb_table_flush_rows(Relation rel);
extern bool rdb_table_flush_running(Relation rel);
extern int	rdb_table_writer_flush_rows(Relation rel);
extern int	rdb_table_flush_rows_by_oid(Oid relid);
extern char *rdb_table_option_text(const RdbTableOptions *opts,
								   RdbTableOption opt);
extern List *rdb_sort_key_names(const char *value);
extern char *rdb_sort_key_text(List *names);

#endif							/* RUSTYDB_OPTIONS_H */
