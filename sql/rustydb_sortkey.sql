--
-- rustydb_sortkey: the sort_key table option.  Flush and compaction store a
-- stripe's rows sorted by it (stripe format 3, a row order per chunk
-- group), while every row keeps its row number (TID), so indexes, TID
-- scans, UPDATE and DELETE find the rows they always found.  Checked on the
-- storage itself (chunk bounds, row order of rustydb.stripe_rows), on every
-- read path against a heap twin, and with a twin without sort key whose
-- chunk groups overlap, so a key that sorted nothing would fail.
--
SET search_path = public;
CREATE SCHEMA rustydb_sk;
SET search_path = rustydb_sk;
SET rustydb.flush_rows = 0;		-- flushes happen when the test says so

-- bad values: ERROR 22023 / 42703 / 0A000, nothing applied
CREATE FUNCTION err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE q; RETURN 'ok';
EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
CREATE TABLE bad (id int, j jsonb, "Mixed Case" int) USING rustydb;
SELECT err($$ALTER TABLE bad SET (sort_key = '')$$);
SELECT err($$ALTER TABLE bad SET (sort_key = 'id,,j')$$);
SELECT err($$ALTER TABLE bad SET (sort_key = 'id, id')$$);
SELECT err($$ALTER TABLE bad SET (sort_key = 'a,b,c,d,e,f,g,h,i')$$);
SELECT err($$ALTER TABLE bad SET (sort_key = 'nope')$$);
SELECT err($$ALTER TABLE bad SET (sort_key = 'Mixed Case')$$);
SELECT err($$ALTER TABLE bad SET (sort_key = 'j')$$);
SELECT err($$ALTER TABLE bad SET (sort_key = 'ctid')$$);
SELECT err($$ALTER TABLE bad SET (sort_key = 'id', flush_rows = 'x')$$);
SELECT reloptions FROM pg_class WHERE oid = 'bad'::regclass;
SELECT err($$CREATE TABLE bad2 (id int) USING heap WITH (sort_key = 'id')$$);
SELECT err($$CREATE TABLE bad3 (id int) USING rustydb WITH (sort_key = 'idx')$$);
SELECT count(*) FROM pg_class WHERE relname = 'bad3';
-- quoting and case: stored canonical, shown by table_options
ALTER TABLE bad SET (sort_key = ' "Mixed Case" , ID ');
SELECT reloptions FROM pg_class WHERE oid = 'bad'::regclass;
SELECT * FROM rustydb.table_options('bad') WHERE option = 'sort_key';
ALTER TABLE bad RESET (sort_key);
SELECT * FROM rustydb.table_options('bad') WHERE option = 'sort_key';
DROP TABLE bad;

-- the data: k is a scramble of id (so rows arrive out of key order), with
-- NULLs, and a text second key
CREATE TABLE sk (id int, k int, t text, payload text) USING rustydb
  WITH (sort_key = 'k, t', chunk_group_rows = 1000, stripe_rows = 8000);
CREATE TABLE unsorted (LIKE sk) USING rustydb
  WITH (chunk_group_rows = 1000, stripe_rows = 8000);
CREATE TABLE twin (LIKE sk) USING heap;
INSERT INTO sk
  SELECT g, CASE WHEN g % 97 = 0 THEN NULL ELSE (g * 7919) % 5003 END,
         'v' || (g % 13), repeat(md5(g::text), 1 + g % 3)
  FROM generate_series(1, 20000) g;
INSERT INTO unsorted SELECT * FROM sk;
INSERT INTO twin SELECT * FROM sk;
CREATE INDEX sk_id ON sk (id);
CREATE INDEX sk_k ON sk (k);
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('sk'), rustydb.flush('unsorted');
VACUUM sk;
VACUUM unsorted;

