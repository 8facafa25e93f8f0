--
-- rustydb_flush: rustydb.flush() moves L0 rows into columnar stripes, and
-- every SQL path reads and writes flushed rows as before (checked against a
-- heap twin that received the same statements).
--
SET rustydb.compression = zstd;
SET rustydb.chunk_group_rows = 1000;
CREATE TABLE fl (
	id int PRIMARY KEY,
	ts timestamptz NOT NULL,
	kind text,
	n numeric,
	js jsonb,
	arr int[],
	u uuid,
	big text,
	gone int
) USING rustydb;
ALTER TABLE fl ALTER big SET STORAGE EXTERNAL;
CREATE TABLE fl_twin (LIKE fl INCLUDING ALL) USING heap;
CREATE INDEX fl_ts ON fl (ts);
CREATE INDEX fl_kind ON fl USING hash (kind);
CREATE INDEX fl_js ON fl USING gin (js);

INSERT INTO fl
SELECT g,
	   '2026-01-01 00:00:00+00'::timestamptz + g * interval '1 minute',
	   (ARRAY['view', 'click', 'buy', NULL])[g % 4 + 1],
	   CASE WHEN g % 5 = 0 THEN NULL ELSE g * 1.25 END,
	   jsonb_build_object('g', g, 'even', g % 2 = 0),
	   ARRAY[g, g + 1],
	   md5(g::text)::uuid,
	   CASE WHEN g % 500 = 0 THEN repeat(md5(g::text), 200) ELSE 'b' || g END,
	   g
FROM generate_series(1, 5000) g;
ALTER TABLE fl DROP COLUMN gone;
ALTER TABLE fl_twin DROP COLUMN gone;
INSERT INTO fl_twin SELECT * FROM fl;

-- a row moves only when every transaction sees it: wait until no other
-- session of this database (the event worker, autoanalyze) holds a snapshot
-- from before our last commit, and then every row qualifies
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('fl') AS flushed;
SELECT count(*) AS stripes, sum(nrows) AS rows FROM rustydb.stripes('fl');
-- a second flush finds nothing left
SELECT rustydb.flush('fl') AS flushed_again;

-- the same rows through every read path
CREATE FUNCTION fl_diff() RETURNS bigint LANGUAGE sql AS $$
	SELECT (SELECT count(*) FROM (SELECT * FROM fl EXCEPT ALL SELECT * FROM fl_twin) a)
		 + (SELECT count(*) FROM (SELECT * FROM fl_twin EXCEPT ALL SELECT * FROM fl) b)
$$;
SET enable_indexscan = off; SET enable_bitmapscan = off;
SELECT fl_diff() AS seqscan_diff, count(*) FROM fl;
RESET enable_indexscan; RESET enable_bitmapscan;
SET enable_seqscan = off; SET enable_bitmapscan = off;
SELECT id, kind, n, js, u, length(big) FROM fl WHERE id IN (1, 500, 2500, 5000) ORDER BY id;
SELECT count(*), sum(id) FROM fl WHERE ts > '2026-01-03 00:00:00+00';
RESET enable_seqscan; RESET enable_bitmapscan;
SET enable_seqscan = off; SET enable_indexscan = off;
SELECT count(*), sum(id) FROM fl WHERE kind = 'buy';
SELECT count(*) FROM fl WHERE js @> '{"even": true}';
RESET enable_seqscan; RESET enable_indexscan;
SELECT id, kind FROM fl WHERE ctid = (SELECT ctid FROM fl WHERE id = 42);
SELECT count(*) FROM fl WHERE ctid > '(3,0)' AND ctid < '(10,0)';
SELECT count(*) > 0 AS sampled FROM fl TABLESAMPLE SYSTEM (50) REPEATABLE (1);
SELECT count(*) FROM fl TABLESAMPLE BERNOULLI (100) REPEATABLE (1);
SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SELECT count(*), sum(n), count(DISTINCT kind) FROM fl;
RESET max_parallel_workers_per_gather; RESET parallel_setup_cost;
RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
ANALYZE fl;
SELECT attname, null_frac > 0 AS has_nulls FROM pg_stats
 WHERE tablename = 'fl' AND attname IN ('kind', 'n', 'ts') ORDER BY attname;

