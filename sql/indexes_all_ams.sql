--
-- indexes_all_ams: every core index AM over a default-AM table.
--
-- btree, hash, gin, gist, brin and spgist indexes are built on the table
-- (index_build_range_scan), then each query runs as a seq scan, an index scan
-- (index_fetch_tuple), an index-only scan and a bitmap scan (exact and lossy
-- pages), and must return the same rows in every mode -- before and after
-- updates and deletes, after CREATE INDEX CONCURRENTLY (validate_scan) and
-- REINDEX.  Unique and exclusion constraints must consult row visibility the
-- way heap does.  amcheck's heapallindexed check verifies that every visible
-- row has its btree entry.
--
CREATE SCHEMA indexes_all_ams;
SET search_path = indexes_all_ams;
CREATE EXTENSION amcheck SCHEMA indexes_all_ams;

-- check_scans(query, modes): runs the query once per scan mode, with only
-- that scan type enabled, and reports the scan nodes of the plan and a
-- fingerprint of the result (row count and md5 of the sorted rows).  A mode
-- whose result differs from the first mode's is flagged.  With detail =>
-- false only the top scan node is shown (for plans whose inner shape is a
-- cost decision, e.g. BitmapAnd or not).  An index-only scan needs
-- enable_indexscan on as well.
CREATE FUNCTION check_scans(q text, modes text[] DEFAULT '{seq,index,bitmap}',
                            detail boolean DEFAULT true)
RETURNS TABLE (mode text, plan text, result text, same boolean)
LANGUAGE plpgsql AS $$
DECLARE
  m text;
  line text;
  r record;
  rows text[];
  first text;
BEGIN
  FOREACH m IN ARRAY modes LOOP
    PERFORM set_config('enable_seqscan', (m = 'seq')::text, true);
    PERFORM set_config('enable_indexscan', (m IN ('index', 'indexonly'))::text, true);
    PERFORM set_config('enable_indexonlyscan', (m = 'indexonly')::text, true);
    PERFORM set_config('enable_bitmapscan', (m IN ('bitmap', 'lossy'))::text, true);
    PERFORM set_config('work_mem', CASE WHEN m = 'lossy' THEN '64kB' ELSE '4MB' END, true);
    mode := m;
    plan := NULL;
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
      IF line ~ 'Scan' AND (detail OR plan IS NULL) THEN
        plan := concat_ws('; ', plan, regexp_replace(line, '^\s*(->\s*)?', ''));
      END IF;
    END LOOP;
    rows := '{}';
    FOR r IN EXECUTE q LOOP
      rows := rows || r::text;
    END LOOP;
    SELECT format('%s rows, md5 %s', count(*),
                  left(md5(coalesce(string_agg(x, '|' ORDER BY x COLLATE "C"), '')), 10))
      INTO result FROM unnest(rows) x;
    first := coalesce(first, result);
    same := result = first;
    RETURN NEXT;
  END LOOP;
END $$;

-- Each index gets a column of its own (copies of the same values where two
-- index AMs are compared), so that which index a query uses is not a cost
-- decision that could differ between table AMs.
CREATE TABLE t (
  id   int NOT NULL,   -- btree (unique)
  bid  int,            -- brin
  k    int,            -- hash
  k2   int,            -- btree built later, over dead rows
  txt  text,           -- btree (C collation)
  stxt text,           -- spgist
  ctxt text,           -- btree built concurrently
  arr  int[],          -- gin
  doc  jsonb,          -- gin (jsonb_path_ops), later gin (jsonb_ops)
  ts   tsvector,       -- gin
  p    point,          -- gist
  sp   point,          -- spgist
  r    int4range,      -- gist
  e    int,            -- expression index
  pk   int             -- partial index
);
INSERT INTO t
SELECT g, g, g % 100, g % 100,
       'item' || lpad(g::text, 6, '0'), 'item' || lpad(g::text, 6, '0'), 'item' || lpad(g::text, 6, '0'),
       ARRAY[g % 10, g % 7, g % 3 + 100],
       jsonb_build_object('g', g, 'tag', 'tag' || (g % 20)),
       to_tsvector('simple', 'word' || (g % 50) || ' other' || (g % 3)),
       point(g % 100, g / 100), point(g % 100, g / 100),
       int4range(g, g + 10),
       g, g
FROM generate_series(1, 20000) g;

