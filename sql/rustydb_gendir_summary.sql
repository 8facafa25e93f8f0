--
-- rustydb_gendir_summary: the generation directory's leaf-group summaries.
-- Every 352 retired generations (4 directory leaves) get a summary (their
-- stripe, the span of its rows they hold) once flush, VACUUM or compaction
-- finds them all retired into one stripe, and a columnar scan whose quals
-- exclude that span passes over the group without reading its leaves.
-- A revived generation (UPDATE, DELETE, row lock) or a compaction's remap
-- clears its group's summary: answers stay those of a heap twin.
--
SET rustydb.compression = zstd;
CREATE TABLE gs (id int, ts timestamptz, pad text)
	USING rustydb WITH (chunk_group_rows = 1000);
CREATE TABLE gs_twin (LIKE gs) USING heap;
-- ~8 rows a page: 3,000 rows make ~375 L0 pages, more than a group's 352
CREATE FUNCTION gs_load(lo int, hi int) RETURNS void LANGUAGE sql AS $$
	INSERT INTO gs SELECT i, '2024-01-01 00:00:00+00'::timestamptz + i * interval '1 second',
						  repeat(md5(i::text), 28)
	FROM generate_series(lo, hi) i;
	INSERT INTO gs_twin SELECT * FROM gs WHERE id BETWEEN lo AND hi;
$$;

