-- rustydb_stripe: columnar stripes written and read back (src/stripe)
--
-- rustydb.stripe_roundtrip(t) writes every live row of t as a new stripe
-- appended to t and reads every row back twice (rdb_stripe_form_tuple in
-- order, rdb_stripe_fetch_row in reverse order); rows_equal counts the rows
-- that came back bit for bit with the same transaction header fields.
-- A table that holds a stripe is not scanned again here (the L0 scan does
-- not know stripe pages yet); every case uses a table of its own.
CREATE EXTENSION IF NOT EXISTS rustydb_am;
SET client_min_messages = warning;

-- many types, NULLs, a dropped column, short, long, compressed and TOASTed text
CREATE TABLE st_types (
    id int,
    b bigint,
    n numeric,
    gone text,
    t text,
    j jsonb,
    a int[],
    u uuid,
    ts timestamptz,
    f float8,
    flag boolean,
    c char(3)
) USING rustydb;
ALTER TABLE st_types ALTER COLUMN t SET STORAGE external;
INSERT INTO st_types
SELECT g, g::bigint * 1000000007, (g * 1.5)::numeric / 7, 'dropped ' || g,
       CASE g % 5 WHEN 0 THEN NULL
                  WHEN 1 THEN 'short ' || g
                  WHEN 2 THEN repeat('long text ' || g, 50)
                  WHEN 3 THEN (SELECT string_agg(md5(i::text || g), '') FROM generate_series(1, 100) i)
                  ELSE repeat('x', 3000) END,
       CASE WHEN g % 7 = 0 THEN NULL ELSE jsonb_build_object('g', g, 'arr', jsonb_build_array(g, g + 1)) END,
       CASE WHEN g % 11 = 0 THEN NULL ELSE ARRAY[g, g * 2, g * 3] END,
       md5(g::text)::uuid,
       timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute',
       CASE WHEN g % 13 = 0 THEN NULL ELSE g / 3.0 END,
       g % 2 = 0,
       CASE WHEN g % 3 = 0 THEN NULL ELSE lpad((g % 1000)::text, 3, '0') END
FROM generate_series(1, 500) g;
-- an inline-compressed value (main storage: compressed, kept in the row)
ALTER TABLE st_types ALTER COLUMN j SET STORAGE main;
INSERT INTO st_types (id, j) VALUES (501, (SELECT jsonb_agg(i % 10) FROM generate_series(1, 2000) i));
SELECT pg_column_size(j) < octet_length(j::text) / 4 AS compressed_inline FROM st_types WHERE id = 501;
ALTER TABLE st_types DROP COLUMN gone;
-- TOASTed values: t holds external pointers for the long rows
CREATE FUNCTION st_toast_values(rel regclass) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('SELECT count(DISTINCT chunk_id) FROM %s',
                 (SELECT reltoastrelid::regclass FROM pg_class WHERE oid = rel)) INTO n;
  RETURN n;
END $$;
SELECT st_toast_values('st_types') AS external_values;
SELECT nrows, rows_equal, nrows = rows_equal AS all_equal, first_block > 0 AS appended
FROM rustydb.stripe_roundtrip('st_types');
-- the stripe's rows through the table's row type: TOAST pointers still resolve
SELECT s.first_block = r.first_block AS same_stripe, s.nrows, s.chunk_groups,
       s.stored_bytes = s.nblocks * 8192 AS whole_pages
FROM rustydb.stripes('st_types') s,
     (SELECT min(first_block) AS first_block FROM rustydb.stripes('st_types')) r;
SELECT count(*) AS rows_read,
       sum(length(row_text)) > 500 * 100 AS detoasted
FROM rustydb.stripes('st_types') s, rustydb.stripe_rows('st_types', s.first_block);

-- ADD COLUMN with a default after the stripe was written: the stripe keeps
-- its columns, reading it gives the new column its default
ALTER TABLE st_types ADD COLUMN added int DEFAULT 42;
SELECT row_text LIKE '%,42)' AS default_filled, count(*)
FROM rustydb.stripes('st_types') s, rustydb.stripe_rows('st_types', s.first_block)
GROUP BY 1;
DROP TABLE st_types;

