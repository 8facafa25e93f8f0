/*-------------------------------------------------------------------------
 *
 * rustydb.c
 *	  Module entry point: PG_MODULE_MAGIC and _PG_init.
 *
 * rustydb must be loaded through shared_preload_libraries: it registers a
 * custom WAL resource manager, which PostgreSQL only accepts while the
 * postmaster loads preloaded libraries (a standby and crash recovery need it
 * before any backend could load the library on demand).  When the library is
 * loaded any other way it stays inert, and every entry point that would
 * touch rustydb storage raises OBJECT_NOT_IN_PREREQUISITE_STATE instead
 * (the pg_stat_statements convention), so nothing is written that recovery
 * could not replay.
 *
 * IDENTIFICATION
 *	  src/rustydb.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "rustydb/rustydb.h"
#include "rustydb/cache.h"
#include "rustydb/colscan.h"
#include "rustydb/events.h"
#include "rustydb/lsm.h"
#include "rustydb/stripe.h"
#include "rustydb/xlog.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* true once _PG_init ran in the postmaster's preload phase */
bool		rdb_preloaded = false;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
rdb_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	rdb_events_shmem_request();
	rdb_flush_shmem_request();
	rdb_flush_demand_shmem_request();
	rdb_compact_shmem_request();
	rdb_cache_shmem_request();
	rdb_stripe_reuse_shmem_request();
}

static void
rdb_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	rdb_events_shmem_startup();
	rdb_flush_shmem_startup();
	rdb_flush_demand_shmem_startup();
	rdb_compact_shmem_startup();
	rdb_cache_shmem_startup();
	rdb_stripe_reuse_shmem_startup();
}

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;

	rdb_guc_init();
	rdb_xlog_register_rmgr();
	rdb_options_init();
	rdb_colscan_init();
	rdb_aggscan_init();
	rdb_prefetch_guard_init();

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = rdb_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = rdb_shmem_startup;

	/* binary upgrade runs no workers (nothing to publish, catalogs in flux) */
	if (!IsBinaryUpgrade)
		rdb_bgw_register();

	rdb_preloaded = true;
}

/*
 * rdb_check_preloaded
 *		Raise an error unless the library was preloaded.
 */
void
rdb_check_preloaded(void)
{
	if (!rdb_preloaded)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("rustydb_am must be loaded via shared_preload_libraries"),
				 errdetail("rustydb registers a WAL resource manager, which is only possible at server start."),
				 errhint("Add rustydb_am to shared_preload_libraries in postgresql.conf and restart the server.")));
}

/*
 * rdb_require_select
 *		Raise 42501 unless the current user may SELECT from the table: the
 *		rule of every SQL function that shows a table's layout, stripes,
 *		columns or flush history (what its rows look like).
 */
void
rdb_require_select(Oid relid)
{
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s",
						get_rel_name(relid) ? get_rel_name(relid) : "?")));
}

/*
 * rdb_require_rustydb_table
 *		Raise 42809 unless relid is a rustydb table (or materialized view):
 *		for functions that would otherwise answer a row of NULLs for an
 *		index, a sequence or a heap table.  Takes AccessShareLock, kept to
 *		the end of the transaction, as opening the table to read it would.
 */
void
rdb_require_rustydb_table(Oid relid)
{
	Relation	rel = relation_open(relid, AccessShareLock);

	if (rel->rd_tableam != rdb_tableam_routine())
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a rustydb table", RelationGetRelationName(rel))));
	relation_close(rel, NoLock);
}
