/* rustydb_am--0.2.0--0.3.0.sql: storage events per database, columnar encoding diagnostics */

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

-- columnar encodings (src/encoding, src/compress)
CREATE FUNCTION rustydb.encode_sample(elements anyarray,
                                      encoding text DEFAULT 'auto',
                                      compression text DEFAULT 'none')
RETURNS TABLE (encoding text, nrows int, nnulls int, raw_bytes int,
               encoded_bytes int, stored_bytes int, roundtrip boolean)
AS 'MODULE_PATHNAME', 'rustydb_encode_sample'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION rustydb.encode_sample(anyarray, text, text) IS
  'diagnostic: encode the elements as one column chunk (encoding auto, plain, dictionary, runlength, delta or bitpacked), compress it (none, lz4 or zstd), decode it back in bulk and row by row, and report sizes and whether every value round-tripped bit for bit';

CREATE FUNCTION rustydb.encode_chunk(elements anyarray,
                                     encoding text DEFAULT 'auto',
                                     compression text DEFAULT 'none')
RETURNS bytea
AS 'MODULE_PATHNAME', 'rustydb_encode_chunk'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION rustydb.encode_chunk(anyarray, text, text) IS
  'diagnostic: the stored bytes (compression frame around an encoded column chunk) of the elements';

CREATE FUNCTION rustydb.decode_chunk_check(chunk bytea, type regtype)
RETURNS int
AS 'MODULE_PATHNAME', 'rustydb_decode_chunk_check'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION rustydb.decode_chunk_check(bytea, regtype) IS
  'diagnostic: decompress and decode stored chunk bytes of a column of the given type, in bulk and row by row; returns the row count or raises data_corrupted';

-- flush (src/lsm/flush.c): move L0 rows that every transaction sees into
-- compressed columnar stripes, now
CREATE FUNCTION rustydb.flush(rel regclass)
RETURNS bigint
AS 'MODULE_PATHNAME', 'rustydb_flush'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION rustydb.flush(regclass) IS
  'move the values of the table''s L0 rows that every transaction sees into compressed columnar stripes; returns the number of rows moved (table owner only)';

-- columnar stripes (src/stripe)
CREATE FUNCTION rustydb.stripes(rel regclass)
RETURNS TABLE (first_block bigint, nblocks int, nrows bigint, chunk_groups int,
               raw_bytes bigint, stored_bytes bigint, level int,
               first_row bigint, last_row bigint, deleted_rows bigint)
AS 'MODULE_PATHNAME', 'rustydb_stripes'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION rustydb.stripes(regclass) IS
  'the columnar stripes of a rustydb table: first block, pages, rows, chunk groups, bytes of the values before encoding and of the pages, LSM level, the row numbers its rows have, and its rows no live row refers to any more (needs SELECT on the table; reads the whole table)';

CREATE FUNCTION rustydb.column_stats(rel regclass)
RETURNS TABLE (attnum int, column_name name, chunks bigint, null_values bigint,
               encodings text, value_bytes bigint, encoded_bytes bigint,
               stored_bytes bigint, compression_ratio float8)
AS 'MODULE_PATHNAME', 'rustydb_column_stats'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION rustydb.column_stats(regclass) IS
  'per column of a rustydb table, over all its stripes: chunks stored, NULLs, the encodings chosen (encoding: chunks), bytes of the values before encoding, after encoding, as stored, and values / stored (needs SELECT on the table)';

CREATE FUNCTION rustydb.chunk_bounds(rel regclass)
RETURNS TABLE (first_block bigint, chunk_group int, column_name name,
               nrows int, nnulls int, min text, max text)
AS 'MODULE_PATHNAME', 'rustydb_chunk_bounds'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION rustydb.chunk_bounds(regclass) IS
  'the smallest and largest value that each stripe keeps for each column of each chunk group (NULL where none is kept: stripes of format 1, types without a default btree opclass or without sort support such as jsonb, values over 256 bytes, all NULL); needs SELECT on the table and is refused under row-level security';

CREATE FUNCTION rustydb.stripe_roundtrip(rel regclass,
                                         compression text DEFAULT 'zstd',
                                         chunk_group_rows int DEFAULT 10000,
                                         stripes int DEFAULT 1)
RETURNS TABLE (first_block bigint, nrows bigint, stored_bytes bigint,
               rows_equal bigint)
AS 'MODULE_PATHNAME', 'rustydb_stripe_roundtrip'
LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION rustydb.stripe_roundtrip(regclass, text, int, int) FROM PUBLIC;
COMMENT ON FUNCTION rustydb.stripe_roundtrip(regclass, text, int, int) IS
  'test diagnostic (superuser): write every live row of the table as new stripes (one unless asked for more) appended to it, read every row back and count the rows that came back bit for bit';

