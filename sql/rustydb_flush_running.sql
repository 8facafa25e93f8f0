-- rustydb_flush_running: with flush_running, flush moves rows of a running
-- transaction; and it puts the rows of a page that ended up in several
-- stripes back into one (src/lsm/flush.c, flush_row_qualifies and
-- flush_page_plan)
--
-- A row's header stays on its page as a stub, so moving the values of a row
-- whose inserter is still running changes nothing any snapshot sees; what
-- it changes is the page: the values' room is free for the transaction's
-- next rows, so a large transaction's pages hold ~36-byte stubs instead of
-- its rows.  Such a page cannot be retired while its rows are not settled,
-- and its later rows go into another stripe; once they are all settled, the
-- next flush copies the whole page into one stripe and retires it.  Checked
-- on the storage (rustydb.l0_layout, rustydb.stripes) and on the rows,
-- against a heap twin that receives the same statements.
SET client_min_messages = warning;
CREATE SCHEMA rdb_flush_running;
SET search_path = rdb_flush_running, public;

-- the option: a boolean, off by default (rustydb.flush_running)
\set VERBOSITY default
CREATE TABLE bad (id int) USING rustydb WITH (flush_running = 'sometimes');
\set VERBOSITY terse
CREATE TABLE o (id int) USING rustydb WITH (flush_running);
SELECT option, value, source FROM rustydb.table_options('o') WHERE option = 'flush_running';
ALTER TABLE o SET (flush_running = false);
SELECT option, value, source FROM rustydb.table_options('o') WHERE option = 'flush_running';
ALTER TABLE o RESET (flush_running);
SET rustydb.flush_running = on;
SELECT option, value, source FROM rustydb.table_options('o') WHERE option = 'flush_running';
RESET rustydb.flush_running;
-- off: a running transaction's rows stay where they are
BEGIN;
INSERT INTO o SELECT generate_series(1, 1000);
SELECT rustydb.flush('o') AS moved_while_running;
COMMIT;
DROP TABLE o;

CREATE TABLE r (id int PRIMARY KEY, k int, v text, j jsonb)
  USING rustydb WITH (stripe_rows = 100000, chunk_group_rows = 1000,
                      flush_running = on);
CREATE TABLE rh (LIKE r INCLUDING ALL) USING heap;
CREATE FUNCTION r_rows(lo int, hi int) RETURNS SETOF rh LANGUAGE sql AS $$
  SELECT g, g % 7, repeat(md5(g::text), 4), jsonb_build_object('g', g)
    FROM generate_series(lo, hi) g $$;
