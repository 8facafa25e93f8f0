--
-- rustydb_all_visible: VACUUM marks pages whose rows everyone sees
-- PD_ALL_VISIBLE (scans then skip per-row visibility checks), and every
-- change that makes a row on a page invisible to someone clears the flag.
--
CREATE EXTENSION IF NOT EXISTS pageinspect;
CREATE TABLE av (id int PRIMARY KEY, v text) USING rustydb;
INSERT INTO av SELECT g, repeat('v', 100) FROM generate_series(1, 300) g;
-- which of the table's data pages (block 0 is the metapage) are all-visible
CREATE FUNCTION av_pages() RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(b || ':' || CASE WHEN ((page_header(get_raw_page('av', b))).flags & 4) <> 0
		THEN 'V' ELSE '-' END, ' ' ORDER BY b)
	FROM generate_series(1, pg_relation_size('av') / 8192 - 1) b
$$;
-- VACUUM can only mark rows that no snapshot still running might miss:
-- wait until no other session of this database (the event worker,
-- autoanalyze) holds a snapshot from before our last commit
SELECT av_pages() AS after_insert;
SELECT rdb_test.wait_quiet();
VACUUM av;
SELECT av_pages() AS after_vacuum;
SELECT count(*), sum(length(v)) FROM av;
-- an update clears the flag on the old row's page and on the new row's page
UPDATE av SET v = 'updated' WHERE id = 1;
SELECT av_pages() AS after_update;
-- a delete clears it
DELETE FROM av WHERE id = 150;
SELECT av_pages() AS after_delete;
-- a row lock does not: the row is still visible to everyone
SELECT rdb_test.wait_quiet();
VACUUM av;
SELECT av_pages() AS after_second_vacuum;
BEGIN;
SELECT id FROM av WHERE id = 300 FOR UPDATE;
SELECT av_pages() AS while_locked;
COMMIT;
-- an insert, and a COPY batch, clear it on the page they land on
SELECT rdb_test.wait_quiet();
VACUUM av;
INSERT INTO av VALUES (1000, 'new');
SELECT av_pages() AS after_insert_again;
SELECT rdb_test.wait_quiet();
VACUUM av;
COPY av FROM STDIN;
1001	copied
1002	copied
\.
SELECT av_pages() AS after_copy;
-- rows of a transaction that is still running keep the page unmarked
BEGIN;
INSERT INTO av VALUES (2000, 'uncommitted');
SELECT av_pages() AS during;
COMMIT;
-- scans see exactly the rows they should throughout
SELECT rdb_test.wait_quiet();
VACUUM av;
SELECT count(*), min(id), max(id), sum(length(v)) FROM av;
SELECT id, v FROM av WHERE id IN (1, 150, 1000, 1001, 2000) ORDER BY id;
DROP FUNCTION av_pages();
DROP TABLE av;
