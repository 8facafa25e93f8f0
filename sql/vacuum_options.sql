--
-- vacuum_options: VACUUM options on default-AM tables behave as on heap.
--
-- INDEX_CLEANUP off leaves the dead line pointers for a later VACUUM but
-- must still record the freed space in the free space map, so that new
-- rows reuse it instead of extending the table.  PARALLEL on a temporary
-- table is refused with heap's warning (parallel workers cannot read a
-- session's local buffers).  Sizes are compared, never printed.
--
CREATE SCHEMA vacuum_options;
SET search_path = vacuum_options;

-- INDEX_CLEANUP off: the space of the removed rows is reused
CREATE TABLE vic (id int, pad text) WITH (autovacuum_enabled = false);
CREATE INDEX vic_id ON vic (id);
INSERT INTO vic SELECT g, repeat('x', 100) FROM generate_series(1, 5000) g;
SELECT pg_relation_size('vic') AS size_full \gset
DELETE FROM vic;
-- (a short transaction of another backend -- the storage-event worker's --
-- could keep the deleted rows from being removable: wait for none, bounded)
DO $$
BEGIN
  PERFORM rdb_test.wait_quiet();
END $$;
VACUUM (INDEX_CLEANUP off) vic;
INSERT INTO vic SELECT g, repeat('y', 100) FROM generate_series(1, 5000) g;
-- (the dead line pointers take a little room, so allow some growth)
SELECT pg_relation_size('vic') < 1.5 * :size_full AS space_reused;
SELECT count(*), min(pad), max(pad) FROM vic;
SET enable_seqscan = off;
SELECT count(*) FROM vic WHERE id > 0;
RESET enable_seqscan;
-- a later VACUUM with index cleanup frees the dead line pointers for good
VACUUM vic;
SELECT count(*) FROM vic;

-- PARALLEL on a temporary table: heap's warning, and the vacuum still works
CREATE TEMP TABLE vpt (a int, b int);
INSERT INTO vpt SELECT g, g FROM generate_series(1, 1000) g;
CREATE INDEX vpt_a ON vpt (a);
CREATE INDEX vpt_b ON vpt (b);
DELETE FROM vpt WHERE a % 2 = 0;
VACUUM (PARALLEL 2) vpt;
SELECT reltuples FROM pg_class WHERE relname = 'vpt';
SET enable_seqscan = off;
SELECT count(*) FROM vpt WHERE b > 0;
RESET enable_seqscan;
-- no warning when parallelism was not asked for explicitly
VACUUM vpt;
-- nor with a single index
DROP INDEX vpt_b;
VACUUM (PARALLEL 2) vpt;

DROP SCHEMA vacuum_options CASCADE;
