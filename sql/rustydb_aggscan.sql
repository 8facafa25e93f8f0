--
-- rustydb_aggscan: aggregate pushdown (RustydbAgg).  Plain aggregates (no
-- GROUP BY) over the columnar scan are computed by one node fed with the
-- scan's rows, in batches for retired generations: natively for count,
-- sum/avg of integers and min/max of integer-like types, through the
-- aggregate's own functions for the others.  Every answer is compared with
-- the same query with the pushdown off and with a heap twin; EXPLAIN shows
-- where the node is used and where it is not.
--
SET rustydb.compression = zstd;
SET rustydb.chunk_group_rows = 1000;
SET max_parallel_workers_per_gather = 0;


CREATE TABLE ag (
	id int,
	gone int,
	i2 smallint,
	i4 int,
	i8 bigint,
	n numeric,
	t text COLLATE "C",
	d date,
	ts timestamp,
	tz timestamptz,
	tm time,
	f float8,
	b bool
) USING rustydb;
ALTER TABLE ag DROP COLUMN gone;
CREATE TABLE ag_twin (LIKE ag) USING heap;

-- NULLs in every column now and then, int8 values whose sum leaves int64,
-- int4 values near the type's ends
CREATE FUNCTION ag_load(lo int, hi int) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO ag
	SELECT g,
		   CASE WHEN g % 13 = 0 THEN NULL ELSE (g % 30000 - 15000)::smallint END,
		   CASE WHEN g % 17 = 0 THEN NULL
				WHEN g % 1000 = 1 THEN 2147483647 - g
				WHEN g % 1000 = 2 THEN -2147483647 + g
				ELSE g * 3 - 5000 END,
		   CASE WHEN g % 19 = 0 THEN NULL ELSE 9223372036854775807 - g * 7 END,
		   CASE WHEN g % 23 = 0 THEN NULL ELSE g * 1.25 - 100 END,
		   CASE WHEN g % 29 = 0 THEN NULL ELSE 'v' || (g % 997) END,
		   CASE WHEN g % 31 = 0 THEN NULL ELSE date '2024-01-01' + g % 400 END,
		   CASE WHEN g % 37 = 0 THEN NULL ELSE timestamp '2024-01-01' + g * interval '61 seconds' END,
		   CASE WHEN g % 41 = 0 THEN NULL ELSE timestamptz '2024-01-01 00:00+00' - g * interval '3 minutes' END,
		   CASE WHEN g % 43 = 0 THEN NULL ELSE time '00:00' + g * interval '7 seconds' END,
		   CASE WHEN g % 47 = 0 THEN NULL ELSE g / 8.0 END,
		   CASE WHEN g % 53 = 0 THEN NULL ELSE g % 5 <> 0 END
	FROM generate_series(lo, hi) g;
	RETURN hi - lo + 1;
END $$;

-- ag_check(select list[, condition]): the aggregates over ag with the
-- pushdown, over ag without it, and over the heap twin; whether the plan
-- used RustydbAgg; the answer (when all three agree)
CREATE FUNCTION ag_check(sel text, cond text DEFAULT 'true',
						 OUT pushed bool, OUT same bool, OUT answer text)
LANGUAGE plpgsql AS $$
DECLARE
	q text := format('SELECT t::text FROM (SELECT %s FROM %%I WHERE %s) t',
					 replace(sel, '%', '%%'), replace(cond, '%', '%%'));
	r_on text;
	r_off text;
	r_heap text;
	line text;
