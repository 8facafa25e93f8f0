/*-------------------------------------------------------------------------
 *
 * options.c
 *	  Table options of rustydb tables on DDL (ProcessUtility hook): take
 *	  ours out of WITH (...) / SET (...) / RESET (...), store them in
 *	  pg_class.reloptions ourselves, and check heap's.
 *
 * PostgreSQL 15 lets a table access method define no reloptions of its own:
 * heap_reloptions validates WITH (...) of every table and rejects names it
 * does not know.  So before standard_ProcessUtility runs CREATE TABLE,
 * CREATE TABLE AS / SELECT INTO or ALTER TABLE, this hook removes our
 * options (reloptions.c: flush_rows, compression, ...) from the statement
 * (a copy of it when the tree is read-only), validates them, and checks that
 * the target will be a rustydb table; any error comes before anything is
 * changed.  After the statement succeeded it writes them into the
 * relation's pg_class.reloptions, merged with heap's (a catalog update in
 * the statement's transaction: a later error or ROLLBACK undoes it).  heap
 * reads reloptions with validate = false when building the relcache, so it
 * ignores our names there; pg_dump emits them in CREATE TABLE ... WITH,
 * which comes back through this hook on restore.
 *
 * ALTER TABLE SET / RESET of heap's options validates the table's whole
 * merged reloptions with validate = true, which would reject ours: when a
 * table with our options gets such a statement, ours are taken out of
 * pg_class first (and put back, with the statement's changes, after).
 * SET ACCESS METHOD to another access method drops ours (pg_dump of the
 * result would otherwise emit options the new access method rejects).
 *
 * Ours are accepted on rustydb tables only (relkind 'r'): not on heap or
 * other tables, partitioned tables (which store no rows; PostgreSQL 15
 * refuses every option and USING on them anyway), or materialized views
 * (flush works on tables only).
 *
 * Also checked after the statement: a rustydb table must not carry
 * user_catalog_table = true.  Logical decoding reads user catalog tables
 * with historic snapshots and needs combo-CID mappings (XLOG_HEAP2_NEW_CID)
 * for every change to them, which the rustydb rmgr does not log.  The DML
 * paths refuse such a table too (decode.c), for tables that got the option
 * some other way.
 *
 * Locking: CREATE locks the new relation itself.  For ALTER TABLE we take
 * the statement's own lock level (AlterTableGetLockLevel, with the same
 * ownership checks, AlterTableLookupRelation) before touching pg_class, so
 * standard_ProcessUtility re-takes a lock we hold.  pg_class is updated
 * under RowExclusiveLock, as ALTER TABLE SET does.
 *
 * Memory: the statement copy and option values live in the caller's
 * (statement) memory context.
 *
 * IDENTIFICATION
 *	  src/tableam/options.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/heapam.h"
#include "access/skey.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_am.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/tablecmds.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "rustydb/rustydb.h"
#include "rustydb/options.h"
#include "rustydb/stripe.h"

static ProcessUtility_hook_type prev_utility_hook = NULL;
static object_access_hook_type prev_object_access_hook = NULL;

/*
 * Tables a column of which was dropped or altered by the current statement,
 * whatever way (DROP DOMAIN / TYPE / COLLATION ... CASCADE drop columns
 * through dependencies, ALTER TYPE ... CASCADE changes typed tables): their
 * sort_key is brought in step once the statement is done
 * (options_sort_key_settle).  Transaction memory; forgotten at its end.
 */
static List *sort_key_touched = NIL;

/* one of our options a statement sets (value) or resets (NULL) */
typedef struct OptionChange
{
	RdbTableOption opt;
	char	   *value;			/* canonical text, or NULL for RESET */
} OptionChange;

/* what the hook does around one statement */
typedef struct OptionsWork
{
	List	   *changes;		/* OptionChange *, in statement order */
	bool		is_create;
	RangeVar   *create_rv;		/* CREATE: the new relation's name */
	Oid			existed;		/* CREATE IF NOT EXISTS: relation found before */
	Oid			relid;			/* ALTER: the relation */
	bool		final_rdb;		/* ALTER: a rustydb table afterwards */
	char	   *before[RDB_NUM_TABLE_OPTIONS];	/* ALTER: stored before */
	bool		write;			/* ALTER: pg_class must be written after */
} OptionsWork;

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

