--
-- rustydb_colscan: the columnar custom scan (RustydbScan).  On a table with
-- stripes, plain SELECTs read only the columns they need, skip chunk groups
-- whose bounds (or NULL counts) rule their quals out, and decode the other
-- projected columns only for rows that pass.  Every result is checked
-- against a heap twin that received the same statements; EXPLAIN ANALYZE
-- counters show what was skipped and what was read.
--
SET rustydb.compression = zstd;
SET rustydb.chunk_group_rows = 1000;
SET max_parallel_workers_per_gather = 0;


-- ids 1..5000, flushed 1000 at a time: five stripes of one chunk group
-- each, each group exactly 1000 consecutive ids (however L0 placed the
-- rows).  "maybe" is NULL exactly in the third (ids 2001..3000); "name"
-- sorts differently under "C" and ICU (upper case first in C).
CREATE TABLE cs (
	id int,
	gone1 int,
	grp int,
	name text COLLATE "C",
	name_icu text COLLATE "en-x-icu",
	n numeric,
	js jsonb,
	maybe int,
	gone2 text
) USING rustydb;
ALTER TABLE cs DROP COLUMN gone1;
-- plans below depend on cs's statistics (the flushed share of its rows,
-- the correlation of its columns): only this test's ANALYZE sets them
ALTER TABLE cs SET (autovacuum_enabled = off);
CREATE TABLE cs_twin (LIKE cs) USING heap;
CREATE FUNCTION cs_load(lo int, hi int) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO cs (id, grp, name, name_icu, n, js, maybe, gone2)
	SELECT g, g % 7,
		   CASE WHEN g % 2 = 0 THEN 'k' ELSE 'K' END || (g % 300),
		   CASE WHEN g % 2 = 0 THEN 'k' ELSE 'K' END || (g % 300),
		   CASE WHEN g % 11 = 0 THEN NULL ELSE g * 1.25 END,
		   jsonb_build_object('g', g, 'even', g % 2 = 0),
		   CASE WHEN g BETWEEN 2001 AND 3000 THEN NULL ELSE g END,
		   'gone ' || g
	FROM generate_series(lo, hi) g;
	RETURN hi - lo + 1;
END $$;
SELECT cs_load(1, 1000);
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('cs') AS flushed;
SELECT cs_load(1001, 2000);
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('cs') AS flushed;
SELECT cs_load(2001, 3000);
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('cs') AS flushed;
SELECT cs_load(3001, 4000);
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('cs') AS flushed;
SELECT cs_load(4001, 5000);
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('cs') AS flushed;
INSERT INTO cs_twin SELECT * FROM cs;
SELECT count(*) AS stripes, sum(nrows) AS rows, min(nrows), max(nrows)
  FROM rustydb.stripes('cs');
SELECT l0_rows, flushed_rows FROM rustydb.tables WHERE relation = 'cs'::regclass;
-- after the flush: a dropped column the stripe still holds, two added ones
-- (one with a default the stripe rows never stored)
ALTER TABLE cs DROP COLUMN gone2;
ALTER TABLE cs_twin DROP COLUMN gone2;
ALTER TABLE cs ADD COLUMN added int DEFAULT 7, ADD COLUMN added2 text;
ALTER TABLE cs_twin ADD COLUMN added int DEFAULT 7, ADD COLUMN added2 text;
ANALYZE cs;
ANALYZE cs_twin;

-- cs_check(columns, condition): does the plan use the custom scan, how many
-- rows, and how many differ from the heap twin's answer (both ways)
CREATE FUNCTION cs_check(cols text, cond text,
						 OUT colscan bool, OUT nrows bigint, OUT diff bigint)
LANGUAGE plpgsql AS $$
DECLARE
	q1 text := format('SELECT %s FROM cs WHERE %s', cols, cond);
	q2 text := format('SELECT %s FROM cs_twin WHERE %s', cols, cond);
	line text;
BEGIN
	colscan := false;
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q1 LOOP
		IF line LIKE '%Custom Scan (RustydbScan) on cs%' THEN
			colscan := true;
		END IF;
	END LOOP;
	EXECUTE format('SELECT count(*) FROM (%s) s', q1) INTO nrows;
	EXECUTE format('SELECT count(*) FROM ((%s EXCEPT ALL %s) UNION ALL (%s EXCEPT ALL %s)) d',
				   q1, q2, q2, q1) INTO diff;
END $$;

