/* rustydb_am--0.1.0--0.2.0.sql: storage events */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION rustydb_am UPDATE TO '0.2.0'" to load this file. \quit

CREATE FUNCTION rustydb.events_since(after_seq bigint)
RETURNS TABLE (seq bigint, channel text, message_type text, variant text,
               relation regclass, payload jsonb, emitted_at timestamptz)
AS 'MODULE_PATHNAME', 'rustydb_events_since'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION rustydb.events_since(bigint) IS
  'storage events after after_seq still in the ring (warns if some were overwritten)';

CREATE VIEW rustydb.events AS
  SELECT * FROM rustydb.events_since(0);
COMMENT ON VIEW rustydb.events IS
  'storage events in the ring: only of relations the current user may SELECT (pg_monitor sees all)';

CREATE VIEW rustydb.events_buffer_pool AS
  SELECT * FROM rustydb.events WHERE channel = 'rustydb_buffer_pool';
CREATE VIEW rustydb.events_lsm AS
  SELECT * FROM rustydb.events WHERE channel = 'rustydb_lsm';
CREATE VIEW rustydb.events_io AS
  SELECT * FROM rustydb.events WHERE channel = 'rustydb_io';
CREATE VIEW rustydb.events_tiers AS
  SELECT * FROM rustydb.events WHERE channel = 'rustydb_tiers';
CREATE VIEW rustydb.events_pages AS
  SELECT * FROM rustydb.events WHERE channel = 'rustydb_pages';
CREATE VIEW rustydb.events_columnar AS
  SELECT * FROM rustydb.events WHERE channel = 'rustydb_columnar';

CREATE FUNCTION rustydb.event_stats_internal()
RETURNS TABLE (channel text, emitted bigint, aggregated bigint, sampled bigint,
               dropped bigint, shed bigint, since timestamptz)
AS 'MODULE_PATHNAME', 'rustydb_event_stats'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW rustydb.event_stats AS
  SELECT * FROM rustydb.event_stats_internal();
COMMENT ON VIEW rustydb.event_stats IS
  'storage events per channel: sent with NOTIFY, aggregated into *Stats, sampled, dropped from the ring, shed by backpressure';

CREATE FUNCTION rustydb.io_stats_internal()
RETURNS TABLE (database oid, reads_per_sec float8, writes_per_sec float8,
               read_throughput_mbps float8, write_throughput_mbps float8,
               avg_read_latency_us bigint, avg_write_latency_us bigint,
               measured_at timestamptz)
AS 'MODULE_PATHNAME', 'rustydb_io_stats'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW rustydb.io_stats AS
  SELECT * FROM rustydb.io_stats_internal();
COMMENT ON VIEW rustydb.io_stats IS
  'the latest IoStats of each database (rustydb page reads and writes)';

CREATE FUNCTION rustydb.event_payload(variant text, fields jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'rustydb_event_payload'
LANGUAGE C STRICT IMMUTABLE;
COMMENT ON FUNCTION rustydb.event_payload(text, jsonb) IS
  'the storage event message the engine builds for a variant and its field values';

GRANT USAGE ON SCHEMA rustydb TO PUBLIC;
GRANT SELECT ON rustydb.events, rustydb.events_buffer_pool, rustydb.events_lsm,
  rustydb.events_io, rustydb.events_tiers, rustydb.events_pages,
  rustydb.events_columnar, rustydb.event_stats, rustydb.io_stats TO PUBLIC;