-- builds over existing rows
CREATE UNIQUE INDEX t_id ON t USING btree (id);
CREATE INDEX t_k_hash ON t USING hash (k);
CREATE INDEX t_txt ON t USING btree (txt COLLATE "C");
CREATE INDEX t_arr_gin ON t USING gin (arr);
CREATE INDEX t_doc_gin ON t USING gin (doc jsonb_path_ops);
CREATE INDEX t_ts_gin ON t USING gin (ts);
CREATE INDEX t_p_gist ON t USING gist (p);
CREATE INDEX t_r_gist ON t USING gist (r);
CREATE INDEX t_bid_brin ON t USING brin (bid) WITH (pages_per_range = 2);
CREATE INDEX t_sp_spgist ON t USING spgist (sp);
CREATE INDEX t_stxt_spgist ON t USING spgist (stxt);
SELECT bt_index_check('t_id', true), bt_index_parent_check('t_txt', true);

-- btree: equality, range, index-only, backward
SELECT * FROM check_scans('SELECT * FROM t WHERE id = 4242');
SELECT * FROM check_scans('SELECT id, txt FROM t WHERE id BETWEEN 1000 AND 1999');
SELECT * FROM check_scans('SELECT id FROM t WHERE id BETWEEN 1000 AND 1999', '{seq,indexonly,index}');
SELECT * FROM check_scans($$SELECT id, k FROM t WHERE txt COLLATE "C" >= 'item019990'$$);
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT id, txt FROM t WHERE id < 20005 ORDER BY id DESC LIMIT 3;
SELECT id FROM t WHERE id > 19990 ORDER BY id;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- hash
SELECT * FROM check_scans('SELECT id, k FROM t WHERE k = 42');

-- gin: arrays, jsonb containment, full text (bitmap only)
SELECT * FROM check_scans('SELECT id FROM t WHERE arr @> ARRAY[3, 5]', '{seq,bitmap}');
SELECT * FROM check_scans($$SELECT id FROM t WHERE doc @> '{"tag": "tag7"}'$$, '{seq,bitmap}');
SELECT * FROM check_scans($$SELECT id FROM t WHERE ts @@ 'word7 & other1'::tsquery$$, '{seq,bitmap}');

-- gist: points in a box, k-nearest neighbours, ranges
SELECT * FROM check_scans($$SELECT id, p FROM t WHERE p <@ box '((10,10),(20,20))'$$);
SELECT * FROM check_scans($$SELECT p FROM t WHERE p <@ box '((10,10),(20,20))'$$, '{seq,indexonly}');
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY p <-> point '(50.2, 100.4)' LIMIT 5;
SELECT id, p FROM t ORDER BY p <-> point '(50.2, 100.4)', id LIMIT 5;
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT * FROM check_scans($$SELECT id FROM t WHERE r && int4range(5000, 5020)$$);

-- brin: every matching page range comes back lossy, rows are rechecked
SELECT * FROM check_scans('SELECT id FROM t WHERE bid BETWEEN 7000 AND 7500', '{seq,bitmap}');

-- spgist: quad-tree points (also index-only) and a radix tree on text
SELECT * FROM check_scans($$SELECT id FROM t WHERE sp <@ box '((0,0),(5,5))'$$);
SELECT * FROM check_scans($$SELECT sp FROM t WHERE sp <@ box '((0,0),(5,5))'$$, '{seq,indexonly}');
SELECT * FROM check_scans($$SELECT id FROM t WHERE stxt ^@ 'item0123'$$);
SELECT * FROM check_scans($$SELECT stxt FROM t WHERE stxt ^@ 'item0123'$$, '{seq,indexonly}');

-- a bitmap that does not fit in work_mem degrades to lossy pages, which the
-- AM must expand to every visible row of the page
CREATE TABLE wide (id int, k int, pad text);
INSERT INTO wide SELECT g, g % 3, repeat('w', 300) FROM generate_series(1, 40000) g;
CREATE INDEX wide_k ON wide (k);
SELECT * FROM check_scans('SELECT id FROM wide WHERE k = 1', '{seq,bitmap,lossy}');

-- the same with the narrowest rows (the most rows per page)
CREATE TABLE narrow (id int);
INSERT INTO narrow SELECT g % 4 FROM generate_series(1, 60000) g;
CREATE INDEX narrow_id ON narrow (id);
SELECT * FROM check_scans('SELECT id FROM narrow WHERE id = 1', '{seq,index,bitmap,lossy}');

-- bitmap AND / OR over two indexes
SELECT * FROM check_scans('SELECT id FROM t WHERE k = 7 OR id < 50', '{seq,bitmap}');
SELECT * FROM check_scans($$SELECT id FROM t WHERE k = 7 AND arr @> ARRAY[1]$$, '{seq,bitmap}', false);

-- updates and deletes: no index may return a dead or outdated version
UPDATE t SET k = k + 1, k2 = k2 + 1, txt = txt || 'u', stxt = stxt || 'u', ctxt = ctxt || 'u',
             arr = arr || 999, doc = doc || '{"u": 1}',
             ts = ts || to_tsvector('simple', 'updated'),
             p = point(p[0] + 0.5, p[1]), sp = point(sp[0] + 0.5, sp[1]),
             r = int4range(lower(r), upper(r) + 1), bid = bid + 100000, e = e + 100000, pk = pk + 1