/* ---------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------
 */

/* does the table access method called amname use rustydb's handler? */
static bool
options_am_is_rustydb(const char *amname)
{
	Oid			amoid;
	HeapTuple	tuple;
	Oid			handler;

	amoid = get_table_am_oid(amname, true);
	if (!OidIsValid(amoid))
		return true;			/* let PostgreSQL report the missing AM */
	tuple = SearchSysCache1(AMOID, ObjectIdGetDatum(amoid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for access method %u", amoid);
	handler = ((Form_pg_am) GETSTRUCT(tuple))->amhandler;
	ReleaseSysCache(tuple);
	return GetTableAmRoutine(handler) == rdb_tableam_routine();
}

/* the error for our options on something that is not a rustydb table */
static void
options_refuse(List *changes, const char *detail, const char *hint)
{
	OptionChange *c = linitial(changes);

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("rustydb option \"%s\" is only accepted on rustydb tables",
					rdb_table_option_name(c->opt)),
			 errdetail_internal("%s", detail),
			 errhint("%s", hint)));
}

/* does a list of changes set (not only reset) anything? */
static bool
options_sets_any(List *changes)
{
	ListCell   *lc;

	foreach(lc, changes)
		if (((OptionChange *) lfirst(lc))->value != NULL)
			return true;
	return false;
}

/* does a WITH / SET / RESET list name one of our options? */
static bool
options_list_mentions_ours(List *defs)
{
	ListCell   *lc;

	foreach(lc, defs)
	{
		DefElem    *def = lfirst_node(DefElem, lc);

		if (def->defnamespace == NULL &&
			rdb_table_option_lookup(def->defname) >= 0)
			return true;
	}
	return false;
}

/* is this a statement whose option lists we look at, and does it name ours? */
static bool
options_stmt_mentions_ours(Node *parsetree)
{
	ListCell   *lc;

	switch (nodeTag(parsetree))
	{
		case T_CreateStmt:
			return options_list_mentions_ours(((CreateStmt *) parsetree)->options);
		case T_CreateTableAsStmt:
			{
				CreateTableAsStmt *stmt = (CreateTableAsStmt *) parsetree;

				return stmt->into != NULL &&
					options_list_mentions_ours(stmt->into->options);
			}
		case T_AlterTableStmt:
			{
				AlterTableStmt *stmt = (AlterTableStmt *) parsetree;

				if (stmt->objtype != OBJECT_TABLE && stmt->objtype != OBJECT_MATVIEW)
					return false;
				foreach(lc, stmt->cmds)
				{
					AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

					if ((cmd->subtype == AT_SetRelOptions ||
						 cmd->subtype == AT_ResetRelOptions) &&
						options_list_mentions_ours((List *) cmd->def))
						return true;
				}
				return false;
			}
		default:
			return false;
	}
}

/*
 * options_take
 *		Remove our options from *defs (a WITH / SET / RESET list) and return
 *		them validated, as OptionChanges appended to changes.  Errors are
 *		heap's where heap has one for the same mistake.
 */
static List *
options_take(List **defs, bool is_reset, List *changes)
{
	ListCell   *lc;
	bits32		seen = 0;

	foreach(lc, *defs)
	{
		DefElem    *def = lfirst_node(DefElem, lc);
		int			opt;
		OptionChange *c;

		if (def->defnamespace != NULL)
			continue;			/* toast.x and the like are heap's */
		opt = rdb_table_option_lookup(def->defname);
		if (opt < 0)
			continue;

		if (seen & (1 << opt))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("parameter \"%s\" specified more than once",
							def->defname)));
		seen |= (1 << opt);

		c = palloc(sizeof(OptionChange));
		c->opt = (RdbTableOption) opt;
		if (is_reset)
		{
			if (def->arg != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_SYNTAX_ERROR),
						 errmsg("RESET must not include values for parameters")));
			c->value = NULL;
		}
		else
		{
			if (def->arg == NULL && opt == RDB_OPT_FLUSH_RUNNING)
				c->value = pstrdup("on");	/* WITH (flush_running): on, as heap's booleans */
			else if (def->arg == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("rustydb option \"%s\" requires a value",
								def->defname)));
			else
				c->value = rdb_table_option_check((RdbTableOption) opt,
												  defGetString(def));
		}
		changes = lappend(changes, c);
		*defs = foreach_delete_current(*defs, lc);
	}
	return changes;
}

