--
-- cursors: cursors over default-AM tables: scrolling backwards through a
-- sequential scan (the AM's backward scan direction), FETCH ABSOLUTE /
-- RELATIVE, WITH HOLD cursors surviving commit, WHERE CURRENT OF.
--
-- The physical order of a sequential scan is the AM's business, so for plain
-- scans only order-free properties are printed (a backward pass returns the
-- forward pass reversed); ordered cursors print their rows.
--
CREATE SCHEMA cursors;
SET search_path = cursors;

CREATE TABLE t (id int PRIMARY KEY, v text);
INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 1000) g;
DELETE FROM t WHERE id % 10 = 0;
UPDATE t SET v = v || '*' WHERE id % 7 = 0;

-- scroll_check(query): fetch everything forwards, then everything backwards,
-- then forwards again, and compare; also jump with ABSOLUTE and RELATIVE
CREATE FUNCTION scroll_check(q text, OUT n_forward int, OUT backward_is_reverse boolean,
                             OUT forward_again_same boolean, OUT absolute_ok boolean,
                             OUT relative_ok boolean)
LANGUAGE plpgsql AS $$
DECLARE
  c refcursor := 'scroll_check_cursor';
  fwd text[] := '{}';
  bwd text[] := '{}';
  again text[] := '{}';
  r record;
  x text;
BEGIN
  EXECUTE format('DECLARE scroll_check_cursor SCROLL CURSOR FOR %s', q);
  LOOP
    FETCH NEXT FROM c INTO r;
    EXIT WHEN NOT FOUND;
    fwd := fwd || r::text;
  END LOOP;
  LOOP
    FETCH PRIOR FROM c INTO r;
    EXIT WHEN NOT FOUND;
    bwd := bwd || r::text;
  END LOOP;
  LOOP
    FETCH NEXT FROM c INTO r;
    EXIT WHEN NOT FOUND;
    again := again || r::text;
  END LOOP;
  n_forward := cardinality(fwd);
  backward_is_reverse := bwd = ARRAY(SELECT fwd[i] FROM generate_subscripts(fwd, 1, true) i);
  forward_again_same := again = fwd;
  FETCH ABSOLUTE 17 FROM c INTO r;
  absolute_ok := r::text = fwd[17];
  FETCH ABSOLUTE -3 FROM c INTO r;
  absolute_ok := absolute_ok AND r::text = fwd[cardinality(fwd) - 2];
  FETCH RELATIVE -10 FROM c INTO r;
  relative_ok := r::text = fwd[cardinality(fwd) - 12];
  FETCH RELATIVE 5 FROM c INTO r;
  relative_ok := relative_ok AND r::text = fwd[cardinality(fwd) - 7];
  FETCH FIRST FROM c INTO r;
  relative_ok := relative_ok AND r::text = fwd[1];
  CLOSE c;
END $$;

-- a sequential scan, forwards and backwards
EXPLAIN (COSTS OFF) SELECT * FROM t;
SELECT * FROM scroll_check('SELECT * FROM t');
-- a sequential scan with a filter, and with a LIMIT
SELECT * FROM scroll_check('SELECT id, v FROM t WHERE v LIKE ''%*''');
SELECT * FROM scroll_check('SELECT * FROM t LIMIT 100');
-- a TID range scan backwards
SELECT * FROM scroll_check($$SELECT * FROM t WHERE ctid > '(0,0)'$$);
-- an index scan backwards (ordered, so the rows can be printed)
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT * FROM scroll_check('SELECT * FROM t WHERE id > 500 ORDER BY id');
BEGIN;
DECLARE c SCROLL CURSOR FOR SELECT id, v FROM t WHERE id BETWEEN 10 AND 30 ORDER BY id;
FETCH 3 FROM c;
FETCH BACKWARD 2 FROM c;
FETCH LAST FROM c;
FETCH BACKWARD 3 FROM c;
FETCH ABSOLUTE 5 FROM c;
MOVE RELATIVE 2 IN c;
FETCH NEXT FROM c;
COMMIT;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- a cursor keeps its snapshot while the table changes underneath
BEGIN;
DECLARE c SCROLL CURSOR FOR SELECT id, v FROM t WHERE id <= 5 ORDER BY id;
FETCH 2 FROM c;
UPDATE t SET v = 'changed' WHERE id <= 5;
DELETE FROM t WHERE id = 3;
INSERT INTO t VALUES (0, 'new');
FETCH ALL FROM c;
FETCH BACKWARD ALL FROM c;
SELECT id, v FROM t WHERE id <= 5 ORDER BY id;
ROLLBACK;

