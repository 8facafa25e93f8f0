/*-------------------------------------------------------------------------
 *
 * guc.c
 *	  Every rustydb.* configuration parameter, in one place.
 *
 * The L0 row store has no tunables of its own yet: it follows heap's
 * settings (fillfactor, autovacuum, vacuum_freeze_*).  The prefix is
 * reserved all the same, so that a misspelt rustydb.* setting is an error
 * rather than a silently ignored placeholder.
 *
 * IDENTIFICATION
 *	  src/guc.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"

#include "rustydb/rustydb.h"

/*
 * rdb_guc_init
 *		Define the module's GUCs; called from _PG_init while preloading.
 */
void
rdb_guc_init(void)
{
	MarkGUCPrefixReserved("rustydb");
}
