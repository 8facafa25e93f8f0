-- rustydb_writer_flush: with writer_flush_rows, a transaction moves the
-- rows it writes into stripes itself, from inside the statement, each time
-- it has written that many (src/lsm/flush.c, rdb_flush_writer)
--
-- The background flush cannot keep up with one fast statement: an
-- INSERT ... SELECT or COPY fills L0 with its rows at full width before the
-- worker gets to them, and the file keeps that size.  With the option the
-- writer moves its own running rows as flush_running moves them (stubs stay
-- behind, nobody else sees them), and the room they leave takes the
-- statement's next rows.  Checked on the storage (rustydb.l0_layout,
-- rustydb.stripes) and on the rows, against a heap twin that receives the
-- same statements: INSERT ... SELECT (tuple_insert), COPY (multi_insert),
-- rollback, savepoints, ON CONFLICT.
SET client_min_messages = warning;
CREATE SCHEMA rdb_writer_flush;
SET search_path = rdb_writer_flush, public;

-- the option: rows, 0 (never) by default (rustydb.writer_flush_rows)
\set VERBOSITY default
CREATE TABLE bad (id int) USING rustydb WITH (writer_flush_rows = -1);
CREATE TABLE bad (id int) USING rustydb WITH (writer_flush_rows = 'many');
\set VERBOSITY terse
CREATE TABLE o (id int) USING rustydb;
SELECT option, value, source FROM rustydb.table_options('o') WHERE option = 'writer_flush_rows';
ALTER TABLE o SET (writer_flush_rows = 500);
SELECT option, value, source FROM rustydb.table_options('o') WHERE option = 'writer_flush_rows';
ALTER TABLE o RESET (writer_flush_rows);
SET rustydb.writer_flush_rows = 700;
SELECT option, value, source FROM rustydb.table_options('o') WHERE option = 'writer_flush_rows';
RESET rustydb.writer_flush_rows;
-- superuser-only as a setting: an INSERT privilege does not choose how the
-- owner's table is stored (at 1, a stripe page a row); the owner sets the
-- table option
CREATE ROLE wf_inserter;
GRANT INSERT ON o TO wf_inserter;
SET ROLE wf_inserter;
SET rustydb.writer_flush_rows = 1;
RESET ROLE;
DROP OWNED BY wf_inserter;
DROP ROLE wf_inserter;
-- 0: a statement's rows stay where they are
INSERT INTO o SELECT generate_series(1, 5000);
SELECT count(*) AS stripes FROM rustydb.stripes('o');
DROP TABLE o;

CREATE TABLE w (id int PRIMARY KEY, k int, v text, j jsonb)
  USING rustydb WITH (writer_flush_rows = 2000, stripe_rows = 100000,
                      chunk_group_rows = 1000);
CREATE TABLE wh (LIKE w INCLUDING ALL) USING heap;
CREATE FUNCTION w_rows(lo int, hi int) RETURNS SETOF wh LANGUAGE sql AS $$
  SELECT g, g % 7, repeat(md5(g::text), 4), jsonb_build_object('g', g)
    FROM generate_series(lo, hi) g $$;
