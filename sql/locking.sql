--
-- locking: row locks (SELECT FOR UPDATE / NO KEY UPDATE / SHARE / KEY SHARE,
-- NOWAIT, SKIP LOCKED) taken in one session on a default-AM table.
--
-- One session never conflicts with itself, so every lock here is granted;
-- what is checked is that tuple_lock returns the right (latest) version, that
-- locked rows can still be updated and deleted by their locker, that locks
-- combine and upgrade (multixacts when mixed with savepoints), and that locks
-- alone never change the data.  Blocking between sessions is tested by the
-- isolation specs (lock_conflicts.spec).
--
CREATE SCHEMA locking;
SET search_path = locking;

CREATE TABLE acct (id int PRIMARY KEY, owner text, balance numeric);
INSERT INTO acct SELECT g, 'o' || (g % 10), 100 FROM generate_series(1, 1000) g;
CREATE TABLE ref (id int PRIMARY KEY, acct_id int REFERENCES acct (id));
INSERT INTO ref SELECT g, g + 500 FROM generate_series(1, 100) g;

-- every strength, with and without NOWAIT / SKIP LOCKED
BEGIN;
SELECT id, balance FROM acct WHERE id <= 3 ORDER BY id FOR UPDATE;
SELECT id, balance FROM acct WHERE id <= 3 ORDER BY id FOR NO KEY UPDATE;
SELECT id, balance FROM acct WHERE id <= 3 ORDER BY id FOR SHARE;
SELECT id, balance FROM acct WHERE id <= 3 ORDER BY id FOR KEY SHARE;
SELECT id FROM acct WHERE id <= 3 ORDER BY id FOR UPDATE NOWAIT;
SELECT id FROM acct WHERE id <= 3 ORDER BY id FOR UPDATE SKIP LOCKED;  -- own locks are not skipped
SELECT count(*) FROM (SELECT id FROM acct FOR SHARE) s;
COMMIT;

-- the locker's xid is in xmax while it holds the only lock (heap semantics);
-- the row is unchanged and keeps its xmin
SELECT xmin AS xmin_before FROM acct WHERE id = 10 \gset
BEGIN;
SELECT id FROM acct WHERE id = 10 FOR UPDATE;
SELECT xmax = pg_current_xact_id()::xid AS xmax_is_locker, xmin = :'xmin_before'::xid AS same_xmin
FROM acct WHERE id = 10;
COMMIT;
SELECT id, owner, balance, xmin = :'xmin_before'::xid AS same_xmin FROM acct WHERE id = 10;

-- lock, then update and delete the locked rows in the same transaction
BEGIN;
SELECT id FROM acct WHERE id BETWEEN 20 AND 25 ORDER BY id FOR UPDATE;
UPDATE acct SET balance = balance + 1 WHERE id BETWEEN 20 AND 25;
DELETE FROM acct WHERE id = 25;
-- locking again returns the new versions; the deleted row is gone
SELECT id, balance FROM acct WHERE id BETWEEN 20 AND 25 ORDER BY id FOR UPDATE;
SELECT id, balance FROM acct WHERE id BETWEEN 20 AND 25 ORDER BY id FOR KEY SHARE;
COMMIT;
SELECT id, balance FROM acct WHERE id BETWEEN 20 AND 25 ORDER BY id;

-- update first, then lock: the updated version is locked and returned
BEGIN;
UPDATE acct SET balance = 0 WHERE id = 30;
SELECT id, balance FROM acct WHERE id = 30 FOR SHARE;
UPDATE acct SET balance = balance + 5 WHERE id = 30;
SELECT id, balance FROM acct WHERE id = 30 FOR UPDATE;
COMMIT;
SELECT id, balance FROM acct WHERE id = 30;

