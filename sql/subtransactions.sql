--
-- subtransactions: savepoints, rolled-back subtransactions and combo command
-- ids on a default-AM table.
--
-- Rows written by an aborted subtransaction must vanish while the parent's
-- rows stay; a row inserted and then updated or deleted by later commands of
-- the same transaction needs both cmin and cmax (a combo cid in heap), and
-- cursors opened between those commands must each keep seeing their own
-- version.  More than 64 subtransactions overflow the snapshot's subxid
-- cache, so visibility then has to go through pg_subtrans.
--
CREATE SCHEMA subtransactions;
SET search_path = subtransactions;

CREATE TABLE t (id int, v text);

-- nested savepoints, some rolled back, some released
BEGIN;
INSERT INTO t VALUES (1, 'top');
SAVEPOINT a;
INSERT INTO t VALUES (2, 'a');
SAVEPOINT b;
INSERT INTO t VALUES (3, 'b');
UPDATE t SET v = v || '+b' WHERE id = 1;
ROLLBACK TO SAVEPOINT b;
INSERT INTO t VALUES (4, 'a after b');
SAVEPOINT c;
DELETE FROM t WHERE id = 2;
RELEASE SAVEPOINT c;
SAVEPOINT d;
UPDATE t SET v = 'd' WHERE id = 4;
SELECT * FROM t ORDER BY id;
ROLLBACK TO SAVEPOINT d;
RELEASE SAVEPOINT a;
SELECT * FROM t ORDER BY id;
COMMIT;
SELECT * FROM t ORDER BY id;

-- rolling back to a savepoint twice, and a whole aborted parent
BEGIN;
SAVEPOINT s;
INSERT INTO t VALUES (10, 'x');
ROLLBACK TO SAVEPOINT s;
INSERT INTO t VALUES (11, 'y');
ROLLBACK TO SAVEPOINT s;
INSERT INTO t VALUES (12, 'z');
RELEASE SAVEPOINT s;
COMMIT;
BEGIN;
SAVEPOINT s;
INSERT INTO t VALUES (13, 'never');
RELEASE SAVEPOINT s;
ROLLBACK;
SELECT * FROM t WHERE id >= 10 ORDER BY id;

-- an error inside a savepoint; the rest of the transaction carries on
BEGIN;
INSERT INTO t VALUES (20, 'before error');
SAVEPOINT s;
INSERT INTO t VALUES (21, 'in failed subxact');
SELECT 1 / 0;
ROLLBACK TO SAVEPOINT s;
INSERT INTO t VALUES (22, 'after error');
COMMIT;
SELECT * FROM t WHERE id >= 20 ORDER BY id;

-- the same row updated in a chain of subtransactions, the middle ones undone
CREATE TABLE c (id int PRIMARY KEY, n int);
INSERT INTO c VALUES (1, 0);
BEGIN;
UPDATE c SET n = 1;
SAVEPOINT s1;
UPDATE c SET n = 2;
SAVEPOINT s2;
UPDATE c SET n = 3;
ROLLBACK TO SAVEPOINT s2;
UPDATE c SET n = n * 10;
SAVEPOINT s3;
DELETE FROM c;
SELECT count(*) FROM c;
ROLLBACK TO SAVEPOINT s3;
SELECT * FROM c;
ROLLBACK TO SAVEPOINT s1;
SELECT * FROM c;
UPDATE c SET n = n + 100;
COMMIT;
SELECT * FROM c;
-- the index sees the same
SET enable_seqscan = off;
SELECT * FROM c WHERE id = 1;
RESET enable_seqscan;

-- many subtransactions (exceptions in PL/pgSQL), beyond the 64 cached per
-- snapshot: every other one fails, its row must disappear
DO $$
BEGIN
  FOR i IN 1..500 LOOP
    BEGIN
      INSERT INTO subtransactions.t VALUES (1000 + i, 'sub');
      IF i % 2 = 0 THEN
        RAISE EXCEPTION 'undo %', i;
      END IF;
    EXCEPTION WHEN raise_exception THEN
      NULL;
    END;
  END LOOP;
