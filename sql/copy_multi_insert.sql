--
-- copy_multi_insert: COPY FROM into a default-AM table.
--
-- COPY into a plain table goes through the AM's multi_insert callback in
-- batches (1000 rows or 64 kB); with a BEFORE ROW trigger it falls back to
-- single-row inserts; into a partitioned table it batches per partition.
-- Contents are compared with the source rows, including a COPY that fails
-- after several batches were already handed to the AM (none of them may stay
-- visible) and COPY FREEZE.
--
CREATE SCHEMA copy_multi_insert;
SET search_path = copy_multi_insert;

-- files written and read by the server live in the results directory
\getenv abs_builddir PG_ABS_BUILDDIR
\set copyfile :abs_builddir '/results/copy_multi_insert.data'
\set badfile :abs_builddir '/results/copy_multi_insert_bad.data'

-- small inline data: text format, NULLs, escapes, defaults for missing columns
CREATE TABLE small (id int, s text, d date, n numeric DEFAULT 42);
COPY small (id, s, d) FROM stdin;
1	plain	2024-01-01
2	\N	\N
3	tab\there	2024-02-29
4	back\\slash	1999-12-31
5	new\nline	2000-01-01
\.
SELECT id, s, d, n FROM small ORDER BY id;

-- CSV with quotes, embedded delimiters and an explicit NULL string
COPY small FROM stdin WITH (FORMAT csv, NULL 'NIL', HEADER true);
id,s,d,n
6,"a,b",2024-03-01,1.5
7,"quote""d",NIL,NIL
8,,2024-03-03,0
\.
SELECT id, s, d, n FROM small WHERE id >= 6 ORDER BY id;

-- COPY ... WHERE filters rows before they reach the table
COPY small FROM stdin WHERE id % 2 = 0;
9	odd	2024-04-01	9
10	even	2024-04-02	10
\.
SELECT id, s FROM small WHERE id >= 9 ORDER BY id;

-- COPY TO, in a deterministic order
COPY (SELECT * FROM small ORDER BY id) TO stdout;
COPY (SELECT * FROM small ORDER BY id) TO stdout WITH (FORMAT csv);

-- a large COPY: many multi-insert batches, rows of varying width
CREATE TABLE src AS
SELECT g AS id, md5(g::text) AS h, repeat('p', g % 500) AS pad,
       CASE WHEN g % 10 = 0 THEN NULL ELSE g * 0.5 END AS x
FROM generate_series(1, 50000) g;
COPY (SELECT * FROM src ORDER BY id) TO :'copyfile';
CREATE TABLE big (id int, h text, pad text, x numeric);
COPY big FROM :'copyfile';
SELECT count(*), sum(id), count(x), sum(length(pad)) FROM big;
(SELECT * FROM src EXCEPT ALL SELECT * FROM big)
UNION ALL
(SELECT * FROM big EXCEPT ALL SELECT * FROM src);
SELECT (SELECT md5(string_agg(big::text, '|' ORDER BY id)) FROM big) =
       (SELECT md5(string_agg(src::text, '|' ORDER BY id)) FROM src) AS identical;

-- with a unique index: a second COPY of the same rows fails on the first
-- key, after the AM already received a whole batch; nothing of it remains
CREATE UNIQUE INDEX big_id ON big (id);
COPY big FROM :'copyfile';
SELECT count(*) FROM big;
-- every copied row is reachable through the index
TRUNCATE big;
COPY big FROM :'copyfile';
SET enable_seqscan = off;
SELECT count(*), sum(id) FROM big WHERE id BETWEEN 1000 AND 2000;
SELECT id, h FROM big WHERE id IN (1, 999, 1000, 1001, 25000, 50000) ORDER BY id;
RESET enable_seqscan;

-- a COPY failing after 40000 good rows leaves nothing behind
COPY (SELECT id::text, h, pad, x FROM src WHERE id <= 40000
      UNION ALL SELECT 'oops', 'h', 'p', '1') TO :'badfile';
CREATE TABLE target (id int, h text, pad text, x numeric);
INSERT INTO target VALUES (0, 'before', '', 0);
COPY target FROM :'badfile';
SELECT count(*), sum(id) FROM target;
-- the same in a transaction that then commits something else
BEGIN;
INSERT INTO target VALUES (-1, 'in xact', '', 0);
SAVEPOINT s;
COPY target FROM :'badfile';
ROLLBACK TO SAVEPOINT s;
COPY target FROM :'copyfile';
COMMIT;
SELECT count(*), sum(id), count(*) FILTER (WHERE id <= 0) AS extra FROM target;

-- single-row path: a BEFORE ROW trigger that changes rows on the way in
CREATE TABLE trig (id int, h text, pad text, x numeric);
CREATE FUNCTION trig_fn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id % 1000 = 0 THEN RETURN NULL; END IF;  -- skip some rows
  NEW.x := coalesce(NEW.x, -1);
  RETURN NEW;
END $$;
CREATE TRIGGER trig_before BEFORE INSERT ON trig FOR EACH ROW EXECUTE FUNCTION trig_fn();
COPY trig FROM :'copyfile';
SELECT count(*), sum(id), count(*) FILTER (WHERE x = -1) AS nulls_replaced FROM trig;

-- partitioned target: rows routed to partitions, batched per partition
CREATE TABLE parted (id int, h text, pad text, x numeric) PARTITION BY RANGE (id);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (1) TO (20001);
CREATE TABLE parted_2 PARTITION OF parted FOR VALUES FROM (20001) TO (40001);
CREATE TABLE parted_3 PARTITION OF parted DEFAULT;
COPY parted FROM :'copyfile';
SELECT tableoid::regclass AS part, count(*), min(id), max(id) FROM parted GROUP BY 1 ORDER BY 1;
SELECT c.relname, a.amname = current_setting('default_table_access_method') AS uses_default_am
FROM pg_class c JOIN pg_am a ON a.oid = c.relam
WHERE c.relname LIKE 'parted\__' AND c.relnamespace = 'copy_multi_insert'::regnamespace
ORDER BY c.relname;

-- COPY FREEZE into a table created in the same transaction
BEGIN;
CREATE TABLE frozen (id int, h text, pad text, x numeric);
COPY frozen FROM :'copyfile' WITH (FREEZE);
SELECT count(*) FROM frozen;
COMMIT;
SELECT count(*), sum(id), md5(string_agg(h, '' ORDER BY id)) = md5((SELECT string_agg(h, '' ORDER BY id) FROM src))
  AS same_h
FROM frozen;
-- and after TRUNCATE in the same transaction
BEGIN;
TRUNCATE frozen;
COPY frozen FROM :'copyfile' WITH (FREEZE);
COMMIT;
SELECT count(*), sum(id) FROM frozen;
-- FREEZE is refused when the table was not created or truncated in this
-- transaction
BEGIN;
COPY frozen FROM :'copyfile' WITH (FREEZE);
ROLLBACK;
SELECT count(*) FROM frozen;

-- binary format round trip
\set binfile :abs_builddir '/results/copy_multi_insert.bin'
COPY (SELECT * FROM src WHERE id <= 5000 ORDER BY id) TO :'binfile' WITH (FORMAT binary);
CREATE TABLE bin (id int, h text, pad text, x numeric);
COPY bin FROM :'binfile' WITH (FORMAT binary);
SELECT count(*), sum(id), sum(length(pad)), sum(x) FROM bin;

-- a rolled-back COPY
BEGIN;
COPY bin FROM :'binfile' WITH (FORMAT binary);
SELECT count(*) FROM bin;
ROLLBACK;
SELECT count(*) FROM bin;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA copy_multi_insert CASCADE;
