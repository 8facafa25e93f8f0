/*-------------------------------------------------------------------------
 *
 * colscan.c
 *	  The columnar custom scan (RustydbScan): projection, chunk-group
 *	  skipping and late materialisation for SELECT scans of rustydb tables
 *	  that have stripes.
 *
 * Planning: set_rel_pathlist_hook offers a CustomPath beside the seq scan of
 * a rustydb base relation (or inheritance/partition child) when the query
 * is a SELECT or INSERT ... SELECT, the relation has no row mark (FOR UPDATE/SHARE, or the
 * ROW_MARK_REFERENCE/COPY marks UPDATE and DELETE give their other tables:
 * EvalPlanQual keeps the ordinary scan), no TABLESAMPLE, no whole-row or
 * system column other than ctid/tableoid is referenced, and the metapage
 * says the table has stripes (RDB_META_HAS_STRIPES).  A partial copy of the
 * path is offered for parallel query.
 *
 * Execution: rows come from the seq scan's own L0 walk (rdb_scan_next_chunk:
 * page-at-a-time MVCC visibility, all-visible pages without per-row checks,
 * serializable conflict checks, parallel block hand-out).  An L0 row is
 * deformed as far as the highest column needed; a stub's header has
 * already decided visibility and its RdbStubData says where the values are:
 * first the columns the quals use are decoded from the stripe
 * (rdb_stripe_fetch_row_cols), the quals run, and only for rows that pass
 * the other projected columns are decoded (late materialisation).  Before
 * any decoding, a stub whose chunk group cannot match the skip quals
 * (Var op pseudo-constant with a btree operator of the column type's default
 * opfamily, = ANY(array), IS [NOT] NULL) is passed over; the decision is
 * taken once per (stripe, chunk group) from rdb_stripe_chunk_minmax.  A
 * retired generation (gendir.h) comes whole, as the stripe rows of its live
 * offsets, with no page built and no per-row visibility check (its rows are
 * frozen): a skipped chunk group passes over all its rows at once.
 *
 * Results are returned in the node's virtual scan slot, whose by-reference
 * values point into the pinned L0 page or the stripe reader's decoded
 * chunks; both stay valid until the next row is fetched, as for any scan
 * slot.
 *
 * Locking: none of its own; L0 pages are pinned and share-locked by the
 * seq scan code, stripe pages by the stripe reader.  Memory: the scan's
 * state, its stripe reader and the per-stripe skip decisions live in the
 * "rustydb colscan" context under the executor's per-query context.
 *
 * IDENTIFICATION
 *	  src/scan/colscan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/nbtree.h"
#include "access/parallel.h"
#include "access/relscan.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_tablespace.h"
#include "access/reloptions.h"
#include "utils/syscache.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "executor/nodeCustom.h"
#include "miscadmin.h"
#include "nodes/extensible.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/plancat.h"
#include "optimizer/planmain.h"
#include "optimizer/prep.h"
#include "optimizer/restrictinfo.h"
#include "parser/parsetree.h"
#include "portability/instr_time.h"
#include "port/atomics.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"

#include "rustydb/rustydb.h"
#include "rustydb/colscan.h"
#include "rustydb/events.h"
#include "rustydb/gendir.h"
#include "rustydb/l0.h"
#include "rustydb/lsm.h"
#include "rustydb/options.h"
#include "rustydb/stripe.h"

/* ------------------------------------------------------------------------
 * Skip quals
 * ------------------------------------------------------------------------
 */

typedef enum ColSkipKind
{
	SKIP_CMP,					/* Var op value */
	SKIP_IN,					/* Var = ANY (array value) */
	SKIP_ISNULL,
	SKIP_NOTNULL
} ColSkipKind;

/* one qual usable for chunk-group skipping, analysed (skip_analyze) */
typedef struct ColSkipKey
{
	ColSkipKind kind;
	AttrNumber	attno;			/* column, 1-based */
	int			strategy;		/* BT*StrategyNumber, Var on the left */
	Oid			collation;		/* the qual's input collation */
	Expr	   *arg;			/* the value side (pseudo-constant) */
	Oid			cmpproc;		/* btree order proc (bound type, arg type) */

	/* execution */
	ExprState  *argstate;
	FmgrInfo	cmp;
	bool		evaluated;		/* value(s) below are current */
	bool		argnull;
	Datum		value;
	Datum	   *elems;			/* SKIP_IN: non-NULL elements */
	int			nelems;

	/*
	 * Evaluated on decoded columns in bulk (colscan_vec_pass): 0 no; 1 a
	 * NULL test; 2, 4, 8 a comparison of an integer-represented type with a
	 * value of the same type (the btree order is the integers' order), of
	 * that width.
	 */
	int			vec;
	int			argwidth;		/* the value's width (integers may differ) */
	int64		ivalue;			/* the value as an integer */
} ColSkipKey;

static inline int64 colscan_vec_int(int width, Datum d);

