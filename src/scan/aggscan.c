/*-------------------------------------------------------------------------
 *
 * aggscan.c
 *	  Aggregate pushdown (RustydbAgg): aggregates over a columnar scan of a
 *	  rustydb table, computed in the scan's own loop, with or without
 *	  GROUP BY.
 *
 * Why: with the columnar scan, decoding a flushed row's columns costs less
 * than what the executor does with the row afterwards: store it in a slot,
 * hand it to the Agg node, evaluate each aggregate's argument and call its
 * transition function through the expression interpreter.  For
 *
 *		SELECT count(*), sum(x), avg(y), max(ts) FROM t [WHERE ...]
 *
 * that is most of the time.  This node takes the scan's rows itself
 * (rdb_colscan_next_row: the scan slot, quals already applied, the
 * columns decoded a chunk at a time) and feeds them to the aggregates.
 *
 * Planning: create_upper_paths_hook, stage UPPERREL_GROUP_AGG, offers a
 * CustomPath on the grouping relation when the query is a single rustydb
 * table (its final scan/join relation is the base relation and has a
 * RustydbScan path), there are no grouping sets, HAVING or set-returning
 * functions, GROUP BY (if any) names columns of the table whose types can
 * be both hashed and sorted and every aggregate is a native one (below),
 * the planner has not prepared index paths for
 * min/max (those win anyway, and setrefs would turn our Aggrefs into their
 * Params), no qual is a pseudoconstant (a gating Result would sit between
 * us and the scan), and every aggregate is a plain one
 * (AGGKIND_NORMAL, no ORDER BY or FILTER, not variadic) whose arguments
 * are columns of the table.  DISTINCT is taken without GROUP BY, for the
 * native aggregates below but count(*): their results do not depend on
 * the order distinct values arrive in.  The path's child is the cheapest
 * serial RustydbScan path; it costs the child plus one tuple, less than any
 * Agg over the same scan.  Parallel plans (Partial/Finalize Aggregate) are
 * left to the planner's costs: this node is serial.
 *
 * The plan: a CustomScan with scanrelid 0, whose custom_scan_tlist is the
 * GROUP BY columns and then one Aggref per distinct aggregate (setrefs
 * points the targetlist at them, as for postgres_fdw's pushed-down
 * aggregates) and whose only custom_plans entry is the RustydbScan.
 *
 * Execution, by aggregate:
 *	- native: count(*), count(col), sum/avg of int2, int4 and int8,
 *	  min/max of int2, int4, int8, date, time, timestamp, timestamptz:
 *	  accumulated in C variables with exactly the arithmetic of the
 *	  built-in transition functions (int8 sums as int128, avg as
 *	  numeric_div of sum and count, as int8_avg / numeric_poly_avg do);
 *	- any other plain aggregate: its own transition and final functions,
 *	  called as nodeAgg.c calls them (strictness, initial value, first
 *	  non-NULL input as the state, by-reference states kept in the
 *	  aggregate memory context), with an AggState as fcinfo->context so
 *	  that AggCheckCallContext and AggRegisterCallback work.
 * Without GROUP BY the node returns one row, as a plain Agg does (also
 * over no rows).
 *
 * DISTINCT (count(DISTINCT user_id), the analytic query's favourite): the
 * non-NULL values are collected while scanning and each is fed once when
 * the scan is done.  Integer-like types whose equality is the identity of
 * their bits go to a hash set of int64 (simplehash), which spills into a
 * tuplesort when it outgrows hash_mem, or, while the values seen lie in a
 * range a bitmap covers cheaply, to a bitmap over that range (a bit per
 * possible value: a set bit costs a few nanoseconds where a hash insert
 * into a table larger than the cache costs tens); other types (text, numeric: their
 * equality is not bitwise, collations may be nondeterministic) go to a
 * tuplesort on the DISTINCT clause's ordering operator and are
 * deduplicated by its equality function, as nodeAgg.c does.
 *
 * GROUP BY: groups live in a TupleHashTable (execGrouping.c: the grouping
 * operators' hash and equality functions, collations), each with its
 * aggregates' states.  Rows of a batch are first gathered in a small local
 * table keyed by the Datums themselves: within one chunk group a
 * dictionary-encoded column gives equal values the same pointer, so equal
 * Datums are equal values (the converse need not hold: the local table only
 * splits groups finer, and its groups are merged into the hash table by
 * value, partial states combined, when the chunk group changes or the
 * local table fills).  When the hash table outgrows hash_mem, groups not in
 * it go, as partial states, to a tuplesort on the grouping columns and are
 * combined in order at the end, so memory stays bounded as for HashAgg.
 *
 * Memory: accumulators and by-reference states in the node's aggregate
 * ExprContext (freed, with its callbacks, at the end or rescan);
 * transition calls run in a per-row context.
 *
 * IDENTIFICATION
 *	  src/scan/aggscan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "executor/nodeAgg.h"
#include "executor/nodeCustom.h"
#include "miscadmin.h"
#include "nodes/extensible.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planner.h"
#include "optimizer/restrictinfo.h"
#include "optimizer/tlist.h"
#include "parser/parse_agg.h"
#include "parser/parse_coerce.h"
#include "port/pg_bitutils.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/expandeddatum.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/ruleutils.h"
#include "utils/selfuncs.h"
#include "utils/syscache.h"
#include "utils/tuplesort.h"

#include "rustydb/rustydb.h"
#include "rustydb/colscan.h"

bool		rdb_enable_aggregate_pushdown = true;

static create_upper_paths_hook_type prev_create_upper_paths_hook = NULL;

/* how an aggregate is computed */
typedef enum AggKind
{
	AK_COUNT_STAR,
	AK_COUNT,					/* count(col): non-NULL values */
	AK_SUM_INT,					/* sum(int2 / int4) -> int8 */
	AK_AVG_INT,					/* avg(int2 / int4) -> numeric */
#ifdef HAVE_INT128
	AK_SUM_INT8,				/* sum(int8) -> numeric, as int128 */
	AK_AVG_INT8,				/* avg(int8) -> numeric, as int128 */
#endif
	AK_MIN,						/* min / max of an integer-represented type */
	AK_MAX,
	AK_GENERIC					/* the aggregate's own functions */
} AggKind;

/* width of the value of an AK_MIN / AK_MAX type */
typedef enum AggWidth
{
	AW_INT16,
	AW_INT32,
	AW_INT64
} AggWidth;

/* one aggregate's state for one group */
typedef struct AggAcc
{
#ifdef HAVE_INT128
	int128		bigsum;
#endif
	int64		count;			/* non-NULL inputs (all rows for count(*)) */
	int64		isum;
	int64		ext;			/* min / max so far (valid when count > 0) */
	Datum		transValue;		/* generic */
	bool		transValueIsNull;
	bool		noTransValue;
} AggAcc;

/* an aggregate: how to compute it */
typedef struct AggCol
{
	int			no;				/* index among the node's aggregates */
	AggKind		kind;
	AggWidth	width;
	int			nargs;
	int		   *cols;			/* 0-based columns of the arguments */

	/* generic (nodeAgg.c's pertrans / peragg) */
	FmgrInfo	transfn;
	FmgrInfo	finalfn;
	bool		has_finalfn;
	int			numFinalArgs;
	Oid			collation;
	FunctionCallInfo fcinfo;	/* transition calls, nargs + 1 arguments */
	Datum		initValue;
	bool		initValueIsNull;
	int16		transtypeLen;
	bool		transtypeByVal;
	int16		resulttypeLen;
	bool		resulttypeByVal;
	bool		skipnulls;		/* one argument, whose NULLs change nothing */

	/*
	 * DISTINCT (native aggregates, no GROUP BY): the non-NULL values seen,
	 * each fed to the aggregate once when the scan is done.  A by-value
	 * type whose equality is bitwise goes into a hash set of int64 (dset)
	 * until that outgrows hash_mem; any other type, and the fast one beyond
	 * the limit, into a tuplesort on the DISTINCT clause's ordering
	 * operator, deduplicated by its equality, as nodeAgg.c does.
	 */
	bool		distinct;
	bool		dfast;			/* the hash set of int64 */
	Oid			dtype;			/* the argument's type ... */
	int16		dlen;			/* ... its length */
	bool		dbyval;
	Oid			dsortop;
	Oid			dsortcoll;
	FmgrInfo	deq;			/* the equality function */
	struct AggDistinctBits *dbits;	/* the values while they are dense */
	bool		dnobits;		/* they were not: no bitmap this scan */
	struct adset_hash *dset;
	Tuplesortstate *dsort;
} AggCol;

/* partial state columns per aggregate in a spilled tuple */
#define AGG_SPILL_COLS	5

/* the local table of a batch's groups (GROUP BY) */
#define AGG_LOCAL_SLOTS	1024	/* a power of two */
#define AGG_LOCAL_MAX	512

typedef struct AggScanState
{
	CustomScanState css;
	CustomScanState *child;		/* the RustydbScan */
	int			naggs;
	AggCol	   *aggs;
	int			ngeneric;
	AggAcc	   *plain;			/* no GROUP BY: the one group's states */
	ExprContext *aggcontext;	/* states that live across rows */
	ExprContext *tmpcontext;	/* one row's transition calls */
	AggState   *aggstate;		/* fcinfo->context of generic aggregates */
	AggStatePerTrans pertrans;	/* ... its pertrans and peragg, by aggregate, */
	AggStatePerAgg peragg;		/* for AggGetAggref and AggStateIsShared */
	bool		consumed;		/* the scan has been read */
	bool		done;
	uint64		rows;			/* rows aggregated, all loops (EXPLAIN ANALYZE) */

	/* GROUP BY */
	int			nkeys;			/* 0: no GROUP BY */
	int		   *keycols;		/* 0-based columns of the scan */
	AttrNumber *keyidx;			/* 1 .. nkeys */
	Oid		   *eqops;			/* the grouping's equality operators */
	Oid		   *eqfuncs;		/* ... their functions */
	FmgrInfo   *hashfuncs;
	Oid		   *collations;
	Oid		   *sortops;
	bool	   *nullsfirst;
	TupleDesc	keydesc;
	TupleTableSlot *keyslot;	/* virtual: a group's key, to look it up */
	TupleTableSlot *hashslot;	/* minimal: a hash entry's key */
	TupleHashTable ht;
	MemoryContext metacxt;		/* the hash table's buckets */
	MemoryContext tablecxt;		/* its keys and states */
	long		nbuckets;
	Size		memlimit;
	TupleHashIterator iter;
	uint64		ngroups;		/* groups in the hash table */

	/* GROUP BY: spilled partial states, beyond memlimit */
	bool		spilling;
	TupleDesc	spilldesc;
	TupleTableSlot *spillslot;	/* virtual, to put */
	TupleTableSlot *spillread;	/* minimal, read ahead */
	TupleTableSlot *spillcur;	/* minimal, the group being combined */
	Tuplesortstate *sort;
	ExprState  *spilleq;
	bool		spill_ahead;	/* spillread holds the next tuple */
	uint64		nspilled;		/* partial states spilled, all loops */

	/* GROUP BY: the local table of the current chunk group's batches */
	bool		local_valid;
	uint32		local_stripe;
	uint32		local_group;
	uint64		local_epoch;
	int			nlocal;
	int16	   *local_slots;	/* AGG_LOCAL_SLOTS: index into the arrays, -1 */
	Datum	   *local_src;		/* AGG_LOCAL_MAX x nkeys: the batches' Datums */
	Datum	   *local_keys;		/* ... copied into local_cxt */
	bool	   *local_nulls;
	AggAcc	   *local_accs;		/* AGG_LOCAL_MAX x naggs */
	bool	   *keybyval;
	int16	   *keylen;
	MemoryContext local_cxt;
	AggAcc	   *scratch1;		/* naggs each: partial states in passing */
	AggAcc	   *scratch2;

	MemoryContext dcxt;			/* DISTINCT aggregates' hash sets */
	Size		dlimit;			/* each set's share of hash_mem */
	bool		has_distinct;
	uint64		ndsorted;		/* DISTINCT values sorted, all loops */
	uint64		ndbits;			/* DISTINCT values kept in bitmaps, all loops */
} AggScanState;

