-- rustydb_prune: on-access pruning of L0 pages (rdb_l0_prune_opt, vacuum.c)
--
-- With autovacuum off, reads prune pages whose dead row versions no snapshot
-- needs any more, as heap's reads do: a table whose rows are all updated
-- over and over stays about as large as its heap twin, instead of growing
-- by a table's worth of dead versions every round until a VACUUM.
SET client_min_messages = warning;
CREATE SCHEMA rdb_prune;
SET search_path = rdb_prune, public;

CREATE TABLE p (id int PRIMARY KEY, k int, v text) USING rustydb
  WITH (autovacuum_enabled = off);
CREATE TABLE ph (id int PRIMARY KEY, k int, v text) USING heap
  WITH (autovacuum_enabled = off);
-- the updated column is indexed: no HOT on heap either
CREATE INDEX p_k ON p (k);
CREATE INDEX ph_k ON ph (k);
INSERT INTO p SELECT g, g, repeat(md5(g::text), 3) FROM generate_series(1, 2000) g;
INSERT INTO ph SELECT * FROM p;

-- 1,500 transactions, each updating 10 rows (the same rows on both sides)
-- and reading them back through the index, which prunes what earlier
-- transactions left dead on their pages, as heap's index fetches do
SELECT rdb_test.wait_quiet();
\set ECHO none
\o /dev/null
SELECT format('UPDATE %I SET k = k + 1 WHERE id BETWEEN %s AND %s; SELECT count(*) FROM %I WHERE id BETWEEN %s AND %s',
              t, lo, lo + 9, t, lo, lo + 9)
  FROM (SELECT r, (r * 37) % 1990 + 1 AS lo FROM generate_series(1, 1500) r) x,
       unnest(ARRAY['p', 'ph']) t
 ORDER BY r, t \gexec
\o
\set ECHO all

-- without pruning the table holds the 15,000 dead versions: 295 pages in
-- a run with rdb_l0_prune_opt disabled; with it 165, heap 81 (rustydb's
-- new versions do not stay on their page as often as heap's)
SELECT pg_relation_size('p') / 8192 < 230 AS pruned,
       pg_relation_size('p') / 8192 < 3 * (pg_relation_size('ph') / 8192) AS within_3x_heap;

-- the rows are heap's, through every path, before and after a VACUUM
-- (which removes the index entries of the pruned versions)
CREATE FUNCTION p_same(what text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE a text; b text; c text; d text;
BEGIN
  SELECT md5(string_agg(id || ':' || k || ':' || v, ',' ORDER BY id)) INTO a FROM p;
  SELECT md5(string_agg(id || ':' || k || ':' || v, ',' ORDER BY id)) INTO b FROM ph;
  SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off;
  SELECT md5(string_agg(id || ':' || k, ',' ORDER BY id)) INTO c FROM p WHERE k > 1000;
  SELECT md5(string_agg(id || ':' || k, ',' ORDER BY id)) INTO d FROM ph WHERE k > 1000;
  RETURN what || ': ' || CASE WHEN a = b AND c = d THEN 'same as heap' ELSE 'DIFFERENT' END;
END $$;
SELECT p_same('after 1,500 updating transactions, no VACUUM');
VACUUM p;
SELECT p_same('after VACUUM');
SELECT count(*) FROM p WHERE k BETWEEN 1001 AND 1005;