-- ADD COLUMN with a default before the stripe is written: rows written
-- before it have fewer attributes; the stripe stores the default
CREATE TABLE st_added (id int, v text) USING rustydb;
INSERT INTO st_added SELECT g, 'v' || g FROM generate_series(1, 100) g;
ALTER TABLE st_added ADD COLUMN d int DEFAULT 7;
ALTER TABLE st_added ADD COLUMN e text;
INSERT INTO st_added VALUES (101, 'new', 8, 'e');
SELECT nrows, rows_equal FROM rustydb.stripe_roundtrip('st_added', 'lz4');
SELECT row_text FROM rustydb.stripes('st_added') s, rustydb.stripe_rows('st_added', s.first_block)
WHERE row_index IN (0, 99, 100) ORDER BY row_index;
DROP TABLE st_added;

-- one row
CREATE TABLE st_one (id int, v text) USING rustydb;
INSERT INTO st_one VALUES (1, 'only');
SELECT nrows, stored_bytes, rows_equal FROM rustydb.stripe_roundtrip('st_one');
SELECT first_block > 0 AS ok, nblocks, nrows, chunk_groups, raw_bytes, stored_bytes
FROM rustydb.stripes('st_one');
SELECT * FROM rustydb.stripe_rows('st_one', (SELECT first_block FROM rustydb.stripes('st_one')));
DROP TABLE st_one;

-- an all-NULL table column and an empty table
CREATE TABLE st_nulls (id int, v text) USING rustydb;
INSERT INTO st_nulls SELECT g, NULL FROM generate_series(1, 10) g;
SELECT nrows, rows_equal FROM rustydb.stripe_roundtrip('st_nulls', 'none');
DROP TABLE st_nulls;
CREATE TABLE st_empty (id int) USING rustydb;
SELECT * FROM rustydb.stripe_roundtrip('st_empty');
SELECT * FROM rustydb.stripes('st_empty');
DROP TABLE st_empty;

-- 25000 rows: 3 chunk groups of 10000, with every codec
CREATE TABLE st_big (id bigint, grp int, name text, amount numeric, at timestamptz) USING rustydb;
INSERT INTO st_big
SELECT g, g % 17, 'customer ' || (g % 977), round((g % 1000) * 1.25, 2),
       timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second'
FROM generate_series(1, 25000) g;
SELECT nrows, rows_equal, stored_bytes < 25000 * 40 AS encoded_smaller
FROM rustydb.stripe_roundtrip('st_big', 'none');
DROP TABLE st_big;
CREATE TABLE st_big (id bigint, grp int, name text, amount numeric, at timestamptz) USING rustydb;
INSERT INTO st_big
SELECT g, g % 17, 'customer ' || (g % 977), round((g % 1000) * 1.25, 2),
       timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second'
FROM generate_series(1, 25000) g;
SELECT nrows, rows_equal FROM rustydb.stripe_roundtrip('st_big', 'lz4');
SELECT nblocks >= 1 AS ok, nrows, chunk_groups FROM rustydb.stripes('st_big');
DROP TABLE st_big;
CREATE TABLE st_big (id bigint, grp int, name text, amount numeric, at timestamptz) USING rustydb;
INSERT INTO st_big
SELECT g, g % 17, 'customer ' || (g % 977), round((g % 1000) * 1.25, 2),
       timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second'