CREATE FUNCTION rustydb.stripe_rows(rel regclass, first_block bigint)
RETURNS TABLE (row_index bigint, row_text text)
AS 'MODULE_PATHNAME', 'rustydb_stripe_rows'
LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION rustydb.stripe_rows(regclass, bigint) FROM PUBLIC;
COMMENT ON FUNCTION rustydb.stripe_rows(regclass, bigint) IS
  'test diagnostic (superuser): every row of the stripe starting at first_block, as text, whatever its visibility';

-- per-table options (src/tableam/options.c, reloptions.c): WITH (flush_rows,
-- compression, compression_level, chunk_group_rows, stripe_rows) are kept in
-- pg_class.reloptions; this shows what flush uses for a table
CREATE FUNCTION rustydb.table_options(rel regclass)
RETURNS TABLE (option text, value text, source text)
AS 'MODULE_PATHNAME', 'rustydb_table_options'
LANGUAGE C STRICT STABLE;
COMMENT ON FUNCTION rustydb.table_options(regclass) IS
  'the effective rustydb options of a table: the value flush uses, and whether the table sets it (source table) or the session''s rustydb.* setting supplies it (source default); needs SELECT on the table';

-- layout (src/api/layout_views.c): where a table's rows are and what its
-- stripes cost, counted by reading the table
CREATE FUNCTION rustydb.table_layout(rel regclass,
    OUT l0_pages bigint, OUT l0_rows bigint, OUT flushed_rows bigint,
    OUT stripes int, OUT stripe_pages bigint, OUT stripe_rows bigint,
    OUT raw_bytes bigint, OUT stored_bytes bigint, OUT compression_ratio float8,
    OUT deleted_rows bigint)
AS 'MODULE_PATHNAME', 'rustydb_table_layout'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION rustydb.table_layout(regclass) IS
  'where the table''s row versions are (L0 rows, stubs of flushed rows) and its stripes (rows, bytes before encoding and as stored, rows no live row refers to any more); reads the whole table; needs SELECT on it';

-- the blocks of a table's L0 (src/rowstore/gendir.c): pages of rows, pages
-- reused under new generations, free pages left by retired pages, the
-- generation directory, stripes; retired generations and their rows
CREATE FUNCTION rustydb.l0_layout(rel regclass,
    OUT l0_pages bigint, OUT reused_pages bigint, OUT free_pages bigint,
    OUT directory_pages bigint, OUT stripe_pages bigint,
    OUT retired_generations bigint, OUT retired_rows bigint,
    OUT next_generation bigint)
AS 'MODULE_PATHNAME', 'rustydb_l0_layout'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION rustydb.l0_layout(regclass) IS
  'what the table''s blocks are: L0 pages (reused_pages under a new generation), free pages of retired pages, generation directory pages, stripe pages; retired generations (flushed L0 pages that need no page) and their live rows; reads the whole table; needs SELECT on it';

-- flushes since the server started (src/lsm/flush_progress.c); the views
-- below apply the privilege rule
CREATE FUNCTION rustydb.flush_history(rel regclass,
    OUT last_flush timestamptz, OUT flushes bigint, OUT rows_flushed bigint,
    OUT stripes_written bigint, OUT stripe_bytes_written bigint)
AS 'MODULE_PATHNAME', 'rustydb_flush_history'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION rustydb.flush_history(regclass) IS
  'the table''s flushes since the server started: when the last one ended, how many moved rows, rows, stripes and stripe bytes written (NULL when none)';