-- the plan: only the needed columns, the skip quals
EXPLAIN (COSTS OFF) SELECT sum(n) FROM cs;
EXPLAIN (COSTS OFF) SELECT name, count(*) FROM cs GROUP BY name;
EXPLAIN (COSTS OFF) SELECT id, js FROM cs WHERE id BETWEEN 100 AND 200 AND n > 5;
EXPLAIN (COSTS OFF) SELECT * FROM cs WHERE id % 7 = 0;

-- results equal the heap twin's: every qual kind
SELECT * FROM cs_check('*', 'true');
SELECT * FROM cs_check('id, n', 'id = 1234');
SELECT * FROM cs_check('id', 'id < 1500');
SELECT * FROM cs_check('id, name', 'id <= 1000');
SELECT * FROM cs_check('id, js', 'id > 4500');
SELECT * FROM cs_check('id', 'id >= 4001');
SELECT * FROM cs_check('*', 'id BETWEEN 2100 AND 2200');
SELECT * FROM cs_check('id', '1500 > id');
SELECT * FROM cs_check('id', 'id < 1500::bigint');
SELECT * FROM cs_check('id, n', 'id IN (5, 3333, 4999, 99999)');
-- no room for stripe directories: each is read again whenever it is needed
SET rustydb.stripe_meta_cache_size = 0;
SELECT * FROM cs_check('*', 'id BETWEEN 900 AND 4100');
SELECT * FROM cs_check('id, n', 'id IN (5, 3333, 4999, 99999)');
RESET rustydb.stripe_meta_cache_size;
-- ... which costs buffers: a repeated scan reads its three stripes' headers,
-- directories and bounds again without the cache, not with it (no chunk
-- groups kept either: they would hold their stripes' entries)
CREATE TABLE cs_mc (id int, v text) USING rustydb;
INSERT INTO cs_mc SELECT g, 'x' || g FROM generate_series(1, 1000) g;
SELECT rustydb.flush('cs_mc') AS flushed;
INSERT INTO cs_mc SELECT g, 'x' || g FROM generate_series(1001, 2000) g;
SELECT rustydb.flush('cs_mc') AS flushed;
INSERT INTO cs_mc SELECT g, 'x' || g FROM generate_series(2001, 3000) g;
SELECT rustydb.flush('cs_mc') AS flushed;
CREATE FUNCTION cs_buffers(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	j json;
BEGIN
	EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ' || q INTO j;
	RETURN (j->0->'Plan'->>'Shared Hit Blocks')::bigint +
		   (j->0->'Plan'->>'Shared Read Blocks')::bigint;
END $$;
SET rustydb.stripe_cache_size = 0;
SET rustydb.stripe_meta_cache_size = 0;
SELECT cs_buffers('SELECT count(*), sum(id) FROM cs_mc WHERE id > 100') > 0 AS warmed;
SELECT cs_buffers('SELECT count(*), sum(id) FROM cs_mc WHERE id > 100') AS without_cache \gset
RESET rustydb.stripe_meta_cache_size;
SELECT cs_buffers('SELECT count(*), sum(id) FROM cs_mc WHERE id > 100') > 0 AS warmed;
SELECT cs_buffers('SELECT count(*), sum(id) FROM cs_mc WHERE id > 100') AS with_cache \gset
RESET rustydb.stripe_cache_size;
SELECT :without_cache > :with_cache AS cache_saves_reads;
SELECT count(*), sum(id) FROM cs_mc WHERE id > 100;
DROP FUNCTION cs_buffers(text);
DROP TABLE cs_mc;
SELECT * FROM cs_check('id', 'id = ANY (ARRAY[7, NULL])');
SELECT * FROM cs_check('id', 'id = NULL::int');
SELECT * FROM cs_check('id, maybe', 'maybe IS NULL');
SELECT * FROM cs_check('id, maybe', 'maybe IS NOT NULL');
SELECT * FROM cs_check('id, maybe', 'maybe > 2500');
SELECT * FROM cs_check('id', 'id % 7 = 0');
SELECT * FROM cs_check('id, n', 'n > 6000');
SELECT * FROM cs_check('id, n', 'n BETWEEN 100.5 AND 200.25');
SELECT * FROM cs_check('id', 'n IS NULL');
-- text under "C", ICU, and a qual collation other than the column's
SELECT * FROM cs_check('id, name', 'name < ''K2''');
SELECT * FROM cs_check('id, name', 'name BETWEEN ''k100'' AND ''k120''');
SELECT * FROM cs_check('id, name_icu', 'name_icu < ''k2''');
SELECT * FROM cs_check('id, name', 'name < ''k2'' COLLATE "en-x-icu"');
-- "K1" is the C minimum of every group and >= 'k1' under ICU, yet 'k0' < 'k1':
-- bounds in C must not decide an ICU comparison
SELECT * FROM cs_check('id, name', 'name < ''k1'' COLLATE "en-x-icu"');
SELECT * FROM cs_check('id', 'name_icu >= ''l''');
SELECT * FROM cs_check('name', 'name IN (''K1'', ''k2'')');
-- jsonb
SELECT * FROM cs_check('id, js', 'js = ''{"g": 5, "even": false}''');
SELECT * FROM cs_check('id', 'js @> ''{"even": true}''');
SELECT * FROM cs_check('id, js->>''g''', 'js->>''g'' = ''17''');
-- added columns: stripe rows get the default they never stored
SELECT * FROM cs_check('id, added, added2', 'added = 7');
SELECT * FROM cs_check('id', 'added2 IS NULL');
SELECT * FROM cs_check('id', 'added IS NULL');
SELECT count(*), sum(added) FROM cs WHERE added2 IS NULL;
-- aggregates
SELECT sum(n), avg(id), count(maybe) FROM cs;
SELECT name, count(*), sum(n) FROM cs WHERE id > 4900 GROUP BY name ORDER BY name LIMIT 5;
SELECT (SELECT sum(n) FROM cs) = (SELECT sum(n) FROM cs_twin) AS same_sum;

-- EXPLAIN ANALYZE: IS NULL / IS NOT NULL decide groups from their NULL
-- counts: "maybe" is NULL only in the third group
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM cs WHERE maybe IS NULL;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM cs WHERE maybe IS NOT NULL;
-- range quals decide groups from their bounds
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT sum(n) FROM cs WHERE id < 1500;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT sum(n) FROM cs WHERE id IN (5, 4999);
-- text bounds, each in its column's collation
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM cs WHERE name_icu >= 'l';
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM cs WHERE name >= 'l';
-- skipping impossible: no skip qual, a collation other than the bounds'
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM cs WHERE id % 7 = 0;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM cs WHERE name < 'k1' COLLATE "en-x-icu";
-- one stripe of ten chunk groups: fixed-width rows, flushed in id order
CREATE TABLE cs_narrow (id int, v int) USING rustydb;
INSERT INTO cs_narrow SELECT g, g % 100 FROM generate_series(1, 10000) g;
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('cs_narrow') AS flushed;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT sum(v) FROM cs_narrow WHERE id < 1500;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT sum(v) FROM cs_narrow WHERE id BETWEEN 4200 AND 4300;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT sum(v) FROM cs_narrow WHERE id > 20000;
-- v takes every value in every group: nothing to skip
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT sum(id) FROM cs_narrow WHERE v = 5;
SELECT count(*), sum(v) FROM cs_narrow WHERE id < 1500;
SELECT count(*), sum(v) FROM cs_narrow WHERE id BETWEEN 4200 AND 4300;
SELECT count(*), sum(id) FROM cs_narrow WHERE v = 5;
DROP TABLE cs_narrow;

-- a stripe written without bounds (format version 1): only NULL counts decide
CREATE TABLE cs_v1 (id int, maybe int) USING rustydb;
INSERT INTO cs_v1 SELECT g, CASE WHEN g > 1000 THEN g END FROM generate_series(1, 3000) g;
SET rustydb.stripe_format_version = 1;
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('cs_v1') AS flushed;
RESET rustydb.stripe_format_version;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM cs_v1 WHERE id < 500;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM cs_v1 WHERE maybe IS NULL;
SELECT count(*), sum(id) FROM cs_v1 WHERE id < 500 OR maybe IS NULL;
DROP TABLE cs_v1;

-- a parameter: generic plans evaluate it at run time
SET plan_cache_mode = force_generic_plan;
PREPARE cs_p(int) AS SELECT count(*), sum(id) FROM cs WHERE id <= $1;
EXPLAIN (COSTS OFF) EXECUTE cs_p(10);
EXECUTE cs_p(10);
EXECUTE cs_p(2500);
DEALLOCATE cs_p;
RESET plan_cache_mode;

-- mixed L0 and flushed rows; rows deleted and updated after the flush
INSERT INTO cs (id, grp, name, name_icu, n, js, maybe)
SELECT g, g % 7, 'new' || g, 'new' || g, g, '{}', NULL FROM generate_series(5001, 5500) g;
INSERT INTO cs_twin (id, grp, name, name_icu, n, js, maybe)
SELECT g, g % 7, 'new' || g, 'new' || g, g, '{}', NULL FROM generate_series(5001, 5500) g;
DELETE FROM cs WHERE id BETWEEN 3001 AND 3050;
DELETE FROM cs_twin WHERE id BETWEEN 3001 AND 3050;
UPDATE cs SET n = -n, added2 = 'upd' WHERE id % 100 = 0;
UPDATE cs_twin SET n = -n, added2 = 'upd' WHERE id % 100 = 0;
SELECT * FROM cs_check('*', 'true');
SELECT * FROM cs_check('id, n, added2', 'id BETWEEN 2950 AND 3100');
SELECT * FROM cs_check('id, n', 'maybe IS NULL');
SELECT * FROM cs_check('id, name', 'id > 4990');
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*), sum(n) FROM cs WHERE maybe IS NULL;

-- ctid and tableoid come along; the same TIDs as the ordinary scan
CREATE TEMP TABLE cs_tids AS SELECT ctid AS tid, id FROM cs;
SET rustydb.enable_columnar_scan = off;
SELECT count(*) AS tid_diff FROM (SELECT ctid AS tid, id FROM cs EXCEPT SELECT * FROM cs_tids) d;
RESET rustydb.enable_columnar_scan;
SELECT count(*) FROM cs WHERE tableoid = 'cs'::regclass AND id < 10;

-- snapshots: a cursor keeps the snapshot it was declared with while the
-- same transaction deletes; the transaction sees its own uncommitted rows
BEGIN;
DECLARE cs_c CURSOR FOR SELECT count(*), sum(id) FROM cs WHERE id BETWEEN 1 AND 1000;
DELETE FROM cs WHERE id BETWEEN 1 AND 500;
INSERT INTO cs (id, n) VALUES (-1, 1), (-2, 2);
FETCH ALL FROM cs_c;
SELECT count(*), sum(id) FROM cs WHERE id BETWEEN 1 AND 1000;
SELECT count(*), sum(n) FROM cs WHERE id < 0;
ROLLBACK;
SELECT count(*), sum(id) FROM cs WHERE id BETWEEN 1 AND 1000;
-- REPEATABLE READ: the snapshot is taken before another command's delete
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) FROM cs WHERE id <= 100;
SAVEPOINT s;
DELETE FROM cs WHERE id <= 50;
SELECT count(*) FROM cs WHERE id <= 100;
ROLLBACK TO SAVEPOINT s;
SELECT count(*) FROM cs WHERE id <= 100;
COMMIT;