/*
 * The DISTINCT values of an integer-like aggregate while they are dense: a
 * bit per possible value of a window of the key space.  Keys are mapped to
 * unsigned order (sign bit flipped) so that the window is plain unsigned
 * arithmetic; it is word-aligned, twice as wide as the span of the
 * values it holds (aggscan_dbits_place), and that width must stay within
 * DBITS_FREE_BITS, or DBITS_BITS_PER_MEMBER times the values it holds, and
 * within half the set's share of hash_mem.  Past that the values are too
 * sparse for a bitmap, and they move to the hash set.  user_id of the
 * benchmark's events (2^21 possible values) takes 512 kB, against 1 MB of
 * hash table for 50,000 of them, and each value is one bit set instead of
 * a hash probe.
 */
typedef struct AggDistinctBits
{
	uint64	   *words;
	uint64		base;			/* the first bit's key (a multiple of 64) */
	uint64		nwords;
	uint64		lo;				/* smallest key seen */
	uint64		hi;				/* largest key seen */
	uint64		members;		/* bits set */
} AggDistinctBits;

#define DBITS_FIRST_WORDS		1024	/* 65,536 values, 8 kB */
#define DBITS_FREE_BITS			(UINT64CONST(1) << 23)	/* 1 MB */
#define DBITS_BITS_PER_MEMBER	256		/* a hash entry's size, about */
#define DBITS_MAX_BITS			(UINT64CONST(1) << 28)	/* 32 MB */
#define DBITS_KEY(k)			((uint64) (k) ^ (UINT64CONST(1) << 63))
#define DBITS_VALUE(u)			((int64) ((u) ^ (UINT64CONST(1) << 63)))

/* the hash set of a DISTINCT aggregate's values, as int64 */
typedef struct AggDistinctEntry
{
	int64		key;
	char		status;
} AggDistinctEntry;

#define SH_PREFIX adset
#define SH_ELEMENT_TYPE AggDistinctEntry
#define SH_KEY_TYPE int64
#define SH_KEY key
/* both halves folded, then PostgreSQL's murmurhash32 (as hashint8 folds) */
#define SH_HASH_KEY(tb, k) murmurhash32((uint32) (k) ^ (uint32) ((uint64) (k) >> 32))
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

static Plan *aggscan_plan_path(PlannerInfo *root, RelOptInfo *rel,
							   struct CustomPath *best_path, List *tlist,
							   List *clauses, List *custom_plans);
static Node *aggscan_create_state(CustomScan *cscan);
static void aggscan_begin(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *aggscan_exec(CustomScanState *node);
static void aggscan_end(CustomScanState *node);
static void aggscan_rescan(CustomScanState *node);
static void aggscan_explain(CustomScanState *node, List *ancestors,
							ExplainState *es);
static void aggscan_distinct_init(AggCol *a, Aggref *aggref);
static void aggscan_distinct_reset(AggScanState *state);

static const CustomPathMethods aggscan_path_methods = {
	.CustomName = RDB_AGGSCAN_NAME,
	.PlanCustomPath = aggscan_plan_path,
};

static const CustomScanMethods aggscan_scan_methods = {
	.CustomName = RDB_AGGSCAN_NAME,
	.CreateCustomScanState = aggscan_create_state,
};

static const CustomExecMethods aggscan_exec_methods = {
	.CustomName = RDB_AGGSCAN_NAME,
	.BeginCustomScan = aggscan_begin,
	.ExecCustomScan = aggscan_exec,
	.EndCustomScan = aggscan_end,
	.ReScanCustomScan = aggscan_rescan,
	.ExplainCustomScan = aggscan_explain,
};

/* ------------------------------------------------------------------------
 * Which aggregates
 * ------------------------------------------------------------------------
 */

/*
 * The native kind of an aggregate (AK_GENERIC if it has none), checked
 * against the result type the built-in gives, so that a redefined
 * function of the same OID could not be taken for it.
 */
static AggKind
aggscan_native_kind(Aggref *aggref, AggWidth *width)
{
	Oid			rt = aggref->aggtype;

	*width = AW_INT64;
	switch (aggref->aggfnoid)
	{
		case F_COUNT_:
			return rt == INT8OID ? AK_COUNT_STAR : AK_GENERIC;
		case F_COUNT_ANY:
			return rt == INT8OID ? AK_COUNT : AK_GENERIC;
		case F_SUM_INT2:
			*width = AW_INT16;
			return rt == INT8OID ? AK_SUM_INT : AK_GENERIC;
		case F_SUM_INT4:
			*width = AW_INT32;
			return rt == INT8OID ? AK_SUM_INT : AK_GENERIC;
		case F_AVG_INT2:
			*width = AW_INT16;
			return rt == NUMERICOID ? AK_AVG_INT : AK_GENERIC;
		case F_AVG_INT4:
			*width = AW_INT32;
			return rt == NUMERICOID ? AK_AVG_INT : AK_GENERIC;
#ifdef HAVE_INT128
		case F_SUM_INT8:
			return rt == NUMERICOID ? AK_SUM_INT8 : AK_GENERIC;
		case F_AVG_INT8:
			return rt == NUMERICOID ? AK_AVG_INT8 : AK_GENERIC;
#endif
		case F_MIN_INT2:
		case F_MAX_INT2:
			*width = AW_INT16;
			if (rt != INT2OID)
				return AK_GENERIC;
			return aggref->aggfnoid == F_MIN_INT2 ? AK_MIN : AK_MAX;
		case F_MIN_INT4:
		case F_MAX_INT4:
		case F_MIN_DATE:
		case F_MAX_DATE:
			*width = AW_INT32;
			if (rt != INT4OID && rt != DATEOID)
				return AK_GENERIC;
			return (aggref->aggfnoid == F_MIN_INT4 ||
					aggref->aggfnoid == F_MIN_DATE) ? AK_MIN : AK_MAX;
		case F_MIN_INT8:
		case F_MAX_INT8:
		case F_MIN_TIME:
		case F_MAX_TIME:
		case F_MIN_TIMESTAMP:
		case F_MAX_TIMESTAMP:
		case F_MIN_TIMESTAMPTZ:
		case F_MAX_TIMESTAMPTZ:
			if (rt != INT8OID && rt != TIMEOID && rt != TIMESTAMPOID &&
				rt != TIMESTAMPTZOID)
				return AK_GENERIC;
			return (aggref->aggfnoid == F_MIN_INT8 ||
					aggref->aggfnoid == F_MIN_TIME ||
					aggref->aggfnoid == F_MIN_TIMESTAMP ||
					aggref->aggfnoid == F_MIN_TIMESTAMPTZ) ? AK_MIN : AK_MAX;
		default:
			return AK_GENERIC;
	}
}

/* can this node compute the aggregate?  Its arguments: columns of relid */
static bool
aggscan_agg_supported(Aggref *aggref, Index relid)
{
	ListCell   *lc;

	if (aggref->agglevelsup != 0 || aggref->aggkind != AGGKIND_NORMAL ||
		aggref->aggsplit != AGGSPLIT_SIMPLE || aggref->aggorder != NIL ||
		aggref->aggfilter != NULL ||
		aggref->aggvariadic || aggref->aggdirectargs != NIL ||
		aggref->aggstar != (aggref->args == NIL))
		return false;

	/*
	 * DISTINCT: one argument, and an aggregate whose result does not
	 * depend on the order its values come in (the native ones: the values
	 * are fed from a hash set), not count(*)
	 */
	if (aggref->aggdistinct != NIL)
	{
		SortGroupClause *sgc;
		AggWidth	width;
		AggKind		kind = aggscan_native_kind(aggref, &width);

		if (list_length(aggref->aggdistinct) != 1 ||
			list_length(aggref->args) != 1 ||
			kind == AK_GENERIC || kind == AK_COUNT_STAR)
			return false;
		sgc = linitial_node(SortGroupClause, aggref->aggdistinct);
		if (!OidIsValid(sgc->eqop) || !OidIsValid(sgc->sortop))
			return false;
	}
	foreach(lc, aggref->args)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		Var		   *var = (Var *) tle->expr;

		if (!IsA(var, Var) || var->varno != relid || var->varlevelsup != 0 ||
			var->varattno <= 0)
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------------
 * Planning
 * ------------------------------------------------------------------------
 */

static void
aggscan_upper_paths(PlannerInfo *root, UpperRelationKind stage,
					RelOptInfo *input_rel, RelOptInfo *output_rel,
					void *extra)
{
	Query	   *parse = root->parse;
	GroupPathExtraData *gextra = (GroupPathExtraData *) extra;
	Path	   *child = NULL;
	List	   *aggs = NIL;
	List	   *keys = NIL;
	List	   *eqops = NIL;
	List	   *sortops = NIL;
	List	   *nullsfirst = NIL;
	List	   *exprs;
	double		ngroups = 1;
	CustomPath *cpath;
	ListCell   *lc;

	if (prev_create_upper_paths_hook)
		prev_create_upper_paths_hook(root, stage, input_rel, output_rel, extra);

	if (stage != UPPERREL_GROUP_AGG || !rdb_enable_aggregate_pushdown)
		return;
	if (input_rel->reloptkind != RELOPT_BASEREL ||
		parse->groupingSets != NIL ||
		parse->havingQual != NULL || !parse->hasAggs ||
		parse->hasTargetSRFs || root->minmax_aggs != NIL ||
		gextra == NULL || gextra->patype != PARTITIONWISE_AGGREGATE_NONE)
		return;
	foreach(lc, input_rel->baserestrictinfo)
	{
		if (lfirst_node(RestrictInfo, lc)->pseudoconstant)
			return;
	}

	/* the cheapest serial, unparameterized columnar scan */
	foreach(lc, input_rel->pathlist)
	{
		Path	   *p = (Path *) lfirst(lc);

		if (!rdb_colscan_is_path(p) || p->parallel_aware ||
			p->param_info != NULL)
			continue;
		if (child == NULL || p->total_cost < child->total_cost)
			child = p;
	}
	if (child == NULL)
		return;

	/* GROUP BY: columns of the table, hashable and sortable */
	if (parse->groupClause != NIL)
	{
		if (!grouping_is_hashable(parse->groupClause) ||
			!grouping_is_sortable(parse->groupClause))
			return;
		foreach(lc, parse->groupClause)
		{
			SortGroupClause *sgc = lfirst_node(SortGroupClause, lc);
			Var		   *var = (Var *) get_sortgroupclause_expr(sgc, parse->targetList);

			if (!IsA(var, Var) || var->varno != input_rel->relid ||
				var->varlevelsup != 0 || var->varattno <= 0)
				return;
			/* GROUP BY a, a: one key */
			if (list_member(keys, var))
				continue;
			keys = lappend(keys, var);
			eqops = lappend_oid(eqops, sgc->eqop);
			sortops = lappend_oid(sortops, sgc->sortop);
			nullsfirst = lappend_int(nullsfirst, sgc->nulls_first);
		}
		ngroups = estimate_num_groups(root, keys, child->rows, NULL, NULL);
	}

	/*
	 * Every aggregate supported (native ones only with GROUP BY: the local
	 * table combines partial states); nothing outside aggregates but
	 * constants and GROUP BY columns.  pull_var_clause returns the
	 * aggregates, window functions and the nodes of expressions evaluated
	 * below a join (the last flag below is PostgreSQL's name for those)
	 * whole, so that anything but an Aggref or a GROUP BY Var is seen and
	 * refused below.
	 */
	exprs = pull_var_clause((Node *) output_rel->reltarget->exprs,
							PVC_INCLUDE_AGGREGATES |
							PVC_INCLUDE_WINDOWFUNCS |
							PVC_INCLUDE_PLACEHOLDERS);
	foreach(lc, exprs)
	{
		Node	   *n = lfirst(lc);
		AggWidth	width;

		if (IsA(n, Var) && list_member(keys, n))
			continue;
		if (!IsA(n, Aggref) ||
			!aggscan_agg_supported((Aggref *) n, input_rel->relid))
			return;
		if (keys != NIL &&
			(aggscan_native_kind((Aggref *) n, &width) == AK_GENERIC ||
			 ((Aggref *) n)->aggdistinct != NIL))
			return;
		aggs = list_append_unique(aggs, n);
	}
	if (aggs == NIL)
		return;

	cpath = makeNode(CustomPath);
	cpath->path.pathtype = T_CustomScan;
	cpath->path.parent = output_rel;
	cpath->path.pathtarget = output_rel->reltarget;
	cpath->path.param_info = NULL;
	cpath->path.parallel_aware = false;
	cpath->path.parallel_safe = false;
	cpath->path.parallel_workers = 0;
	cpath->path.rows = ngroups;
	/*
	 * The scan, plus the groups: no per-row cost of an Agg node, but with
	 * GROUP BY a quarter of the hashing a HashAggregate is charged.
	 */
	cpath->path.startup_cost = child->total_cost +
		0.25 * cpu_operator_cost * list_length(keys) * child->rows;
	cpath->path.total_cost = cpath->path.startup_cost + cpu_tuple_cost * ngroups;
	cpath->path.pathkeys = NIL;
	cpath->flags = 0;
	cpath->custom_paths = list_make1(child);
	cpath->custom_private = list_make5(keys, aggs, eqops, sortops, nullsfirst);
	cpath->custom_private = lappend(cpath->custom_private,
									makeInteger((int) Min(ngroups, 1000000.0)));
	cpath->methods = &aggscan_path_methods;
	add_path(output_rel, (Path *) cpath);
}

static Plan *
aggscan_plan_path(PlannerInfo *root, RelOptInfo *rel,
				  struct CustomPath *best_path, List *tlist,
				  List *clauses, List *custom_plans)
{
	CustomScan *cscan = makeNode(CustomScan);
	List	   *keys = linitial(best_path->custom_private);
	List	   *aggs = lsecond(best_path->custom_private);
	List	   *scan_tlist = NIL;
	AttrNumber	resno = 1;
	ListCell   *lc;

	Assert(clauses == NIL);
	/* the GROUP BY columns, then the aggregates */
	foreach(lc, keys)
		scan_tlist = lappend(scan_tlist,
							 makeTargetEntry(copyObject(lfirst(lc)), resno++,
											 NULL, false));
	foreach(lc, aggs)
		scan_tlist = lappend(scan_tlist,
							 makeTargetEntry(copyObject(lfirst(lc)), resno++,
											 NULL, false));
	cscan->scan.plan.targetlist = tlist;
	cscan->scan.plan.qual = NIL;
	cscan->scan.scanrelid = 0;
	cscan->flags = best_path->flags;
	cscan->custom_plans = custom_plans;
	cscan->custom_exprs = NIL;
	/* eqops, sortops, nulls_first, estimated groups */
	cscan->custom_private = list_copy_tail(best_path->custom_private, 2);
	cscan->custom_scan_tlist = scan_tlist;
	cscan->methods = &aggscan_scan_methods;
	return &cscan->scan.plan;
}

/* ------------------------------------------------------------------------
 * Execution
 * ------------------------------------------------------------------------
 */

static Node *
aggscan_create_state(CustomScan *cscan)
{
	AggScanState *state = palloc0(sizeof(AggScanState));

	NodeSetTag(state, T_CustomScanState);
	state->css.flags = cscan->flags;
	state->css.methods = &aggscan_exec_methods;
	return (Node *) state;
}

/* the aggregate's functions, as ExecInitAgg sets them up */
static void
aggscan_init_generic(AggScanState *state, AggCol *a, Aggref *aggref)
{
	HeapTuple	aggTuple;
	HeapTuple	procTuple;
	Form_pg_aggregate aggform;
	Oid			aggOwner;
	Oid			transfn_oid;
	Oid			finalfn_oid;
	Oid			inputTypes[FUNC_MAX_ARGS];
	int			numArguments;
	Expr	   *transfnexpr;
	Expr	   *finalfnexpr;
	Datum		textInitVal;
	bool		isnull;
	AclResult	aclresult;
	ListCell   *lc;

	aggTuple = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggref->aggfnoid));
	if (!HeapTupleIsValid(aggTuple))
		elog(ERROR, "cache lookup failed for aggregate %u", aggref->aggfnoid);
	aggform = (Form_pg_aggregate) GETSTRUCT(aggTuple);
	transfn_oid = aggform->aggtransfn;
	finalfn_oid = aggform->aggfinalfn;

	/* the owner of the aggregate must be able to call its functions */
	procTuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(aggref->aggfnoid));
	if (!HeapTupleIsValid(procTuple))
		elog(ERROR, "cache lookup failed for function %u", aggref->aggfnoid);
	aggOwner = ((Form_pg_proc) GETSTRUCT(procTuple))->proowner;
	ReleaseSysCache(procTuple);
	aclresult = pg_proc_aclcheck(transfn_oid, aggOwner, ACL_EXECUTE);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FUNCTION, get_func_name(transfn_oid));
	InvokeFunctionExecuteHook(transfn_oid);
	if (OidIsValid(finalfn_oid))
	{
		aclresult = pg_proc_aclcheck(finalfn_oid, aggOwner, ACL_EXECUTE);
		if (aclresult != ACLCHECK_OK)
			aclcheck_error(aclresult, OBJECT_FUNCTION, get_func_name(finalfn_oid));
		InvokeFunctionExecuteHook(finalfn_oid);
	}

	numArguments = 0;
	foreach(lc, aggref->aggargtypes)
		inputTypes[numArguments++] = lfirst_oid(lc);
	a->collation = aggref->inputcollid;

	build_aggregate_transfn_expr(inputTypes, numArguments, 0, false,
								 aggref->aggtranstype, aggref->inputcollid,
								 transfn_oid, InvalidOid,
								 &transfnexpr, NULL);
	fmgr_info(transfn_oid, &a->transfn);
	fmgr_info_set_expr((Node *) transfnexpr, &a->transfn);
	a->has_finalfn = OidIsValid(finalfn_oid);
	if (a->has_finalfn)
	{
		a->numFinalArgs = aggform->aggfinalextra ? numArguments + 1 : 1;
		build_aggregate_finalfn_expr(inputTypes, a->numFinalArgs,
									 aggref->aggtranstype, aggref->aggtype,
									 aggref->inputcollid, finalfn_oid,
									 &finalfnexpr);
		fmgr_info(finalfn_oid, &a->finalfn);
		fmgr_info_set_expr((Node *) finalfnexpr, &a->finalfn);
	}
	get_typlenbyval(aggref->aggtranstype, &a->transtypeLen, &a->transtypeByVal);
	get_typlenbyval(aggref->aggtype, &a->resulttypeLen, &a->resulttypeByVal);

	textInitVal = SysCacheGetAttr(AGGFNOID, aggTuple,
								  Anum_pg_aggregate_agginitval, &isnull);
	a->initValueIsNull = isnull;
	if (!isnull)
	{
		Oid			typinput;
		Oid			typioparam;
		char	   *str = TextDatumGetCString(textInitVal);

		getTypeInputInfo(aggref->aggtranstype, &typinput, &typioparam);
		a->initValue = OidInputFunctionCall(typinput, str, typioparam, -1);
		pfree(str);
	}
	ReleaseSysCache(aggTuple);

	/* a strict transition function with no initial value takes the first
	 * input as its state: the types must agree (as ExecInitAgg checks) */
	if (a->transfn.fn_strict && a->initValueIsNull &&
		(numArguments < 1 ||
		 !IsBinaryCoercible(inputTypes[0], aggref->aggtranstype)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_FUNCTION_DEFINITION),
				 errmsg("aggregate %u needs to have compatible input type and transition type",
						aggref->aggfnoid)));

	/*
	 * NULL inputs that need no call: a strict transition function ignores
	 * them; numeric_avg_accum (sum/avg of numeric) and numeric_accum
	 * (variance, stddev) are not strict only to make their state on the
	 * first call, and their final functions give the same for a state
	 * that saw no value as for none.
	 */
	a->skipnulls = numArguments == 1 &&
		(a->transfn.fn_strict ||
		 transfn_oid == F_NUMERIC_AVG_ACCUM || transfn_oid == F_NUMERIC_ACCUM);

	a->fcinfo = palloc0(SizeForFunctionCallInfo(numArguments + 1));
	InitFunctionCallInfoData(*a->fcinfo, &a->transfn, numArguments + 1,
							 a->collation, (Node *) state->aggstate, NULL);
	state->ngeneric++;
}