/* apply changes to vals[] (our stored options) */
static void
options_apply(char *vals[RDB_NUM_TABLE_OPTIONS], List *changes)
{
	ListCell   *lc;

	foreach(lc, changes)
	{
		OptionChange *c = lfirst(lc);

		vals[c->opt] = c->value;
	}
}

/*
 * options_store
 *		Set relid's pg_class.reloptions to its entries that are not ours,
 *		followed by ours from vals[] (NULL: not set), and make that visible
 *		(relcache invalidation, CommandCounterIncrement).  The caller holds
 *		a lock on the relation that keeps its options from changing.
 */
static void
options_store(Oid relid, char *vals[RDB_NUM_TABLE_OPTIONS])
{
	Relation	pg_class;
	HeapTuple	tuple;
	HeapTuple	newtuple;
	Datum		datum;
	bool		isnull;
	char	   *old_ours[RDB_NUM_TABLE_OPTIONS];
	List	   *others;
	Datum	   *elems;
	int			n = 0;
	int			i;
	ListCell   *lc;
	Datum		repl_val[Natts_pg_class];
	bool		repl_null[Natts_pg_class];
	bool		repl_repl[Natts_pg_class];

	pg_class = table_open(RelationRelationId, RowExclusiveLock);
	tuple = SearchSysCacheCopy1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	datum = SysCacheGetAttr(RELOID, tuple, Anum_pg_class_reloptions, &isnull);
	rdb_table_options_split(isnull ? (Datum) 0 : datum, old_ours, &others);

	elems = palloc(sizeof(Datum) * (list_length(others) + RDB_NUM_TABLE_OPTIONS));
	foreach(lc, others)
		elems[n++] = PointerGetDatum(lfirst(lc));
	for (i = 0; i < RDB_NUM_TABLE_OPTIONS; i++)
		if (vals[i] != NULL)
			elems[n++] = CStringGetTextDatum(psprintf("%s=%s",
													  rdb_table_option_name((RdbTableOption) i),
													  vals[i]));

	memset(repl_val, 0, sizeof(repl_val));
	memset(repl_null, false, sizeof(repl_null));
	memset(repl_repl, false, sizeof(repl_repl));
	repl_repl[Anum_pg_class_reloptions - 1] = true;
	if (n > 0)
		repl_val[Anum_pg_class_reloptions - 1] =
			PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false,
											TYPALIGN_INT));
	else
		repl_null[Anum_pg_class_reloptions - 1] = true;

	newtuple = heap_modify_tuple(tuple, RelationGetDescr(pg_class),
								 repl_val, repl_null, repl_repl);
	CatalogTupleUpdate(pg_class, &newtuple->t_self, newtuple);
	InvokeObjectPostAlterHook(RelationRelationId, relid, 0);

	heap_freetuple(newtuple);
	heap_freetuple(tuple);
	table_close(pg_class, RowExclusiveLock);

	/* (the pg_class update invalidates it too; be explicit) */
	CacheInvalidateRelcacheByRelid(relid);
	CommandCounterIncrement();
}

/* our options stored in relid's pg_class.reloptions, into vals[] */
static void
options_read_stored(Oid relid, char *vals[RDB_NUM_TABLE_OPTIONS])
{
	HeapTuple	tuple;
	Datum		datum;
	bool		isnull;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	datum = SysCacheGetAttr(RELOID, tuple, Anum_pg_class_reloptions, &isnull);
	rdb_table_options_split(isnull ? (Datum) 0 : datum, vals, NULL);
	ReleaseSysCache(tuple);
}

/* ---------------------------------------------------------------------
 * Before the statement
 * ---------------------------------------------------------------------
 */

