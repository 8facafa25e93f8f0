--
-- scans_tid: TID scans and TID range scans on a default-AM table.
--
-- TID values are the AM's business (rustydb maps row numbers to TIDs), so no
-- raw ctid is printed: every check compares what a TID or TID-range scan
-- returns with what a seq scan finds for the same ctids.  A TID must identify
-- exactly one visible row; the old version's TID must not find an updated
-- row; nonexistent TIDs return nothing, without error.
--
CREATE SCHEMA scans_tid;
SET search_path = scans_tid;

CREATE TABLE t (id int, v text);
INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 5000) g;

-- every row has a distinct, valid ctid
SELECT count(*) = count(DISTINCT ctid) AS distinct_tids,
       bool_and((ctid::text::point)[1] >= 1) AS offsets_from_1
FROM t;

-- rows as narrow as possible still get offsets within MaxHeapTuplesPerPage
-- (291 with 8 kB pages), which bitmaps and index AMs rely on
CREATE TABLE narrow (b boolean);
INSERT INTO narrow SELECT true FROM generate_series(1, 20000);
CREATE TABLE nocols ();
INSERT INTO nocols SELECT FROM generate_series(1, 20000);
SELECT bool_and((ctid::text::point)[1] BETWEEN 1 AND 291) AS narrow_offsets_ok,
       count(*) = count(DISTINCT ctid) AS distinct_tids
FROM narrow;
SELECT bool_and((ctid::text::point)[1] BETWEEN 1 AND 291) AS nocols_offsets_ok,
       count(*) = count(DISTINCT ctid) AS distinct_tids
FROM nocols;

-- TID scan with a sub-select: the row found is the row whose ctid was taken
EXPLAIN (COSTS OFF) SELECT id FROM t WHERE ctid = (SELECT ctid FROM t WHERE id = 4321);
SELECT id, v FROM t WHERE ctid = (SELECT ctid FROM t WHERE id = 4321);

-- TID scan with an array of TIDs (of unknown length to the planner, so the
-- choice against a seq scan depends on size estimates: forced)
SET enable_seqscan = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM t WHERE ctid = ANY (ARRAY(SELECT ctid FROM t WHERE id % 100 = 0));
SELECT count(*), sum(id) FROM t WHERE ctid = ANY (ARRAY(SELECT ctid FROM t WHERE id % 100 = 0));
RESET enable_seqscan;
-- duplicates in the array return the row once
SELECT count(*) FROM t
WHERE ctid = ANY (ARRAY(SELECT ctid FROM t WHERE id IN (7, 8) UNION ALL SELECT ctid FROM t WHERE id = 7));

-- every row found through its own TID (nested loop with an inner TID scan)
SET enable_hashjoin = off;
SET enable_mergejoin = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM t a JOIN t b ON b.ctid = a.ctid;
SELECT count(*), sum(b.id), bool_and(a.id = b.id) AS same_rows FROM t a JOIN t b ON b.ctid = a.ctid;
RESET enable_hashjoin;
RESET enable_mergejoin;

-- a literal TID: the TID scan and a seq scan comparing ctids as text agree
-- on which row (if any) sits at (1,1)
SELECT (SELECT id FROM t WHERE ctid = '(1,1)') IS NOT DISTINCT FROM
       (SELECT id FROM t WHERE ctid::text = '(1,1)') AS same_row_at_1_1;
-- TIDs that cannot exist return nothing, without error
SELECT count(*) FROM t WHERE ctid = '(0,0)';
SELECT count(*) FROM t WHERE ctid = '(0,65535)';
SELECT count(*) FROM t WHERE ctid = '(4294967294,1)';
SELECT count(*) FROM t WHERE ctid = ANY ('{"(4294967294,1)","(0,0)","(123456,7)"}'::tid[]);