-- writes to flushed rows behave as on heap
UPDATE fl SET kind = 'updated', n = n + 1 WHERE id % 10 = 0;
UPDATE fl_twin SET kind = 'updated', n = n + 1 WHERE id % 10 = 0;
UPDATE fl SET id = id + 100000 WHERE id % 333 = 0;
UPDATE fl_twin SET id = id + 100000 WHERE id % 333 = 0;
DELETE FROM fl WHERE id % 7 = 0;
DELETE FROM fl_twin WHERE id % 7 = 0;
UPDATE fl SET big = big || 'x' WHERE id = 1000;			-- TOASTed value, flushed
UPDATE fl_twin SET big = big || 'x' WHERE id = 1000;
DELETE FROM fl WHERE id = 1500;							-- TOASTed value, flushed
DELETE FROM fl_twin WHERE id = 1500;
INSERT INTO fl SELECT * FROM fl_twin WHERE id = 1 ON CONFLICT (id) DO UPDATE SET kind = 'upserted';
INSERT INTO fl_twin SELECT * FROM fl_twin WHERE id = 1 ON CONFLICT (id) DO UPDATE SET kind = 'upserted';
INSERT INTO fl SELECT * FROM fl_twin WHERE id = 2 ON CONFLICT DO NOTHING;
SELECT id, kind FROM fl WHERE id IN (1, 2) ORDER BY id;
BEGIN;
SELECT id, kind FROM fl WHERE id BETWEEN 3 AND 5 ORDER BY id FOR UPDATE;
SELECT id FROM fl WHERE id = 6 FOR KEY SHARE;
COMMIT;
SELECT fl_diff() AS diff_after_dml, count(*) FROM fl;
-- system columns of a flushed row
SELECT xmin = (SELECT xmin FROM fl WHERE id = 3) AS same_xmin, ctid = (SELECT ctid FROM fl WHERE id = 3) AS same_ctid
  FROM fl WHERE id = 3;

-- a foreign key to flushed rows
CREATE TABLE fl_ref (ref int REFERENCES fl (id));
INSERT INTO fl_ref VALUES (3), (4);
DELETE FROM fl WHERE id = 3;
DROP TABLE fl_ref;

-- flush again: the updated versions move too, the stripes grow in number
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('fl') > 0 AS flushed_more;
SELECT count(*) AS stripes FROM rustydb.stripes('fl');
SELECT fl_diff() AS diff_after_second_flush;

-- VACUUM removes dead flushed rows and their index entries
VACUUM fl;
SELECT fl_diff() AS diff_after_vacuum;
SET enable_seqscan = off;
SELECT count(*) FROM fl WHERE ts > '2020-01-01';
RESET enable_seqscan;

-- rewrites write the rows every snapshot sees straight into a stripe (rewrite.c)
CLUSTER fl USING fl_pkey;
SELECT fl_diff() AS diff_after_cluster, (SELECT count(*) FROM rustydb.stripes('fl')) AS stripes;
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('fl') > 0 AS flushed;
VACUUM FULL fl;
SELECT fl_diff() AS diff_after_vacuum_full;
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('fl') > 0 AS flushed;
ALTER TABLE fl ALTER n TYPE float8;
ALTER TABLE fl_twin ALTER n TYPE float8;
SELECT fl_diff() AS diff_after_alter_type;
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('fl') > 0 AS flushed;
ALTER TABLE fl ADD COLUMN extra int DEFAULT 7;
ALTER TABLE fl_twin ADD COLUMN extra int DEFAULT 7;
SELECT fl_diff() AS diff_after_add_column;
ALTER TABLE fl SET ACCESS METHOD heap;
SELECT fl_diff() AS diff_as_heap;
ALTER TABLE fl SET ACCESS METHOD rustydb;
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('fl') > 0 AS flushed;
TRUNCATE fl;
SELECT count(*) FROM fl;
SELECT count(*) AS stripes_after_truncate FROM rustydb.stripes('fl');