/* CREATE TABLE / CREATE TABLE AS: take ours, check the target */
static void
options_before_create(List **defs, RangeVar *rv, const char *amname,
					  bool partitioned, bool matview, bool if_not_exists,
					  OptionsWork *w)
{
	w->changes = options_take(defs, false, NIL);
	if (w->changes == NIL)
		return;

	if (matview)
		options_refuse(w->changes,
					   "Materialized views take no rustydb options.",
					   "Leave out the rustydb options.");
	if (partitioned)
		options_refuse(w->changes,
					   psprintf("\"%s\" is a partitioned table, which stores no rows itself.",
								rv->relname),
					   "Set the options on each rustydb partition.");
	if (amname == NULL)
		amname = default_table_access_method;
	if (!options_am_is_rustydb(amname))
		options_refuse(w->changes,
					   psprintf("Table \"%s\" would use access method \"%s\".",
								rv->relname, amname),
					   "Create the table with USING rustydb, or leave out the rustydb options.");

	w->is_create = true;
	w->create_rv = rv;
	if (if_not_exists)
		w->existed = RangeVarGetRelid(rv, NoLock, true);
}

/* ALTER TABLE: take ours, lock, check the target, clear ours if needed */
static void
options_before_alter(AlterTableStmt *stmt, OptionsWork *w)
{
	ListCell   *lc;
	const char *new_am = NULL;
	bool		set_reset = false;
	bool		relevant = false;
	bool		stored_any = false;
	Relation	rel;
	bool		is_table;
	int			i;

	if (stmt->objtype != OBJECT_TABLE && stmt->objtype != OBJECT_MATVIEW)
		return;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		if (cmd->subtype == AT_SetRelOptions || cmd->subtype == AT_ResetRelOptions)
		{
			List	   *defs = (List *) cmd->def;

			w->changes = options_take(&defs, cmd->subtype == AT_ResetRelOptions,
									  w->changes);
			/* (only written when ours were taken: the tree is then a copy) */
			if (defs != (List *) cmd->def)
				cmd->def = (Node *) defs;
			set_reset = true;
			relevant = true;
		}
		else if (cmd->subtype == AT_SetAccessMethod)
		{
			new_am = cmd->name;
			relevant = true;
		}
	}
	if (!relevant)
		return;

	/* the statement's own lock and permission checks, before any change */
	w->relid = AlterTableLookupRelation(stmt, AlterTableGetLockLevel(stmt->cmds));
	if (!OidIsValid(w->relid))
		return;					/* IF EXISTS, and it does not */

	rel = relation_open(w->relid, NoLock);
	is_table = rel->rd_rel->relkind == RELKIND_RELATION;
	if (new_am != NULL)
		w->final_rdb = is_table && options_am_is_rustydb(new_am);
	else
		w->final_rdb = is_table && rel->rd_tableam == rdb_tableam_routine();

	if (options_sets_any(w->changes) && !w->final_rdb)
	{
		if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
			options_refuse(w->changes,
						   psprintf("\"%s\" is a partitioned table, which stores no rows itself.",
									RelationGetRelationName(rel)),
						   "Set the options on each rustydb partition.");
		if (!is_table)
			options_refuse(w->changes,
						   psprintf("\"%s\" is not a table.", RelationGetRelationName(rel)),
						   "Leave out the rustydb options.");
		options_refuse(w->changes,
					   psprintf("Table \"%s\" %s access method \"%s\".",
								RelationGetRelationName(rel),
								new_am ? "would use" : "uses",
								new_am ? new_am : get_am_name(rel->rd_rel->relam)),
					   "Make it a rustydb table first (ALTER TABLE ... SET ACCESS METHOD rustydb, also in the same statement).");
	}
	relation_close(rel, NoLock);

	options_read_stored(w->relid, w->before);
	for (i = 0; i < RDB_NUM_TABLE_OPTIONS; i++)
		if (w->before[i] != NULL)
			stored_any = true;

	/*
	 * heap validates the table's merged reloptions with validate = true on
	 * SET / RESET (of its own options, or of an emptied list): take ours out
	 * of the way first, to be put back after the statement.
	 */
	if (stored_any && set_reset)
	{
		char	   *none[RDB_NUM_TABLE_OPTIONS] = {0};

		options_store(w->relid, none);
	}
	w->write = w->changes != NIL || (stored_any && (set_reset || !w->final_rdb));
}

/* ---------------------------------------------------------------------
 * After the statement
 * ---------------------------------------------------------------------
 */

