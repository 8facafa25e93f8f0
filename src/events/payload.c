/*-------------------------------------------------------------------------
 *
 * payload.c
 *	  The storage event schema: variants, their fields, and the JSON
 *	  payload builder.
 *
 * The table below is the one place that knows the seed's event schema
 * (seeds/000_*.txt and the JSON files in test_data/): each variant's name, channel, and
 * fields with their JSON types, in the seed's order.  Emit points fill an
 * RdbEvent's num[] / text[] slots in that order; rdb_event_payload() turns
 * it into exactly the seed's message:
 *
 *	{"message_type": "page_event",
 *	 "data": {"PageAllocated": {"page_id": 12, "size": 8192,
 *			  "timestamp": 1702569600, "relation": 16384, "database": 5}},
 *	 "timestamp": 1702569600}
 *
 * "relation" and "database" are the extra fields DESIGN.md allows.  Floats
 * are always printed with a decimal point or exponent, so a JSON reader sees
 * the seed's type even for integral values.
 *
 * Pure functions: no shared memory, no catalog access.
 *
 * IDENTIFICATION
 *	  src/events/payload.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/json.h"

#include "rustydb/events.h"

#define I(n, s)	{n, RDB_FIELD_INT, s}
#define F(n, s)	{n, RDB_FIELD_FLOAT, s}
#define T(n, s)	{n, RDB_FIELD_TEXT, s}

static const RdbEventVariantInfo rdb_variants[RDB_NUM_VARIANTS] = {
	[RDB_EV_PAGE_HIT] = {"PageHit", RDB_CH_BUFFER_POOL, true, 1, {I("page_id", 0)}},
	[RDB_EV_PAGE_MISS] = {"PageMiss", RDB_CH_BUFFER_POOL, true, 1, {I("page_id", 0)}},
	[RDB_EV_PAGE_EVICTED] = {"PageEvicted", RDB_CH_BUFFER_POOL, false, 2,
	{I("page_id", 0), T("reason", 0)}},
	[RDB_EV_PAGE_FLUSHED] = {"PageFlushed", RDB_CH_BUFFER_POOL, false, 2,
	{I("page_id", 0), I("dirty_bytes", 1)}},
	[RDB_EV_POOL_STATS] = {"PoolStats", RDB_CH_BUFFER_POOL, false, 4,
	{F("hit_rate", 0), I("total_pages", 1), I("used_pages", 2), I("dirty_pages", 3)}},
	[RDB_EV_MEMTABLE_FLUSHED] = {"MemtableFlushed", RDB_CH_LSM, false, 3,
	{T("tree_name", 0), I("entries", 0), I("size_bytes", 1)}},
	[RDB_EV_COMPACTION_STARTED] = {"CompactionStarted", RDB_CH_LSM, false, 3,
	{T("tree_name", 0), I("level", 0), I("sstable_count", 1)}},
	[RDB_EV_COMPACTION_COMPLETED] = {"CompactionCompleted", RDB_CH_LSM, false, 5,
	{T("tree_name", 0), I("level", 0), I("old_sstables", 1), I("new_sstables", 2),
	I("duration_ms", 3)}},
	[RDB_EV_LEVEL_MIGRATION] = {"LevelMigration", RDB_CH_LSM, false, 4,
	{T("tree_name", 0), I("from_level", 0), I("to_level", 1), I("sstable_count", 2)}},
	[RDB_EV_READ_COMPLETED] = {"ReadCompleted", RDB_CH_IO, true, 3,
	{I("page_id", 0), I("latency_us", 1), I("bytes", 2)}},
	[RDB_EV_WRITE_COMPLETED] = {"WriteCompleted", RDB_CH_IO, true, 3,
	{I("page_id", 0), I("latency_us", 1), I("bytes", 2)}},
	[RDB_EV_VECTORED_READ] = {"VectoredRead", RDB_CH_IO, false, 3,
	{I("page_count", 0), I("total_bytes", 1), I("latency_us", 2)}},
	[RDB_EV_VECTORED_WRITE] = {"VectoredWrite", RDB_CH_IO, false, 3,
	{I("page_count", 0), I("total_bytes", 1), I("latency_us", 2)}},
	[RDB_EV_IO_STATS] = {"IoStats", RDB_CH_IO, false, 6,
	{F("reads_per_sec", 0), F("writes_per_sec", 1), F("read_throughput_mbps", 2),
	F("write_throughput_mbps", 3), I("avg_read_latency_us", 4),
	I("avg_write_latency_us", 5)}},
	[RDB_EV_PAGE_MIGRATED] = {"PageMigrated", RDB_CH_TIERS, false, 4,
	{I("page_id", 0), T("from_tier", 0), T("to_tier", 1), T("reason", 2)}},
	[RDB_EV_TIER_STATS] = {"TierStats", RDB_CH_TIERS, false, 6,
	{I("hot_pages", 0), I("warm_pages", 1), I("cold_pages", 2),
	I("total_migrations", 3), F("avg_compression_ratio", 4), I("bytes_saved", 5)}},
	[RDB_EV_PAGE_ALLOCATED] = {"PageAllocated", RDB_CH_PAGES, false, 2,
	{I("page_id", 0), I("size", 1)}},
	[RDB_EV_PAGE_SPLIT] = {"PageSplit", RDB_CH_PAGES, false, 3,
	{I("original_page_id", 0), I("new_page_id", 1), T("reason", 0)}},
	[RDB_EV_PAGE_MERGED] = {"PageMerged", RDB_CH_PAGES, false, 3,
	{I("page1_id", 0), I("page2_id", 1), I("result_page_id", 2)}},
	[RDB_EV_PAGE_COMPACTED] = {"PageCompacted", RDB_CH_PAGES, false, 2,
	{I("page_id", 0), I("bytes_reclaimed", 1)}},
	[RDB_EV_CHECKSUM_FAILURE] = {"ChecksumFailure", RDB_CH_PAGES, false, 3,
	{I("page_id", 0), I("expected", 1), I("actual", 2)}},
	[RDB_EV_BATCH_INSERTED] = {"BatchInserted", RDB_CH_COLUMNAR, false, 3,
	{T("table_name", 0), I("rows", 0), I("columns", 1)}},
	[RDB_EV_COLUMN_SCANNED] = {"ColumnScanned", RDB_CH_COLUMNAR, false, 4,
	{T("table_name", 0), T("column_name", 1), I("rows_scanned", 0), I("duration_ms", 1)}},
	[RDB_EV_ENCODING_CHANGED] = {"EncodingChanged", RDB_CH_COLUMNAR, false, 5,
	{T("table_name", 0), T("column_name", 1), T("old_encoding", 2), T("new_encoding", 3),
	F("compression_ratio", 0)}}
};

static const char *const rdb_channel_names[RDB_NUM_CHANNELS] = {
	[RDB_CH_BUFFER_POOL] = "rustydb_buffer_pool",
	[RDB_CH_LSM] = "rustydb_lsm",
	[RDB_CH_IO] = "rustydb_io",
	[RDB_CH_TIERS] = "rustydb_tiers",
	[RDB_CH_PAGES] = "rustydb_pages",
	[RDB_CH_COLUMNAR] = "rustydb_columnar"
};

static const char *const rdb_message_types[RDB_NUM_CHANNELS] = {
	[RDB_CH_BUFFER_POOL] = "buffer_pool_event",
	[RDB_CH_LSM] = "lsm_event",
	[RDB_CH_IO] = "disk_io_event",
	[RDB_CH_TIERS] = "tier_event",
	[RDB_CH_PAGES] = "page_event",
	[RDB_CH_COLUMNAR] = "columnar_event"
};

const RdbEventVariantInfo *
rdb_event_variant(RdbEventVariant v)
{
	Assert(v >= 0 && v < RDB_NUM_VARIANTS);
	return &rdb_variants[v];
}

/* the variant with this seed name, or -1 */
int
rdb_event_variant_by_name(const char *name)
{
	int			i;

	for (i = 0; i < RDB_NUM_VARIANTS; i++)
		if (strcmp(rdb_variants[i].name, name) == 0)
			return i;
	return -1;
}

