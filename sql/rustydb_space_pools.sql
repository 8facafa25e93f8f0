-- rustydb_space_pools: the free pages of L0 and of stripes serve each other
-- (src/rowstore/gendir.c rdb_gen_take_free_pages, metapage.c
-- rdb_meta_take_l0_page)
--
-- A flushed L0 page is retired and its block becomes a FREE page; compaction
-- gives the pages of the stripes it replaced back as free extents.  Before,
-- a stripe took only free extents and an L0 page only FREE pages, so each
-- pool grew the file while the other had room.  Now a stripe that no free
-- extent holds takes FREE pages (once every snapshot is newer than their
-- retirement) before the file grows, and a new L0 page takes a free
-- extent's block.  Checked on the storage (pg_relation_size,
-- rustydb.l0_layout, rustydb.stripe_space) and on the rows, against a heap
-- twin, through sequential, index and columnar scans.
SET client_min_messages = warning;
CREATE SCHEMA rdb_space_pools;
SET search_path = rdb_space_pools, public;

CREATE TABLE sp (id int PRIMARY KEY, k int, v text)
  USING rustydb WITH (stripe_rows = 100000, chunk_group_rows = 1000,
                      level_ratio = 2, autovacuum_enabled = off);
CREATE TABLE sph (LIKE sp INCLUDING ALL) USING heap;
CREATE FUNCTION sp_rows(lo int, hi int) RETURNS SETOF sph LANGUAGE sql AS $$
  SELECT g, g % 13, repeat(md5(g::text), 3) FROM generate_series(lo, hi) g $$;
