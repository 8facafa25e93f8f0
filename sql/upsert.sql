--
-- upsert: INSERT ... ON CONFLICT on default-AM tables (speculative insertion,
-- single session; concurrent upserts are in specs/upsert_concurrent.spec).
--
-- The AM's speculative insert must be confirmed or killed correctly: after
-- a conflict nothing of the attempted row may remain visible, DO UPDATE must
-- lock and update the existing version, and a row hit twice by one command
-- must raise heap's error.
--
CREATE SCHEMA upsert;
SET search_path = upsert;

CREATE TABLE kv (k int PRIMARY KEY, v text, n int DEFAULT 0);
INSERT INTO kv SELECT g, 'v' || g FROM generate_series(1, 100) g;

-- DO NOTHING: RETURNING shows only the rows actually inserted
INSERT INTO kv VALUES (1, 'dup'), (101, 'new') ON CONFLICT DO NOTHING RETURNING *;
INSERT INTO kv VALUES (2, 'dup') ON CONFLICT (k) DO NOTHING RETURNING *;
SELECT * FROM kv WHERE k IN (1, 2, 101) ORDER BY k;
SELECT count(*) FROM kv;

-- DO UPDATE with EXCLUDED, a WHERE filter, and RETURNING
INSERT INTO kv VALUES (3, 'three') ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v, n = kv.n + 1
RETURNING k, v, n;
INSERT INTO kv VALUES (3, 'again') ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v, n = kv.n + 1
RETURNING k, v, n;
INSERT INTO kv VALUES (3, 'filtered') ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v
WHERE kv.n > 10 RETURNING k, v, n;
SELECT * FROM kv WHERE k = 3;
INSERT INTO kv VALUES (102, 'fresh') ON CONFLICT (k) DO UPDATE SET v = 'not used' RETURNING *;

-- many rows, half of them conflicting
INSERT INTO kv SELECT g, 'bulk' || g FROM generate_series(51, 250) g
ON CONFLICT (k) DO UPDATE SET n = kv.n + 100;
SELECT count(*), sum(n), count(*) FILTER (WHERE n >= 100) AS updated,
       count(*) FILTER (WHERE v LIKE 'bulk%') AS inserted
FROM kv;
SELECT md5(string_agg(kv::text, '|' ORDER BY k)) FROM kv;

-- the index finds exactly the current versions afterwards
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT * FROM kv WHERE k IN (3, 50, 51, 101, 102, 250) ORDER BY k;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- a command that would touch the same row twice
INSERT INTO kv VALUES (7, 'a'), (7, 'b') ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v;
SELECT * FROM kv WHERE k = 7;
-- DO NOTHING with the same key twice in one command inserts it once
INSERT INTO kv VALUES (300, 'a'), (300, 'b') ON CONFLICT DO NOTHING;
SELECT * FROM kv WHERE k = 300;

-- conflicts with rows written, deleted or updated earlier in the transaction
BEGIN;
INSERT INTO kv VALUES (400, 'in xact');
INSERT INTO kv VALUES (400, 'conflict') ON CONFLICT (k) DO UPDATE SET v = kv.v || '+upd';
DELETE FROM kv WHERE k = 5;
INSERT INTO kv VALUES (5, 'reinserted') ON CONFLICT (k) DO UPDATE SET v = 'should not happen';
UPDATE kv SET v = 'updated first' WHERE k = 6;
INSERT INTO kv VALUES (6, 'x') ON CONFLICT (k) DO UPDATE SET v = kv.v || ', then upserted';
SELECT * FROM kv WHERE k IN (5, 6, 400) ORDER BY k;
ROLLBACK;
SELECT * FROM kv WHERE k IN (5, 6, 400) ORDER BY k;