-- where the ordinary scan stays: GUC off, row locks, the other tables of
-- UPDATE/DELETE ... FROM (row marks), whole rows, system columns other than
-- ctid/tableoid, tables without stripes; the target table of UPDATE and
-- DELETE is read by the columnar scan (EvalPlanQual: iso_colscan_epq)
SET rustydb.enable_columnar_scan = off;
EXPLAIN (COSTS OFF) SELECT sum(n) FROM cs;
RESET rustydb.enable_columnar_scan;
EXPLAIN (COSTS OFF) SELECT id FROM cs WHERE id = 1 FOR UPDATE;
EXPLAIN (COSTS OFF) SELECT cs.id FROM cs, cs_twin t WHERE cs.id = t.id AND t.id = 1 FOR UPDATE OF t;
EXPLAIN (COSTS OFF) UPDATE cs_twin t SET n = cs.n FROM cs WHERE cs.id = t.id;
EXPLAIN (COSTS OFF) DELETE FROM cs WHERE id = 1;
EXPLAIN (COSTS OFF) UPDATE cs SET n = n + 1 WHERE id < 3;
-- and they change the same rows as on the heap twin
BEGIN;
UPDATE cs SET n = n + 1 WHERE id % 97 = 3;
UPDATE cs_twin SET n = n + 1 WHERE id % 97 = 3;
DELETE FROM cs WHERE id % 89 = 5;
DELETE FROM cs_twin WHERE id % 89 = 5;
SELECT count(*) AS rows_that_differ
  FROM cs FULL JOIN cs_twin t USING (id) WHERE cs.n IS DISTINCT FROM t.n;
