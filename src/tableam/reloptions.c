/*-------------------------------------------------------------------------
 *
 * reloptions.c
 *	  The per-table options of rustydb tables: names, valid values, and
 *	  reading a table's effective options.
 *
 * Our options live in pg_class.reloptions as "name=value" text entries next
 * to heap's (the DDL hook in options.c puts them there, validated and in
 * canonical form: integers as plain decimal, codecs in lower case).  Heap
 * never sees them as options of its own: the relcache parses reloptions
 * with validate = false, which skips names heap does not know.
 *
 * A table's effective option is the table's value when set, else the
 * session's GUC (rustydb.flush_rows, rustydb.compression, ...), so the
 * defaults follow SET like every other PGC_USERSET default.
 *
 * Memory: the parsed table values are cached in rel->rd_amcache (one
 * palloc chunk in CacheMemoryContext), which the relcache frees on every
 * invalidation of the relation, so ALTER TABLE SET / RESET (whose pg_class
 * update invalidates it) is seen at the next open.  Only the table's own
 * values are cached, never the GUC defaults.
 *
 * Locking: callers hold a lock on the relation; we read pg_class through the
 * syscache.
 *
 * IDENTIFICATION
 *	  src/tableam/reloptions.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

#include "rustydb/rustydb.h"
#include "rustydb/compress.h"
#include "rustydb/lsm.h"
#include "rustydb/options.h"

/* name and valid range of each option (codec: an enum, bounds unused) */
typedef struct RdbOptionDef
{
	const char *name;
	bool		is_codec;
	int			min;
	int			max;
	bool		is_columns;		/* a list of column names (sort_key) */
	bool		is_bool;		/* on / off (stored as "on" or "off") */
} RdbOptionDef;

static const RdbOptionDef option_defs[RDB_NUM_TABLE_OPTIONS] = {
	[RDB_OPT_FLUSH_ROWS] = {"flush_rows", false, 0, INT_MAX},
	[RDB_OPT_COMPRESSION] = {"compression", true, 0, 0},
	[RDB_OPT_COMPRESSION_LEVEL] = {"compression_level", false, 1, 19},
	[RDB_OPT_CHUNK_GROUP_ROWS] = {"chunk_group_rows", false, 1000, 65536},
	[RDB_OPT_STRIPE_ROWS] = {"stripe_rows", false, 1000, 10000000},
	[RDB_OPT_LEVEL_RATIO] = {"level_ratio", false, 2, 64},
	[RDB_OPT_MAX_STRIPE_ROWS] = {"max_stripe_rows", false, 1000, 10000000},
	[RDB_OPT_SORT_KEY] = {"sort_key", false, 0, 0, true},
	[RDB_OPT_FLUSH_RUNNING] = {"flush_running", false, 0, 1, false, true},
	[RDB_OPT_WRITER_FLUSH_ROWS] = {"writer_flush_rows", false, 0, INT_MAX},
};

/* what rd_amcache holds: the values the table sets */
typedef struct RdbTableOptionsCache
{
	bits32		set;			/* bit (1 << RdbTableOption) */
	int			values[RDB_NUM_TABLE_OPTIONS];
	int			nsortkeys;		/* sort_key's columns that resolve */
	AttrNumber	sortkeys[RDB_MAX_SORT_KEYS];
	char		sort_key[RDB_SORT_KEY_TEXT_LEN];
} RdbTableOptionsCache;

/*
 * rdb_table_option_name
 *		The SQL name of an option.
 */
const char *
rdb_table_option_name(RdbTableOption opt)
{
	Assert(opt >= 0 && opt < RDB_NUM_TABLE_OPTIONS);
	return option_defs[opt].name;
}

/*
 * rdb_table_option_lookup
 *		The RdbTableOption called name, or -1 if it is not one of ours.
 *		Names compare exactly: the parser has already down-cased unquoted
 *		names, as for heap's options.
 */
int
rdb_table_option_lookup(const char *name)
{
	int			i;

	for (i = 0; i < RDB_NUM_TABLE_OPTIONS; i++)
		if (strcmp(name, option_defs[i].name) == 0)
			return i;
	return -1;
}

/* parse a decimal integer with optional surrounding blanks; false if not */
static bool
option_parse_int(const char *value, int64 *result)
{
	const char *p = value;
	char	   *end;
	long long	v;

	while (*p == ' ' || *p == '\t')
		p++;
	errno = 0;
	v = strtoll(p, &end, 10);
	if (end == p || errno == ERANGE)
		return false;
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end != '\0')
		return false;
	*result = (int64) v;
	return true;
}

