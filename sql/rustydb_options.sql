--
-- rustydb_options: per-table options of rustydb tables (WITH (...),
-- ALTER TABLE SET / RESET), stored in pg_class.reloptions next to heap's,
-- shown by rustydb.table_options(), and used by flush.
--
SET search_path = public;
CREATE SCHEMA rustydb_opt;
SET search_path = rustydb_opt;

-- opts(rel): the table's reloptions as stored
CREATE FUNCTION opts(rel regclass) RETURNS text[] LANGUAGE sql AS $$
  SELECT reloptions FROM pg_class WHERE oid = rel $$;
-- am_of(rel): its access method
CREATE FUNCTION am_of(rel regclass) RETURNS name LANGUAGE sql AS $$
  SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.oid = rel $$;

-- every option, with one of heap's
CREATE TABLE o1 (id int, v text) USING rustydb
  WITH (flush_rows = 100000, compression = 'zstd', compression_level = 3,
        chunk_group_rows = 10000, stripe_rows = 150000, fillfactor = 80);
SELECT opts('o1');
SELECT * FROM rustydb.table_options('o1');
-- heap parses them away: fillfactor is still honoured, nothing else breaks
INSERT INTO o1 SELECT g, 'v' || g FROM generate_series(1, 100) g;
SELECT count(*) FROM o1;

-- canonical form: codec in lower case, integers in decimal, unquoted too
CREATE TABLE o2 (id int) WITH (compression = LZ4, stripe_rows = ' 02000 ');
SELECT opts('o2');

-- ALTER TABLE SET / RESET, alone and mixed with heap's options
ALTER TABLE o1 SET (fillfactor = 70);
SELECT opts('o1');
ALTER TABLE o1 SET (compression = lz4), RESET (flush_rows);
SELECT opts('o1');
ALTER TABLE o1 RESET (fillfactor, compression_level);
SELECT opts('o1');
ALTER TABLE o1 SET (flush_rows = 0, fillfactor = 90);
SELECT opts('o1');
SELECT * FROM rustydb.table_options('o1');
-- defaults follow the session's settings
SET rustydb.compression_level = 9;
SELECT * FROM rustydb.table_options('o1') WHERE option = 'compression_level';
RESET rustydb.compression_level;
ALTER TABLE o1 RESET (flush_rows, compression, chunk_group_rows, stripe_rows, fillfactor);
SELECT opts('o1');
SELECT * FROM rustydb.table_options('o1');

-- invalid names and values: 22023 naming the option, nothing changed
ALTER TABLE o2 SET (fillfactor = 60, compression = 'zstd', chunk_group_rows = 5000);
SELECT opts('o2') AS before \gset
\set VERBOSITY verbose
ALTER TABLE o2 SET (compression = 'brotli');
ALTER TABLE o2 SET (compression_level = 0);
ALTER TABLE o2 SET (compression_level = 20);
ALTER TABLE o2 SET (chunk_group_rows = 999);
ALTER TABLE o2 SET (chunk_group_rows = 65537);
ALTER TABLE o2 SET (stripe_rows = 10000001);
ALTER TABLE o2 SET (flush_rows = -1);
ALTER TABLE o2 SET (flush_rows = 2147483648);
ALTER TABLE o2 SET (flush_rows = 'lots');
ALTER TABLE o2 SET (flush_rows = 1.5);
ALTER TABLE o2 SET (flush_rows);
ALTER TABLE o2 SET (flush_rows = 1, flush_rows = 2);
ALTER TABLE o2 SET (flush_row = 1);
-- a valid option next to an invalid one: neither is applied
ALTER TABLE o2 SET (stripe_rows = 3000, compression = 'gzip');
ALTER TABLE o2 SET (stripe_rows = 3000, fillfactor = 5);
ALTER TABLE o2 SET (stripe_rows = 3000), ALTER COLUMN nosuch TYPE int;
ALTER TABLE o2 RESET (stripe_rows = 3000);
CREATE TABLE bad (id int) USING rustydb WITH (compression = 'snappy');
\set VERBOSITY default
SELECT opts('o2') = :'before' AS unchanged, opts('o2');
SELECT count(*) FROM pg_class WHERE relname = 'bad' AND relnamespace = 'rustydb_opt'::regnamespace;
-- the limits themselves are accepted
ALTER TABLE o2 SET (flush_rows = 2147483647, compression_level = 19,
                    chunk_group_rows = 65536, stripe_rows = 10000000);