-- gs_explain(query, counter): a counter of EXPLAIN (ANALYZE, VERBOSE)
CREATE FUNCTION gs_explain(q text, counter text) RETURNS bigint LANGUAGE plpgsql AS $$
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
-- gs_same(where): the rows of gs and of its heap twin that match
CREATE FUNCTION gs_same(cond text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	a text;
	b text;
BEGIN
	EXECUTE 'SELECT count(*) || '' '' || coalesce(sum(id), 0) || '' '' || coalesce(sum(length(pad)), 0) FROM gs WHERE ' || cond INTO a;
	EXECUTE 'SELECT count(*) || '' '' || coalesce(sum(id), 0) || '' '' || coalesce(sum(length(pad)), 0) FROM gs_twin WHERE ' || cond INTO b;
	IF a IS DISTINCT FROM b THEN
		RAISE WARNING 'gs: %, twin: %', a, b;
	END IF;
	RETURN a IS NOT DISTINCT FROM b;
END $$;

-- four flushes: four level-1 stripes of 3,000 rows
SELECT gs_load(1, 3000);
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('gs') AS flushed;
SELECT gs_load(3001, 6000);
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('gs') AS flushed;
SELECT gs_load(6001, 9000);
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('gs') AS flushed;
SELECT gs_load(9001, 12000);
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('gs') AS flushed;
SELECT l0_pages, retired_generations > 1400 AS retired FROM rustydb.l0_layout('gs');
SELECT count(*) AS stripes FROM rustydb.stripes('gs');
-- the summaries (rustydb.directory_groups): a group of 352 first-time and
-- one of remapped generations (reused pages) lie wholly in one stripe each,
-- their spans within it; the groups that straddle two flushes have none
CREATE FUNCTION gs_groups() RETURNS TABLE (space text, groups bigint, in_stripes boolean)
LANGUAGE sql AS $$
	SELECT g.space, count(*),
		   bool_and(EXISTS (SELECT 1 FROM rustydb.stripes('gs') s
							WHERE s.first_block = g.stripe
							  AND g.first_row >= 0 AND g.last_row < s.nrows
							  AND g.first_row <= g.last_row))
	FROM rustydb.directory_groups('gs') g GROUP BY 1 ORDER BY 1
$$;
SELECT * FROM gs_groups();
SELECT sum(live_rows) < 12000 AS some_rows, bool_and(live_rows = 352 * 8) AS eight_a_page
FROM rustydb.directory_groups('gs') WHERE first_generation > 0;

-- the last rows: groups whose rows all lie in excluded chunk groups are
-- passed over whole (flush summarised them); the rest a leaf at a time
SELECT gs_same('ts >= ''2024-01-01 03:15:00+00''') AS same_tail;
SELECT gs_explain('SELECT count(*), sum(id) FROM gs WHERE ts >= ''2024-01-01 03:15:00+00''',
				  'Generation Groups Skipped') > 0 AS groups_skipped;
-- nothing matches: every summarised group is skipped, the answer is empty
SELECT gs_same('ts > ''2030-01-01''') AS same_none;
SELECT gs_same('true') AS same_all;

-- an UPDATE of a row in a summarised group revives its generation and
-- clears the summary: the new version (on that page, or elsewhere) matches
-- the quals and is found; the old one is gone
UPDATE gs SET ts = '2030-06-01' WHERE id = 5;
UPDATE gs_twin SET ts = '2030-06-01' WHERE id = 5;
SELECT gs_same('ts > ''2030-01-01''') AS same_updated, (SELECT count(*) FROM gs WHERE ts > '2030-01-01') AS n;
-- the first-time group lost its summary with the revival
SELECT * FROM gs_groups();
SELECT gs_same('ts >= ''2024-01-01 03:15:00+00''') AS same_tail;
-- a DELETE and a row lock in other summarised groups, rolled back or not
DELETE FROM gs WHERE id = 400;
DELETE FROM gs_twin WHERE id = 400;
BEGIN;
SELECT id FROM gs WHERE id = 800 FOR UPDATE;
UPDATE gs SET ts = '2031-01-01' WHERE id = 801;
ROLLBACK;
SELECT gs_same('ts > ''2030-01-01''') AS same_rolled_back;
SELECT gs_same('id BETWEEN 1 AND 1000') AS same_head;

-- VACUUM retires the revived pages it can again and summarises what it can
SELECT rdb_test.wait_quiet();
VACUUM gs;
SELECT rdb_test.wait_quiet();
VACUUM gs;
SELECT gs_same('ts > ''2030-01-01''') AS same_after_vacuum;
SELECT gs_same('true') AS same_all;
-- rows of nothing: the groups whose generations all went to one stripe
SELECT gs_explain('SELECT count(*) FROM gs WHERE ts > ''2032-01-01''',
				  'Generation Groups Skipped') AS groups_before_compaction \gset

-- compaction merges the four stripes into one: their entries are remapped
-- (clearing the summaries) and summarised again for the output, now also
-- the groups that straddled two inputs
SELECT rustydb.compact('gs') > 0 AS compacted;
SELECT level, count(*) FROM rustydb.stripes('gs') GROUP BY level ORDER BY level;
-- summarised again, all into the one output stripe (the first-time group
-- holds the revived page with the updated row: none)
SELECT * FROM gs_groups();
SELECT gs_same('ts >= ''2024-01-01 03:15:00+00''') AS same_tail;
SELECT gs_same('ts > ''2030-01-01''') AS same_updated;
SELECT gs_same('true') AS same_all;
SELECT gs_explain('SELECT count(*) FROM gs WHERE ts > ''2032-01-01''',
				  'Generation Groups Skipped') > :groups_before_compaction AS more_groups_skipped;

-- a sort key: compaction stores the rows sorted, the summaries still hold
ALTER TABLE gs SET (sort_key = 'ts', level_ratio = 2);
SELECT gs_load(12001, 15000);
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('gs') AS flushed;
SELECT rustydb.compact('gs') >= 0 AS compacted;
SELECT gs_same('ts >= ''2024-01-01 03:15:00+00''') AS same_tail;
SELECT gs_same('ts > ''2030-01-01''') AS same_updated;
SELECT gs_same('id % 7 = 3') AS same_sample;

-- the skipping is a columnar scan's: other scans read every generation
SET rustydb.enable_columnar_scan = off;
SELECT gs_same('ts >= ''2024-01-01 03:15:00+00''') AS same_tail_heapscan;
RESET rustydb.enable_columnar_scan;

-- what the summaries show is the table's: SELECT on it is needed
CREATE ROLE gs_nobody;
SET ROLE gs_nobody;
SELECT count(*) FROM rustydb.directory_groups('gs');
RESET ROLE;
DROP ROLE gs_nobody;
SELECT count(*) FROM rustydb.directory_groups('gs_twin');

DROP TABLE gs, gs_twin;
DROP FUNCTION gs_load(int, int), gs_explain(text, text), gs_same(text), gs_groups();
