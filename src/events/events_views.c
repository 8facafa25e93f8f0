/*-------------------------------------------------------------------------
 *
 * events_views.c
 *	  SQL-callable functions behind rustydb.events, rustydb.events_since,
 *	  rustydb.event_stats, rustydb.io_stats and rustydb.event_payload.
 *
 * The event functions read the ring without locks (see ring.c) and show
 * only the current database's events, and among those only events whose
 * relation the current user may SELECT; members of pg_monitor see all.
 * Events of relations that no longer exist are shown to pg_monitor only.
 * rustydb.event_stats and rustydb.io_stats show the current database's rows
 * to everyone and other databases' rows only to members of pg_monitor.
 *
 * Memory: result rows are built in the per-query context by the
 * materialized-SRF helper.
 *
 * IDENTIFICATION
 *	  src/events/events_views.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_authid.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "rustydb/rustydb.h"
#include "rustydb/events.h"

PG_FUNCTION_INFO_V1(rustydb_events_since);
PG_FUNCTION_INFO_V1(rustydb_event_stats);
PG_FUNCTION_INFO_V1(rustydb_event_stats_0_3);
PG_FUNCTION_INFO_V1(rustydb_io_stats);
PG_FUNCTION_INFO_V1(rustydb_event_payload);

/* may the current user see this event? */
static bool
event_visible(const RdbEvent *ev, bool monitor)
{
	bool		is_missing = false;

	if (ev->dbid != MyDatabaseId)
		return false;
	if (monitor || !OidIsValid(ev->relid))
		return true;
	if (pg_class_aclcheck_ext(ev->relid, GetUserId(), ACL_SELECT,
							  &is_missing) != ACLCHECK_OK)
		return false;
	return !is_missing;
}

static Datum
payload_jsonb(const RdbEvent *ev, uint64 seq)
{
	StringInfoData buf;
	Datum		result;

	initStringInfo(&buf);
	rdb_event_payload(ev, seq, &buf, false);
	result = DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
	pfree(buf.data);
	return result;
}

/*
 * rustydb.events_since(after_seq bigint): the events after after_seq still
 * in the ring.  Warns when some of them have been overwritten already, so a
 * client catching up knows it has a gap.
 */