-- lock upgrades across savepoints: KEY SHARE in the parent, stronger locks in
-- subtransactions (heap records these as multixacts), some rolled back
BEGIN;
SELECT id FROM acct WHERE id = 40 FOR KEY SHARE;
SAVEPOINT a;
SELECT id FROM acct WHERE id = 40 FOR SHARE;
SAVEPOINT b;
SELECT id FROM acct WHERE id = 40 FOR NO KEY UPDATE;
ROLLBACK TO SAVEPOINT b;
SELECT id FROM acct WHERE id = 40 FOR UPDATE;
RELEASE SAVEPOINT a;
UPDATE acct SET balance = 40 WHERE id = 40;
SAVEPOINT c;
SELECT id, balance FROM acct WHERE id = 40 FOR SHARE;
UPDATE acct SET balance = 41 WHERE id = 40;
ROLLBACK TO SAVEPOINT c;
SELECT id, balance FROM acct WHERE id = 40 FOR UPDATE;
COMMIT;
SELECT id, balance FROM acct WHERE id = 40;

-- a lock taken in a rolled-back subtransaction does not prevent the update
BEGIN;
SAVEPOINT s;
SELECT id FROM acct WHERE id = 41 FOR UPDATE;
ROLLBACK TO SAVEPOINT s;
UPDATE acct SET balance = -41 WHERE id = 41;
COMMIT;
SELECT id, balance FROM acct WHERE id = 41;

-- FOR UPDATE OF one table in a join, with LIMIT and ORDER BY
BEGIN;
SELECT a.id, a.owner, r.id AS ref_id
FROM acct a JOIN ref r ON r.acct_id = a.id
WHERE a.id BETWEEN 550 AND 555 ORDER BY a.id FOR UPDATE OF a;
SELECT id FROM acct WHERE owner = 'o3' ORDER BY id LIMIT 3 FOR UPDATE SKIP LOCKED;
COMMIT;

-- a queue drained with FOR UPDATE SKIP LOCKED + DELETE
CREATE TABLE queue (id int PRIMARY KEY, payload text);
INSERT INTO queue SELECT g, 'job' || g FROM generate_series(1, 20) g;
DO $$
DECLARE
  j int;
  done int := 0;
BEGIN
  LOOP
    SELECT id INTO j FROM locking.queue ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED;
    EXIT WHEN j IS NULL;
    DELETE FROM locking.queue WHERE id = j;
    done := done + 1;
  END LOOP;
  RAISE NOTICE 'processed % jobs', done;
END $$;
SELECT count(*) FROM queue;

-- foreign-key checks take KEY SHARE locks on the referenced rows; the
-- referenced rows can then be updated (non-key) by the same transaction
BEGIN;
INSERT INTO ref VALUES (101, 560), (102, 560), (103, 561);
UPDATE acct SET balance = balance * 2 WHERE id IN (560, 561);
SELECT id, balance FROM acct WHERE id IN (560, 561) ORDER BY id;
COMMIT;
SELECT count(*) FROM ref WHERE acct_id IN (560, 561);
-- ... but not deleted while referenced
DELETE FROM acct WHERE id = 560;

-- a cursor FOR UPDATE locks rows as they are fetched; WHERE CURRENT OF
BEGIN;
DECLARE c CURSOR FOR SELECT id, balance FROM acct WHERE id BETWEEN 70 AND 75 ORDER BY id FOR UPDATE;
FETCH 2 FROM c;
UPDATE acct SET balance = 700 WHERE CURRENT OF c;
FETCH 2 FROM c;
DELETE FROM acct WHERE CURRENT OF c;
CLOSE c;
COMMIT;
SELECT id, balance FROM acct WHERE id BETWEEN 70 AND 75 ORDER BY id;

-- row locks never change the data
SELECT count(*), sum(balance), md5(string_agg(acct::text, '|' ORDER BY id)) FROM acct;
BEGIN;
SELECT count(*) FROM (SELECT * FROM acct FOR UPDATE) s;
SELECT count(*) FROM (SELECT * FROM acct FOR KEY SHARE) s;
ROLLBACK;
SELECT count(*), sum(balance), md5(string_agg(acct::text, '|' ORDER BY id)) FROM acct;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA locking CASCADE;