FROM generate_series(1, 25000) g;
SELECT nrows, rows_equal FROM rustydb.stripe_roundtrip('st_big', 'zstd');
SELECT nrows, chunk_groups FROM rustydb.stripes('st_big');
SELECT count(*), count(DISTINCT row_text)
FROM rustydb.stripe_rows('st_big', (SELECT first_block FROM rustydb.stripes('st_big')));
DROP TABLE st_big;
-- chunk groups of one row each
CREATE TABLE st_small_groups (id int, v text) USING rustydb;
INSERT INTO st_small_groups SELECT g, md5(g::text) FROM generate_series(1, 300) g;
SELECT nrows, rows_equal FROM rustydb.stripe_roundtrip('st_small_groups', 'lz4', 1);
SELECT nrows, chunk_groups FROM rustydb.stripes('st_small_groups');
DROP TABLE st_small_groups;
-- several stripes in one table: each is read on its own
CREATE TABLE st_multi (id int, v text) USING rustydb;
INSERT INTO st_multi SELECT g, md5(g::text) FROM generate_series(1, 1000) g;
SELECT nrows, rows_equal FROM rustydb.stripe_roundtrip('st_multi', 'zstd', 100, 3);
SELECT nrows, chunk_groups FROM rustydb.stripes('st_multi') ORDER BY first_block;
SELECT s.nrows, min(split_part(trim(r.row_text, '()'), ',', 1)::int) AS min_id,
       max(split_part(trim(r.row_text, '()'), ',', 1)::int) AS max_id
FROM rustydb.stripes('st_multi') s, rustydb.stripe_rows('st_multi', s.first_block) r
GROUP BY s.first_block, s.nrows ORDER BY s.first_block;
DROP TABLE st_multi;

