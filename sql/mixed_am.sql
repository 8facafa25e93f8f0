--
-- mixed_am: a default-AM table next to a heap twin.
--
-- The same seeded sequence of inserts, updates, deletes, upserts and rolled
-- back subtransactions is applied to a heap table and to a default-AM table
-- with the same indexes; after each round their contents must be identical
-- through seq, index and bitmap scans.  Rows also move between the two AMs
-- (INSERT ... SELECT, joins, UPDATE ... FROM).  Under heap this compares heap
-- with heap, so the expected output is simply "no differences".
--
CREATE SCHEMA mixed_am;
SET search_path = mixed_am;

CREATE TABLE h (id int PRIMARY KEY, k int, v text, n numeric) USING heap;
CREATE TABLE d (id int PRIMARY KEY, k int, v text, n numeric);
CREATE INDEX h_k ON h (k);
CREATE INDEX d_k ON d (k);
CREATE INDEX h_v ON h USING hash (v);
CREATE INDEX d_v ON d USING hash (v);
SELECT (SELECT amname FROM pg_am a JOIN pg_class c ON c.relam = a.oid WHERE c.oid = 'h'::regclass) AS h_am,
       (SELECT amname = current_setting('default_table_access_method')
        FROM pg_am a JOIN pg_class c ON c.relam = a.oid WHERE c.oid = 'd'::regclass) AS d_is_default;