-- rustydb.tables shows where the rows are
CREATE TABLE fl_layout (id int, v text) USING rustydb WITH (stripe_rows = 2000);
INSERT INTO fl_layout SELECT g, 'v' || g FROM generate_series(1, 5000) g;
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('fl_layout');
INSERT INTO fl_layout VALUES (0, 'not flushed');
SELECT relation, options, l0_rows, flushed_rows, stripes, stripe_rows,
       stored_bytes = stripe_pages * 8192 AS bytes_match, raw_bytes > 0 AS has_raw
  FROM rustydb.tables WHERE relation = 'fl_layout'::regclass;
-- rustydb.stripes: level 1 (written by flush), the row numbers of the rows
-- (TIDs: block * 291 + offset - 1) and the rows that are no longer live
SELECT relation, level, rows, deleted_rows, chunk_groups, bytes = pages * 8192 AS bytes_are_pages,
       raw_bytes > 0 AS has_raw
  FROM rustydb.stripes WHERE relation = 'fl_layout'::regclass ORDER BY stripe;
SELECT (SELECT min(first_row) FROM rustydb.stripes WHERE relation = 'fl_layout'::regclass) =
       (SELECT min((ctid::text::point)[0]::bigint * 291 + (ctid::text::point)[1]::bigint - 1)
          FROM fl_layout WHERE id > 0) AS first_row_matches,
       (SELECT max(last_row) FROM rustydb.stripes WHERE relation = 'fl_layout'::regclass) =
       (SELECT max((ctid::text::point)[0]::bigint * 291 + (ctid::text::point)[1]::bigint - 1)
          FROM fl_layout WHERE id > 0) AS last_row_matches;
-- rustydb.columns: what flush chose per column and what it cost; the bytes
-- of the values are those of the rows (4 per int, the text as stored)
SELECT column_name, attnum, chunks, null_values, encodings,
       value_bytes = (SELECT CASE column_name WHEN 'id' THEN 4 * count(*)
                                              ELSE sum(pg_column_size(v)) END
                        FROM fl_layout WHERE id > 0) AS value_bytes_match,
       stored_bytes < value_bytes AS compressed, compression_ratio > 1 AS ratio_above_1
  FROM rustydb.columns WHERE relation = 'fl_layout'::regclass ORDER BY attnum;
-- the flush history: one flush, its rows
SELECT flushes, rows_flushed_since_start, last_flush <= now() AS last_flush_past,
       deleted_rows
  FROM rustydb.tables WHERE relation = 'fl_layout'::regclass;
-- deleted flushed rows count as deleted stripe rows, before and after VACUUM
-- removes their stubs; a delete that rolled back does not
DELETE FROM fl_layout WHERE id BETWEEN 1 AND 100;
BEGIN;
DELETE FROM fl_layout WHERE id BETWEEN 101 AND 200;
ROLLBACK;
SELECT flushed_rows, deleted_rows FROM rustydb.tables WHERE relation = 'fl_layout'::regclass;
SELECT rdb_test.wait_quiet();
VACUUM fl_layout;
SELECT flushed_rows, deleted_rows FROM rustydb.tables WHERE relation = 'fl_layout'::regclass;
SELECT sum(deleted_rows) AS deleted_in_stripes FROM rustydb.stripes
 WHERE relation = 'fl_layout'::regclass;
-- no flush running now
SELECT count(*) FROM rustydb.flush_progress;
TRUNCATE fl_layout;
SELECT flushes IS NULL AS history_forgotten, deleted_rows FROM rustydb.tables
 WHERE relation = 'fl_layout'::regclass;
DROP TABLE fl_layout;

-- the events a flush publishes: MemtableFlushed, VectoredWrite, and
-- EncodingChanged where a column's chunk chose another encoding than the
-- chunk before it (here: 1000 equal values, then distinct ones)
CREATE TABLE fl_enc (id int, kind text) USING rustydb WITH (chunk_group_rows = 1000);
INSERT INTO fl_enc SELECT g, CASE WHEN g <= 1000 THEN 'same' ELSE md5(g::text) END
  FROM generate_series(1, 3000) g;
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('fl_enc');
SELECT variant,
       payload->'data'->variant->>'entries' AS entries,
       payload->'data'->variant->>'column_name' AS column_name,
       payload->'data'->variant->>'old_encoding' AS old_encoding,
       payload->'data'->variant->>'new_encoding' AS new_encoding,
       (payload->'data'->variant->>'compression_ratio')::float8 > 0 AS has_ratio
  FROM rustydb.events WHERE relation = 'fl_enc'::regclass
   AND variant IN ('MemtableFlushed', 'EncodingChanged')
 ORDER BY seq;
