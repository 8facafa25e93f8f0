--
-- partitioning: partitioned tables whose partitions use the default AM.
--
-- Rows are routed to partitions on INSERT and COPY, UPDATE of the partition
-- key moves them (a DELETE in one partition and an INSERT into another,
-- which the AM must both do atomically with the rest of the statement),
-- pruning and partition-wise plans work, ATTACH scans a table to validate
-- it, and a heap partition can sit next to default-AM ones.
--
CREATE SCHEMA partitioning;
SET search_path = partitioning;

CREATE TABLE m (id int, region text, amount numeric, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE m_north PARTITION OF m FOR VALUES IN ('north');
CREATE TABLE m_south PARTITION OF m FOR VALUES IN ('south');
CREATE TABLE m_other PARTITION OF m DEFAULT;
SELECT c.relname, c.relkind,
       CASE WHEN c.relam = 0 THEN 'none'
            WHEN a.amname = current_setting('default_table_access_method') THEN 'default'
            ELSE a.amname END AS am
FROM pg_class c LEFT JOIN pg_am a ON a.oid = c.relam
WHERE c.relnamespace = 'partitioning'::regnamespace AND c.relkind IN ('r', 'p')
ORDER BY c.relname;

INSERT INTO m SELECT g, (ARRAY['north', 'south', 'east'])[g % 3 + 1], g FROM generate_series(1, 3000) g;
SELECT tableoid::regclass AS part, count(*), sum(amount) FROM m GROUP BY 1 ORDER BY 1;

-- UPDATE that moves rows between partitions, with RETURNING
WITH moved AS (
  UPDATE m SET region = 'north' WHERE region = 'south' AND id <= 30 RETURNING tableoid::regclass AS part, id, region)
SELECT * FROM moved ORDER BY id;
SELECT tableoid::regclass AS part, count(*), sum(amount) FROM m GROUP BY 1 ORDER BY 1;
-- moved rows exist exactly once, in their new partition only
SELECT count(*) FROM m_south WHERE id <= 30;
SELECT count(*), count(DISTINCT id) FROM m WHERE id <= 30;
-- moving many rows, into the default partition and back
UPDATE m SET region = 'west' WHERE region = 'north';
SELECT tableoid::regclass AS part, count(*) FROM m GROUP BY 1 ORDER BY 1;
UPDATE m SET region = 'north' WHERE region = 'west' AND id % 2 = 0;
SELECT tableoid::regclass AS part, count(*), sum(amount) FROM m GROUP BY 1 ORDER BY 1;
-- a move that fails half-way is undone completely
UPDATE m SET region = 'south', amount = 1 / (id - 2999) WHERE region = 'east';
SELECT tableoid::regclass AS part, count(*), sum(amount) FROM m GROUP BY 1 ORDER BY 1;
-- a move rolled back
BEGIN;
UPDATE m SET region = 'south' WHERE id <= 100;
SELECT count(*) FROM m_south WHERE id <= 100;
ROLLBACK;
SELECT count(*) FROM m_south WHERE id <= 100;
-- moving a row into a partition where its key exists: a unique violation
INSERT INTO m VALUES (7000, 'north', 1), (7000, 'south', 2);
UPDATE m SET region = 'south' WHERE id = 7000 AND region = 'north';
SELECT tableoid::regclass, * FROM m WHERE id = 7000 ORDER BY region;
DELETE FROM m WHERE id = 7000;

-- triggers on partitions see the move as delete + insert
CREATE TABLE moves (op text, part text, id int);
CREATE FUNCTION log_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO partitioning.moves VALUES (TG_OP, TG_TABLE_NAME, OLD.id);
  ELSE
    INSERT INTO partitioning.moves VALUES (TG_OP, TG_TABLE_NAME, NEW.id);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER m_log AFTER INSERT OR UPDATE OR DELETE ON m FOR EACH ROW EXECUTE FUNCTION log_move();
UPDATE m SET region = 'north' WHERE id IN (4, 5, 6) AND region <> 'north';
UPDATE m SET amount = amount + 1 WHERE id = 4 AND region = 'north';
SELECT * FROM moves ORDER BY id, op, part;
DROP TRIGGER m_log ON m;

-- pruning (seq scans forced: the scan type is a cost decision) and
-- partition-wise aggregation
SET enable_indexscan = off;
SET enable_indexonlyscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM m WHERE region = 'north';
SELECT count(*) FROM m WHERE region = 'north';
RESET enable_indexscan;
RESET enable_indexonlyscan;
RESET enable_bitmapscan;
SET enable_partitionwise_aggregate = on;
SELECT region, count(*) FROM m GROUP BY region ORDER BY region;
RESET enable_partitionwise_aggregate;
-- the primary key through each partition's index
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT tableoid::regclass, id, region, amount FROM m WHERE id = 2001 ORDER BY region;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- range partitions with a row moving across ranges
CREATE TABLE r (k int, v text) PARTITION BY RANGE (k);
CREATE TABLE r_1 PARTITION OF r FOR VALUES FROM (0) TO (1000);
CREATE TABLE r_2 PARTITION OF r FOR VALUES FROM (1000) TO (2000);
INSERT INTO r SELECT g, 'v' || g FROM generate_series(0, 1999) g;
UPDATE r SET k = k + 1000 WHERE k < 500;
SELECT tableoid::regclass, count(*), min(k), max(k) FROM r GROUP BY 1 ORDER BY 1;
UPDATE r SET k = 2500 WHERE k = 1000;   -- no partition for it
-- sub-partitioning: a move between leaves of different sub-trees
CREATE TABLE r_3 PARTITION OF r FOR VALUES FROM (2000) TO (4000) PARTITION BY HASH (k);
CREATE TABLE r_3a PARTITION OF r_3 FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE r_3b PARTITION OF r_3 FOR VALUES WITH (MODULUS 2, REMAINDER 1);
UPDATE r SET k = k + 1000 WHERE k >= 1500;
SELECT count(*), sum(k) FROM r_3;
SELECT (SELECT count(*) FROM r_3a) + (SELECT count(*) FROM r_3b) AS leaves;
SELECT count(*), count(DISTINCT v) FROM r;

-- ATTACH validates the table's rows; DETACH keeps them
CREATE TABLE r_4 (k int, v text);
INSERT INTO r_4 SELECT g, 'x' FROM generate_series(4000, 4999) g;
INSERT INTO r_4 VALUES (10, 'out of range');
ALTER TABLE r ATTACH PARTITION r_4 FOR VALUES FROM (4000) TO (5000);
DELETE FROM r_4 WHERE k = 10;
ALTER TABLE r ATTACH PARTITION r_4 FOR VALUES FROM (4000) TO (5000);
SELECT count(*) FROM r WHERE k >= 4000;
ALTER TABLE r DETACH PARTITION r_4;
SELECT count(*) FROM r WHERE k >= 4000;
SELECT count(*) FROM r_4;

-- a heap partition next to default-AM partitions, rows moving between them
CREATE TABLE r_heap PARTITION OF r FOR VALUES FROM (5000) TO (6000) USING heap;
SELECT amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.oid = 'r_heap'::regclass;
UPDATE r SET k = k + 3000 WHERE k BETWEEN 2500 AND 2599;
UPDATE r SET k = k - 5000 WHERE k BETWEEN 5500 AND 5549;
SELECT tableoid::regclass, count(*) FROM r GROUP BY 1 ORDER BY 1;
SELECT count(*), count(DISTINCT v), sum(k) FROM r;

-- COPY and ON CONFLICT through the partitioned table
CREATE TABLE kv (k int PRIMARY KEY, v text) PARTITION BY HASH (k);
CREATE TABLE kv_0 PARTITION OF kv FOR VALUES WITH (MODULUS 3, REMAINDER 0);
CREATE TABLE kv_1 PARTITION OF kv FOR VALUES WITH (MODULUS 3, REMAINDER 1);
CREATE TABLE kv_2 PARTITION OF kv FOR VALUES WITH (MODULUS 3, REMAINDER 2);
COPY kv FROM stdin;
1	one
2	two
3	three
4	four
\.
INSERT INTO kv SELECT g, 'gen' FROM generate_series(1, 100) g ON CONFLICT (k) DO UPDATE SET v = kv.v || '!';
SELECT count(*), count(*) FILTER (WHERE v LIKE '%!') AS upserted FROM kv;
SELECT (SELECT count(*) FROM kv_0) + (SELECT count(*) FROM kv_1) + (SELECT count(*) FROM kv_2) AS in_leaves;

-- a foreign key referencing a partitioned table
CREATE TABLE kv_ref (id int, k int REFERENCES kv (k) ON DELETE CASCADE);
INSERT INTO kv_ref SELECT g, g FROM generate_series(1, 50) g;
DELETE FROM kv WHERE k <= 10;
SELECT count(*) FROM kv_ref;
INSERT INTO kv_ref VALUES (1, 5);

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA partitioning CASCADE;
