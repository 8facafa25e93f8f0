/*-------------------------------------------------------------------------
 *
 * prefetch_guard.c
 *	  Bitmap heap scans of rustydb tables, without the executor's prefetch.
 *
 * PostgreSQL 15's bitmap heap scan prefetches the blocks of the TIDs in its
 * bitmap straight from storage (BitmapPrefetch -> PrefetchBuffer ->
 * mdprefetch), past the table AM.  A TID's block is a rustydb *generation*
 * (l0.h): once pages are retired and their blocks reused (gendir.h), new
 * rows have generations from 2^31 up, far past the end of the file, and
 * mdprefetch fails with "could not open file ... previous segment is only N
 * blocks".  The node takes its prefetch distance from the tablespace's
 * effective_io_concurrency when it is initialised, so ExecutorStart of a
 * plan that has a bitmap heap scan of a rustydb table runs with
 * effective_io_concurrency = 0, restored as soon as the plan is initialised
 * (GUC nest level: an error restores it too).  Parallel workers run the same
 * hook.  What this cannot cover is left to the planner (colscan.c,
 * colscan_get_relation_info): a tablespace that sets its own
 * effective_io_concurrency (it overrides the setting), and BRIN, which only
 * ever considers the blocks of the file.
 *
 * Prefetching brings rustydb nothing anyway: the bitmap's blocks are
 * generations, not the pages the rows are on.
 *
 * IDENTIFICATION
 *	  src/scan/prefetch_guard.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "executor/executor.h"
#include "nodes/plannodes.h"
#include "parser/parsetree.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "rustydb/rustydb.h"
#include "rustydb/colscan.h"

static ExecutorStart_hook_type prev_ExecutorStart = NULL;

/* is relid a table of the rustydb access method? */
static bool
guard_is_rustydb(Oid relid)
{
	static Oid	amoid = InvalidOid;
	HeapTuple	tup;
	bool		result = false;

	if (!OidIsValid(amoid))
		amoid = get_am_oid("rustydb", true);
	if (!OidIsValid(amoid))
		return false;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (HeapTupleIsValid(tup))
	{
		result = ((Form_pg_class) GETSTRUCT(tup))->relam == amoid;
		ReleaseSysCache(tup);
	}
	return result;
}

/* does the plan tree hold a bitmap heap scan of a rustydb table? */
static bool
guard_plan_walk(Plan *plan, List *rtable)
{
	ListCell   *lc;

	if (plan == NULL)
		return false;
	if (IsA(plan, BitmapHeapScan))
	{
		RangeTblEntry *rte = rt_fetch(((Scan *) plan)->scanrelid, rtable);

		if (rte->rtekind == RTE_RELATION && guard_is_rustydb(rte->relid))
			return true;
	}
	if (guard_plan_walk(plan->lefttree, rtable) ||
		guard_plan_walk(plan->righttree, rtable))
		return true;
	switch (nodeTag(plan))
	{
		case T_Append:
			foreach(lc, ((Append *) plan)->appendplans)
				if (guard_plan_walk(lfirst(lc), rtable))
					return true;
			break;
		case T_MergeAppend:
			foreach(lc, ((MergeAppend *) plan)->mergeplans)
				if (guard_plan_walk(lfirst(lc), rtable))
					return true;
			break;
		case T_SubqueryScan:
			return guard_plan_walk(((SubqueryScan *) plan)->subplan, rtable);
		case T_CustomScan:
			foreach(lc, ((CustomScan *) plan)->custom_plans)
				if (guard_plan_walk(lfirst(lc), rtable))
					return true;
			break;
		default:
			break;
	}
	return false;
}

static void
guard_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	PlannedStmt *stmt = queryDesc->plannedstmt;
	bool		guard = false;
	int			nestlevel = 0;
	ListCell   *lc;

	if (stmt != NULL && stmt->commandType != CMD_UTILITY)
	{
		guard = guard_plan_walk(stmt->planTree, stmt->rtable);
		foreach(lc, stmt->subplans)
			if (!guard && guard_plan_walk(lfirst(lc), stmt->rtable))
				guard = true;
	}
	if (guard)
	{
		nestlevel = NewGUCNestLevel();
		(void) set_config_option("effective_io_concurrency", "0",
								 PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	}
	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
	if (guard)
		AtEOXact_GUC(true, nestlevel);
}

/*
 * rdb_prefetch_guard_init
 *		Install the ExecutorStart hook; called from _PG_init.
 */
void
rdb_prefetch_guard_init(void)
{
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = guard_ExecutorStart;
}