DROP TABLE fl_enc;

-- pages revived by a row lock or a rolled-back UPDATE retire again once the
-- lockers ended or the updater aborted: such an xmax means nothing any more
-- (before, those pages stayed revived whatever VACUUM did)
CREATE TABLE fl_rv (id int, v text) USING rustydb;
CREATE INDEX fl_rv_id ON fl_rv (id);
INSERT INTO fl_rv SELECT g, 'x' || g FROM generate_series(1, 2000) g;
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('fl_rv');
VACUUM fl_rv;
SELECT l0_pages, retired_generations > 0 AS retired FROM rustydb.l0_layout('fl_rv');
BEGIN;
SELECT count(*) FROM (SELECT 1 FROM fl_rv WHERE id % 100 = 8 FOR UPDATE) x;
COMMIT;
SELECT l0_pages > 0 AS revived FROM rustydb.l0_layout('fl_rv');
SELECT rdb_test.wait_quiet();
VACUUM fl_rv;
SELECT l0_pages AS after_lock FROM rustydb.l0_layout('fl_rv');
BEGIN;
UPDATE fl_rv SET v = 'y' WHERE id % 100 = 7;
ROLLBACK;
SELECT l0_pages > 0 AS revived FROM rustydb.l0_layout('fl_rv');
SELECT rdb_test.wait_quiet();
VACUUM fl_rv;	-- prunes the aborted new versions (dead items until index vacuum)
VACUUM fl_rv;	-- then the pages retire
SELECT l0_pages AS after_rollback FROM rustydb.l0_layout('fl_rv');
-- also when VACUUM FREEZE has cleared the aborted xmax (leaving t_ctid at
-- the aborted version)
BEGIN;
UPDATE fl_rv SET v = 'y' WHERE id % 100 = 9;
ROLLBACK;
SELECT rdb_test.wait_quiet();
VACUUM (FREEZE) fl_rv;
VACUUM (FREEZE) fl_rv;
SELECT l0_pages AS after_freeze FROM rustydb.l0_layout('fl_rv');
SELECT count(*), sum(id), min(v), max(v) FROM fl_rv;
SELECT count(*) FROM fl_rv WHERE id % 100 IN (7, 8, 9) AND v = 'x' || id;
-- a DELETE of some of each retired generation's rows: the VACUUM that
-- removes them retires the revived pages again (the deleted rows' stubs are
-- dead items until its second pass over the table, after the index; before,
-- the generation's other rows kept their page until the next VACUUM)
DELETE FROM fl_rv WHERE id % 100 = 11;
SELECT l0_pages > 0 AS revived FROM rustydb.l0_layout('fl_rv');
SELECT rdb_test.wait_quiet();
VACUUM fl_rv;
SELECT l0_pages AS after_delete, retired_rows FROM rustydb.l0_layout('fl_rv');
SELECT count(*), sum(id) FROM fl_rv WHERE id % 100 BETWEEN 10 AND 12;
UPDATE fl_rv SET v = 'z' WHERE id = 107;
SELECT id, v FROM fl_rv WHERE id IN (107, 108) ORDER BY id;
DROP TABLE fl_rv;

-- bad input
SELECT rustydb.flush('fl_twin');
SELECT rustydb.flush(0);
SELECT * FROM rustydb.flush_history('fl_twin');
CREATE ROLE fl_stranger;
GRANT USAGE ON SCHEMA rustydb TO fl_stranger;
SET ROLE fl_stranger;
SELECT rustydb.flush('fl');
RESET ROLE;
REVOKE USAGE ON SCHEMA rustydb FROM fl_stranger;
DROP ROLE fl_stranger;
SET rustydb.compression = 'brotli';

DROP FUNCTION fl_diff();
DROP TABLE fl, fl_twin;
