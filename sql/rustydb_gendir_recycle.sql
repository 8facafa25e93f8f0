--
-- rustydb_gendir_recycle: a remapped generation whose rows are all gone is
-- recycled for the next reused page (src/rowstore/gendir.c, "Recycling
-- remapped generations").  Before, every reused page took a new generation
-- number: under a steady insert / delete / VACUUM load the directory grew
-- by an entry per reuse and never shrank, and its reach (about 35.9 million
-- remapped generations) would run out, after which freed pages were no
-- longer reused.  Checked on rustydb.l0_layout (next_generation, directory
-- pages) and on the rows against a heap twin, through the columnar scan,
-- the table AM's scan and the primary key, with updates through recycled
-- generations.
--
SET client_min_messages = warning;
CREATE TABLE gr (id int PRIMARY KEY, k int, v text)
  USING rustydb WITH (autovacuum_enabled = off, chunk_group_rows = 1000);
CREATE TABLE grh (LIKE gr INCLUDING ALL) USING heap;
CREATE FUNCTION gr_ins(lo int, hi int) RETURNS void LANGUAGE sql AS $$
  INSERT INTO gr SELECT g, g % 13, repeat(md5(g::text), 3) FROM generate_series(lo, hi) g;
  INSERT INTO grh SELECT g, g % 13, repeat(md5(g::text), 3) FROM generate_series(lo, hi) g $$;
CREATE FUNCTION gr_del(upto int) RETURNS void LANGUAGE sql AS $$
  DELETE FROM gr WHERE id <= upto;
  DELETE FROM grh WHERE id <= upto $$;
CREATE FUNCTION gr_same() RETURNS text LANGUAGE plpgsql AS $$
DECLARE a text; b text; c text; d text;
BEGIN
  SELECT count(*) || ':' || coalesce(sum(id), 0) || ':' || coalesce(sum(k), 0) || ':' ||
         md5(coalesce(string_agg(v, '' ORDER BY id), '')) INTO b FROM grh;
  SELECT count(*) || ':' || coalesce(sum(id), 0) || ':' || coalesce(sum(k), 0) || ':' ||
         md5(coalesce(string_agg(v, '' ORDER BY id), '')) INTO a FROM gr;
  SET LOCAL rustydb.enable_columnar_scan = off;
  SELECT count(*) || ':' || coalesce(sum(id), 0) || ':' || coalesce(sum(k), 0) || ':' ||
         md5(coalesce(string_agg(v, '' ORDER BY id), '')) INTO c FROM gr;
  SET LOCAL enable_seqscan = off;
  SET LOCAL enable_bitmapscan = off;
  SELECT count(*) || ':' || coalesce(sum(id), 0) || ':' || coalesce(sum(k), 0) || ':' ||
         md5(coalesce(string_agg(v, '' ORDER BY id), '')) INTO d FROM gr WHERE id > 0;
  RETURN CASE WHEN a = b AND c = b AND d = b THEN 'same as heap'
              ELSE 'DIFFERENT: ' || a || ' / ' || c || ' / ' || d || ' heap ' || b END;
END $$;

-- round 1: rows flushed, their first-time pages retired (FREE pages)
SELECT gr_ins(1, 10000);
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('gr') = 10000 AS flushed;
-- round 2: new rows reuse those pages under new (remapped) generations;
-- the first round's rows go
SELECT gr_ins(10001, 20000);
SELECT gr_del(10000);
SELECT rdb_test.wait_quiet();
VACUUM gr;
SELECT rustydb.flush('gr') > 0 AS flushed;
-- round 3: the second round's generations end with no row left
SELECT gr_ins(20001, 30000);
SELECT gr_del(20000);
SELECT rdb_test.wait_quiet();
VACUUM gr;
SELECT rustydb.flush('gr') > 0 AS flushed;
SELECT next_generation AS ng3, directory_pages AS dir3 FROM rustydb.l0_layout('gr') \gset
-- (remapped generations start at 2^31; two rounds reused pages)
SELECT :ng3 - 2147483648 > 200 AS generations_given_out;
SELECT gr_same();
-- rounds 4 to 7: each reuses the numbers of the generations the round
-- before emptied, so next_generation stays where it was (it grew by about
-- 170 a round before)
SELECT gr_ins(30001, 40000);
SELECT gr_del(30000);
SELECT rdb_test.wait_quiet();
VACUUM gr;
SELECT rustydb.flush('gr') > 0 AS flushed;
SELECT gr_ins(40001, 50000);
-- updates: new versions on pages of recycled generations, old ones in
-- retired generations (revived), and back
UPDATE gr SET k = k + 100 WHERE id % 37 = 0;
UPDATE grh SET k = k + 100 WHERE id % 37 = 0;
SELECT gr_del(40000);
SELECT rdb_test.wait_quiet();
VACUUM gr;
SELECT rustydb.flush('gr') > 0 AS flushed;
SELECT gr_same();
SELECT gr_ins(50001, 60000);
SELECT gr_del(50000);
SELECT rdb_test.wait_quiet();
VACUUM gr;
SELECT rustydb.flush('gr') > 0 AS flushed;
SELECT gr_ins(60001, 70000);
UPDATE gr SET k = k - 100 WHERE id % 41 = 0;
UPDATE grh SET k = k - 100 WHERE id % 41 = 0;
SELECT gr_del(60000);
SELECT rdb_test.wait_quiet();
VACUUM gr;
SELECT rustydb.flush('gr') > 0 AS flushed;
SELECT next_generation - :ng3 < 40 AS generations_recycled,
       directory_pages <= :dir3 + 1 AS directory_did_not_grow
  FROM rustydb.l0_layout('gr');
SELECT gr_same();
-- point lookups of rows on recycled generations' pages, and of rows gone
SELECT id, k, length(v) FROM gr WHERE id IN (60001, 65000, 70000, 10, 20000, 59999) ORDER BY id;
SELECT count(*) FROM gr WHERE id BETWEEN 60000 AND 60100;
-- and once flushed and compacted
SELECT rustydb.compact('gr') >= 0 AS compacted;
SELECT gr_same();

DROP TABLE gr, grh;
DROP FUNCTION gr_ins(int, int), gr_del(int), gr_same();