const char *
rdb_event_channel_name(RdbEventChannel ch)
{
	return rdb_channel_names[ch];
}

const char *
rdb_event_message_type(RdbEventChannel ch)
{
	return rdb_message_types[ch];
}

/* a float as JSON, always recognisable as a float */
static void
append_json_float(StringInfo buf, double v)
{
	char		tmp[64];

	if (isnan(v) || isinf(v))
	{
		/* JSON has no NaN/Infinity; these never come from real counters */
		appendStringInfoString(buf, "0.0");
		return;
	}
	snprintf(tmp, sizeof(tmp), "%.6g", v);
	appendStringInfoString(buf, tmp);
	if (strpbrk(tmp, ".eE") == NULL)
		appendStringInfoString(buf, ".0");
}

/*
 * rdb_event_set_text
 *		Store len bytes of str (in the database encoding) in text slot
 *		'slot', cut on a character boundary if they do not fit: a payload
 *		must stay valid in the database encoding (jsonb, NOTIFY clients).
 */
void
rdb_event_set_text(RdbEvent *ev, int slot, const char *str, int len)
{
	if (len > RDB_EVENT_TEXT_LEN - 1)
		len = pg_mbcliplen(str, len, RDB_EVENT_TEXT_LEN - 1);
	memcpy(ev->text[slot], str, len);
	ev->text[slot][len] = '\0';
}