-- workload(tbl, round): one round of seeded random DML against tbl
CREATE FUNCTION workload(tbl regclass, round int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  op int;
  x int;
BEGIN
  PERFORM setseed(round / 100.0);
  FOR i IN 1..400 LOOP
    op := (random() * 9)::int;
    x := (random() * 2000)::int;
    IF op <= 2 THEN
      EXECUTE format('INSERT INTO %s VALUES ($1, $1 %% 37, md5($1::text), $1) ON CONFLICT (id) DO NOTHING', tbl) USING x;
    ELSIF op = 3 THEN
      EXECUTE format('UPDATE %s SET n = n + 1, v = v || ''u'' WHERE id = $1', tbl) USING x;
    ELSIF op = 4 THEN
      EXECUTE format('UPDATE %s SET k = k + 1 WHERE k = $1 %% 37', tbl) USING x;
    ELSIF op = 5 THEN
      EXECUTE format('DELETE FROM %s WHERE id BETWEEN $1 AND $1 + 5', tbl) USING x;
    ELSIF op = 6 THEN
      EXECUTE format('INSERT INTO %s VALUES ($1, 0, ''upsert'', 0) ON CONFLICT (id) DO UPDATE SET n = %s.n * 2, v = ''upserted''', tbl, tbl) USING x;
    ELSIF op = 7 THEN
      BEGIN
        EXECUTE format('UPDATE %s SET v = ''doomed'' WHERE id %% 50 = $1 %% 50', tbl) USING x;
        EXECUTE format('INSERT INTO %s VALUES ($1 + 100000, 0, ''doomed'', 0)', tbl) USING x;
        RAISE EXCEPTION 'roll back this block';
      EXCEPTION WHEN raise_exception THEN NULL;
      END;
    ELSE
      EXECUTE format('UPDATE %s SET v = ''big'' || repeat(''x'', 3000) WHERE id = $1', tbl) USING x;
    END IF;
  END LOOP;
END $$;

-- differences(): rows in one table and not the other, through each scan type
CREATE FUNCTION differences(OUT seq bigint, OUT via_btree bigint, OUT via_hash bigint, OUT via_bitmap bigint,
                            OUT live bigint)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('enable_indexscan', 'off', true);
  PERFORM set_config('enable_bitmapscan', 'off', true);
  SELECT count(*) INTO seq FROM ((TABLE h EXCEPT ALL TABLE d) UNION ALL (TABLE d EXCEPT ALL TABLE h)) x;
  PERFORM set_config('enable_seqscan', 'off', true);
  PERFORM set_config('enable_indexscan', 'on', true);
  SELECT count(*) INTO via_btree FROM (
    (SELECT * FROM h WHERE k >= 0 EXCEPT ALL SELECT * FROM d WHERE k >= 0)
    UNION ALL (SELECT * FROM d WHERE k >= 0 EXCEPT ALL SELECT * FROM h WHERE k >= 0)) x;
  SELECT count(*) INTO via_hash FROM (
    (SELECT * FROM h WHERE v = 'upserted' EXCEPT ALL SELECT * FROM d WHERE v = 'upserted')
    UNION ALL (SELECT * FROM d WHERE v = 'upserted' EXCEPT ALL SELECT * FROM h WHERE v = 'upserted')) x;
  PERFORM set_config('enable_indexscan', 'off', true);
  PERFORM set_config('enable_bitmapscan', 'on', true);
  SELECT count(*) INTO via_bitmap FROM (
    (SELECT * FROM h WHERE k IN (1, 5, 9) EXCEPT ALL SELECT * FROM d WHERE k IN (1, 5, 9))
    UNION ALL (SELECT * FROM d WHERE k IN (1, 5, 9) EXCEPT ALL SELECT * FROM h WHERE k IN (1, 5, 9))) x;
  SELECT count(*) INTO live FROM d;
END $$;

SELECT workload('h', 1), workload('d', 1);
SELECT * FROM differences();
SELECT workload('h', 2), workload('d', 2);
SELECT * FROM differences();
VACUUM h;
VACUUM d;
SELECT workload('h', 3), workload('d', 3);
SELECT * FROM differences();
TRUNCATE h;
TRUNCATE d;
SELECT workload('h', 4), workload('d', 4);
SELECT workload('h', 5), workload('d', 5);
VACUUM h;
VACUUM d;
SELECT * FROM differences();

-- rows moving between the two AMs
CREATE TABLE h2 (LIKE h) USING heap;
CREATE TABLE d2 (LIKE d);
INSERT INTO d2 SELECT * FROM h;
INSERT INTO h2 SELECT * FROM d;
SELECT (SELECT count(*) FROM ((TABLE h2 EXCEPT ALL TABLE d2) UNION ALL (TABLE d2 EXCEPT ALL TABLE h2)) x) AS differences,
       (SELECT count(*) FROM d2) = (SELECT count(*) FROM h) AS all_copied;
-- joins across AMs, in every join method
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SELECT count(*), sum(h.n - d.n) FROM h JOIN d USING (id);
RESET enable_hashjoin;
SET enable_nestloop = off;
SET enable_hashjoin = off;
SELECT count(*), sum(h.n - d.n) FROM h JOIN d USING (id);
RESET enable_hashjoin;
SET enable_mergejoin = off;
SELECT count(*), sum(h.n - d.n) FROM h JOIN d USING (id);
RESET enable_nestloop;
RESET enable_mergejoin;
-- UPDATE and DELETE of one AM driven by the other
UPDATE d SET n = -h.n FROM h WHERE h.id = d.id AND h.k = 3;
DELETE FROM h USING d WHERE h.id = d.id AND d.n < 0;
SELECT (SELECT count(*) FROM d WHERE n < 0) AS negated, (SELECT count(*) FROM h WHERE k = 3) AS h_left;
-- a transaction writing both, rolled back, leaves both untouched
SELECT md5(string_agg(x::text, '|' ORDER BY id)) AS h_before FROM h x \gset
SELECT md5(string_agg(x::text, '|' ORDER BY id)) AS d_before FROM d x \gset
BEGIN;
DELETE FROM h;
UPDATE d SET v = 'gone';
INSERT INTO d SELECT id + 500000, k, v, n FROM d;
ROLLBACK;
SELECT (SELECT md5(string_agg(x::text, '|' ORDER BY id)) FROM h x) = :'h_before' AS h_same,
       (SELECT md5(string_agg(x::text, '|' ORDER BY id)) FROM d x) = :'d_before' AS d_same;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA mixed_am CASCADE;