ROLLBACK;
EXPLAIN (COSTS OFF) SELECT cs FROM cs;
EXPLAIN (COSTS OFF) SELECT xmin FROM cs;
CREATE TABLE cs_l0 (id int) USING rustydb;
INSERT INTO cs_l0 VALUES (1);
EXPLAIN (COSTS OFF) SELECT * FROM cs_l0;
DROP TABLE cs_l0;
-- INSERT ... SELECT reads with it
CREATE TABLE cs_copy (id int, n numeric) USING heap;
EXPLAIN (COSTS OFF) INSERT INTO cs_copy SELECT id, n FROM cs WHERE maybe IS NULL;
INSERT INTO cs_copy SELECT id, n FROM cs WHERE maybe IS NULL;
SELECT count(*), sum(n) FROM cs_copy;
SELECT count(*), sum(n) FROM cs_twin WHERE maybe IS NULL;
DROP TABLE cs_copy;
-- a join: the scan under a nested loop is rescanned
SET enable_hashjoin = off; SET enable_mergejoin = off; SET enable_material = off;
EXPLAIN (COSTS OFF)
SELECT v.x, count(*) FROM (VALUES (1), (2)) v(x), cs WHERE cs.grp = v.x AND cs.id < 2000 GROUP BY v.x;
SELECT v.x, count(*) FROM (VALUES (1), (2)) v(x), cs WHERE cs.grp = v.x AND cs.id < 2000 GROUP BY v.x ORDER BY 1;
SELECT v.x, count(*) FROM (VALUES (1), (2)) v(x), cs_twin cs WHERE cs.grp = v.x AND cs.id < 2000 GROUP BY v.x ORDER BY 1;
RESET enable_hashjoin; RESET enable_mergejoin; RESET enable_material;

