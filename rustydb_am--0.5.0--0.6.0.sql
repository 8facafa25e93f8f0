/* rustydb_am--0.5.0--0.6.0.sql: where the stripes' pages are (mapped stripes) */

\echo Use "ALTER EXTENSION rustydb_am UPDATE TO '0.6.0'" to load this file. \quit

CREATE FUNCTION rustydb.stripe_space(rel regclass,
    OUT kind text, OUT stripe bigint, OUT run integer,
    OUT first_block bigint, OUT blocks bigint, OUT freed_by xid)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'rustydb_stripe_space'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION rustydb.stripe_space(regclass) IS
  'where a table''s stripe pages are: kind stripe, one row per run of blocks of each stripe (stripe = its first block; a stripe that no free extent held whole is spread over several runs of the free extents compaction gave back), and kind free, one row per free extent (freed_by: the transaction that gave it back, NULL once known committed); needs SELECT on the table';
