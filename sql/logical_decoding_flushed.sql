--
-- logical_decoding_flushed: changes to rows whose values were flushed into
-- stripes, and whose pages were retired (src/lsm/README.md "Retired
-- pages"), reach logical decoding (test_decoding) exactly as heap's do:
-- flushing, retiring, and reviving a page for a writer decode to nothing;
-- the UPDATEs and DELETEs carry the old row image REPLICA IDENTITY asks for.
-- On heap the flush is skipped.  Expected output: heap's
-- (scripts/gen_expected.sh).  Needs wal_level = logical.
--
SET client_min_messages = warning;
CREATE TABLE ldf (id int PRIMARY KEY, v text, n numeric);
CREATE TABLE ldf_full (a int, b text);
ALTER TABLE ldf_full REPLICA IDENTITY FULL;
INSERT INTO ldf SELECT g, 'v' || g, g / 4.0 FROM generate_series(1, 3000) g;
INSERT INTO ldf_full SELECT g, 'b' || g FROM generate_series(1, 3000) g;
RESET client_min_messages;

-- flush (rustydb only) and VACUUM: the rows move into stripes, their pages
-- are retired; none of it is a row change
CREATE FUNCTION ldf_flush(t regclass) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
  IF (SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam
       WHERE c.oid = t) = 'rustydb' THEN
    -- rows are flushed once no other snapshot could miss them
    PERFORM rdb_test.wait_quiet();
    PERFORM rustydb.flush(t);
  END IF;
END $f$;

SELECT 'init' FROM pg_create_logical_replication_slot('rdb_ldf', 'test_decoding');

CREATE FUNCTION ldf_changes() RETURNS SETOF text LANGUAGE sql AS $$
	SELECT data FROM pg_logical_slot_get_changes('rdb_ldf', NULL, NULL,
		'include-xids', '0', 'skip-empty-xacts', '1')
$$;

SELECT ldf_flush('ldf');
SELECT ldf_flush('ldf_full');
VACUUM ldf;
VACUUM ldf_full;
SELECT * FROM ldf_changes();

-- writes to flushed rows (on rustydb their pages are revived first)
UPDATE ldf SET v = 'updated' WHERE id = 10;
UPDATE ldf SET id = -11 WHERE id = 11;
DELETE FROM ldf WHERE id = 12;
SELECT * FROM ldf WHERE id = 13 FOR UPDATE;
UPDATE ldf_full SET b = 'changed' WHERE a = 20;
DELETE FROM ldf_full WHERE a = 21;
-- a new row (on rustydb: into a reused block)
INSERT INTO ldf VALUES (5000, 'new', 1);
-- an upsert of a flushed row
INSERT INTO ldf VALUES (14, 'conflict', 0) ON CONFLICT (id) DO UPDATE SET v = excluded.v;
SELECT * FROM ldf_changes();

-- flush and VACUUM again, then change the same rows once more
SELECT ldf_flush('ldf');
VACUUM ldf;
BEGIN;
UPDATE ldf SET n = n + 1 WHERE id = 10;
UPDATE ldf SET n = n + 1 WHERE id = 5000;
UPDATE ldf SET n = n + 1 WHERE id = 2999;
DELETE FROM ldf WHERE id = 3000;
COMMIT;
SELECT * FROM ldf_changes();

-- rows moved while their transaction runs (flush_running, rustydb only),
-- then updated and deleted by it, with REPLICA IDENTITY FULL: the old row
-- images come from the stubs' stripes; the changes decode as heap's
CREATE FUNCTION ldf_flush_running(t regclass) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
  IF (SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam
       WHERE c.oid = t) = 'rustydb' THEN
    EXECUTE format('ALTER TABLE %s SET (flush_running = on)', t);
  END IF;
END $f$;
CREATE FUNCTION ldf_flush_own(t regclass) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
  IF (SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam
       WHERE c.oid = t) = 'rustydb' THEN
    IF rustydb.flush(t) = 0 THEN
      RAISE EXCEPTION 'no row of the running transaction moved';
    END IF;
  END IF;
END $f$;
SELECT ldf_flush_running('ldf_full');
BEGIN;
INSERT INTO ldf_full SELECT g, 'r' || g FROM generate_series(4001, 4004) g;
SELECT ldf_flush_own('ldf_full');
UPDATE ldf_full SET b = 'r-updated' WHERE a = 4001;
DELETE FROM ldf_full WHERE a = 4002;
COMMIT;
SELECT * FROM ldf_changes();

SELECT count(*), sum(id), sum(n) FROM ldf;
SELECT count(*), sum(a) FROM ldf_full;
SELECT 'dropped' FROM pg_drop_replication_slot('rdb_ldf');
DROP TABLE ldf, ldf_full;
DROP FUNCTION ldf_flush(regclass);
DROP FUNCTION ldf_flush_running(regclass);
DROP FUNCTION ldf_flush_own(regclass);
DROP FUNCTION ldf_changes();