/* strip binary-compatible relabelling */
static Node *
skip_strip(Node *node)
{
	while (node && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	return node;
}

/* a user column of the scanned relation? */
static bool
skip_is_scan_var(Node *node, Index varno)
{
	Var		   *var;

	node = skip_strip(node);
	if (node == NULL || !IsA(node, Var))
		return false;
	var = (Var *) node;
	return var->varno == varno && var->varlevelsup == 0 && var->varattno > 0;
}

/* an expression whose value is fixed for the whole scan? */
static bool
skip_is_pseudo_const(Node *node)
{
	return node != NULL &&
		!contain_var_clause(node) &&
		!contain_volatile_functions(node) &&
		!contain_subplans(node);
}

/*
 * The default btree opfamily of a type, or InvalidOid.  From the type
 * cache, which asks GetDefaultOpClass once per type and backend: that is a
 * scan of every btree opclass in pg_opclass, and the planner and then the
 * executor ask here for every skip qual (in a new connection, the catalog
 * reads were a noticeable part of a query that skips 99 % of a table).
 */
static Oid
skip_default_family(Oid typid)
{
	return lookup_type_cache(typid, TYPECACHE_BTREE_OPFAMILY)->btree_opf;
}

/*
 * skip_analyze
 *		Can clause (a qual of the scan of relation varno) decide chunk
 *		groups from their bounds?  If key is not NULL, fill it.  Used both by
 *		the planner (to pick the quals) and by the executor (to analyse the
 *		picked ones again, after setrefs), so it depends on nothing else.
 */
static bool
skip_analyze(Node *clause, Index varno, ColSkipKey *key)
{
	Var		   *var;
	Node	   *arg;
	Oid			opno;
	Oid			family;
	Oid			coltype;
	int			strategy;
	Oid			lefttype;
	Oid			righttype;
	Oid			proc;
	Oid			collation;
	ColSkipKind kind;

	if (clause == NULL)
		return false;

	if (IsA(clause, NullTest))
	{
		NullTest   *nt = (NullTest *) clause;

		if (nt->argisrow || !skip_is_scan_var((Node *) nt->arg, varno))
			return false;
		if (key)
		{
			memset(key, 0, sizeof(ColSkipKey));
			key->kind = nt->nulltesttype == IS_NULL ? SKIP_ISNULL : SKIP_NOTNULL;
			key->attno = ((Var *) skip_strip((Node *) nt->arg))->varattno;
		}
		return true;
	}

	if (IsA(clause, OpExpr))
	{
		OpExpr	   *op = (OpExpr *) clause;
		Node	   *left;
		Node	   *right;

		if (list_length(op->args) != 2)
			return false;
		left = linitial(op->args);
		right = lsecond(op->args);
		opno = op->opno;
		if (skip_is_scan_var(left, varno) && skip_is_pseudo_const(right))
		{
			var = (Var *) skip_strip(left);
			arg = right;
		}
		else if (skip_is_scan_var(right, varno) && skip_is_pseudo_const(left))
		{
			var = (Var *) skip_strip(right);
			arg = left;
			opno = get_commutator(opno);
			if (!OidIsValid(opno))
				return false;
		}
		else
			return false;
		kind = SKIP_CMP;
		collation = op->inputcollid;
	}
	else if (IsA(clause, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *saop = (ScalarArrayOpExpr *) clause;

		if (!saop->useOr || list_length(saop->args) != 2 ||
			!skip_is_scan_var(linitial(saop->args), varno) ||
			!skip_is_pseudo_const(lsecond(saop->args)))
			return false;
		var = (Var *) skip_strip(linitial(saop->args));
		arg = lsecond(saop->args);
		opno = saop->opno;
		kind = SKIP_IN;
		collation = saop->inputcollid;
	}
	else
		return false;

	coltype = var->vartype;
	family = skip_default_family(coltype);
	if (!OidIsValid(family) || !op_in_opfamily(opno, family))
		return false;
	get_op_opfamily_properties(opno, family, false, &strategy,
							   &lefttype, &righttype);
	if (strategy < BTLessStrategyNumber || strategy > BTGreaterStrategyNumber)
		return false;
	if (kind == SKIP_IN && strategy != BTEqualStrategyNumber)
		return false;
	/* bounds are of the opclass's input type; compare them with the value */
	proc = get_opfamily_proc(family, lefttype, righttype, BTORDER_PROC);
	if (!OidIsValid(proc))
		return false;

	if (key)
	{
		memset(key, 0, sizeof(ColSkipKey));
		key->kind = kind;
		key->attno = var->varattno;
		key->strategy = strategy;
		key->collation = collation;
		key->arg = (Expr *) arg;
		key->cmpproc = proc;
	}
	return true;
}

/* evaluate the value side of a key for this scan (once per rescan) */
static void
skip_evaluate(ColSkipKey *key, ExprContext *econtext)
{
	MemoryContext oldcxt;
	Datum		d;
	bool		isnull;

	if (key->evaluated || key->kind == SKIP_ISNULL || key->kind == SKIP_NOTNULL)
	{
		key->evaluated = true;
		return;
	}
	/* values must outlive per-tuple resets: keep them in the query context */
	oldcxt = MemoryContextSwitchTo(econtext->ecxt_per_query_memory);
	d = ExecEvalExpr(key->argstate, econtext, &isnull);
	key->argnull = isnull;
	key->nelems = 0;
	if (!isnull && key->kind == SKIP_IN)
	{
		ArrayType  *arr = DatumGetArrayTypePCopy(d);
		int16		elmlen;
		bool		elmbyval;
		char		elmalign;
		Datum	   *elems;
		bool	   *nulls;
		int			n;
		int			i;

		get_typlenbyvalalign(ARR_ELEMTYPE(arr), &elmlen, &elmbyval, &elmalign);
		deconstruct_array(arr, ARR_ELEMTYPE(arr), elmlen, elmbyval, elmalign,
						  &elems, &nulls, &n);
		key->elems = palloc(sizeof(Datum) * Max(n, 1));
		for (i = 0; i < n; i++)
			if (!nulls[i])
				key->elems[key->nelems++] = elems[i];
	}
	else if (!isnull)
	{
		int16		typlen;
		bool		typbyval;

		get_typlenbyval(exprType((Node *) key->arg), &typlen, &typbyval);
		key->value = datumCopy(d, typbyval, typlen);
		if (key->vec > 1)
			key->ivalue = colscan_vec_int(key->argwidth, key->value);
	}
	MemoryContextSwitchTo(oldcxt);
	key->evaluated = true;
}

/*
 * skip_group_excluded
 *		Can no row of the chunk group satisfy key?  has_bounds etc. are
 *		what rdb_stripe_chunk_minmax said about the key's column.
 */
static bool
skip_group_excluded(ColSkipKey *key, bool has_bounds, Datum min, Datum max,
					Oid bounds_collation, uint32 nnulls, uint32 nrows)
{
	int			i;

	switch (key->kind)
	{
		case SKIP_ISNULL:
			return nnulls == 0;
		case SKIP_NOTNULL:
			return nnulls >= nrows;
		case SKIP_CMP:
		case SKIP_IN:
			/* btree operators are strict: NULLs never match */
			if (nnulls >= nrows || key->argnull)
				return true;
			if (!has_bounds || bounds_collation != key->collation)
				return false;
			break;
	}

	if (key->kind == SKIP_IN)
	{
		for (i = 0; i < key->nelems; i++)
		{
			Datum		e = key->elems[i];

			if (DatumGetInt32(FunctionCall2Coll(&key->cmp, key->collation, min, e)) <= 0 &&
				DatumGetInt32(FunctionCall2Coll(&key->cmp, key->collation, max, e)) >= 0)
				return false;	/* e lies within [min, max] */
		}
		return true;
	}

	switch (key->strategy)
	{
		case BTLessStrategyNumber:
			return DatumGetInt32(FunctionCall2Coll(&key->cmp, key->collation, min, key->value)) >= 0;
		case BTLessEqualStrategyNumber:
			return DatumGetInt32(FunctionCall2Coll(&key->cmp, key->collation, min, key->value)) > 0;
		case BTEqualStrategyNumber:
			return DatumGetInt32(FunctionCall2Coll(&key->cmp, key->collation, min, key->value)) > 0 ||
				DatumGetInt32(FunctionCall2Coll(&key->cmp, key->collation, max, key->value)) < 0;
		case BTGreaterEqualStrategyNumber:
			return DatumGetInt32(FunctionCall2Coll(&key->cmp, key->collation, max, key->value)) < 0;
		case BTGreaterStrategyNumber:
			return DatumGetInt32(FunctionCall2Coll(&key->cmp, key->collation, max, key->value)) <= 0;
	}
	return false;
}

/* ------------------------------------------------------------------------
 * Scan state
 * ------------------------------------------------------------------------
 */

/* counters, local and (parallel) shared */
typedef struct ColScanCounts
{
	uint64		groups_scanned;
	uint64		groups_skipped;
	uint64		rows_l0;		/* L0 rows the snapshot sees */
	uint64		rows_stripe;	/* flushed rows decoded (filter columns) */
	uint64		rows_late;		/* flushed rows whose late columns were decoded */
	uint64		rows_skipped;	/* flushed rows passed over with their group */
	uint64		gens_skipped;	/* retired generations passed over whole ... */
	uint64		skip_steps;		/* ... in this many steps (a leaf at a time) */
	uint64		skip_groups;	/* ... of which whole leaf groups */
	uint64		rows_formed;	/* stubs formed row by row (stub_scattered) */
} ColScanCounts;

#define COLSCAN_NCOUNTS	(sizeof(ColScanCounts) / sizeof(uint64))

/* parallel: the shared state, at the start of the node's DSM chunk */
typedef struct ColScanShared
{
	pg_atomic_uint64 counts[COLSCAN_NCOUNTS];
	/* then, at MAXALIGN(sizeof(ColScanShared)): ParallelTableScanDescData */
} ColScanShared;

#define COLSCAN_PSCAN(shared) \
	((ParallelTableScanDesc) ((char *) (shared) + MAXALIGN(sizeof(ColScanShared))))

/* skip decisions of one stripe's chunk groups */
typedef struct ColStripeEntry
{
	uint32		first_block;	/* hash key */
	uint32		ngroups;
	uint8	   *decision;		/* per group: 0 undecided, 1 scan, 2 skip;
								 * NULL until the stripe is opened */
	uint8		whole;			/* every group: 0 undecided, 1 scan, 2 skip */
	uint8		summary;		/* by the stripe summary alone: 0 undecided,
								 * 1 scan (or no summary), 2 skip */
	bool		sum_read;		/* sum read (kept across rescans) */
	RdbStripeSummary *sum;		/* NULL: the stripe has none */
} ColStripeEntry;

/*
 * Rows of a stripe taken whole, in position order: one retired generation's
 * live rows (the arrays are the RdbScanRun's), or the rows of a stripe sorted
 * by a sort key gathered over its generations (ColGather's).
 */
typedef struct ColRun
{
	uint32		stripe;
	int			nrows;
	uint32	   *rows;			/* positions in the stripe, ascending */
	OffsetNumber *offsets;
	uint32	   *gens;			/* generation of each row; NULL: all gen */
	uint32		gen;
} ColRun;

/*
 * The rows of one stripe sorted by a sort key, gathered from its retired
 * generations as the L0 walk meets them (colscan_next_chunk): a
 * generation's rows are spread over such a stripe, and taking them a
 * generation at a time would load each chunk group once per generation.
 * Indexed by position (offset 0: no row there), so they come out in
 * position order without sorting.
 */
typedef struct ColGather
{
	uint32		stripe;
	uint32		nslots;			/* the stripe's rows */
	int64		nrows;			/* gathered */
	uint32	   *gen;			/* by position */
	OffsetNumber *off;
	uint32		lo;				/* positions gathered lie in lo .. hi */
	uint32		hi;
	/* the gathered rows handed out, as a ColRun's arrays */
	uint32	   *out_rows;
	OffsetNumber *out_offsets;
	uint32	   *out_gens;
	int64		out_cap;
} ColGather;

typedef struct ColScanState
{
	CustomScanState css;

	MemoryContext cxt;			/* "rustydb colscan" */
	Relation	rel;
	TupleDesc	desc;
	int			natts;

	/* columns, 0-based flags over natts */
	bool	   *need_first;		/* decoded for every row looked at */
	bool	   *need_late;		/* decoded only for rows that pass the quals */
	int		   *first_cols;		/* the same as lists of indexes */
	int			nfirst;
	int		   *late_cols;
	int			nlate;
	int			maxatt;			/* highest 1-based column needed, for L0 rows */

	/* skip quals */
	ColSkipKey *keys;
	int			nkeys;
	HTAB	   *stripes;		/* ColStripeEntry by first block */

	/* the L0 walk */
	TableScanDesc tscan;
	ColScanShared *shared;		/* parallel only */
	TupleTableSlot *hslot;		/* L0 rows, to deform them */
	bool		done;

	/* the current stripe */
	RdbStripeReader *sr;
	uint32		sr_block;
	uint32		sr_ncols;		/* columns the stripe has */
	uint32		sr_cgrows;
	bool		sr_sorted;		/* sorted by a sort key (rows not in order) */
	const uint32 *sr_pos;		/* then row number -> position, once needed */
	bool		sr_near;		/* ... and no row moved half a chunk group */
	uint32		sr_shift;		/* ... the most any row moved */
	uint32		last_group;
	bool		last_skip;

	/*
	 * Stubs on L0 pages usually name the rows of one stripe in order (a
	 * page flushed and not yet retired), which the reader above serves a
	 * whole chunk at a time.  Pages of revived generations, and stubs
	 * compaction switched, can name another stripe or chunk group every
	 * few rows: each change then decoded whole chunks again for a handful
	 * of rows (a table of 2,000 such pages took 20 s where the plain scan
	 * took 1.3).  Once more than one stub row in 64 changes the stripe or
	 * group (after 512), stubs are formed row by row through the backend's
	 * chunk group cache instead, as the plain scan forms them.
	 */
	int64		stub_rows;
	int64		stub_changes;
	bool		stub_scattered;
	/* rows taken whole (a retired generation, or a gather), and how far */
	RdbScanRun *scanrun;		/* what rdb_scan_next_chunk fills */
	ColRun		run_data;
	ColRun	   *run;			/* &run_data once the walk started */
	int			run_pos;
	ColGather	gather;
	bool		gather_done;	/* the walk ended, the last gather handed out */
	ColStripeEntry *sr_entry;
	Datum	   *late_values;
	bool	   *late_isnull;

	/*
	 * Quals evaluated in bulk: every qual is a key with vec != 0; for a
	 * chunk group, the keys' columns as arrays (colscan_vec_load).
	 */
	bool		vec_quals;
	uint32		vec_group;		/* arrays of this group ... */
	uint64		vec_epoch;		/* ... as long as no chunk was loaded */
	bool		vec_valid;
	const Datum **vec_values;	/* by key */
	const bool **vec_nulls;
	bool		late_whole;		/* late columns decoded whole too */
	bool	   *need_whole;		/* the columns decoded a chunk at a time */

	/* batches (rdb_colscan_next) */
	uint64		epoch_base;		/* chunks loaded by readers closed since */
	bool		batch_mode;		/* colscan_next stops at a run's rows */
	bool		run_ready;		/* ... and did */
	uint32	   *batch_pos;
	const Datum **batch_values;
	const bool **batch_isnull;

	/* figures */
	ColScanCounts counts;
	bool		started;
	instr_time	start_time;
	double		elapsed_ms;
} ColScanState;

bool		rdb_enable_columnar_scan = true;

static set_rel_pathlist_hook_type prev_set_rel_pathlist_hook = NULL;

static Plan *colscan_plan_path(PlannerInfo *root, RelOptInfo *rel,
							   struct CustomPath *best_path, List *tlist,
							   List *clauses, List *custom_plans);
static Node *colscan_create_state(CustomScan *cscan);
static void colscan_begin(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *colscan_exec(CustomScanState *node);
static void colscan_end(CustomScanState *node);
static void colscan_rescan(CustomScanState *node);
static void colscan_explain(CustomScanState *node, List *ancestors,
							ExplainState *es);
static Size colscan_estimate_dsm(CustomScanState *node, ParallelContext *pcxt);
static void colscan_init_dsm(CustomScanState *node, ParallelContext *pcxt,
							 void *coordinate);
static void colscan_reinit_dsm(CustomScanState *node, ParallelContext *pcxt,
							   void *coordinate);
static void colscan_init_worker(CustomScanState *node, shm_toc *toc,
								void *coordinate);
static void colscan_shutdown(CustomScanState *node);
static int	colscan_vec_width(ColSkipKey *key, TupleDesc desc);
static inline const uint32 *colscan_positions(struct ColScanState *state);

static const CustomPathMethods colscan_path_methods = {
	.CustomName = RDB_COLSCAN_NAME,
	.PlanCustomPath = colscan_plan_path,
};

static const CustomScanMethods colscan_scan_methods = {
	.CustomName = RDB_COLSCAN_NAME,
	.CreateCustomScanState = colscan_create_state,
};

static const CustomExecMethods colscan_exec_methods = {
	.CustomName = RDB_COLSCAN_NAME,
	.BeginCustomScan = colscan_begin,
	.ExecCustomScan = colscan_exec,
	.EndCustomScan = colscan_end,
	.ReScanCustomScan = colscan_rescan,
	.EstimateDSMCustomScan = colscan_estimate_dsm,
	.InitializeDSMCustomScan = colscan_init_dsm,
	.ReInitializeDSMCustomScan = colscan_reinit_dsm,
	.InitializeWorkerCustomScan = colscan_init_worker,
	.ShutdownCustomScan = colscan_shutdown,
	.ExplainCustomScan = colscan_explain,
};

/* ------------------------------------------------------------------------
 * Planning
 * ------------------------------------------------------------------------
 */

/* get_parallel_divisor() of costsize.c, which is static there */
static double
colscan_parallel_divisor(int workers)
{
	double		divisor = workers;

	if (parallel_leader_participation)
	{
		double		leader = 1.0 - (0.3 * workers);

		if (leader > 0)
			divisor += leader;
	}
	return divisor;
}

/*
 * colscan_cost
 *		Cost a RustydbScan path: cost_seqscan's model, with the page and
 *		per-row costs scaled by the share of the columns decoded (frac) and
 *		by the share of the rows read at all (read, colscan_read_share).
 *		Pages: L0 pages (stubs included) are read whole, stripe pages only
 *		for the columns needed; which share of rel->pages is which is not
 *		known at plan time, so a quarter is taken as always read.  Per row,
 *		decoding fewer columns and forming no tuple saves up to half of
 *		cpu_tuple_cost.  With every column needed and nothing skipped the
 *		path costs 0.95 of the seq scan.
 */
static void
colscan_cost(PlannerInfo *root, RelOptInfo *rel, Path *path, double frac,
			 double read, int workers)
{
	QualCost	qpqual_cost;
	double		spc_seq_page_cost;
	Cost		startup_cost;
	Cost		cpu_run_cost;
	Cost		disk_run_cost;
	double		cpu_per_tuple;

	if (path->param_info)
		path->rows = path->param_info->ppi_rows;
	else
		path->rows = rel->rows;

	qpqual_cost = rel->baserestrictcost;
	if (path->param_info)
	{
		QualCost	extra;

		cost_qual_eval(&extra, path->param_info->ppi_clauses, root);
		qpqual_cost.startup += extra.startup;
		qpqual_cost.per_tuple += extra.per_tuple;
	}
	get_tablespace_page_costs(rel->reltablespace, NULL, &spc_seq_page_cost);

	disk_run_cost = spc_seq_page_cost * rel->pages * (0.2 + 0.75 * frac) * read;
	startup_cost = qpqual_cost.startup + path->pathtarget->cost.startup;
	cpu_per_tuple = cpu_tuple_cost * (0.45 + 0.5 * frac) + qpqual_cost.per_tuple;
	cpu_run_cost = cpu_per_tuple * rel->tuples * read +
		path->pathtarget->cost.per_tuple * path->rows;

	if (workers > 0)
	{
		double		divisor = colscan_parallel_divisor(workers);

		cpu_run_cost /= divisor;
		path->rows = clamp_row_est(path->rows / divisor);
	}
	path->startup_cost = startup_cost;
	path->total_cost = startup_cost + cpu_run_cost + disk_run_cost;
}

/*
 * The correlation of a column's values with the rows' order (ANALYZE's), or
 * 0: through examine_variable, as btcostestimate reads it, so that a
 * get_relation_stats_hook is heard too.
 */
static double
colscan_correlation(PlannerInfo *root, RelOptInfo *rel, Relation relation,
					AttrNumber attno)
{
	Form_pg_attribute att = TupleDescAttr(RelationGetDescr(relation), attno - 1);
	Var		   *var = makeVar(rel->relid, attno, att->atttypid, att->atttypmod,
							  att->attcollation, 0);
	VariableStatData vardata;
	AttStatsSlot sslot;
	double		corr = 0;

	examine_variable(root, (Node *) var, rel->relid, &vardata);
	if (HeapTupleIsValid(vardata.statsTuple) &&
		get_attstatsslot(&sslot, vardata.statsTuple, STATISTIC_KIND_CORRELATION,
						 InvalidOid, ATTSTATSSLOT_NUMBERS))
	{
		if (sslot.nnumbers == 1)
			corr = sslot.numbers[0];
		free_attstatsslot(&sslot);
	}
	ReleaseVariableStats(vardata);
	return corr;
}

/*
 * colscan_read_share
 *		The share of rel's rows a RustydbScan is expected to read, given
 *		that a flushed share of them (ANALYZE's or VACUUM's count,
 *		rdb_meta_stripes_share) lie in chunk groups the skip quals may pass
 *		over.  Per column, the comparisons of its skip quals select a share
 *		sel of the rows (clauselist_selectivity); in rows ordered by the
 *		column those lie in sel of the chunk groups plus one at the edge, in
 *		unordered rows in all of them.  Between the two, as cost_index
 *		interpolates between its best and worst case, by the square of the
 *		column's correlation with the rows' order (ANALYZE's: flush and
 *		compaction keep the rows in row-number order).  With a sort key
 *		stripes are in the key's order instead: only its leading column
 *		keeps that reading (its order within the stripes is the key's, and
 *		between them, the arrival order the correlation measures); the
 *		other columns get no prediction.  The best column decides.  Nothing
 *		is predicted without statistics, under row-level security (no
 *		skipping then, colscan_plan_path), for quals in another collation
 *		than the bounds' (the executor cannot use them), or for IN lists
 *		and NULL tests.
 *
 *		This matters most for the choice against a parallel plan: a query
 *		that skips 99 % of a table reads almost nothing, and cost without
 *		skipping made a Gather of three partial scans look cheaper.
 */
static double
colscan_read_share(PlannerInfo *root, RelOptInfo *rel, Relation relation,
				   double flushed)
{
	TupleDesc	desc = RelationGetDescr(relation);
	RdbTableOptions opts;
	AttrNumber *attnos;
	List	  **quals;
	int			ncols = 0;
	double		best = 1.0;
	ListCell   *lc;
	int			i;

	if (flushed <= 0 || rel->tuples < 1 || rel->baserestrictinfo == NIL)
		return 1.0;
	rdb_table_options(relation, &opts);
	attnos = palloc(sizeof(AttrNumber) * list_length(rel->baserestrictinfo));
	quals = palloc0(sizeof(List *) * list_length(rel->baserestrictinfo));
	foreach(lc, rel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		ColSkipKey	key;

		if (rinfo->security_level > 0)
			return 1.0;
		if (!skip_analyze((Node *) rinfo->clause, rel->relid, &key) ||
			key.kind != SKIP_CMP ||
			key.attno < 1 || key.attno > desc->natts ||
			key.collation != TupleDescAttr(desc, key.attno - 1)->attcollation)
			continue;
		if (opts.nsortkeys > 0 && key.attno != opts.sortkeys[0])
			continue;
		for (i = 0; i < ncols && attnos[i] != key.attno; i++)
			;
		if (i == ncols)
			attnos[ncols++] = key.attno;
		quals[i] = lappend(quals[i], rinfo);
	}
	for (i = 0; i < ncols; i++)
	{
		double		corr = colscan_correlation(root, rel, relation, attnos[i]);
		double		sel = clauselist_selectivity(root, quals[i], rel->relid,
												 JOIN_INNER, NULL);
		double		groups = Min(1.0, sel + opts.chunk_group_rows / rel->tuples);
		double		c2 = corr * corr;

		best = Min(best, c2 * groups + (1 - c2));
	}
	return (1 - flushed) + flushed * best;
}

static CustomPath *
colscan_make_path(PlannerInfo *root, RelOptInfo *rel, double frac, double read,
				  int workers)
{
	CustomPath *cpath = makeNode(CustomPath);
	Path	   *path = &cpath->path;

	path->pathtype = T_CustomScan;
	path->parent = rel;
	path->pathtarget = rel->reltarget;
	path->param_info = workers > 0 ? NULL :
		get_baserel_parampathinfo(root, rel, rel->lateral_relids);
	path->parallel_aware = workers > 0;
	path->parallel_safe = rel->consider_parallel;
	path->parallel_workers = workers;
	path->pathkeys = NIL;
	cpath->flags = CUSTOMPATH_SUPPORT_PROJECTION;
	cpath->custom_paths = NIL;
	cpath->custom_private = NIL;
	cpath->methods = &colscan_path_methods;
	colscan_cost(root, rel, path, frac, read, workers);
	return cpath;
}

/* does tablespace spcid set effective_io_concurrency itself? */
static bool
colscan_spc_sets_io_concurrency(Oid spcid)
{
	HeapTuple	tup;
	bool		result = false;

	if (!OidIsValid(spcid))
		spcid = MyDatabaseTableSpace;
	tup = SearchSysCache1(TABLESPACEOID, ObjectIdGetDatum(spcid));
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		opts = SysCacheGetAttr(TABLESPACEOID, tup,
										   Anum_pg_tablespace_spcoptions,
										   &isnull);

		if (!isnull)
		{
			ListCell   *lc;

			foreach(lc, untransformRelOptions(opts))
				if (strcmp(((DefElem *) lfirst(lc))->defname,
						   "effective_io_concurrency") == 0)
					result = true;
		}
		ReleaseSysCache(tup);
	}
	return result;
}

/*
 * colscan_get_relation_info
 *		get_relation_info_hook.  A rustydb table whose pages were retired
 *		(gendir.h) has rows whose TID blocks lie beyond the end of its file.
 *		Bitmap heap scans of it run without prefetching (prefetch_guard.c),
 *		except where the table's tablespace sets effective_io_concurrency
 *		itself, which overrides that: there its indexes offer no bitmap
 *		scans.  Neither does BRIN, which only ever considers the file's
 *		blocks and would miss the rows of reused blocks.  (Retiring the
 *		first page sends a relcache invalidation, so cached plans are made
 *		again.)
 */
static get_relation_info_hook_type prev_get_relation_info_hook = NULL;

static void
colscan_get_relation_info(PlannerInfo *root, Oid relationObjectId,
						  bool inhparent, RelOptInfo *rel)
{
	if (prev_get_relation_info_hook)
		prev_get_relation_info_hook(root, relationObjectId, inhparent, rel);

	if (rel->indexlist != NIL && !inhparent)
	{
		Relation	relation = table_open(relationObjectId, NoLock);
		bool		retired;
		bool		all = false;

		retired = relation->rd_rel->relkind == RELKIND_RELATION &&
			relation->rd_tableam == rdb_tableam_routine() &&
			!RELATION_IS_OTHER_TEMP(relation) &&
			rdb_meta_gendir(relation, NULL);
		if (retired)
			all = colscan_spc_sets_io_concurrency(relation->rd_rel->reltablespace);
		table_close(relation, NoLock);
		if (retired)
		{
			ListCell   *lc;

			foreach(lc, rel->indexlist)
			{
				IndexOptInfo *index = (IndexOptInfo *) lfirst(lc);

				if (all || index->relam == BRIN_AM_OID)
					index->amhasgetbitmap = false;
			}
		}
	}
}

/*
 * colscan_set_rel_pathlist
 *		set_rel_pathlist_hook: offer RustydbScan paths for a rustydb table
 *		with stripes (see the file header for when).
 */
static void
colscan_set_rel_pathlist(PlannerInfo *root, RelOptInfo *rel, Index rti,
						 RangeTblEntry *rte)
{
	Relation	relation;
	bool		ours;
	Bitmapset  *attrs = NULL;
	ListCell   *lc;
	int			x;
	int			nlive = 0;
	int			nneeded = 0;
	double		frac;
	double		flushed;
	double		read = 1.0;

	if (prev_set_rel_pathlist_hook)
		prev_set_rel_pathlist_hook(root, rel, rti, rte);

	if (!rdb_enable_columnar_scan)
		return;
	if (rte->rtekind != RTE_RELATION || rte->relkind != RELKIND_RELATION ||
		rte->tablesample != NULL || rte->inh)
		return;
	if (rel->reloptkind != RELOPT_BASEREL &&
		rel->reloptkind != RELOPT_OTHER_MEMBER_REL)
		return;
	/*
	 * SELECT, INSERT ... SELECT, and the target table of UPDATE and DELETE
	 * (colscan_epq_next hands EvalPlanQual the row version it rechecks, as
	 * ExecScanFetch does for a seq scan).  Relations with a row mark (FOR
	 * UPDATE/SHARE, the other tables of UPDATE/DELETE ... FROM) keep the
	 * ordinary scan: EvalPlanQual fetches their rows itself.  MERGE is left
	 * out as a whole.
	 */
	if (get_plan_rowmark(root->rowMarks, rti) != NULL)
		return;
	switch (root->parse->commandType)
	{
		case CMD_SELECT:
		case CMD_INSERT:
			break;
		case CMD_UPDATE:
		case CMD_DELETE:
			if (!bms_is_member(rti, root->all_result_relids))
				return;
			break;
		default:
			return;
	}

	/* whole-row and system columns (but ctid, tableoid): not ours */
	pull_varattnos((Node *) rel->reltarget->exprs, rel->relid, &attrs);
	foreach(lc, rel->baserestrictinfo)
		pull_varattnos((Node *) ((RestrictInfo *) lfirst(lc))->clause,
					   rel->relid, &attrs);
	x = -1;
	while ((x = bms_next_member(attrs, x)) >= 0)
	{
		AttrNumber	attno = x + FirstLowInvalidHeapAttributeNumber;

		if (attno == 0 ||
			(attno < 0 && attno != SelfItemPointerAttributeNumber &&
			 attno != TableOidAttributeNumber))
			return;
		if (attno > 0)
			nneeded++;
	}

	relation = table_open(rte->relid, NoLock);
	ours = relation->rd_tableam == rdb_tableam_routine() &&
		rdb_meta_stripes_share(relation, &flushed);
	if (ours)
	{
		for (x = 0; x < RelationGetDescr(relation)->natts; x++)
			if (!TupleDescAttr(RelationGetDescr(relation), x)->attisdropped)
				nlive++;
		read = colscan_read_share(root, rel, relation, flushed);
	}
	table_close(relation, NoLock);
	if (!ours)
		return;

	frac = nlive > 0 ? (double) Max(nneeded, 1) / nlive : 1.0;
	add_path(rel, (Path *) colscan_make_path(root, rel, frac, read, 0));

	/* parallel over L0 blocks, as a parallel seq scan */
	if (rel->consider_parallel && rel->lateral_relids == NULL)
	{
		int			workers = compute_parallel_worker(rel, rel->pages, -1,
													  max_parallel_workers_per_gather);

		if (workers > 0)
			add_partial_path(rel, (Path *) colscan_make_path(root, rel, frac,
															 read, workers));
	}
}

/*
 * colscan_plan_path
 *		PlanCustomPath: a CustomScan whose custom_exprs are the quals usable
 *		for skipping (also kept in plan.qual, which decides).  The columns
 *		to read are taken at execution from the final targetlist and quals:
 *		the planner may call this with no targetlist (CP_IGNORE_TLIST) and
 *		put the real one in afterwards, as the path can project.
 */
static Plan *
colscan_plan_path(PlannerInfo *root, RelOptInfo *rel,
				  struct CustomPath *best_path, List *tlist,
				  List *clauses, List *custom_plans)
{
	CustomScan *cscan = makeNode(CustomScan);
	List	   *quals = extract_actual_clauses(clauses, false);
	List	   *skip = NIL;
	bool		quals_secure = false;
	ListCell   *lc;

	cscan->scan.plan.targetlist = tlist;
	cscan->scan.plan.qual = quals;
	cscan->scan.scanrelid = rel->relid;
	cscan->flags = best_path->flags;
	cscan->methods = &colscan_scan_methods;

	/*
	 * Under row-level security or a security-barrier view (quals of a
	 * security level above 0), no skipping: which groups a user's qual skips
	 * would tell them the bounds of rows the policy hides from them.
	 */
	foreach(lc, clauses)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

		if (rinfo->security_level > 0)
			quals_secure = true;
	}
	foreach(lc, quals)
	{
		if (!quals_secure &&
			skip_analyze((Node *) lfirst(lc), rel->relid, NULL))
			skip = lappend(skip, copyObject(lfirst(lc)));
	}
	cscan->custom_private = NIL;
	cscan->custom_exprs = skip;
	cscan->custom_scan_tlist = NIL;
	return &cscan->scan.plan;
}

/* ------------------------------------------------------------------------
 * Execution
 * ------------------------------------------------------------------------
 */

static Node *
colscan_create_state(CustomScan *cscan)
{
	ColScanState *state = palloc0(sizeof(ColScanState));

	NodeSetTag(state, T_CustomScanState);
	state->css.flags = cscan->flags;
	state->css.methods = &colscan_exec_methods;
	return (Node *) state;
}

static void
colscan_begin(CustomScanState *node, EState *estate, int eflags)
{
	ColScanState *state = (ColScanState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	Bitmapset  *proj = NULL;
	Bitmapset  *filt = NULL;
	MemoryContext oldcxt;
	ListCell   *lc;
	int			i;
	int			x;
	HASHCTL		ctl;

	state->rel = node->ss.ss_currentRelation;
	state->desc = RelationGetDescr(state->rel);
	state->natts = state->desc->natts;
	state->cxt = AllocSetContextCreate(estate->es_query_cxt, "rustydb colscan",
									   ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(state->cxt);

	state->need_first = palloc0(sizeof(bool) * state->natts);
	state->need_late = palloc0(sizeof(bool) * state->natts);
	state->first_cols = palloc(sizeof(int) * state->natts);
	state->late_cols = palloc(sizeof(int) * state->natts);
	state->late_values = palloc(sizeof(Datum) * state->natts);
	state->late_isnull = palloc(sizeof(bool) * state->natts);

	/*
	 * With quals, the columns they use are decoded first and the rest of the
	 * projected ones only for rows that pass; without, all at once.
	 */
	pull_varattnos((Node *) cscan->scan.plan.targetlist, cscan->scan.scanrelid,
				   &proj);
	pull_varattnos((Node *) cscan->scan.plan.qual, cscan->scan.scanrelid,
				   &filt);
	x = -1;
	while ((x = bms_next_member(filt, x)) >= 0)
	{
		AttrNumber	attno = x + FirstLowInvalidHeapAttributeNumber;

		if (attno > 0)
			state->need_first[attno - 1] = true;
	}
	x = -1;
	while ((x = bms_next_member(proj, x)) >= 0)
	{
		AttrNumber	attno = x + FirstLowInvalidHeapAttributeNumber;

		if (attno == 0)
			elog(ERROR, "rustydb colscan: whole-row reference in the targetlist");
		if (attno < 0)
			continue;
		if (filt == NULL)
			state->need_first[attno - 1] = true;
		else if (!state->need_first[attno - 1])
			state->need_late[attno - 1] = true;
	}
	for (i = 0; i < state->natts; i++)
	{
		if (state->need_first[i])
			state->first_cols[state->nfirst++] = i;
		if (state->need_late[i])
			state->late_cols[state->nlate++] = i;
		if (state->need_first[i] || state->need_late[i])
			state->maxatt = i + 1;
	}

	state->nkeys = list_length(cscan->custom_exprs);
	state->keys = palloc0(sizeof(ColSkipKey) * Max(state->nkeys, 1));
	i = 0;
	foreach(lc, cscan->custom_exprs)
	{
		ColSkipKey *key = &state->keys[i++];

		if (!skip_analyze((Node *) lfirst(lc), cscan->scan.scanrelid, key))
			elog(ERROR, "rustydb colscan: skip qual no longer analysable");
		if (key->arg)
			key->argstate = ExecInitExpr(key->arg, &node->ss.ps);
		if (OidIsValid(key->cmpproc))
			fmgr_info(key->cmpproc, &key->cmp);
		key->vec = colscan_vec_width(key, state->desc);
	}

	/* every qual a key that can be evaluated in bulk? */
	state->vec_quals = state->nkeys > 0 &&
		state->nkeys == list_length(cscan->scan.plan.qual);
	for (i = 0; i < state->nkeys; i++)
		if (state->keys[i].vec == 0)
			state->vec_quals = false;
	state->vec_values = palloc0(sizeof(Datum *) * Max(state->nkeys, 1));
	state->vec_nulls = palloc0(sizeof(bool *) * Max(state->nkeys, 1));
	state->need_whole = palloc0(sizeof(bool) * state->natts);
	memcpy(state->need_whole, state->need_first, sizeof(bool) * state->natts);

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(uint32);
	ctl.entrysize = sizeof(ColStripeEntry);
	ctl.hcxt = state->cxt;
	state->stripes = hash_create("rustydb colscan stripes", 64, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	state->hslot = MakeSingleTupleTableSlot(state->desc,
											&TTSOpsBufferHeapTuple);
	state->sr_block = InvalidBlockNumber;
	MemoryContextSwitchTo(oldcxt);
}

/* forget skip decisions and parameter values (begin, rescan) */
static void
colscan_reset_decisions(ColScanState *state)
{
	HASH_SEQ_STATUS status;
	ColStripeEntry *entry;
	int			i;

	hash_seq_init(&status, state->stripes);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		if (entry->decision != NULL)
			memset(entry->decision, 0, entry->ngroups);
		entry->whole = 0;
		entry->summary = 0;
	}
	for (i = 0; i < state->nkeys; i++)
		state->keys[i].evaluated = false;
	state->vec_valid = false;
	/* the current stripe's entry stays: its decisions were cleared above */
	state->last_group = UINT32_MAX;
}

/* the scan's entry of the stripe at first_block, made if it has none */
static ColStripeEntry *
colscan_stripe_entry(ColScanState *state, uint32 first_block)
{
	ColStripeEntry *entry;
	bool		found;

	entry = hash_search(state->stripes, &first_block, HASH_ENTER, &found);
	if (!found)
	{
		entry->ngroups = 0;
		entry->decision = NULL;
		entry->whole = 0;
		entry->summary = 0;
		entry->sum_read = false;
		entry->sum = NULL;
	}
	return entry;
}

/* make sr the reader of the stripe at first_block */
static void
colscan_switch_stripe(ColScanState *state, uint32 first_block)
{
	MemoryContext oldcxt;
	ColStripeEntry *entry;

	if (state->sr)
	{
		/* the epoch of batches only grows: count what the old reader loaded */
		state->epoch_base += rdb_stripe_load_count(state->sr) + 1;
		rdb_stripe_close(state->sr);
	}
	oldcxt = MemoryContextSwitchTo(state->cxt);
	state->sr = rdb_stripe_open(state->rel, first_block);
	state->sr_block = first_block;
	state->sr_ncols = rdb_stripe_header(state->sr)->ncolumns;
	state->sr_cgrows = rdb_stripe_chunk_group_rows(state->sr);
	/* a sorted stripe's order is read only once its rows are wanted */
	state->sr_sorted = rdb_stripe_is_sorted(state->sr);
	state->sr_pos = NULL;
	state->sr_near = false;
	/* the columns every row needs are decoded a chunk at a time */
	rdb_stripe_decode_whole(state->sr, state->need_whole, state->natts);
	state->vec_valid = false;
	state->last_group = UINT32_MAX;
	entry = colscan_stripe_entry(state, first_block);
	if (entry->decision == NULL)
	{
		entry->ngroups = rdb_stripe_nchunkgroups(state->sr);
		entry->decision = palloc0(Max(entry->ngroups, 1));
	}
	/* excluded whole by its summary: so is every group (counted there) */
	if (entry->summary == 2)
	{
		memset(entry->decision, 2, entry->ngroups);
		entry->whole = 2;
	}
	state->sr_entry = entry;
	MemoryContextSwitchTo(oldcxt);
}

/* decide whether chunk group g of the current stripe can be skipped */
static bool
colscan_group_skipped(ColScanState *state, uint32 g)
{
	ColStripeEntry *entry = state->sr_entry;
	ExprContext *econtext = state->css.ss.ps.ps_ExprContext;
	bool		skip = false;
	int			i;

	if (g >= entry->ngroups)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("rustydb colscan: chunk group %u out of range", g)));
	if (entry->decision[g] != 0)
		return entry->decision[g] == 2;

	for (i = 0; i < state->nkeys && !skip; i++)
	{
		ColSkipKey *key = &state->keys[i];
		Datum		min = (Datum) 0;
		Datum		max = (Datum) 0;
		Oid			collation = InvalidOid;
		uint32		nnulls;
		uint32		nrows;
		bool		has_bounds;

		/* a column added after the stripe was written: its default, unknown */
		if (key->attno > (AttrNumber) state->sr_ncols)
			continue;
		skip_evaluate(key, econtext);
		has_bounds = rdb_stripe_chunk_minmax(state->sr, g, key->attno - 1,
											 &min, &max, &collation,
											 &nnulls, &nrows);
		/* bounds of another type (binary-compatible ALTER TYPE): unusable */
		if (has_bounds &&
			rdb_stripe_column_type(state->sr, key->attno - 1) !=
			TupleDescAttr(state->desc, key->attno - 1)->atttypid)
			has_bounds = false;
		skip = skip_group_excluded(key, has_bounds, min, max, collation,
								   nnulls, nrows);
	}
	entry->decision[g] = skip ? 2 : 1;
	if (skip)
		state->counts.groups_skipped++;
	else
		state->counts.groups_scanned++;
	return skip;
}

/* does the skip quals exclude every chunk group of the current stripe? */
static bool
colscan_stripe_skipped(ColScanState *state)
{
	ColStripeEntry *entry = state->sr_entry;

	if (state->nkeys == 0)
		return false;
	if (entry->whole == 0)
	{
		uint32		g;

		entry->whole = 2;
		for (g = 0; g < entry->ngroups; g++)
		{
			if (!colscan_group_skipped(state, g))
			{
				entry->whole = 1;
				break;
			}
		}
		state->last_group = UINT32_MAX;
	}
	return entry->whole == 2;
}

/*
 * colscan_summary_skipped
 *		Do the skip quals exclude every row of the stripe at first_block by
 *		its stripe summary alone (stripe.h: its NULLs and bounds, on its
 *		first page)?  Decided once per stripe and scan (again after a
 *		rescan).  A stripe the scan passes over whole is then never opened:
 *		its directory and chunk bounds (about a page per 300 chunks, and
 *		the memory to keep them) are not read.  The first query of a new
 *		connection over the last 1 % of a compacted table read them for
 *		every stripe, each page a first touch of shared memory there.
 */
static bool
colscan_summary_skipped(ColScanState *state, uint32 first_block)
{
	ColStripeEntry *entry;

	if (state->nkeys == 0)
		return false;
	entry = colscan_stripe_entry(state, first_block);
	/* decided group by group already in this scan (or rescan) */
	if (entry->whole != 0)
		return entry->whole == 2;
	if (entry->summary == 0)
	{
		ExprContext *econtext = state->css.ss.ps.ps_ExprContext;
		RdbStripeSummary *sum;
		bool		skip = false;
		int			i;

		/* read once per scan: a rescan only asks it again */
		if (!entry->sum_read)
		{
			MemoryContext oldcxt = MemoryContextSwitchTo(state->cxt);

			entry->sum = rdb_stripe_read_summary(state->rel, first_block);
			entry->sum_read = true;
			MemoryContextSwitchTo(oldcxt);
		}
		sum = entry->sum;
		for (i = 0; sum != NULL && i < state->nkeys && !skip; i++)
		{
			ColSkipKey *key = &state->keys[i];
			const RdbStripeSummaryColumn *col;
			bool		has_bounds;

			/* a column added after the stripe was written: its default */
			if (key->attno > (AttrNumber) sum->ncolumns)
				continue;
			skip_evaluate(key, econtext);
			col = &sum->cols[key->attno - 1];
			/* bounds of another type (binary-compatible ALTER TYPE) */
			has_bounds = col->has_bounds &&
				col->typid == TupleDescAttr(state->desc, key->attno - 1)->atttypid;
			skip = skip_group_excluded(key, has_bounds, col->min, col->max,
									   col->collation, col->nnulls, sum->nrows);
		}
		entry->summary = skip ? 2 : 1;
		if (skip && entry->decision == NULL)
			state->counts.groups_skipped += sum->nchunkgroups;
		else if (skip)
		{
			/* opened before: its groups decided so far are counted */
			for (uint32 g = 0; g < entry->ngroups; g++)
			{
				if (entry->decision[g] == 0)
					state->counts.groups_skipped++;
				entry->decision[g] = 2;
			}
			entry->whole = 2;
		}
	}
	return entry->summary == 2;
}

/*
 * RdbScanRun.skip: do stripe rows first .. last of the stripe at block
 * stripe all lie in chunk groups the skip quals exclude?  Lets a retired
 * generation be passed over without its rows being listed.
 */
static bool
colscan_run_skipped(void *arg, uint32 stripe, uint32 first, uint32 last)
{
	ColScanState *state = (ColScanState *) arg;
	uint32		g;
	uint32		nrows;

	if (state->sr == NULL || stripe != state->sr_block)
	{
		if (colscan_summary_skipped(state, stripe))
			return true;
		colscan_switch_stripe(state, stripe);
	}
	/*
	 * The span is only ever too wide (see RdbScanRun): rows past the
	 * stripe's end are none of its rows.
	 */
	nrows = rdb_stripe_nrows(state->sr);
	if (first >= nrows)
		return false;
	/*
	 * Sorted by a sort key: a generation's rows may be anywhere in the
	 * stripe.  A stripe whose every chunk group is excluded lets them be
	 * passed over unread; otherwise the span says something only when no
	 * row moved far (sr_near), widened by the farthest move.
	 */
	if (state->sr_sorted)
	{
		if (colscan_stripe_skipped(state))
			return true;
		/* rows that moved little are within sr_shift of their numbers */
		colscan_positions(state);
		if (!state->sr_near)
			return false;
		first = first > state->sr_shift ? first - state->sr_shift : 0;
		last = (last >= nrows - state->sr_shift) ? nrows - 1 : last + state->sr_shift;
	}
	if (last >= nrows)
		last = nrows - 1;
	for (g = first / state->sr_cgrows; g <= last / state->sr_cgrows; g++)
	{
		if (g != state->last_group)
		{
			state->last_skip = colscan_group_skipped(state, g);
			state->last_group = g;
		}
		if (!state->last_skip)
			return false;
	}
	return true;
}

/* state->run := the retired generation in state->scanrun, as it is */
static void
colscan_take_scanrun(ColScanState *state)
{
	RdbScanRun *sr = state->scanrun;
	ColRun	   *run = &state->run_data;

	run->stripe = sr->stripe;
	run->nrows = sr->nrows;
	run->rows = sr->rows;
	run->offsets = sr->offsets;
	run->gens = NULL;
	run->gen = sr->gen;
	state->run = run;
	state->run_pos = 0;
}

/* the current stripe's row order, read now if it was not yet */
static inline const uint32 *
colscan_positions(ColScanState *state)
{
	if (state->sr_pos == NULL)
	{
		state->sr_pos = rdb_stripe_row_positions(state->sr);
		state->sr_shift = rdb_stripe_order_shift(state->sr);
		state->sr_near = state->sr_shift <= state->sr_cgrows / 2;
	}
	return state->sr_pos;
}

static int
colscan_cmp_u64(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a;
	uint64		y = *(const uint64 *) b;

	return (x > y) - (x < y);
}

/*
 * The position of row number `row` (of generation gen) in the current
 * sorted stripe, or PG_UINT32_MAX when the skip quals exclude its chunk
 * group (then counted as skipped).
 */
static uint32
colscan_sorted_position(ColScanState *state, uint32 row, uint32 gen)
{
	uint32		nrows = rdb_stripe_nrows(state->sr);
	uint32		pos;

	if (row >= nrows)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("rustydb colscan: row %u of generation %u is beyond the %u rows of stripe %u",
						row, gen, nrows, state->sr_block)));
	pos = colscan_positions(state)[row];
	if (state->nkeys > 0)
	{
		uint32		g = pos / state->sr_cgrows;

		if (g != state->last_group)
		{
			state->last_skip = colscan_group_skipped(state, g);
			state->last_group = g;
		}
		if (state->last_skip)
		{
			state->counts.rows_skipped++;
			return PG_UINT32_MAX;
		}
	}
	return pos;
}

