-- rustydb_cache: the shared chunk cache (src/cache)
--
-- Exact hit/miss counts on a controlled case, every stripe read path
-- going through the cache, stale entries never served (flush, TRUNCATE,
-- DROP + re-create, VACUUM FULL, ALTER TABLE rewrite: compared with a heap
-- twin), the views and their privileges.  The cache is shared by the whole
-- cluster: the counters are reset and the cache emptied first, and the
-- test runs alone in its database (no other rustydb table is read while
-- it runs, other than by this session).  Evictions and the policies are
-- tested by t/030_chunk_cache.pl, which sets a small cache.
CREATE EXTENSION IF NOT EXISTS rustydb_am;
SET client_min_messages = warning;

SELECT policy, capacity > 0 AS on, total_pages * 8192 <= capacity AS pages_fit
  FROM rustydb.pool_stats;
SHOW rustydb.chunk_cache_policy;

-- three columns, 25000 rows: chunk groups of 10000 -> 3 groups, 9 chunks
-- autovacuum off: an autoanalyze reading cc would count in the shared cache
CREATE TABLE cc (id int PRIMARY KEY, v int, s text) USING rustydb WITH (autovacuum_enabled = off);
CREATE TABLE cc_heap (id int PRIMARY KEY, v int, s text) USING heap;
INSERT INTO cc SELECT g, g * 7 % 1000, 'row ' || g FROM generate_series(1, 25000) g;
INSERT INTO cc_heap SELECT * FROM cc;
SELECT rustydb.flush('cc') AS rows_flushed;
SELECT rustydb.chunk_cache_clear() >= 0 AS cleared;
SELECT rustydb.pool_reset();
-- cc's own counts, not the whole pool's (other databases' sessions or
-- autovacuum elsewhere could add to those; t/032_chunk_cache.pl checks them
-- exactly): its chunks in the cache, one per miss (nothing is evicted from
-- the default 64MB), and their hits
CREATE VIEW cc_counts AS
  SELECT coalesce(sum(hits), 0) AS hits, count(*) AS misses, count(*) AS chunks
    FROM rustydb.cache_contents WHERE relation = 'cc'::regclass;

-- the per-backend chunk group layer off: every row read reaches the cache
SET rustydb.stripe_cache_size = 0;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
-- one index lookup: one miss per column of the row's chunk group
SELECT * FROM cc WHERE id = 12345;
SELECT * FROM cc_counts;
-- the same lookup again: one hit per column, no miss
SELECT * FROM cc WHERE id = 12345;
SELECT * FROM cc_counts;
-- another row of the same chunk group: hits only
SELECT * FROM cc WHERE id = 19999;
SELECT * FROM cc_counts;
-- a row of another chunk group: three more misses
SELECT * FROM cc WHERE id = 20001;
SELECT * FROM cc_counts;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- the columnar scan reads one column: 3 chunk groups, 2 of them cached
SELECT sum(v) FROM cc;
SELECT * FROM cc_counts;
SELECT sum(v) FROM cc;
SELECT * FROM cc_counts;
-- the ordinary scan (columnar scan off) forms whole rows; with the
-- per-backend chunk group layer on, each chunk is asked for once per chunk
-- group: 9 lookups, of which (group 0, id) and (group 0, s) miss
RESET rustydb.stripe_cache_size;
SET rustydb.enable_columnar_scan = off;
SELECT count(*), sum(v), sum(length(s)) FROM cc;
SELECT * FROM cc_counts;
RESET rustydb.enable_columnar_scan;
SELECT relation, chunks, pages > 0 AS pages FROM rustydb.pool_relations;
SELECT chunk_group, attnum, hits, queue
  FROM rustydb.cache_contents WHERE relation = 'cc'::regclass ORDER BY 1, 2;
SELECT sum(bytes) > 0 AS bytes, sum(pages) * 8192 >= sum(bytes) AS pages_hold_bytes
  FROM rustydb.cache_contents WHERE relation = 'cc'::regclass;