-- storage: 3 stripes; within each, the chunk groups' k ranges follow each
-- other (max of a group <= min of the next), where the unsorted twin's
-- overlap; NULL keys sort last
CREATE FUNCTION overlaps(rel regclass) RETURNS TABLE (groups bigint, overlapping bigint)
LANGUAGE sql AS $$
  SELECT count(*), count(*) FILTER (WHERE next_min < max::int)
  FROM (SELECT first_block, chunk_group, min, max,
               lead(min::int) OVER (PARTITION BY first_block ORDER BY chunk_group) AS next_min
        FROM rustydb.chunk_bounds(rel) WHERE column_name = 'k') b $$;
SELECT count(*) AS stripes, sum(nrows) AS rows FROM rustydb.stripes('sk');
SELECT * FROM overlaps('sk');
SELECT groups, overlapping > groups / 2 AS most_overlap FROM overlaps('unsorted');
SELECT bool_and(nnulls = 0 OR chunk_group = last_group) AS nulls_last
FROM (SELECT b.*, max(chunk_group) OVER (PARTITION BY first_block) AS last_group
      FROM rustydb.chunk_bounds('sk') b WHERE column_name = 'k') b;

-- row numbers are unchanged: a stripe's rows by row number are its rows in
-- the order they were flushed (ascending id), whatever order they are stored in
SELECT bool_and(id > prev_id OR prev_id IS NULL) AS ids_ascending_by_row_number,
       count(*) AS rows
FROM (SELECT s.first_block, split_part(trim(both '()' from r.row_text), ',', 1)::int AS id,
             lag(split_part(trim(both '()' from r.row_text), ',', 1)::int)
               OVER (PARTITION BY s.first_block ORDER BY r.row_index) AS prev_id
      FROM rustydb.stripes('sk') s, rustydb.stripe_rows('sk', s.first_block) r) x
GROUP BY first_block ORDER BY first_block;
-- writing a stripe of the table's rows with its sort key and reading every
-- row back by row number
SELECT nrows, rows_equal FROM rustydb.stripe_roundtrip('sk', 'lz4', 1000);