/*
 * The retired generation in state->scanrun, of a sorted stripe whose rows
 * moved little (sr_near): its row numbers made positions in place, rows in
 * chunk groups the skip quals exclude dropped (counted as skipped), put in
 * position order if they are not.  Then it is handed out as it is: its rows
 * lie in one or two neighbouring chunk groups, as an unsorted stripe's do.
 */
static void
colscan_run_positions(ColScanState *state)
{
	RdbScanRun *run = state->scanrun;
	bool		ascending = true;
	int			n = 0;
	int			k;

	for (k = 0; k < run->nrows; k++)
	{
		uint32		pos = colscan_sorted_position(state, run->rows[k], run->gen);

		if (pos == PG_UINT32_MAX)
			continue;
		if (n > 0 && pos < run->rows[n - 1])
			ascending = false;
		run->rows[n] = pos;
		run->offsets[n] = run->offsets[k];
		n++;
	}
	run->nrows = n;
	if (!ascending)
	{
		uint64		keyed[MaxHeapTuplesPerPage];

		for (k = 0; k < n; k++)
			keyed[k] = ((uint64) run->rows[k] << 16) | run->offsets[k];
		qsort(keyed, n, sizeof(uint64), colscan_cmp_u64);
		for (k = 0; k < n; k++)
		{
			run->rows[k] = (uint32) (keyed[k] >> 16);
			run->offsets[k] = (OffsetNumber) (keyed[k] & 0xFFFF);
		}
	}
}

