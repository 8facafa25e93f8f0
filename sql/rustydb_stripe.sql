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
DROP FUNCTION st_toast_values(regclass);

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

-- privileges: stripes() needs SELECT, the diagnostics are superuser-only
CREATE ROLE st_user;
SET ROLE st_user;
SELECT * FROM rustydb.stripes('st_args');
SELECT * FROM rustydb.stripe_roundtrip('st_args');
RESET ROLE;
GRANT SELECT ON st_args TO st_user;
GRANT EXECUTE ON FUNCTION rustydb.stripe_roundtrip(regclass, text, int, int) TO st_user;
SET ROLE st_user;
SELECT * FROM rustydb.stripes('st_args');
SELECT * FROM rustydb.stripe_roundtrip('st_args');
RESET ROLE;
DROP TABLE st_args;
DROP OWNED BY st_user;
DROP ROLE st_user;
