--
-- toast: large values in a default-AM table, through its TOAST table.
--
-- Values of 1 MB, 10 MB and 100 MB, compressible and incompressible, must
-- round-trip exactly (length and md5), also after updates of other columns
-- and of the value itself.  The AM must hand wide rows to the toaster on
-- insert and update and release the old value's chunks on update and delete:
-- the number of distinct values stored in the TOAST table is checked.
--
CREATE SCHEMA toast;
SET search_path = toast;

-- incompressible bytes: md5 output is uniformly random; a 1 MB block repeated
-- is still incompressible for pglz and lz4, whose windows are far shorter
CREATE FUNCTION random_block(seed int, nbytes int) RETURNS bytea LANGUAGE sql IMMUTABLE
AS $$ SELECT decode(string_agg(md5(seed::text || ':' || g), '' ORDER BY g), 'hex')
      FROM generate_series(1, nbytes / 16) g $$;
CREATE FUNCTION incompressible(seed int, mb int) RETURNS bytea LANGUAGE sql IMMUTABLE
AS $$ SELECT decode(repeat(encode(toast.random_block(seed, 1048576), 'hex'), mb), 'hex') $$;

CREATE TABLE big (id int PRIMARY KEY, label text, t text, b bytea);
SELECT reltoastrelid <> 0 AS has_toast_table FROM pg_class WHERE oid = 'big'::regclass;
SELECT reltoastrelid::regclass AS toastrel FROM pg_class WHERE oid = 'big'::regclass \gset

-- 1 MB and 10 MB, compressible text and incompressible bytea
INSERT INTO big VALUES
  (1, 'text 1MB', repeat('abcdefghij', 104858), NULL),
  (2, 'text 10MB', repeat('0123456789abcdef', 655360), NULL),
  (3, 'bytes 1MB', NULL, incompressible(3, 1)),
  (4, 'bytes 10MB', NULL, incompressible(4, 10));
SELECT id, label, length(t) AS t_len, md5(t) AS t_md5, length(b) AS b_len, md5(b) AS b_md5,
       pg_column_compression(t) AS t_comp, pg_column_compression(b) AS b_comp
FROM big ORDER BY id;
SELECT md5(repeat('abcdefghij', 104858)) AS expect_1, md5(repeat('0123456789abcdef', 655360)) AS expect_2,
       md5(incompressible(3, 1)) AS expect_3, md5(incompressible(4, 10)) AS expect_4;
SELECT count(DISTINCT chunk_id) AS toasted_values FROM :toastrel;

-- slices of out-of-line values
SELECT substr(t, 1048570, 10) FROM big WHERE id = 1;
SELECT substr(t, 5000000, 20) FROM big WHERE id = 2;
SELECT encode(substr(b, 1, 8), 'hex') = encode(substr(random_block(4, 16), 1, 8), 'hex') AS b_head_ok
FROM big WHERE id = 4;

-- updating another column keeps the values intact
UPDATE big SET label = label || ' (relabelled)';
SELECT id, label, length(t), md5(t), length(b), md5(b) FROM big ORDER BY id;
SELECT count(DISTINCT chunk_id) AS toasted_values FROM :toastrel;

-- updating the value itself: new contents, the old value's chunks released
UPDATE big SET t = repeat('z', 2000000) WHERE id = 1;
UPDATE big SET b = incompressible(40, 2) WHERE id = 4;
SELECT id, length(t), md5(t) = md5(repeat('z', 2000000)) AS t_ok,
       length(b), md5(b) = md5(incompressible(40, 2)) AS b_ok
FROM big WHERE id IN (1, 4) ORDER BY id;
SELECT count(DISTINCT chunk_id) AS toasted_values FROM :toastrel;

-- a rolled-back update and a rolled-back insert leave the committed values
BEGIN;
UPDATE big SET t = 'short' WHERE id = 2;
INSERT INTO big VALUES (5, 'rolled back', repeat('r', 3000000), incompressible(5, 1));
ROLLBACK;
SELECT id, length(t), md5(t) FROM big WHERE id IN (2, 5) ORDER BY id;
SELECT count(DISTINCT chunk_id) AS toasted_values FROM :toastrel;

-- delete releases the chunks
DELETE FROM big WHERE id = 3;
SELECT count(*) FROM big;
SELECT count(DISTINCT chunk_id) AS toasted_values FROM :toastrel;

-- values just around the inline/toast threshold, each with a checksum
CREATE TABLE mid (n int, s text, h bytea);
INSERT INTO mid SELECT n, repeat(md5(n::text), n / 32 + 1), random_block(n, n)
FROM generate_series(1000, 9000, 250) n;
SELECT count(*), bool_and(length(s) = (n / 32 + 1) * 32) AS s_len_ok,
       bool_and(s = repeat(md5(n::text), n / 32 + 1)) AS s_ok,
       bool_and(h = random_block(n, n)) AS h_ok
FROM mid;

-- storage strategies and lz4 (if the server has it, which Debian's has)
CREATE TABLE strat (id int, ext text, main text, l text COMPRESSION lz4);
ALTER TABLE strat ALTER COLUMN ext SET STORAGE EXTERNAL, ALTER COLUMN main SET STORAGE MAIN;
INSERT INTO strat SELECT g, repeat('e', 100000 * g), repeat('m', 100000 * g), repeat('l', 100000 * g)
FROM generate_series(1, 3) g;
SELECT id, length(ext), length(main), length(l),
       pg_column_compression(ext) AS ext_comp, pg_column_compression(main) AS main_comp,
       pg_column_compression(l) AS l_comp
FROM strat ORDER BY id;
SELECT substr(ext, 250000, 5) FROM strat WHERE id = 3;

-- a 100 MB value, incompressible, in and out (once; this is the slow part)
CREATE TABLE huge (id int, b bytea);
SELECT reltoastrelid::regclass AS hugetoast FROM pg_class WHERE oid = 'huge'::regclass \gset
INSERT INTO huge VALUES (1, incompressible(100, 100));
SELECT length(b), md5(b) = md5(incompressible(100, 100)) AS identical FROM huge;
-- and a 100 MB compressible value
INSERT INTO huge VALUES (2, convert_to(repeat('rustydb ', 13107200), 'UTF8'));
SELECT id, length(b), md5(b) FROM huge WHERE id = 2;
SELECT md5(convert_to(repeat('rustydb ', 13107200), 'UTF8')) AS expected;
SELECT count(DISTINCT chunk_id) AS toasted_values FROM :hugetoast;
DELETE FROM huge;
SELECT count(*) FROM huge;
SELECT count(DISTINCT chunk_id) AS toasted_values FROM :hugetoast;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA toast CASCADE;
