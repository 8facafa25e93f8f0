/* rustydb_am--0.6.0--0.7.0.sql: given-back stripe pages wait for older snapshots */

\echo Use "ALTER EXTENSION rustydb_am UPDATE TO '0.7.0'" to load this file. \quit

-- freed_by stays set until the pages may be written again: the transaction
-- committed and every snapshot on the server is newer (no lock is taken to
-- give them back any more; src/stripe/stripe_reuse.c)
COMMENT ON FUNCTION rustydb.stripe_space(regclass) IS
  'where a table''s stripe pages are: kind stripe, one row per run of blocks of each stripe (stripe = its first block; a stripe that no free extent held whole is spread over several runs of the free extents compaction gave back), and kind free, one row per free extent (freed_by: the transaction that gave it back, NULL once the pages may be written again: it committed and every snapshot is newer); needs SELECT on the table';