/* make the gather ready for rows of the current stripe (it is empty) */
static void
colscan_gather_start(ColScanState *state)
{
	ColGather  *ga = &state->gather;
	uint32		nrows = rdb_stripe_nrows(state->sr);

	Assert(ga->nrows == 0);
	if (ga->nslots < nrows)
	{
		MemoryContext old = MemoryContextSwitchTo(state->cxt);

		if (ga->gen)
		{
			pfree(ga->gen);
			pfree(ga->off);
		}
		ga->gen = palloc_extended((Size) nrows * sizeof(uint32), MCXT_ALLOC_HUGE);
		ga->off = palloc_extended((Size) nrows * sizeof(OffsetNumber),
								  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		ga->nslots = nrows;
		MemoryContextSwitchTo(old);
	}
	ga->stripe = state->sr_block;
	ga->lo = PG_UINT32_MAX;
	ga->hi = 0;
}

/*
 * Add row number `row` of the current stripe (sorted by a sort key), whose
 * TID is (gen, off), to the gather at its position, unless its chunk group
 * is excluded by the skip quals (counted as skipped then).
 */
static void
colscan_gather_one(ColScanState *state, uint32 row, uint32 gen, OffsetNumber off)
{
	ColGather  *ga = &state->gather;
	uint32		pos = colscan_sorted_position(state, row, gen);

	if (pos == PG_UINT32_MAX)
		return;
	if (ga->nrows == 0)
		colscan_gather_start(state);
	Assert(ga->stripe == state->sr_block && ga->nslots >= rdb_stripe_nrows(state->sr));
	if (ga->off[pos] != InvalidOffsetNumber)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("rustydb colscan: position %u of stripe %u met twice",
						pos, state->sr_block)));
	ga->gen[pos] = gen;
	ga->off[pos] = off;
	ga->nrows++;
	if (pos < ga->lo)
		ga->lo = pos;
	if (pos > ga->hi)
		ga->hi = pos;
}