-- compare cc with its heap twin, both ways
CREATE FUNCTION cc_diff() RETURNS bigint LANGUAGE sql AS $$
  SELECT (SELECT count(*) FROM (SELECT * FROM cc EXCEPT ALL SELECT * FROM cc_heap) a) +
         (SELECT count(*) FROM (SELECT * FROM cc_heap EXCEPT ALL SELECT * FROM cc) b)
$$;
CREATE FUNCTION cc_lookups() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE bad bigint := 0; i int; r record; h record;
BEGIN
  SET LOCAL enable_seqscan = off;
  SET LOCAL enable_bitmapscan = off;
  FOR i IN SELECT generate_series(1, 30000, 997) LOOP
    SELECT * INTO r FROM cc WHERE id = i;
    SELECT * INTO h FROM cc_heap WHERE id = i;
    IF r IS DISTINCT FROM h THEN bad := bad + 1; END IF;
  END LOOP;
  RETURN bad;
END $$;
SELECT cc_diff(), cc_lookups();

-- more rows flushed: a second stripe
INSERT INTO cc SELECT g, -g, 'second ' || g FROM generate_series(25001, 30000) g;
INSERT INTO cc_heap SELECT g, -g, 'second ' || g FROM generate_series(25001, 30000) g;
SELECT rustydb.flush('cc') AS rows_flushed;
UPDATE cc SET v = v + 1 WHERE id % 1000 = 0;
UPDATE cc_heap SET v = v + 1 WHERE id % 1000 = 0;
SELECT cc_diff(), cc_lookups();

-- VACUUM FULL and an ALTER TABLE rewrite give new relfilenodes
SELECT rustydb.flush('cc') IS NOT NULL AS flushed;
SELECT sum(v) FROM cc;
VACUUM FULL cc;
SELECT cc_diff(), cc_lookups();
SELECT rustydb.flush('cc') IS NOT NULL AS flushed;
SELECT cc_diff(), cc_lookups();
ALTER TABLE cc ALTER COLUMN v TYPE bigint;
ALTER TABLE cc_heap ALTER COLUMN v TYPE bigint;
SELECT cc_diff(), cc_lookups();
SELECT rustydb.flush('cc') IS NOT NULL AS flushed;
SELECT cc_diff(), cc_lookups();

-- TRUNCATE in the creating transaction keeps the relfilenode: a stripe
-- written after it starts at the same block as the one before, with other
-- contents, and its chunks must not be served from the old entries.  (Flush
-- only moves rows every transaction sees, so the stripes are written with
-- the stripe_roundtrip diagnostic, and read with stripe_rows and
-- form_tuple, both through the cache.)
BEGIN;
CREATE TABLE cc_t (id int, v text) USING rustydb;
INSERT INTO cc_t SELECT g, 'old ' || g FROM generate_series(1, 3000) g;
SELECT first_block AS old_stripe, nrows, rows_equal FROM rustydb.stripe_roundtrip('cc_t') \gset
SELECT :nrows AS nrows, :rows_equal AS rows_equal;
SELECT min(row_text), max(row_text) FROM rustydb.stripe_rows('cc_t', :old_stripe);
SELECT count(*) > 0 AS old_chunks_cached FROM rustydb.cache_contents
 WHERE relation = 'cc_t'::regclass AND stripe = :old_stripe;
SELECT pg_relation_filenode('cc_t') AS node_before \gset
TRUNCATE cc_t;
SELECT pg_relation_filenode('cc_t') = :node_before AS same_relfilenode;
INSERT INTO cc_t SELECT g, 'new ' || g FROM generate_series(1, 3000) g;
SELECT first_block = :old_stripe AS same_first_block, nrows, rows_equal
  FROM rustydb.stripe_roundtrip('cc_t');