/*
 * options_check_sort_key
 *		The columns of a sort_key value must exist in relid and be of a type
 *		stripes can order by (rdb_stripe_type_orderable); checked after the
 *		statement, when a CREATE TABLE's or ADD COLUMN's columns exist.  An
 *		error rolls the whole statement back.
 */
static void
options_check_sort_key(Oid relid, const char *value)
{
	ListCell   *lc;

	foreach(lc, rdb_sort_key_names(value))
	{
		char	   *name = (char *) lfirst(lc);
		AttrNumber	attno = get_attnum(relid, name);

		if (attno == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" named in rustydb option \"sort_key\" does not exist",
							name)));
		if (attno < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("rustydb option \"sort_key\" cannot name system column \"%s\"",
							name)));
		if (!rdb_stripe_type_orderable(get_atttype(relid, attno)))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("column \"%s\" of type %s cannot be in rustydb option \"sort_key\"",
							name, format_type_be(get_atttype(relid, attno))),
					 errdetail("A sort key column needs a type whose default btree operator class has sort support.")));
	}
}

/*
 * options_sort_key_usable
 *		value without the columns options_check_sort_key would refuse, with
 *		a WARNING for each; NULL if none is left.  For pg_upgrade only
 *		(IsBinaryUpgrade): a table whose key went stale under a build
 *		before the key followed such changes (its column's type changed, or the column dropped
 *		through a dependency) must not stop the upgrade of the cluster.
 */
static char *
options_sort_key_usable(Oid relid, const char *value)
{
	List	   *kept = NIL;
	ListCell   *lc;

	foreach(lc, rdb_sort_key_names(value))
	{
		char	   *name = (char *) lfirst(lc);
		AttrNumber	attno = get_attnum(relid, name);

		if (attno <= 0 || !rdb_stripe_type_orderable(get_atttype(relid, attno)))
		{
			ereport(WARNING,
					(errmsg("column \"%s\" left rustydb option \"sort_key\" of table \"%s\": it does not exist or cannot be ordered",
							name, get_rel_name(relid))));
			continue;
		}
		kept = lappend(kept, name);
	}
	return kept != NIL ? rdb_sort_key_text(kept) : NULL;
}

/*
 * options_sort_key_follow
 *		Keep relid's stored sort_key in step with its columns: the column
 *		oldname is now called newname (RENAME COLUMN; NULLs for none), and
 *		columns that no longer exist (DROP COLUMN) leave the key, which goes
 *		when it is left empty.  Nothing for tables without a sort key.
 */
static void
options_sort_key_follow(Oid relid, const char *oldname, const char *newname)
{
	char	   *vals[RDB_NUM_TABLE_OPTIONS];
	List	   *kept = NIL;
	ListCell   *lc;
	bool		changed = false;
	Relation	rel;
	bool		ours;

	rel = try_relation_open(relid, NoLock);
	if (rel == NULL)
		return;
	ours = rel->rd_rel->relkind == RELKIND_RELATION &&
		rel->rd_tableam == rdb_tableam_routine();
	relation_close(rel, NoLock);
	if (!ours)
		return;
	options_read_stored(relid, vals);
	if (vals[RDB_OPT_SORT_KEY] == NULL)
		return;
	foreach(lc, rdb_sort_key_names(vals[RDB_OPT_SORT_KEY]))
	{
		char	   *name = (char *) lfirst(lc);

		if (oldname != NULL && strcmp(name, oldname) == 0)
		{
			name = pstrdup(newname);
			changed = true;
		}
		else if (get_attnum(relid, name) == InvalidAttrNumber)
		{
			changed = true;
			continue;
		}
		kept = lappend(kept, name);
	}
	if (!changed)
		return;
	vals[RDB_OPT_SORT_KEY] = kept != NIL ? rdb_sort_key_text(kept) : NULL;
	options_store(relid, vals);
}

/*
 * A column of relation objectId (subId: its number) is dropped or was
 * altered: note the relation for options_sort_key_settle.
 */
static void
options_object_access(ObjectAccessType access, Oid classId, Oid objectId,
					  int subId, void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);
	if ((access == OAT_DROP || access == OAT_POST_ALTER) &&
		classId == RelationRelationId && subId > 0 &&
		!list_member_oid(sort_key_touched, objectId))
	{
		MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

		sort_key_touched = lappend_oid(sort_key_touched, objectId);
		MemoryContextSwitchTo(old);
	}
}