/*
 * Gather a stub of the current stripe (tup), or the retired generation in
 * state->scanrun of that stripe (tup NULL).
 */
static void
colscan_gather_add(ColScanState *state, HeapTuple tup)
{
	RdbScanRun *run = state->scanrun;
	int			k;

	if (tup != NULL)
	{
		colscan_gather_one(state, rdb_stub_data(tup->t_data).row,
						   ItemPointerGetBlockNumber(&tup->t_self),
						   ItemPointerGetOffsetNumber(&tup->t_self));
		return;
	}
	Assert(run->stripe == state->sr_block);
	for (k = 0; k < run->nrows; k++)
		colscan_gather_one(state, run->rows[k], run->gen, run->offsets[k]);
}

/* state->run := the gathered rows in position order; the gather empties */
static void
colscan_gather_take(ColScanState *state)
{
	ColGather  *ga = &state->gather;
	ColRun	   *run = &state->run_data;
	int64		n = 0;
	uint32		pos;

	if (ga->out_cap < ga->nrows)
	{
		MemoryContext old = MemoryContextSwitchTo(state->cxt);

		if (ga->out_rows)
		{
			pfree(ga->out_rows);
			pfree(ga->out_offsets);
			pfree(ga->out_gens);
		}
		ga->out_rows = palloc_extended(ga->nrows * sizeof(uint32), MCXT_ALLOC_HUGE);
		ga->out_offsets = palloc_extended(ga->nrows * sizeof(OffsetNumber), MCXT_ALLOC_HUGE);
		ga->out_gens = palloc_extended(ga->nrows * sizeof(uint32), MCXT_ALLOC_HUGE);
		ga->out_cap = ga->nrows;
		MemoryContextSwitchTo(old);
	}
	for (pos = ga->lo; pos <= ga->hi && n < ga->nrows; pos++)
	{
		if (ga->off[pos] == InvalidOffsetNumber)
			continue;
		ga->out_rows[n] = pos;
		ga->out_offsets[n] = ga->off[pos];
		ga->out_gens[n] = ga->gen[pos];
		ga->off[pos] = InvalidOffsetNumber;
		n++;
	}
	Assert(n == ga->nrows);
	run->stripe = ga->stripe;
	run->nrows = (int) n;
	run->rows = ga->out_rows;
	run->offsets = ga->out_offsets;
	run->gens = ga->out_gens;
	state->run = run;
	state->run_pos = 0;
	ga->nrows = 0;
}

