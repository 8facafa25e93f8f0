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
               raw_bytes bigint, stored_bytes bigint)
AS 'MODULE_PATHNAME', 'rustydb_stripes'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION rustydb.stripes(regclass) IS
  'the columnar stripes of a rustydb table: first block, pages, rows, chunk groups, bytes of the values before encoding and bytes of the pages (needs SELECT on the table)';

CREATE FUNCTION rustydb.chunk_bounds(rel regclass)
RETURNS TABLE (first_block bigint, chunk_group int, column_name name,
               nrows int, nnulls int, min text, max text)
AS 'MODULE_PATHNAME', 'rustydb_chunk_bounds'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION rustydb.chunk_bounds(regclass) IS
  'the smallest and largest value that each stripe keeps for each column of each chunk group (NULL where none is kept: stripes of format 1, types without a default btree opclass, values over 256 bytes, all NULL); needs SELECT on the table and is refused under row-level security';

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
    OUT raw_bytes bigint, OUT stored_bytes bigint, OUT compression_ratio float8)
AS 'MODULE_PATHNAME', 'rustydb_table_layout'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION rustydb.table_layout(regclass) IS
  'where the table''s row versions are (L0 rows, stubs of flushed rows) and its stripes (rows, bytes before encoding and as stored); reads the whole table; needs SELECT on it';

CREATE VIEW rustydb.tables AS
  SELECT c.oid::regclass AS relation,
         (SELECT string_agg(o.option || '=' || o.value, ', ' ORDER BY o.option)
            FROM rustydb.table_options(c.oid) o WHERE o.source = 'table') AS options,
         l.*,
         pg_table_size(c.oid) AS table_bytes
    FROM pg_class c
    JOIN pg_am a ON a.oid = c.relam AND a.amname = 'rustydb'
    CROSS JOIN LATERAL rustydb.table_layout(c.oid) l
   WHERE c.relkind = 'r'
     AND (c.relpersistence <> 't' OR c.relnamespace = pg_my_temp_schema())
     AND has_table_privilege(c.oid, 'SELECT');
COMMENT ON VIEW rustydb.tables IS
  'one row per rustydb table the user may SELECT: options set on the table, L0 pages and rows, flushed rows, stripes and their compression (reads every table: a sequential scan each)';
GRANT SELECT ON rustydb.tables TO PUBLIC;