SELECT min(row_text), max(row_text) FROM rustydb.stripe_rows('cc_t', :old_stripe);
-- both stripes' chunks are in the cache, at the same page_id, told apart
-- by their checksums
SELECT count(*) AS chunks, count(DISTINCT page_id) AS places FROM rustydb.cache_contents
 WHERE relation = 'cc_t'::regclass AND stripe = :old_stripe;
COMMIT;

-- DROP and re-create under the same name
DROP TABLE cc_t;
CREATE TABLE cc_t (id int, v text) USING rustydb;
INSERT INTO cc_t SELECT g, 'again ' || g FROM generate_series(1, 3000) g;
SELECT rustydb.flush('cc_t') AS rows_flushed;
SELECT count(*), min(v), max(v) FROM cc_t;

-- events: PageFlushed for every stripe page a flush writes; PageMiss and
-- PageHit one by one when sampled (rustydb.events_sample_rate = 1), with
-- page_id = the chunk's byte address, as rustydb.cache_contents shows it
CREATE TABLE cc_ev (id int PRIMARY KEY, v text) USING rustydb WITH (autovacuum_enabled = off);
INSERT INTO cc_ev SELECT g, 'ev ' || g FROM generate_series(1, 5000) g;
SELECT coalesce(max(seq), 0) AS seq0 FROM rustydb.events \gset
SELECT rustydb.flush('cc_ev') AS rows_flushed;
SELECT count(*) = (SELECT sum(pages) FROM rustydb.stripes WHERE relation = 'cc_ev'::regclass) AS one_per_page,
       min((payload->'data'->'PageFlushed'->>'page_id')::bigint) =
         (SELECT min(stripe) FROM rustydb.stripes WHERE relation = 'cc_ev'::regclass) AS first_is_stripe,
       bool_and((payload->'data'->'PageFlushed'->>'dirty_bytes')::int BETWEEN 25 AND 8192) AS bytes_sane
  FROM rustydb.events_since(:seq0)
 WHERE variant = 'PageFlushed' AND relation = 'cc_ev'::regclass;
SET rustydb.events_sample_rate = 1;
SET rustydb.stripe_cache_size = 0;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT coalesce(max(seq), 0) AS seq1 FROM rustydb.events \gset
SELECT * FROM cc_ev WHERE id = 4321;
SELECT * FROM cc_ev WHERE id = 4321;
SELECT variant, count(*) AS events,
       count(*) FILTER (WHERE (payload->'data'->variant->>'page_id')::bigint IN
         (SELECT page_id FROM rustydb.cache_contents WHERE relation = 'cc_ev'::regclass)) AS cached_page_ids
  FROM rustydb.events_since(:seq1)
 WHERE relation = 'cc_ev'::regclass AND channel = 'rustydb_buffer_pool'
 GROUP BY variant ORDER BY variant;
RESET rustydb.events_sample_rate;
RESET rustydb.stripe_cache_size;
RESET enable_seqscan;
RESET enable_bitmapscan;
DROP TABLE cc_ev;

-- privileges: pool_stats for everyone, pool_relations only for tables the
-- user may SELECT, cache_contents and the reset functions for superusers
CREATE ROLE cc_user;
GRANT USAGE ON SCHEMA rustydb TO cc_user;
GRANT SELECT ON cc_t TO cc_user;
SELECT count(*) FROM cc;
SELECT relation FROM rustydb.pool_relations WHERE relation IN ('cc'::regclass, 'cc_t'::regclass) ORDER BY 1;
SET ROLE cc_user;
SELECT policy FROM rustydb.pool_stats;
SELECT relation FROM rustydb.pool_relations ORDER BY 1;
-- the function under the view runs as the caller and answers as much
SELECT relid::regclass FROM rustydb.cache_relations() ORDER BY 1;
SELECT count(*) FROM rustydb.cache_contents;
SELECT rustydb.pool_reset();
SELECT rustydb.chunk_cache_clear();
RESET ROLE;
DROP OWNED BY cc_user;
DROP ROLE cc_user;
DROP TABLE cc, cc_heap, cc_t CASCADE;
DROP FUNCTION cc_diff, cc_lookups;