/*
 * rdb_sort_key_names
 *		The column names of a sort_key value (a comma-separated list of
 *		identifiers, quoted or not, as in search_path) as a List of palloc'd
 *		strings; ERRCODE_INVALID_PARAMETER_VALUE unless there are 1 to
 *		RDB_MAX_SORT_KEYS distinct names.
 */
List *
rdb_sort_key_names(const char *value)
{
	char	   *copy = pstrdup(value);
	List	   *names = NIL;
	List	   *result = NIL;
	ListCell   *lc;

	if (!SplitIdentifierString(copy, ',', &names) || names == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for rustydb option \"sort_key\": \"%s\"", value),
				 errdetail("Valid values are lists of 1 to %d column names separated by commas.",
						   RDB_MAX_SORT_KEYS)));
	if (list_length(names) > RDB_MAX_SORT_KEYS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rustydb option \"sort_key\" names %d columns", list_length(names)),
				 errdetail("A sort key has at most %d columns.", RDB_MAX_SORT_KEYS)));
	foreach(lc, names)
	{
		char	   *name = (char *) lfirst(lc);
		ListCell   *lc2;

		foreach(lc2, result)
			if (strcmp((char *) lfirst(lc2), name) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("rustydb option \"sort_key\" names column \"%s\" twice", name)));
		result = lappend(result, pstrdup(name));
	}
	list_free(names);
	pfree(copy);
	return result;
}

/* the canonical text of a sort key's names: "a,\"B c\"" (palloc'd) */
char *
rdb_sort_key_text(List *names)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, names)
	{
		if (buf.len > 0)
			appendStringInfoChar(&buf, ',');
		appendStringInfoString(&buf, quote_identifier((char *) lfirst(lc)));
	}
	return buf.data;
}

/*
 * rdb_table_option_check
 *		Validate value (as written in WITH (...) or stored) for opt; return
 *		its canonical text, palloc'd in the current context.  An invalid
 *		value raises ERRCODE_INVALID_PARAMETER_VALUE naming the option and
 *		what it accepts.
 */
char *
rdb_table_option_check(RdbTableOption opt, const char *value)
{
	const RdbOptionDef *def = &option_defs[opt];
	int64		v;

	if (def->is_columns)
		return rdb_sort_key_text(rdb_sort_key_names(value));

	if (def->is_bool)
	{
		bool		b;

		if (!parse_bool(value, &b))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid value for boolean rustydb option \"%s\": \"%s\"",
							def->name, value),
					 errdetail("Valid values are \"on\" and \"off\" (or true / false, yes / no, 1 / 0).")));
		return pstrdup(b ? "on" : "off");
	}

	if (def->is_codec)
	{
		int			c;

		for (c = 0; c < RDB_NUM_CODECS; c++)
			if (pg_strcasecmp(value, rdb_codec_name((RdbCodec) c)) == 0)
				return pstrdup(rdb_codec_name((RdbCodec) c));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for rustydb option \"%s\": \"%s\"",
						def->name, value),
				 errdetail("Valid values are \"none\", \"lz4\" and \"zstd\".")));
	}

	if (!option_parse_int(value, &v))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for integer rustydb option \"%s\": \"%s\"",
						def->name, value),
				 errdetail("Valid values are integers between \"%d\" and \"%d\".",
						   def->min, def->max)));
	if (v < def->min || v > def->max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("value %s out of bounds for rustydb option \"%s\"",
						value, def->name),
				 errdetail("Valid values are between \"%d\" and \"%d\".",
						   def->min, def->max),
				 opt == RDB_OPT_FLUSH_ROWS ?
				 errhint("0 means never flush in the background.") : 0));
	return psprintf("%d", (int) v);
}

/*
 * rdb_table_options_split
 *		Split a pg_class.reloptions value (text[] of "name=value", or 0 for
 *		NULL) into our options (ours[opt] = palloc'd value, or NULL when not
 *		set) and everything else (*others: a List of the other entries as
 *		text Datums, in their order), if others is not NULL.
 */
void
rdb_table_options_split(Datum reloptions, char *ours[RDB_NUM_TABLE_OPTIONS],
						List **others)
{
	Datum	   *elems;
	int			nelems;
	int			i;

	memset(ours, 0, sizeof(char *) * RDB_NUM_TABLE_OPTIONS);
	if (others)
		*others = NIL;
	if (reloptions == (Datum) 0)
		return;

	deconstruct_array(DatumGetArrayTypeP(reloptions), TEXTOID, -1, false,
					  TYPALIGN_INT, &elems, NULL, &nelems);
	for (i = 0; i < nelems; i++)
	{
		char	   *s = TextDatumGetCString(elems[i]);
		char	   *eq = strchr(s, '=');
		int			opt = -1;

		if (eq != NULL)
		{
			*eq = '\0';
			opt = rdb_table_option_lookup(s);
		}
		if (opt >= 0)
			ours[opt] = pstrdup(eq + 1);
		else if (others)
			*others = lappend(*others, DatumGetPointer(elems[i]));
		pfree(s);
	}
}

