/*-------------------------------------------------------------------------
 *
 * table_options.c
 *	  rustydb.table_options(regclass): a table's effective options.
 *
 * One row per option (flush_rows, compression, compression_level,
 * chunk_group_rows, stripe_rows, level_ratio, max_stripe_rows, sort_key):
 * its value as flush would use it now, and
 * whether the table sets it ('table') or the session's rustydb.* GUC
 * supplies it ('default').  Needs SELECT on the table, like
 * rustydb.stripes().
 *
 * Locking: AccessShareLock on the table.  Memory: the tuplestore lives in
 * the per-query context (InitMaterializedSRF).
 *
 * IDENTIFICATION
 *	  src/api/table_options.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/table.h"
#include "catalog/pg_class.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "rustydb/rustydb.h"
#include "rustydb/options.h"

PG_FUNCTION_INFO_V1(rustydb_table_options);

/*
 * rustydb.table_options(rel regclass) RETURNS TABLE(option text,
 *		value text, source text)
 */
Datum
rustydb_table_options(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	rel;
	RdbTableOptions opts;
	int			i;

	rdb_check_preloaded();
	rdb_require_select(relid);

	rel = try_relation_open(relid, AccessShareLock);
	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	if (rel->rd_rel->relkind != RELKIND_RELATION ||
		rel->rd_tableam != rdb_tableam_routine())
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a rustydb table",
						RelationGetRelationName(rel))));

	rdb_table_options(rel, &opts);
	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < RDB_NUM_TABLE_OPTIONS; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(rdb_table_option_name((RdbTableOption) i));
		values[1] = CStringGetTextDatum(rdb_table_option_text(&opts, (RdbTableOption) i));
		/* sort_key has no default: NULL when the table sets none */
		if (i == RDB_OPT_SORT_KEY && opts.sort_key[0] == '\0')
			nulls[1] = true;
		values[2] = CStringGetTextDatum((opts.from_table & (1 << i)) ? "table" : "default");
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	relation_close(rel, AccessShareLock);
	return (Datum) 0;
}