static void
options_xact_callback(XactEvent event, void *arg)
{
	if (rdb_xact_event_ends(event))
		sort_key_touched = NIL; /* gone with TopTransactionContext */
}

/*
 * options_sort_key_settle
 *		After a statement: the tables whose columns it dropped or altered
 *		keep a sort_key that names existing columns of orderable types, as
 *		CREATE TABLE and SET would accept again (pg_dump writes it into
 *		CREATE TABLE, and a stale one made the restore, and pg_upgrade,
 *		fail on that table).  Columns gone leave the key, as with ALTER
 *		TABLE ... DROP COLUMN; a key column whose type was changed to one
 *		stripes cannot order by fails the statement, as a btree index on it
 *		would.  Renames were followed already (rdb_process_utility).
 */
static void
options_sort_key_settle(void)
{
	while (sort_key_touched != NIL)
	{
		Oid			relid = linitial_oid(sort_key_touched);
		char	   *vals[RDB_NUM_TABLE_OPTIONS];

		sort_key_touched = list_delete_first(sort_key_touched);
		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
			continue;			/* dropped whole */
		options_sort_key_follow(relid, NULL, NULL);
		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
			continue;
		options_read_stored(relid, vals);
		if (vals[RDB_OPT_SORT_KEY] != NULL)
			options_check_sort_key(relid, vals[RDB_OPT_SORT_KEY]);
	}
}

/*
 * The typed tables of the composite type whose relation is typrelid (ALTER
 * TYPE ... RENAME ATTRIBUTE ... CASCADE renames their columns too).
 */
static List *
options_typed_tables(Oid typrelid)
{
	Oid			typid = get_rel_type_id(typrelid);
	List	   *result = NIL;
	Relation	pg_class;
	ScanKeyData key;
	TableScanDesc scan;
	HeapTuple	tup;

	if (!OidIsValid(typid))
		return NIL;
	pg_class = table_open(RelationRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_class_reloftype, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(typid));
	scan = table_beginscan_catalog(pg_class, 1, &key);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
		result = lappend_oid(result, ((Form_pg_class) GETSTRUCT(tup))->oid);
	table_endscan(scan);
	table_close(pg_class, AccessShareLock);
	return result;
}

/* options_sort_key_follow for relid and every table that inherits from it */
static void
options_sort_key_follow_all(Oid relid, const char *oldname, const char *newname)
{
	ListCell   *lc;

	if (!OidIsValid(relid))
		return;
	/* the statement locked them all, recursing */
	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
		options_sort_key_follow(lfirst_oid(lc), oldname, newname);
}

static void
options_after(OptionsWork *w)
{
	char	   *vals[RDB_NUM_TABLE_OPTIONS] = {0};

	if (w->is_create)
	{
		Oid			nsp;
		Oid			relid;
		Relation	rel;

		nsp = RangeVarGetCreationNamespace(w->create_rv);
		relid = get_relname_relid(w->create_rv->relname, nsp);
		if (!OidIsValid(relid) || relid == w->existed)
			return;				/* IF NOT EXISTS found one: leave it alone */
		/* checked before; the created relation must agree */
		rel = relation_open(relid, NoLock);
		if (rel->rd_rel->relkind != RELKIND_RELATION ||
			rel->rd_tableam != rdb_tableam_routine())
			options_refuse(w->changes,
						   psprintf("\"%s\" is not a rustydb table.",
									RelationGetRelationName(rel)),
						   "Create the table with USING rustydb, or leave out the rustydb options.");
		relation_close(rel, NoLock);
		options_apply(vals, w->changes);
		if (vals[RDB_OPT_SORT_KEY] != NULL && IsBinaryUpgrade)
			vals[RDB_OPT_SORT_KEY] = options_sort_key_usable(relid, vals[RDB_OPT_SORT_KEY]);
		if (vals[RDB_OPT_SORT_KEY] != NULL)
			options_check_sort_key(relid, vals[RDB_OPT_SORT_KEY]);
		options_store(relid, vals);
		return;
	}

	if (!OidIsValid(w->relid) || !w->write)
		return;
	if (w->final_rdb)
	{
		ListCell   *lc;

		memcpy(vals, w->before, sizeof(vals));
		options_apply(vals, w->changes);
		/*
		 * The key is checked when this statement sets it: a stored one may
		 * name a column this statement drops (pruned after it), which must
		 * not fail the statement.
		 */
		foreach(lc, w->changes)
		{
			OptionChange *c = lfirst(lc);

			if (c->opt == RDB_OPT_SORT_KEY && c->value != NULL)
				options_check_sort_key(w->relid, c->value);
		}
	}
	/* else: ours go (only RESETs can be among the changes) */
	options_store(w->relid, vals);
}