Datum
rustydb_events_since(PG_FUNCTION_ARGS)
{
	int64		after = PG_GETARG_INT64(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		monitor;
	uint64		next;
	uint64		oldest;
	uint64		seq;
	uint64		first_wanted;

	rdb_check_preloaded();
	if (after < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("after_seq must not be negative")));

	InitMaterializedSRF(fcinfo, 0);
	monitor = has_privs_of_role(GetUserId(), ROLE_PG_MONITOR);

	next = rdb_events_next_seq();
	oldest = next > rdb_events_capacity() ? next - rdb_events_capacity() : 1;
	first_wanted = (uint64) after + 1;
	if (first_wanted < oldest && first_wanted < next && after > 0)
		ereport(WARNING,
				(errmsg("rustydb events %llu to %llu were overwritten in the ring before they were read",
						(unsigned long long) first_wanted,
						(unsigned long long) (oldest - 1)),
				 errhint("Read more often, or raise rustydb.event_ring_size.")));

	for (seq = Max(first_wanted, oldest); seq < next; seq++)
	{
		RdbEvent	ev;
		const RdbEventVariantInfo *vi;
		Datum		values[7];
		bool		nulls[7] = {false};

		if (!rdb_events_read(seq, &ev, NULL) || !event_visible(&ev, monitor))
			continue;
		vi = rdb_event_variant((RdbEventVariant) ev.variant);

		values[0] = Int64GetDatum((int64) seq);
		values[1] = CStringGetTextDatum(rdb_event_channel_name(vi->channel));
		values[2] = CStringGetTextDatum(rdb_event_message_type(vi->channel));
		values[3] = CStringGetTextDatum(vi->name);
		if (OidIsValid(ev.relid))
			values[4] = ObjectIdGetDatum(ev.relid);
		else
			nulls[4] = true;
		values[5] = payload_jsonb(&ev, seq);
		values[6] = TimestampTzGetDatum(ev.at);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * The delivery counters the current user may see: the current database's
 * (zeros if it has none yet), and others' only for pg_monitor.  Returns the
 * number of entries in *out (palloc'd).
 */
static int
visible_counts(RdbDbCounts **out, TimestampTz *since)
{
	bool		monitor = has_privs_of_role(GetUserId(), ROLE_PG_MONITOR);
	RdbDbCounts *all = palloc0(sizeof(RdbDbCounts) * (RDB_MAX_EVENT_DBS + 2));
	int			n = rdb_events_get_counts(all, RDB_MAX_EVENT_DBS + 1, since);
	int			i;
	int			k = 0;
	bool		have_mine = false;

	for (i = 0; i < n; i++)
	{
		if (all[i].dbid == MyDatabaseId)
			have_mine = true;
		else if (!monitor)
			continue;
		all[k++] = all[i];
	}
	if (!have_mine)
	{
		memset(&all[k], 0, sizeof(RdbDbCounts));
		all[k++].dbid = MyDatabaseId;
	}
	*out = all;
	return k;
}

/*
 * rustydb.event_stats_internal() of 0.2.0: delivery counters per channel,
 * summed over the databases the user may see.
 */
Datum
rustydb_event_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	RdbDbCounts *dbs;
	TimestampTz since;
	int			n;
	int			ch;

	rdb_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	n = visible_counts(&dbs, &since);

	for (ch = 0; ch < RDB_NUM_CHANNELS; ch++)
	{
		Datum		values[2 + RDB_NUM_COUNTERS];
		bool		nulls[2 + RDB_NUM_COUNTERS] = {false};
		int			i;
		int			d;

		values[0] = CStringGetTextDatum(rdb_event_channel_name(ch));
		for (i = 0; i < RDB_NUM_COUNTERS; i++)
		{
			uint64		sum = 0;

			for (d = 0; d < n; d++)
				sum += dbs[d].counts[ch][i];
			values[1 + i] = Int64GetDatum((int64) sum);
		}
		values[1 + RDB_NUM_COUNTERS] = TimestampTzGetDatum(since);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * rustydb.event_stats_by_database(): delivery counters per database and
 * channel (0.3.0).  database is NULL on the row that sums the databases
 * beyond the first RDB_MAX_EVENT_DBS.
 */
Datum
rustydb_event_stats_0_3(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	RdbDbCounts *dbs;
	TimestampTz since;
	int			n;
	int			d;

	rdb_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	n = visible_counts(&dbs, &since);

	for (d = 0; d < n; d++)
	{
		int			ch;

		for (ch = 0; ch < RDB_NUM_CHANNELS; ch++)
		{
			Datum		values[3 + RDB_NUM_COUNTERS];
			bool		nulls[3 + RDB_NUM_COUNTERS] = {false};
			int			i;

			values[0] = CStringGetTextDatum(rdb_event_channel_name(ch));
			for (i = 0; i < RDB_NUM_COUNTERS; i++)
				values[1 + i] = Int64GetDatum((int64) dbs[d].counts[ch][i]);
			values[1 + RDB_NUM_COUNTERS] = TimestampTzGetDatum(since);
			if (OidIsValid(dbs[d].dbid))
				values[2 + RDB_NUM_COUNTERS] = ObjectIdGetDatum(dbs[d].dbid);
			else
				nulls[2 + RDB_NUM_COUNTERS] = true;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}

/*
 * rustydb.io_stats: the latest IoStats of the current database, and of the
 * others for pg_monitor
 */
Datum
rustydb_io_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	RdbEvent   *stats;
	bool		monitor;
	int			n;
	int			i;

	rdb_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	monitor = has_privs_of_role(GetUserId(), ROLE_PG_MONITOR);
	stats = palloc(sizeof(RdbEvent) * RDB_MAX_EVENT_DBS);
	n = rdb_io_get_stats(stats, RDB_MAX_EVENT_DBS);
	for (i = 0; i < n; i++)
	{
		Datum		values[8];
		bool		nulls[8] = {false};

		if (stats[i].dbid != MyDatabaseId && !monitor)
			continue;
		values[0] = ObjectIdGetDatum(stats[i].dbid);
		values[1] = Float8GetDatum(stats[i].num[0]);
		values[2] = Float8GetDatum(stats[i].num[1]);
		values[3] = Float8GetDatum(stats[i].num[2]);
		values[4] = Float8GetDatum(stats[i].num[3]);
		values[5] = Int64GetDatum((int64) stats[i].num[4]);
		values[6] = Int64GetDatum((int64) stats[i].num[5]);
		values[7] = TimestampTzGetDatum(stats[i].at);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* the jsonb value of key in an object, or NULL */
static JsonbValue *
jsonb_field(Jsonb *jb, const char *key)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	return findJsonbValueFromContainer(&jb->root, JB_FOBJECT, &k);
}

/*
 * The value of a numeric field: an integer field must fit in bigint, a
 * float field in double precision; otherwise 22003, as a cast would say.
 */
static double
field_number(JsonbValue *jv, const RdbEventField *f,
			 const RdbEventVariantInfo *vi)
{
	Datum		num = NumericGetDatum(jv->val.numeric);
	double		v;

	/* numeric_float8 raises 22003 itself for values beyond double */
	v = DatumGetFloat8(DirectFunctionCall1(numeric_float8, num));
	if (isinf(v) || isnan(v) ||
		(f->type == RDB_FIELD_INT && !FLOAT8_FITS_IN_INT64(v)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("field \"%s\" of %s is out of range for %s: %s",
						f->name, vi->name,
						f->type == RDB_FIELD_INT ? "an integer" : "a float",
						DatumGetCString(DirectFunctionCall1(numeric_out, num)))));
	if (f->type == RDB_FIELD_INT)
		return (double) DatumGetInt64(DirectFunctionCall1(numeric_int8, num));
	return v;
}

/*
 * The "timestamp" field (unix seconds) as a timestamptz: 22003 for values
 * outside timestamptz's range, as to_timestamp() says.
 */
static TimestampTz
field_timestamp(JsonbValue *jv, const RdbEventVariantInfo *vi)
{
	Datum		num = NumericGetDatum(jv->val.numeric);
	double		v = DatumGetFloat8(DirectFunctionCall1(numeric_float8, num));
	int64		secs = 0;

	if (FLOAT8_FITS_IN_INT64(v))
		secs = DatumGetInt64(DirectFunctionCall1(numeric_int8, num));

	/*
	 * Valid unix seconds: from MIN_TIMESTAMP up to (not including)
	 * END_TIMESTAMP, shifted from the PostgreSQL epoch to the Unix epoch.
	 */
	if (!FLOAT8_FITS_IN_INT64(v) ||
		secs < MIN_TIMESTAMP / USECS_PER_SEC +
		(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY ||
		secs >= END_TIMESTAMP / USECS_PER_SEC +
		(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("field \"timestamp\" of %s is out of range for a timestamp: %s",
						vi->name,
						DatumGetCString(DirectFunctionCall1(numeric_out, num)))));
	return time_t_to_timestamptz((pg_time_t) secs);
}

/*
 * rustydb.event_payload(variant text, fields jsonb): the payload the
 * engine's builder makes for a variant with these field values.  Used to
 * check the builder against the seed's test data.
 */
Datum
rustydb_event_payload(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Jsonb	   *fields = PG_GETARG_JSONB_P(1);
	int			v = rdb_event_variant_by_name(name);
	const RdbEventVariantInfo *vi;
	RdbEvent	ev;
	JsonbValue *jv;
	StringInfoData buf;
	int			i;

	if (v < 0)
	{
		StringInfoData names;

		initStringInfo(&names);
		for (i = 0; i < RDB_NUM_VARIANTS; i++)
			appendStringInfo(&names, "%s%s", i ? ", " : "",
							 rdb_event_variant((RdbEventVariant) i)->name);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown storage event variant \"%s\"", name),
				 errhint("Valid variants are: %s.", names.data)));
	}
	if (!JB_ROOT_IS_OBJECT(fields))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("fields must be a JSON object")));

	vi = rdb_event_variant((RdbEventVariant) v);
	memset(&ev, 0, sizeof(ev));
	ev.variant = v;

	for (i = 0; i < vi->nfields; i++)
	{
		const RdbEventField *f = &vi->fields[i];

		jv = jsonb_field(fields, f->name);
		if (jv == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("field \"%s\" of %s is missing", f->name, vi->name)));
		if (f->type == RDB_FIELD_TEXT)
		{
			if (jv->type != jbvString)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("field \"%s\" of %s must be a string", f->name, vi->name)));
			rdb_event_set_text(&ev, f->slot, jv->val.string.val,
							   jv->val.string.len);
		}
		else
		{
			if (jv->type != jbvNumeric)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("field \"%s\" of %s must be a number", f->name, vi->name)));
			ev.num[f->slot] = field_number(jv, f, vi);
		}
	}

	jv = jsonb_field(fields, "timestamp");
	if (jv != NULL && jv->type == jbvNumeric)
		ev.at = field_timestamp(jv, vi);
	else
		ev.at = GetCurrentTimestamp();

	initStringInfo(&buf);
	rdb_event_payload(&ev, 0, &buf, false);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}
