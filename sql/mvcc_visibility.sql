--
-- mvcc_visibility: what one session can observe of MVCC on a default-AM table.
--
-- Aborted inserts, updates and deletes must leave no trace; a command must not
-- see its own effects (Halloween problem) while later commands do; cursors and
-- data-modifying CTEs see the snapshot of their own command id; the system
-- columns xmin/xmax/cmin carry heap's values.  Concurrent sessions are tested
-- by the isolation specs.
--
CREATE SCHEMA mvcc_visibility;
SET search_path = mvcc_visibility;

CREATE TABLE t (id int, v int);
INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g;

-- an aborted insert is invisible, in this and in later transactions
BEGIN;
INSERT INTO t SELECT g, -g FROM generate_series(1001, 2000) g;
SELECT count(*) FROM t;
ROLLBACK;
SELECT count(*), sum(v) FROM t;

-- an aborted update leaves the old versions visible, and only them
BEGIN;
UPDATE t SET v = v + 1000000;
SELECT count(*), min(v) FROM t;
ROLLBACK;
SELECT count(*), sum(v), min(v), max(v) FROM t;

-- an aborted delete leaves the rows visible
BEGIN;
DELETE FROM t WHERE id % 2 = 0;
SELECT count(*) FROM t;
ROLLBACK;
SELECT count(*), sum(v) FROM t;

-- aborted transactions mixed with committed ones on the same rows
BEGIN;
UPDATE t SET v = -1 WHERE id <= 10;
COMMIT;
BEGIN;
UPDATE t SET v = -2 WHERE id <= 10;
DELETE FROM t WHERE id <= 5;
ROLLBACK;
SELECT id, v FROM t WHERE id <= 12 ORDER BY id;

-- Halloween: a command does not see the rows it writes
INSERT INTO t SELECT id + 1000, v FROM t;
SELECT count(*) FROM t;
UPDATE t SET v = v + 1;
SELECT count(*), sum(v) FROM t;
DELETE FROM t WHERE id > 1000;
SELECT count(*), sum(v) FROM t;

-- a data-modifying CTE and the main query both see the snapshot taken before
-- the statement: the main query counts the rows being deleted
WITH d AS (DELETE FROM t WHERE id > 900 RETURNING *)
SELECT (SELECT count(*) FROM t) AS seen_by_main, (SELECT count(*) FROM d) AS deleted;
SELECT count(*) FROM t;
WITH u AS (UPDATE t SET v = v * 10 WHERE id <= 100 RETURNING v)
SELECT (SELECT sum(v) FROM t WHERE id <= 100) AS old_sum, (SELECT sum(v) FROM u) AS new_sum;
SELECT sum(v) FROM t WHERE id <= 100;

-- A volatile function sees rows inserted so far by the statement calling it
-- (a new snapshot with a later command id for each of its queries); rows the
-- statement has not yet written are not there.  Needs per-command visibility
-- of the transaction's own rows (cmin).
CREATE TABLE seen (id int, rows_seen bigint);
CREATE FUNCTION count_seen() RETURNS bigint VOLATILE LANGUAGE sql
AS 'SELECT count(*) FROM mvcc_visibility.seen';
INSERT INTO seen SELECT g, count_seen() FROM generate_series(1, 5) g;
SELECT * FROM seen ORDER BY id;
-- a stable function uses the calling statement's snapshot: sees none of them
CREATE FUNCTION count_seen_stable() RETURNS bigint STABLE LANGUAGE sql
AS 'SELECT count(*) FROM mvcc_visibility.seen';
INSERT INTO seen SELECT g, count_seen_stable() FROM generate_series(6, 8) g;
SELECT * FROM seen WHERE id > 5 ORDER BY id;

