--
-- tablesample: TABLESAMPLE SYSTEM and BERNOULLI on a default-AM table.
--
-- Which rows a sample picks depends on the physical layout (SYSTEM picks
-- blocks, BERNOULLI hashes block and offset), so only layout-free properties
-- are checked: 100 % returns every visible row exactly once, 0 % none, a
-- REPEATABLE seed gives the same sample twice, a partial sample is a subset
-- of the table of plausible size, and dead or aborted rows are never sampled.
--
CREATE SCHEMA tablesample_test;
SET search_path = tablesample_test;

CREATE TABLE t (id int, pad text);
INSERT INTO t SELECT g, repeat('s', 100) FROM generate_series(1, 20000) g;

EXPLAIN (COSTS OFF) SELECT count(*) FROM t TABLESAMPLE SYSTEM (50) REPEATABLE (1);

-- everything and nothing
SELECT count(*), sum(id), count(DISTINCT id) FROM t TABLESAMPLE BERNOULLI (100);
SELECT count(*), sum(id), count(DISTINCT id) FROM t TABLESAMPLE SYSTEM (100);
SELECT count(*) FROM t TABLESAMPLE BERNOULLI (0);
SELECT count(*) FROM t TABLESAMPLE SYSTEM (0);
SELECT count(*), sum(id) FROM t TABLESAMPLE BERNOULLI (100) REPEATABLE (7);

-- partial samples: a plausible size, only real rows, no duplicates
SELECT count(*) BETWEEN 9000 AND 11000 AS bernoulli_50_plausible,
       count(*) = count(DISTINCT id) AS no_duplicates,
       bool_and(id BETWEEN 1 AND 20000 AND pad = repeat('s', 100)) AS real_rows
FROM t TABLESAMPLE BERNOULLI (50) REPEATABLE (42);
SELECT count(*) BETWEEN 1000 AND 3000 AS bernoulli_10_plausible
FROM t TABLESAMPLE BERNOULLI (10) REPEATABLE (3);
SELECT count(*) BETWEEN 4000 AND 16000 AS system_50_plausible,
       count(*) = count(DISTINCT id) AS no_duplicates,
       bool_and(id BETWEEN 1 AND 20000 AND pad = repeat('s', 100)) AS real_rows
FROM t TABLESAMPLE SYSTEM (50) REPEATABLE (42);
SELECT count(*) < 20000 AS system_10_partial
FROM t TABLESAMPLE SYSTEM (10) REPEATABLE (3);

-- the same seed gives the same sample; the sample with SYSTEM is whole
-- blocks, so it equals the rows of the blocks it touched
CREATE TEMP TABLE s1 AS SELECT id FROM t TABLESAMPLE BERNOULLI (30) REPEATABLE (11);
CREATE TEMP TABLE s2 AS SELECT id FROM t TABLESAMPLE BERNOULLI (30) REPEATABLE (11);
SELECT (SELECT count(*) FROM s1) > 0 AS nonempty,
       NOT EXISTS (SELECT id FROM s1 EXCEPT SELECT id FROM s2)
       AND NOT EXISTS (SELECT id FROM s2 EXCEPT SELECT id FROM s1) AS same_sample;
CREATE TEMP TABLE y1 AS SELECT id, ctid AS tid FROM t TABLESAMPLE SYSTEM (30) REPEATABLE (11);
CREATE TEMP TABLE y2 AS SELECT id FROM t TABLESAMPLE SYSTEM (30) REPEATABLE (11);
SELECT (SELECT count(*) FROM y1) > 0 AS nonempty,
       NOT EXISTS (SELECT id FROM y1 EXCEPT SELECT id FROM y2)
       AND NOT EXISTS (SELECT id FROM y2 EXCEPT SELECT id FROM y1) AS same_sample;
SELECT (SELECT count(*) FROM y1) =
       (SELECT count(*) FROM t
        WHERE (ctid::text::point)[0] IN (SELECT DISTINCT (tid::text::point)[0] FROM y1)) AS whole_blocks;

-- a sample inside a join is rescanned with the same result
SELECT count(*) BETWEEN 9000 AND 11000 AS plausible, count(*) = count(DISTINCT t.id) AS no_duplicates
FROM (VALUES (1)) v(x)
CROSS JOIN LATERAL (SELECT id FROM t TABLESAMPLE BERNOULLI (50) REPEATABLE (5) WHERE v.x = 1) t;
SELECT count(DISTINCT c) AS distinct_counts
FROM (VALUES (1), (2), (3)) v(x)
CROSS JOIN LATERAL (SELECT count(*) AS c FROM t TABLESAMPLE SYSTEM (40) REPEATABLE (9) WHERE v.x > 0) s;

-- deleted, updated and aborted rows
DELETE FROM t WHERE id % 2 = 0;
BEGIN;
INSERT INTO t SELECT g, 'aborted' FROM generate_series(20001, 30000) g;
ROLLBACK;
UPDATE t SET pad = 'updated' WHERE id % 5 = 1;
SELECT count(*), sum(id), count(DISTINCT id), count(*) FILTER (WHERE pad = 'updated') AS updated
FROM t TABLESAMPLE BERNOULLI (100);
SELECT count(*), sum(id), count(DISTINCT id), count(*) FILTER (WHERE pad = 'updated') AS updated
FROM t TABLESAMPLE SYSTEM (100);
SELECT bool_and(id % 2 = 1) AS only_live, count(*) = count(DISTINCT id) AS no_duplicates
FROM t TABLESAMPLE SYSTEM (50) REPEATABLE (8);
SELECT bool_and(id % 2 = 1) AS only_live, count(*) = count(DISTINCT id) AS no_duplicates
FROM t TABLESAMPLE BERNOULLI (50) REPEATABLE (8);
-- the transaction's own uncommitted changes are sampled
BEGIN;
DELETE FROM t WHERE id <= 1000;
INSERT INTO t VALUES (-1, 'mine');
SELECT count(*), count(*) FILTER (WHERE id = -1) AS mine FROM t TABLESAMPLE BERNOULLI (100);
ROLLBACK;

-- an empty table
CREATE TABLE e (id int);
SELECT count(*) FROM e TABLESAMPLE SYSTEM (100);
SELECT count(*) FROM e TABLESAMPLE BERNOULLI (100);

-- bad arguments
SELECT count(*) FROM t TABLESAMPLE BERNOULLI (101);
SELECT count(*) FROM t TABLESAMPLE SYSTEM (-1);

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA tablesample_test CASCADE;
