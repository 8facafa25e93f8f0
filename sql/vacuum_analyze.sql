--
-- vacuum_analyze: VACUUM and ANALYZE on default-AM tables.
--
-- VACUUM must remove dead rows and their index entries, record the freed
-- space so that new rows reuse it, truncate empty pages at the end, freeze
-- rows and advance relfrozenxid, and set reltuples to the live row count.
-- ANALYZE must sample the live rows: on tables smaller than the sample size
-- every row is read, so pg_stats and reltuples are exact and deterministic.
-- Sizes are compared with each other, never printed (they are the AM's
-- business); VACUUM VERBOSE output is AM-specific and not used.
-- Autovacuum is disabled on these tables so that it cannot interfere.
--
CREATE SCHEMA vacuum_analyze;
SET search_path = vacuum_analyze;

CREATE TABLE v (id int, k int, pad text) WITH (autovacuum_enabled = false);
INSERT INTO v SELECT g, g % 10, repeat('v', 100) FROM generate_series(1, 20000) g;
CREATE INDEX v_id ON v (id);
CREATE INDEX v_k ON v (k);
SELECT pg_relation_size('v') AS size_full \gset

--
-- VACUUM: dead rows and their index entries go away, the space is reused
--
DELETE FROM v;
VACUUM (INDEX_CLEANUP ON, TRUNCATE false) v;
SELECT pg_relation_size('v') = :size_full AS not_truncated;
-- reltuples of the table and of its indexes are the live row counts
SELECT relname, reltuples FROM pg_class WHERE oid IN ('v'::regclass, 'v_id'::regclass, 'v_k'::regclass)
ORDER BY relname;
SELECT count(*) FROM v;
SET enable_seqscan = off;
SELECT count(*) FROM v WHERE id > 0;
RESET enable_seqscan;
-- the same rows again fit in the space freed (free space map)
INSERT INTO v SELECT g, g % 10, repeat('v', 100) FROM generate_series(1, 20000) g;
SELECT pg_relation_size('v') <= :size_full AS space_reused;
SELECT count(*), sum(id) FROM v;

-- half the rows deleted: the index keeps exactly the live half
DELETE FROM v WHERE id % 2 = 0;
VACUUM (INDEX_CLEANUP ON) v;
SELECT relname, reltuples FROM pg_class WHERE oid IN ('v'::regclass, 'v_id'::regclass, 'v_k'::regclass)
ORDER BY relname;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT count(*), sum(id) FROM v WHERE id BETWEEN 1 AND 1000;
SELECT count(*) FROM v WHERE k = 3;
SELECT count(*) FROM v WHERE k = 4;   -- all of that group was deleted
RESET enable_seqscan;
RESET enable_bitmapscan;
-- updates leave dead versions behind; after VACUUM every index still finds
-- each live row exactly once, with its latest values
UPDATE v SET k = k + 100 WHERE id % 3 = 0;
UPDATE v SET pad = 'short' WHERE id % 5 = 0;
UPDATE v SET k = k + 100 WHERE id % 3 = 0;
VACUUM v;
SELECT count(*), sum(id), sum(k), sum(length(pad)) FROM v;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT count(*), sum(id), sum(k), sum(length(pad)) FROM v WHERE id > 0;
SELECT count(*), sum(id) FROM v WHERE k = 203;
SET enable_indexscan = off;
SET enable_bitmapscan = on;
SELECT count(*), sum(id) FROM v WHERE k = 203;
RESET enable_seqscan;
RESET enable_bitmapscan;
RESET enable_indexscan;

--
-- VACUUM truncates empty pages at the end of the table
--
-- (a short transaction of another backend -- the storage-event worker's --
-- could keep deleted rows from being removable: rdb_test.wait_quiet() waits,
-- bounded, until no other backend of the database holds a snapshot)
CREATE TABLE tr (id int, pad text) WITH (autovacuum_enabled = false);
INSERT INTO tr SELECT g, repeat('t', 200) FROM generate_series(1, 20000) g;
SELECT pg_relation_size('tr') AS size_full \gset
DELETE FROM tr WHERE id > 10000;
SELECT rdb_test.wait_quiet();
VACUUM tr;
SELECT pg_relation_size('tr') < :size_full * 0.6 AS tail_truncated, count(*) FROM tr;
DELETE FROM tr;
SELECT rdb_test.wait_quiet();
VACUUM tr;
SELECT pg_relation_size('tr') < :size_full * 0.1 AS truncated, count(*) FROM tr;
INSERT INTO tr VALUES (1, 'back');
SELECT * FROM tr;

