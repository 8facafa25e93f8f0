--
-- rustydb_api.sql: pgTAP checks pinning the SQL-visible API of rustydb_am:
-- the extension (name, version, schema), the handler function and the
-- table access method, and the errors bad table definitions get.
--
-- Run with pg_prove in a database where rustydb_am and pgtap are installed
-- (scripts/test.sh does that); everything is rolled back at the end.
--
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
RESET client_min_messages;

SELECT plan(28);

-- the extension
SELECT has_extension('rustydb_am', 'extension rustydb_am is installed');
SELECT is((SELECT extversion FROM pg_extension WHERE extname = 'rustydb_am'), '0.8.0',
          'extension version is 0.8.0');
SELECT is((SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'rustydb_am'), 'rustydb',
          'extension lives in schema rustydb');
SELECT is((SELECT extrelocatable FROM pg_extension WHERE extname = 'rustydb_am'), false,
          'extension is not relocatable');
SELECT has_schema('rustydb', 'schema rustydb exists');

-- the handler function
SELECT has_function('rustydb', 'rustydb_am_handler', ARRAY['internal'],
                    'handler rustydb.rustydb_am_handler(internal) exists');
SELECT function_returns('rustydb', 'rustydb_am_handler', ARRAY['internal'], 'table_am_handler',
                        'handler returns table_am_handler');
SELECT function_lang_is('rustydb', 'rustydb_am_handler', ARRAY['internal'], 'c',
                        'handler is a C function');
SELECT is_strict('rustydb', 'rustydb_am_handler', ARRAY['internal'], 'handler is strict');

-- compaction (0.4.0)
SELECT has_function('rustydb', 'compact', ARRAY['regclass'], 'rustydb.compact(regclass) exists');
SELECT function_returns('rustydb', 'compact', ARRAY['regclass'], 'bigint',
                        'rustydb.compact returns the stripes it rewrote');
SELECT has_view('rustydb', 'compaction_progress', 'view rustydb.compaction_progress exists');
SELECT has_column('rustydb', 'tables', 'stripes_per_level', 'rustydb.tables shows stripes per level');

-- the directory's leaf-group summaries (0.5.0)
SELECT has_function('rustydb', 'directory_groups', ARRAY['regclass'],
                    'rustydb.directory_groups(regclass) exists');
SELECT is_strict('rustydb', 'directory_groups', ARRAY['regclass'], 'rustydb.directory_groups is strict');

-- where the stripes' pages are (0.6.0)
SELECT has_function('rustydb', 'stripe_space', ARRAY['regclass'],
                    'rustydb.stripe_space(regclass) exists');
SELECT is_strict('rustydb', 'stripe_space', ARRAY['regclass'], 'rustydb.stripe_space is strict');

-- the access method
SELECT is((SELECT count(*)::int FROM pg_am WHERE amname = 'rustydb'), 1, 'access method rustydb exists');
SELECT is((SELECT amtype::text FROM pg_am WHERE amname = 'rustydb'), 't', 'rustydb is a table access method');
SELECT is((SELECT amhandler::oid FROM pg_am WHERE amname = 'rustydb'),
          'rustydb.rustydb_am_handler(internal)'::regprocedure::oid,
          'rustydb is served by rustydb.rustydb_am_handler');
SELECT ok(EXISTS (SELECT 1 FROM pg_depend
                  WHERE classid = 'pg_am'::regclass
                    AND objid = (SELECT oid FROM pg_am WHERE amname = 'rustydb')
                    AND refclassid = 'pg_extension'::regclass
                    AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'rustydb_am')
                    AND deptype = 'e'),
          'the access method is a member of the extension');
SELECT ok(current_setting('shared_preload_libraries') ~ '(^|[ ,])rustydb_am($|[ ,])',
          'rustydb_am is in shared_preload_libraries');

-- tables get it when asked, by USING or by default_table_access_method
CREATE TABLE api_using (id int) USING rustydb;
SET LOCAL default_table_access_method = rustydb;
CREATE TABLE api_default (id int);
CREATE TEMP TABLE api_temp (id int);
SELECT is(ARRAY(SELECT a.amname::text FROM pg_class c JOIN pg_am a ON a.oid = c.relam
                WHERE c.oid IN ('api_using'::regclass, 'api_default'::regclass, 'api_temp'::regclass)),
          ARRAY['rustydb', 'rustydb', 'rustydb'], 'USING, the default and temp tables are rustydb');
SELECT lives_ok('CREATE TABLE api_wide (id int, v text) USING rustydb', 'a table with a text column');
SELECT isnt((SELECT reltoastrelid FROM pg_class WHERE oid = 'api_wide'::regclass), 0::oid,
            'it has a TOAST table');

-- bad definitions get clear errors
SELECT throws_ok('CREATE TABLE api_bad (id int) USING rustydb WITH (no_such_option = 1)',
                 '22023', 'unrecognized parameter "no_such_option"', 'unknown reloption is rejected');
SELECT throws_ok('CREATE TABLE api_bad (id int) USING rustydb WITH (fillfactor = 5)',
                 '22023', NULL, 'out-of-range fillfactor is rejected');
SELECT throws_ok('SET rustydb.no_such_setting = 1', '42602', NULL,
                 'the rustydb. GUC prefix is reserved');

SELECT * FROM finish();
ROLLBACK;