BEGIN
	pushed := false;
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || format(q, 'ag') LOOP
		IF line LIKE '%Custom Scan (RustydbAgg)%' THEN
			pushed := true;
		END IF;
	END LOOP;
	EXECUTE format(q, 'ag') INTO r_on;
	SET LOCAL rustydb.enable_aggregate_pushdown = off;
	EXECUTE format(q, 'ag') INTO r_off;
	SET LOCAL rustydb.enable_aggregate_pushdown = on;
	EXECUTE format(q, 'ag_twin') INTO r_heap;
	same := r_on IS NOT DISTINCT FROM r_off AND r_on IS NOT DISTINCT FROM r_heap;
	answer := CASE WHEN same THEN r_on
				   ELSE format('pushed %s, not pushed %s, heap %s', r_on, r_off, r_heap) END;
END $$;

-- no stripes yet: the columnar scan is not offered, nor the pushdown
SELECT ag_load(1, 1500);
SELECT pushed FROM ag_check('count(*), sum(i4)');

-- three flushes (retired pages), then rows that stay in L0, updates and
-- deletes of flushed rows (stubs, revived pages), and a VACUUM
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('ag') > 0 AS flushed;
SELECT ag_load(1501, 3000);
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('ag') > 0 AS flushed;
SELECT ag_load(3001, 4500);
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('ag') > 0 AS flushed;
SELECT ag_load(4501, 5000);
UPDATE ag SET i4 = i4 + 1, n = n * 2 WHERE id % 101 = 0;
DELETE FROM ag WHERE id % 97 = 0;
INSERT INTO ag_twin SELECT * FROM ag;
SELECT rdb_test.wait_quiet();
VACUUM ag;
SELECT count(*) > 0 AS has_stripes FROM rustydb.stripes('ag');
SELECT l0_rows > 0 AS has_l0_rows, flushed_rows > 0 AS has_flushed_rows
  FROM rustydb.tables WHERE relation = 'ag'::regclass;
ANALYZE ag;
ANALYZE ag_twin;

-- the plan
EXPLAIN (COSTS OFF, VERBOSE)
SELECT count(*), sum(i4), avg(n), max(tz) FROM ag;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM ag WHERE i4 > 10000;

-- native aggregates, type by type
SELECT * FROM ag_check('count(*), count(i2), count(t), count(b)');
SELECT * FROM ag_check('sum(i2), sum(i4), sum(i8)');
SELECT * FROM ag_check('avg(i2), avg(i4), avg(i8)');
SELECT * FROM ag_check('min(i2), max(i2), min(i4), max(i4), min(i8), max(i8)');
SELECT * FROM ag_check('min(d), max(d), min(ts), max(ts), min(tz), max(tz), min(tm), max(tm)');
-- through the aggregates' own functions
SELECT * FROM ag_check('sum(n), avg(n), min(n), max(n)');
SELECT * FROM ag_check('min(t), max(t), bool_and(b), bool_or(b), every(b)');
SELECT * FROM ag_check('sum(f), avg(f), min(f), max(f)');
SELECT * FROM ag_check('stddev(i4), variance(n), covar_pop(f, f), regr_count(f, f)');
-- numeric sum/avg/variance pass NULL inputs over without a call (their
-- transition functions are not strict): rows that are all NULL, or one
-- value among NULLs, give what the Aggregate node gives
SELECT * FROM ag_check('count(*), sum(n), avg(n), stddev(n), variance(n), var_pop(n)', 'n IS NULL');
SELECT * FROM ag_check('count(*), sum(n), avg(n), stddev(n), variance(n), var_pop(n)', 'n IS NULL OR id = 100');
SELECT * FROM ag_check('max(t) IS NULL, count(*) + 1, sum(i4) / 2, avg(i8)::int8 % 1000');
-- an aggregate's order of input: the scan's order, the same either way
SELECT * FROM ag_check('md5(array_agg(id)::text)', 'id < 4000');
-- no row at all: count 0, the others NULL
SELECT * FROM ag_check('count(*), count(i4), sum(i4), sum(i8), avg(i2), min(ts), max(d), sum(n), min(t)',
					   'i4 < -2147483647');