ALTER TABLE o2 SET (flush_rows = 0, compression_level = 1,
                    chunk_group_rows = 1000, stripe_rows = 1000);
SELECT opts('o2');

-- only rustydb tables take them
\set VERBOSITY verbose
CREATE TABLE h1 (id int) USING heap WITH (flush_rows = 5);
\set VERBOSITY default
CREATE TABLE h1 (id int) USING heap WITH (fillfactor = 50);
ALTER TABLE h1 SET (compression = 'zstd');
ALTER TABLE h1 RESET (compression);   -- nothing to reset: accepted, as heap does
SELECT opts('h1');
SET default_table_access_method = heap;
CREATE TABLE h2 (id int) WITH (stripe_rows = 2000);
CREATE TABLE h2 WITH (stripe_rows = 2000) AS SELECT 1 AS id;
RESET default_table_access_method;
CREATE TABLE pt (id int) PARTITION BY RANGE (id) WITH (flush_rows = 5);
CREATE TABLE pt (id int) PARTITION BY RANGE (id);
ALTER TABLE pt SET (flush_rows = 5);
-- a rustydb partition takes them
CREATE TABLE pt_1 PARTITION OF pt FOR VALUES FROM (0) TO (100) WITH (stripe_rows = 4000);
SELECT opts('pt_1'), am_of('pt_1');
CREATE MATERIALIZED VIEW mv WITH (flush_rows = 5) AS SELECT 1 AS x;
CREATE INDEX o2_id ON o2 (id) WITH (flush_rows = 5);
SELECT count(*) FROM pg_class WHERE relname IN ('h2', 'mv', 'o2_id');

-- SET ACCESS METHOD: to heap drops ours and keeps heap's; back keeps heap's
CREATE TABLE sw (id int) USING rustydb WITH (fillfactor = 60, compression = 'none', stripe_rows = 5000);
INSERT INTO sw SELECT generate_series(1, 10);
ALTER TABLE sw SET ACCESS METHOD heap;
SELECT am_of('sw'), opts('sw');
ALTER TABLE sw SET (fillfactor = 65);        -- heap is happy with what is left
ALTER TABLE sw SET ACCESS METHOD rustydb;
SELECT am_of('sw'), opts('sw');
ALTER TABLE sw SET ACCESS METHOD heap, SET (flush_rows = 1);
ALTER TABLE h1 SET ACCESS METHOD rustydb, SET (flush_rows = 1);
SELECT am_of('h1'), opts('h1');
SELECT count(*), sum(id) FROM sw;

-- CREATE TABLE AS, SELECT INTO and default_table_access_method
CREATE TABLE ctas WITH (compression = 'lz4', chunk_group_rows = 2000) AS
  SELECT g AS id FROM generate_series(1, 10) g;
SELECT am_of('ctas'), opts('ctas');
CREATE TABLE ctas_using USING rustydb WITH (flush_rows = 10) AS SELECT 1 AS id;
SELECT opts('ctas_using');
SELECT g AS id INTO selinto FROM generate_series(1, 10) g;
SELECT am_of('selinto'), opts('selinto');
CREATE TABLE dflt (id int) WITH (flush_rows = 42);
SELECT am_of('dflt'), opts('dflt');
CREATE TEMP TABLE tmp (id int) WITH (compression = 'none');
SELECT am_of('tmp'), opts('tmp');
-- IF NOT EXISTS leaves an existing table's options alone
CREATE TABLE IF NOT EXISTS dflt (id int) WITH (flush_rows = 43);
CREATE TABLE IF NOT EXISTS ctas WITH (flush_rows = 43) AS SELECT 1 AS id;
SELECT opts('dflt'), opts('ctas');
-- transactional: ROLLBACK undoes them
BEGIN;
ALTER TABLE dflt SET (flush_rows = 44);
SELECT opts('dflt');
ROLLBACK;
SELECT opts('dflt');
BEGIN;
CREATE TABLE gone (id int) WITH (flush_rows = 1);
SAVEPOINT s;
ALTER TABLE gone SET (flush_rows = 2);
ROLLBACK TO s;
SELECT opts('gone');
ROLLBACK;
-- \d+ shows them with heap's
\d+ ctas

