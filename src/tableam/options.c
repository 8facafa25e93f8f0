/*-------------------------------------------------------------------------
 *
 * options.c
 *	  Table options of rustydb tables: checks on DDL (ProcessUtility hook).
 *
 * PostgreSQL 15 lets a table access method define no reloptions of its own:
 * a rustydb table accepts heap's options, validated by heap_reloptions.
 * This hook checks, after CREATE TABLE, CREATE TABLE AS and ALTER TABLE
 * have run, that the resulting rustydb table carries no option the engine
 * cannot honour; an error there aborts the statement's transaction, so
 * nothing is half-applied.
 *
 * Refused today: user_catalog_table = true.  Logical decoding reads user
 * catalog tables with historic snapshots and needs combo-CID mappings
 * (XLOG_HEAP2_NEW_CID) for every change to them, which the rustydb rmgr
 * does not log.  The DML paths refuse such a table too (decode.c), for
 * tables that got the option some other way.
 *
 * Locking: the relation is already locked by the DDL that created or
 * altered it; we open it with NoLock.
 *
 * IDENTIFICATION
 *	  src/tableam/options.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/rel.h"

#include "rustydb/rustydb.h"

static ProcessUtility_hook_type prev_utility_hook = NULL;

/*
 * rdb_refuse_user_catalog_table
 *		Raise the error for a rustydb table marked user_catalog_table.
 */
void
rdb_refuse_user_catalog_table(Relation rel)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("rustydb table \"%s\" cannot be a user catalog table",
					RelationGetRelationName(rel)),
			 errdetail("Logical decoding reads user catalog tables with historic snapshots, which rustydb tables do not support."),
			 errhint("Use the heap access method for this table, or leave user_catalog_table off.")));
}

/* check the options of a rustydb relation the statement made or changed */
static void
options_check_relation(RangeVar *rv)
{
	Oid			relid;
	Relation	rel;

	if (rv == NULL)
		return;
	relid = RangeVarGetRelid(rv, NoLock, true);
	if (!OidIsValid(relid))
		return;
	rel = relation_open(relid, NoLock);
	if (rel->rd_tableam == rdb_tableam_routine() &&
		RelationIsUsedAsCatalogTable(rel))
		rdb_refuse_user_catalog_table(rel);
	relation_close(rel, NoLock);
}

static void
rdb_process_utility(PlannedStmt *pstmt, const char *queryString,
					bool readOnlyTree, ProcessUtilityContext context,
					ParamListInfo params, QueryEnvironment *queryEnv,
					DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;

	if (prev_utility_hook)
		prev_utility_hook(pstmt, queryString, readOnlyTree, context, params,
						  queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);

	switch (nodeTag(parsetree))
	{
		case T_CreateStmt:
			options_check_relation(((CreateStmt *) parsetree)->relation);
			break;
		case T_CreateTableAsStmt:
			{
				CreateTableAsStmt *stmt = (CreateTableAsStmt *) parsetree;

				if (stmt->into != NULL)
					options_check_relation(stmt->into->rel);
				break;
			}
		case T_AlterTableStmt:
			options_check_relation(((AlterTableStmt *) parsetree)->relation);
			break;
		default:
			break;
	}
}

/*
 * rdb_options_init
 *		Install the ProcessUtility hook; called from _PG_init.
 */
void
rdb_options_init(void)
{
	prev_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = rdb_process_utility;
}