/*
 * The next row of the table AM scan (*tup), or rows taken whole (*tup NULL,
 * the rows in state->run); false at the end.  The generations it passed
 * over on the way, all rows in skipped chunk groups, are counted either way.
 *
 * The rows of a stripe sorted by a sort key, from its retired generations
 * and from stubs of L0 pages alike, are not handed out as the walk meets
 * them but gathered (colscan_gather_one) until the walk meets a row of
 * another sorted stripe or ends; everything else (L0 rows, stubs and
 * retired generations of other stripes) is handed out meanwhile.  Rows still
 * come out once each, only in another order, which a seq scan never
 * promised; only their TIDs are kept, their visibility having been decided
 * by the walk already.
 */
static bool
colscan_next_chunk(ColScanState *state, HeapTuple *tup, Buffer *buf)
{
	if (state->gather_done)
		return false;

	for (;;)
	{
		RdbScanRun *sr = state->scanrun;
		bool		more = rdb_scan_next_chunk(state->tscan, tup, buf, sr);
		uint32		stripe;

		state->counts.rows_skipped += sr->nskipped;
		state->counts.gens_skipped += sr->ngens_skipped;
		state->counts.skip_steps += sr->nskip_steps;
		state->counts.skip_groups += sr->nskip_groups;

		if (!more)
		{
			if (state->gather.nrows == 0)
				return false;
			/* the last gather, then the end */
			state->gather_done = true;
			*tup = NULL;
			*buf = InvalidBuffer;
			colscan_gather_take(state);
			return true;
		}

		if (*tup == NULL)
		{
			/* a retired generation */
			if (sr->nrows == 0)
			{
				colscan_take_scanrun(state);
				return true;
			}
			stripe = sr->stripe;
		}
		else if (rdb_tuple_is_stub((*tup)->t_data))
			stripe = rdb_stub_data((*tup)->t_data).stripe;
		else
			return true;		/* an L0 row */

		if (state->sr == NULL || stripe != state->sr_block)
			colscan_switch_stripe(state, stripe);
		if (!state->sr_sorted)
		{
			if (*tup == NULL)
				colscan_take_scanrun(state);
			return true;
		}

		/* a sorted stripe's rows: passed over when none can match ... */
		if (*tup != NULL && colscan_stripe_skipped(state))
		{
			state->counts.rows_skipped++;
			continue;
		}
		/* ... handed out as they come when rows moved little ... */
		colscan_positions(state);
		if (state->sr_near)
		{
			if (*tup == NULL)
			{
				colscan_run_positions(state);
				colscan_take_scanrun(state);
			}
			return true;		/* a stub: colscan_next maps its row */
		}
		/*
		 * ... else gathered; another sorted stripe's row first hands out
		 * the gather, then starts the next
		 */
		if (state->gather.nrows > 0 && state->gather.stripe != stripe)
		{
			ColRun	   *out;

			colscan_gather_take(state);
			out = state->run;
			colscan_gather_add(state, *tup);
			state->run = out;
			*tup = NULL;
			*buf = InvalidBuffer;
			return true;
		}
		colscan_gather_add(state, *tup);
	}
}

/* fill the slot's columns that a stripe row of the current stripe lacks */
static void
colscan_missing(ColScanState *state, const int *cols, int ncols,
				Datum *values, bool *isnull)
{
	int			i;

	for (i = 0; i < ncols; i++)
	{
		int			c = cols[i];

		if (c >= (int) state->sr_ncols)
			values[c] = getmissingattr(state->desc, c + 1, &isnull[c]);
	}
}

/*
 * colscan_vec_width: can key be evaluated on decoded values in bulk (see
 * ColSkipKey.vec)?  Types whose btree order is that of their integer
 * representation, compared with a value of the same type.
 */
static int
colscan_type_width(Oid type)
{
	switch (type)
	{
		case INT2OID:
			return 2;
		case INT4OID:
		case DATEOID:
			return 4;
		case INT8OID:
		case TIMEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			return 8;
		default:
			return 0;
	}
}

static bool
colscan_type_is_integer(Oid type)
{
	return type == INT2OID || type == INT4OID || type == INT8OID;
}

static int
colscan_vec_width(ColSkipKey *key, TupleDesc desc)
{
	Oid			coltype = TupleDescAttr(desc, key->attno - 1)->atttypid;
	Oid			argtype;

	if (key->kind == SKIP_ISNULL || key->kind == SKIP_NOTNULL)
		return 1;
	if (key->kind != SKIP_CMP)
		return 0;
	argtype = exprType((Node *) key->arg);
	/* the same type, or two integer types (integer_ops compares numerically) */
	if (argtype != coltype &&
		!(colscan_type_is_integer(coltype) && colscan_type_is_integer(argtype)))
		return 0;
	key->argwidth = colscan_type_width(argtype);
	return colscan_type_width(coltype);
}

/*
 * Changes whenever a chunk is loaded or the stripe reader replaced: while it
 * stays the same, Datums the reader handed out are where they were.
 */
static inline uint64
colscan_epoch(ColScanState *state)
{
	return state->epoch_base + rdb_stripe_load_count(state->sr);
}

static inline int64
colscan_vec_int(int width, Datum d)
{
	return rdb_datum_int64(width, d);
}

/*
 * colscan_vec_load
 *		The quals' columns of chunk group g of the current stripe as arrays,
 *		their values evaluated; false when a column is missing from the
 *		stripe (added since: the row path substitutes its default).
 */
static bool
colscan_vec_load(ColScanState *state, uint32 g)
{
	ExprContext *econtext = state->css.ss.ps.ps_ExprContext;
	uint64		epoch = colscan_epoch(state);
	int			i;

	if (state->vec_valid && state->vec_group == g && state->vec_epoch == epoch)
		return true;
	for (i = 0; i < state->nkeys; i++)
	{
		ColSkipKey *key = &state->keys[i];

		if (!rdb_stripe_chunk_whole(state->sr, key->attno - 1, g,
									&state->vec_values[i],
									&state->vec_nulls[i]))
		{
			state->vec_valid = false;
			return false;
		}
		skip_evaluate(key, econtext);
	}
	/* loading one column's chunk leaves the others' where they were */
	state->vec_group = g;
	state->vec_epoch = colscan_epoch(state);
	state->vec_valid = true;
	return true;
}

/* does the row at position p of the loaded group pass every qual? */
static inline bool
colscan_vec_pass(ColScanState *state, uint32 p)
{
	int			i;

	for (i = 0; i < state->nkeys; i++)
	{
		ColSkipKey *key = &state->keys[i];
		bool		isnull = state->vec_nulls[i][p];
		int64		v;

		if (key->kind == SKIP_ISNULL)
		{
			if (!isnull)
				return false;
			continue;
		}
		if (key->kind == SKIP_NOTNULL)
		{
			if (isnull)
				return false;
			continue;
		}
		/* comparisons are strict */
		if (isnull || key->argnull)
			return false;
		v = colscan_vec_int(key->vec, state->vec_values[i][p]);
		switch (key->strategy)
		{
			case BTLessStrategyNumber:
				if (!(v < key->ivalue))
					return false;
				break;
			case BTLessEqualStrategyNumber:
				if (!(v <= key->ivalue))
					return false;
				break;
			case BTEqualStrategyNumber:
				if (v != key->ivalue)
					return false;
				break;
			case BTGreaterEqualStrategyNumber:
				if (!(v >= key->ivalue))
					return false;
				break;
			default:
				if (!(v > key->ivalue))
					return false;
				break;
		}
	}
	return true;
}

/*
 * colscan_next
 *		The next row that the snapshot sees, that no skip decision excludes
 *		and that passes the quals, in the scan slot with its projected
 *		columns; NULL at the end.
 */