-- LATERAL: the scan is rescanned with a new parameter value each time, and
-- decides its chunk groups again for it
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT * FROM (VALUES (5), (1500), (4500), (99999)) s(s),
	LATERAL (SELECT count(*), sum(id) FROM cs WHERE cs.id < s.s AND cs.id <= 5000) x;
SELECT * FROM (VALUES (5), (1500), (4500), (99999)) s(s),
	LATERAL (SELECT count(*), sum(id) FROM cs WHERE cs.id < s.s AND cs.id <= 5000) x;
SELECT * FROM (VALUES (5), (1500), (4500), (99999)) s(s),
	LATERAL (SELECT count(*), sum(id) FROM cs_twin cs WHERE cs.id < s.s AND cs.id <= 5000) x;

-- ColumnScanned: one event per column read, with the rows read; skipped
-- chunk groups are not read
SELECT coalesce(max(seq), 0) AS seq0 FROM rustydb.events \gset
SELECT count(*) FROM cs WHERE maybe IS NULL AND n > 0;
-- late column n: decoded only for flushed rows that pass (L0 rows count for
-- every column they were deformed for)
SELECT sum(n) FROM cs WHERE id < 1500;
SELECT sum(n) FROM cs_twin WHERE id < 1500;
SELECT payload->'data'->variant->>'table_name' AS table_name,
	   payload->'data'->variant->>'column_name' AS column_name,
	   payload->'data'->variant->>'rows_scanned' AS rows_scanned,
	   (payload->'data'->variant->>'duration_ms')::int >= 0 AS has_duration
  FROM rustydb.events WHERE relation = 'cs'::regclass AND variant = 'ColumnScanned'
   AND seq > :seq0
 ORDER BY seq;
-- EXPLAIN without ANALYZE scans nothing and says nothing
EXPLAIN (COSTS OFF) SELECT count(*) FROM cs WHERE id > 0;
SELECT count(*) FROM rustydb.events WHERE relation = 'cs'::regclass
   AND variant = 'ColumnScanned' AND seq > :seq0;

-- row-level security: no skipping (which chunk groups a qual skips would
-- reveal bounds of rows the policy hides); the policy's rows come out
CREATE ROLE cs_reader;
GRANT SELECT ON cs TO cs_reader;
CREATE POLICY cs_even ON cs FOR SELECT TO cs_reader USING (id % 2 = 0);
ALTER TABLE cs ENABLE ROW LEVEL SECURITY;
SET ROLE cs_reader;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM cs WHERE id < 1500;
SELECT count(*), sum(id) FROM cs WHERE id < 1500;
RESET ROLE;
SELECT count(*), sum(id) FROM cs_twin WHERE id < 1500 AND id % 2 = 0;
ALTER TABLE cs DISABLE ROW LEVEL SECURITY;
DROP POLICY cs_even ON cs;
REVOKE SELECT ON cs FROM cs_reader;
DROP ROLE cs_reader;

