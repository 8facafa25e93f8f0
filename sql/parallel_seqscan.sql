--
-- parallel_seqscan: parallel sequential scans of a default-AM table.
--
-- Parallelism is forced (zero costs, parallel_workers on the table), the
-- plans are checked to be Parallel Seq Scans under a Gather, and the results
-- must equal the serial scan: a parallel scan that hands a block to two
-- participants, or to none, changes the counts and sums.  With the leader not
-- participating, every row comes through the workers, which must also see the
-- leader's uncommitted changes (same transaction, same command id).
--
CREATE SCHEMA parallel_seqscan;
SET search_path = parallel_seqscan;

CREATE TABLE t (id int, k int, pad text);
INSERT INTO t SELECT g, g % 10, repeat('p', 50) FROM generate_series(1, 200000) g;
ALTER TABLE t SET (parallel_workers = 2);
ANALYZE t;

-- the serial answers
SET max_parallel_workers_per_gather = 0;
SELECT count(*), sum(id), sum(length(pad)) FROM t;
SELECT k, count(*), sum(id) FROM t GROUP BY k ORDER BY k;

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;

-- workers_launched(query): how many workers the Gather of the query's plan
-- actually started (0 would mean the leader did all the work)
CREATE FUNCTION workers_launched(q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  plan json;
BEGIN
  EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, FORMAT JSON) ' || q INTO plan;
  RETURN (SELECT max((p ->> 'Workers Launched')::int)
          FROM jsonb_path_query(plan::jsonb, 'strict $.**') p
          WHERE jsonb_typeof(p) = 'object' AND p ? 'Workers Launched');
END $$;

EXPLAIN (COSTS OFF) SELECT count(*), sum(id), sum(length(pad)) FROM t;
SELECT count(*), sum(id), sum(length(pad)) FROM t;
SELECT workers_launched('SELECT count(*) FROM t') >= 1 AS workers_did_the_scan;

EXPLAIN (COSTS OFF) SELECT k, count(*), sum(id) FROM t GROUP BY k ORDER BY k;
SELECT k, count(*), sum(id) FROM t GROUP BY k ORDER BY k;

-- rows returned through the Gather (no partial aggregate): no duplicates
EXPLAIN (COSTS OFF) SELECT id FROM t WHERE id % 1000 = 7;
SELECT count(*), count(DISTINCT id), sum(id) FROM (SELECT id FROM t WHERE id % 1000 = 7) s;

-- with the leader participating too
SET parallel_leader_participation = on;
SELECT count(*), sum(id), sum(length(pad)) FROM t;
SELECT count(*), count(DISTINCT id), sum(id) FROM (SELECT id FROM t WHERE id % 1000 = 7) s;
SET parallel_leader_participation = off;

-- a parallel hash join of the table with itself
SET enable_mergejoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM t a JOIN t b ON a.id = b.id;
SELECT count(*), sum(a.k + b.k) FROM t a JOIN t b ON a.id = b.id;
RESET enable_mergejoin;
RESET enable_nestloop;

-- the Gather rescanned under a nested loop (parallel scan reinitialized)
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_material = off;
EXPLAIN (COSTS OFF)
SELECT v.x, ss.c FROM (SELECT count(*) AS c, sum(id) AS s FROM t WHERE k > 0) ss
RIGHT JOIN (VALUES (1), (2), (3)) v(x) ON true;
SELECT v.x, ss.c, ss.s FROM (SELECT count(*) AS c, sum(id) AS s FROM t WHERE k > 0) ss
RIGHT JOIN (VALUES (1), (2), (3)) v(x) ON true ORDER BY v.x;
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_material;

-- after deletes and updates, workers see exactly the live versions
DELETE FROM t WHERE id % 3 = 0;
UPDATE t SET k = k + 100 WHERE id % 7 = 0;
SELECT count(*), sum(id), sum(k) FROM t;
SELECT workers_launched('SELECT count(*) FROM t') >= 1 AS workers_did_the_scan;
SET max_parallel_workers_per_gather = 0;
SELECT count(*), sum(id), sum(k) FROM t;
SET max_parallel_workers_per_gather = 2;

-- uncommitted changes of the leader's transaction are visible to workers,
-- and changes undone by a savepoint rollback are not
BEGIN;
DELETE FROM t WHERE id <= 100000;
INSERT INTO t SELECT g, -1, 'new' FROM generate_series(300001, 300100) g;
UPDATE t SET pad = 'changed' WHERE id > 199000;
SAVEPOINT s;
DELETE FROM t WHERE k = -1;
ROLLBACK TO SAVEPOINT s;
EXPLAIN (COSTS OFF) SELECT count(*) FROM t;
SELECT count(*), sum(id), count(*) FILTER (WHERE k = -1) AS inserted,
       count(*) FILTER (WHERE pad = 'changed') AS changed
FROM t;
SELECT workers_launched('SELECT count(*) FROM t') >= 1 AS workers_did_the_scan;
ROLLBACK;
SELECT count(*), sum(id) FROM t;

-- a table smaller than one page (fewer blocks than participants), and an
-- empty one; analyzed, so that the planner's estimate is the row count
CREATE TABLE tiny (id int);
INSERT INTO tiny SELECT generate_series(1, 100);
ALTER TABLE tiny SET (parallel_workers = 2);
ANALYZE tiny;
EXPLAIN (COSTS OFF) SELECT count(*) FROM tiny;
SELECT count(*), sum(id) FROM tiny;
CREATE TABLE empty (id int);
ALTER TABLE empty SET (parallel_workers = 2);
SELECT count(*) FROM empty;

RESET ALL;
RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA parallel_seqscan CASCADE;