-- chunk bounds (format version 2): what rustydb.chunk_bounds() reports for
-- every chunk of a flushed table is checked against the true smallest and
-- largest value of the rows in that chunk group, computed here from the
-- table (stripe_rows tells which row is where; id is the first column)
-- flush until want rows moved: a row moves only once its xmin is hinted
-- committed, which waits for the commit record to be flushed
CREATE FUNCTION st_flush(rel regclass, want bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE moved bigint := 0;
BEGIN
	FOR i IN 1..200 LOOP
		PERFORM rdb_test.wait_quiet();
		moved := moved + rustydb.flush(rel);
		EXIT WHEN moved >= want;
		PERFORM pg_sleep(0.1);
	END LOOP;
	RETURN moved;
END $$;
CREATE FUNCTION st_true_bounds(rel regclass, col name, cgrows int)
RETURNS TABLE (first_block bigint, chunk_group int, nrows int, nnulls int,
               min text, max text)
LANGUAGE plpgsql AS $$
BEGIN
  -- a point has no min() (and no default btree opclass): no truth
  IF (SELECT atttypid FROM pg_attribute WHERE attrelid = rel AND attname = col)
     = 'point'::regtype THEN
    RETURN;
  END IF;
  RETURN QUERY EXECUTE format(
    'SELECT r.first_block, (r.row_index / %s)::int, count(*)::int,
            (count(*) - count(t.%I))::int, min(t.%I)::text, max(t.%I)::text
     FROM (SELECT s.first_block, x.row_index,
                  split_part(trim(x.row_text, ''()''), '','', 1)::int AS id
           FROM rustydb.stripes(%L) s, rustydb.stripe_rows(%L, s.first_block) x) r
     JOIN %s t USING (id)
     GROUP BY 1, 2', cgrows, col, col, col, rel, rel, rel);
END $$;
-- per column: chunks, chunks with bounds, chunks whose bounds, row and NULL
-- counts equal the truth (p, a point, has no btree opclass and no truth)
CREATE FUNCTION st_check_bounds(rel regclass, cgrows int)
RETURNS TABLE (column_name name, chunks bigint, with_bounds bigint,
               equal_truth bigint)
LANGUAGE sql AS $$
  SELECT b.column_name, count(*), count(b.min),
         count(*) FILTER (WHERE b.nrows = tr.nrows AND b.nnulls = tr.nnulls AND
                                (b.min IS NULL OR
                                 (b.min = tr.min AND b.max = tr.max)))
  FROM rustydb.chunk_bounds(rel) b
  LEFT JOIN LATERAL st_true_bounds(rel, b.column_name, cgrows) tr
         ON tr.first_block = b.first_block AND tr.chunk_group = b.chunk_group
  GROUP BY 1 ORDER BY 1
$$;
CREATE DOMAIN st_posint AS int CHECK (VALUE > 0);
SET rustydb.chunk_group_rows = 1000;
CREATE TABLE st_bounds (
    id int,
    b bigint,
    ts timestamptz,
    t text COLLATE "und-x-icu",
    tc text COLLATE "C",
    n numeric,
    p point,
    allnull text,
    cmp text,
    ext text,
    over text,
    d st_posint
) USING rustydb;
ALTER TABLE st_bounds ALTER COLUMN ext SET STORAGE external;
-- rows in a shuffled order, so that a chunk's bounds are not its first and
-- last rows; the large cmp values are compressed in the row, the ext ones
-- are out-of-line TOAST pointers: a chunk holding one keeps no bounds for
-- that column (flush does not fetch them); one over value (300 bytes) is
-- too large to keep
INSERT INTO st_bounds
SELECT g, (g - 1200)::bigint * 1000000007,
       timestamptz '2026-01-01 00:00:00+00' + g * interval '1 hour',
       (ARRAY['a', 'B', 'é'])[g % 3 + 1] || g,
       (ARRAY['a', 'B', 'é'])[g % 3 + 1] || g,
       CASE WHEN g % 10 = 0 THEN NULL ELSE round(g / 7.0, 3) END,
       point(g, g), NULL,
       CASE WHEN g % 100 = 0 THEN 'm' || repeat('q', 3000)
            ELSE (ARRAY['c', 'x'])[g % 2 + 1] || g END,
       CASE WHEN g % 100 = 50 THEN 'm' || (SELECT string_agg(md5(i::text || g), '') FROM generate_series(1, 100) i)
            ELSE (ARRAY['c', 'x'])[g % 2 + 1] || g END,
       CASE WHEN g = 1777 THEN 'zz' || repeat('z', 298) ELSE 'o' || g END,
       g
FROM generate_series(1, 2500) g ORDER BY md5(g::text);
SELECT count(*) FILTER (WHERE pg_column_size(cmp) < octet_length(cmp) / 4) AS compressed_inline,
       st_toast_values('st_bounds') AS external_values
FROM st_bounds;
SELECT st_flush('st_bounds', 2500) AS flushed;
SELECT * FROM st_check_bounds('st_bounds', 1000);
-- collation: "C" orders 'B' before 'a', ICU the other way round
SELECT column_name, min < max AS ordered, left(min, 1) AS min_starts, left(max, 1) AS max_starts
FROM rustydb.chunk_bounds('st_bounds')
WHERE column_name IN ('t', 'tc') AND chunk_group = 0 ORDER BY 1;
-- the whole table's extremes are among the bounds
WITH cb AS (SELECT * FROM rustydb.chunk_bounds('st_bounds'))
SELECT (SELECT min(min::int) FROM cb WHERE column_name = 'id') AS min_id,
       (SELECT max(max::int) FROM cb WHERE column_name = 'id') AS max_id,
       (SELECT min(min::bigint) FROM cb WHERE column_name = 'b') AS min_b,
       (SELECT max(max::bigint) FROM cb WHERE column_name = 'b') AS max_b,
       (SELECT min(min::timestamptz) FROM cb WHERE column_name = 'ts') AS min_ts,
       (SELECT max(max::timestamptz) FROM cb WHERE column_name = 'ts') AS max_ts,
       (SELECT min(min::numeric) FROM cb WHERE column_name = 'n') AS min_n,
       (SELECT max(max::numeric) FROM cb WHERE column_name = 'n') AS max_n,
       (SELECT max(max) FROM cb WHERE column_name = 'over') AS max_over;

-- format version 1 (no bounds section) is still read; a table may hold
-- stripes of both versions
CREATE TABLE st_v1 (id int, v text) USING rustydb;
INSERT INTO st_v1 SELECT g, 'v' || g FROM generate_series(1, 1500) g;
SET rustydb.stripe_format_version = 1;
SELECT st_flush('st_v1', 1500) AS flushed_v1;
RESET rustydb.stripe_format_version;
INSERT INTO st_v1 SELECT g, 'v' || g FROM generate_series(1501, 2000) g;
SELECT st_flush('st_v1', 500) AS flushed_v2;
SELECT s.nrows, count(b.min) AS chunks_with_bounds, count(*) AS chunks
FROM rustydb.stripes('st_v1') s
JOIN rustydb.chunk_bounds('st_v1') b USING (first_block)
GROUP BY s.first_block, s.nrows ORDER BY s.nrows DESC; -- in flush order
SELECT * FROM st_check_bounds('st_v1', 1000);
SELECT count(*), sum(id) FROM st_v1;
-- both versions are level 1 (flush wrote them); version 1 does not record
-- the bytes of the values per chunk, so the column totals do not know them
SELECT level, count(*) AS stripes FROM rustydb.stripes('st_v1') GROUP BY level;
SELECT column_name, chunks, value_bytes, encoded_bytes > 0 AS encoded
  FROM rustydb.column_stats('st_v1') ORDER BY attnum;
SELECT count(*) FROM rustydb.stripes('st_v1') s, rustydb.stripe_rows('st_v1', s.first_block);
RESET rustydb.chunk_group_rows;

-- the chunk group cache of single-row reads (index lookups of flushed rows):
-- never serves a truncated, rewritten or re-created table's old chunks, and
-- gives the same rows with any rustydb.stripe_cache_size, 0 included
SET rustydb.chunk_group_rows = 1000;
CREATE TABLE st_cache (id int PRIMARY KEY, v text, n bigint) USING rustydb;
INSERT INTO st_cache SELECT g, md5(g::text) || 'one', g FROM generate_series(1, 3000) g;
SELECT st_flush('st_cache', 3000) AS flushed;
CREATE FUNCTION st_lookups(tag text) RETURNS TABLE (found bigint, right_values bigint)
LANGUAGE sql AS $$
  SELECT count(*), count(*) FILTER (WHERE t.v = md5(t.id::text) || tag AND t.n = t.id)
  FROM generate_series(1, 3000, 7) g JOIN st_cache t ON t.id = g
$$;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SELECT * FROM st_lookups('one');
-- TRUNCATE gives a new relfilenode; the same blocks hold other rows now
TRUNCATE st_cache;
INSERT INTO st_cache SELECT g, md5(g::text) || 'two', g FROM generate_series(1, 3000) g;
SELECT st_flush('st_cache', 3000) AS flushed;
SELECT * FROM st_lookups('two');
-- a rewrite (VACUUM FULL copies the rows into a new relfilenode: 3,000, less than a chunk group, onto L0 pages)
VACUUM FULL st_cache;
SELECT * FROM st_lookups('two');
UPDATE st_cache SET v = md5(id::text) || 'three';
VACUUM st_cache;
SELECT st_flush('st_cache', 3000) > 0 AS flushed;
SELECT * FROM st_lookups('three');
-- no caching at all, and a cache smaller than one chunk group
SET rustydb.stripe_cache_size = 0;
SELECT * FROM st_lookups('three');
SET rustydb.stripe_cache_size = 1;
SELECT * FROM st_lookups('three');
SHOW rustydb.stripe_cache_size;
SET rustydb.stripe_cache_size = -1;
SET rustydb.stripe_cache_size = '64MB';
SHOW rustydb.stripe_cache_size;
RESET rustydb.stripe_cache_size;
SHOW rustydb.stripe_cache_size;
-- TRUNCATE of a table created in the same transaction keeps its
-- relfilenode: a new stripe starts at the same block as the old one
BEGIN;
CREATE TABLE st_same (id int, v text) USING rustydb;
INSERT INTO st_same SELECT g, 'old ' || g FROM generate_series(1, 50) g;
CREATE TEMP TABLE st_first AS
  SELECT first_block, rows_equal FROM rustydb.stripe_roundtrip('st_same', 'lz4', 10);
SELECT row_text FROM rustydb.stripe_rows('st_same', (SELECT first_block FROM st_first))
WHERE row_index IN (0, 49);
TRUNCATE st_same;
INSERT INTO st_same SELECT g, 'new ' || g FROM generate_series(1, 50) g;
SELECT r.first_block = f.first_block AS same_block, r.rows_equal
FROM rustydb.stripe_roundtrip('st_same', 'lz4', 10) r, st_first f;
SELECT row_text FROM rustydb.stripe_rows('st_same', (SELECT first_block FROM st_first))
WHERE row_index IN (0, 49);
ROLLBACK;
RESET enable_seqscan;
RESET enable_bitmapscan;
RESET enable_hashjoin;
RESET enable_mergejoin;
DROP FUNCTION st_lookups(text);
DROP TABLE st_cache;
RESET rustydb.chunk_group_rows;

-- bad arguments
CREATE TABLE st_args (id int) USING rustydb;
INSERT INTO st_args VALUES (1);
SELECT * FROM rustydb.stripe_roundtrip('st_args', 'gzip');
SELECT * FROM rustydb.stripe_roundtrip('st_args', 'zstd', 0);
SELECT * FROM rustydb.stripe_roundtrip('st_args', 'zstd', 65537);
SELECT * FROM rustydb.stripe_roundtrip('st_args', 'zstd', 10, 0);
SELECT * FROM rustydb.stripe_rows('st_args', 0);
SELECT * FROM rustydb.stripe_rows('st_args', 1);
CREATE TABLE st_heap (id int) USING heap;
SELECT * FROM rustydb.stripes('st_heap');
DROP TABLE st_heap;

-- privileges: stripes() and column_stats() need SELECT, chunk_bounds()
-- ownership (bounds cover rows deleted or rolled back since); both are
-- refused under row-level security; the diagnostics are superuser-only
CREATE ROLE st_user;
SET ROLE st_user;
SELECT * FROM rustydb.stripes('st_args');
SELECT * FROM rustydb.stripe_roundtrip('st_args');
SELECT count(*) FROM rustydb.chunk_bounds('st_bounds');
RESET ROLE;
GRANT SELECT ON st_args TO st_user;
GRANT SELECT ON st_bounds TO st_user;
GRANT EXECUTE ON FUNCTION rustydb.stripe_roundtrip(regclass, text, int, int) TO st_user;
SET ROLE st_user;
SELECT * FROM rustydb.stripes('st_args');
SELECT * FROM rustydb.stripe_roundtrip('st_args');
SELECT count(*) FROM rustydb.chunk_bounds('st_bounds');
SELECT count(*) > 0 AS has_column_stats FROM rustydb.column_stats('st_bounds');
SELECT count(*) > 0 AS listed FROM rustydb.columns WHERE relation = 'st_bounds'::regclass;
RESET ROLE;
ALTER TABLE st_bounds ENABLE ROW LEVEL SECURITY;
CREATE POLICY st_small ON st_bounds FOR SELECT USING (id < 10);
SET ROLE st_user;
SELECT count(*) FROM st_bounds;
SELECT count(*) FROM rustydb.column_stats('st_bounds');
SELECT count(*) AS listed FROM rustydb.columns WHERE relation = 'st_bounds'::regclass;
RESET ROLE;
-- the owner (here a superuser) is not subject to the policy
SELECT count(*) FROM rustydb.chunk_bounds('st_bounds');
SELECT count(*) > 0 AS listed FROM rustydb.columns WHERE relation = 'st_bounds'::regclass;
-- an owner who is (FORCE ROW LEVEL SECURITY)
ALTER TABLE st_bounds OWNER TO st_user;
ALTER TABLE st_bounds FORCE ROW LEVEL SECURITY;
SET ROLE st_user;
SELECT count(*) FROM st_bounds;
SELECT count(*) FROM rustydb.chunk_bounds('st_bounds');
RESET ROLE;
ALTER TABLE st_bounds OWNER TO CURRENT_USER;
DROP TABLE st_args;
DROP TABLE st_bounds;
DROP TABLE st_v1;
DROP FUNCTION st_check_bounds(regclass, int);
DROP FUNCTION st_true_bounds(regclass, name, int);
DROP FUNCTION st_flush(regclass, bigint);
DROP FUNCTION st_toast_values(regclass);
DROP DOMAIN st_posint;
DROP OWNED BY st_user;
DROP ROLE st_user;
