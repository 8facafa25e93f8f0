--
-- rustydb_gendir_recycle: a remapped generation whose rows are all gone is
-- recycled for the next reused page (src/rowstore/gendir.c, "Recycling
-- remapped generations").  Before, every reused page took a new generation
-- number: under a steady insert / delete / VACUUM load the directory grew
-- by an entry per reuse and never shrank, and its reach (about 35.9 million
-- remapped generations) would run out, after which freed pages were no
-- longer reused.  Checked on rustydb.l0_layout (next_generation, directory
-- pages) and on the rows against a heap twin, through the columnar scan,
-- the table AM's scan, the primary key and an index on a column whose
-- values the recycled generations' old rows had and their new rows do not
-- (index and bitmap scans must not find the old rows' values there).
--
SET client_min_messages = warning;
CREATE TABLE gr (id int PRIMARY KEY, k int, v text)
  USING rustydb WITH (autovacuum_enabled = off, chunk_group_rows = 1000);
CREATE TABLE grh (LIKE gr INCLUDING ALL) USING heap;
CREATE INDEX gr_k ON gr (k);
CREATE INDEX grh_k ON grh (k);
-- ~22 rows a page: a round of 10,000 rows takes ~450 generations, more
-- than a leaf group's 352; k is the round
CREATE FUNCTION gr_ins(lo int, hi int) RETURNS void LANGUAGE sql AS $$
  INSERT INTO gr SELECT g, g / 10000, repeat(md5(g::text), 10) FROM generate_series(lo, hi) g;
  INSERT INTO grh SELECT g, g / 10000, repeat(md5(g::text), 10) FROM generate_series(lo, hi) g $$;
CREATE FUNCTION gr_del(upto int) RETURNS void LANGUAGE sql AS $$
  DELETE FROM gr WHERE id <= upto;
  DELETE FROM grh WHERE id <= upto $$;
CREATE FUNCTION gr_same() RETURNS text LANGUAGE plpgsql AS $$
DECLARE a text; b text; c text; d text; e text; f text;
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
  -- every round's value of k through the index on k, then as a bitmap
  SELECT string_agg(k || '=' || (SELECT count(*) FROM gr WHERE gr.k = r.k), ',' ORDER BY k)
    INTO e FROM generate_series(0, 12) r(k);
  SET LOCAL enable_indexscan = off;
  SET LOCAL enable_bitmapscan = on;
  SELECT string_agg(k || '=' || (SELECT count(*) FROM gr WHERE gr.k = r.k), ',' ORDER BY k)
    INTO f FROM generate_series(0, 12) r(k);
  RESET enable_indexscan;
  RESET enable_seqscan;
  RESET rustydb.enable_columnar_scan;
  IF e IS DISTINCT FROM (SELECT string_agg(k || '=' || (SELECT count(*) FROM grh WHERE grh.k = r.k), ',' ORDER BY k)
                           FROM generate_series(0, 12) r(k)) OR f IS DISTINCT FROM e THEN
    RETURN 'DIFFERENT by k: ' || e || ' / ' || f;
  END IF;
  RETURN CASE WHEN a = b AND c = b AND d = b THEN 'same as heap'
              ELSE 'DIFFERENT: ' || a || ' / ' || c || ' / ' || d || ' heap ' || b END;
END $$;

-- round 0: rows flushed, their first-time pages retired (FREE pages)
SELECT gr_ins(1, 9999);
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('gr') = 9999 AS flushed;
-- a round (psql's \gexec runs its statements, VACUUM among them): round
-- r's rows in, (some rows updated,) round r - 1's rows deleted, VACUUM,
-- flush
CREATE FUNCTION gr_round(r int, upd int DEFAULT 0, suffix text DEFAULT '')
RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
  RETURN NEXT format('SELECT gr_ins(%s, %s)', r * 10000, r * 10000 + 9999);
  IF upd > 0 THEN
    RETURN NEXT format('UPDATE gr SET v = v || %L WHERE id %% %s = 0', suffix, upd);
    RETURN NEXT format('UPDATE grh SET v = v || %L WHERE id %% %s = 0', suffix, upd);
  END IF;
  RETURN NEXT format('SELECT gr_del(%s)', r * 10000 - 1);
  RETURN NEXT 'SELECT rdb_test.wait_quiet()';
  RETURN NEXT 'VACUUM gr';
  RETURN NEXT 'SELECT rustydb.flush(''gr'') > 0 AS flushed';
END $$;
-- rounds 1 and 2: new rows reuse those pages under new (remapped)
-- generations; each round deletes the round before it
SELECT gr_round(1) \gexec
SELECT gr_round(2) \gexec
SELECT gr_same();
-- rounds 3 and 4: they recycle the generations round 1 emptied (round 4
-- also runs a VACUUM that leaves the index alone: dead line pointers stay,
-- their pages are not retired, so nothing of theirs is recycled)
SELECT gr_round(3) \gexec
SELECT next_generation AS ng3, directory_pages AS dir3 FROM rustydb.l0_layout('gr') \gset
-- (remapped generations start at 2^31; three rounds reused pages)
SELECT :ng3 - 2147483648 > 800 AS generations_given_out;
SELECT gr_ins(40000, 49999);
UPDATE gr SET v = v || 'u' WHERE id % 37 = 0;
UPDATE grh SET v = v || 'u' WHERE id % 37 = 0;
SELECT gr_del(39999);
SELECT rdb_test.wait_quiet();
VACUUM (INDEX_CLEANUP off) gr;
SELECT gr_same();
VACUUM gr;
SELECT rustydb.flush('gr') > 0 AS flushed;
SELECT gr_same();
-- rounds 5 to 8: each recycles the generations the rounds before emptied,
-- so next_generation grows by far less than the ~450 a round it grew by
-- before (rows go into recycled generations, not new ones)
SELECT gr_round(5) \gexec
SELECT gr_round(6, 41, 'w') \gexec
SELECT gr_same();
SELECT gr_round(7) \gexec
SELECT gr_round(8) \gexec
SELECT next_generation - :ng3 < 450 AS generations_recycled,
       directory_pages <= :dir3 + 2 AS directory_did_not_grow,
       count(*) > 0 AS rows_in_recycled_generations
  FROM rustydb.l0_layout('gr'),
       (SELECT 1 FROM gr WHERE ctid < (SELECT ('(' || :ng3 || ',1)')::tid)
                           AND ctid >= '(2147483648,1)' LIMIT 1) r
  GROUP BY next_generation, directory_pages;
SELECT gr_same();
-- point lookups of rows on recycled generations' pages, and of rows gone
SELECT id, k, length(v) FROM gr WHERE id IN (80001, 85000, 89999, 10, 20000, 79999) ORDER BY id;
-- and once flushed and compacted
SELECT rustydb.compact('gr') >= 0 AS compacted;
SELECT gr_same();

DROP TABLE gr, grh;
DROP FUNCTION gr_ins(int, int), gr_del(int), gr_same(), gr_round(int, int, text);