-- with quals: skipped chunk groups, late and filter columns
SELECT * FROM ag_check('count(*), sum(i8), max(ts)', 'id > 4200');
SELECT * FROM ag_check('count(*), avg(n)', 'i4 BETWEEN 1000 AND 2000');
SELECT * FROM ag_check('count(*), min(t)', 't LIKE ''v1%''');
SELECT * FROM ag_check('count(i2), sum(i2)', 'b');
-- quals the scan evaluates in bulk on decoded columns: integer types
-- against each other, dates and times against their own type, NULL tests
SELECT * FROM ag_check('count(*), sum(i4), min(t)', 'i2 > -14000 AND d >= ''2024-06-01''');
SELECT * FROM ag_check('count(*), max(id)', 'i8 < 9223372036854760000 AND tz IS NOT NULL');
SELECT * FROM ag_check('count(*), min(id), max(id)', 'ts IS NULL');
SELECT * FROM ag_check('count(*), sum(id)', 'tm > ''05:00'' AND i4 <= 3000::int8');
SELECT * FROM ag_check('count(*), sum(i2)', 'i2 = -14000::int2 OR i2 = -13000');

-- DISTINCT: integer-like types through a bitmap or a hash set, the others (text,
-- numeric, float: equality is not their bits) through a sort
SELECT * FROM ag_check('count(DISTINCT i2), count(DISTINCT i4), count(DISTINCT i8), count(DISTINCT b)');
SELECT * FROM ag_check('count(DISTINCT d), count(DISTINCT ts), count(DISTINCT tz), count(DISTINCT tm)');
SELECT * FROM ag_check('count(DISTINCT t), count(DISTINCT n), count(DISTINCT f)');
SELECT * FROM ag_check('sum(DISTINCT i2), sum(DISTINCT i4), sum(DISTINCT i8), avg(DISTINCT i2), avg(DISTINCT i8)');
SELECT * FROM ag_check('min(DISTINCT i4), max(DISTINCT d), count(DISTINCT b), count(*)');
SELECT * FROM ag_check('count(*), sum(i4), count(DISTINCT i2), count(DISTINCT t)', 'id > 4200');
SELECT * FROM ag_check('count(DISTINCT i4), sum(DISTINCT i2)', 'i4 < -2147483647');
EXPLAIN (COSTS OFF, VERBOSE)
SELECT count(*), count(DISTINCT i8), sum(DISTINCT i2), count(DISTINCT t) FROM ag;
-- equal values with other bytes are one value: numeric 1.0 and 1.00,
-- float8 0 and -0 (their text shows them apart)
CREATE TABLE ag_eq (v numeric, f float8) USING rustydb;
INSERT INTO ag_eq SELECT CASE WHEN g % 2 = 0 THEN 1.0 ELSE 1.00 END,
						 CASE WHEN g % 2 = 0 THEN '0'::float8 ELSE '-0'::float8 END
  FROM generate_series(1, 3000) g;
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('ag_eq') AS flushed;
EXPLAIN (COSTS OFF) SELECT count(DISTINCT v), count(DISTINCT f) FROM ag_eq;
SELECT count(DISTINCT v), count(DISTINCT f) FROM ag_eq;
SELECT count(DISTINCT v::text), count(DISTINCT f::text) FROM ag_eq;
DROP TABLE ag_eq;