/* the user_catalog_table check of a relation the statement made or changed */
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
	OptionsWork w;

	memset(&w, 0, sizeof(w));

	/* we are about to scribble on the statement: work on a copy */
	if (readOnlyTree && options_stmt_mentions_ours(parsetree))
	{
		pstmt = copyObject(pstmt);
		parsetree = pstmt->utilityStmt;
		readOnlyTree = false;
	}

	switch (nodeTag(parsetree))
	{
		case T_CreateStmt:
			{
				CreateStmt *stmt = (CreateStmt *) parsetree;

				options_before_create(&stmt->options, stmt->relation,
									  stmt->accessMethod,
									  stmt->partspec != NULL, false,
									  stmt->if_not_exists, &w);
				break;
			}
		case T_CreateTableAsStmt:
			{
				CreateTableAsStmt *stmt = (CreateTableAsStmt *) parsetree;

				if (stmt->into != NULL)
					options_before_create(&stmt->into->options, stmt->into->rel,
										  stmt->into->accessMethod, false,
										  stmt->objtype == OBJECT_MATVIEW,
										  stmt->if_not_exists, &w);
				break;
			}
		case T_AlterTableStmt:
			options_before_alter((AlterTableStmt *) parsetree, &w);
			break;
		default:
			break;
	}

	if (prev_utility_hook)
		prev_utility_hook(pstmt, queryString, readOnlyTree, context, params,
						  queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);

	if (w.is_create || OidIsValid(w.relid))
		options_after(&w);

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
			{
				AlterTableStmt *stmt = (AlterTableStmt *) parsetree;
				ListCell   *lc;

				options_check_relation(stmt->relation);
				foreach(lc, stmt->cmds)
				{
					AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

					if (cmd->subtype == AT_DropColumn &&
						(stmt->objtype == OBJECT_TABLE ||
						 stmt->objtype == OBJECT_FOREIGN_TABLE))
					{
						options_sort_key_follow_all(RangeVarGetRelid(stmt->relation,
																	 NoLock, true),
													NULL, NULL);
						break;
					}
				}
				break;
			}
		case T_RenameStmt:
			{
				RenameStmt *stmt = (RenameStmt *) parsetree;

				if (stmt->renameType == OBJECT_COLUMN &&
					(stmt->relationType == OBJECT_TABLE ||
					 stmt->relationType == OBJECT_FOREIGN_TABLE) &&
					stmt->relation != NULL)
					options_sort_key_follow_all(RangeVarGetRelid(stmt->relation,
																 NoLock, true),
												stmt->subname, stmt->newname);
				/* ALTER TYPE ... RENAME ATTRIBUTE ... CASCADE: typed tables */
				if (stmt->renameType == OBJECT_ATTRIBUTE && stmt->relation != NULL)
				{
					Oid			typrelid = RangeVarGetRelid(stmt->relation,
															NoLock, true);
					ListCell   *lc;

					if (OidIsValid(typrelid))
						foreach(lc, options_typed_tables(typrelid))
							options_sort_key_follow_all(lfirst_oid(lc),
														stmt->subname,
														stmt->newname);
				}
				break;
			}
		default:
			break;
	}

	/*
	 * Whatever else dropped or altered columns of tables with a sort key;
	 * a subcommand's (CREATE TABLE's generated statements) by the statement
	 * it is part of.
	 */
	if (context != PROCESS_UTILITY_SUBCOMMAND)
		options_sort_key_settle();
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
	prev_object_access_hook = object_access_hook;
	object_access_hook = options_object_access;
	RegisterXactCallback(options_xact_callback, NULL);
}