END $$;
SELECT count(*), min(id), max(id), sum(id) FROM t WHERE v = 'sub';
-- and updates of one row in many subtransactions, some undone
DO $$
BEGIN
  FOR i IN 1..200 LOOP
    BEGIN
      UPDATE subtransactions.c SET n = n + 1 WHERE id = 1;
      IF i % 4 = 0 THEN
        RAISE EXCEPTION 'undo %', i;
      END IF;
    EXCEPTION WHEN raise_exception THEN
      NULL;
    END;
  END LOOP;
END $$;
SELECT * FROM c;
-- the same, but inside one explicit transaction with a query in the middle
BEGIN;
DO $$
BEGIN
  FOR i IN 1..100 LOOP
    BEGIN
      INSERT INTO subtransactions.t VALUES (5000 + i, 'open');
      IF i % 3 = 0 THEN RAISE EXCEPTION 'undo'; END IF;
    EXCEPTION WHEN raise_exception THEN NULL;
    END;
  END LOOP;
END $$;
SELECT count(*) FROM t WHERE v = 'open';
COMMIT;
SELECT count(*), sum(id) FROM t WHERE v = 'open';

--
-- combo command ids: one row inserted, updated and deleted by successive
-- commands of one transaction, with a cursor opened after each command
--
CREATE TABLE cc (id int, v text);
BEGIN;
INSERT INTO cc VALUES (1, 'v0'), (2, 'w0');
DECLARE k0 CURSOR FOR SELECT id, v FROM cc ORDER BY id;
UPDATE cc SET v = 'v1' WHERE id = 1;
DECLARE k1 CURSOR FOR SELECT id, v FROM cc ORDER BY id;
UPDATE cc SET v = 'v2' WHERE id = 1;
UPDATE cc SET v = 'w2' WHERE id = 2;
DECLARE k2 CURSOR FOR SELECT id, v FROM cc ORDER BY id;
DELETE FROM cc WHERE id = 1;
DECLARE k3 CURSOR FOR SELECT id, v FROM cc ORDER BY id;
SAVEPOINT s;
UPDATE cc SET v = 'w4' WHERE id = 2;
DECLARE k4 CURSOR FOR SELECT id, v FROM cc ORDER BY id;
ROLLBACK TO SAVEPOINT s;
FETCH ALL FROM k0;
FETCH ALL FROM k1;
FETCH ALL FROM k2;
FETCH ALL FROM k3;
SELECT * FROM cc ORDER BY id;
COMMIT;
SELECT * FROM cc ORDER BY id;

-- a cursor reading the table while the same transaction keeps updating it:
-- the cursor sees the rows as of its opening, each exactly once
CREATE TABLE big (id int PRIMARY KEY, n int);
INSERT INTO big SELECT g, 0 FROM generate_series(1, 2000) g;
BEGIN;
DECLARE r CURSOR FOR SELECT id, n FROM big;
CREATE TEMP TABLE seen (id int, n int);
DO $$
DECLARE
  cur refcursor := 'r';
  rec record;
BEGIN
  LOOP
    FETCH cur INTO rec;
    EXIT WHEN NOT FOUND;
    INSERT INTO seen VALUES (rec.id, rec.n);
    UPDATE subtransactions.big SET n = n + 1 WHERE id = rec.id OR id = rec.id + 1;
  END LOOP;
END $$;
SELECT count(*), count(DISTINCT id), sum(n) FROM seen;
SELECT count(*), sum(n), min(n), max(n) FROM big;
COMMIT;
SELECT count(*), sum(n) FROM big;

-- rows inserted by a subtransaction and updated by its parent
BEGIN;
SAVEPOINT s;
INSERT INTO cc VALUES (3, 'from sub');
RELEASE SAVEPOINT s;
UPDATE cc SET v = v || ', updated by parent' WHERE id = 3;
SAVEPOINT s2;
DELETE FROM cc WHERE id = 3;
ROLLBACK TO SAVEPOINT s2;
COMMIT;
SELECT * FROM cc ORDER BY id;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA subtransactions CASCADE;
