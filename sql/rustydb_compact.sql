-- rustydb_compact: leveled compaction (src/lsm/compact.c)
--
-- Stripes of one level are merged into the next, rows nothing refers to any
-- more are dropped, and the pages of the stripes replaced are given back for
-- later stripes.  Checked on the storage (rustydb.stripes, rustydb.l0_layout,
-- rustydb.compaction_history, rustydb.storage_counters) and on the rows,
-- against a heap twin that receives the same statements.
SET client_min_messages = warning;
CREATE SCHEMA rdb_compact;
SET search_path = rdb_compact, public;

-- bad options and arguments: clear errors, nothing applied
\set VERBOSITY default
CREATE TABLE bad (id int) USING rustydb WITH (level_ratio = 1);
CREATE TABLE bad (id int) USING rustydb WITH (max_stripe_rows = 999);
CREATE TABLE bad (id int) USING rustydb WITH (level_ratio = 'x');
SET rustydb.compaction_dead_fraction = 0;
SET rustydb.compaction_pause_phase = 'sleeping';
SELECT rustydb.compact('pg_class');
CREATE TABLE heapt (id int) USING heap;
SELECT rustydb.compact('heapt');
SELECT * FROM rustydb.compaction_history('heapt');
SELECT rustydb.compact(0);
CREATE ROLE rdb_compact_other;
GRANT USAGE ON SCHEMA rdb_compact TO rdb_compact_other;
CREATE TABLE owned (id int) USING rustydb;
SET ROLE rdb_compact_other;
SELECT rustydb.compact('owned');
SELECT * FROM rustydb.compaction_history('owned');
SELECT * FROM rustydb.storage_counters('owned');
RESET ROLE;
\set VERBOSITY terse

-- a table and its heap twin: text, numeric, jsonb, NULLs, a TOASTed value
CREATE TABLE c (id int PRIMARY KEY, ts timestamptz, v text, n numeric, j jsonb)
  USING rustydb WITH (stripe_rows = 2000, chunk_group_rows = 1000,
                      level_ratio = 3, max_stripe_rows = 20000);
CREATE TABLE ch (id int PRIMARY KEY, ts timestamptz, v text, n numeric, j jsonb)
  USING heap;
CREATE FUNCTION c_rows(lo int, hi int) RETURNS SETOF ch LANGUAGE sql AS $$
  SELECT g, '2026-01-01'::timestamptz + g * interval '1 minute',
         CASE WHEN g % 11 = 0 THEN NULL
              WHEN g = 777 THEN repeat(md5(g::text), 3000)
              ELSE md5(g::text) END,
         g * 1.25, jsonb_build_object('g', g, 'odd', g % 2 = 1)
    FROM generate_series(lo, hi) g $$;