/* an aggregate's state for a new group */
static inline void
aggscan_acc_init(AggScanState *state, AggCol *a, AggAcc *acc)
{
	memset(acc, 0, sizeof(AggAcc));
	if (a->kind == AK_GENERIC)
	{
		MemoryContext old = MemoryContextSwitchTo(state->aggcontext->ecxt_per_tuple_memory);

		acc->transValue = a->initValueIsNull ? (Datum) 0 :
			datumCopy(a->initValue, a->transtypeByVal, a->transtypeLen);
		acc->transValueIsNull = a->initValueIsNull;
		acc->noTransValue = a->initValueIsNull;
		MemoryContextSwitchTo(old);
	}
}

/* every aggregate back to its initial state, no group (begin, rescan) */
static void
aggscan_reset(AggScanState *state)
{
	int			i;

	if (state->nkeys == 0)
	{
		for (i = 0; i < state->naggs; i++)
			aggscan_acc_init(state, &state->aggs[i], &state->plain[i]);
	}
	else
	{
		ResetTupleHashTable(state->ht);
		MemoryContextReset(state->tablecxt);
		state->ngroups = 0;
		state->spilling = false;
		if (state->sort != NULL)
		{
			tuplesort_end(state->sort);
			state->sort = NULL;
		}
		state->spill_ahead = false;
		state->local_valid = false;
		state->nlocal = 0;
		memset(state->local_slots, -1, sizeof(int16) * AGG_LOCAL_SLOTS);
		MemoryContextReset(state->local_cxt);
	}
	aggscan_distinct_reset(state);
	state->consumed = false;
	state->done = false;
	/* rows stay counted across rescans, as the executor's counters do */
}