WHERE id % 3 = 0;
DELETE FROM t WHERE id % 5 = 0;
INSERT INTO t
SELECT g, g, g % 100, g % 100,
       'item' || lpad(g::text, 6, '0'), 'item' || lpad(g::text, 6, '0'), 'item' || lpad(g::text, 6, '0'),
       ARRAY[g % 10], jsonb_build_object('g', g), to_tsvector('simple', 'late'),
       point(g % 100, g / 100), point(g % 100, g / 100), int4range(g, g + 1), g, g
FROM generate_series(20001, 21000) g;
SELECT count(*), sum(id) FROM t;
SELECT * FROM check_scans('SELECT id, k FROM t WHERE k = 42');
SELECT * FROM check_scans('SELECT id, k FROM t WHERE k = 43');
SELECT * FROM check_scans('SELECT id, txt FROM t WHERE id BETWEEN 1000 AND 1999');
SELECT * FROM check_scans('SELECT id FROM t WHERE id BETWEEN 1000 AND 1999', '{seq,indexonly}');
SELECT * FROM check_scans($$SELECT id, txt FROM t WHERE txt COLLATE "C" LIKE 'item0012%'$$, '{seq,bitmap}');
SELECT * FROM check_scans('SELECT id FROM t WHERE arr @> ARRAY[999]', '{seq,bitmap}');
SELECT * FROM check_scans($$SELECT id FROM t WHERE doc @> '{"u": 1}'$$, '{seq,bitmap}');
SELECT * FROM check_scans($$SELECT id FROM t WHERE ts @@ 'updated'::tsquery$$, '{seq,bitmap}');
SELECT * FROM check_scans($$SELECT id, p FROM t WHERE p <@ box '((10,10),(20,20))'$$);
SELECT * FROM check_scans($$SELECT id, sp FROM t WHERE sp <@ box '((10,10),(20,20))'$$);
SELECT * FROM check_scans($$SELECT id FROM t WHERE stxt ^@ 'item0123'$$);
SELECT * FROM check_scans($$SELECT id FROM t WHERE r && int4range(5000, 5020)$$);
SELECT * FROM check_scans('SELECT id FROM t WHERE bid BETWEEN 7000 AND 7500', '{seq,bitmap}');
SELECT * FROM check_scans('SELECT id FROM t WHERE bid > 100000', '{seq,bitmap}');
SELECT * FROM check_scans('SELECT id FROM t WHERE id > 20500', '{seq,index,bitmap}');
SELECT bt_index_check('t_id', true), bt_index_parent_check('t_txt', true);

-- VACUUM removes the dead versions' index entries; results stay the same
VACUUM t;
SELECT * FROM check_scans('SELECT id, k FROM t WHERE k = 43');
SELECT * FROM check_scans('SELECT id FROM t WHERE id BETWEEN 1000 AND 1999', '{seq,indexonly}');
SELECT * FROM check_scans($$SELECT id FROM t WHERE ts @@ 'updated'::tsquery$$, '{seq,bitmap}');
SELECT bt_index_check('t_id', true);

-- indexes built over a table holding dead rows index only the live ones
CREATE INDEX t_k2_btree ON t (k2);
CREATE INDEX t_doc_gin2 ON t USING gin (doc);
SELECT * FROM check_scans('SELECT id, k2 FROM t WHERE k2 = 43');
SELECT * FROM check_scans('SELECT k2 FROM t WHERE k2 = 43', '{seq,indexonly}');
SELECT * FROM check_scans($$SELECT id FROM t WHERE doc ? 'u'$$, '{seq,bitmap}');
SELECT bt_index_check('t_k2_btree', true);

-- partial and expression indexes
CREATE INDEX t_partial ON t (pk) WHERE pk % 100 = 10;
CREATE INDEX t_expr ON t ((e % 1000));
SELECT * FROM check_scans('SELECT id, pk FROM t WHERE pk % 100 = 10 AND pk > 10000');
SELECT * FROM check_scans('SELECT id FROM t WHERE e % 1000 = 999');

