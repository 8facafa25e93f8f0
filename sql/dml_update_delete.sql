--
-- dml_update_delete: UPDATE, DELETE and MERGE on a default-AM table.
--
-- Checks that updates produce exactly one visible version per row (no lost or
-- duplicated versions, whatever the size change of the row), that deletes are
-- final, that indexes find the new versions and not the old ones, and that a
-- row changed twice by one command is reported the way heap reports it
-- (TM_SelfModified).
--
CREATE SCHEMA dml_update_delete;
SET search_path = dml_update_delete;

CREATE TABLE t (id int PRIMARY KEY, k int, v text, n numeric);
INSERT INTO t SELECT g, g % 100, 'v' || g, g FROM generate_series(1, 10000) g;
CREATE INDEX t_k ON t (k);
CREATE INDEX t_v ON t (v);

-- single-row update, RETURNING the new values
UPDATE t SET v = 'changed', n = -1 WHERE id = 1 RETURNING *;
SELECT * FROM t WHERE id = 1;
SELECT count(*) FROM t;

-- update to NULL and back
UPDATE t SET v = NULL, n = NULL WHERE id = 2;
SELECT * FROM t WHERE id = 2;
UPDATE t SET v = 'v2', n = 2 WHERE id = 2;
SELECT * FROM t WHERE id = 2;

-- growing rows (a version that no longer fits where the old one was) and
-- shrinking them again
UPDATE t SET v = repeat('g', 1500) WHERE id % 10 = 3;
SELECT count(*), sum(length(v)) FROM t;
SELECT count(*) FROM t WHERE length(v) = 1500;
UPDATE t SET v = 's' || id WHERE id % 10 = 3;
SELECT count(*), sum(length(v)) FROM t;

-- update every row, several times; each time exactly one version per row
UPDATE t SET n = n + 1;
UPDATE t SET n = n * 2 WHERE id % 2 = 0;
UPDATE t SET k = (k + 1) % 100, n = n - 1;
SELECT count(*), count(DISTINCT id), sum(n), sum(k) FROM t;
SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM t;

-- an update that changes the primary key of every row (no overlap between
-- old and new keys, so the outcome does not depend on scan order)
UPDATE t SET id = id + 100000;
SELECT count(*), min(id), max(id) FROM t;
UPDATE t SET id = id - 100000;

-- index scans find the new versions, and only them
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT id, k, v FROM t WHERE k = 5;
SELECT count(*), sum(id) FROM t WHERE k = 5;
SELECT id, v FROM t WHERE v = 's3';
SELECT count(*) FROM t WHERE v = 'v3';
SELECT id, k, v, n FROM t WHERE id = 1;
SET enable_indexscan = off;
SET enable_bitmapscan = on;
EXPLAIN (COSTS OFF) SELECT id, k, v FROM t WHERE k = 5;
SELECT count(*), sum(id) FROM t WHERE k = 5;
RESET enable_seqscan;
RESET enable_indexscan;
RESET enable_bitmapscan;
SELECT count(*), sum(id) FROM t WHERE k = 5;

-- the same row updated many times across transactions (a long update chain)
DO $$
BEGIN
  FOR i IN 1..50 LOOP
    UPDATE dml_update_delete.t SET n = i WHERE id = 77;
  END LOOP;
END $$;
SELECT id, n FROM t WHERE id = 77;
SELECT count(*) FROM t WHERE id = 77;

-- UPDATE ... FROM another table
CREATE TABLE delta (id int, d numeric);
INSERT INTO delta SELECT g, 1000 FROM generate_series(1, 10000, 7) g;
UPDATE t SET n = t.n + delta.d FROM delta WHERE t.id = delta.id;
SELECT count(*) FROM t WHERE n > 1000;

-- a join that matches a target row twice: heap updates it once and skips the
-- second match (the second attempt sees the row as modified by this command)
CREATE TABLE dup (id int, d numeric);
INSERT INTO dup VALUES (10, 1), (10, 2), (20, 5), (20, 5);
UPDATE t SET n = -dup.d FROM dup WHERE t.id = dup.id;
SELECT id, n IN (-1, -2) AS one_of_them FROM t WHERE id = 10;
SELECT id, n FROM t WHERE id = 20;
SELECT count(*) FROM t WHERE id IN (10, 20);

-- DELETE with RETURNING, DELETE ... USING, then deleted rows stay gone
WITH d AS (DELETE FROM t WHERE id <= 5 RETURNING id) SELECT id FROM d ORDER BY id;
DELETE FROM t USING delta WHERE t.id = delta.id AND t.id <= 100;
SELECT count(*) FROM t WHERE id <= 100;
SELECT id FROM t WHERE id <= 20 ORDER BY id;
DELETE FROM t WHERE id <= 5;
SELECT count(*) FROM t;

-- deleting a row twice in one statement (duplicate join rows) deletes it once
WITH d AS (DELETE FROM t USING dup WHERE t.id = dup.id RETURNING t.id)
SELECT id FROM d ORDER BY id;
SELECT count(*) FROM t WHERE id IN (10, 20);

-- delete everything, then the table is reusable
DELETE FROM t WHERE k < 50;
SELECT count(*), min(k), max(k) FROM t;
DELETE FROM t;
SELECT count(*) FROM t;
SET enable_seqscan = off;
SELECT count(*) FROM t WHERE id > 0;
SELECT count(*) FROM t WHERE k = 5;
RESET enable_seqscan;
INSERT INTO t SELECT g, g % 100, 'again' || g, g FROM generate_series(1, 1000) g;
SELECT count(*), sum(id), count(DISTINCT v) FROM t;
SELECT id, v FROM t WHERE id = 1;

-- an UPDATE whose WHERE reads columns it also changes (each row once)
UPDATE t SET n = n + 1000 WHERE n < 500;
SELECT count(*) FROM t WHERE n >= 1000;
SELECT min(n), max(n) FROM t;

-- MERGE (PostgreSQL 15): update, delete and insert in one command
CREATE TABLE src (id int, v text, op text);
INSERT INTO src VALUES (1, 'merged', 'u'), (2, NULL, 'd'), (5000, 'new', 'u'), (5001, 'new2', 'u');
MERGE INTO t USING src ON t.id = src.id
  WHEN MATCHED AND src.op = 'd' THEN DELETE
  WHEN MATCHED THEN UPDATE SET v = src.v
  WHEN NOT MATCHED THEN INSERT (id, k, v, n) VALUES (src.id, 0, src.v, 0);
SELECT id, k, v, n FROM t WHERE id IN (1, 2, 5000, 5001) ORDER BY id;
SELECT count(*) FROM t;

-- MERGE touching a row twice is an error, and nothing of it remains
INSERT INTO src VALUES (3, 'first', 'u'), (3, 'second', 'u');
MERGE INTO t USING src ON t.id = src.id
  WHEN MATCHED THEN UPDATE SET v = src.v
  WHEN NOT MATCHED THEN INSERT (id, k, v, n) VALUES (src.id, 0, src.v, 0);
SELECT id, v FROM t WHERE id IN (1, 3) ORDER BY id;

-- an update that fails half-way (division by zero at one row) leaves no trace
UPDATE t SET n = 1 / (id - 500) WHERE id <= 1000;
SELECT count(*), sum(n) FROM t;
-- and a failed delete likewise
DELETE FROM t WHERE 1 / (id - 700) > -1;
SELECT count(*), sum(n) FROM t;

SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM t;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA dml_update_delete CASCADE;
