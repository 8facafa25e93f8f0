--
-- row_size_limits: every row heap stores fits, up to MaxHeapTupleSize
-- (8160 bytes); one byte more is refused with heap's error.
--
CREATE TABLE big_rows (id int, pad text);
ALTER TABLE big_rows ALTER pad SET STORAGE PLAIN;   -- no TOAST, no compression
-- a row is 24 bytes of header + 4 (id) + 4 (varlena header) + n bytes
INSERT INTO big_rows SELECT n, repeat('x', n) FROM generate_series(8110, 8128) n;
INSERT INTO big_rows VALUES (8129, repeat('x', 8129));
SELECT id, length(pad), pg_column_size(big_rows.*) FROM big_rows ORDER BY id;
-- updates to and from the largest size
UPDATE big_rows SET pad = repeat('y', 8128) WHERE id = 8110;
UPDATE big_rows SET pad = repeat('z', 10) WHERE id = 8128;
UPDATE big_rows SET pad = repeat('z', 8129) WHERE id = 8127;
SELECT id, length(pad), left(pad, 1) FROM big_rows WHERE id IN (8110, 8127, 8128) ORDER BY id;
-- COPY batches of them
COPY (SELECT id + 100, pad FROM big_rows) TO '/tmp/rdb_big_rows.data';
COPY big_rows FROM '/tmp/rdb_big_rows.data';
CREATE INDEX big_rows_id ON big_rows (id);
SET enable_seqscan = off;
SELECT id, length(pad) FROM big_rows WHERE id IN (8128, 8228) ORDER BY id;
RESET enable_seqscan;
DELETE FROM big_rows WHERE id % 2 = 0;
VACUUM big_rows;
INSERT INTO big_rows VALUES (9000, repeat('w', 8128));
SELECT count(*), sum(length(pad)) FROM big_rows;
-- a heap table holding such rows can change its access method
CREATE TABLE big_heap (id int, pad text) USING heap;
ALTER TABLE big_heap ALTER pad SET STORAGE PLAIN;
INSERT INTO big_heap SELECT n, repeat('h', n) FROM generate_series(8120, 8128) n;
ALTER TABLE big_heap SET ACCESS METHOD rustydb;
SELECT count(*), min(length(pad)), max(length(pad)) FROM big_heap;
ALTER TABLE big_heap SET ACCESS METHOD heap;
SELECT count(*), min(length(pad)), max(length(pad)) FROM big_heap;
DROP TABLE big_rows, big_heap;