/* parse the options rel sets into *cache (no defaults) */
static void
options_read_table(Relation rel, RdbTableOptionsCache *cache)
{
	HeapTuple	tuple;
	Datum		datum;
	bool		isnull;
	char	   *ours[RDB_NUM_TABLE_OPTIONS];
	int			i;

	memset(cache, 0, sizeof(*cache));
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(RelationGetRelid(rel)));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", RelationGetRelid(rel));
	datum = SysCacheGetAttr(RELOID, tuple, Anum_pg_class_reloptions, &isnull);
	rdb_table_options_split(isnull ? (Datum) 0 : datum, ours, NULL);
	ReleaseSysCache(tuple);

	for (i = 0; i < RDB_NUM_TABLE_OPTIONS; i++)
	{
		char	   *canon;

		if (ours[i] == NULL)
			continue;
		/* stored values were checked on the way in; check again anyway */
		canon = rdb_table_option_check((RdbTableOption) i, ours[i]);
		if (option_defs[i].is_columns)
		{
			ListCell   *lc;

			/*
			 * The key's columns as they are now: up to the first name that
			 * does not resolve (the DDL hook keeps the key in step with
			 * DROP and RENAME COLUMN, so that only happens to a key stored
			 * some other way).
			 */
			strlcpy(cache->sort_key, canon, sizeof(cache->sort_key));
			foreach(lc, rdb_sort_key_names(canon))
			{
				AttrNumber	attno = get_attnum(RelationGetRelid(rel),
											   (char *) lfirst(lc));

				if (attno <= 0 || cache->nsortkeys >= RDB_MAX_SORT_KEYS)
					break;
				cache->sortkeys[cache->nsortkeys++] = attno;
			}
		}
		else if (option_defs[i].is_codec)
			cache->values[i] = (int) rdb_codec_from_name(canon);
		else if (option_defs[i].is_bool)
			cache->values[i] = strcmp(canon, "on") == 0 ? 1 : 0;
		else
			cache->values[i] = pg_strtoint32(canon);
		cache->set |= (1 << i);
		pfree(canon);
		pfree(ours[i]);
	}
}

/*
 * rdb_table_options
 *		Fill *opts with the effective options of rel (a rustydb table the
 *		caller holds a lock on): the table's values, the rustydb.* GUCs for
 *		the others.  The table's values are cached in rel->rd_amcache.
 */
static RdbTableOptionsCache *
options_cache(Relation rel)
{
	RdbTableOptionsCache *cache = (RdbTableOptionsCache *) rel->rd_amcache;

	if (cache == NULL)
	{
		RdbTableOptionsCache parsed;

		/* parse first: an error must not leave a half-built cache behind */
		options_read_table(rel, &parsed);
		cache = MemoryContextAlloc(CacheMemoryContext, sizeof(parsed));
		*cache = parsed;
		rel->rd_amcache = cache;
	}
	return cache;
}

void
rdb_table_options(Relation rel, RdbTableOptions *opts)
{
	RdbTableOptionsCache *cache = options_cache(rel);
	int			v[RDB_NUM_TABLE_OPTIONS];
	int			i;

	v[RDB_OPT_FLUSH_ROWS] = rdb_flush_rows;
	v[RDB_OPT_COMPRESSION] = rdb_flush_compression;
	v[RDB_OPT_COMPRESSION_LEVEL] = rdb_flush_compression_level;
	v[RDB_OPT_CHUNK_GROUP_ROWS] = rdb_flush_chunk_group_rows;
	v[RDB_OPT_STRIPE_ROWS] = rdb_flush_stripe_rows;
	v[RDB_OPT_LEVEL_RATIO] = rdb_compaction_level_ratio;
	v[RDB_OPT_MAX_STRIPE_ROWS] = rdb_compaction_max_stripe_rows;
	v[RDB_OPT_SORT_KEY] = 0;	/* not an integer: see below */
	v[RDB_OPT_FLUSH_RUNNING] = rdb_flush_running ? 1 : 0;
	v[RDB_OPT_WRITER_FLUSH_ROWS] = rdb_writer_flush_rows;
	for (i = 0; i < RDB_NUM_TABLE_OPTIONS; i++)
		if (cache->set & (1 << i))
			v[i] = cache->values[i];

	opts->flush_rows = v[RDB_OPT_FLUSH_ROWS];
	opts->compression = (RdbCodec) v[RDB_OPT_COMPRESSION];
	opts->compression_level = v[RDB_OPT_COMPRESSION_LEVEL];
	opts->chunk_group_rows = v[RDB_OPT_CHUNK_GROUP_ROWS];
	opts->stripe_rows = v[RDB_OPT_STRIPE_ROWS];
	opts->level_ratio = v[RDB_OPT_LEVEL_RATIO];
	opts->max_stripe_rows = v[RDB_OPT_MAX_STRIPE_ROWS];
	opts->flush_running = v[RDB_OPT_FLUSH_RUNNING] != 0;
	opts->writer_flush_rows = v[RDB_OPT_WRITER_FLUSH_ROWS];
	opts->nsortkeys = cache->nsortkeys;
	memcpy(opts->sortkeys, cache->sortkeys, sizeof(opts->sortkeys));
	strlcpy(opts->sort_key, cache->sort_key, sizeof(opts->sort_key));
	opts->from_table = cache->set;
}