-- flush uses the table's options, not the session's
SET rustydb.compression = zstd;
SET rustydb.chunk_group_rows = 10000;
SET rustydb.stripe_rows = 150000;
CREATE TABLE f_none (id int, v text) WITH (compression = 'none', chunk_group_rows = 1000);
CREATE TABLE f_zstd (id int, v text) WITH (compression = 'zstd', compression_level = 19);
CREATE TABLE f_small (id int, v text) WITH (stripe_rows = 1000, chunk_group_rows = 1000);
CREATE TABLE f_dflt (id int, v text);
INSERT INTO f_none SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 5000) g;
INSERT INTO f_zstd SELECT * FROM f_none;
INSERT INTO f_small SELECT * FROM f_none;
INSERT INTO f_dflt SELECT * FROM f_none;
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('f_none') AS f_none, rustydb.flush('f_zstd') AS f_zstd,
       rustydb.flush('f_small') AS f_small, rustydb.flush('f_dflt') AS f_dflt;
-- chunk groups: 1000 rows each for f_none, one for f_zstd and f_dflt;
-- stripes of at most 1000 rows for f_small
SELECT t, count(*) AS stripes, sum(nrows) AS rows, sum(chunk_groups) AS chunk_groups,
       max(nrows) <= 1000 AS small_stripes
FROM (SELECT 'f_none' AS t, * FROM rustydb.stripes('f_none')
      UNION ALL SELECT 'f_zstd', * FROM rustydb.stripes('f_zstd')
      UNION ALL SELECT 'f_small', * FROM rustydb.stripes('f_small')
      UNION ALL SELECT 'f_dflt', * FROM rustydb.stripes('f_dflt')) s
GROUP BY t ORDER BY t;
-- compression: 'none' stores at least the raw bytes, zstd a fraction
SELECT (SELECT sum(stored_bytes) FROM rustydb.stripes('f_none')) >=
       (SELECT sum(raw_bytes) FROM rustydb.stripes('f_none')) AS none_is_raw,
       (SELECT sum(stored_bytes) FROM rustydb.stripes('f_zstd')) * 2 <
       (SELECT sum(raw_bytes) FROM rustydb.stripes('f_zstd')) AS zstd_compressed;
-- the rows read back
SELECT count(*), sum(id), md5(string_agg(v, ',' ORDER BY id)) = md5(string_agg(repeat(md5(id::text), 3), ',' ORDER BY id)) AS same
FROM f_none;
SELECT (SELECT md5(string_agg(f::text, ',' ORDER BY id)) FROM f_zstd f) =
       (SELECT md5(string_agg(f::text, ',' ORDER BY id)) FROM f_none f) AS zstd_same,
       (SELECT md5(string_agg(f::text, ',' ORDER BY id)) FROM f_small f) =
       (SELECT md5(string_agg(f::text, ',' ORDER BY id)) FROM f_none f) AS small_same;
-- a changed option applies to the next flush (relcache invalidation)
ALTER TABLE f_dflt SET (chunk_group_rows = 1000);
INSERT INTO f_dflt SELECT g, 'again ' || g FROM generate_series(5001, 8000) g;
SELECT rdb_test.wait_quiet();
SELECT rustydb.flush('f_dflt');
SELECT nrows, chunk_groups FROM rustydb.stripes('f_dflt') ORDER BY nrows DESC; -- in flush order (a later stripe may lie at a lower block)
RESET rustydb.compression;
RESET rustydb.chunk_group_rows;
RESET rustydb.stripe_rows;

-- rustydb.table_options: rustydb tables only, SELECT privilege needed
SELECT * FROM rustydb.table_options('h1');
SELECT * FROM rustydb.table_options('sw');
SELECT * FROM rustydb.table_options('pt');
CREATE ROLE rustydb_opt_stranger;
GRANT USAGE ON SCHEMA rustydb_opt TO rustydb_opt_stranger;
SET ROLE rustydb_opt_stranger;
SELECT * FROM rustydb.table_options('rustydb_opt.dflt');
ALTER TABLE rustydb_opt.dflt SET (flush_rows = 1);
RESET ROLE;
GRANT SELECT ON dflt TO rustydb_opt_stranger;
SET ROLE rustydb_opt_stranger;
SELECT * FROM rustydb.table_options('rustydb_opt.dflt') WHERE source = 'table';
RESET ROLE;
REVOKE ALL ON dflt FROM rustydb_opt_stranger;
REVOKE ALL ON SCHEMA rustydb_opt FROM rustydb_opt_stranger;
DROP ROLE rustydb_opt_stranger;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA rustydb_opt CASCADE;
