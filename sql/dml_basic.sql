--
-- dml_basic: INSERT and SELECT round trips on tables of the database's default
-- table access method (rustydb under `make test`, heap when the expected
-- output is generated).
--
-- Every result is compared as a value or as an md5 over the ordered rows, so
-- a store that loses, duplicates or garbles rows, mixes up columns, mishandles
-- NULLs or alignment, or cannot span many pages fails here.
--
CREATE SCHEMA dml_basic;
SET search_path = dml_basic;

CREATE TABLE t (id int, name text, amount numeric(12,2), flag boolean, created date);

-- The table uses the database's default AM: nothing here may silently be heap
-- when the suite runs on rustydb.
SELECT a.amname = current_setting('default_table_access_method') AS uses_default_am
FROM pg_class c JOIN pg_am a ON a.oid = c.relam
WHERE c.oid = 't'::regclass;

-- an empty table
SELECT count(*) FROM t;
SELECT * FROM t;

-- single-row inserts, with NULLs in every position
INSERT INTO t VALUES (1, 'one', 1.5, true, '2024-01-01');
INSERT INTO t VALUES (2, NULL, NULL, NULL, NULL);
INSERT INTO t (id) VALUES (3);
INSERT INTO t VALUES (4, '', 0, false, '1999-12-31') RETURNING *;
INSERT INTO t (created, id) VALUES ('2000-02-29', 5) RETURNING id, created;
SELECT * FROM t ORDER BY id;

-- rows written in this session are read back by value
SELECT id, name IS NULL AS name_null, amount, flag FROM t WHERE id = 2;
SELECT count(*) FROM t WHERE name IS NULL;
SELECT count(*) FROM t WHERE name = '';

-- many rows over many pages, in one statement and in a multi-row VALUES list
INSERT INTO t SELECT g, 'row ' || g, g * 1.25, g % 2 = 0, date '2024-01-01' + g
FROM generate_series(6, 20000) g;
INSERT INTO t VALUES (20001, 'a', 1, true, NULL), (20002, 'b', 2, false, NULL),
                     (20003, NULL, 3, NULL, '2030-01-01');
SELECT count(*), count(name), count(amount), count(flag), count(created),
       sum(id), sum(amount), min(created), max(created)
FROM t;
SELECT * FROM t WHERE id BETWEEN 9998 AND 10002 ORDER BY id;
SELECT flag, count(*), sum(amount) FROM t GROUP BY flag ORDER BY flag;

-- a content checksum: any lost, duplicated or altered row changes it
SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM t;

-- no duplicates came out of the scan
SELECT count(*) AS dup_ids FROM (SELECT id FROM t GROUP BY id HAVING count(*) > 1) d;

-- rescans of the same table inside one query (nested loop, self join)
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_material = off;
SELECT count(*) FROM t a JOIN t b ON a.id = b.id + 1 WHERE a.id <= 100;
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_material;

-- a LIMIT stops a scan early; a new scan still sees everything
SELECT count(*) FROM (SELECT * FROM t LIMIT 10) s;
SELECT count(*) FROM t;

-- columns of every alignment, with NULLs between them (exercises the null
-- bitmap and attribute alignment of the stored row format)
CREATE TABLE align (c1 bool, c2 int8, c3 "char", c4 int2, c5 float8, c6 char(3),
                    c7 text, c8 int4, c9 float4, c10 bool, c11 int8, c12 varchar(10));
INSERT INTO align
SELECT g % 2 = 0,
       CASE WHEN g % 3 = 0 THEN NULL ELSE g * 1000000007::int8 END,
       chr(65 + g % 26)::"char",
       CASE WHEN g % 5 = 0 THEN NULL ELSE (g % 30000)::int2 END,
       g / 7.0,
       CASE WHEN g % 7 = 0 THEN NULL ELSE lpad((g % 1000)::text, 3, '0') END,
       repeat('x', g % 300),
       CASE WHEN g % 11 = 0 THEN NULL ELSE -g END,
       g::float4 / 3,
       CASE WHEN g % 13 = 0 THEN NULL ELSE g % 3 = 0 END,
       -g::int8 * 65536,
       CASE WHEN g % 17 = 0 THEN NULL ELSE 'v' || g END
FROM generate_series(1, 3000) g;
SELECT c1, c2, c3, c4, c5, c6, length(c7) AS c7_len, c8, c9, c10, c11, c12
FROM align WHERE c8 IN (-1, -2, -3, -10, -12, -299, -300) OR c8 IS NULL AND c11 > -65536 * 34
ORDER BY c11 DESC;
SELECT count(*), count(c2), count(c4), count(c6), count(c8), count(c10), count(c12),
       sum(c2), sum(c4), sum(length(c7)), sum(c8), sum(c11)
FROM align;
SELECT md5(string_agg(align::text, '|' ORDER BY c11)) FROM align;

-- a table without columns still counts its rows
CREATE TABLE nocols ();
INSERT INTO nocols DEFAULT VALUES;
INSERT INTO nocols SELECT FROM generate_series(1, 999);
SELECT count(*) FROM nocols;

-- all-NULL rows and rows of only NULLs in a wide table
CREATE TABLE wide AS
SELECT g AS id, NULL::int AS a1, NULL::text AS a2, NULL::numeric AS a3, NULL::date AS a4,
       NULL::int8 AS a5, NULL::bool AS a6, NULL::float8 AS a7, NULL::text AS a8
FROM generate_series(1, 100) g;
SELECT count(*), count(a1), count(a2), count(a8) FROM wide;
INSERT INTO wide VALUES (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SELECT count(*) FROM wide WHERE wide IS NULL;

-- values of every varlena header size: 1-byte headers (< 127 bytes) and
-- 4-byte headers, stored inline
CREATE TABLE lens (n int, s text);
INSERT INTO lens SELECT n, repeat(chr(97 + n % 26), n)
FROM generate_series(0, 2000, 1) n;
SELECT count(*), sum(length(s)), bool_and(length(s) = n) AS lengths_ok,
       bool_and(s = repeat(chr(97 + n % 26), n)) AS contents_ok
FROM lens;
SELECT n, length(s), left(s, 3) FROM lens WHERE n IN (0, 1, 126, 127, 128, 2000) ORDER BY n;

-- tableoid is the table's own oid
SELECT DISTINCT tableoid = 't'::regclass AS tableoid_ok FROM t;

-- CREATE TABLE AS and SELECT INTO create default-AM tables with the same rows
CREATE TABLE t_copy AS SELECT * FROM t;
SELECT * INTO t_into FROM t WHERE id % 2 = 0;
SELECT c.relname, a.amname = current_setting('default_table_access_method') AS uses_default_am
FROM pg_class c JOIN pg_am a ON a.oid = c.relam
WHERE c.relname IN ('t_copy', 't_into') AND c.relnamespace = 'dml_basic'::regnamespace
ORDER BY c.relname;
SELECT (SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM t) =
       (SELECT md5(string_agg(t_copy::text, '|' ORDER BY id)) FROM t_copy) AS copy_identical;
SELECT count(*), sum(id) FROM t_into;
(SELECT * FROM t WHERE id % 2 = 0 EXCEPT ALL SELECT * FROM t_into)
UNION ALL
(SELECT * FROM t_into EXCEPT ALL SELECT * FROM t WHERE id % 2 = 0);

-- rows survive a new transaction and a fresh catalog lookup
\c
SET search_path = dml_basic;
SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM t;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA dml_basic CASCADE;