-- a conflicting upsert inside a rolled-back savepoint
BEGIN;
SAVEPOINT s;
INSERT INTO kv VALUES (8, 'sp') ON CONFLICT (k) DO UPDATE SET v = 'sp';
INSERT INTO kv VALUES (500, 'sp') ON CONFLICT (k) DO NOTHING;
ROLLBACK TO SAVEPOINT s;
INSERT INTO kv VALUES (501, 'after') ON CONFLICT DO NOTHING;
COMMIT;
SELECT * FROM kv WHERE k IN (8, 500, 501) ORDER BY k;

-- arbiters: named constraint, partial unique index, expression index
CREATE TABLE users (id int PRIMARY KEY, email text, active boolean, name text);
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));
CREATE UNIQUE INDEX users_name_active ON users (name) WHERE active;
INSERT INTO users VALUES (1, 'A@x.org', true, 'ann'), (2, 'b@x.org', false, 'bob'), (3, 'c@x.org', true, 'bob');
INSERT INTO users VALUES (4, 'a@X.ORG', true, 'ann2')
  ON CONFLICT (lower(email)) DO UPDATE SET name = EXCLUDED.name RETURNING *;
INSERT INTO users VALUES (5, 'e@x.org', true, 'bob')
  ON CONFLICT (name) WHERE active DO UPDATE SET email = EXCLUDED.email RETURNING *;
INSERT INTO users VALUES (6, 'f@x.org', false, 'bob')
  ON CONFLICT (name) WHERE active DO NOTHING RETURNING *;
INSERT INTO users VALUES (1, 'z@x.org', true, 'zed')
  ON CONFLICT ON CONSTRAINT users_pkey DO UPDATE SET name = 'zed' RETURNING *;
-- a conflict on a unique index that is not the arbiter is still an error
INSERT INTO users VALUES (7, 'A@X.org', true, 'new')
  ON CONFLICT (id) DO NOTHING;
SELECT * FROM users ORDER BY id;

-- exclusion constraints support DO NOTHING
CREATE TABLE slot (during int4range, EXCLUDE USING gist (during WITH &&));
INSERT INTO slot VALUES ('[1,5)');
INSERT INTO slot VALUES ('[3,8)') ON CONFLICT DO NOTHING RETURNING *;
INSERT INTO slot VALUES ('[5,8)') ON CONFLICT DO NOTHING RETURNING *;
SELECT * FROM slot ORDER BY during;

-- upsert into a partitioned table: each row goes to its partition's arbiter index
CREATE TABLE pkv (k int PRIMARY KEY, v text) PARTITION BY RANGE (k);
CREATE TABLE pkv_1 PARTITION OF pkv FOR VALUES FROM (0) TO (100);
CREATE TABLE pkv_2 PARTITION OF pkv FOR VALUES FROM (100) TO (200);
INSERT INTO pkv SELECT g, 'p' || g FROM generate_series(0, 199, 10) g;
INSERT INTO pkv SELECT g, 'q' || g FROM generate_series(0, 199, 5) g
ON CONFLICT (k) DO UPDATE SET v = pkv.v || '+' || EXCLUDED.v;
SELECT tableoid::regclass, count(*), count(*) FILTER (WHERE v LIKE '%+%') AS updated
FROM pkv GROUP BY 1 ORDER BY 1;

-- a generated column and a BEFORE trigger see the final row
CREATE TABLE g (k int PRIMARY KEY, a int, doubled int GENERATED ALWAYS AS (a * 2) STORED, touched int DEFAULT 0);
CREATE FUNCTION g_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.touched := OLD.touched + 1; RETURN NEW; END $$;
CREATE TRIGGER g_touch BEFORE UPDATE ON g FOR EACH ROW EXECUTE FUNCTION g_touch();
INSERT INTO g (k, a) VALUES (1, 10);
INSERT INTO g (k, a) VALUES (1, 20) ON CONFLICT (k) DO UPDATE SET a = EXCLUDED.a RETURNING *;
INSERT INTO g (k, a) VALUES (1, 30) ON CONFLICT (k) DO UPDATE SET a = EXCLUDED.a RETURNING *;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA upsert CASCADE;