-- not pushed: HAVING, DISTINCT over an aggregate of its own functions or
-- with GROUP BY, FILTER, ORDER BY in an aggregate, expressions as
-- arguments, constant arguments, joins, a pseudoconstant qual; answers as
-- before (GROUP BY is, further down)
SELECT * FROM ag_check('string_agg(DISTINCT t, '','') IS NOT NULL, sum(DISTINCT n)');
SELECT * FROM ag_check('count(DISTINCT i2 * 2)');
EXPLAIN (COSTS OFF) SELECT b, count(DISTINCT i4) FROM ag GROUP BY b;
SELECT * FROM ag_check('count(*) FILTER (WHERE b)');
SELECT * FROM ag_check('string_agg(t, '','' ORDER BY t) IS NOT NULL');
SELECT * FROM ag_check('sum(i2 * 2)');
SELECT * FROM ag_check('sum(i2), corr(f, i4)');
SELECT * FROM ag_check('count(*), sum(i4)', 'current_setting(''rustydb.compression'') = ''zstd''');
EXPLAIN (COSTS OFF) SELECT b, count(*) FROM ag GROUP BY b;
EXPLAIN (COSTS OFF) SELECT count(*) FROM ag HAVING count(*) > 1;
EXPLAIN (COSTS OFF) SELECT count(*) FROM ag a JOIN ag_twin t USING (id);
SET rustydb.enable_aggregate_pushdown = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM ag;
RESET rustydb.enable_aggregate_pushdown;

-- EXPLAIN ANALYZE: rows aggregated, the scan's counters below
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*), sum(i4) FROM ag WHERE id > 4200;