CREATE FUNCTION rustydb.flush_progress_all(
    OUT pid int, OUT datid oid, OUT relid oid, OUT background bool,
    OUT phase text, OUT started timestamptz, OUT l0_pages_total bigint,
    OUT l0_pages_scanned bigint, OUT rows_collected bigint,
    OUT rows_flushed bigint, OUT stripes_written int,
    OUT stripe_bytes_written bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'rustydb_flush_progress_all'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION rustydb.flush_progress_all() IS
  'the flushes running now on tables of this database the user may SELECT (behind the view rustydb.flush_progress)';

-- one row per running flush, as pg_stat_progress_vacuum
CREATE VIEW rustydb.flush_progress AS
  SELECT p.pid, p.datid, d.datname, p.relid::regclass AS relation,
         p.background, p.phase, p.started,
         p.l0_pages_total, p.l0_pages_scanned, p.rows_collected,
         p.rows_flushed, p.stripes_written, p.stripe_bytes_written
    FROM rustydb.flush_progress_all() p
    LEFT JOIN pg_database d ON d.oid = p.datid;
COMMENT ON VIEW rustydb.flush_progress IS
  'one row per flush running now (rustydb.flush() or the background flush) on a table of this database the user may SELECT: phase, L0 pages scanned of the total, rows collected for the stripe being written, rows, stripes and bytes done so far';
GRANT SELECT ON rustydb.flush_progress TO PUBLIC;

CREATE VIEW rustydb.tables AS
  SELECT c.oid::regclass AS relation,
         (SELECT string_agg(o.option || '=' || o.value, ', ' ORDER BY o.option)
            FROM rustydb.table_options(c.oid) o WHERE o.source = 'table') AS options,
         l.*,
         pg_table_size(c.oid) AS table_bytes,
         h.last_flush, h.flushes, h.rows_flushed AS rows_flushed_since_start
    FROM pg_class c
    JOIN pg_am a ON a.oid = c.relam AND a.amname = 'rustydb'
    CROSS JOIN LATERAL rustydb.table_layout(c.oid) l
    CROSS JOIN LATERAL rustydb.flush_history(c.oid) h
   WHERE c.relkind = 'r'
     AND (c.relpersistence <> 't' OR c.relnamespace = pg_my_temp_schema())
     AND has_table_privilege(c.oid, 'SELECT');
COMMENT ON VIEW rustydb.tables IS
  'one row per rustydb table the user may SELECT: options set on the table, L0 pages and rows, flushed rows, stripes and their compression, stripe rows deleted, table size, and its flushes since the server started (reads every table: a sequential scan each)';
GRANT SELECT ON rustydb.tables TO PUBLIC;

-- one row per stripe of every rustydb table the user may SELECT
CREATE VIEW rustydb.stripes AS
  SELECT c.oid::regclass AS relation, s.first_block AS stripe, s.level,
         s.first_row, s.last_row, s.nrows AS rows, s.deleted_rows,
         s.stored_bytes AS bytes, s.raw_bytes, s.chunk_groups, s.nblocks AS pages
    FROM pg_class c
    JOIN pg_am a ON a.oid = c.relam AND a.amname = 'rustydb'
    CROSS JOIN LATERAL rustydb.stripes(c.oid) s
   WHERE c.relkind = 'r'
     AND (c.relpersistence <> 't' OR c.relnamespace = pg_my_temp_schema())
     AND has_table_privilege(c.oid, 'SELECT');
COMMENT ON VIEW rustydb.stripes IS
  'one row per columnar stripe of every rustydb table the user may SELECT: stripe (its first block), LSM level, row number range, rows, rows deleted, bytes as stored and of the values before encoding, chunk groups, pages (reads every table)';
GRANT SELECT ON rustydb.stripes TO PUBLIC;

-- one row per column of every rustydb table with stripes the user may SELECT
CREATE VIEW rustydb.columns AS
  SELECT c.oid::regclass AS relation, s.column_name, s.attnum, s.chunks,
         s.null_values, s.encodings, s.value_bytes, s.encoded_bytes,
         s.stored_bytes, s.compression_ratio
    FROM pg_class c
    JOIN pg_am a ON a.oid = c.relam AND a.amname = 'rustydb'
    CROSS JOIN LATERAL rustydb.column_stats(c.oid) s
   WHERE c.relkind = 'r'
     AND (c.relpersistence <> 't' OR c.relnamespace = pg_my_temp_schema())
     AND has_table_privilege(c.oid, 'SELECT')
     AND s.chunks + s.null_values > 0;
COMMENT ON VIEW rustydb.columns IS
  'per column of every rustydb table with stripes the user may SELECT: the encodings flush chose (encoding: chunks), NULLs, bytes of the values before encoding, after encoding and as stored (compressed), and the compression ratio (values / stored)';
GRANT SELECT ON rustydb.columns TO PUBLIC;

-- The shared chunk cache (src/cache/README.md)
CREATE FUNCTION rustydb.pool_stats_raw(
    OUT hits bigint, OUT misses bigint, OUT evictions bigint,
    OUT inserts bigint, OUT too_large bigint, OUT chunks bigint,
    OUT bytes bigint, OUT used_pages bigint, OUT total_pages bigint,
    OUT capacity bigint, OUT policy text, OUT hit_rate float8)
AS 'MODULE_PATHNAME', 'rustydb_pool_stats'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION rustydb.pool_stats_raw() IS
  'counters and occupancy of the shared chunk cache (the view rustydb.pool_stats shows them)';

CREATE VIEW rustydb.pool_stats AS
  SELECT hits, misses, evictions, inserts, too_large, chunks, bytes,
         used_pages, total_pages, capacity, policy, hit_rate
    FROM rustydb.pool_stats_raw();
COMMENT ON VIEW rustydb.pool_stats IS
  'the shared chunk cache (rustydb.chunk_cache_size): chunk lookups that hit and missed since the server started or rustydb.pool_reset(), chunks evicted and inserted, chunks too large to cache, chunks and bytes cached now, 8 kB pages used of total_pages, capacity in bytes, the eviction policy, and hits / (hits + misses); policy ''off'' when the cache is disabled';
GRANT SELECT ON rustydb.pool_stats TO PUBLIC;

CREATE FUNCTION rustydb.cache_entries(
    OUT datid oid, OUT relid oid, OUT relfilenode oid, OUT stripe bigint,
    OUT chunk_group bigint, OUT attnum int, OUT page_id bigint,
    OUT bytes bigint, OUT pages int, OUT hits bigint, OUT queue text,
    OUT referenced boolean, OUT last_access bigint, OUT prev_access bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'rustydb_cache_entries'
LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION rustydb.cache_entries() FROM PUBLIC;
COMMENT ON FUNCTION rustydb.cache_entries() IS
  'one row per chunk in the shared chunk cache, of every database (superuser only by default; rustydb.pool_relations aggregates it with privilege checks)';

CREATE VIEW rustydb.cache_contents AS
  SELECT e.datid, d.datname, e.relid,
         CASE WHEN e.datid = (SELECT oid FROM pg_database WHERE datname = current_database())
              THEN e.relid::regclass END AS relation,
         e.relfilenode, e.stripe, e.chunk_group, e.attnum, e.page_id,
         e.bytes, e.pages, e.hits, e.queue, e.referenced, e.last_access,
         e.prev_access
    FROM rustydb.cache_entries() e
    LEFT JOIN pg_database d ON d.oid = e.datid;
REVOKE ALL ON rustydb.cache_contents FROM PUBLIC;
COMMENT ON VIEW rustydb.cache_contents IS
  'every chunk in the shared chunk cache (superusers): database, relation, stripe, chunk group, column, page_id (byte address of the chunk in the main fork), bytes and 8 kB pages taken, hits since cached, queue (2Q: A1in or Am), CLOCK reference bit, last two access ticks';

-- SECURITY DEFINER: aggregates cache_entries for tables the caller may SELECT
CREATE FUNCTION rustydb.cache_relations(
    OUT relid oid, OUT chunks bigint, OUT bytes bigint, OUT pages bigint,
    OUT hits bigint)
RETURNS SETOF record
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
  SELECT e.relid, count(*), sum(e.bytes)::bigint, sum(e.pages)::bigint,
         sum(e.hits)::bigint
    FROM rustydb.cache_entries() e
   WHERE e.datid = (SELECT oid FROM pg_database WHERE datname = current_database())
   GROUP BY e.relid
$$;
COMMENT ON FUNCTION rustydb.cache_relations() IS
  'chunks, bytes, pages and hits of the shared chunk cache per relation of this database (the view rustydb.pool_relations shows those the user may SELECT)';

CREATE VIEW rustydb.pool_relations AS
  SELECT r.relid::regclass AS relation, r.chunks, r.bytes, r.pages, r.hits
    FROM rustydb.cache_relations() r
    JOIN pg_class c ON c.oid = r.relid
   WHERE has_table_privilege(c.oid, 'SELECT');
COMMENT ON VIEW rustydb.pool_relations IS
  'per table of this database the user may SELECT: its chunks in the shared chunk cache now, their bytes and 8 kB pages, and the hits they had since they were cached';
GRANT SELECT ON rustydb.pool_relations TO PUBLIC;

CREATE FUNCTION rustydb.pool_reset() RETURNS void
AS 'MODULE_PATHNAME', 'rustydb_pool_reset'
LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION rustydb.pool_reset() FROM PUBLIC;
COMMENT ON FUNCTION rustydb.pool_reset() IS
  'zero the chunk cache''s hit, miss, eviction and insert counters (superuser)';

CREATE FUNCTION rustydb.chunk_cache_clear() RETURNS bigint
AS 'MODULE_PATHNAME', 'rustydb_chunk_cache_clear'
LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION rustydb.chunk_cache_clear() FROM PUBLIC;
COMMENT ON FUNCTION rustydb.chunk_cache_clear() IS
  'empty the shared chunk cache (superuser; no PageEvicted events, not counted as evictions); returns the chunks dropped';