CREATE FUNCTION sp_same(what text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE a text; b text; c text; d text;
BEGIN
  SELECT string_agg(md5(x::text), '' ORDER BY id) INTO a FROM sp x;
  SELECT string_agg(md5(x::text), '' ORDER BY id) INTO b FROM sph x;
  SELECT count(*) || ':' || sum(k) || ':' || max(v) INTO d FROM sp;
  IF d IS DISTINCT FROM (SELECT count(*) || ':' || sum(k) || ':' || max(v) FROM sph) THEN
    a := 'x';
  END IF;
  -- by the index too
  SET LOCAL enable_seqscan = off;
  SELECT string_agg(md5(x::text), '' ORDER BY id) INTO c FROM sp x WHERE id > 0;
  RETURN what || ': ' || CASE WHEN a IS NOT DISTINCT FROM b AND c IS NOT DISTINCT FROM b
                              THEN 'same as heap' ELSE 'DIFFERENT' END;
END $$;
-- blocks of the table's stripes, and how many lie below a block
CREATE FUNCTION sp_stripe_blocks_below(b bigint) RETURNS bigint LANGUAGE sql AS $$
  SELECT coalesce(sum(least(blocks, greatest(b - first_block, 0))), 0)
    FROM rustydb.stripe_space('sp') WHERE kind = 'stripe' $$;

-- 1. A flush retires the pages it empties: FREE pages
INSERT INTO sp SELECT * FROM sp_rows(1, 30000);
INSERT INTO sph SELECT * FROM sp_rows(1, 30000);
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('sp') = 30000 AS flushed;
SELECT free_pages > 300 AS many_free_pages, l0_pages FROM rustydb.l0_layout('sp');
SELECT sp_same('after the first flush');

-- 2. Rows that reuse some of those pages, then their stripe: it takes
-- FREE pages instead of growing the file (an xid after the retirement
-- first: every snapshot is then newer than it)
INSERT INTO sp SELECT * FROM sp_rows(30001, 40000);
INSERT INTO sph SELECT * FROM sp_rows(30001, 40000);
-- (their pages' new generations took directory pages)
SELECT pg_relation_size('sp') / 8192 AS size_1 \gset
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('sp') = 10000 AS flushed;
-- every stripe block lies inside the file as it was (the directory may
-- take a page more for what it summarises)
SELECT count(*) AS stripes,
       sp_stripe_blocks_below(:size_1) = sum(blocks) AS all_stripe_blocks_inside,
       pg_relation_size('sp') / 8192 - :size_1 < sum(blocks) / count(DISTINCT stripe) AS file_grew_less_than_a_stripe
  FROM rustydb.stripe_space('sp') WHERE kind = 'stripe';
SELECT sp_same('after a flush into FREE pages');
SELECT count(*), sum(k) FROM sp WHERE id BETWEEN 29000 AND 31000;

-- 3. Compaction's output takes FREE pages too; the inputs' pages become
-- free extents
SELECT rdb_test.wait_quiet();
SELECT pg_relation_size('sp') / 8192 AS size_2 \gset
SELECT rustydb.compact('sp') > 0 AS compacted;
SELECT count(*) AS stripes,
       sp_stripe_blocks_below(:size_2) = sum(blocks) AS all_stripe_blocks_inside,
       pg_relation_size('sp') / 8192 - :size_2 < sum(blocks) AS file_grew_less_than_the_output
  FROM rustydb.stripe_space('sp') WHERE kind = 'stripe';
SELECT free_stripe_pages > 0 AS extents_given_back FROM rustydb.l0_layout('sp');
SELECT sp_same('after compaction into FREE pages');

-- 4. New L0 pages take those extents' blocks once the FREE pages are used
-- up (nothing else takes them here: no flush, no compaction)
SELECT rdb_test.wait_quiet();
SELECT free_stripe_pages AS extents_before FROM rustydb.l0_layout('sp') \gset
INSERT INTO sp SELECT * FROM sp_rows(40001, 90000);
INSERT INTO sph SELECT * FROM sp_rows(40001, 90000);
SELECT free_stripe_pages < :extents_before AS l0_took_extent_blocks,
       reused_pages > 0 AS reused
  FROM rustydb.l0_layout('sp');
SELECT sp_same('after inserts into stripe blocks');
UPDATE sp SET k = k + 1 WHERE id % 97 = 0;
UPDATE sph SET k = k + 1 WHERE id % 97 = 0;
DELETE FROM sp WHERE id % 89 = 0;
DELETE FROM sph WHERE id % 89 = 0;
SELECT sp_same('after updates and deletes');
SELECT rdb_test.wait_quiet();
VACUUM sp;
SELECT rustydb.flush('sp') > 0 AS flushed;
SELECT rustydb.compact('sp') >= 0 AS compacted;
SELECT sp_same('after all of it flushed and compacted');

-- 5. A snapshot older than a retirement keeps the retired pages from the
-- stripes (a scan of it may read their blocks for the rows they held); once
-- it is gone, they are taken
CREATE TABLE sq (id int, v text)
  USING rustydb WITH (autovacuum_enabled = off, flush_running = on);
INSERT INTO sq SELECT g, repeat('q', 200) FROM generate_series(1, 5000) g;
SELECT rdb_test.wait_quiet();
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) FROM sq;
SELECT rustydb.flush('sq') = 5000 AS flushed;
SELECT free_pages > 100 AS free_pages FROM rustydb.l0_layout('sq');
SELECT pg_relation_size('sq') / 8192 AS sq_size \gset
INSERT INTO sq SELECT g, repeat('q', 200) FROM generate_series(5001, 6000) g;
SELECT rustydb.flush('sq') = 1000 AS moved_while_running;
-- its stripe did not take the FREE pages: this very snapshot is older
SELECT pg_relation_size('sq') / 8192 > :sq_size AS file_grew;
COMMIT;
SELECT pg_relation_size('sq') / 8192 AS sq_size \gset
INSERT INTO sq SELECT g, repeat('q', 200) FROM generate_series(6001, 7000) g;
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('sq') >= 1000 AS flushed;
SELECT pg_relation_size('sq') / 8192 - :sq_size < 2 AS file_did_not_grow;
SELECT count(*), sum(id) FROM sq;

-- 6. A stripe over FREE blocks of both kinds: blocks a generation was
-- retired from, and blocks no generation ever named (here: pages a DELETE's
-- revivals took at the end of the file, retired again by VACUUM), side by
-- side.  The columnar scan's walk passes over a stripe's blocks in one step
-- from a block it reads; it must stop at the first whose generation the
-- directory holds, or it skips the rows of the generations retired from
-- the blocks after it (before the fix: 53,540 rows of 59,920).
CREATE TABLE sr (id int, k int, v text)
  USING rustydb WITH (chunk_group_rows = 1000, level_ratio = 2,
                      autovacuum_enabled = off);
CREATE TABLE srh (LIKE sr) USING heap;
CREATE FUNCTION sr_ins(lo int, hi int) RETURNS void LANGUAGE sql AS $$
  INSERT INTO sr SELECT g, g % 13, repeat(md5(g::text), 3) FROM generate_series(lo, hi) g;
  INSERT INTO srh SELECT g, g % 13, repeat(md5(g::text), 3) FROM generate_series(lo, hi) g $$;
SELECT sr_ins(1, 20000);
SELECT count(*) FROM sr;
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('sr') = 20000 AS flushed;
-- the next rows take every FREE page, so the revivals below extend the file
SELECT sr_ins(20001, 40000);
SELECT pg_relation_size('sr') / 8192 AS sr_size \gset
DELETE FROM sr WHERE id <= 4000 AND id % 50 = 0;
DELETE FROM srh WHERE id <= 4000 AND id % 50 = 0;
SELECT pg_relation_size('sr') / 8192 > :sr_size AS revivals_took_new_blocks;
-- rows on blocks after those, retired by the flush; VACUUM retires the
-- revived generations again
SELECT sr_ins(40001, 60000);
SELECT count(*) FROM sr;
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('sr') > 0 AS flushed;
SELECT rdb_test.wait_quiet();
VACUUM sr;
INSERT INTO srh VALUES (-1, 0, 'an xid after the retirements');
DELETE FROM srh WHERE id = -1;
SELECT rdb_test.wait_quiet();
SELECT pg_relation_size('sr') / 8192 AS sr_size \gset
SELECT rustydb.compact('sr') > 0 AS compacted;
SELECT rustydb.compact('sr') >= 0 AS compacted;
SELECT count(*) AS stripes,
       sum(blocks) FILTER (WHERE first_block + blocks <= :sr_size) = sum(blocks) AS inside_the_file
  FROM rustydb.stripe_space('sr') WHERE kind = 'stripe';
SELECT count(*), sum(id), sum(k) FROM sr WHERE id > 0;
SELECT count(*), sum(id), sum(k) FROM srh WHERE id > 0;
SET rustydb.enable_columnar_scan = off;
SELECT count(*), sum(id), sum(k) FROM sr WHERE id > 0;
RESET rustydb.enable_columnar_scan;

-- 7. A DELETE's revivals take the blocks of given-back stripe pages before
-- the file grows, as new L0 pages do (gendir.c, gen_get_free_page).  Before,
-- a DELETE of old rows grew the file by a page per generation it touched
-- while the given-back pages waited for the next merge.
CREATE TABLE sv (id int, k int, v text)
  USING rustydb WITH (chunk_group_rows = 1000, stripe_rows = 10000,
                      level_ratio = 2, autovacuum_enabled = off);
CREATE TABLE svh (LIKE sv) USING heap;
CREATE FUNCTION sv_ins(lo int, hi int) RETURNS void LANGUAGE sql AS $$
  INSERT INTO sv SELECT g, g % 13, repeat(md5(g::text), 3) FROM generate_series(lo, hi) g;
  INSERT INTO svh SELECT g, g % 13, repeat(md5(g::text), 3) FROM generate_series(lo, hi) g $$;
-- four stripes, their pages retired
SELECT sv_ins(1, 40000);
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('sv') = 40000 AS flushed;
-- new rows take every FREE page (and grow the file)
SELECT sv_ins(40001, 100000);
SELECT free_pages AS sv_free_pages FROM rustydb.l0_layout('sv') \gset
SELECT :sv_free_pages < 20 AS few_free_pages;
-- a merge of the four: the output grows the file, the inputs' pages are
-- given back (usable once an xid after the merge is older than every
-- snapshot)
SELECT rustydb.compact('sv') > 0 AS compacted;
INSERT INTO svh VALUES (-1, 0, 'an xid after the merge');
DELETE FROM svh WHERE id = -1;
SELECT rdb_test.wait_quiet();
SELECT free_stripe_pages AS sv_extents, l0_pages AS sv_l0 FROM rustydb.l0_layout('sv') \gset
SELECT :sv_extents > 50 AS pages_given_back;
SELECT pg_relation_size('sv') / 8192 AS sv_size \gset
-- every retired generation of the first 40,000 rows is revived
DELETE FROM sv WHERE id <= 40000 AND id % 7 = 0;
DELETE FROM svh WHERE id <= 40000 AND id % 7 = 0;
SELECT l0_pages - :sv_l0 > :sv_extents + :sv_free_pages AS revived_more_than_the_free_room,
       free_stripe_pages = 0 AS revivals_took_the_given_back_blocks,
       pg_relation_size('sv') / 8192 - :sv_size
         <= l0_pages - :sv_l0 - :sv_extents AS file_grew_only_by_the_rest
  FROM rustydb.l0_layout('sv');
SELECT count(*), sum(id), sum(k), md5(string_agg(v, '' ORDER BY id)) FROM sv WHERE id > 0;
SELECT count(*), sum(id), sum(k), md5(string_agg(v, '' ORDER BY id)) FROM svh WHERE id > 0;
-- the stubs revived onto those blocks point into the stripes as any others:
-- a merge switches them, and the merged stripes are given back
CREATE TABLE sv_before AS SELECT first_block, level, nrows FROM rustydb.stripes('sv');
SELECT count(*) AS stripes_before FROM sv_before;
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('sv') = 60000 AS flushed;
SELECT rustydb.compact('sv') > 0 AS compacted;
SELECT count(*) AS old_stripes_left FROM rustydb.stripes('sv') s
  JOIN sv_before b USING (first_block, level, nrows);
SELECT count(*), sum(id), sum(k), md5(string_agg(v, '' ORDER BY id)) FROM sv WHERE id > 0;
SELECT rdb_test.wait_quiet();
VACUUM sv;
SELECT rustydb.flush('sv') > 0 AS flushed;
SELECT rustydb.compact('sv') >= 0 AS compacted;
SELECT count(*), sum(id), sum(k), md5(string_agg(v, '' ORDER BY id)) FROM sv WHERE id > 0;
SET rustydb.enable_columnar_scan = off;
SET enable_seqscan = off;
SELECT count(*), sum(id), sum(k) FROM sv WHERE id > 0;
RESET enable_seqscan;
RESET rustydb.enable_columnar_scan;

-- 8. The columnar scan passes over the blocks of free extents unread
-- (src/tableam/scan.c, scan_free_extent_end).  Before, its walk read the
-- first and the last page of every stripe compaction had given back, at
-- every query: a new connection's query of the last 1 % of a compacted
-- table paid for that many buffers it had never touched.
CREATE TABLE sx (id int, ts int, v text)
  USING rustydb WITH (chunk_group_rows = 1000, stripe_rows = 1000,
                      level_ratio = 4, autovacuum_enabled = off);
CREATE TABLE sxh (LIKE sx) USING heap;
CREATE FUNCTION sx_ins(lo int, hi int) RETURNS void LANGUAGE sql AS $$
  INSERT INTO sx SELECT g, g, repeat(md5(g::text), 2) FROM generate_series(lo, hi) g;
  INSERT INTO sxh SELECT g, g, repeat(md5(g::text), 2) FROM generate_series(lo, hi) g $$;
-- shared buffers a query's plan asked for
CREATE FUNCTION sx_buffers(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
  EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ' || q INTO j;
  RETURN (j->0->'Plan'->>'Shared Hit Blocks')::bigint +
         (j->0->'Plan'->>'Shared Read Blocks')::bigint;
END $$;
CREATE FUNCTION sx_same(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE a text; b text;
BEGIN
  EXECUTE 'SELECT (' || q || ')::text FROM sx' INTO a;
  EXECUTE 'SELECT (' || q || ')::text FROM sxh' INTO b;
  RETURN CASE WHEN a IS NOT DISTINCT FROM b THEN 'same as heap: ' || a ELSE 'DIFFERENT: ' || a || ' / ' || b END;
END $$;
-- 40 stripes (and one of the rows of the last page) at the end of the
-- file, their pages retired
SELECT sx_ins(1, 40000);
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('sx') = 40000 AS flushed;
SELECT count(*) AS stripes FROM rustydb.stripes('sx');
-- merged four at a time, over the FREE pages: the 40 are given back
SELECT rustydb.compact('sx') AS rewritten;
SELECT count(*) AS stripes FROM rustydb.stripes('sx');
SELECT count(*) > 0 AS free_extents, sum(blocks) >= 40 AS given_back_blocks
  FROM rustydb.stripe_space('sx') WHERE kind = 'free';
EXPLAIN (COSTS OFF) SELECT count(*) FROM sx WHERE ts < 0;
-- every chunk group skipped: not a page of the 40 given back read (two
-- each before); measured the second time, after what a backend reads
-- once (the directory's own blocks, where its leaves are)
SELECT count(*) FROM sx WHERE ts < 0;
SELECT sx_buffers('SELECT count(*) FROM sx WHERE ts < 0') < 40 AS extents_passed_over;
SELECT sx_same('count(*), sum(ts), max(v)');
SELECT sx_same('count(*) FILTER (WHERE ts > 39000), sum(ts) FILTER (WHERE ts > 39000)');
-- new rows take the FREE pages, then the extents' blocks (as reused pages
-- of new generations): the walk finds them there, and the skipping still
-- holds
SELECT free_stripe_pages AS sx_extents FROM rustydb.l0_layout('sx') \gset
SELECT sx_ins(40001, 100000);
SELECT free_stripe_pages < :sx_extents AS l0_took_extent_blocks FROM rustydb.l0_layout('sx');
SELECT sx_same('count(*), sum(ts), max(v)');
SELECT count(*), sum(ts) FROM sx WHERE ts > 39990;
SELECT count(*), sum(ts) FROM sxh WHERE ts > 39990;
SELECT count(*), sum(ts) FROM sx WHERE ts < 0;
-- and once they are flushed too
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('sx') = 60000 AS flushed;
SELECT sx_same('count(*), sum(ts), max(v)');
SELECT count(*), sum(ts) FROM sx WHERE ts BETWEEN 39990 AND 40010;
SELECT count(*), sum(ts) FROM sxh WHERE ts BETWEEN 39990 AND 40010;

RESET search_path;
DROP SCHEMA rdb_space_pools CASCADE;
