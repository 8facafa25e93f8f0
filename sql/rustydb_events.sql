--
-- rustydb_events: the storage-event payload builder and the shape of the
-- events API (AM-specific; the expected output is written and checked by
-- hand).
--
-- 1. Every message of the seed's six test-data files (test_data/*.json, read
--    with pg_read_file from the directory pg_regress was given as input
--    directory: PG_ABS_SRCDIR) round-trips through
--    rustydb.event_payload(variant, fields): built from the variant name and
--    the seed's field values, the payload equals the seed message as jsonb
--    (the extra keys relation/database, if any, removed), and every field
--    keeps its JSON type, floats included (jsonb keeps the scale of a
--    number, so 1500.0 stays 1500.0 and 1500 stays 1500).
-- 2. Bad input: an unknown variant is an ERROR with SQLSTATE 22023 whose
--    hint lists the valid variants; a missing field or a field of the wrong
--    JSON type is an ERROR.
-- 3. The columns of the views and the GUCs with their defaults.
--
-- Live events (that the engine emits them, with the right numbers) are
-- tested by t/010_events_notify.pl and friends.
--

SET search_path = public;

-- the seed's messages, one row each
\getenv abs_srcdir PG_ABS_SRCDIR
CREATE TEMP TABLE seed_msg (file text, ord int, variant text, msg jsonb);
\set f :abs_srcdir '/test_data/buffer_pool_events.json'
INSERT INTO seed_msg SELECT 'buffer_pool_events', ord, (SELECT k FROM jsonb_object_keys(m->'data') k), m
FROM jsonb_array_elements(pg_read_file(:'f')::jsonb) WITH ORDINALITY a(m, ord);
\set f :abs_srcdir '/test_data/columnar_events.json'
INSERT INTO seed_msg SELECT 'columnar_events', ord, (SELECT k FROM jsonb_object_keys(m->'data') k), m
FROM jsonb_array_elements(pg_read_file(:'f')::jsonb) WITH ORDINALITY a(m, ord);
\set f :abs_srcdir '/test_data/disk_io_events.json'
INSERT INTO seed_msg SELECT 'disk_io_events', ord, (SELECT k FROM jsonb_object_keys(m->'data') k), m
FROM jsonb_array_elements(pg_read_file(:'f')::jsonb) WITH ORDINALITY a(m, ord);
\set f :abs_srcdir '/test_data/lsm_events.json'
INSERT INTO seed_msg SELECT 'lsm_events', ord, (SELECT k FROM jsonb_object_keys(m->'data') k), m
FROM jsonb_array_elements(pg_read_file(:'f')::jsonb) WITH ORDINALITY a(m, ord);
\set f :abs_srcdir '/test_data/page_events.json'
INSERT INTO seed_msg SELECT 'page_events', ord, (SELECT k FROM jsonb_object_keys(m->'data') k), m
FROM jsonb_array_elements(pg_read_file(:'f')::jsonb) WITH ORDINALITY a(m, ord);
\set f :abs_srcdir '/test_data/tier_events.json'
INSERT INTO seed_msg SELECT 'tier_events', ord, (SELECT k FROM jsonb_object_keys(m->'data') k), m
FROM jsonb_array_elements(pg_read_file(:'f')::jsonb) WITH ORDINALITY a(m, ord);
SELECT count(*) AS messages, count(DISTINCT variant) AS variants FROM seed_msg;

