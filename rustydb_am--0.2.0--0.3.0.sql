/* rustydb_am--0.2.0--0.3.0.sql: storage events per database */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION rustydb_am UPDATE TO '0.3.0'" to load this file. \quit

-- Delivery counters per database and channel.  Rows of other databases are
-- shown to members of pg_monitor only (the function filters them).
CREATE FUNCTION rustydb.event_stats_by_database()
RETURNS TABLE (channel text, emitted bigint, aggregated bigint, sampled bigint,
               dropped bigint, shed bigint, since timestamptz, database oid)
AS 'MODULE_PATHNAME', 'rustydb_event_stats_0_3'
LANGUAGE C STRICT VOLATILE;

-- the new column goes last, so that the view keeps its existing columns
CREATE OR REPLACE VIEW rustydb.event_stats AS
  SELECT * FROM rustydb.event_stats_by_database();
COMMENT ON VIEW rustydb.event_stats IS
  'storage events per database and channel: sent with NOTIFY, aggregated into *Stats, sampled, dropped from the ring, shed by backpressure (other databases: pg_monitor only)';

DROP FUNCTION rustydb.event_stats_internal();

COMMENT ON VIEW rustydb.io_stats IS
  'the latest IoStats of the current database (of every database for pg_monitor)';
