-- rustydb_rewrite: CLUSTER and VACUUM FULL write the rows every snapshot
-- sees straight into stripes (src/lsm/rewrite.c)
--
-- A table loaded at once and flushed keeps its L0 blocks as free pages, so
-- its file stays heap-sized; before, VACUUM FULL copied every row back onto
-- L0 pages and gave no space back either.  Now the rewrite's settled rows
-- become stripes whose generations never had a page (gendir.c,
-- rdb_gen_add_retired), and only rows that need their header (or a TOAST
-- pointer) go onto L0 pages.  Checked on the storage (pg_relation_size,
-- rustydb.table_layout, rustydb.stripes) and on the rows, against a heap
-- twin, through sequential, index and columnar scans, before and after DML,
-- VACUUM, flush and compaction of the rewritten rows.
SET client_min_messages = warning;
CREATE SCHEMA rdb_rewrite;
SET search_path = rdb_rewrite, public;

CREATE TABLE rw (id int PRIMARY KEY, k int, v text, big text)
  USING rustydb WITH (stripe_rows = 20000, chunk_group_rows = 1000,
                      max_stripe_rows = 50000, autovacuum_enabled = off);
CREATE TABLE rwh (LIKE rw INCLUDING ALL) USING heap;
-- five rows with a value TOAST keeps out of line (incompressible, 6.4 kB)
CREATE FUNCTION rw_rows(lo int, hi int) RETURNS SETOF rwh LANGUAGE sql AS $$
  SELECT g, g % 13, repeat(md5(g::text), 2),
         CASE WHEN g % 12000 = 0 THEN
           (SELECT string_agg(md5(g::text || i::text), '') FROM generate_series(1, 200) i)
         END
  FROM generate_series(lo, hi) g $$;
