--
-- logical_decoding: every row change reaches logical decoding (test_decoding)
-- exactly as heap's do.  The suite database defaults to rustydb; the
-- expected output is heap's (scripts/gen_expected.sh).  Needs wal_level =
-- logical (scripts/cluster.sh).
--
SET client_min_messages = warning;
CREATE TABLE ld (id int PRIMARY KEY, v text, big text);
CREATE TABLE ld_nokey (a int, b text);
CREATE TABLE ld_idx (a int NOT NULL, b int NOT NULL, c text);
CREATE UNIQUE INDEX ld_idx_ab ON ld_idx (a, b);
ALTER TABLE ld_idx REPLICA IDENTITY USING INDEX ld_idx_ab;
CREATE TABLE ld_nothing (a int PRIMARY KEY, b text);
ALTER TABLE ld_nothing REPLICA IDENTITY NOTHING;
RESET client_min_messages;

SELECT 'init' FROM pg_create_logical_replication_slot('rdb_ld', 'test_decoding');

-- show changes without transaction ids, values cut short
CREATE FUNCTION ld_changes() RETURNS SETOF text LANGUAGE sql AS $$
	SELECT CASE WHEN length(data) > 200
		THEN left(data, 160) || ' ...(' || length(data) || ' chars)'
		ELSE data END
	FROM pg_logical_slot_get_changes('rdb_ld', NULL, NULL,
		'include-xids', '0', 'skip-empty-xacts', '1')
$$;

-- single-row and multi-row INSERT, INSERT ... SELECT
INSERT INTO ld VALUES (1, 'one', NULL);
INSERT INTO ld VALUES (2, 'two', NULL), (3, 'three', NULL);
INSERT INTO ld SELECT g, 'gen ' || g, NULL FROM generate_series(4, 6) g;
SELECT * FROM ld_changes();

-- COPY (multi-insert batches), including a batch that spans pages
COPY ld FROM STDIN;
100	copy a	\N
101	copy b	\N
102	\N	\N
\.
SELECT * FROM ld_changes();
-- 30 rows of ~700 bytes: one batch over several pages
COPY (SELECT g, g || repeat('c', 700), NULL FROM generate_series(2000, 2029) g)
	TO '/tmp/rdb_ld_copy.data';
COPY ld FROM '/tmp/rdb_ld_copy.data';
SELECT count(*) AS changes,
	   count(*) FILTER (WHERE data LIKE 'table public.ld: INSERT: id[integer]:20__ v[text]:''20__cccc%') AS copy_inserts,
	   count(DISTINCT data) AS distinct_changes
  FROM ld_changes() AS data;
DELETE FROM ld WHERE id >= 2000;
SELECT count(*) AS deletes FROM ld_changes() AS data
 WHERE data LIKE 'table public.ld: DELETE: id[integer]:20__';

-- UPDATE: non-key column, key column (old key logged), several rows
UPDATE ld SET v = 'uno' WHERE id = 1;
UPDATE ld SET id = 20 WHERE id = 2;
UPDATE ld SET v = v || '!' WHERE id BETWEEN 4 AND 6;
SELECT * FROM ld_changes();

-- DELETE logs the old key
DELETE FROM ld WHERE id = 3;
DELETE FROM ld WHERE id >= 100;
SELECT * FROM ld_changes();

-- ON CONFLICT: insert, then DO UPDATE, then DO NOTHING
INSERT INTO ld VALUES (30, 'new', NULL) ON CONFLICT (id) DO UPDATE SET v = 'upd';
INSERT INTO ld VALUES (30, 'new', NULL) ON CONFLICT (id) DO UPDATE SET v = 'upd';
INSERT INTO ld VALUES (30, 'new', NULL) ON CONFLICT DO NOTHING;
INSERT INTO ld VALUES (31, 'new', NULL) ON CONFLICT DO NOTHING;
SELECT * FROM ld_changes();

-- TOAST-sized values: inserted, unchanged across an update, deleted
INSERT INTO ld VALUES (40, 'toast',
	(SELECT string_agg(md5(g::text), '') FROM generate_series(1, 3000) g));
UPDATE ld SET v = 'toast, unchanged' WHERE id = 40;
UPDATE ld SET big = big || 'tail' WHERE id = 40;
COPY (SELECT 41, 'copied toast', string_agg(md5((g * 7)::text), '')
	  FROM generate_series(1, 3000) g) TO '/tmp/rdb_ld_toast.data';
COPY ld FROM '/tmp/rdb_ld_toast.data';
SELECT * FROM ld_changes();
SELECT id, length(big), md5(big) FROM ld WHERE id IN (40, 41) ORDER BY id;
DELETE FROM ld WHERE id = 40;
SELECT * FROM ld_changes();

-- REPLICA IDENTITY FULL: the whole old row, TOASTed values inlined
ALTER TABLE ld REPLICA IDENTITY FULL;
UPDATE ld SET v = 'full' WHERE id = 1;
DELETE FROM ld WHERE id = 41;
ALTER TABLE ld REPLICA IDENTITY DEFAULT;
SELECT * FROM ld_changes();