/* GROUP BY: the hash table, the local table, what spilling needs */
static void
aggscan_init_grouping(AggScanState *state, CustomScan *cscan, EState *estate)
{
	List	   *eqops = linitial(cscan->custom_private);
	List	   *sortops = lsecond(cscan->custom_private);
	List	   *nullsfirst = lthird(cscan->custom_private);
	int			ngroups = intVal(lfourth(cscan->custom_private));
	Oid		   *eqoparr;
	List	   *keytl = NIL;
	ListCell   *lc;
	int			k;

	state->nkeys = list_length(eqops);
	state->keycols = palloc(sizeof(int) * state->nkeys);
	state->keyidx = palloc(sizeof(AttrNumber) * state->nkeys);
	state->collations = palloc(sizeof(Oid) * state->nkeys);
	state->sortops = palloc(sizeof(Oid) * state->nkeys);
	state->nullsfirst = palloc(sizeof(bool) * state->nkeys);
	state->keybyval = palloc(sizeof(bool) * state->nkeys);
	state->keylen = palloc(sizeof(int16) * state->nkeys);
	eqoparr = palloc(sizeof(Oid) * state->nkeys);
	k = 0;
	foreach(lc, cscan->custom_scan_tlist)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		Var		   *var;

		if (k == state->nkeys)
			break;
		var = castNode(Var, tle->expr);
		state->keycols[k] = var->varattno - 1;
		state->keyidx[k] = k + 1;
		state->collations[k] = var->varcollid;
		state->sortops[k] = list_nth_oid(sortops, k);
		state->nullsfirst[k] = list_nth_int(nullsfirst, k) != 0;
		get_typlenbyval(var->vartype, &state->keylen[k], &state->keybyval[k]);
		eqoparr[k] = list_nth_oid(eqops, k);
		keytl = lappend(keytl, tle);
		k++;
	}
	state->keydesc = ExecTypeFromTL(keytl);
	state->keyslot = ExecInitExtraTupleSlot(estate, state->keydesc, &TTSOpsVirtual);
	state->hashslot = ExecInitExtraTupleSlot(estate, state->keydesc, &TTSOpsMinimalTuple);

	state->eqops = eqoparr;
	execTuplesHashPrepare(state->nkeys, eqoparr, &state->eqfuncs, &state->hashfuncs);
	state->tablecxt = AllocSetContextCreate(estate->es_query_cxt,
											"rustydb aggscan groups",
											ALLOCSET_DEFAULT_SIZES);
	state->metacxt = AllocSetContextCreate(estate->es_query_cxt,
										   "rustydb aggscan hash table",
										   ALLOCSET_DEFAULT_SIZES);
	state->nbuckets = Max(Min(ngroups, 1000000), 64);
	state->ht = BuildTupleHashTableExt(&state->css.ss.ps, state->keydesc,
									   state->nkeys, state->keyidx,
									   state->eqfuncs, state->hashfuncs,
									   state->collations, state->nbuckets,
									   sizeof(AggAcc) * state->naggs,
									   state->metacxt, state->tablecxt,
									   state->tmpcontext->ecxt_per_tuple_memory,
									   false);

	state->local_cxt = AllocSetContextCreate(estate->es_query_cxt,
											 "rustydb aggscan local groups",
											 ALLOCSET_DEFAULT_SIZES);
	state->local_slots = palloc(sizeof(int16) * AGG_LOCAL_SLOTS);
	state->local_src = palloc(sizeof(Datum) * AGG_LOCAL_MAX * state->nkeys);
	state->local_keys = palloc(sizeof(Datum) * AGG_LOCAL_MAX * state->nkeys);
	state->local_nulls = palloc(sizeof(bool) * AGG_LOCAL_MAX * state->nkeys);
	state->local_accs = palloc(sizeof(AggAcc) * AGG_LOCAL_MAX * state->naggs);
	memset(state->local_slots, -1, sizeof(int16) * AGG_LOCAL_SLOTS);
	state->scratch1 = palloc(sizeof(AggAcc) * state->naggs);
	state->scratch2 = palloc(sizeof(AggAcc) * state->naggs);
}