-- parallel: the same answers through Gather
ALTER TABLE cs SET (parallel_workers = 2);
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT count(*), sum(n) FROM cs WHERE id > 100;
SELECT count(*), sum(n), sum(id) FROM cs WHERE id > 100;
SELECT count(*), sum(n), sum(id) FROM cs_twin WHERE id > 100;
SELECT name, count(*) FROM cs WHERE maybe IS NULL GROUP BY name ORDER BY 2 DESC, 1 LIMIT 3;
SELECT name, count(*) FROM cs_twin WHERE maybe IS NULL GROUP BY name ORDER BY 2 DESC, 1 LIMIT 3;
SET parallel_leader_participation = off;
SELECT coalesce(max(seq), 0) AS seq1 FROM rustydb.events \gset
SELECT count(*), sum(n), sum(id) FROM cs WHERE id > 100;
-- the leader reports the workers' rows (whether or not workers could start)
SELECT payload->'data'->variant->>'column_name' AS column_name,
	   payload->'data'->variant->>'rows_scanned' AS rows_scanned
  FROM rustydb.events WHERE relation = 'cs'::regclass AND variant = 'ColumnScanned'
   AND seq > :seq1
 ORDER BY seq;
RESET parallel_leader_participation;
RESET parallel_setup_cost; RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size; RESET max_parallel_workers_per_gather;

