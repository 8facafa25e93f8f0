--
-- rustydb_events_input: names and numbers that go into event payloads
-- (issue 7, items 14 and 15; AM-specific, expected output written by hand).
--
-- 14. Table names are schema-qualified and complete (63 + 1 + 63 bytes), and
--     a text that does not fit is cut on a character boundary: the payload
--     stays valid UTF-8 (jsonb would refuse it otherwise).
-- 15. rustydb.event_payload() refuses numbers its fields cannot hold:
--     integers beyond bigint, floats beyond double precision, timestamps
--     beyond timestamptz, all with SQLSTATE 22003.
--
SET search_path = public;
SET client_min_messages = warning;

-- 14: a schema of 61 bytes and a table of 63 bytes ("€" is 3 bytes in
-- UTF-8): "schema.table" is 125 bytes, and byte 63 falls inside a character.
SELECT 'a' || repeat('€', 20) AS nsp, repeat('€', 21) AS rel \gset
SELECT octet_length(:'nsp') AS nsp_bytes, octet_length(:'rel') AS rel_bytes;
CREATE SCHEMA :"nsp";
CREATE TABLE :"nsp".:"rel" (id int, v text) USING rustydb;
SELECT coalesce(max(seq), 0) AS seq0 FROM rustydb.events \gset
COPY :"nsp".:"rel" (id) FROM stdin;
1
2
3
\.
SELECT variant,
       payload->'data'->'BatchInserted'->>'table_name' = :'nsp' || '.' || :'rel' AS full_name,
       octet_length(payload->'data'->'BatchInserted'->>'table_name') AS bytes,
       (payload->'data'->'BatchInserted'->>'rows')::int AS rows
FROM rustydb.events_since(:seq0)
WHERE variant = 'BatchInserted' AND relation = format('%I.%I', :'nsp', :'rel')::regclass;
DROP SCHEMA :"nsp" CASCADE;

-- a text longer than a field holds is cut on a character boundary
SELECT length(t) AS chars, octet_length(t) AS bytes, t = repeat('é', length(t)) AS whole_chars
FROM (SELECT rustydb.event_payload('BatchInserted',
        jsonb_build_object('table_name', repeat('é', 200), 'rows', 1, 'columns', 1,
                           'timestamp', 1700000000))->'data'->'BatchInserted'->>'table_name' AS t) s;
SELECT length(t) AS chars, octet_length(t) AS bytes
FROM (SELECT rustydb.event_payload('BatchInserted',
        jsonb_build_object('table_name', 'x' || repeat('€', 100), 'rows', 1, 'columns', 1,
                           'timestamp', 1700000000))->'data'->'BatchInserted'->>'table_name' AS t) s;

-- 15: numbers out of range
CREATE FUNCTION try_payload(vname text, vfields jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  st text;
  msg text;
BEGIN
  RETURN rustydb.event_payload(vname, vfields)::text;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
  RETURN st || ': ' || msg;
END $$;
SELECT v AS page_id, left(try_payload('PageAllocated',
         format('{"page_id": %s, "size": 8192, "timestamp": 1700000000}', v)::jsonb), 100) AS result
FROM unnest(ARRAY['9223372036854775807', '9223372036854775808', '-9223372036854775809',
                  '1e19', '-1e30', '1e400']) v;
SELECT v AS hit_rate, left(try_payload('PoolStats',
         format('{"hit_rate": %s, "total_pages": 0, "used_pages": 0, "dirty_pages": 0, "timestamp": 1700000000}', v)::jsonb), 100) AS result
FROM unnest(ARRAY['1e30', '1e309', '-1e400']) v;
SELECT v AS ts, left(try_payload('PageAllocated',
         format('{"page_id": 1, "size": 8192, "timestamp": %s}', v)::jsonb), 100) AS result
FROM unnest(ARRAY['0', '-210866803200', '-210866803201', '9224318015999', '9224318016000',
                  '1e15', '-1e15', '9223372036854775807', '1e30']) v;
-- in range: still exact
SELECT rustydb.event_payload('PageAllocated',
  '{"page_id": 4294967295, "size": -9223372036854775808, "timestamp": 1700000000}');

DROP FUNCTION try_payload(text, jsonb);