-- no primary key: updates and deletes carry no old key
INSERT INTO ld_nokey VALUES (1, 'a'), (2, 'b');
UPDATE ld_nokey SET b = 'bb' WHERE a = 2;
DELETE FROM ld_nokey WHERE a = 1;
SELECT * FROM ld_changes();

-- REPLICA IDENTITY USING INDEX and NOTHING
INSERT INTO ld_idx VALUES (1, 1, 'x'), (1, 2, 'y');
UPDATE ld_idx SET c = 'xx' WHERE a = 1 AND b = 1;
UPDATE ld_idx SET b = 3 WHERE a = 1 AND b = 2;
DELETE FROM ld_idx WHERE b = 3;
INSERT INTO ld_nothing VALUES (1, 'n');
UPDATE ld_nothing SET b = 'nn';
DELETE FROM ld_nothing;
SELECT * FROM ld_changes();

-- subtransactions: what was rolled back is not decoded
BEGIN;
INSERT INTO ld VALUES (50, 'kept', NULL);
SAVEPOINT s1;
INSERT INTO ld VALUES (51, 'rolled back', NULL);
UPDATE ld SET v = 'rolled back' WHERE id = 50;
ROLLBACK TO SAVEPOINT s1;
SAVEPOINT s2;
UPDATE ld SET v = 'kept too' WHERE id = 50;
RELEASE SAVEPOINT s2;
COMMIT;
BEGIN;
INSERT INTO ld VALUES (52, 'aborted', NULL);
ROLLBACK;
SELECT * FROM ld_changes();

-- row locks change no row: nothing to decode
BEGIN;
SELECT id FROM ld WHERE id = 1 FOR UPDATE;
SELECT id FROM ld WHERE id = 20 FOR KEY SHARE;
COMMIT;
SELECT * FROM ld_changes();

-- VACUUM (pruning, freezing) changes no row either
DELETE FROM ld WHERE id = 50;
VACUUM (FREEZE) ld;
SELECT * FROM ld_changes();

-- TRUNCATE arrives (logged by core for logically logged tables)
TRUNCATE ld_nokey;
SELECT * FROM ld_changes();

SELECT pg_drop_replication_slot('rdb_ld');

-- two-phase decoding: a prepared transaction is decoded at PREPARE
SELECT 'init' FROM pg_create_logical_replication_slot('rdb_ld_2pc', 'test_decoding', false, true);
BEGIN;
INSERT INTO ld VALUES (60, 'prepared', NULL);
UPDATE ld SET v = 'in 2pc' WHERE id = 1;
DELETE FROM ld WHERE id = 20;
PREPARE TRANSACTION 'rdb_ld_gid';
SELECT data FROM pg_logical_slot_get_changes('rdb_ld_2pc', NULL, NULL,
	'include-xids', '0', 'skip-empty-xacts', '1');
COMMIT PREPARED 'rdb_ld_gid';
SELECT data FROM pg_logical_slot_get_changes('rdb_ld_2pc', NULL, NULL,
	'include-xids', '0', 'skip-empty-xacts', '1');
SELECT pg_drop_replication_slot('rdb_ld_2pc');

-- changes made under a replication origin carry it (XLOG_INCLUDE_ORIGIN):
-- a plugin that filters by origin drops each of them, also from a large
-- transaction it streams before the commit (test_decoding's only-local)
SELECT 'init' FROM pg_create_logical_replication_slot('rdb_ld_origin', 'test_decoding');
SELECT pg_replication_origin_create('rdb_ld_origin') > 0 AS origin_created;
SELECT pg_replication_origin_session_setup('rdb_ld_origin');
BEGIN;
INSERT INTO ld_nokey SELECT g, repeat('x', 200) || g FROM generate_series(1001, 3000) g;
UPDATE ld_nokey SET b = 'under an origin' WHERE a BETWEEN 1001 AND 1003;
DELETE FROM ld_nokey WHERE a = 1004;
COMMIT;
SELECT pg_replication_origin_session_reset();
INSERT INTO ld_nokey VALUES (-1, 'local');
SET logical_decoding_work_mem = '64kB';
SELECT data FROM pg_logical_slot_get_changes('rdb_ld_origin', NULL, NULL,
	'include-xids', '0', 'skip-empty-xacts', '1', 'only-local', '1',
	'stream-changes', '1');
RESET logical_decoding_work_mem;
SELECT pg_drop_replication_slot('rdb_ld_origin');
SELECT pg_replication_origin_drop('rdb_ld_origin');
DELETE FROM ld_nokey WHERE a > 1000 OR a = -1;

SELECT * FROM ld ORDER BY id;
DROP FUNCTION ld_changes();
DROP TABLE ld, ld_nokey, ld_idx, ld_nothing;