/* an integer field as JSON; a value beyond int64 is clamped, never cast */
static void
append_json_int(StringInfo buf, double v)
{
	int64		i;

	if (isnan(v))
		i = 0;
	else if (FLOAT8_FITS_IN_INT64(v))
		i = (int64) v;
	else
		i = v > 0 ? PG_INT64_MAX : PG_INT64_MIN;
	appendStringInfo(buf, INT64_FORMAT, i);
}

/*
 * rdb_event_payload
 *		Append the event's JSON message to buf.  With 'anonymous' (NOTIFY to
 *		listeners who may not know the table, see rustydb.notify_scope),
 *		nothing identifies the relation: text fields naming a table or a
 *		column say RDB_HIDDEN_NAME and the extra "relation" field is left
 *		out.  Every seed field keeps its key and JSON type.
 *
 * A non-zero seq is included as the extra field "seq": it makes every
 * payload unique (PostgreSQL delivers identical notifications of one
 * transaction only once) and lets a client resume with events_since().
 */
void
rdb_event_payload(const RdbEvent *ev, uint64 seq, StringInfo buf,
				  bool anonymous)
{
	const RdbEventVariantInfo *vi = rdb_event_variant((RdbEventVariant) ev->variant);
	pg_time_t	ts = timestamptz_to_time_t(ev->at);
	int			i;

	appendStringInfoString(buf, "{\"message_type\": ");
	escape_json(buf, rdb_message_types[vi->channel]);
	appendStringInfoString(buf, ", \"data\": {");
	escape_json(buf, vi->name);
	appendStringInfoString(buf, ": {");

	for (i = 0; i < vi->nfields; i++)
	{
		const RdbEventField *f = &vi->fields[i];

		escape_json(buf, f->name);
		appendStringInfoString(buf, ": ");
		switch (f->type)
		{
			case RDB_FIELD_INT:
				append_json_int(buf, ev->num[f->slot]);
				break;
			case RDB_FIELD_FLOAT:
				append_json_float(buf, ev->num[f->slot]);
				break;
			case RDB_FIELD_TEXT:
				if (anonymous &&
					(strcmp(f->name, "table_name") == 0 ||
					 strcmp(f->name, "tree_name") == 0 ||
					 strcmp(f->name, "column_name") == 0))
					escape_json(buf, RDB_HIDDEN_NAME);
				else
					escape_json(buf, ev->text[f->slot]);
				break;
		}
		appendStringInfoString(buf, ", ");
	}
	appendStringInfo(buf, "\"timestamp\": " INT64_FORMAT, (int64) ts);
	if (seq != 0)
		appendStringInfo(buf, ", \"seq\": " UINT64_FORMAT, seq);
	if (OidIsValid(ev->relid) && !anonymous)
		appendStringInfo(buf, ", \"relation\": %u", ev->relid);
	if (OidIsValid(ev->dbid))
		appendStringInfo(buf, ", \"database\": %u", ev->dbid);
	appendStringInfo(buf, "}}, \"timestamp\": " INT64_FORMAT "}", (int64) ts);
}