static void
aggscan_begin(CustomScanState *node, EState *estate, int eflags)
{
	AggScanState *state = (AggScanState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	int			nkeys = list_length(linitial(cscan->custom_private));
	ListCell   *lc;
	int			i;
	int			pos;

	if (list_length(cscan->custom_plans) != 1)
		elog(ERROR, "rustydb aggscan: expected one child plan");
	state->child = (CustomScanState *)
		ExecInitNode(linitial(cscan->custom_plans), estate, eflags);
	if (!rdb_colscan_is_state((PlanState *) state->child))
		elog(ERROR, "rustydb aggscan: the child plan is not a %s",
			 RDB_COLSCAN_NAME);
	node->custom_ps = list_make1(state->child);
	rdb_colscan_want_batches(state->child);

	state->aggcontext = CreateExprContext(estate);
	state->tmpcontext = CreateExprContext(estate);
	state->aggstate = makeNode(AggState);
	state->aggstate->ss.ps.state = estate;
	state->aggstate->aggcontexts = &state->aggcontext;
	state->aggstate->curaggcontext = state->aggcontext;
	state->aggstate->tmpcontext = state->tmpcontext;

	state->naggs = list_length(cscan->custom_scan_tlist) - nkeys;
	state->aggs = palloc0(sizeof(AggCol) * Max(state->naggs, 1));
	/*
	 * What nodeAgg.c's support functions look at while a transition or
	 * final function runs: the Aggref (AggGetAggref) and whether the state
	 * is shared with another aggregate (AggStateIsShared: never here).
	 */
	state->pertrans = palloc0(sizeof(AggStatePerTransData) * Max(state->naggs, 1));
	state->peragg = palloc0(sizeof(AggStatePerAggData) * Max(state->naggs, 1));
	state->aggstate->pertrans = state->pertrans;
	state->aggstate->peragg = state->peragg;
	state->aggstate->numtrans = state->naggs;
	state->aggstate->numaggs = state->naggs;
	i = 0;
	pos = 0;
	foreach(lc, cscan->custom_scan_tlist)
	{
		Aggref	   *aggref;
		AggCol	   *a;
		AclResult	aclresult;
		ListCell   *lc2;
		int			k = 0;

		if (pos++ < nkeys)
			continue;			/* a GROUP BY column */
		aggref = castNode(Aggref, lfirst_node(TargetEntry, lc)->expr);
		state->pertrans[i].aggref = aggref;
		state->pertrans[i].aggshared = false;
		state->peragg[i].aggref = aggref;
		state->peragg[i].transno = i;
		a = &state->aggs[i++];
		a->no = i - 1;

		/* as ExecInitAgg: the caller must be able to call the aggregate */
		aclresult = pg_proc_aclcheck(aggref->aggfnoid, GetUserId(), ACL_EXECUTE);
		if (aclresult != ACLCHECK_OK)
			aclcheck_error(aclresult, OBJECT_AGGREGATE,
						   get_func_name(aggref->aggfnoid));
		InvokeFunctionExecuteHook(aggref->aggfnoid);

		a->nargs = list_length(aggref->args);
		a->cols = palloc0(sizeof(int) * Max(a->nargs, 1));
		foreach(lc2, aggref->args)
		{
			Var		   *var = castNode(Var, lfirst_node(TargetEntry, lc2)->expr);

			if (var->varattno <= 0 ||
				var->varattno > state->child->ss.ss_ScanTupleSlot->tts_tupleDescriptor->natts)
				elog(ERROR, "rustydb aggscan: bad column %d", var->varattno);
			a->cols[k++] = var->varattno - 1;
		}
		a->kind = aggscan_native_kind(aggref, &a->width);
		if (a->kind != AK_COUNT_STAR && a->nargs != 1)
			a->kind = AK_GENERIC;
		if (aggref->aggdistinct != NIL)
		{
			if (nkeys > 0 || a->kind == AK_GENERIC || a->kind == AK_COUNT_STAR)
				elog(ERROR, "rustydb aggscan: DISTINCT aggregate %u not supported here",
					 aggref->aggfnoid);
			aggscan_distinct_init(a, aggref);
			state->has_distinct = true;
			if (state->dcxt == NULL)
				state->dcxt = AllocSetContextCreate(estate->es_query_cxt,
													"rustydb aggscan distinct values",
													ALLOCSET_DEFAULT_SIZES);
		}
		if (a->kind == AK_GENERIC)
		{
			if (nkeys > 0)
				elog(ERROR, "rustydb aggscan: aggregate %u with GROUP BY",
					 aggref->aggfnoid);
			aggscan_init_generic(state, a, aggref);
		}
	}
	state->memlimit = get_hash_memory_limit();
	if (state->has_distinct)
	{
		int			ndistinct = 0;

		for (i = 0; i < state->naggs; i++)
			ndistinct += state->aggs[i].distinct ? 1 : 0;
		/* shared among the sets; simplehash holds at most 2^32 entries */
		state->dlimit = Min(state->memlimit / ndistinct,
							(Size) PG_UINT32_MAX / 2 * sizeof(AggDistinctEntry));
	}
	if (nkeys > 0)
		aggscan_init_grouping(state, cscan, estate);
	else
		state->plain = palloc0(sizeof(AggAcc) * Max(state->naggs, 1));
	aggscan_reset(state);
}

/*
 * One row into a generic aggregate, its arguments already in
 * fcinfo->args[1 ..]: nodeAgg.c's advance_transition_function.
 */
static void
aggscan_advance_generic(AggScanState *state, AggCol *a, AggAcc *acc)
{
	FunctionCallInfo fcinfo = a->fcinfo;
	MemoryContext old;
	Datum		newVal;
	int			k;

	if (a->transfn.fn_strict)
	{
		for (k = 1; k <= a->nargs; k++)
			if (fcinfo->args[k].isnull)
				return;
		if (acc->noTransValue)
		{
			/* the first non-NULL input is the state */
			old = MemoryContextSwitchTo(state->aggcontext->ecxt_per_tuple_memory);
			acc->transValue = datumCopy(fcinfo->args[1].value,
										a->transtypeByVal, a->transtypeLen);
			acc->transValueIsNull = false;
			acc->noTransValue = false;
			MemoryContextSwitchTo(old);
			return;
		}
		if (acc->transValueIsNull)
			return;
	}

	old = MemoryContextSwitchTo(state->tmpcontext->ecxt_per_tuple_memory);
	fcinfo->args[0].value = acc->transValue;
	fcinfo->args[0].isnull = acc->transValueIsNull;
	fcinfo->isnull = false;
	state->aggstate->curpertrans = &state->pertrans[a->no];
	newVal = FunctionCallInvoke(fcinfo);
	state->aggstate->curpertrans = NULL;

	/*
	 * A new by-reference state goes to the aggregate context, the old out
	 * (ExecAggTransReparent); a NULL state is kept as 0, so that the next
	 * comparison of pointers means what it says.
	 */
	if (!a->transtypeByVal &&
		DatumGetPointer(newVal) != DatumGetPointer(acc->transValue))
	{
		MemoryContextSwitchTo(state->aggcontext->ecxt_per_tuple_memory);
		if (!fcinfo->isnull)
		{
			if (!(DatumIsReadWriteExpandedObject(newVal, false, a->transtypeLen) &&
				  MemoryContextGetParent(DatumGetEOHP(newVal)->eoh_context) ==
				  CurrentMemoryContext))
				newVal = datumCopy(newVal, a->transtypeByVal, a->transtypeLen);
		}
		else
			newVal = (Datum) 0;
		if (!acc->transValueIsNull)
		{
			if (DatumIsReadWriteExpandedObject(acc->transValue, false,
											   a->transtypeLen))
				DeleteExpandedObject(acc->transValue);
			else
				pfree(DatumGetPointer(acc->transValue));
		}
	}
	acc->transValue = newVal;
	acc->transValueIsNull = fcinfo->isnull;
	MemoryContextSwitchTo(old);
}

/* a value of a native aggregate's argument as int64 */
static inline int64
aggscan_int(AggWidth width, Datum d)
{
	switch (width)
	{
		case AW_INT16:
			return DatumGetInt16(d);
		case AW_INT32:
			return DatumGetInt32(d);
		default:
			return DatumGetInt64(d);
	}
}

/* one non-NULL value into a native aggregate (not count(*)) */
static inline void
aggscan_native_value(AggCol *a, AggAcc *acc, int64 v)
{
	switch (a->kind)
	{
		case AK_SUM_INT:
		case AK_AVG_INT:
			/* int4_sum / int4_avg_accum: int64, unchecked */
			acc->isum += v;
			break;
#ifdef HAVE_INT128
		case AK_SUM_INT8:
		case AK_AVG_INT8:
			acc->bigsum += v;
			break;
#endif
		case AK_MIN:
			if (acc->count == 0 || v < acc->ext)
				acc->ext = v;
			break;
		case AK_MAX:
			if (acc->count == 0 || v > acc->ext)
				acc->ext = v;
			break;
		default:
			break;
	}
	acc->count++;
}

/* ------------------------------------------------------------------------
 * DISTINCT
 * ------------------------------------------------------------------------
 */

/* is this equality function the identity of a by-value type's bits? */
static bool
aggscan_bitwise_eq(Oid eqfn)
{
	switch (eqfn)
	{
		case F_BOOLEQ:
		case F_CHAREQ:
		case F_INT2EQ:
		case F_INT4EQ:
		case F_INT8EQ:
		case F_OIDEQ:
		case F_DATE_EQ:
		case F_TIME_EQ:
		case F_TIMESTAMP_EQ:
		case F_TIMESTAMPTZ_EQ:
			return true;
		default:
			return false;
	}
}

/* a DISTINCT aggregate's value as the hash set's key, and back */
static inline int64
aggscan_dkey(const AggCol *a, Datum d)
{
	return rdb_datum_int64(a->dlen, d);
}

static inline Datum
aggscan_dvalue(const AggCol *a, int64 k)
{
	switch (a->dlen)
	{
		case 1:
			return CharGetDatum((char) k);
		case 2:
			return Int16GetDatum((int16) k);
		case 4:
			return Int32GetDatum((int32) k);
		default:
			return Int64GetDatum(k);
	}
}

/* the DISTINCT clause of aggregate a (one argument, a native kind) */
static void
aggscan_distinct_init(AggCol *a, Aggref *aggref)
{
	SortGroupClause *sgc = linitial_node(SortGroupClause, aggref->aggdistinct);
	Node	   *arg = (Node *) linitial_node(TargetEntry, aggref->args)->expr;
	Oid			eqfn = get_opcode(sgc->eqop);

	if (!OidIsValid(eqfn) || !OidIsValid(sgc->sortop))
		elog(ERROR, "rustydb aggscan: DISTINCT without equality or ordering");
	a->distinct = true;
	a->dtype = exprType(arg);
	get_typlenbyval(a->dtype, &a->dlen, &a->dbyval);
	a->dsortop = sgc->sortop;
	a->dsortcoll = exprCollation(arg);
	fmgr_info(eqfn, &a->deq);
	a->dfast = a->dbyval &&
		(a->dlen == 1 || a->dlen == 2 || a->dlen == 4 || a->dlen == 8) &&
		aggscan_bitwise_eq(eqfn);
	a->dbits = NULL;
	a->dnobits = false;
	a->dset = NULL;
	a->dsort = NULL;
}

/* a tuplesort of a DISTINCT aggregate's values, as nodeAgg.c sorts them */
static Tuplesortstate *
aggscan_distinct_sort(const AggCol *a)
{
	return tuplesort_begin_datum(a->dtype, a->dsortop, a->dsortcoll, false,
								 work_mem, NULL, TUPLESORT_NONE);
}

/* the hash set outgrew hash_mem: its values, and all later ones, are sorted */
static void
aggscan_distinct_spill(AggScanState *state, AggCol *a)
{
	adset_iterator it;
	AggDistinctEntry *e;

	a->dsort = aggscan_distinct_sort(a);
	adset_start_iterate(a->dset, &it);
	while ((e = adset_iterate(a->dset, &it)) != NULL)
		tuplesort_putdatum(a->dsort, aggscan_dvalue(a, e->key), false);
	state->ndsorted += a->dset->members;
	adset_destroy(a->dset);
	a->dset = NULL;
}

/* a walk over a bitmap's keys, in order */
typedef struct AggDistinctBitsIter
{
	uint64		i;				/* the word */
	uint64		w;				/* its bits not yet returned */
} AggDistinctBitsIter;

static inline void
aggscan_dbits_start(const AggDistinctBits *b, AggDistinctBitsIter *it)
{
	it->i = 0;
	it->w = b->words[0];
}

static inline bool
aggscan_dbits_next(const AggDistinctBits *b, AggDistinctBitsIter *it, uint64 *u)
{
	while (it->w == 0)
	{
		if (++it->i >= b->nwords)
			return false;
		it->w = b->words[it->i];
	}
	*u = b->base + (it->i << 6) + pg_rightmost_one_pos64(it->w);
	it->w &= it->w - 1;
	return true;
}

/*
 * The values of a's bitmap are too sparse for it: into the hash set, or
 * straight into the sort if the set could not hold them within hash_mem.
 */
static void
aggscan_dbits_give_up(AggScanState *state, AggCol *a)
{
	AggDistinctBits *b = a->dbits;
	AggDistinctBitsIter it;
	uint64		u;

	a->dbits = NULL;
	a->dnobits = true;
	aggscan_dbits_start(b, &it);
	if ((double) b->members * 4 * sizeof(AggDistinctEntry) > (double) state->dlimit)
	{
		a->dsort = aggscan_distinct_sort(a);
		while (aggscan_dbits_next(b, &it, &u))
			tuplesort_putdatum(a->dsort, aggscan_dvalue(a, DBITS_VALUE(u)), false);
		state->ndsorted += b->members;
	}
	else
	{
		bool		found;

		a->dset = adset_create(state->dcxt, (uint32) Max(b->members * 2, 256), NULL);
		while (aggscan_dbits_next(b, &it, &u))
			adset_insert(a->dset, DBITS_VALUE(u), &found);
	}
	pfree(b->words);
	pfree(b);
}

/*
 * Give bitmap b the window of nwords words from word first (which holds
 * every word with a bit set), cleared, and copy its bits over.
 */
static void
aggscan_dbits_rewindow(AggScanState *state, AggDistinctBits *b, uint64 first,
					   uint64 nwords)
{
	uint64	   *words = MemoryContextAllocZero(state->dcxt, nwords * sizeof(uint64));

	if (b->words != NULL)
	{
		uint64		oldfirst = b->base >> 6;

		/* every old word lies in the new window (the span of its values) */
		for (uint64 i = 0; i < b->nwords; i++)
			if (b->words[i] != 0)
				words[oldfirst + i - first] = b->words[i];
		pfree(b->words);
	}
	b->words = words;
	b->base = first << 6;
	b->nwords = nwords;
}

/*
 * Key u (unsigned order) falls outside a's bitmap, or a has none yet: make
 * or widen the bitmap and set u's bit.  False if the values are too sparse
 * for a bitmap: they went to the hash set (or the sort), u is not added.
 */
static bool
aggscan_dbits_place(AggScanState *state, AggCol *a, uint64 u)
{
	AggDistinctBits *b = a->dbits;
	uint64		maxwords = Min(DBITS_MAX_BITS, (uint64) state->dlimit / 2 * 8) / 64;
	uint64		uw = u >> 6;
	uint64		first;
	uint64		nwords;

	if (b == NULL || b->members == 0)
	{
		/* (an empty window aggscan_dbits_cover made is placed anew) */
		nwords = Min(DBITS_FIRST_WORDS, maxwords);
		if (nwords == 0)
		{
			a->dnobits = true;
			return false;
		}
		/* the first value in the middle: values may come either way */
		first = uw >= nwords / 2 ? uw - nwords / 2 : 0;
		first = Min(first, (UINT64CONST(1) << 58) - nwords);
		if (b == NULL)
		{
			b = MemoryContextAllocZero(state->dcxt, sizeof(AggDistinctBits));
			a->dbits = b;
		}
	}
	else
	{
		uint64		oldfirst = b->base >> 6;
		uint64		i0 = 0;
		uint64		i1 = b->nwords - 1;
		uint64		lo;
		uint64		hi;
		uint64		need;
		uint64		allowed;

		/* the words holding values: the span they and u need */
		while (b->words[i0] == 0)
			i0++;
		while (b->words[i1] == 0)
			i1--;
		lo = Min(oldfirst + i0, uw);
		hi = Max(oldfirst + i1, uw);
		need = hi - lo + 1;
		allowed = Min(Max(DBITS_FREE_BITS,
						  DBITS_BITS_PER_MEMBER * (b->members + 1)) / 64,
					  maxwords);

		/*
		 * Room for the span as much again, and the span in the middle:
		 * values of a fixed domain that arrive in any order fill the window
		 * after a few widenings, and a span that keeps growing is moved
		 * only when it has grown by half, so the copies add up to a few
		 * times the final window.  A window with less room than that is
		 * not worth its copies (values 256 apart, ascending, would move it
		 * every other value): the values go to the hash set.
		 */
		if (need * 2 > allowed)
		{
			aggscan_dbits_give_up(state, a);
			return false;
		}
		nwords = Min(Max(b->nwords, need * 2), allowed);
		first = lo >= (nwords - need) / 2 ? lo - (nwords - need) / 2 : 0;
		first = Min(first, (UINT64CONST(1) << 58) - nwords);
		Assert(first <= lo && first + nwords > hi);
	}
	aggscan_dbits_rewindow(state, b, first, nwords);
	b->words[(u - b->base) >> 6] |= UINT64CONST(1) << ((u - b->base) & 63);
	b->members++;
	return true;
}

/*
 * A batch's values of DISTINCT aggregate a, keys ulo .. uhi (unsigned
 * order), are about to be added: make or widen a's bitmap once to cover
 * them, instead of value by value.  The rule is aggscan_dbits_place's (a
 * window at most half full of span, within what the values allow), but
 * the room is a quarter of the span: a batch's range is where most of a
 * fixed domain's values already lie (10,000 random user_ids of 2^21 span
 * nearly all of it), so widening by half again would only be memory to
 * clear.  Leaves everything to the values one by one when the bitmap
 * covers the range already or would be too sparse for it.
 */
static void
aggscan_dbits_cover(AggScanState *state, AggCol *a, uint64 ulo, uint64 uhi)
{
	AggDistinctBits *b = a->dbits;
	uint64		maxwords = Min(DBITS_MAX_BITS, (uint64) state->dlimit / 2 * 8) / 64;
	uint64		lo = ulo >> 6;
	uint64		hi = uhi >> 6;
	uint64		members = b != NULL ? b->members : 0;
	uint64		need;
	uint64		allowed;
	uint64		nwords;
	uint64		first;

	if (a->dset != NULL || a->dnobits || a->dsort != NULL || ulo > uhi)
		return;
	if (b != NULL && ulo - b->base < b->nwords * 64 && uhi - b->base < b->nwords * 64)
		return;
	if (b != NULL && members > 0)
	{
		uint64		oldfirst = b->base >> 6;
		uint64		i0 = 0;
		uint64		i1 = b->nwords - 1;

		while (b->words[i0] == 0)
			i0++;
		while (b->words[i1] == 0)
			i1--;
		lo = Min(lo, oldfirst + i0);
		hi = Max(hi, oldfirst + i1);
	}
	need = hi - lo + 1;
	allowed = Min(Max(DBITS_FREE_BITS, DBITS_BITS_PER_MEMBER * (members + 1)) / 64,
				  maxwords);
	if (need * 2 > allowed)
		return;
	nwords = Max(need + need / 4, Min(DBITS_FIRST_WORDS, maxwords));
	if (b != NULL)
		nwords = Max(nwords, b->nwords);
	nwords = Min(nwords, allowed);
	first = lo >= (nwords - need) / 2 ? lo - (nwords - need) / 2 : 0;
	first = Min(first, (UINT64CONST(1) << 58) - nwords);
	if (b == NULL)
	{
		b = MemoryContextAllocZero(state->dcxt, sizeof(AggDistinctBits));
		a->dbits = b;
	}
	aggscan_dbits_rewindow(state, b, first, nwords);
}

/* a non-NULL value of DISTINCT aggregate a */
static inline void
aggscan_distinct_add(AggScanState *state, AggCol *a, Datum d)
{
	if (a->dfast && a->dsort == NULL)
	{
		bool		found;

		if (a->dset == NULL && !a->dnobits)
		{
			AggDistinctBits *b = a->dbits;
			uint64		u = DBITS_KEY(aggscan_dkey(a, d));

			/* u below the window wraps around to beyond it */
			if (b != NULL && u - b->base < b->nwords * 64)
			{
				uint64		off = u - b->base;
				uint64		bit = UINT64CONST(1) << (off & 63);

				if ((b->words[off >> 6] & bit) == 0)
				{
					b->words[off >> 6] |= bit;
					b->members++;
				}
				return;
			}
			if (aggscan_dbits_place(state, a, u))
				return;
			if (a->dsort != NULL)
			{
				tuplesort_putdatum(a->dsort, d, false);
				state->ndsorted++;
				return;
			}
		}
		if (a->dset == NULL)
		{
			/*
			 * Sized for the rows the planner expects, within its share, but
			 * at most 64 k entries to begin with: the set grows as values
			 * come, while a set sized for a stale estimate (a table never
			 * analysed: millions of rows where the quals leave thousands)
			 * cost more to allocate and clear than the whole scan (70 ms
			 * for 50,000 rows of 5 M, against 8 ms).
			 */
			double		rows = ((PlanState *) state->child)->plan->plan_rows;
			double		cap = (double) state->dlimit / (4 * sizeof(AggDistinctEntry));

			a->dset = adset_create(state->dcxt,
								   (uint32) Max(Min(Min(rows, cap), 65536.0), 256.0),
								   NULL);
		}

		/*
		 * The set doubles when an insert meets its grow threshold, old and
		 * new arrays side by side for a moment: spill before a doubling
		 * would take it past its share of hash_mem.  simplehash also
		 * doubles a set by itself, inside an insert, when an entry would
		 * land or move too far from its bucket (SH_GROW_MAX_DIB,
		 * SH_GROW_MAX_MOVE): millions of sparse bigints grew one that way
		 * to 4 M buckets under a 4 MB work_mem (388 MB for 6 M values),
		 * never meeting the threshold.  A set whose array grew past two
		 * thirds of its share so spills at the next value.
		 */
		if ((a->dset->members >= a->dset->grow_threshold &&
			 (double) a->dset->size * 3 * sizeof(AggDistinctEntry) > (double) state->dlimit) ||
			(double) a->dset->size * 3 * sizeof(AggDistinctEntry) > (double) state->dlimit * 2)
		{
			aggscan_distinct_spill(state, a);
			tuplesort_putdatum(a->dsort, d, false);
			state->ndsorted++;
			return;
		}
		adset_insert(a->dset, aggscan_dkey(a, d), &found);
		return;
	}
	if (a->dsort == NULL)
		a->dsort = aggscan_distinct_sort(a);
	tuplesort_putdatum(a->dsort, d, false);
	state->ndsorted++;
}

/* one distinct value into the aggregate's state */
static inline void
aggscan_distinct_feed(AggCol *a, AggAcc *acc, Datum d)
{
	if (a->kind == AK_COUNT)
		acc->count++;
	else
		aggscan_native_value(a, acc, aggscan_int(a->width, d));
}

/* the scan is done: every distinct value of aggregate a into acc, once */
static void
aggscan_distinct_finish(AggScanState *state, AggCol *a, AggAcc *acc)
{
	if (a->dbits != NULL)
	{
		AggDistinctBits *b = a->dbits;
		uint64		u;

		/* the set bits are the values; count(DISTINCT) is their number */
		state->ndbits += b->members;
		if (a->kind == AK_COUNT)
			acc->count += b->members;
		else
		{
			AggDistinctBitsIter it;

			aggscan_dbits_start(b, &it);
			while (aggscan_dbits_next(b, &it, &u))
				aggscan_distinct_feed(a, acc, aggscan_dvalue(a, DBITS_VALUE(u)));
		}
		pfree(b->words);
		pfree(b);
		a->dbits = NULL;
	}
	if (a->dset != NULL)
	{
		adset_iterator it;
		AggDistinctEntry *e;

		/*
		 * count(DISTINCT) of a set that never spilled is the number of its
		 * members: no walk over its (mostly empty) buckets.
		 */
		if (a->kind == AK_COUNT && a->dsort == NULL)
			acc->count += a->dset->members;
		else
		{
			adset_start_iterate(a->dset, &it);
			while ((e = adset_iterate(a->dset, &it)) != NULL)
				aggscan_distinct_feed(a, acc, aggscan_dvalue(a, e->key));
		}
		adset_destroy(a->dset);
		a->dset = NULL;
	}
	if (a->dsort != NULL)
	{
		/*
		 * Each value is read and compared in the per-row context, reset
		 * every time (equality functions may leave memory behind); the last
		 * distinct value is kept in a context of its own.
		 */
		MemoryContext prevcxt = AllocSetContextCreate(CurrentMemoryContext,
													  "rustydb aggscan distinct value",
													  ALLOCSET_SMALL_SIZES);
		MemoryContext work = state->tmpcontext->ecxt_per_tuple_memory;
		MemoryContext old = MemoryContextSwitchTo(work);
		Oid			collation = state->pertrans[a->no].aggref->inputcollid;
		Datum		prev = (Datum) 0;
		bool		have = false;
		Datum		d;
		bool		isnull;
		uint64		n = 0;

		tuplesort_performsort(a->dsort);
		while (tuplesort_getdatum(a->dsort, true, &d, &isnull, NULL))
		{
			if ((++n & 4095) == 0)
				CHECK_FOR_INTERRUPTS();
			if (!isnull &&
				(!have ||
				 !DatumGetBool(FunctionCall2Coll(&a->deq, collation, prev, d))))
			{
				MemoryContextReset(prevcxt);
				if (a->dbyval)
					prev = d;
				else
				{
					MemoryContextSwitchTo(prevcxt);
					prev = datumCopy(d, false, a->dlen);
					MemoryContextSwitchTo(work);
				}
				have = true;
				aggscan_distinct_feed(a, acc, d);
			}
			MemoryContextReset(work);
		}
		MemoryContextSwitchTo(old);
		MemoryContextDelete(prevcxt);
		tuplesort_end(a->dsort);
		a->dsort = NULL;
	}
}

/* forget every DISTINCT aggregate's values (begin, rescan, end) */
static void
aggscan_distinct_reset(AggScanState *state)
{
	int			i;

	for (i = 0; i < state->naggs; i++)
	{
		AggCol	   *a = &state->aggs[i];

		if (a->dsort != NULL)
			tuplesort_end(a->dsort);
		a->dsort = NULL;
		a->dset = NULL;
		a->dbits = NULL;
		a->dnobits = false;
	}
	if (state->dcxt != NULL)
		MemoryContextReset(state->dcxt);
}

/* one row, values[] / isnull[] by column, into the aggregates' states accs */
static inline void
aggscan_row_into(AggScanState *state, AggAcc *accs, const Datum *values,
				 const bool *isnull)
{
	int			i;
	int			k;

	for (i = 0; i < state->naggs; i++)
	{
		AggCol	   *a = &state->aggs[i];
		int			c = a->cols[0];

		if (a->distinct)
		{
			if (!isnull[c])
				aggscan_distinct_add(state, a, values[c]);
			continue;
		}
		switch (a->kind)
		{
			case AK_COUNT_STAR:
				accs[i].count++;
				break;
			case AK_GENERIC:
				if (a->skipnulls && isnull[c])
					break;
				for (k = 0; k < a->nargs; k++)
				{
					a->fcinfo->args[k + 1].value = values[a->cols[k]];
					a->fcinfo->args[k + 1].isnull = isnull[a->cols[k]];
				}
				aggscan_advance_generic(state, a, &accs[i]);
				break;
			default:
				if (!isnull[c])
					aggscan_native_value(a, &accs[i], aggscan_int(a->width, values[c]));
				break;
		}
	}
}

/* partial states of native aggregates: src into dst (same group) */
static void
aggscan_combine(AggScanState *state, AggAcc *dst, const AggAcc *src)
{
	int			i;

	for (i = 0; i < state->naggs; i++)
	{
		AggCol	   *a = &state->aggs[i];

		if (src[i].count == 0)
			continue;
		switch (a->kind)
		{
			case AK_MIN:
				if (dst[i].count == 0 || src[i].ext < dst[i].ext)
					dst[i].ext = src[i].ext;
				break;
			case AK_MAX:
				if (dst[i].count == 0 || src[i].ext > dst[i].ext)
					dst[i].ext = src[i].ext;
				break;
			default:
				dst[i].isum += src[i].isum;
#ifdef HAVE_INT128
				dst[i].bigsum += src[i].bigsum;
#endif
				break;
		}
		dst[i].count += src[i].count;
	}
}

/* ------------------------------------------------------------------------
 * GROUP BY
 * ------------------------------------------------------------------------
 */

/* the spill tuplesort, when the hash table first outgrows memlimit */
static void
aggscan_start_spill(AggScanState *state)
{
	EState	   *estate = state->css.ss.ps.state;
	MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);
	int			ncols = state->nkeys + AGG_SPILL_COLS * state->naggs;
	int			k;

	if (state->spilldesc == NULL)
	{
		state->spilldesc = CreateTemplateTupleDesc(ncols);
		for (k = 0; k < state->nkeys; k++)
			TupleDescCopyEntry(state->spilldesc, k + 1, state->keydesc, k + 1);
		for (k = state->nkeys; k < ncols; k++)
			TupleDescInitEntry(state->spilldesc, k + 1, NULL, INT8OID, -1, 0);
		state->spillslot = ExecInitExtraTupleSlot(estate, state->spilldesc, &TTSOpsVirtual);
		state->spillread = ExecInitExtraTupleSlot(estate, state->spilldesc, &TTSOpsMinimalTuple);
		state->spillcur = ExecInitExtraTupleSlot(estate, state->spilldesc, &TTSOpsMinimalTuple);
		state->spilleq = execTuplesMatchPrepare(state->spilldesc, state->nkeys,
												state->keyidx, state->eqops,
												state->collations,
												&state->css.ss.ps);
	}
	state->sort = tuplesort_begin_heap(state->spilldesc, state->nkeys,
									   state->keyidx, state->sortops,
									   state->collations, state->nullsfirst,
									   work_mem, NULL, TUPLESORT_NONE);
	state->spilling = true;
	MemoryContextSwitchTo(old);
}

