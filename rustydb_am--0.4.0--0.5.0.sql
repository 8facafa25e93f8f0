/* rustydb_am--0.4.0--0.5.0.sql: the generation directory's leaf-group summaries */

\echo Use "ALTER EXTENSION rustydb_am UPDATE TO '0.5.0'" to load this file. \quit

CREATE FUNCTION rustydb.directory_groups(rel regclass,
    OUT space text, OUT first_generation bigint, OUT stripe bigint,
    OUT first_row bigint, OUT last_row bigint, OUT live_rows bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'rustydb_directory_groups'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION rustydb.directory_groups(regclass) IS
  'the generation directory''s leaf-group summaries: one row per group of 352 retired generations (from first_generation, in the first-time or remapped space) whose rows all lie in one stripe (first block), with the span of its rows they hold (NULL for none) and their live rows; columnar scans pass over a group whose span their quals exclude without reading its directory leaves; needs SELECT on the table';