-- ag_explain_count(query, counter): a counter EXPLAIN (ANALYZE, VERBOSE)
-- shows for the query's nodes ('Groups Spilled', 'Distinct Values Sorted',
-- 'Generations Skipped', ...)
CREATE FUNCTION ag_explain_count(q text, counter text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
		IF line ~ (counter || ': ') THEN
			RETURN substring(line from counter || ': (\d+)')::bigint;
		END IF;
	END LOOP;
	RETURN NULL;
END $$;
-- the directory walk passes over the retired generations of skipped chunk
-- groups a leaf at a time: fewer steps than generations
SELECT ag_explain_count('SELECT count(*), sum(i4) FROM ag WHERE id > 4200', 'Generation Skip Steps') > 0 AS skipped,
	   ag_explain_count('SELECT count(*), sum(i4) FROM ag WHERE id > 4200', 'Generation Skip Steps') <
	   ag_explain_count('SELECT count(*), sum(i4) FROM ag WHERE id > 4200', 'Generations Skipped') AS a_leaf_at_a_time;

-- a column added after the flushes: stripe rows take its default
ALTER TABLE ag ADD COLUMN extra int DEFAULT 7;
ALTER TABLE ag_twin ADD COLUMN extra int DEFAULT 7;
UPDATE ag SET extra = 8 WHERE id = 10;
UPDATE ag_twin SET extra = 8 WHERE id = 10;
SELECT * FROM ag_check('count(extra), sum(extra), max(extra)');
SELECT * FROM ag_check('count(*), sum(i4)', 'extra = 7 AND id > 100');
SELECT * FROM ag_check('count(*), sum(extra)', 'id > 100');

-- in subqueries (plans merged into a larger range table), rescanned with
-- new parameter values, in CTEs, in a prepared generic plan, in a cursor
SELECT * FROM (SELECT count(*), sum(i4) FROM ag OFFSET 0) s;
SELECT g, (SELECT sum(i8) FROM ag WHERE id < g) AS s,
	   (SELECT sum(i8) FROM ag_twin WHERE id < g) AS s_twin
  FROM generate_series(1000, 5000, 1000) g;
-- DISTINCT values start afresh at each rescan
SELECT g, (SELECT count(DISTINCT i2) || '/' || count(DISTINCT t) FROM ag WHERE id < g) AS d,
	   (SELECT count(DISTINCT i2) || '/' || count(DISTINCT t) FROM ag_twin WHERE id < g) AS d_twin
  FROM generate_series(1000, 5000, 1000) g;
EXPLAIN (COSTS OFF)
SELECT g, (SELECT sum(i8) FROM ag WHERE id < g) FROM generate_series(1, 2) g;
WITH c AS MATERIALIZED (SELECT count(*) AS n, max(tz) AS m FROM ag)
SELECT n, m FROM c;
SET plan_cache_mode = force_generic_plan;
PREPARE ag_p(int) AS SELECT count(*), sum(i4), avg(n) FROM ag WHERE id > $1;
EXPLAIN (COSTS OFF) EXECUTE ag_p(4000);
EXECUTE ag_p(4000);
EXECUTE ag_p(100);
SELECT count(*), sum(i4), avg(n) FROM ag_twin WHERE id > 4000;
SELECT count(*), sum(i4), avg(n) FROM ag_twin WHERE id > 100;
DEALLOCATE ag_p;
RESET plan_cache_mode;
BEGIN;
DECLARE ag_c SCROLL CURSOR FOR SELECT count(*), max(i2) FROM ag;
FETCH ag_c;
FETCH ag_c;
FETCH FIRST FROM ag_c;
COMMIT;

-- a transaction sees its own changes (L0 rows among the flushed ones)
BEGIN;
DELETE FROM ag WHERE id <= 1000;
INSERT INTO ag (id, i4) VALUES (-1, 5);
SELECT count(*), sum(i4), min(id) FROM ag;
ROLLBACK;
SELECT * FROM ag_check('count(*), sum(i4), min(id)');

-- GROUP BY: ag_group_check(select list, group by list[, condition]): the
-- groups with the pushdown, without it and on the heap twin (compared as
-- one sorted text), whether the plan used RustydbAgg, how many groups
CREATE FUNCTION ag_group_check(sel text, grp text, cond text DEFAULT 'true',
							   OUT pushed bool, OUT same bool, OUT groups bigint)
LANGUAGE plpgsql AS $$
DECLARE
	q text := format('SELECT count(*), string_agg(t::text, '';'' ORDER BY t::text) FROM (SELECT %s FROM %%I WHERE %s GROUP BY %s) t',
					 replace(sel, '%', '%%'), replace(cond, '%', '%%'), replace(grp, '%', '%%'));
	r_on text;
	r_off text;
	r_heap text;
	line text;
BEGIN
	pushed := false;
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' ||
		format('SELECT %s FROM ag WHERE %s GROUP BY %s', sel, cond, grp) LOOP
		IF line LIKE '%Custom Scan (RustydbAgg)%' THEN
			pushed := true;
		END IF;
	END LOOP;
	EXECUTE format(q, 'ag') INTO groups, r_on;
	SET LOCAL rustydb.enable_aggregate_pushdown = off;
	EXECUTE format(q, 'ag') INTO groups, r_off;
	SET LOCAL rustydb.enable_aggregate_pushdown = on;
	EXECUTE format(q, 'ag_twin') INTO groups, r_heap;
	same := r_on IS NOT DISTINCT FROM r_off AND r_on IS NOT DISTINCT FROM r_heap;
END $$;

EXPLAIN (COSTS OFF, VERBOSE)
SELECT b, i2 % 3 AS m, count(*), sum(i4), max(ts) FROM ag GROUP BY b, i2 ORDER BY 1;
SELECT b, count(*), sum(i4), avg(i8), min(d), max(tz), count(t) FROM ag GROUP BY b ORDER BY b;
SELECT * FROM ag_group_check('b, count(*), sum(i4), avg(i8), min(d), max(tz)', 'b');
SELECT * FROM ag_group_check('t, count(*), sum(i2), min(i4), max(i8)', 't');
SELECT * FROM ag_group_check('t, d, count(*), avg(i4)', 't, d');
SELECT * FROM ag_group_check('i2, b, count(*), count(i4)', 'i2, b');
SELECT * FROM ag_group_check('upper(t), count(*)', 't');
SELECT * FROM ag_group_check('t, count(*), sum(i8)', 't', 'id > 4200');
SELECT * FROM ag_group_check('tz, count(*)', 'tz', 'tz IS NULL OR i2 > -14000');
SELECT * FROM ag_group_check('extra, count(*), max(id)', 'extra');
-- not pushed: an aggregate of its own functions, an expression as key
SELECT * FROM ag_group_check('b, avg(n)', 'b');
SELECT * FROM ag_group_check('t || ''x'', count(*)', 't || ''x''');
-- a nondeterministic collation: equal values with other bytes, one group
CREATE COLLATION ag_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
ALTER TABLE ag ADD COLUMN ci text COLLATE ag_ci;
ALTER TABLE ag_twin ADD COLUMN ci text COLLATE ag_ci;
UPDATE ag SET ci = CASE WHEN id % 2 = 0 THEN 'Val' ELSE 'vAL' END || (id % 5) WHERE id % 3 = 0;
UPDATE ag_twin SET ci = CASE WHEN id % 2 = 0 THEN 'Val' ELSE 'vAL' END || (id % 5) WHERE id % 3 = 0;
SELECT * FROM ag_group_check('lower(ci), count(*), sum(i4)', 'ci');
-- more groups than hash_mem holds: partial states spill to a sort
SET work_mem = '64kB';
SET hash_mem_multiplier = 1;
SELECT ag_explain_count('SELECT id, count(*), sum(i8), min(i2) FROM ag GROUP BY id', 'Groups Spilled') > 0 AS spilled;
SELECT * FROM ag_group_check('id, count(*), sum(i8), min(i2), max(tm)', 'id');
SELECT ag_explain_count('SELECT t, i2, count(*), avg(i4) FROM ag GROUP BY t, i2', 'Groups Spilled') > 0 AS spilled;
SELECT * FROM ag_group_check('t, i2, count(*), avg(i4)', 't, i2');
-- DISTINCT values beyond hash_mem: the hash set goes to a sort (i4 and ts
-- are sparse, the hash set's; i8 dense, a bitmap's)
SELECT ag_explain_count('SELECT count(DISTINCT i4), sum(DISTINCT i8), count(DISTINCT ts) FROM ag', 'Distinct Values Sorted') > 0 AS sorted;
SELECT * FROM ag_check('count(DISTINCT i4), sum(DISTINCT i8), count(DISTINCT ts), avg(DISTINCT i4)');
RESET work_mem;
RESET hash_mem_multiplier;
SELECT ag_explain_count('SELECT id, count(*), sum(i8), min(i2) FROM ag GROUP BY id', 'Groups Spilled') AS spilled;
SELECT ag_explain_count('SELECT count(DISTINCT i4), sum(DISTINCT i8), count(DISTINCT ts) FROM ag', 'Distinct Values Sorted') AS sorted;
-- values of a dense range go to a bitmap, a bit per possible value (i2:
-- 30,000 possible values; i8: values 7 apart near the type's top, id),
-- sparse ones (i4 reaches both ends of its range, ts steps by 61 s) to the
-- hash set
SELECT ag_explain_count('SELECT count(DISTINCT i2), sum(DISTINCT i8), avg(DISTINCT id) FROM ag', 'Distinct Values Bitmapped') =
	   (SELECT count(DISTINCT i2) + count(DISTINCT i8) + count(DISTINCT id) FROM ag_twin) AS dense_bitmapped,
	   ag_explain_count('SELECT count(DISTINCT i4), count(DISTINCT ts) FROM ag', 'Distinct Values Bitmapped') AS sparse_bitmapped;
-- the bitmap at both ends of the key space (1, 2), widened both ways (3),
-- given up for the hash set when values turn sparse (4), and for the sort
-- when even the set would outgrow hash_mem (5), and values 256 apart in
-- ascending order, which would move a window just wide enough at every
-- other value (6: to the hash set once the window cannot double); rows
-- arrive in the order inserted (one flush, no sort key)
CREATE TABLE ag_edge (k int, v bigint) USING rustydb;
CREATE TABLE ag_edge_twin (k int, v bigint) USING heap;
CREATE FUNCTION ag_edge_load(t regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format($q$
	INSERT INTO %1$s SELECT 1, -9223372036854775808 + g * 37 %% 3001 FROM generate_series(0, 3000) g;
	INSERT INTO %1$s SELECT 2, 9223372036854775807 - g * 37 %% 3001 FROM generate_series(0, 3000) g;
	INSERT INTO %1$s SELECT 3, 1000000 + CASE WHEN g %% 2 = 0 THEN g * 50 ELSE -g * 50 END
	  FROM generate_series(1, 3000) g;
	INSERT INTO %1$s SELECT 4, CASE WHEN g <= 3000 THEN g ELSE (g - 3000) * 100000000000 END
	  FROM generate_series(1, 3100) g;
	INSERT INTO %1$s SELECT 5, CASE WHEN g <= 20000 THEN g ELSE 5000000000 END
	  FROM generate_series(1, 20001) g;
	INSERT INTO %1$s SELECT 6, g * 256 FROM generate_series(1, 40000) g;
	$q$, t);
END $$;
SELECT ag_edge_load('ag_edge'), ag_edge_load('ag_edge_twin');
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('ag_edge') AS flushed;
CREATE FUNCTION ag_edge_check(key int, OUT k int, OUT same bool, OUT bitmapped bigint,
							  OUT sorted bigint, OUT answer text)
LANGUAGE plpgsql AS $$
DECLARE
	q text := 'SELECT t::text FROM (SELECT count(DISTINCT v), sum(DISTINCT v), min(DISTINCT v), max(DISTINCT v) FROM %I WHERE k = %s) t';
	r_heap text;
BEGIN
	k := key;
	EXECUTE format(q, 'ag_edge', key) INTO answer;
	EXECUTE format(q, 'ag_edge_twin', key) INTO r_heap;
	same := answer = r_heap;
	bitmapped := ag_explain_count(format(q, 'ag_edge', key), 'Distinct Values Bitmapped');
	sorted := ag_explain_count(format(q, 'ag_edge', key), 'Distinct Values Sorted');
END $$;
SELECT (ag_edge_check(k)).* FROM generate_series(1, 4) k;
SELECT * FROM ag_edge_check(6);
SET work_mem = '64kB';
SET hash_mem_multiplier = 1;
SELECT * FROM ag_edge_check(5);
RESET work_mem;
RESET hash_mem_multiplier;
SELECT * FROM ag_edge_check(5);
DROP TABLE ag_edge, ag_edge_twin;
DROP FUNCTION ag_edge_load(regclass), ag_edge_check(int);
-- a nondeterministic collation: equal values with other bytes, one value
SELECT * FROM ag_check('count(DISTINCT ci), count(ci)');
SELECT count(DISTINCT ci) AS ci_values FROM ag;

-- a user-defined aggregate with an initial state and a final function
CREATE FUNCTION ag_sq_step(numeric, int) RETURNS numeric LANGUAGE sql IMMUTABLE
	AS 'SELECT $1 + coalesce($2, 0)::numeric * coalesce($2, 0)';
CREATE FUNCTION ag_sq_final(numeric) RETURNS text LANGUAGE sql IMMUTABLE
	AS 'SELECT ''sq='' || $1';
CREATE AGGREGATE ag_sumsq(int) (SFUNC = ag_sq_step, STYPE = numeric,
								INITCOND = '0', FINALFUNC = ag_sq_final);
SELECT * FROM ag_check('ag_sumsq(i4), ag_sumsq(extra)');

-- privileges: the table's and the columns', the aggregate's EXECUTE
CREATE ROLE ag_reader;
GRANT SELECT (id, i4) ON ag TO ag_reader;
REVOKE EXECUTE ON FUNCTION ag_sumsq(int) FROM PUBLIC;
SET ROLE ag_reader;
SELECT count(*), sum(i4) FROM ag;
SELECT sum(i8) FROM ag;
SELECT ag_sumsq(i4) FROM ag;
RESET ROLE;
REVOKE ALL ON ag FROM ag_reader;
DROP ROLE ag_reader;

DROP TABLE ag, ag_twin;
DROP AGGREGATE ag_sumsq(int);
DROP FUNCTION ag_sq_step(numeric, int), ag_sq_final(numeric), ag_check(text, text),
	ag_group_check(text, text, text), ag_explain_count(text, text),
	ag_load(int, int);
DROP COLLATION ag_ci;

-- equal group keys that look different (numeric scale, float -0): the group
-- shows the first of its rows the scan met, as HashAggregate does, also when
-- a row read one at a time (here an L0 row) comes after rows of a batch
-- whose local table was not merged yet
SET max_parallel_workers_per_gather = 0;
CREATE COLLATION ag_rep_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE ag_rep (n numeric, f float8, t text COLLATE ag_rep_ci) USING rustydb;
CREATE TABLE ag_rep_twin (n numeric, f float8, t text COLLATE ag_rep_ci) USING heap;
INSERT INTO ag_rep VALUES (1.50, 0, 'abc');
INSERT INTO ag_rep_twin VALUES (1.50, 0, 'abc');
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('ag_rep') AS flushed;
INSERT INTO ag_rep VALUES (1.5, '-0', 'ABC');
INSERT INTO ag_rep_twin VALUES (1.5, '-0', 'ABC');
SELECT (SELECT string_agg(n || ':' || c, ',') FROM (SELECT n, count(*) c FROM ag_rep GROUP BY n) s) AS rustydb,
       (SELECT string_agg(n || ':' || c, ',') FROM (SELECT n, count(*) c FROM ag_rep_twin GROUP BY n) s) AS heap;
SELECT (SELECT string_agg(f || ':' || c, ',') FROM (SELECT f, count(*) c FROM ag_rep GROUP BY f) s) AS rustydb,
       (SELECT string_agg(f || ':' || c, ',') FROM (SELECT f, count(*) c FROM ag_rep_twin GROUP BY f) s) AS heap;
SELECT (SELECT string_agg(t || ':' || c, ',') FROM (SELECT t, count(*) c FROM ag_rep GROUP BY t) s) AS rustydb,
       (SELECT string_agg(t || ':' || c, ',') FROM (SELECT t, count(*) c FROM ag_rep_twin GROUP BY t) s) AS heap;
EXPLAIN (COSTS OFF) SELECT n, count(*) FROM ag_rep GROUP BY n;
RESET max_parallel_workers_per_gather;
DROP TABLE ag_rep, ag_rep_twin;
DROP COLLATION ag_rep_ci;

-- count(DISTINCT) of sparse bigints stays within hash_mem: simplehash also
-- grows a set by itself inside an insert (long probe distances), which the
-- check before each doubling never saw; the set now spills to the sort
SET max_parallel_workers_per_gather = 0;
CREATE TABLE ag_sparse (v bigint) USING rustydb;
INSERT INTO ag_sparse SELECT ('x' || md5(g::text))::bit(64)::bigint FROM generate_series(1, 400000) g;
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('ag_sparse') AS flushed;
SET work_mem = '4MB';
CREATE FUNCTION ag_sparse_sorted() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE l text; n bigint;
BEGIN
  FOR l IN EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT count(DISTINCT v) FROM ag_sparse LOOP
    IF l ~ 'Distinct Values Sorted' THEN n := substring(l from '(\d+)')::bigint; END IF;
  END LOOP;
  RETURN n;
END $$;
SELECT ag_sparse_sorted() > 0 AS spilled_to_the_sort;
SELECT count(DISTINCT v) = (SELECT count(*) FROM (SELECT DISTINCT v FROM ag_sparse) s) AS same_count FROM ag_sparse;
RESET work_mem;
RESET max_parallel_workers_per_gather;
DROP FUNCTION ag_sparse_sorted();
DROP TABLE ag_sparse;