CREATE FUNCTION rw_same(what text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE a text; b text; c text; d text;
BEGIN
  SELECT string_agg(md5(x::text), '' ORDER BY id) INTO a FROM rw x;
  SELECT string_agg(md5(x::text), '' ORDER BY id) INTO b FROM rwh x;
  -- the columnar scan's aggregates
  SELECT count(*) || ':' || sum(k) || ':' || max(v) || ':' || count(big) INTO d FROM rw;
  IF d IS DISTINCT FROM (SELECT count(*) || ':' || sum(k) || ':' || max(v) || ':' || count(big) FROM rwh) THEN
    a := 'x';
  END IF;
  -- by the index too
  SET LOCAL enable_seqscan = off;
  SELECT string_agg(md5(x::text), '' ORDER BY id) INTO c FROM rw x WHERE id > 0;
  RETURN what || ': ' || CASE WHEN a IS NOT DISTINCT FROM b AND c IS NOT DISTINCT FROM b
                              THEN 'same as heap' ELSE 'DIFFERENT' END;
END $$;

INSERT INTO rw SELECT * FROM rw_rows(1, 60000);
INSERT INTO rwh SELECT * FROM rw_rows(1, 60000);
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('rw') AS flushed;
SELECT rustydb.compact('rw') >= 0 AS compacted;
SELECT rw_same('flushed and compacted');
CREATE TEMP TABLE sizes AS SELECT 'flushed' AS what, pg_relation_size('rw') AS bytes;

-- the flushed table still has its L0 blocks: about as large as heap's
SELECT pg_relation_size('rw') > pg_relation_size('rwh') * 0.7 AS heap_sized;

SELECT rdb_test.wait_quiet();
VACUUM FULL rw;
INSERT INTO sizes SELECT 'vacuum full', pg_relation_size('rw');
SELECT rw_same('after VACUUM FULL');
-- a fifth of what it was at most (the stripes, a little directory, the
-- TOAST rows' page)
SELECT (SELECT bytes FROM sizes WHERE what = 'vacuum full') * 5 <
       (SELECT bytes FROM sizes WHERE what = 'flushed') AS a_fifth_at_most;
-- every row in a stripe but the five whose value is out of line
SELECT l0_rows, flushed_rows, stripe_rows FROM rustydb.table_layout('rw');
-- stripes of max_stripe_rows rows (maintenance_work_mem holds them), at the
-- level compaction gives that many rows (20,000-row flushes, ratio 4)
SELECT level, nrows, deleted_rows FROM rustydb.stripes('rw') ORDER BY first_row;
-- one directory entry per 226 rows
SELECT count(*) AS generation_groups, sum(live_rows) AS live_rows
  FROM rustydb.directory_groups('rw');

-- the rewritten rows are ordinary rows: DML revives their generations
BEGIN;
SELECT id FROM rw WHERE id IN (10, 20000, 59999) ORDER BY id FOR UPDATE;
ROLLBACK;
DELETE FROM rw WHERE id % 97 = 0;
DELETE FROM rwh WHERE id % 97 = 0;
UPDATE rw SET k = -k, v = v || 'u' WHERE id % 101 = 0;
UPDATE rwh SET k = -k, v = v || 'u' WHERE id % 101 = 0;
SELECT rw_same('after DELETE and UPDATE');
BEGIN;
DELETE FROM rw WHERE id < 1000;
UPDATE rw SET k = 0 WHERE id > 59000;
ROLLBACK;
SELECT rw_same('after a rolled back DELETE and UPDATE');
SELECT rdb_test.wait_quiet();
VACUUM rw;
SELECT rw_same('after VACUUM');
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('rw') > 0 AS flushed_updates;
SELECT rustydb.compact('rw') >= 0 AS compacted;
SELECT rw_same('after flush and compaction');
SELECT sum(deleted_rows) = 0 AS dead_rows_gone FROM rustydb.stripes('rw');

-- CLUSTER, by index scan and by sort: rows come out in the index's order
-- either way, and still go into stripes
SELECT rdb_test.wait_quiet();
CLUSTER rw USING rw_pkey;
SELECT rw_same('after CLUSTER');
SELECT l0_rows, flushed_rows FROM rustydb.table_layout('rw');
SET enable_indexscan = off;
SELECT rdb_test.wait_quiet();
CLUSTER rw USING rw_pkey;
RESET enable_indexscan;
SELECT rw_same('after CLUSTER by sort');
SELECT l0_rows, flushed_rows FROM rustydb.table_layout('rw');
SELECT (SELECT array_agg(id) FROM (SELECT id FROM rw WHERE big IS NULL LIMIT 5) s) =
       (SELECT array_agg(id) FROM (SELECT id FROM rwh WHERE big IS NULL ORDER BY id LIMIT 5) s)
  AS index_order;

-- with a sort key, the stripes are stored sorted and keep the row numbers
ALTER TABLE rw SET (sort_key = 'k');
SELECT rdb_test.wait_quiet();
VACUUM FULL rw;
SELECT rw_same('after VACUUM FULL with a sort key');
SELECT count(*) FILTER (WHERE nrows > 0) AS stripes FROM rustydb.stripes('rw');

-- a small maintenance_work_mem makes more, smaller stripes
SET maintenance_work_mem = '1MB';
SELECT rdb_test.wait_quiet();
VACUUM FULL rw;
RESET maintenance_work_mem;
SELECT rw_same('after VACUUM FULL in 1 MB');
SELECT count(*) > 2 AS more_stripes, max(nrows) < 50000 AS smaller
  FROM rustydb.stripes('rw');

-- rows the rewriting transaction deleted itself keep their header on L0
-- pages (it may still roll back); a rewrite rolled back leaves the table as
-- it was
SELECT rdb_test.wait_quiet();
BEGIN;
DELETE FROM rw WHERE id < 30000;
CLUSTER rw USING rw_pkey;
SELECT count(*), min(id) FROM rw;
SELECT l0_rows, flushed_rows FROM rustydb.table_layout('rw');
ROLLBACK;
SELECT rw_same('after a rolled back DELETE and CLUSTER');

-- rows older than an ADD COLUMN ... DEFAULT read the default from the
-- catalog (attmissingval): the rewrite forms them whole before they go into
-- a stripe, which would otherwise store NULL for the column; a dropped
-- column's values go
CREATE TABLE rw_add (id int, d int, gone text) USING rustydb;
CREATE INDEX rw_add_id ON rw_add (id);
CREATE TABLE rw_add_h (id int, d int, gone text) USING heap;
INSERT INTO rw_add SELECT g, g % 7, 'x' FROM generate_series(1, 20000) g;
INSERT INTO rw_add_h SELECT g, g % 7, 'x' FROM generate_series(1, 20000) g;
ALTER TABLE rw_add ADD COLUMN c int DEFAULT 42, ADD COLUMN t text DEFAULT 'dflt', DROP COLUMN gone;
ALTER TABLE rw_add_h ADD COLUMN c int DEFAULT 42, ADD COLUMN t text DEFAULT 'dflt', DROP COLUMN gone;
INSERT INTO rw_add SELECT g, 1, 7, 'new' FROM generate_series(20001, 30000) g;
INSERT INTO rw_add_h SELECT g, 1, 7, 'new' FROM generate_series(20001, 30000) g;
SELECT rdb_test.wait_quiet();
VACUUM FULL rw_add;
SELECT l0_rows, flushed_rows FROM rustydb.table_layout('rw_add');
SELECT (SELECT count(c) || ':' || sum(c) || ':' || count(*) FILTER (WHERE t = 'dflt') || ':' || sum(d) FROM rw_add) AS rustydb,
       (SELECT count(c) || ':' || sum(c) || ':' || count(*) FILTER (WHERE t = 'dflt') || ':' || sum(d) FROM rw_add_h) AS heap;
SELECT rdb_test.wait_quiet();
CLUSTER rw_add USING rw_add_id;
SELECT (SELECT md5(string_agg(x::text, ',' ORDER BY id)) FROM rw_add x) =
       (SELECT md5(string_agg(x::text, ',' ORDER BY id)) FROM rw_add_h x) AS same_after_cluster;

-- a small table stays on L0 pages: fewer than a chunk group of rows take
-- less room there than as a stripe with its directory pages
CREATE TABLE rw_small (id int PRIMARY KEY, v text) USING rustydb;
INSERT INTO rw_small SELECT g, md5(g::text) FROM generate_series(1, 500) g;
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('rw_small') AS flushed;
VACUUM FULL rw_small;
SELECT l0_rows, flushed_rows, stripes FROM rustydb.table_layout('rw_small');
SELECT count(*), sum(id), md5(string_agg(v, ',' ORDER BY id)) = (SELECT md5(string_agg(md5(g::text), ',' ORDER BY g)) FROM generate_series(1, 500) g) AS same
  FROM rw_small;

DROP SCHEMA rdb_rewrite CASCADE;