-- WITH HOLD: materialized at commit, survives the transaction, and is not
-- affected by later changes
BEGIN;
DECLARE h CURSOR WITH HOLD FOR SELECT id, v FROM t WHERE id <= 25 ORDER BY id;
FETCH 2 FROM h;
COMMIT;
UPDATE t SET v = 'after commit' WHERE id <= 25;
FETCH 3 FROM h;
FETCH BACKWARD 1 FROM h;
CLOSE h;
-- a WITH HOLD cursor over a plain seq scan, read completely after commit
BEGIN;
DECLARE h2 SCROLL CURSOR WITH HOLD FOR SELECT id, v FROM t;
COMMIT;
DELETE FROM t WHERE id > 900;
-- drain(cursor): count and sum of ids of the rows left in an open cursor
CREATE FUNCTION drain(name text, OUT n int, OUT ids bigint) LANGUAGE plpgsql AS $$
DECLARE
  c refcursor := name;
  r record;
BEGIN
  n := 0; ids := 0;
  LOOP
    FETCH c INTO r;
    EXIT WHEN NOT FOUND;
    n := n + 1; ids := ids + r.id;
  END LOOP;
END $$;
MOVE FORWARD 100 IN h2;
MOVE BACKWARD ALL IN h2;
SELECT * FROM drain('h2');
CLOSE h2;
-- a WITH HOLD cursor whose transaction aborts is gone
BEGIN;
DECLARE h3 CURSOR WITH HOLD FOR SELECT id FROM t;
ROLLBACK;
FETCH 1 FROM h3;

-- WHERE CURRENT OF through a plain (unordered) scan cursor and a
-- FOR UPDATE cursor
BEGIN;
DECLARE u CURSOR FOR SELECT id, v FROM t WHERE id IN (101, 102, 103);
CREATE TEMP TABLE fetched (id int);
DO $$
DECLARE
  cur refcursor := 'u';
  r record;
BEGIN
  LOOP
    FETCH cur INTO r;
    EXIT WHEN NOT FOUND;
    INSERT INTO fetched VALUES (r.id);
    IF r.id = 102 THEN
      UPDATE cursors.t SET v = 'current' WHERE CURRENT OF u;
    ELSIF r.id = 103 THEN
      DELETE FROM cursors.t WHERE CURRENT OF u;
    END IF;
  END LOOP;
END $$;
SELECT count(*) FROM fetched;
COMMIT;
SELECT id, v FROM t WHERE id BETWEEN 100 AND 104 ORDER BY id;
BEGIN;
DECLARE fu CURSOR FOR SELECT id, v FROM t WHERE id BETWEEN 200 AND 210 ORDER BY id FOR UPDATE;
MOVE 3 IN fu;
UPDATE t SET v = 'third' WHERE CURRENT OF fu;
FETCH 1 FROM fu;
DELETE FROM t WHERE CURRENT OF fu;
COMMIT;
SELECT id, v FROM t WHERE id BETWEEN 200 AND 205 ORDER BY id;

-- many cursors open at once on the same table
BEGIN;
DECLARE m1 CURSOR FOR SELECT count(*) FROM t;
DECLARE m2 CURSOR FOR SELECT sum(id) FROM t;
DECLARE m3 CURSOR FOR SELECT id FROM t ORDER BY id DESC;
FETCH m3;
FETCH m1;
FETCH m2;
FETCH m3;
COMMIT;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA cursors CASCADE;