-- json_kind(v): the JSON type, with numbers told apart as the seed writes
-- them: 'float' if written with a decimal point or exponent, else 'integer'
CREATE FUNCTION json_kind(v jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(v) = 'number' AND v::text ~ '[.eE]' THEN 'float'
              WHEN jsonb_typeof(v) = 'number' THEN 'integer'
              ELSE jsonb_typeof(v) END $$;

-- 1. round trip: payload built from (variant, the seed's fields)
CREATE TEMP TABLE built AS
SELECT s.file, s.ord, s.variant, s.msg,
       rustydb.event_payload(s.variant, s.msg->'data'->s.variant) AS p
FROM seed_msg s;
SELECT file, ord, variant,
       (p #- ARRAY['data', variant, 'relation'] #- ARRAY['data', variant, 'database']) = msg AS same_message,
       (SELECT bool_and(json_kind(p->'data'->variant->k) IS NOT DISTINCT FROM json_kind(msg->'data'->variant->k))
        FROM jsonb_object_keys(msg->'data'->variant) k) AS same_types,
       octet_length(p::text) < 8000 AS fits_notify
FROM built
ORDER BY file, ord;
-- the built payloads of the variants with float fields, as text (floats
-- keep their decimal point)
SELECT variant, p->'data'->variant AS fields
FROM built WHERE variant IN ('PoolStats', 'IoStats', 'EncodingChanged', 'TierStats')
ORDER BY variant;
-- nothing but message_type, data and timestamp at the top level, one
-- variant under data, and no key beyond the seed's and relation/database
SELECT count(*) AS bad_shape
FROM built
WHERE (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(p) k) <> ARRAY['data', 'message_type', 'timestamp']
   OR (SELECT count(*) FROM jsonb_object_keys(p->'data')) <> 1
   OR EXISTS (SELECT 1 FROM jsonb_object_keys(p->'data'->variant) k
              WHERE NOT msg->'data'->variant ? k AND k NOT IN ('relation', 'database'));

-- other values than the seed's go where they belong
SELECT rustydb.event_payload('PageAllocated', '{"page_id": 7, "size": 8192, "timestamp": 1700000000}');
SELECT rustydb.event_payload('BatchInserted',
  '{"table_name": "public.t \"quoted\"", "rows": 1000, "columns": 5, "timestamp": 1700000000}');
SELECT rustydb.event_payload('PoolStats',
  '{"hit_rate": 1.0, "total_pages": 0, "used_pages": 0, "dirty_pages": 0, "timestamp": 1700000000}');

-- 2. bad input
-- try_payload(variant, fields): 'no error', or the SQLSTATE of the error
-- and whether its hint names every variant of the seed
CREATE FUNCTION try_payload(vname text, vfields jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  st text;
  hint text;
BEGIN
  PERFORM rustydb.event_payload(vname, vfields);
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, hint = PG_EXCEPTION_HINT;
  RETURN st || ', hint names every seed variant: '
         || coalesce((SELECT bool_and(position(s.variant IN nullif(hint, '')) > 0)::text
                      FROM (SELECT DISTINCT variant FROM seed_msg) s), 'no hint');
END $$;
-- an unknown variant: 22023 (invalid_parameter_value), with the valid ones
-- in the hint; names are case-sensitive, as in the seed
SELECT rustydb.event_payload('NoSuchVariant', '{}');
SELECT try_payload('NoSuchVariant', '{}');
SELECT try_payload('', '{"page_id": 1}');
SELECT try_payload('pageallocated', '{"page_id": 7, "size": 8192, "timestamp": 1700000000}');
-- a missing field, a field of the wrong JSON type, fields that are not an object
SELECT rustydb.event_payload('PageAllocated', '{"page_id": 7, "timestamp": 1700000000}');
SELECT try_payload('PageAllocated', '{"page_id": 7, "timestamp": 1700000000}') AS missing_field;
SELECT try_payload('PageAllocated', '{"page_id": "seven", "size": 8192, "timestamp": 1700000000}') AS string_for_integer;
SELECT try_payload('IoStats', '{"reads_per_sec": "fast", "writes_per_sec": 0.0, "read_throughput_mbps": 0.0,
  "write_throughput_mbps": 0.0, "avg_read_latency_us": 0, "avg_write_latency_us": 0, "timestamp": 1700000000}') AS string_for_float;
SELECT try_payload('BatchInserted', '{"table_name": 42, "rows": 1, "columns": 1, "timestamp": 1700000000}') AS number_for_string;
SELECT try_payload('PageAllocated', '[7, 8192, 1700000000]') AS not_an_object;
-- NULL in, NULL out (the function is strict)
SELECT rustydb.event_payload(NULL, '{}') IS NULL AS null_variant,
       rustydb.event_payload('PageAllocated', NULL) IS NULL AS null_fields;

-- 3. the API's shape
SELECT c.relname, a.attnum, a.attname, a.atttypid::regtype
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE c.relnamespace = 'rustydb'::regnamespace AND c.relname IN ('events', 'event_stats', 'io_stats')
  AND a.attnum > 0
ORDER BY c.relname, a.attnum;
-- each per-channel view has the columns of rustydb.events
SELECT c.relname,
       array_agg(a.attname::text || ' ' || a.atttypid::regtype::text ORDER BY a.attnum)
       = (SELECT array_agg(attname::text || ' ' || atttypid::regtype::text ORDER BY attnum)
          FROM pg_attribute WHERE attrelid = 'rustydb.events'::regclass AND attnum > 0) AS same_columns
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
WHERE c.relnamespace = 'rustydb'::regnamespace AND c.relname LIKE 'events\_%'
GROUP BY c.relname ORDER BY c.relname;
SELECT channel FROM rustydb.event_stats
WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY channel;
SELECT pg_get_function_identity_arguments('rustydb.events_since'::regproc) AS events_since_args,
       pg_get_function_result('rustydb.events_since'::regproc) AS events_since_result;
-- everyone may read the views (they filter by privilege themselves)
SELECT c.relname, has_table_privilege('public', c.oid, 'SELECT') AS public_select
FROM pg_class c
WHERE c.relnamespace = 'rustydb'::regnamespace AND c.relkind = 'v'
ORDER BY c.relname;
-- GUCs and their defaults
SELECT name, boot_val, unit, context, vartype, min_val, max_val, enumvals
FROM pg_settings
WHERE name IN ('rustydb.events', 'rustydb.event_ring_size', 'rustydb.events_sample_rate',
               'rustydb.notify_queue_threshold', 'rustydb.notify_scope',
               'rustydb.notify_interval_buffer_pool', 'rustydb.notify_interval_io',
               'rustydb.notify_interval_pages', 'rustydb.notify_interval_lsm',
               'rustydb.notify_interval_columnar', 'rustydb.notify_interval_tiers',
               'rustydb.max_event_workers', 'rustydb.worker_idle_timeout',
               'rustydb.chunk_cache_size', 'rustydb.chunk_cache_policy')
ORDER BY name;
-- a bad value is refused
SET rustydb.events_sample_rate = 1.5;
ALTER SYSTEM SET rustydb.notify_scope = 'everything';

DROP FUNCTION try_payload(text, jsonb);
DROP FUNCTION json_kind(jsonb);