static TupleTableSlot *
colscan_next(ColScanState *state)
{
	ScanState  *ss = &state->css.ss;
	TupleTableSlot *slot = ss->ss_ScanTupleSlot;
	ExprContext *econtext = ss->ps.ps_ExprContext;
	ExprState  *qual = ss->ps.qual;
	Datum	   *values = slot->tts_values;
	bool	   *isnull = slot->tts_isnull;

	for (;;)
	{
		HeapTuple	tup = NULL;
		Buffer		buf = InvalidBuffer;
		bool		stripe_row;
		RdbStubData sd = {0};
		ItemPointerData tid;
		bool		quals_done;
		bool		materialized;
		int			i;

		ResetExprContext(econtext);
		if (state->run != NULL && state->run_pos < state->run->nrows)
		{
			int			k;

			/* rdb_colscan_next takes a run's rows as batches */
			if (state->batch_mode)
			{
				state->run_ready = true;
				return NULL;
			}
			/* the next row of a retired generation */
			k = state->run_pos++;

			stripe_row = true;
			sd.stripe = state->run->stripe;
			sd.row = state->run->rows[k];
			ItemPointerSet(&tid,
						   state->run->gens ? state->run->gens[k] : state->run->gen,
						   state->run->offsets[k]);
		}
		else
		{
			if (state->scanrun == NULL)
			{
				state->scanrun = MemoryContextAllocZero(state->cxt, sizeof(RdbScanRun));
				if (state->nkeys > 0)
				{
					state->scanrun->skip = colscan_run_skipped;
					state->scanrun->skip_arg = state;
				}
			}
			if (state->done || !colscan_next_chunk(state, &tup, &buf))
			{
				if (!state->done)
				{
					instr_time	now;

					INSTR_TIME_SET_CURRENT(now);
					INSTR_TIME_SUBTRACT(now, state->start_time);
					state->elapsed_ms = INSTR_TIME_GET_MILLISEC(now);
					state->done = true;
					ExecClearTuple(state->hslot);
				}
				return NULL;
			}
			if (tup == NULL)
			{
				/* rows taken whole arrived: take them from the top */
				state->run_pos = 0;
				continue;
			}
			if (state->run)
				state->run->nrows = 0;
			stripe_row = rdb_tuple_is_stub(tup->t_data);
			if (stripe_row)
				sd = rdb_stub_data(tup->t_data);
			tid = tup->t_self;
		}

		/*
		 * A scattered stub with no skip quals to decide: formed whole below,
		 * without switching the reader to its stripe (opening a reader per
		 * row cost as much as forming it).
		 */
		if (stripe_row && tup != NULL && state->stub_scattered &&
			state->nkeys == 0)
			;
		else if (stripe_row)
		{
			uint32		g;
			bool		changed = false;

			if (state->sr == NULL || sd.stripe != state->sr_block)
			{
				colscan_switch_stripe(state, sd.stripe);
				changed = true;
			}
			/* a stub names a row number; a run's rows are positions already */
			if (tup != NULL && state->sr_sorted)
			{
				if (sd.row >= rdb_stripe_nrows(state->sr))
					ereport(ERROR,
							(errcode(ERRCODE_DATA_CORRUPTED),
							 errmsg("rustydb colscan: stub of row %u beyond the %u rows of stripe %u",
							sd.row, rdb_stripe_nrows(state->sr), sd.stripe)));
				sd.row = colscan_positions(state)[sd.row];
			}
			g = sd.row / state->sr_cgrows;
			if (g != state->last_group)
			{
				state->last_skip = colscan_group_skipped(state, g);
				state->last_group = g;
				changed = true;
			}
			if (tup != NULL && !state->stub_scattered)
			{
				state->stub_rows++;
				if (changed)
					state->stub_changes++;
				if (state->stub_rows >= 512 &&
					state->stub_changes * 64 > state->stub_rows)
					state->stub_scattered = true;
			}
			if (state->last_skip)
			{
				state->counts.rows_skipped++;
				/* the rest of the generation's rows in this group, at once */
				while (tup == NULL && state->run_pos < state->run->nrows &&
					   state->run->rows[state->run_pos] / state->sr_cgrows == g)
				{
					state->run_pos++;
					state->counts.rows_skipped++;
				}
				continue;
			}
		}

		/*
		 * A row of a retired generation, quals that can be evaluated in
		 * bulk: on the decoded columns, before anything else is done for it.
		 */
		quals_done = false;
		if (tup == NULL && state->vec_quals &&
			colscan_vec_load(state, sd.row / state->sr_cgrows))
		{
			if (!colscan_vec_pass(state, sd.row % state->sr_cgrows))
			{
				state->counts.rows_stripe++;
				InstrCountFiltered1(&state->css, 1);
				continue;
			}
			quals_done = true;
		}

		ExecClearTuple(slot);
		memset(isnull, true, sizeof(bool) * state->natts);
		materialized = false;
		if (stripe_row && !(tup != NULL && state->stub_scattered))
		{
			rdb_stripe_fetch_row_list(state->sr, sd.row, state->first_cols,
									  state->nfirst, values, isnull);
			colscan_missing(state, state->first_cols, state->nfirst,
							values, isnull);
			state->counts.rows_stripe++;
		}
		else
		{
			TupleTableSlot *h = state->hslot;

			/* all needed columns at once: deforming is the cost anyway */
			if (stripe_row)
			{
				/* a scattered stub: its row formed whole (stub_scattered) */
				ExecForceStoreHeapTuple(rdb_l0_materialize(state->rel, tup), h, true);
				materialized = true;
				state->counts.rows_stripe++;
				state->counts.rows_formed++;
			}
			else
			{
				ExecStoreBufferHeapTuple(tup, h, buf);
				state->counts.rows_l0++;
			}
			slot_getsomeattrs(h, state->maxatt);
			for (i = 0; i < state->nfirst; i++)
			{
				int			c = state->first_cols[i];

				values[c] = h->tts_values[c];
				isnull[c] = h->tts_isnull[c];
			}
			for (i = 0; i < state->nlate; i++)
			{
				int			c = state->late_cols[i];

				values[c] = h->tts_values[c];
				isnull[c] = h->tts_isnull[c];
			}
		}
		ExecStoreVirtualTuple(slot);
		slot->tts_tid = tid;
		slot->tts_tableOid = RelationGetRelid(state->rel);

		econtext->ecxt_scantuple = slot;
		if (qual != NULL && !quals_done && !ExecQual(qual, econtext))
		{
			InstrCountFiltered1(&state->css, 1);
			continue;
		}

		/*
		 * Late materialisation: the other projected columns, this row only
		 * (rdb_stripe_fetch_row_list leaves the filter columns' chunks and
		 * Datums alone).
		 */
		if (stripe_row && !materialized && state->nlate > 0)
		{
			rdb_stripe_fetch_row_list(state->sr, sd.row, state->late_cols,
									  state->nlate, state->late_values,
									  state->late_isnull);
			for (i = 0; i < state->nlate; i++)
			{
				int			c = state->late_cols[i];

				values[c] = state->late_values[c];
				isnull[c] = state->late_isnull[c];
			}
			colscan_missing(state, state->late_cols, state->nlate,
							values, isnull);
			state->counts.rows_late++;
		}
		return slot;
	}
}

/*
 * colscan_epq_next
 *		Under EvalPlanQual (the recheck of an UPDATE or DELETE that met a
 *		concurrently updated row), what ExecScanFetch does for a seq scan:
 *		the row version EvalPlanQual locked is this scan's only row, once;
 *		it passes through the quals like any other.  Returns false when the
 *		scan should run as usual (a relation EvalPlanQual substitutes no row
 *		for), with *result set otherwise.
 */
static bool
colscan_epq_next(CustomScanState *node, TupleTableSlot **result)
{
	EPQState   *epq = node->ss.ps.state->es_epq_active;
	Index		rti = ((Scan *) node->ss.ps.plan)->scanrelid;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	ProjectionInfo *proj = node->ss.ps.ps_ProjInfo;
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	TupleTableSlot *src;

	if (epq->relsubs_done[rti - 1])
	{
		*result = ExecClearTuple(proj ? proj->pi_state.resultslot : slot);
		return true;
	}
	if (epq->relsubs_slot[rti - 1] == NULL)
	{
		/* the planner gives row-marked relations the ordinary scan */
		if (epq->relsubs_rowmark[rti - 1] != NULL)
			elog(ERROR, "rustydb colscan: EvalPlanQual row mark on relation %u", rti);
		return false;
	}
	src = epq->relsubs_slot[rti - 1];
	epq->relsubs_done[rti - 1] = true;
	if (TupIsNull(src))
	{
		*result = ExecClearTuple(proj ? proj->pi_state.resultslot : slot);
		return true;
	}
	ExecCopySlot(slot, src);
	slot->tts_tid = src->tts_tid;
	slot->tts_tableOid = src->tts_tableOid;
	ResetExprContext(econtext);
	econtext->ecxt_scantuple = slot;
	if (node->ss.ps.qual != NULL && !ExecQual(node->ss.ps.qual, econtext))
	{
		InstrCountFiltered1(node, 1);
		*result = ExecClearTuple(proj ? proj->pi_state.resultslot : slot);
		return true;
	}
	*result = proj ? ExecProject(proj) : slot;
	return true;
}

/* open the L0 walk and start the clock, on the first row asked for */
static void
colscan_start(ColScanState *state)
{
	if (state->tscan == NULL)
	{
		/* serial (or a parallel-aware node run without workers' DSM) */
		state->tscan = table_beginscan(state->rel,
									   state->css.ss.ps.state->es_snapshot,
									   0, NULL);
	}
	if (!state->started)
	{
		state->started = true;
		INSTR_TIME_SET_CURRENT(state->start_time);
	}
}

static TupleTableSlot *
colscan_exec(CustomScanState *node)
{
	ColScanState *state = (ColScanState *) node;
	ProjectionInfo *proj = node->ss.ps.ps_ProjInfo;
	TupleTableSlot *slot;

	if (node->ss.ps.state->es_epq_active != NULL &&
		colscan_epq_next(node, &slot))
		return slot;

	colscan_start(state);
	slot = colscan_next(state);
	if (slot == NULL)
	{
		if (proj)
			return ExecClearTuple(proj->pi_state.resultslot);
		return ExecClearTuple(node->ss.ss_ScanTupleSlot);
	}
	if (proj)
	{
		node->ss.ps.ps_ExprContext->ecxt_scantuple = slot;
		return ExecProject(proj);
	}
	return slot;
}

/*
 * rdb_colscan_next_row
 *		For a node above the scan that consumes its rows itself (aggscan.c):
 *		the next row that passes the quals, in the scan slot (the
 *		relation's columns, those the scan's targetlist and quals use
 *		filled in), unprojected; NULL at the end.  Under EvalPlanQual, what
 *		ExecProcNode would return, in the same slot.
 */
TupleTableSlot *
rdb_colscan_next_row(CustomScanState *node)
{
	ColScanState *state = (ColScanState *) node;

	Assert(node->methods == &colscan_exec_methods);
	if (node->ss.ps.state->es_epq_active != NULL)
	{
		TupleTableSlot *slot = colscan_exec(node);

		return TupIsNull(slot) ? NULL : node->ss.ss_ScanTupleSlot;
	}
	colscan_start(state);
	return colscan_next(state);
}

/*
 * rdb_colscan_next
 *		For a node above the scan that consumes its rows itself, in
 *		batches where it can: RDB_COL_BATCH with the next rows of a retired
 *		generation that lie in one chunk group (batch: their positions in
 *		the group and, for each column the scan needs, the group's values
 *		as arrays; valid until the next call), RDB_COL_ROW with one row in
 *		*slot (as rdb_colscan_next_row), RDB_COL_END at the end.  Batches
 *		only come from scans without quals (every row of a retired
 *		generation counts) and outside EvalPlanQual.
 */
