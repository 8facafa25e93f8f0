--
-- rustydb_am: the rustydb access method itself (AM-specific; the expected
-- output is rustydb's, written and checked by hand).
--
-- Guards the suite against silently running on heap: the database default
-- must be rustydb and tables created without USING must get it.  Pins the
-- catalog entries (pg_am, handler, extension), the explicit USING forms,
-- SET ACCESS METHOD both ways, and the errors for bad input.
--

-- (the test user may be called rustydb, whose "$user" schema would then be
-- the extension's schema: use a fixed path so that names print qualified)
SET search_path = public;

-- the suite runs with rustydb as the database's default table AM, and the
-- library is preloaded (it registers a WAL resource manager)
SHOW default_table_access_method;
SELECT current_setting('shared_preload_libraries') ~ '(^|[ ,])rustydb_am($|[ ,])' AS preloaded;

-- catalog entries
SELECT amname, amtype, amhandler::regprocedure FROM pg_am WHERE amname = 'rustydb';
SELECT extname, extversion, extnamespace::regnamespace, extrelocatable
FROM pg_extension WHERE extname = 'rustydb_am';
SELECT p.oid::regprocedure, p.prorettype::regtype, l.lanname, p.proisstrict, p.prosrc
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
WHERE p.proname = 'rustydb_am_handler';
SELECT obj_description(oid, 'pg_am') FROM pg_am WHERE amname = 'rustydb';
-- everything the extension owns
SELECT pg_describe_object(classid, objid, objsubid) AS member
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'rustydb_am')
ORDER BY 1;

CREATE SCHEMA rustydb_am_test;
SET search_path = rustydb_am_test;

-- am_of(rel): the access method of a relation
CREATE FUNCTION am_of(rel regclass) RETURNS name LANGUAGE sql AS $$
  SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.oid = rel $$;

-- every way of creating a table gets rustydb unless told otherwise
CREATE TABLE plain (id int, v text);
CREATE TABLE explicit_r (id int, v text) USING rustydb;
CREATE TABLE explicit_h (id int, v text) USING heap;
CREATE TABLE ctas AS SELECT g AS id FROM generate_series(1, 10) g;
CREATE TABLE ctas_using USING heap AS SELECT g AS id FROM generate_series(1, 10) g;
SELECT g AS id INTO selinto FROM generate_series(1, 10) g;
CREATE TEMP TABLE tmp (id int);
CREATE UNLOGGED TABLE unl (id int);
CREATE MATERIALIZED VIEW mv AS SELECT id FROM ctas;
CREATE TABLE parted (id int) PARTITION BY RANGE (id);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (100);
CREATE TABLE liked (LIKE plain);
SELECT c.relname, c.relkind, c.relpersistence, coalesce(a.amname, '-') AS am
FROM pg_class c LEFT JOIN pg_am a ON a.oid = c.relam
WHERE c.relname IN ('plain', 'explicit_r', 'explicit_h', 'ctas', 'ctas_using', 'selinto', 'tmp',
                    'unl', 'mv', 'parted', 'parted_1', 'liked')
ORDER BY c.relname;
-- a rustydb table gets a (heap) TOAST table; indexes are not table AMs
SELECT am_of(reltoastrelid) AS toast_am FROM pg_class WHERE oid = 'plain'::regclass;
CREATE INDEX plain_id ON plain (id);
SELECT am_of('plain_id');

-- the tables hold rows (a catalog-only stub would fail from here on)
INSERT INTO plain SELECT g, 'p' || g FROM generate_series(1, 1000) g;
INSERT INTO explicit_r SELECT * FROM plain WHERE id <= 10;
SELECT count(*), sum(id) FROM plain;
SELECT count(*), sum(id) FROM explicit_r;
SELECT pg_relation_size('plain') > 0 AS has_storage;

-- SET ACCESS METHOD rustydb -> heap -> rustydb, keeping rows and indexes
UPDATE plain SET v = v || '!' WHERE id % 3 = 0;
DELETE FROM plain WHERE id % 5 = 0;
SELECT md5(string_agg(p::text, '|' ORDER BY id)) AS before FROM plain p \gset
ALTER TABLE plain SET ACCESS METHOD heap;
SELECT am_of('plain'), md5(string_agg(p::text, '|' ORDER BY id)) = :'before' AS same FROM plain p;
ALTER TABLE plain SET ACCESS METHOD rustydb;
SELECT am_of('plain'), md5(string_agg(p::text, '|' ORDER BY id)) = :'before' AS same FROM plain p;
SET enable_seqscan = off;
SELECT count(*), sum(id) FROM plain WHERE id BETWEEN 100 AND 200;
RESET enable_seqscan;
ALTER TABLE explicit_h SET ACCESS METHOD rustydb;
ALTER MATERIALIZED VIEW mv SET ACCESS METHOD heap;
SELECT am_of('explicit_h') AS explicit_h, am_of('mv') AS mv;

-- bad input: clear errors, nothing lost
CREATE TABLE bad (id int) USING no_such_am;
CREATE TABLE bad (id int) USING btree;
CREATE TABLE bad (id int) USING rustydb WITH (no_such_option = 1);
CREATE TABLE bad (id int) USING rustydb WITH (fillfactor = 5);
CREATE TABLE bad (id int) USING rustydb WITH (fillfactor = 'high');
ALTER TABLE plain SET (no_such_option = 1);
SET rustydb.no_such_setting = 1;
-- a row too wide for a page, even with TOAST (1600 non-toastable columns)
DO $$
BEGIN
  EXECUTE 'CREATE TABLE rustydb_am_test.toowide (' ||
          (SELECT string_agg('c' || g || ' int8 DEFAULT ' || g, ', ') FROM generate_series(1, 1500) g) || ')';
END $$;
DO $$
BEGIN
  INSERT INTO rustydb_am_test.toowide DEFAULT VALUES;
EXCEPTION WHEN program_limit_exceeded THEN
  RAISE NOTICE 'program_limit_exceeded: %', SQLERRM;
END $$;
SELECT count(*) FROM toowide;
SELECT count(*), sum(id) FROM plain;
-- the AM's handler cannot be called as a function
SELECT rustydb.rustydb_am_handler(NULL);
-- the access method cannot be dropped while the extension owns it, and the
-- extension not while tables use it
DROP ACCESS METHOD rustydb;
\set VERBOSITY terse
DROP EXTENSION rustydb_am;
\set VERBOSITY default
SELECT count(*) FROM pg_am WHERE amname = 'rustydb';

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA rustydb_am_test CASCADE;
