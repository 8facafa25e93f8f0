/* rustydb_am--0.7.0--0.8.0.sql: privileges of the cache and column views */

\echo Use "ALTER EXTENSION rustydb_am UPDATE TO '0.8.0'" to load this file. \quit

-- cache_relations ran as the extension's owner and showed every table's
-- cached chunks to everyone; it now runs as the caller and shows the tables
-- of this database the caller may SELECT (src/cache/chunk_cache.c)
CREATE OR REPLACE FUNCTION rustydb.cache_relations(
    OUT relid oid, OUT chunks bigint, OUT bytes bigint, OUT pages bigint,
    OUT hits bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'rustydb_cache_relations'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION rustydb.cache_relations() IS
  'chunks, bytes, pages and hits of the shared chunk cache per table of this database the user may SELECT (the view rustydb.pool_relations names them)';

-- column_stats refuses tables whose row-level security applies to the
-- user (as pg_stats hides them): the view leaves those out
CREATE OR REPLACE VIEW rustydb.columns AS
  SELECT c.oid::regclass AS relation, s.column_name, s.attnum, s.chunks,
         s.null_values, s.encodings, s.value_bytes, s.encoded_bytes,
         s.stored_bytes, s.compression_ratio
    FROM pg_class c
    JOIN pg_am a ON a.oid = c.relam AND a.amname = 'rustydb'
    CROSS JOIN LATERAL rustydb.column_stats(c.oid) s
   WHERE c.relkind = 'r'
     AND (c.relpersistence <> 't' OR c.relnamespace = pg_my_temp_schema())
     AND has_table_privilege(c.oid, 'SELECT')
     AND NOT (c.relrowsecurity AND row_security_active(c.oid))
     AND s.chunks + s.null_values > 0;
COMMENT ON VIEW rustydb.columns IS
  'per column of every rustydb table with stripes the user may SELECT (not those whose row-level security applies to the user): the encodings flush chose (encoding: chunks), NULLs, bytes of the values before encoding, after encoding and as stored (compressed), and the compression ratio (values / stored)';

COMMENT ON FUNCTION rustydb.chunk_bounds(regclass) IS
  'the smallest and largest value that each stripe keeps for each column of each chunk group (NULL where none is kept: stripes of format 1, types without a default btree opclass or without sort support such as jsonb, values over 256 bytes, all NULL); for the table''s owner only (the bounds cover rows deleted or rolled back since the stripe was written), and refused under row-level security';
COMMENT ON FUNCTION rustydb.column_stats(regclass) IS
  'per column of a rustydb table, over all its stripes: chunks stored, NULLs, the encodings chosen (encoding: chunks), bytes of the values before encoding, after encoding, as stored, and values / stored (needs SELECT on the table; refused under row-level security)';