-- every read path gives the heap twin's rows
CREATE FUNCTION digest(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  EXECUTE 'SELECT md5(coalesce(string_agg(x::text, '';'' ORDER BY x::text), '''')) FROM (' || q || ') x' INTO r;
  RETURN r;
END $$;
CREATE FUNCTION same(q text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE a text; b text;
BEGIN
  a := digest(q);
  b := digest(replace(q, 'FROM sk', 'FROM twin'));
  RETURN a = b;
END $$;
CREATE FUNCTION all_paths(q text) RETURNS TABLE (path text, same boolean)
LANGUAGE plpgsql AS $$
BEGIN
  path := 'columnar'; same := same(q); RETURN NEXT;
  SET LOCAL rustydb.enable_columnar_scan = off;
  path := 'seqscan'; same := same(q); RETURN NEXT;
  SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off;
  path := 'indexscan'; same := same(q); RETURN NEXT;
  SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = on;
  path := 'bitmapscan'; same := same(q); RETURN NEXT;
  RESET rustydb.enable_columnar_scan; RESET enable_seqscan;
  RESET enable_indexscan; RESET enable_bitmapscan;
END $$;
SELECT * FROM all_paths('SELECT * FROM sk WHERE k BETWEEN 100 AND 300');
SELECT * FROM all_paths('SELECT id, t FROM sk WHERE id BETWEEN 5000 AND 5100');
SELECT * FROM all_paths('SELECT * FROM sk WHERE k IS NULL AND id > 0');
SELECT same('SELECT count(*), sum(id), min(t), max(k) FROM sk');
SELECT same('SELECT t, count(*), sum(k) FROM sk GROUP BY t');
SELECT same('SELECT * FROM sk');
-- a TID found in the index reads the same row through a TID scan
SELECT s.id = (SELECT id FROM sk WHERE ctid = s.ctid) AS tid_scan_finds_it
FROM sk s WHERE s.id = 12345;

-- the sorted stripes let the columnar scan skip: 3 stripes of 8 or fewer
-- groups, k BETWEEN 100 AND 300 lies in 3 of them (one per stripe)
CREATE FUNCTION skip_counts(q text) RETURNS TABLE (scanned int, skipped int)
LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    IF l ~ 'Chunk Groups Scanned' THEN scanned := substring(l from '(\d+)$')::int; END IF;
    IF l ~ 'Chunk Groups Skipped' THEN skipped := substring(l from '(\d+)$')::int; END IF;
  END LOOP;
  RETURN NEXT;
END $$;
SET enable_indexscan = off; SET enable_bitmapscan = off;
SELECT * FROM skip_counts('SELECT * FROM sk WHERE k BETWEEN 100 AND 300');
SELECT * FROM skip_counts('SELECT * FROM unsorted WHERE k BETWEEN 100 AND 300');
-- a sorted stripe whose every chunk group is excluded is passed over a
-- directory leaf at a time, its generations never listed row by row
CREATE FUNCTION gen_skips(q text) RETURNS TABLE (gens_skipped boolean, stripe_rows int)
LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    IF l ~ 'Generations Skipped' THEN gens_skipped := substring(l from '(\d+)$')::int > 0; END IF;
    IF l ~ 'Stripe Rows:' THEN stripe_rows := substring(l from '(\d+)$')::int; END IF;
  END LOOP;
  RETURN NEXT;
END $$;
SELECT * FROM gen_skips('SELECT * FROM sk WHERE k > 6000');
RESET enable_indexscan; RESET enable_bitmapscan;

-- rows that arrive almost in key order: one in a thousand comes 300 rows
-- late, into the chunk group after its own.  Sorting moves those back (the
-- unsorted twin's groups overlap, the sorted ones' do not), so the stripe
-- keeps a row order, whose rows moved little; the
-- scan then takes each retired page's rows as they come (and skips them a
-- directory leaf at a time), instead of gathering the stripe's rows
CREATE TABLE near (id int, k int, v text) USING rustydb
  WITH (sort_key = 'k', chunk_group_rows = 1000);
CREATE TABLE near_twin (LIKE near) USING heap;
CREATE TABLE near_unsorted (LIKE near) USING rustydb WITH (chunk_group_rows = 1000);
INSERT INTO near SELECT g, CASE WHEN g % 1000 = 100 THEN g - 300 ELSE g END, 'n' || g
  FROM generate_series(1, 20000) g;
INSERT INTO near_twin SELECT * FROM near;
INSERT INTO near_unsorted SELECT * FROM near;
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('near'), rustydb.flush('near_unsorted');
VACUUM near;
SELECT * FROM overlaps('near');
SELECT * FROM overlaps('near_unsorted');
SELECT bool_and(same) FROM (
  SELECT digest('SELECT * FROM near WHERE k BETWEEN 4000 AND 4400') =
         digest('SELECT * FROM near_twin WHERE k BETWEEN 4000 AND 4400') AS same
  UNION ALL
  SELECT digest('SELECT * FROM near WHERE k BETWEEN 19000 AND 30000') =
         digest('SELECT * FROM near_twin WHERE k BETWEEN 19000 AND 30000')
  UNION ALL
  SELECT digest('SELECT count(*), sum(id), max(v) FROM near') =
         digest('SELECT count(*), sum(id), max(v) FROM near_twin')) s;
SELECT * FROM skip_counts('SELECT * FROM near WHERE k BETWEEN 4000 AND 4400');
SELECT * FROM gen_skips('SELECT * FROM near WHERE k BETWEEN 4000 AND 4400');
DROP TABLE near, near_twin, near_unsorted;

-- UPDATE and DELETE of sorted rows, then more rows and another flush
UPDATE sk SET payload = 'upd' WHERE id % 50 = 0;
UPDATE twin SET payload = 'upd' WHERE id % 50 = 0;
DELETE FROM sk WHERE k BETWEEN 2000 AND 2100;
DELETE FROM twin WHERE k BETWEEN 2000 AND 2100;
INSERT INTO sk SELECT g, (g * 31) % 5003, 'w', 'late' FROM generate_series(20001, 26000) g;
INSERT INTO twin SELECT g, (g * 31) % 5003, 'w', 'late' FROM generate_series(20001, 26000) g;
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('sk') > 0 AS flushed;
VACUUM sk;
SELECT same('SELECT * FROM sk');
SELECT * FROM all_paths('SELECT * FROM sk WHERE k BETWEEN 2050 AND 2400');

-- compaction merges sorted stripes into sorted stripes of the next level
SELECT rustydb.compact('sk') > 0 AS compacted;
VACUUM sk;
SELECT level, count(*) AS stripes FROM rustydb.stripes('sk') GROUP BY level ORDER BY level;
SELECT overlapping FROM overlaps('sk');
SELECT same('SELECT * FROM sk');
SELECT * FROM all_paths('SELECT * FROM sk WHERE k BETWEEN 100 AND 300');
SELECT * FROM all_paths('SELECT id, k FROM sk WHERE id BETWEEN 19990 AND 20010');

-- the key follows RENAME COLUMN and DROP COLUMN; ALTER COLUMN TYPE rewrites
ALTER TABLE sk RENAME COLUMN t TO tag;
SELECT * FROM rustydb.table_options('sk') WHERE option = 'sort_key';
ALTER TABLE sk ALTER COLUMN k TYPE bigint;
SELECT count(*), sum(k) FROM sk;
SELECT count(*), sum(k) FROM twin;
-- (with SET in the same statement: the stored key's dropped column is not
-- an error, it leaves the key)
ALTER TABLE sk DROP COLUMN k, SET (stripe_rows = 9000);
SELECT * FROM rustydb.table_options('sk') WHERE option IN ('sort_key', 'stripe_rows');
ALTER TABLE sk DROP COLUMN tag;
SELECT * FROM rustydb.table_options('sk') WHERE option = 'sort_key';
SELECT reloptions FROM pg_class WHERE oid = 'sk'::regclass;

-- the stored key always names columns CREATE TABLE accepts again (pg_dump
-- writes it into CREATE TABLE: a stale key made the restore, and pg_upgrade,
-- fail on the table): a key column's type change to one stripes cannot
-- order by fails, as a btree index on it would; columns dropped through a
-- dependency leave the key; ALTER TYPE ... CASCADE renames and drops of a
-- typed table's attributes are followed
CREATE TABLE sk1 (a int, b text) USING rustydb WITH (sort_key = 'a');
INSERT INTO sk1 SELECT g, 'x' FROM generate_series(1, 100) g;
ALTER TABLE sk1 ALTER COLUMN a TYPE jsonb USING to_jsonb(a);
ALTER TABLE sk1 ALTER COLUMN a TYPE bigint;
SELECT reloptions, (SELECT sum(a) FROM sk1) FROM pg_class WHERE oid = 'sk1'::regclass;
CREATE DOMAIN sk_dint AS int;
CREATE TABLE sk2 (a sk_dint, b int) USING rustydb WITH (sort_key = 'a,b');
DROP DOMAIN sk_dint CASCADE;
SELECT reloptions FROM pg_class WHERE oid = 'sk2'::regclass;
CREATE TYPE sk_ct AS (a int, b int);
CREATE TABLE sk3 OF sk_ct USING rustydb WITH (sort_key = 'a');
CREATE TABLE sk3_child () INHERITS (sk3) USING rustydb WITH (sort_key = 'a, b');
ALTER TYPE sk_ct RENAME ATTRIBUTE a TO a2 CASCADE;
SELECT relname, reloptions FROM pg_class WHERE relname IN ('sk3', 'sk3_child') ORDER BY 1;
ALTER TYPE sk_ct DROP ATTRIBUTE a2 CASCADE;
SELECT relname, reloptions FROM pg_class WHERE relname IN ('sk3', 'sk3_child') ORDER BY 1;
-- inside a function too
CREATE DOMAIN sk_dint2 AS int;
CREATE TABLE sk4 (a sk_dint2, b int) USING rustydb WITH (sort_key = 'b,a');
DO $$ BEGIN EXECUTE 'DROP DOMAIN sk_dint2 CASCADE'; END $$;
SELECT reloptions FROM pg_class WHERE oid = 'sk4'::regclass;

RESET rustydb.flush_rows;
SET search_path = public;
DROP SCHEMA rustydb_sk CASCADE;