/* a group's partial states, its key in keyslot, into the sort */
static void
aggscan_spill(AggScanState *state, const AggAcc *accs)
{
	TupleTableSlot *slot = state->spillslot;
	int			c = state->nkeys;
	int			i;

	ExecClearTuple(slot);
	slot_getallattrs(state->keyslot);
	memcpy(slot->tts_values, state->keyslot->tts_values, sizeof(Datum) * state->nkeys);
	memcpy(slot->tts_isnull, state->keyslot->tts_isnull, sizeof(bool) * state->nkeys);
	for (i = 0; i < state->naggs; i++)
	{
#ifdef HAVE_INT128
		int64		hi = (int64) (accs[i].bigsum >> 64);
		int64		lo = (int64) (uint64) accs[i].bigsum;
#else
		int64		hi = 0;
		int64		lo = 0;
#endif

		slot->tts_values[c] = Int64GetDatum(accs[i].count);
		slot->tts_values[c + 1] = Int64GetDatum(accs[i].isum);
		slot->tts_values[c + 2] = Int64GetDatum(hi);
		slot->tts_values[c + 3] = Int64GetDatum(lo);
		slot->tts_values[c + 4] = Int64GetDatum(accs[i].ext);
		memset(&slot->tts_isnull[c], false, AGG_SPILL_COLS);
		c += AGG_SPILL_COLS;
	}
	ExecStoreVirtualTuple(slot);
	tuplesort_puttupleslot(state->sort, slot);
	state->nspilled++;
}

/* the partial states of a spilled tuple */
static void
aggscan_unspill(AggScanState *state, TupleTableSlot *slot, AggAcc *accs)
{
	int			c = state->nkeys;
	int			i;

	slot_getallattrs(slot);
	for (i = 0; i < state->naggs; i++)
	{
		memset(&accs[i], 0, sizeof(AggAcc));
		accs[i].count = DatumGetInt64(slot->tts_values[c]);
		accs[i].isum = DatumGetInt64(slot->tts_values[c + 1]);
#ifdef HAVE_INT128
		accs[i].bigsum = ((int128) DatumGetInt64(slot->tts_values[c + 2]) << 64) |
			(uint64) DatumGetInt64(slot->tts_values[c + 3]);
#endif
		accs[i].ext = DatumGetInt64(slot->tts_values[c + 4]);
		c += AGG_SPILL_COLS;
	}
}

/*
 * The group of the key in keyslot: its states in the hash table (created
 * if new and memory allows), or NULL when it must be spilled.
 */
static AggAcc *
aggscan_group(AggScanState *state)
{
	TupleHashEntry entry;
	bool		isnew = false;
	int			i;

	entry = LookupTupleHashEntry(state->ht, state->keyslot,
								 state->spilling ? NULL : &isnew, NULL);
	if (entry == NULL)
		return NULL;
	if (isnew)
	{
		AggAcc	   *accs = MemoryContextAlloc(state->tablecxt,
											  sizeof(AggAcc) * state->naggs);

		for (i = 0; i < state->naggs; i++)
			aggscan_acc_init(state, &state->aggs[i], &accs[i]);
		entry->additional = accs;
		state->ngroups++;
		/* as HashAgg: groups beyond hash_mem are not kept in memory */
		if (MemoryContextMemAllocated(state->tablecxt, true) +
			MemoryContextMemAllocated(state->metacxt, true) > state->memlimit)
			aggscan_start_spill(state);
	}
	return (AggAcc *) entry->additional;
}