CREATE FUNCTION r_same(what text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE a text; b text; c text;
BEGIN
  SELECT string_agg(md5(x::text), '' ORDER BY id) INTO a FROM r x;
  SELECT string_agg(md5(x::text), '' ORDER BY id) INTO b FROM rh x;
  -- by the index too
  SET LOCAL enable_seqscan = off;
  SELECT string_agg(md5(x::text), '' ORDER BY id) INTO c FROM r x WHERE id > 0;
  RETURN what || ': ' || CASE WHEN a IS NOT DISTINCT FROM b AND c IS NOT DISTINCT FROM b
                              THEN 'same as heap' ELSE 'DIFFERENT' END;
END $$;
CREATE VIEW r_pages AS
  SELECT l0_pages, retired_generations, retired_rows FROM rustydb.l0_layout('r');

-- 1. Rows of this very transaction move, and it goes on reading and
-- changing them.  Pages of full rows first: how many rows one holds.
BEGIN;
INSERT INTO r SELECT * FROM r_rows(1, 3000);
INSERT INTO rh SELECT * FROM r_rows(1, 3000);
SELECT l0_pages AS full_pages FROM r_pages \gset
SELECT rustydb.flush('r') AS moved_while_running;
-- the room their values left takes the transaction's next rows
INSERT INTO r SELECT * FROM r_rows(3001, 6000);
INSERT INTO rh SELECT * FROM r_rows(3001, 6000);
SELECT rustydb.flush('r') AS moved_while_running;
INSERT INTO r SELECT * FROM r_rows(6001, 9000);
INSERT INTO rh SELECT * FROM r_rows(6001, 9000);
SELECT rustydb.flush('r') AS moved_while_running;
-- 9000 rows on fewer than half the pages they take as full rows (three
-- times what the first 3000 took), none retired yet
SELECT l0_pages * 2 < 3 * :full_pages AS denser, retired_generations FROM r_pages;
SELECT count(*) AS stripes, sum(nrows) AS stripe_rows FROM rustydb.stripes('r');
SELECT r_same('inside the transaction, rows moved');
UPDATE r SET k = k + 100 WHERE id % 10 = 0;
UPDATE rh SET k = k + 100 WHERE id % 10 = 0;
DELETE FROM r WHERE id % 10 = 1;
DELETE FROM rh WHERE id % 10 = 1;
SELECT count(*), sum(k) FROM r WHERE id BETWEEN 100 AND 8000;
SELECT r_same('after updating and deleting its own moved rows');
COMMIT;
-- settled: VACUUM removes the deleted rows and the old versions, the next
-- flush moves the updated rows and copies each page whose rows lie in
-- several stripes into one, and retires it
SELECT rdb_test.wait_quiet();
VACUUM r;
SELECT rustydb.flush('r') > 0 AS moved_updated_rows;
SELECT l0_pages, retired_generations > 0 AS retired,
       retired_rows = (SELECT count(*) FROM rh) AS all_rows_retired
  FROM r_pages;
-- one generation now holds more rows than a page of full rows did
SELECT retired_rows / retired_generations > 3000 / :full_pages AS denser_generations
  FROM r_pages;
SELECT r_same('after the pages were retired');
-- the copies left behind are rows nothing refers to: compaction gives
-- back their stripes whole
SELECT rustydb.compact('r') >= 0 AS compacted;
SELECT count(*) AS stripes_left, sum(nrows) = (SELECT count(*) FROM rh) AS only_live_rows
  FROM rustydb.stripes('r');
SELECT r_same('after compaction');

-- 2. A rolled-back transaction: its moved rows are gone, VACUUM frees
-- their stubs and compaction their stripe rows
SELECT count(*) AS stripes_before FROM rustydb.stripes('r') \gset
BEGIN;
INSERT INTO r SELECT * FROM r_rows(10001, 13000);
SELECT rustydb.flush('r') AS moved_while_running;
SELECT count(*) FROM r WHERE id > 10000;
ROLLBACK;
SELECT count(*) FROM r WHERE id > 10000;
SELECT r_same('after the rollback');
SELECT rdb_test.wait_quiet();
VACUUM r;
SELECT rustydb.compact('r') >= 0 AS compacted;
SELECT count(*) = :stripes_before AS stripes_as_before,
       sum(nrows) = (SELECT count(*) FROM rh) AS only_live_rows
  FROM rustydb.stripes('r');

-- 3. Savepoints: rows of a rolled-back subtransaction moved with the rest
BEGIN;
INSERT INTO r SELECT * FROM r_rows(20001, 21000);
INSERT INTO rh SELECT * FROM r_rows(20001, 21000);
SAVEPOINT s;
INSERT INTO r SELECT * FROM r_rows(21001, 22000);
SELECT rustydb.flush('r') AS moved_while_running;
ROLLBACK TO s;
INSERT INTO r SELECT * FROM r_rows(22001, 23000);
INSERT INTO rh SELECT * FROM r_rows(22001, 23000);
SELECT rustydb.flush('r') AS moved_while_running;
SELECT r_same('inside, after a rolled-back savepoint');
COMMIT;
SELECT rdb_test.wait_quiet();
VACUUM r;
SELECT rustydb.flush('r') AS moved;
SELECT l0_pages, retired_rows = (SELECT count(*) FROM rh) AS all_rows_retired FROM r_pages;
SELECT r_same('after a rolled-back savepoint, settled');

-- 4. A page flushed while a later row on it was not yet settled: its rows
-- went into two stripes.  Before, such a page could never be retired (a
-- directory entry describes rows of one stripe) and kept its block and
-- 36 bytes a row for good.
CREATE TABLE p (id int, v text) USING rustydb WITH (flush_running = on);
BEGIN;
INSERT INTO p SELECT g, 'p' || g FROM generate_series(1, 20) g;
SELECT rustydb.flush('p') AS moved_while_running;
INSERT INTO p SELECT g, 'p' || g FROM generate_series(21, 40) g;
COMMIT;
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('p') AS moved;
SELECT l0_pages, retired_generations, retired_rows FROM rustydb.l0_layout('p');
SELECT count(*), sum(id), min(v), max(v) FROM p;

RESET search_path;
DROP SCHEMA rdb_flush_running CASCADE;