RdbColNext
rdb_colscan_next(CustomScanState *node, RdbColBatch *batch,
				 TupleTableSlot **slot)
{
	ColScanState *state = (ColScanState *) node;

	Assert(node->methods == &colscan_exec_methods);
	if (node->ss.ps.state->es_epq_active != NULL ||
		(node->ss.ps.qual != NULL && !state->vec_quals) ||
		(state->nlate > 0 && !state->late_whole))
	{
		*slot = rdb_colscan_next_row(node);
		return *slot != NULL ? RDB_COL_ROW : RDB_COL_END;
	}
	colscan_start(state);
	if (state->batch_pos == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(state->cxt);

		/* a gather (sorted stripes) hands out up to a whole chunk group */
		state->batch_pos = palloc(sizeof(uint32) * RDB_MAX_CHUNK_ROWS);
		state->batch_values = palloc0(sizeof(Datum *) * state->natts);
		state->batch_isnull = palloc0(sizeof(bool *) * state->natts);
		MemoryContextSwitchTo(old);
	}

	for (;;)
	{
		ColRun	   *run = state->run;

		if (run != NULL && state->run_pos < run->nrows)
		{
			uint32		g;
			uint32		base;
			uint32		end;
			int			n = 0;
			int			i;

			if (state->sr == NULL || run->stripe != state->sr_block)
				colscan_switch_stripe(state, run->stripe);
			g = run->rows[state->run_pos] / state->sr_cgrows;
			base = g * state->sr_cgrows;
			end = base + state->sr_cgrows;
			if (g != state->last_group)
			{
				state->last_skip = colscan_group_skipped(state, g);
				state->last_group = g;
			}
			if (state->last_skip)
			{
				while (state->run_pos < run->nrows &&
					   run->rows[state->run_pos] >= base &&
					   run->rows[state->run_pos] < end)
				{
					state->run_pos++;
					state->counts.rows_skipped++;
				}
				continue;
			}
			/* a column the stripe lacks (added since): row by row */
			for (i = 0; i < state->natts; i++)
			{
				if (state->need_whole[i] && i >= (int) state->sr_ncols)
					break;
			}
			if (i < state->natts)
			{
				state->batch_mode = false;
				*slot = colscan_next(state);
				return *slot != NULL ? RDB_COL_ROW : RDB_COL_END;
			}

			/* the quals, on the decoded columns */
			if (node->ss.ps.qual != NULL)
			{
				int			nrows = 0;

				if (!colscan_vec_load(state, g))
					elog(ERROR, "rustydb colscan: qual columns of chunk group %u not decoded", g);
				while (state->run_pos < run->nrows &&
					   run->rows[state->run_pos] >= base &&
					   run->rows[state->run_pos] < end)
				{
					uint32		p = run->rows[state->run_pos++] - base;

					nrows++;
					if (colscan_vec_pass(state, p))
						state->batch_pos[n++] = p;
				}
				state->counts.rows_stripe += nrows;
				state->counts.rows_late += (state->nlate > 0) ? n : 0;
				InstrCountFiltered1(node, nrows - n);
				if (n == 0)
					continue;
			}
			for (i = 0; i < state->nfirst + state->nlate; i++)
			{
				int			c = i < state->nfirst ? state->first_cols[i] :
					state->late_cols[i - state->nfirst];

				if (!rdb_stripe_chunk_whole(state->sr, c, g,
											&state->batch_values[c],
											&state->batch_isnull[c]))
					break;
			}
			if (i < state->nfirst + state->nlate)
				elog(ERROR, "rustydb colscan: columns of chunk group %u not decoded", g);
			if (node->ss.ps.qual == NULL)
			{
				while (state->run_pos < run->nrows &&
					   run->rows[state->run_pos] >= base &&
					   run->rows[state->run_pos] < end)
					state->batch_pos[n++] = run->rows[state->run_pos++] - base;
				state->counts.rows_stripe += n;
			}
			batch->n = n;
			batch->stripe = run->stripe;
			batch->group = g;
			batch->epoch = colscan_epoch(state);
			batch->pos = state->batch_pos;
			batch->values = state->batch_values;
			batch->isnull = state->batch_isnull;
			return RDB_COL_BATCH;
		}

		state->batch_mode = true;
		state->run_ready = false;
		*slot = colscan_next(state);
		state->batch_mode = false;
		if (*slot != NULL)
			return RDB_COL_ROW;
		if (!state->run_ready)
			return RDB_COL_END;
	}
}

/*
 * rdb_colscan_want_batches
 *		Called by a consumer of rdb_colscan_next before the first row: decode
 *		the late columns (those only rows that pass the quals need) a chunk
 *		at a time as well, so that rows passing bulk-evaluated quals can be
 *		handed over in batches.
 */
void
rdb_colscan_want_batches(CustomScanState *node)
{
	ColScanState *state = (ColScanState *) node;
	int			c;

	Assert(node->methods == &colscan_exec_methods);
	state->late_whole = true;
	for (c = 0; c < state->natts; c++)
		state->need_whole[c] = state->need_first[c] || state->need_late[c];
	if (state->sr != NULL)
		rdb_stripe_decode_whole(state->sr, state->need_whole, state->natts);
}

/* is this a RustydbScan path / executor node? */
bool
rdb_colscan_is_path(Path *path)
{
	return IsA(path, CustomPath) &&
		((CustomPath *) path)->methods == &colscan_path_methods;
}

bool
rdb_colscan_is_state(PlanState *ps)
{
	return IsA(ps, CustomScanState) &&
		((CustomScanState *) ps)->methods == &colscan_exec_methods;
}

/* parallel: move counters between this process and the shared state */
static void
colscan_exchange_counts(ColScanState *state, bool publish)
{
	uint64	   *local = (uint64 *) &state->counts;
	int			i;

	if (state->shared == NULL)
		return;
	for (i = 0; i < (int) COLSCAN_NCOUNTS; i++)
	{
		if (publish)
		{
			pg_atomic_fetch_add_u64(&state->shared->counts[i], local[i]);
			local[i] = 0;
		}
		else
			local[i] += pg_atomic_exchange_u64(&state->shared->counts[i], 0);
	}
}

/* ColumnScanned per column read, from the leader (or a serial scan) */
static void
colscan_emit_events(ColScanState *state)
{
	int			i;
	instr_time	now;

	if (!state->started || IsParallelWorker())
		return;
	if (!state->done)
	{
		INSTR_TIME_SET_CURRENT(now);
		INSTR_TIME_SUBTRACT(now, state->start_time);
		state->elapsed_ms = INSTR_TIME_GET_MILLISEC(now);
	}
	for (i = 0; i < state->natts; i++)
	{
		uint64		rows;

		if (state->need_first[i])
			rows = state->counts.rows_l0 + state->counts.rows_stripe;
		else if (state->need_late[i])
			rows = state->counts.rows_l0 + state->counts.rows_late;
		else
			continue;
		rdb_emit_column_scanned(state->rel,
								NameStr(TupleDescAttr(state->desc, i)->attname),
								(int64) rows, state->elapsed_ms);
	}
}

static void
colscan_end(CustomScanState *node)
{
	ColScanState *state = (ColScanState *) node;

	if (IsParallelWorker())
		colscan_exchange_counts(state, true);
	else
		colscan_emit_events(state);
	if (state->tscan)
		table_endscan(state->tscan);
	state->tscan = NULL;
	if (state->sr)
		rdb_stripe_close(state->sr);
	state->sr = NULL;
	if (state->hslot)
		ExecDropSingleTupleTableSlot(state->hslot);
	state->hslot = NULL;
	if (node->ss.ps.ps_ResultTupleSlot)
		ExecClearTuple(node->ss.ps.ps_ResultTupleSlot);
	ExecClearTuple(node->ss.ss_ScanTupleSlot);
}

static void
colscan_rescan(CustomScanState *node)
{
	ColScanState *state = (ColScanState *) node;

	if (state->tscan)
		table_rescan(state->tscan, NULL);
	ExecClearTuple(state->hslot);
	colscan_reset_decisions(state);
	state->done = false;
	if (state->run)
		state->run->nrows = 0;
	state->run_pos = 0;
	state->gather_done = false;
	if (state->gather.nrows > 0 && state->gather.off)
		memset(state->gather.off, 0, state->gather.nslots * sizeof(OffsetNumber));
	state->gather.nrows = 0;
}

/* ------------------------------------------------------------------------
 * Parallel query
 * ------------------------------------------------------------------------
 */

static Size
colscan_estimate_dsm(CustomScanState *node, ParallelContext *pcxt)
{
	return add_size(MAXALIGN(sizeof(ColScanShared)),
					table_parallelscan_estimate(node->ss.ss_currentRelation,
												node->ss.ps.state->es_snapshot));
}

static void
colscan_init_dsm(CustomScanState *node, ParallelContext *pcxt,
				 void *coordinate)
{
	ColScanState *state = (ColScanState *) node;
	ColScanShared *shared = (ColScanShared *) coordinate;
	int			i;

	for (i = 0; i < (int) COLSCAN_NCOUNTS; i++)
		pg_atomic_init_u64(&shared->counts[i], 0);
	table_parallelscan_initialize(state->rel, COLSCAN_PSCAN(shared),
								  node->ss.ps.state->es_snapshot);
	state->shared = shared;
	state->tscan = table_beginscan_parallel(state->rel, COLSCAN_PSCAN(shared));

	/*
	 * The workers start now: the scan has started even if the leader never
	 * takes part (parallel_leader_participation = off), so that its figures
	 * and ColumnScanned events cover the workers' rows.
	 */
	if (!state->started)
	{
		state->started = true;
		INSTR_TIME_SET_CURRENT(state->start_time);
	}
}

static void
colscan_reinit_dsm(CustomScanState *node, ParallelContext *pcxt,
				   void *coordinate)
{
	ColScanState *state = (ColScanState *) node;
	ColScanShared *shared = (ColScanShared *) coordinate;

	/* the previous round's workers are done: keep their figures */
	colscan_exchange_counts(state, false);
	table_parallelscan_reinitialize(state->rel, COLSCAN_PSCAN(shared));
}

static void
colscan_init_worker(CustomScanState *node, shm_toc *toc, void *coordinate)
{
	ColScanState *state = (ColScanState *) node;
	ColScanShared *shared = (ColScanShared *) coordinate;

	state->shared = shared;
	state->tscan = table_beginscan_parallel(state->rel, COLSCAN_PSCAN(shared));
}

/*
 * colscan_shutdown
 *		Workers add their figures to the shared ones; the leader (whose
 *		workers have finished by the time a fully read Gather shuts its
 *		children down) takes them over, while the DSM still exists.
 */
static void
colscan_shutdown(CustomScanState *node)
{
	ColScanState *state = (ColScanState *) node;

	colscan_exchange_counts(state, IsParallelWorker());
}

/* ------------------------------------------------------------------------
 * EXPLAIN
 * ------------------------------------------------------------------------
 */

static char *
colscan_column_names(ColScanState *state, const bool *a, const bool *b)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < state->natts; i++)
	{
		if (!a[i] && !(b && b[i]))
			continue;
		if (buf.len > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf,
							   quote_identifier(NameStr(TupleDescAttr(state->desc, i)->attname)));
	}
	return buf.data;
}

static void
colscan_explain(CustomScanState *node, List *ancestors, ExplainState *es)
{
	ColScanState *state = (ColScanState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;

	ExplainPropertyText("Columns",
						colscan_column_names(state, state->need_first,
											 state->need_late), es);
	if (state->nlate > 0)
		ExplainPropertyText("Late Columns",
							colscan_column_names(state, state->need_late, NULL),
							es);
	if (cscan->custom_exprs != NIL)
	{
		List	   *context;
		char	   *str;

		context = set_deparse_context_plan(es->deparse_cxt,
										   node->ss.ps.plan, ancestors);
		str = deparse_expression((Node *) make_ands_explicit(cscan->custom_exprs),
								 context, list_length(es->rtable) > 1, false);
		ExplainPropertyText("Skip Quals", str, es);
	}
	if (es->analyze)
	{
		ExplainPropertyUInteger("Chunk Groups Scanned", NULL,
								state->counts.groups_scanned, es);
		ExplainPropertyUInteger("Chunk Groups Skipped", NULL,
								state->counts.groups_skipped, es);
		ExplainPropertyUInteger("L0 Rows", NULL, state->counts.rows_l0, es);
		ExplainPropertyUInteger("Stripe Rows", NULL,
								state->counts.rows_stripe, es);
		ExplainPropertyUInteger("Stripe Rows Skipped", NULL,
								state->counts.rows_skipped, es);
		if (es->verbose)
		{
			/* how the directory walk passed over retired generations */
			ExplainPropertyUInteger("Generations Skipped", NULL,
									state->counts.gens_skipped, es);
			ExplainPropertyUInteger("Generation Skip Steps", NULL,
									state->counts.skip_steps, es);
			ExplainPropertyUInteger("Generation Groups Skipped", NULL,
									state->counts.skip_groups, es);
			/* stubs that jumped between stripes or chunk groups */
			ExplainPropertyUInteger("Stub Rows Formed", NULL,
									state->counts.rows_formed, es);
		}
	}
}

/* ------------------------------------------------------------------------
 * Registration
 * ------------------------------------------------------------------------
 */

/*
 * rdb_colscan_init
 *		Install the planner hook and register the scan's methods by name
 *		(parallel workers look them up when they read the plan).  Called
 *		from _PG_init.
 */
void
rdb_colscan_init(void)
{
	RegisterCustomScanMethods(&colscan_scan_methods);
	prev_set_rel_pathlist_hook = set_rel_pathlist_hook;
	set_rel_pathlist_hook = colscan_set_rel_pathlist;
	prev_get_relation_info_hook = get_relation_info_hook;
	get_relation_info_hook = colscan_get_relation_info;
}