CREATE FUNCTION w_same(what text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE a text; b text; c text;
BEGIN
  SELECT string_agg(md5(x::text), '' ORDER BY id) INTO a FROM w x;
  SELECT string_agg(md5(x::text), '' ORDER BY id) INTO b FROM wh x;
  -- by the index too
  SET LOCAL enable_seqscan = off;
  SELECT string_agg(md5(x::text), '' ORDER BY id) INTO c FROM w x WHERE id > 0;
  RETURN what || ': ' || CASE WHEN a IS NOT DISTINCT FROM b AND c IS NOT DISTINCT FROM b
                              THEN 'same as heap' ELSE 'DIFFERENT' END;
END $$;
CREATE VIEW w_moved AS
  SELECT count(*) AS stripes, coalesce(sum(nrows), 0) AS stripe_rows
    FROM rustydb.stripes('w');

-- 1. One INSERT ... SELECT of 12,000 rows: the writer moved them in
-- stripes of about 2,000 while the statement ran, and its pages hold
-- stubs: far fewer pages than the heap twin's rows take
BEGIN;
INSERT INTO w SELECT * FROM w_rows(1, 12000);
INSERT INTO wh SELECT * FROM w_rows(1, 12000);
SELECT stripes >= 5 AS several_stripes, stripe_rows >= 10000 AS rows_moved FROM w_moved;
SELECT l0_pages * 2 < pg_relation_size('wh') / 8192 AS under_half_the_pages,
       retired_generations
  FROM rustydb.l0_layout('w');
SELECT w_same('inside the statement''s transaction');
UPDATE w SET k = k + 100 WHERE id % 10 = 0;
UPDATE wh SET k = k + 100 WHERE id % 10 = 0;
DELETE FROM w WHERE id % 10 = 1;
DELETE FROM wh WHERE id % 10 = 1;
SELECT w_same('after updating and deleting its own moved rows');
COMMIT;
SELECT w_same('committed');
-- settled: the flush copies every page of several stripes into one and
-- retires it
SELECT rdb_test.wait_quiet();
VACUUM w;
SELECT rustydb.flush('w') > 0 AS moved;
SELECT l0_pages, retired_rows = (SELECT count(*) FROM wh) AS all_rows_retired
  FROM rustydb.l0_layout('w');
SELECT w_same('after the pages were retired');

-- 2. COPY (multi_insert) moves its rows between batches
SELECT stripe_rows AS before,
       (SELECT sum(deleted_rows) FROM rustydb.stripes('w')) AS dead_before
  FROM w_moved \gset
COPY w FROM PROGRAM 'seq 20001 26000 | awk ''{ printf "%d\t%d\tc%d\t{\"c\": %d}\n", $1, $1 % 7, $1, $1 }''';
COPY wh FROM PROGRAM 'seq 20001 26000 | awk ''{ printf "%d\t%d\tc%d\t{\"c\": %d}\n", $1, $1 % 7, $1, $1 }''';
-- each row once: the page COPY is filling (pinned by its bulk-insert
-- state) waits for the next round instead of being copied into every
-- stripe with its rows left on the page
SELECT stripe_rows - :before BETWEEN 4000 AND 6000 AS copy_rows_moved_once,
       (SELECT sum(deleted_rows) FROM rustydb.stripes('w')) = :dead_before AS no_row_left_unreferenced
  FROM w_moved;
SELECT w_same('after COPY');

-- 3. A rollback: the moved rows are gone; VACUUM frees their stubs and
-- compaction their stripe rows
SELECT rdb_test.wait_quiet();
VACUUM w;
SELECT rustydb.flush('w') >= 0 AS flushed;
SELECT rustydb.compact('w') >= 0 AS compacted;
SELECT stripe_rows = (SELECT count(*) FROM wh) AS only_live_rows FROM w_moved;
BEGIN;
INSERT INTO w SELECT * FROM w_rows(30001, 36000);
SELECT stripe_rows - (SELECT count(*) FROM wh) >= 4000 AS moved_while_running FROM w_moved;
SELECT count(*) FROM w WHERE id > 30000;
ROLLBACK;
SELECT count(*) FROM w WHERE id > 30000;
SELECT w_same('after the rollback');
SELECT rdb_test.wait_quiet();
VACUUM w;
SELECT rustydb.compact('w') >= 0 AS compacted;
SELECT stripe_rows = (SELECT count(*) FROM wh) AS only_live_rows FROM w_moved;

-- 4. A rolled-back savepoint, and ON CONFLICT (a speculative insertion is
-- never moved half-done)
BEGIN;
INSERT INTO w SELECT * FROM w_rows(40001, 43000);
INSERT INTO wh SELECT * FROM w_rows(40001, 43000);
SAVEPOINT s;
INSERT INTO w SELECT * FROM w_rows(43001, 46000);
ROLLBACK TO s;
INSERT INTO w SELECT * FROM w_rows(41001, 48000)
  ON CONFLICT (id) DO UPDATE SET k = excluded.k + 1000;
INSERT INTO wh SELECT * FROM w_rows(41001, 48000)
  ON CONFLICT (id) DO UPDATE SET k = excluded.k + 1000;
SELECT w_same('inside, after a savepoint and ON CONFLICT');
COMMIT;
SELECT w_same('committed, after a savepoint and ON CONFLICT');

-- 5. The room the writer's flush keeps for its transaction (l0_page.c)
-- outlives a TRUNCATE of a table created in the same transaction, which
-- cuts the file in place (same relfilenode): the next rows must not be sent
-- to a block past its end
BEGIN;
CREATE TABLE wt (id int, v text) USING rustydb WITH (writer_flush_rows = 500);
INSERT INTO wt SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 3000) g;
SELECT count(*) > 0 AS moved_while_running FROM rustydb.stripes('wt');
TRUNCATE wt;
INSERT INTO wt SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 10) g;
SELECT count(*), sum(id) FROM wt;
COMMIT;
SELECT count(*), sum(id) FROM wt;

RESET search_path;
DROP SCHEMA rdb_writer_flush CASCADE;