/* partial states of the key in keyslot into its group */
static void
aggscan_merge(AggScanState *state, const AggAcc *accs)
{
	AggAcc	   *dst = aggscan_group(state);

	if (dst == NULL)
		aggscan_spill(state, accs);
	else
		aggscan_combine(state, dst, accs);
}

/* the local table's groups into the hash table (or the spill), then empty */
static void
aggscan_local_flush(AggScanState *state)
{
	TupleTableSlot *ks = state->keyslot;
	int			g;

	for (g = 0; g < state->nlocal; g++)
	{
		ExecClearTuple(ks);
		memcpy(ks->tts_values, &state->local_keys[g * state->nkeys],
			   sizeof(Datum) * state->nkeys);
		memcpy(ks->tts_isnull, &state->local_nulls[g * state->nkeys],
			   sizeof(bool) * state->nkeys);
		ExecStoreVirtualTuple(ks);
		aggscan_merge(state, &state->local_accs[g * state->naggs]);
	}
	if (state->nlocal > 0)
	{
		state->nlocal = 0;
		memset(state->local_slots, -1, sizeof(int16) * AGG_LOCAL_SLOTS);
		MemoryContextReset(state->local_cxt);
		ResetExprContext(state->tmpcontext);
	}
}

/* a batch, GROUP BY: its rows into the local table, by their Datums */
static void
aggscan_grouped_batch(AggScanState *state, const RdbColBatch *b)
{
	int			nkeys = state->nkeys;
	int			j;
	int			k;

	/* Datums of other chunks (or reloaded ones) are not comparable */
	if (!state->local_valid || b->stripe != state->local_stripe ||
		b->group != state->local_group || b->epoch != state->local_epoch)
	{
		aggscan_local_flush(state);
		state->local_valid = true;
		state->local_stripe = b->stripe;
		state->local_group = b->group;
		state->local_epoch = b->epoch;
	}
	for (j = 0; j < b->n; j++)
	{
		uint32		p = b->pos[j];
		uint32		h = 0;
		int			slot;
		int			g;
		AggAcc	   *accs;
		int			i;

		for (k = 0; k < nkeys; k++)
		{
			int			c = state->keycols[k];
			uint64		d = b->isnull[c][p] ? 0x9e3779b97f4a7c15 : (uint64) b->values[c][p];

			h = hash_combine(h, murmurhash32((uint32) d ^ (uint32) (d >> 32)));
		}
		for (slot = h & (AGG_LOCAL_SLOTS - 1);; slot = (slot + 1) & (AGG_LOCAL_SLOTS - 1))
		{
			g = state->local_slots[slot];
			if (g < 0)
				break;
			for (k = 0; k < nkeys; k++)
			{
				int			c = state->keycols[k];

				if (b->isnull[c][p] != state->local_nulls[g * nkeys + k] ||
					(!b->isnull[c][p] &&
					 b->values[c][p] != state->local_src[g * nkeys + k]))
					break;
			}
			if (k == nkeys)
				break;
		}
		if (g < 0)
		{
			MemoryContext old;

			if (state->nlocal == AGG_LOCAL_MAX)
			{
				aggscan_local_flush(state);
				/* the slots were emptied: probe again */
				j--;
				continue;
			}
			g = state->nlocal++;
			state->local_slots[slot] = g;
			old = MemoryContextSwitchTo(state->local_cxt);
			for (k = 0; k < nkeys; k++)
			{
				int			c = state->keycols[k];
				bool		n = b->isnull[c][p];
				Datum		d = n ? (Datum) 0 : b->values[c][p];

				state->local_src[g * nkeys + k] = d;
				state->local_nulls[g * nkeys + k] = n;
				/* a copy: the chunk may be gone when the table is flushed */
				state->local_keys[g * nkeys + k] = n ? (Datum) 0 :
					datumCopy(d, state->keybyval[k], state->keylen[k]);
			}
			MemoryContextSwitchTo(old);
			for (i = 0; i < state->naggs; i++)
				memset(&state->local_accs[g * state->naggs + i], 0, sizeof(AggAcc));
		}
		accs = &state->local_accs[g * state->naggs];
		for (i = 0; i < state->naggs; i++)
		{
			AggCol	   *a = &state->aggs[i];
			int			c = a->cols[0];

			if (a->kind == AK_COUNT_STAR)
				accs[i].count++;
			else if (!b->isnull[c][p])
				aggscan_native_value(a, &accs[i], aggscan_int(a->width, b->values[c][p]));
		}
	}
}

/* one row, GROUP BY: straight into its group */
static void
aggscan_grouped_row(AggScanState *state, TupleTableSlot *slot)
{
	TupleTableSlot *ks = state->keyslot;
	AggAcc	   *accs;
	AggAcc	   *one = state->scratch1;
	int			k;

	/*
	 * The rows of the batches before this one first: a group's key is the
	 * first of its rows the scan met, as with HashAggregate, where equal
	 * keys can look different (numeric 1.50 and 1.5, float 0 and -0, a
	 * case-insensitive collation's 'abc' and 'ABC').  Linear: each group
	 * entry of the local table stands for a row at least.
	 */
	if (state->nlocal > 0)
		aggscan_local_flush(state);
	ExecClearTuple(ks);
	for (k = 0; k < state->nkeys; k++)
	{
		ks->tts_values[k] = slot->tts_values[state->keycols[k]];
		ks->tts_isnull[k] = slot->tts_isnull[state->keycols[k]];
	}
	ExecStoreVirtualTuple(ks);
	accs = aggscan_group(state);
	if (accs != NULL)
	{
		aggscan_row_into(state, accs, slot->tts_values, slot->tts_isnull);
		return;
	}
	/* no room: the row as a partial state of its own */
	memset(one, 0, sizeof(AggAcc) * state->naggs);
	aggscan_row_into(state, one, slot->tts_values, slot->tts_isnull);
	aggscan_spill(state, one);
}

/* ------------------------------------------------------------------------
 * Reading the scan
 * ------------------------------------------------------------------------
 */

/*
 * Tight loops of the native aggregates over a batch, the value's width
 * fixed and the state in local variables (the compiler cannot keep it in
 * registers through the pointer: Datum and int64 may alias).
 */
#define aggscan_batch_sum(b, vals, nulls, acc, ctype, getter) \
	do { \
		int64		sum_ = (acc)->isum; \
		int64		count_ = (acc)->count; \
		\
		for (int j_ = 0; j_ < (b)->n; j_++) \
		{ \
			uint32		p_ = (b)->pos[j_]; \
			\
			if (!(nulls)[p_]) \
			{ \
				sum_ += (ctype) getter((vals)[p_]); \
				count_++; \
			} \
		} \
		(acc)->isum = sum_; \
		(acc)->count = count_; \
	} while (0)

#define aggscan_batch_ext(b, vals, nulls, acc, ismax, getter) \
	do { \
		int64		ext_ = (acc)->ext; \
		int64		count_ = (acc)->count; \
		bool		max_ = (ismax); \
		\
		for (int j_ = 0; j_ < (b)->n; j_++) \
		{ \
			uint32		p_ = (b)->pos[j_]; \
			int64		v_; \
			\
			if ((nulls)[p_]) \
				continue; \
			v_ = getter((vals)[p_]); \
			if (count_ == 0 || (max_ ? v_ > ext_ : v_ < ext_)) \
				ext_ = v_; \
			count_++; \
		} \
		(acc)->ext = ext_; \
		(acc)->count = count_; \
	} while (0)

/*
 * A batch into the aggregates (no GROUP BY): one aggregate at a time over
 * all the rows, a loop of a few instructions per row for the native ones.
 */
static void
aggscan_batch(AggScanState *state, const RdbColBatch *b)
{
	int			i;
	int			j;
	int			k;

	for (i = 0; i < state->naggs; i++)
	{
		AggCol	   *a = &state->aggs[i];
		AggAcc	   *acc = &state->plain[i];
		const Datum *vals;
		const bool *nulls;

		if (a->kind == AK_COUNT_STAR)
		{
			acc->count += b->n;
			continue;
		}
		vals = b->values[a->cols[0]];
		nulls = b->isnull[a->cols[0]];
		if (a->distinct)
		{
			if (a->dfast && a->dsort == NULL && a->dset == NULL && !a->dnobits)
			{
				uint64		ulo = PG_UINT64_MAX;
				uint64		uhi = 0;

				for (j = 0; j < b->n; j++)
				{
					uint32		p = b->pos[j];
					uint64		u;

					if (nulls[p])
						continue;
					u = DBITS_KEY(aggscan_dkey(a, vals[p]));
					ulo = Min(ulo, u);
					uhi = Max(uhi, u);
				}
				aggscan_dbits_cover(state, a, ulo, uhi);
			}
			for (j = 0; j < b->n; j++)
			{
				uint32		p = b->pos[j];

				if (!nulls[p])
					aggscan_distinct_add(state, a, vals[p]);
			}
			continue;
		}
		switch (a->kind)
		{
			case AK_COUNT:
				{
					int64		count = acc->count;

					for (j = 0; j < b->n; j++)
						count += !nulls[b->pos[j]];
					acc->count = count;
				}
				break;
			case AK_SUM_INT:
			case AK_AVG_INT:
				if (a->width == AW_INT16)
					aggscan_batch_sum(b, vals, nulls, acc, int16, DatumGetInt16);
				else
					aggscan_batch_sum(b, vals, nulls, acc, int32, DatumGetInt32);
				break;
#ifdef HAVE_INT128
			case AK_SUM_INT8:
			case AK_AVG_INT8:
				{
					int128		sum = acc->bigsum;
					int64		count = acc->count;

					for (j = 0; j < b->n; j++)
					{
						uint32		p = b->pos[j];

						if (!nulls[p])
						{
							sum += DatumGetInt64(vals[p]);
							count++;
						}
					}
					acc->bigsum = sum;
					acc->count = count;
				}
				break;
#endif
			case AK_MIN:
			case AK_MAX:
				switch (a->width)
				{
					case AW_INT16:
						aggscan_batch_ext(b, vals, nulls, acc, a->kind == AK_MAX, DatumGetInt16);
						break;
					case AW_INT32:
						aggscan_batch_ext(b, vals, nulls, acc, a->kind == AK_MAX, DatumGetInt32);
						break;
					default:
						aggscan_batch_ext(b, vals, nulls, acc, a->kind == AK_MAX, DatumGetInt64);
						break;
				}
				break;
			case AK_GENERIC:
				if (a->skipnulls)
				{
					/*
					 * NULL inputs that change nothing are passed over
					 * here, not a call each (a mostly-NULL column, like
					 * the benchmark's amount).
					 */
					for (j = 0; j < b->n; j++)
					{
						uint32		p = b->pos[j];

						if (nulls[p])
							continue;
						a->fcinfo->args[1].value = vals[p];
						a->fcinfo->args[1].isnull = false;
						aggscan_advance_generic(state, a, acc);
					}
				}
				else
				{
					for (j = 0; j < b->n; j++)
					{
						uint32		p = b->pos[j];

						for (k = 0; k < a->nargs; k++)
						{
							a->fcinfo->args[k + 1].value = b->values[a->cols[k]][p];
							a->fcinfo->args[k + 1].isnull = b->isnull[a->cols[k]][p];
						}
						aggscan_advance_generic(state, a, acc);
					}
				}
				ResetExprContext(state->tmpcontext);
				break;
			default:
				for (j = 0; j < b->n; j++)
				{
					uint32		p = b->pos[j];

					if (!nulls[p])
						aggscan_native_value(a, acc, aggscan_int(a->width, vals[p]));
				}
				break;
		}
	}
}