-- CREATE INDEX CONCURRENTLY (build, then validate_scan) and REINDEX
CREATE INDEX CONCURRENTLY t_ctxt_cic ON t (ctxt);
SELECT indisvalid, indisready FROM pg_index WHERE indexrelid = 't_ctxt_cic'::regclass;
SELECT * FROM check_scans($$SELECT id FROM t WHERE ctxt = 'item001001'$$);
SELECT * FROM check_scans($$SELECT id FROM t WHERE ctxt = 'item001002u'$$);
SELECT bt_index_check('t_ctxt_cic', true);
CREATE UNIQUE INDEX CONCURRENTLY t_e_cic ON t (e);
SELECT bt_index_check('t_e_cic', true);
REINDEX INDEX t_id;
REINDEX TABLE t;
REINDEX INDEX CONCURRENTLY t_k_hash;
REINDEX TABLE CONCURRENTLY t;
SELECT count(*) FROM pg_index WHERE indrelid = 't'::regclass AND NOT (indisvalid AND indisready);
SELECT * FROM check_scans('SELECT id, k FROM t WHERE k = 43');
SELECT * FROM check_scans('SELECT id FROM t WHERE arr @> ARRAY[999]', '{seq,bitmap}');
SELECT * FROM check_scans('SELECT id FROM t WHERE id BETWEEN 7000 AND 7500');
SELECT * FROM check_scans('SELECT id FROM t WHERE bid BETWEEN 7000 AND 7500', '{seq,bitmap}');
SELECT * FROM check_scans($$SELECT id FROM t WHERE sp <@ box '((10,10),(20,20))'$$);
SELECT bt_index_check('t_id', true), bt_index_check('t_k2_btree', true), bt_index_check('t_ctxt_cic', true),
       bt_index_check('t_e_cic', true);

-- a failed CREATE UNIQUE INDEX CONCURRENTLY leaves an invalid index behind
INSERT INTO t (id, k) VALUES (-1, -1), (-2, -1);
CREATE UNIQUE INDEX CONCURRENTLY t_k_uniq ON t (k) WHERE k < 0;
SELECT indisvalid FROM pg_index WHERE indexrelid = 't_k_uniq'::regclass;
DROP INDEX t_k_uniq;
DELETE FROM t WHERE id < 0;

-- unique violations, and rows that do not count as duplicates
INSERT INTO t (id) VALUES (4242);
UPDATE t SET id = 4243 WHERE id = 4242;
BEGIN;
DELETE FROM t WHERE id = 4242;
INSERT INTO t (id, k) VALUES (4242, -5);        -- the deleted row no longer counts
SELECT id, k FROM t WHERE id = 4242;
ROLLBACK;
SELECT id, k FROM t WHERE id = 4242;
BEGIN;
INSERT INTO t (id) VALUES (30000);
INSERT INTO t (id) VALUES (30000);             -- the uncommitted row of this transaction counts
ROLLBACK;
INSERT INTO t (id) VALUES (30000);             -- the aborted ones do not
SELECT count(*) FROM t WHERE id = 30000;
UPDATE t SET id = 30001 WHERE id = 30000;
UPDATE t SET id = 30001 WHERE id = 30001;       -- a no-op update of the key
SELECT count(*) FROM t WHERE id >= 30000;
-- a unique index cannot be built over duplicate live rows, but can over
-- duplicates that are deleted
CREATE TABLE u (a int);
INSERT INTO u SELECT g FROM generate_series(1, 1000) g;
INSERT INTO u VALUES (500);
CREATE UNIQUE INDEX u_a ON u (a);
DELETE FROM u WHERE a = 500;
INSERT INTO u VALUES (500);
CREATE UNIQUE INDEX u_a ON u (a);
INSERT INTO u VALUES (500);
SELECT count(*), sum(a) FROM u;
-- deferred uniqueness: swapping two keys in one statement
CREATE TABLE d (a int UNIQUE DEFERRABLE INITIALLY IMMEDIATE, v text);
INSERT INTO d VALUES (1, 'one'), (2, 'two');
UPDATE d SET a = 3 - a;
SELECT * FROM d ORDER BY a;
BEGIN;
SET CONSTRAINTS ALL DEFERRED;
UPDATE d SET a = 2 WHERE a = 1;
COMMIT;
SELECT * FROM d ORDER BY a;

-- exclusion constraint (gist): overlaps are found through the index
CREATE TABLE booking (room int, during int4range,
                      CONSTRAINT booking_excl EXCLUDE USING gist (during WITH &&));
INSERT INTO booking VALUES (1, '[1,10)'), (1, '[10,20)'), (2, '[30,40)');
INSERT INTO booking VALUES (3, '[5,6)');
DELETE FROM booking WHERE during = '[1,10)';
INSERT INTO booking VALUES (3, '[5,6)');
UPDATE booking SET during = '[25,26)' WHERE room = 3;
BEGIN;
DELETE FROM booking WHERE room = 2;
INSERT INTO booking VALUES (4, '[35,36)');
ROLLBACK;
SELECT * FROM booking ORDER BY during;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA indexes_all_ams CASCADE;