CREATE FUNCTION c_same(what text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE a text; b text;
BEGIN
  SELECT string_agg(md5(x::text), '' ORDER BY id) INTO a FROM c x;
  SELECT string_agg(md5(x::text), '' ORDER BY id) INTO b FROM ch x;
  RETURN what || ': ' || CASE WHEN a IS NOT DISTINCT FROM b THEN 'same as heap' ELSE 'DIFFERENT' END;
END $$;
-- flush c until want rows moved: a row moves once every snapshot sees it,
-- so wait until no other backend of the database holds one back
CREATE FUNCTION c_flush(want bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE moved bigint := 0;
BEGIN
  FOR i IN 1..200 LOOP
    PERFORM rdb_test.wait_quiet();
    moved := moved + rustydb.flush('c');
    EXIT WHEN moved >= want;
    PERFORM pg_sleep(0.1);
  END LOOP;
  RETURN moved;
END $$;
-- the stripes of c, summed by level
CREATE VIEW c_levels AS
  SELECT level, count(*) AS stripes, sum(rows) AS rows, sum(deleted_rows) AS deleted
    FROM rustydb.stripes WHERE relation = 'c'::regclass GROUP BY level;

-- six flushes of 2,000 rows: six stripes of level 1
INSERT INTO c SELECT * FROM c_rows(1, 2000);
SELECT c_flush(2000);
INSERT INTO c SELECT * FROM c_rows(2001, 4000);
SELECT c_flush(2000);
INSERT INTO c SELECT * FROM c_rows(4001, 6000);
SELECT c_flush(2000);
INSERT INTO c SELECT * FROM c_rows(6001, 8000);
SELECT c_flush(2000);
INSERT INTO c SELECT * FROM c_rows(8001, 10000);
SELECT c_flush(2000);
INSERT INTO c SELECT * FROM c_rows(10001, 12000);
SELECT c_flush(2000);
INSERT INTO ch SELECT * FROM c_rows(1, 12000);
SELECT * FROM c_levels ORDER BY level;
SELECT retired_generations > 0 AS pages_retired, free_stripe_pages FROM rustydb.l0_layout('c');
SELECT stripe_pages AS pages_before FROM rustydb.l0_layout('c') \gset

-- level_ratio 3: two merges of three level-1 stripes, then the two level-2
-- stripes (fewer than three) stay
SELECT rustydb.compact('c');
SELECT * FROM c_levels ORDER BY level;
SELECT steps, stripes_rewritten, stripes_written, rows_dropped, pages_pending,
       last_error, last_compaction IS NOT NULL AS has_time
  FROM rustydb.compaction_history('c');
SELECT compaction_steps, compaction_bytes > 0 AS wrote,
       write_amplification > 0 AS wa
  FROM rustydb.storage_counters('c');
SELECT free_stripe_pages = :pages_before AS inputs_given_back,
       stripe_pages <= :pages_before AS no_more_pages
  FROM rustydb.l0_layout('c');
-- nothing more to do
SELECT rustydb.compact('c');
SELECT c_same('after merging');

-- every read path over compacted rows
SET enable_seqscan = off; SET enable_bitmapscan = off;
SELECT count(*), sum(length(v)), sum(n) FROM c WHERE id BETWEEN 500 AND 9000;
SELECT count(*), sum(length(v)), sum(n) FROM ch WHERE id BETWEEN 500 AND 9000;
SET enable_indexscan = off; SET enable_bitmapscan = on;
SELECT count(*), sum(length(v)), sum(n) FROM c WHERE id BETWEEN 500 AND 9000;
RESET enable_seqscan; RESET enable_bitmapscan; RESET enable_indexscan;
SELECT count(*), sum(length(v)) FROM c WHERE ts >= '2026-01-05' AND ts < '2026-01-06';
SELECT count(*), sum(length(v)) FROM ch WHERE ts >= '2026-01-05' AND ts < '2026-01-06';
SET rustydb.enable_columnar_scan = off;
SELECT count(*), sum(length(v)) FROM c WHERE ts >= '2026-01-05' AND ts < '2026-01-06';
RESET rustydb.enable_columnar_scan;
SELECT length(v), v = repeat(md5('777'), 3000) FROM c WHERE id = 777;

-- writes to compacted rows behave as on heap
UPDATE c SET v = 'upd' WHERE id % 97 = 0;
UPDATE ch SET v = 'upd' WHERE id % 97 = 0;
DELETE FROM c WHERE id % 5 = 0;
DELETE FROM ch WHERE id % 5 = 0;
SELECT c_same('after update and delete');
BEGIN;
SELECT id FROM c WHERE id BETWEEN 3 AND 6 ORDER BY id FOR UPDATE;
ROLLBACK;

-- dead rows (deleted, then VACUUMed) are dropped: each stripe is more than
-- rustydb.compaction_dead_fraction (0.2) dead, so it is rewritten in place
VACUUM c;
SELECT level, stripes, deleted > 0 AS has_deleted FROM c_levels ORDER BY level;
SELECT rustydb.compact('c') > 0 AS rewrote;
SELECT level, stripes, deleted FROM c_levels ORDER BY level;
SELECT rows_dropped >= 2400 AS dropped_deleted_rows FROM rustydb.compaction_history('c');
SELECT c_same('after dropping dead rows');

-- later stripes go into the space given back: the file does not grow
SELECT pg_relation_size('c') AS size_before \gset
SELECT free_stripe_pages AS free_before FROM rustydb.l0_layout('c') \gset
INSERT INTO c SELECT * FROM c_rows(12001, 14000);
INSERT INTO ch SELECT * FROM c_rows(12001, 14000);
SELECT c_flush(2000);
SELECT pg_relation_size('c') <= :size_before AS file_did_not_grow,
       free_stripe_pages < :free_before AS extents_used
  FROM rustydb.l0_layout('c');
SELECT c_same('after a flush into given-back space');

-- inside a transaction block compaction gives space back too (no lock
-- beyond ShareUpdateExclusiveLock); it is reused once the block committed
-- and no snapshot is older (t/035 shows what waits for what)
DELETE FROM c WHERE id % 3 = 0;
DELETE FROM ch WHERE id % 3 = 0;
VACUUM c;
SELECT pages_freed AS freed_before FROM rustydb.compaction_history('c') \gset
BEGIN;
SELECT rustydb.compact('c') > 0 AS rewrote;
SELECT pages_freed > :freed_before AS gave_back, pages_pending
  FROM rustydb.compaction_history('c');
COMMIT;
SELECT free_stripe_pages AS free_before FROM rustydb.l0_layout('c') \gset
INSERT INTO c SELECT * FROM c_rows(14001, 16000);
INSERT INTO ch SELECT * FROM c_rows(14001, 16000);
SELECT c_flush(2000);
SELECT free_stripe_pages < :free_before AS extents_used FROM rustydb.l0_layout('c');
SELECT c_same('after compacting in a transaction block');

-- rustydb.tables shows the levels, write amplification and the history
SELECT stripes_per_level, write_amplification > 0 AS wa, compactions > 0 AS compacted,
       last_compaction_error
  FROM rustydb.tables WHERE relation = 'c'::regclass;

-- TRUNCATE of storage created in this transaction (here: the table moved
-- to another tablespace, its blocks copied, metapage included) empties that
-- file in place: it starts from a fresh metapage, not the moved one's free
-- stripe extents and directory, whose blocks the next rows take
SET allow_in_place_tablespaces = on;
CREATE TABLESPACE rdb_compact_ts LOCATION '';
SELECT free_stripe_pages > 0 AS has_free_extents,
       retired_generations > 0 AS has_directory FROM rustydb.l0_layout('c');
BEGIN;
ALTER TABLE c SET TABLESPACE rdb_compact_ts;
TRUNCATE c;
INSERT INTO c SELECT * FROM c_rows(1, 3000);
COMMIT;
TRUNCATE ch;
INSERT INTO ch SELECT * FROM c_rows(1, 3000);
SELECT free_stripe_pages, retired_generations, stripe_pages FROM rustydb.l0_layout('c');
SELECT c_same('after TRUNCATE of storage new in the transaction');
SELECT c_flush(3000);
INSERT INTO c SELECT * FROM c_rows(3001, 5000);
INSERT INTO ch SELECT * FROM c_rows(3001, 5000);
SELECT c_flush(2000);
SELECT level, stripes, rows FROM c_levels ORDER BY level;
SELECT c_same('after flushing into it');
ALTER TABLE c SET TABLESPACE pg_default;
DROP TABLESPACE rdb_compact_ts;

-- TRUNCATE and a rewrite start over: empty history, fresh metapage
TRUNCATE c;
SELECT * FROM rustydb.compaction_history('c');
SELECT flush_bytes, compaction_bytes, compaction_steps FROM rustydb.storage_counters('c');
SELECT free_stripe_pages FROM rustydb.l0_layout('c');

-- a merge of more rows than one output holds goes in pieces: a step writes
-- one output, so its inputs can be given back before the next piece
CREATE TABLE p (id int PRIMARY KEY, v text)
  USING rustydb WITH (stripe_rows = 1000, level_ratio = 4, max_stripe_rows = 2000);
INSERT INTO p SELECT g, md5(g::text) FROM generate_series(1, 4500) g;
DO $$
DECLARE moved bigint := 0;
BEGIN
  FOR i IN 1..200 LOOP
    PERFORM rdb_test.wait_quiet();
    moved := moved + rustydb.flush('p');
    EXIT WHEN moved >= 4500;
    PERFORM pg_sleep(0.1);
  END LOOP;
END $$;
-- level 1: stripes of at most 1,000 rows, none full (full: over 1,000 live)
SELECT level, count(*) >= 5 AS five_or_more, max(rows) <= 1000 AS small, sum(rows)
  FROM rustydb.stripes WHERE relation = 'p'::regclass GROUP BY level;
SELECT rustydb.compact('p') AS stripes_merged;
-- two of the four oldest fit in one 2,000-row output: one level-2 stripe;
-- the level-1 stripes left are fewer than level_ratio and wait
SELECT level, count(*) AS stripes, sum(rows) AS rows, max(rows) <= 2000 AS fits
  FROM rustydb.stripes WHERE relation = 'p'::regclass GROUP BY level ORDER BY level;
SELECT steps, stripes_rewritten, stripes_written FROM rustydb.compaction_history('p');
SELECT count(*), sum(hashtext(v)), min(id), max(id) FROM p;
SELECT count(*) FROM p WHERE v <> md5(id::text);
DROP TABLE p;

RESET ALL;
DROP SCHEMA rdb_compact CASCADE;
DROP ROLE rdb_compact_other;