/* every row of the scan into the aggregates */
static void
aggscan_consume(AggScanState *state)
{
	PlanState  *child = (PlanState *) state->child;
	uint64		rows = 0;
	RdbColBatch batch;
	TupleTableSlot *slot;
	RdbColNext next;

	if (child->instrument)
		InstrStartNode(child->instrument);
	while ((next = rdb_colscan_next(state->child, &batch, &slot)) != RDB_COL_END)
	{
		if (next == RDB_COL_BATCH)
		{
			if (state->nkeys > 0)
				aggscan_grouped_batch(state, &batch);
			else
				aggscan_batch(state, &batch);
			rows += batch.n;
			CHECK_FOR_INTERRUPTS();
			continue;
		}
		if (state->nkeys > 0)
			aggscan_grouped_row(state, slot);
		else
			aggscan_row_into(state, state->plain, slot->tts_values, slot->tts_isnull);
		if (state->ngeneric > 0 || state->nkeys > 0)
			ResetExprContext(state->tmpcontext);
		if ((++rows & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	if (state->nkeys > 0)
		aggscan_local_flush(state);
	else
	{
		int			i;

		for (i = 0; i < state->naggs; i++)
			if (state->aggs[i].distinct)
				aggscan_distinct_finish(state, &state->aggs[i], &state->plain[i]);
	}
	if (child->instrument)
		InstrStopNode(child->instrument, (double) rows);
	state->rows += rows;
}

/* ------------------------------------------------------------------------
 * Results
 * ------------------------------------------------------------------------
 */

#ifdef HAVE_INT128
/* an int128 as numeric (numeric_poly_sum's result, through its digits) */
static Datum
aggscan_int128_numeric(int128 v)
{
	char		buf[64];
	char	   *p = buf + sizeof(buf);
	bool		neg = v < 0;
	uint128		u = neg ? -(uint128) v : (uint128) v;

	*--p = '\0';
	do
	{
		*--p = '0' + (int) (u % 10);
		u /= 10;
	} while (u != 0);
	if (neg)
		*--p = '-';
	return DirectFunctionCall3(numeric_in, CStringGetDatum(p),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}
#endif

/* an aggregate's result, as finalize_aggregate gives it */
static Datum
aggscan_final(AggScanState *state, AggCol *a, AggAcc *acc, bool *isnull)
{
	*isnull = false;
	switch (a->kind)
	{
		case AK_COUNT_STAR:
		case AK_COUNT:
			return Int64GetDatum(acc->count);
		case AK_SUM_INT:
			*isnull = (acc->count == 0);
			return *isnull ? (Datum) 0 : Int64GetDatum(acc->isum);
		case AK_AVG_INT:
			if (acc->count == 0)
				break;
			return DirectFunctionCall2(numeric_div,
									   NumericGetDatum(int64_to_numeric(acc->isum)),
									   NumericGetDatum(int64_to_numeric(acc->count)));
#ifdef HAVE_INT128
		case AK_SUM_INT8:
			if (acc->count == 0)
				break;
			return aggscan_int128_numeric(acc->bigsum);
		case AK_AVG_INT8:
			if (acc->count == 0)
				break;
			return DirectFunctionCall2(numeric_div,
									   aggscan_int128_numeric(acc->bigsum),
									   NumericGetDatum(int64_to_numeric(acc->count)));
#endif
		case AK_MIN:
		case AK_MAX:
			if (acc->count == 0)
				break;
			switch (a->width)
			{
				case AW_INT16:
					return Int16GetDatum((int16) acc->ext);
				case AW_INT32:
					return Int32GetDatum((int32) acc->ext);
				default:
					return Int64GetDatum(acc->ext);
			}
		case AK_GENERIC:
			{
				Datum		result;

				if (!a->has_finalfn)
				{
					*isnull = acc->transValueIsNull;
					result = acc->transValue;
				}
				else
				{
					LOCAL_FCINFO(fcinfo, FUNC_MAX_ARGS);
					bool		anynull = acc->transValueIsNull;
					int			k;

					InitFunctionCallInfoData(*fcinfo, &a->finalfn,
											 a->numFinalArgs, a->collation,
											 (Node *) state->aggstate, NULL);
					fcinfo->args[0].value =
						MakeExpandedObjectReadOnly(acc->transValue,
												   acc->transValueIsNull,
												   a->transtypeLen);
					fcinfo->args[0].isnull = acc->transValueIsNull;
					for (k = 1; k < a->numFinalArgs; k++)
					{
						fcinfo->args[k].value = (Datum) 0;
						fcinfo->args[k].isnull = true;
						anynull = true;
					}
					if (fcinfo->flinfo->fn_strict && anynull)
					{
						*isnull = true;
						result = (Datum) 0;
					}
					else
					{
						state->aggstate->curperagg = &state->peragg[a->no];
						result = FunctionCallInvoke(fcinfo);
						state->aggstate->curperagg = NULL;
						*isnull = fcinfo->isnull;
					}
				}
				if (*isnull)
					return (Datum) 0;
				/* out of the states' memory, which a rescan clears */
				return datumCopy(MakeExpandedObjectReadOnly(result, false,
															a->resulttypeLen),
								 a->resulttypeByVal, a->resulttypeLen);
			}
	}
	*isnull = true;
	return (Datum) 0;
}

/* the output row of a group: keys (from keys/keynulls) and results */
static TupleTableSlot *
aggscan_emit(AggScanState *state, const Datum *keys, const bool *keynulls,
			 AggAcc *accs)
{
	CustomScanState *node = &state->css;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	ProjectionInfo *proj = node->ss.ps.ps_ProjInfo;
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	MemoryContext old;
	int			i;

	ResetExprContext(econtext);
	ExecClearTuple(slot);
	if (state->nkeys > 0)
	{
		memcpy(slot->tts_values, keys, sizeof(Datum) * state->nkeys);
		memcpy(slot->tts_isnull, keynulls, sizeof(bool) * state->nkeys);
	}
	/* results in per-output-row memory, valid until the next row */
	old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
	for (i = 0; i < state->naggs; i++)
		slot->tts_values[state->nkeys + i] =
			aggscan_final(state, &state->aggs[i], &accs[i],
						  &slot->tts_isnull[state->nkeys + i]);
	MemoryContextSwitchTo(old);
	ExecStoreVirtualTuple(slot);

	if (proj == NULL)
		return slot;
	econtext->ecxt_scantuple = slot;
	return ExecProject(proj);
}

/* GROUP BY: the next group, from the hash table and then the spill */
static TupleTableSlot *
aggscan_next_group(AggScanState *state)
{
	TupleHashEntry entry;
	ExprContext *econtext = state->tmpcontext;
	AggAcc	   *sum = state->scratch1;
	AggAcc	   *part = state->scratch2;

	if (!state->done)
	{
		entry = ScanTupleHashTable(state->ht, &state->iter);
		if (entry != NULL)
		{
			ExecStoreMinimalTuple(entry->firstTuple, state->hashslot, false);
			slot_getallattrs(state->hashslot);
			return aggscan_emit(state, state->hashslot->tts_values,
								state->hashslot->tts_isnull,
								(AggAcc *) entry->additional);
		}
		state->done = true;
		if (state->sort != NULL)
		{
			tuplesort_performsort(state->sort);
			state->spill_ahead = tuplesort_gettupleslot(state->sort, true, false,
														state->spillread, NULL);
		}
	}

	/* spilled partial states, in key order: combine each run of a key */
	if (!state->spill_ahead)
		return NULL;
	ExecCopySlot(state->spillcur, state->spillread);
	aggscan_unspill(state, state->spillcur, sum);
	for (;;)
	{
		state->spill_ahead = tuplesort_gettupleslot(state->sort, true, false,
													state->spillread, NULL);
		if (!state->spill_ahead)
			break;
		econtext->ecxt_innertuple = state->spillread;
		econtext->ecxt_outertuple = state->spillcur;
		if (!ExecQualAndReset(state->spilleq, econtext))
			break;
		aggscan_unspill(state, state->spillread, part);
		aggscan_combine(state, sum, part);
	}
	slot_getallattrs(state->spillcur);
	return aggscan_emit(state, state->spillcur->tts_values,
						state->spillcur->tts_isnull, sum);
}

static TupleTableSlot *
aggscan_exec(CustomScanState *node)
{
	AggScanState *state = (AggScanState *) node;
	ProjectionInfo *proj = node->ss.ps.ps_ProjInfo;
	TupleTableSlot *result;

	if (!state->consumed)
	{
		aggscan_consume(state);
		state->consumed = true;
		if (state->nkeys > 0)
			InitTupleHashIterator(state->ht, &state->iter);
	}
	if (state->nkeys == 0)
	{
		if (state->done)
			result = NULL;
		else
		{
			state->done = true;
			result = aggscan_emit(state, NULL, NULL, state->plain);
		}
	}
	else
		result = aggscan_next_group(state);
	if (result == NULL)
		return ExecClearTuple(proj ? proj->pi_state.resultslot :
							  node->ss.ss_ScanTupleSlot);
	return result;
}

static void
aggscan_end(CustomScanState *node)
{
	AggScanState *state = (AggScanState *) node;

	ExecEndNode((PlanState *) state->child);
	if (state->sort != NULL)
	{
		tuplesort_end(state->sort);
		state->sort = NULL;
	}
	aggscan_distinct_reset(state);
	/* the aggregates' shutdown callbacks (AggRegisterCallback) */
	FreeExprContext(state->aggcontext, true);
	FreeExprContext(state->tmpcontext, true);
}

static void
aggscan_rescan(CustomScanState *node)
{
	AggScanState *state = (AggScanState *) node;
	PlanState  *child = (PlanState *) state->child;

	if (node->ss.ps.chgParam != NULL)
		UpdateChangedParamSet(child, node->ss.ps.chgParam);
	ExecReScan(child);
	/* states and callbacks of the last run go */
	ReScanExprContext(state->aggcontext);
	ReScanExprContext(state->tmpcontext);
	aggscan_reset(state);
}

static void
aggscan_explain(CustomScanState *node, List *ancestors, ExplainState *es)
{
	AggScanState *state = (AggScanState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	List	   *context;
	StringInfoData keys;
	StringInfoData aggs;
	ListCell   *lc;
	int			pos = 0;
	int			nnative = 0;

	context = set_deparse_context_plan(es->deparse_cxt,
									   (Plan *) cscan, ancestors);
	initStringInfo(&keys);
	initStringInfo(&aggs);
	foreach(lc, cscan->custom_scan_tlist)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		StringInfo	buf = pos < state->nkeys ? &keys : &aggs;

		if (buf->len > 0)
			appendStringInfoString(buf, ", ");
		appendStringInfoString(buf,
							   deparse_expression((Node *) tle->expr, context,
												  false, false));
		if (pos >= state->nkeys &&
			state->aggs[pos - state->nkeys].kind != AK_GENERIC)
			nnative++;
		pos++;
	}
	if (state->nkeys > 0)
		ExplainPropertyText("Group Key", keys.data, es);
	ExplainPropertyText("Aggregates", aggs.data, es);
	ExplainPropertyInteger("Native Aggregates", NULL, nnative, es);
	if (es->analyze)
	{
		ExplainPropertyInteger("Rows Aggregated", NULL, (int64) state->rows, es);
		if (state->nkeys > 0)
			ExplainPropertyInteger("Groups Spilled", NULL,
								   (int64) state->nspilled, es);
		if (state->has_distinct)
		{
			ExplainPropertyInteger("Distinct Values Bitmapped", NULL,
								   (int64) state->ndbits, es);
			ExplainPropertyInteger("Distinct Values Sorted", NULL,
								   (int64) state->ndsorted, es);
		}
	}
	pfree(keys.data);
	pfree(aggs.data);
}

/*
 * rdb_aggscan_init
 *		Install the planner hook and register the node's methods.  Called
 *		from _PG_init.
 */
void
rdb_aggscan_init(void)
{
	RegisterCustomScanMethods(&aggscan_scan_methods);
	prev_create_upper_paths_hook = create_upper_paths_hook;
	create_upper_paths_hook = aggscan_upper_paths;
}
