--
-- rustydb_twin.sql: pgTAP checks that a rustydb table answers exactly like a
-- heap twin given the same INSERT, UPDATE, DELETE, upsert, COPY and
-- subtransaction rollbacks, read back through seq, index and bitmap scans
-- (results_eq against the heap table, row by row, in id order).
--
-- Run with pg_prove in a database where rustydb_am and pgtap are installed;
-- everything is rolled back at the end.
--
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
RESET client_min_messages;

SELECT plan(20);

CREATE TABLE twin_r (id int PRIMARY KEY, k int, v text, n numeric) USING rustydb;
CREATE TABLE twin_h (id int PRIMARY KEY, k int, v text, n numeric) USING heap;
CREATE INDEX twin_r_k ON twin_r (k);
CREATE INDEX twin_h_k ON twin_h (k);

SELECT is((SELECT a.amname::text FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.oid = 'twin_r'::regclass),
          'rustydb', 'twin_r is a rustydb table');
SELECT is((SELECT a.amname::text FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.oid = 'twin_h'::regclass),
          'heap', 'twin_h is a heap table');
SELECT is_empty('SELECT * FROM twin_r', 'a new rustydb table is empty');

-- insert
SELECT lives_ok($$INSERT INTO twin_r SELECT g, g % 17, 'v' || g, g * 1.5 FROM generate_series(1, 3000) g$$,
                'INSERT ... SELECT of 3000 rows');
INSERT INTO twin_h SELECT g, g % 17, 'v' || g, g * 1.5 FROM generate_series(1, 3000) g;
SELECT results_eq('SELECT * FROM twin_r ORDER BY id', 'SELECT * FROM twin_h ORDER BY id',
                  'same rows as heap after INSERT');
SELECT is((SELECT count(*) FROM twin_r), 3000::bigint, '3000 rows counted');

-- update, including rows growing past a page's worth of space and back
UPDATE twin_r SET v = v || '-u', n = n + 1 WHERE id % 3 = 0;
UPDATE twin_h SET v = v || '-u', n = n + 1 WHERE id % 3 = 0;
UPDATE twin_r SET v = repeat('x', 5000) WHERE id % 100 = 1;
UPDATE twin_h SET v = repeat('x', 5000) WHERE id % 100 = 1;
UPDATE twin_r SET k = k + 100 WHERE k = 5;
UPDATE twin_h SET k = k + 100 WHERE k = 5;
SELECT results_eq('SELECT * FROM twin_r ORDER BY id', 'SELECT * FROM twin_h ORDER BY id',
                  'same rows as heap after UPDATE');

-- delete
DELETE FROM twin_r WHERE id % 7 = 0 OR k = 3;
DELETE FROM twin_h WHERE id % 7 = 0 OR k = 3;
SELECT results_eq('SELECT * FROM twin_r ORDER BY id', 'SELECT * FROM twin_h ORDER BY id',
                  'same rows as heap after DELETE');

-- upsert
INSERT INTO twin_r SELECT g, g % 17, 'up' || g, 0 FROM generate_series(2900, 3100) g
  ON CONFLICT (id) DO UPDATE SET n = twin_r.n * 2;
INSERT INTO twin_h SELECT g, g % 17, 'up' || g, 0 FROM generate_series(2900, 3100) g
  ON CONFLICT (id) DO UPDATE SET n = twin_h.n * 2;
SELECT results_eq('SELECT * FROM twin_r ORDER BY id', 'SELECT * FROM twin_h ORDER BY id',
                  'same rows as heap after INSERT ... ON CONFLICT DO UPDATE');

-- COPY (multi-insert)
COPY twin_r FROM stdin;
5001	1	copied one	1
5002	2	copied two	\N
5003	3	\N	3.5
\.
COPY twin_h FROM stdin;
5001	1	copied one	1
5002	2	copied two	\N
5003	3	\N	3.5
\.
INSERT INTO twin_r SELECT g, g % 17, 'bulk', g FROM generate_series(6000, 8000) g;
INSERT INTO twin_h SELECT g, g % 17, 'bulk', g FROM generate_series(6000, 8000) g;
SELECT results_eq('SELECT * FROM twin_r ORDER BY id', 'SELECT * FROM twin_h ORDER BY id',
                  'same rows as heap after COPY');

-- rolled-back subtransactions
SAVEPOINT s1;
DELETE FROM twin_r WHERE id < 1000;
UPDATE twin_r SET v = 'gone';
ROLLBACK TO SAVEPOINT s1;
SAVEPOINT s2;
INSERT INTO twin_r VALUES (9999, 0, 'rolled back', 0);
ROLLBACK TO SAVEPOINT s2;
SELECT results_eq('SELECT * FROM twin_r ORDER BY id', 'SELECT * FROM twin_h ORDER BY id',
                  'same rows as heap after rolled-back savepoints');
SELECT throws_ok('INSERT INTO twin_r VALUES (1, 0, ''duplicate'', 0)', '23505', NULL,
                 'a duplicate key on a rustydb table is a unique violation');
SELECT results_eq('SELECT * FROM twin_r ORDER BY id', 'SELECT * FROM twin_h ORDER BY id',
                  'nothing of the failed insert remains');

-- the same answers through other scan types
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
SELECT results_eq('SELECT * FROM twin_r WHERE id BETWEEN 500 AND 2500 ORDER BY id',
                  'SELECT * FROM twin_h WHERE id BETWEEN 500 AND 2500 ORDER BY id',
                  'same rows through a btree index scan on the primary key');
SELECT results_eq('SELECT id, k FROM twin_r WHERE k = 105 ORDER BY id',
                  'SELECT id, k FROM twin_h WHERE k = 105 ORDER BY id',
                  'same rows through an index scan on an updated column');
SET LOCAL enable_indexscan = off;
SET LOCAL enable_bitmapscan = on;
SELECT results_eq('SELECT * FROM twin_r WHERE k IN (1, 2, 105) ORDER BY id',
                  'SELECT * FROM twin_h WHERE k IN (1, 2, 105) ORDER BY id',
                  'same rows through a bitmap scan');
RESET enable_seqscan;
RESET enable_indexscan;
RESET enable_bitmapscan;
SELECT results_eq('SELECT ctid = ctid, id FROM twin_r WHERE ctid = (SELECT ctid FROM twin_r WHERE id = 1500)',
                  'SELECT true, 1500',
                  'a TID scan finds the row by its ctid');

-- aggregates and a join with the twin
SELECT results_eq('SELECT k, count(*), sum(n), max(length(v)) FROM twin_r GROUP BY k ORDER BY k',
                  'SELECT k, count(*), sum(n), max(length(v)) FROM twin_h GROUP BY k ORDER BY k',
                  'same aggregates per group');
SELECT is_empty('SELECT * FROM twin_r r FULL JOIN twin_h h USING (id) WHERE r IS DISTINCT FROM h',
                'a full join of the twins finds no differing row');

-- TRUNCATE
TRUNCATE twin_r;
SELECT is_empty('SELECT * FROM twin_r', 'empty after TRUNCATE');

SELECT * FROM finish();
ROLLBACK;