-- The planner predicts what skipping leaves to read.  ANALYZE (in the
-- blocks it samples) and VACUUM (in all) record in the metapage the share of
-- rows that are flushed; a qual on a column whose values follow the rows'
-- order (pg_stats.correlation) then costs the scan what it will read, and a
-- parallel plan no longer looks cheaper than a scan that skips 99 % of the
-- table.  Without statistics, for a column in no order, or with half the
-- rows in L0 (always read), the parallel plan stays.
CREATE TABLE cs_pred (id int, v int, pad text) USING rustydb;
ALTER TABLE cs_pred SET (autovacuum_enabled = off);
INSERT INTO cs_pred SELECT g, (g::bigint * 7919 % 100000)::int, repeat('x', 20)
  FROM generate_series(1, 300000) g;
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('cs_pred') AS flushed;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
CREATE FUNCTION cs_pred_plan(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		IF line ~ 'Gather' THEN
			RETURN 'parallel';
		END IF;
	END LOOP;
	RETURN 'serial';
END $$;
EXPLAIN (COSTS OFF) SELECT count(*), sum(v) FROM cs_pred WHERE id BETWEEN 297001 AND 300000;
ANALYZE cs_pred;
EXPLAIN (COSTS OFF) SELECT count(*), sum(v) FROM cs_pred WHERE id BETWEEN 297001 AND 300000;
SELECT cs_pred_plan('SELECT count(*), sum(v) FROM cs_pred WHERE v > 99000') AS v_in_no_order;
-- half the rows in L0
INSERT INTO cs_pred SELECT g, (g::bigint * 7919 % 100000)::int, repeat('x', 20)
  FROM generate_series(300001, 600000) g;
ANALYZE cs_pred;
SELECT cs_pred_plan('SELECT count(*), sum(v) FROM cs_pred WHERE id BETWEEN 297001 AND 300000') AS half_in_l0;
-- flushed again: VACUUM counts every row
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('cs_pred') AS flushed;
VACUUM cs_pred;
SELECT cs_pred_plan('SELECT count(*), sum(v) FROM cs_pred WHERE id BETWEEN 297001 AND 300000') AS all_flushed;
SELECT count(*), sum(v) FROM cs_pred WHERE id BETWEEN 297001 AND 300000;
SELECT count(*), sum(v) FROM cs_pred WHERE v > 99000;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
DROP FUNCTION cs_pred_plan(text);
DROP TABLE cs_pred;

-- Stubs that jump between stripes: pages that never retire (TOASTed values)
-- whose holes later flushes filled, so neighbouring stubs name rows of
-- three stripes.  The columnar scan decoded whole chunks again at each
-- jump (5.3 s against 41 ms for the plain scan on 106,666 such rows); it
-- now forms such stubs row by row (EXPLAIN VERBOSE: Stub Rows Formed),
-- with the same answers as the plain scan and as heap.
CREATE TABLE cs_scat (id int PRIMARY KEY, k int, v text, n numeric)
  USING rustydb WITH (flush_rows = 0, stripe_rows = 100000, chunk_group_rows = 1000,
                      autovacuum_enabled = off);
ALTER TABLE cs_scat ALTER v SET STORAGE EXTERNAL;
CREATE TABLE cs_scat_twin (LIKE cs_scat) USING heap;
CREATE FUNCTION cs_scat_both(q text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format(q, 'cs_scat');
	EXECUTE format(q, 'cs_scat_twin');
END $$;
SELECT cs_scat_both('INSERT INTO %I SELECT g, g %% 100, repeat(md5(g::text), 80), g / 7.0 FROM generate_series(1, 8000) g');
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('cs_scat') AS flushed;
SELECT cs_scat_both('DELETE FROM %I WHERE id %% 2 = 0');
VACUUM cs_scat;
SELECT cs_scat_both('INSERT INTO %I SELECT g, g %% 100, repeat(md5(g::text), 80), g / 7.0 FROM generate_series(20001, 24000) g');
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('cs_scat') AS flushed;
SELECT cs_scat_both('DELETE FROM %I WHERE id %% 3 = 0');
VACUUM cs_scat;
SELECT cs_scat_both('INSERT INTO %I SELECT g, g %% 100, repeat(md5(g::text), 80), g / 7.0 FROM generate_series(30001, 33000) g');
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('cs_scat') AS flushed;
SELECT count(*) AS stripes FROM rustydb.stripes('cs_scat');
SELECT l0_pages > 0 AS pages_kept, retired_generations FROM rustydb.l0_layout('cs_scat');
CREATE FUNCTION cs_scat_formed(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
	EXECUTE 'EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) ' || q INTO j;
	RETURN (SELECT (p->>'Stub Rows Formed')::bigint
	          FROM json_array_elements(j) e,
	               LATERAL (SELECT e->'Plan' AS p UNION ALL
	                        SELECT e->'Plan'->'Plans'->0) x
	         WHERE p->>'Stub Rows Formed' IS NOT NULL);
END $$;
SELECT cs_scat_formed('SELECT count(*), sum(k), max(n) FROM cs_scat') > 0 AS formed_row_by_row;
SELECT count(*), sum(k), max(n), md5(string_agg(v, '' ORDER BY id)) FROM cs_scat;
SELECT count(*), sum(k), max(n), md5(string_agg(v, '' ORDER BY id)) FROM cs_scat_twin;
SELECT count(*), sum(k) FROM cs_scat WHERE n > 3000;
SELECT count(*), sum(k) FROM cs_scat_twin WHERE n > 3000;
DROP FUNCTION cs_scat_formed(text);
DROP FUNCTION cs_scat_both(text);
DROP TABLE cs_scat, cs_scat_twin;

-- The stripe summary (stripe.h, on each stripe's first page: its NULLs and
-- bounds per column): a stripe whose every row the quals rule out by it is
-- passed over from that page alone, never opened (colscan.c,
-- colscan_summary_skipped); its directory and chunk bounds are not read.
-- Three stripes of 50 chunk groups (and the rows of the last page in a
-- fourth): k one value per 1,000 ids (a multiple of 1000), t NULL for the
-- second 50,000 ids only, z NULL but for the last 50,000.
CREATE TABLE cs_sum (id int, k int, a int, b int, t text, z int) USING rustydb
  WITH (stripe_rows = 50000, chunk_group_rows = 1000, flush_rows = 0,
        autovacuum_enabled = off);
CREATE TABLE cs_sum_twin (LIKE cs_sum) USING heap;
INSERT INTO cs_sum SELECT g, (g - 1) / 1000 * 1000, g % 97, g % 13,
       CASE WHEN g BETWEEN 50001 AND 100000 THEN NULL ELSE 'v' || g END,
       CASE WHEN g > 100000 THEN g END
  FROM generate_series(1, 150000) g;
INSERT INTO cs_sum_twin SELECT * FROM cs_sum;
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('cs_sum') AS flushed;
SELECT count(*) AS stripes, min(chunk_groups) AS groups FROM rustydb.stripes('cs_sum');
CREATE FUNCTION cs_sum_check(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE a text; b text;
BEGIN
	EXECUTE format('SELECT r::text FROM (' || q || ') r', 'cs_sum') INTO a;
	EXECUTE format('SELECT r::text FROM (' || q || ') r', 'cs_sum_twin') INTO b;
	RETURN CASE WHEN a IS NOT DISTINCT FROM b THEN a ELSE 'DIFFERENT: ' || a || ' / ' || b END;
END $$;
CREATE FUNCTION cs_sum_explain(q text, what text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
	EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ' || q INTO j;
	IF what = 'buffers' THEN
		RETURN (j->0->'Plan'->>'Shared Hit Blocks')::bigint +
			   (j->0->'Plan'->>'Shared Read Blocks')::bigint;
	END IF;
	RETURN (SELECT (p->>what)::bigint
	          FROM (SELECT j->0->'Plan' AS p UNION ALL
	                SELECT j->0->'Plan'->'Plans'->0) x
	         WHERE p->>what IS NOT NULL);
END $$;
EXPLAIN (COSTS OFF) SELECT count(*) FROM cs_sum WHERE id > 200000;
-- every stripe ruled out by its summary, against every stripe opened and
-- (nearly) every chunk group ruled out by its own bounds (k IN: each
-- stripe's range holds one of the values, groups rarely do): as many
-- groups skipped, but the second reads each stripe's directory, bounds and
-- last page.  Without the backend's stripe cache, as in a new connection.
SELECT cs_sum_explain('SELECT count(*) FROM cs_sum WHERE id > 200000', 'Chunk Groups Skipped') AS by_summary,
       cs_sum_explain('SELECT count(*) FROM cs_sum WHERE k IN (500, 50500, 100500)', 'Chunk Groups Skipped') +
       cs_sum_explain('SELECT count(*) FROM cs_sum WHERE k IN (500, 50500, 100500)', 'Chunk Groups Scanned') AS all_groups;
SET rustydb.stripe_meta_cache_size = 0;
SET rustydb.stripe_cache_size = 0;
-- (an invalidation: the backend forgets what it cached of the table; then
-- what a scan reads once per backend, the directory's own blocks)
ALTER TABLE cs_sum SET (autovacuum_enabled = off);
SELECT count(*) FROM cs_sum WHERE k IN (500, 50500, 100500);
SELECT cs_sum_explain('SELECT count(*) FROM cs_sum WHERE k IN (500, 50500, 100500)', 'buffers') -
       cs_sum_explain('SELECT count(*) FROM cs_sum WHERE id > 200000', 'buffers') >= 3 * 3
       AS summary_spares_the_stripes;
RESET rustydb.stripe_cache_size;
RESET rustydb.stripe_meta_cache_size;
-- at the bounds, NULLs, IN lists, NULL arguments: as heap
SELECT q, cs_sum_check(q) FROM (VALUES
	('SELECT count(*) FROM %I WHERE id < 1'),
	('SELECT count(*) FROM %I WHERE id <= 1'),
	('SELECT count(*) FROM %I WHERE id >= 150000'),
	('SELECT count(*) FROM %I WHERE id > 150000'),
	('SELECT count(*), sum(a) FROM %I WHERE id = 50000'),
	('SELECT count(*), sum(a) FROM %I WHERE id = 50001'),
	('SELECT count(*), sum(a) FROM %I WHERE id BETWEEN 49999 AND 50002'),
	('SELECT count(*), sum(b) FROM %I WHERE k = 49000'),
	('SELECT count(*), sum(b) FROM %I WHERE k > 148000'),
	('SELECT count(*) FROM %I WHERE t IS NULL'),
	('SELECT count(*) FROM %I WHERE t IS NULL AND id < 50000'),
	('SELECT count(*) FROM %I WHERE t IS NOT NULL AND id BETWEEN 50001 AND 100000'),
	('SELECT count(*), max(t) FROM %I WHERE t > ''v99999'''),
	('SELECT count(*), min(t) FROM %I WHERE t < ''v10'''),
	('SELECT count(*) FROM %I WHERE z IS NOT NULL'),
	('SELECT count(*) FROM %I WHERE z IS NULL'),
	('SELECT count(*), sum(z) FROM %I WHERE z < 100005'),
	('SELECT count(*) FROM %I WHERE id IN (0, 150001)'),
	('SELECT count(*), sum(a) FROM %I WHERE id IN (0, 75000)'),
	('SELECT count(*) FROM %I WHERE id > NULL::int'),
	('SELECT count(*) FROM %I WHERE id = ANY (''{}''::int[])')
) v(q);
-- a rescan with another value decides every stripe again
SELECT v, (SELECT count(*) FROM cs_sum WHERE id > v) AS n,
       (SELECT count(*) FROM cs_sum_twin WHERE id > v) AS n_twin
  FROM (VALUES (0), (149990), (200000), (-1), (100000)) x(v);
-- a column added after the stripes were written never rules them out
ALTER TABLE cs_sum ADD COLUMN c int DEFAULT 5;
ALTER TABLE cs_sum_twin ADD COLUMN c int DEFAULT 5;
SELECT q, cs_sum_check(q) FROM (VALUES
	('SELECT count(*) FROM %I WHERE c = 5'),
	('SELECT count(*) FROM %I WHERE c IS NULL'),
	('SELECT count(*) FROM %I WHERE c > 5 OR id < 3')
) v(q);
DROP FUNCTION cs_sum_check(text);
DROP FUNCTION cs_sum_explain(text, text);
DROP TABLE cs_sum, cs_sum_twin;

DROP FUNCTION cs_check(text, text);
DROP FUNCTION cs_load(int, int);
DROP TABLE cs, cs_twin;