-- per-command visibility inside one transaction, and cursors keeping the
-- snapshot of the command that opened them
BEGIN;
CREATE TABLE c (id int, v text);
INSERT INTO c VALUES (1, 'a');
DECLARE c1 CURSOR FOR SELECT id, v FROM c ORDER BY id;
INSERT INTO c VALUES (2, 'b');
DECLARE c2 CURSOR FOR SELECT id, v FROM c ORDER BY id;
UPDATE c SET v = v || '2';
DECLARE c3 CURSOR FOR SELECT id, v FROM c ORDER BY id;
DELETE FROM c WHERE id = 1;
DECLARE c4 CURSOR FOR SELECT id, v FROM c ORDER BY id;
FETCH ALL FROM c1;
FETCH ALL FROM c2;
FETCH ALL FROM c3;
FETCH ALL FROM c4;
SELECT id, v FROM c ORDER BY id;
COMMIT;
SELECT id, v FROM c ORDER BY id;

-- system columns: xmin is the inserting transaction, xmax 0 for a row never
-- deleted or locked, cmin the command number within the transaction
BEGIN;
CREATE TABLE sys (id int);
INSERT INTO sys VALUES (1);
INSERT INTO sys VALUES (2);
INSERT INTO sys VALUES (3);
SELECT id, cmin, xmin = pg_current_xact_id()::xid AS xmin_is_mine, xmax FROM sys ORDER BY id;
COMMIT;
SELECT id, xmin <> '0'::xid AS has_xmin, xmax FROM sys ORDER BY id;
-- an update gives the new version a new xmin
SELECT xmin AS old_xmin FROM sys WHERE id = 2 \gset
UPDATE sys SET id = 20 WHERE id = 2;
SELECT id, xmin = :'old_xmin'::xid AS same_xmin, xmin::text::bigint > :'old_xmin'::text::bigint AS newer_xmin
FROM sys WHERE id = 20;
-- a deletion rolled back leaves xmax set to the aborted transaction on heap;
-- whatever is stored there, the row stays visible
BEGIN;
DELETE FROM sys WHERE id = 3;
ROLLBACK;
SELECT id FROM sys ORDER BY id;
-- the transaction that deleted a row sees it gone at once; a
-- rollback brings it back
BEGIN;
DELETE FROM sys WHERE id = 1;
SELECT count(*) FROM sys WHERE id = 1;
ROLLBACK;
SELECT count(*) FROM sys WHERE id = 1;

-- REPEATABLE READ: the snapshot is fixed at the first query, but the
-- transaction's own changes are seen
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) FROM t;
INSERT INTO t VALUES (5000, 5000);
UPDATE t SET v = 0 WHERE id = 1;
SELECT count(*), (SELECT v FROM t WHERE id = 1) AS v1 FROM t;
COMMIT;
SELECT count(*), (SELECT v FROM t WHERE id = 1) AS v1 FROM t;

-- a row inserted and deleted in the same transaction is never seen afterwards
BEGIN;
INSERT INTO t VALUES (6000, 6000);
DELETE FROM t WHERE id = 6000;
INSERT INTO t VALUES (6001, 6001);
UPDATE t SET v = 6002 WHERE id = 6001;
UPDATE t SET v = 6003 WHERE id = 6001;
COMMIT;
SELECT id, v FROM t WHERE id >= 6000 ORDER BY id;

-- two-phase commit: a prepared transaction's changes stay invisible until
-- COMMIT PREPARED, and vanish with ROLLBACK PREPARED
BEGIN;
INSERT INTO t VALUES (7000, 7000);
UPDATE t SET v = -2 WHERE id = 2;
PREPARE TRANSACTION 'mvcc_visibility_commit';
SELECT count(*) AS prepared_insert_visible FROM t WHERE id = 7000;
SELECT v FROM t WHERE id = 2;
COMMIT PREPARED 'mvcc_visibility_commit';
SELECT id, v FROM t WHERE id IN (2, 7000) ORDER BY id;
BEGIN;
DELETE FROM t WHERE id = 3;
INSERT INTO t VALUES (7001, 7001);
PREPARE TRANSACTION 'mvcc_visibility_rollback';
SELECT count(*) FROM t WHERE id IN (3, 7001);
ROLLBACK PREPARED 'mvcc_visibility_rollback';
SELECT id, v FROM t WHERE id IN (3, 7001) ORDER BY id;

SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM t;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA mvcc_visibility CASCADE;