-- after an update the old TID no longer finds the row, the new one does
CREATE TEMP TABLE saved AS SELECT id, ctid AS old_tid FROM t WHERE id <= 20;
UPDATE t SET v = v || '-updated' WHERE id <= 20;
SELECT count(*) AS found_by_old_tid FROM t JOIN saved ON t.ctid = saved.old_tid;
SELECT count(*) AS tid_changed
FROM t JOIN saved USING (id) WHERE t.ctid <> saved.old_tid;
SELECT id, v FROM t WHERE ctid = (SELECT ctid FROM t WHERE id = 5);
-- after a delete, neither finds it
DELETE FROM t WHERE id = 5;
SELECT count(*) FROM t JOIN saved ON t.ctid = saved.old_tid WHERE saved.id = 5;
-- an aborted update leaves the original TID valid
CREATE TEMP TABLE saved2 AS SELECT id, ctid AS tid FROM t WHERE id BETWEEN 100 AND 110;
BEGIN;
UPDATE t SET v = 'aborted' WHERE id BETWEEN 100 AND 110;
ROLLBACK;
SELECT count(*), sum(t.id), bool_and(t.v = 'v' || t.id) AS unchanged
FROM saved2 JOIN t ON t.ctid = saved2.tid;
-- inside a transaction, the TID of a row updated in the same transaction
BEGIN;
UPDATE t SET v = 'x' WHERE id = 200;
SELECT id, v FROM t WHERE ctid = (SELECT ctid FROM t WHERE id = 200);
ROLLBACK;

-- TID range scans (PostgreSQL 14+): ranges compared with a seq scan filter
-- over the same bounds, for bounds taken from actual rows
SELECT ctid AS lo FROM t WHERE id = 1000 \gset
SELECT ctid AS hi FROM t WHERE id = 3000 \gset
EXPLAIN (COSTS OFF) SELECT count(*) FROM t WHERE ctid >= '(0,1)' AND ctid < '(10,1)';
CREATE TEMP TABLE ranges (lo tid, hi tid);
INSERT INTO ranges VALUES (:'lo', :'hi'), ('(0,0)', '(4294967295,65535)'), ('(0,0)', '(0,1)'),
                          ('(1,0)', '(3,0)'), (:'lo', :'lo'), ('(2,5)', '(2,6)');
CREATE FUNCTION range_count(lo tid, hi tid, incl_hi boolean, OUT n bigint, OUT ids bigint)
LANGUAGE plpgsql AS $$
BEGIN
  IF incl_hi THEN
    SELECT count(*), coalesce(sum(id), 0) INTO n, ids FROM scans_tid.t WHERE ctid >= lo AND ctid <= hi;
  ELSE
    SELECT count(*), coalesce(sum(id), 0) INTO n, ids FROM scans_tid.t WHERE ctid > lo AND ctid < hi;
  END IF;
END $$;
-- with the range scan ...
SELECT row_number() OVER () AS r,
       (range_count(lo, hi, true)).n AS n_incl, (range_count(lo, hi, true)).ids AS ids_incl,
       (range_count(lo, hi, false)).n AS n_excl, (range_count(lo, hi, false)).ids AS ids_excl
INTO TEMP with_range FROM ranges;
-- ... and with a seq scan
SET enable_tidscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM t WHERE ctid >= '(0,1)' AND ctid < '(10,1)';
SELECT row_number() OVER () AS r,
       (range_count(lo, hi, true)).n AS n_incl, (range_count(lo, hi, true)).ids AS ids_incl,
       (range_count(lo, hi, false)).n AS n_excl, (range_count(lo, hi, false)).ids AS ids_excl
INTO TEMP with_seq FROM ranges;
RESET enable_tidscan;
SELECT count(*) AS ranges_checked, count(*) FILTER (WHERE w IS NOT DISTINCT FROM s) AS agree
FROM (SELECT with_range AS w, with_seq AS s, with_range.r FROM with_range JOIN with_seq USING (r)) x;
-- the bounds taken from rows 1000 and 3000 enclose about 2000 rows; the full
-- range has all of them; an empty range none
SELECT n_incl BETWEEN 1900 AND 2100 AS plausible FROM with_range WHERE r = 1;
SELECT r, n_incl, n_excl FROM with_range WHERE r IN (2, 3, 5) ORDER BY r;
SELECT count(*) FROM t;

-- a TID range scan skips deleted rows and rows of aborted inserts
BEGIN;
INSERT INTO t SELECT g, 'aborted' FROM generate_series(6000, 6999) g;
ROLLBACK;
DELETE FROM t WHERE id BETWEEN 2000 AND 2100;
SELECT count(*), sum(id) FROM t WHERE ctid >= '(0,0)';
SELECT count(*), sum(id) FROM t;

-- WHERE CURRENT OF uses the cursor row's TID
BEGIN;
DECLARE c CURSOR FOR SELECT id FROM t WHERE id BETWEEN 10 AND 12 ORDER BY id FOR UPDATE;
FETCH 2 FROM c;
UPDATE t SET v = 'current' WHERE CURRENT OF c;
COMMIT;
SELECT id, v FROM t WHERE id BETWEEN 10 AND 12 ORDER BY id;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA scans_tid CASCADE;