--
-- freezing and relfrozenxid
--
CREATE TABLE fz (id int, v text) WITH (autovacuum_enabled = false);
INSERT INTO fz SELECT g, 'first' FROM generate_series(1, 1000) g;
SELECT relfrozenxid AS frozen_before FROM pg_class WHERE oid = 'fz'::regclass \gset
-- more rows, each batch in its own transaction, then some transactions
-- that touch nothing, so that the oldest row is many xids old
DO $$
BEGIN
  FOR i IN 1..20 LOOP
    INSERT INTO vacuum_analyze.fz SELECT g, 'batch ' || i FROM generate_series(1, 50) g;
    COMMIT;
  END LOOP;
  FOR i IN 1..20 LOOP
    PERFORM pg_current_xact_id();
    COMMIT;
  END LOOP;
END $$;
UPDATE fz SET v = 'updated' WHERE id <= 10;
SELECT count(*), count(DISTINCT v) FROM fz;
-- no other snapshot may hold the freeze horizon back (the event worker's)
SELECT rdb_test.wait_quiet();
VACUUM (FREEZE) fz;
SELECT age(relfrozenxid) < age(:'frozen_before'::xid) AS relfrozenxid_advanced,
       age(relfrozenxid) <= (SELECT min(age(xmin)) FROM fz) AS older_than_every_row
FROM pg_class WHERE oid = 'fz'::regclass;
-- frozen rows are still visible and can be updated and deleted
SELECT count(*), count(DISTINCT v) FROM fz;
UPDATE fz SET v = 'after freeze' WHERE id = 1;
DELETE FROM fz WHERE id = 2;
SELECT v, count(*) FROM fz WHERE id IN (1, 2) GROUP BY v ORDER BY v;
-- a second freeze, with the just-updated rows, advances it again
SELECT relfrozenxid AS frozen_before FROM pg_class WHERE oid = 'fz'::regclass \gset
DO $$ BEGIN FOR i IN 1..5 LOOP PERFORM pg_current_xact_id(); COMMIT; END LOOP; END $$;
SELECT rdb_test.wait_quiet();
VACUUM (FREEZE, DISABLE_PAGE_SKIPPING) fz;
SELECT age(relfrozenxid) < age(:'frozen_before'::xid) AS relfrozenxid_advanced
FROM pg_class WHERE oid = 'fz'::regclass;
-- an aborted transaction's rows are removed, not frozen
BEGIN;
INSERT INTO fz SELECT g, 'aborted' FROM generate_series(1, 500) g;
ROLLBACK;
VACUUM (FREEZE) fz;
SELECT count(*), count(*) FILTER (WHERE v = 'aborted') AS aborted FROM fz;

--
-- the other VACUUM options all work and change nothing visible
--
CREATE TABLE opt (id int PRIMARY KEY, k int, big text) WITH (autovacuum_enabled = false);
INSERT INTO opt SELECT g, g % 7, CASE WHEN g % 100 = 1 THEN repeat(md5(g::text), 1000) END
FROM generate_series(1, 5000) g;
CREATE INDEX opt_k ON opt (k);
DELETE FROM opt WHERE id % 4 = 0;
SELECT count(*), sum(id), sum(length(big)) FROM opt;
VACUUM (PARALLEL 2) opt;
VACUUM (INDEX_CLEANUP OFF) opt;
VACUUM (INDEX_CLEANUP AUTO) opt;
VACUUM (PROCESS_TOAST false) opt;
VACUUM (SKIP_LOCKED) opt;
VACUUM (DISABLE_PAGE_SKIPPING, TRUNCATE false) opt;
VACUUM ANALYZE opt;
VACUUM (ANALYZE, FREEZE) opt (id, k);
SELECT count(*), sum(id), sum(length(big)) FROM opt;
SET enable_seqscan = off;
SELECT count(*), sum(id) FROM opt WHERE k = 3;
RESET enable_seqscan;
-- temp and unlogged tables
CREATE TEMP TABLE tv (id int);
INSERT INTO tv SELECT generate_series(1, 3000);
DELETE FROM tv WHERE id > 1000;
VACUUM tv;
VACUUM (FREEZE) tv;
SELECT count(*), sum(id) FROM tv;
CREATE UNLOGGED TABLE uv (id int);
INSERT INTO uv SELECT generate_series(1, 3000);
DELETE FROM uv WHERE id > 1000;
VACUUM (FREEZE) uv;
SELECT count(*), sum(id) FROM uv;
-- an empty table
CREATE TABLE ev (id int);
VACUUM ev;
VACUUM (FREEZE, ANALYZE) ev;
SELECT count(*) FROM ev;

--
-- ANALYZE
--
CREATE TABLE st (id int, grp int, maybe int, name text, flag boolean) WITH (autovacuum_enabled = false);
INSERT INTO st
SELECT g, g % 5, CASE WHEN g % 4 = 0 THEN NULL ELSE g % 1000 END, 'name' || (g % 50), g % 3 = 0
FROM generate_series(1, 10000) g;
-- the planner's estimate before any ANALYZE or VACUUM comes from the AM's
-- size estimate; it must be in the right range
CREATE FUNCTION est_rows(q text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO plan;
  RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::numeric;
END $$;
SELECT est_rows('SELECT * FROM st') BETWEEN 5000 AND 20000 AS estimate_sane;
ANALYZE st;
SELECT reltuples, relpages > 0 AS has_pages FROM pg_class WHERE oid = 'st'::regclass;
SELECT est_rows('SELECT * FROM st') AS estimate_after_analyze;
SELECT attname, null_frac, avg_width, n_distinct, most_common_vals, most_common_freqs
FROM pg_stats WHERE schemaname = 'vacuum_analyze' AND tablename = 'st' AND attname IN ('grp', 'flag')
ORDER BY attname;
SELECT attname, null_frac, n_distinct, array_length(histogram_bounds::text::int[], 1) AS n_bounds,
       (histogram_bounds::text::int[])[1:4] AS first_bounds,
       (histogram_bounds::text::int[])[array_length(histogram_bounds::text::int[], 1)] AS last_bound
FROM pg_stats WHERE schemaname = 'vacuum_analyze' AND tablename = 'st' AND attname IN ('id', 'maybe')
ORDER BY attname;
SELECT attname, null_frac, n_distinct, array_length(most_common_vals::text::text[], 1) AS n_mcv
FROM pg_stats WHERE schemaname = 'vacuum_analyze' AND tablename = 'st' AND attname = 'name';
-- estimates from the statistics
SELECT est_rows('SELECT * FROM st WHERE grp = 1') AS grp_1,
       est_rows('SELECT * FROM st WHERE maybe IS NULL') AS maybe_null,
       est_rows('SELECT * FROM st WHERE id < 1001') AS id_lt_1001;
-- dead rows are not sampled: after deleting a group, ANALYZE sees only the rest
DELETE FROM st WHERE grp = 0;
UPDATE st SET flag = NULL WHERE id % 10 = 1;
ANALYZE st;
SELECT reltuples FROM pg_class WHERE oid = 'st'::regclass;
SELECT attname, null_frac, n_distinct, most_common_vals, most_common_freqs
FROM pg_stats WHERE schemaname = 'vacuum_analyze' AND tablename = 'st' AND attname IN ('grp', 'flag')
ORDER BY attname;
-- rows inserted by the analyzing transaction itself are counted, as heap does
BEGIN;
INSERT INTO st SELECT g, 9, 9, 'mine', true FROM generate_series(20001, 25000) g;
ANALYZE st;
SELECT reltuples FROM pg_class WHERE oid = 'st'::regclass;
ROLLBACK;
ANALYZE st;
SELECT reltuples FROM pg_class WHERE oid = 'st'::regclass;
-- ANALYZE of some columns, and of an empty table
ANALYZE st (grp);
ANALYZE ev;
SELECT reltuples FROM pg_class WHERE oid = 'ev'::regclass;
-- a table larger than the sample: reltuples is an estimate, close to the truth
SET default_statistics_target = 10;   -- sample of 3000 rows
CREATE TABLE large (id int, pad text) WITH (autovacuum_enabled = false);
INSERT INTO large SELECT g, repeat('l', 50) FROM generate_series(1, 100000) g;
ANALYZE large;
SELECT reltuples BETWEEN 90000 AND 110000 AS reltuples_close FROM pg_class WHERE oid = 'large'::regclass;
SELECT n_distinct < 0 AS id_looks_unique FROM pg_stats
WHERE schemaname = 'vacuum_analyze' AND tablename = 'large' AND attname = 'id';
RESET default_statistics_target;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA vacuum_analyze CASCADE;