/*
 * The effective value of one option of rel alone (the table's, else the
 * GUC default dflt), for the insert path (flush_demand.c): no copy of the
 * other options.
 */
static int
option_value(Relation rel, RdbTableOption opt, int dflt)
{
	RdbTableOptionsCache *cache = options_cache(rel);

	if (cache->set & (1 << opt))
		return cache->values[opt];
	return dflt;
}

/* rdb_table_flush_rows: the effective flush_rows of rel */
int
rdb_table_flush_rows(Relation rel)
{
	return option_value(rel, RDB_OPT_FLUSH_ROWS, rdb_flush_rows);
}

/* rdb_table_flush_running: the effective flush_running of rel */
bool
rdb_table_flush_running(Relation rel)
{
	return option_value(rel, RDB_OPT_FLUSH_RUNNING, rdb_flush_running ? 1 : 0) != 0;
}

/* rdb_table_writer_flush_rows: the effective writer_flush_rows of rel */
int
rdb_table_writer_flush_rows(Relation rel)
{
	return option_value(rel, RDB_OPT_WRITER_FLUSH_ROWS, rdb_writer_flush_rows);
}

/*
 * rdb_table_option_text
 *		An effective option's value as text (palloc'd).
 */
char *
rdb_table_option_text(const RdbTableOptions *opts, RdbTableOption opt)
{
	switch (opt)
	{
		case RDB_OPT_FLUSH_ROWS:
			return psprintf("%d", opts->flush_rows);
		case RDB_OPT_COMPRESSION:
			return pstrdup(rdb_codec_name(opts->compression));
		case RDB_OPT_COMPRESSION_LEVEL:
			return psprintf("%d", opts->compression_level);
		case RDB_OPT_CHUNK_GROUP_ROWS:
			return psprintf("%d", opts->chunk_group_rows);
		case RDB_OPT_STRIPE_ROWS:
			return psprintf("%d", opts->stripe_rows);
		case RDB_OPT_LEVEL_RATIO:
			return psprintf("%d", opts->level_ratio);
		case RDB_OPT_MAX_STRIPE_ROWS:
			return psprintf("%d", opts->max_stripe_rows);
		case RDB_OPT_SORT_KEY:
			return pstrdup(opts->sort_key);
		case RDB_OPT_FLUSH_RUNNING:
			return pstrdup(opts->flush_running ? "on" : "off");
		case RDB_OPT_WRITER_FLUSH_ROWS:
			return psprintf("%d", opts->writer_flush_rows);
	}
	elog(ERROR, "unexpected rustydb table option %d", (int) opt);
	return NULL;				/* keep compiler quiet */
}

/*
 * rdb_table_flush_rows_by_oid
 *		The effective flush_rows of the table relid, read from its pg_class
 *		row without locking the table (the background worker asks before
 *		it takes any lock: a table that is not flushed in the background
 *		is left alone).  0 if the table is gone.
 */
int
rdb_table_flush_rows_by_oid(Oid relid)
{
	HeapTuple	tuple;
	Datum		datum;
	bool		isnull;
	char	   *ours[RDB_NUM_TABLE_OPTIONS];
	int			result = rdb_flush_rows;
	int			i;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		return 0;
	datum = SysCacheGetAttr(RELOID, tuple, Anum_pg_class_reloptions, &isnull);
	rdb_table_options_split(isnull ? (Datum) 0 : datum, ours, NULL);
	ReleaseSysCache(tuple);
	for (i = 0; i < RDB_NUM_TABLE_OPTIONS; i++)
	{
		if (ours[i] == NULL)
			continue;
		if (i == RDB_OPT_FLUSH_ROWS)
		{
			char	   *canon = rdb_table_option_check(RDB_OPT_FLUSH_ROWS, ours[i]);

			result = pg_strtoint32(canon);
			pfree(canon);
		}
		pfree(ours[i]);
	}
	return result;
}
