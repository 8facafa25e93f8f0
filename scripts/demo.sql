-- scripts/demo.sql - what `make demo` shows, run by scripts/demo.sh through psql
--
-- psql variables (set by demo.sh):
--   am    access method of the events table (rustydb; heap to try the script itself)
--   rows  number of events to generate
--   csv   server-side path of the CSV file the events are staged in
--
-- The data is generated here with generate_series() and random() after
-- setseed(), so every run loads the same rows: a month of web/app events with
-- a skewed event mix, heavy-tailed user activity, 30-minute sessions, per
-- country latency distributions and type-specific JSON payloads.  It is
-- written to a CSV file, loaded with COPY into a table USING :am, and copied
-- with INSERT ... SELECT into a heap twin; every answer below is computed
-- from the tables by the server, and the two tables are compared row by row.

\set ON_ERROR_STOP on
\pset pager off
\pset null '(null)'

\echo
\echo '==== 1. Generate a month of web/app events (fixed seed) and stage them as CSV'
\echo

SELECT setseed(0.42);

\timing on
COPY (
    WITH base AS MATERIALIZED (
        SELECT g AS event_id,
               -- time-ordered over March 2024, a few seconds of jitter
               timestamptz '2024-03-01 00:00:00+00'
                   + (g - 1) * (interval '31 days' / :rows)
                   + random() * interval '5 seconds' AS event_time,
               -- log-uniform ids: a few heavy users, a long tail of light ones
               floor(exp(random() * ln(50000)))::bigint AS user_id,
               random() AS r_type,
               random() AS r_country,
               random() AS r_device,
               random() AS r_status,
               random() AS r_path,
               -- standard normal (Box-Muller) for log-normal latencies
               sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS z
        FROM generate_series(1, :rows) AS g
    ),
    shaped AS MATERIALIZED (
        SELECT b.*,
               CASE WHEN r_type < 0.52  THEN 'page_view'
                    WHEN r_type < 0.70  THEN 'click'
                    WHEN r_type < 0.78  THEN 'scroll'
                    WHEN r_type < 0.84  THEN 'search'
                    WHEN r_type < 0.89  THEN 'add_to_cart'
                    WHEN r_type < 0.92  THEN 'login'
                    WHEN r_type < 0.945 THEN 'checkout'
                    WHEN r_type < 0.96  THEN 'purchase'
                    WHEN r_type < 0.985 THEN 'api_call'
                    ELSE 'error' END AS event_type,
               (ARRAY['US','US','US','US','US','US','IN','IN','IN','DE','DE','GB','GB','BR','BR',
                      'FR','JP','CA','AU','MX','ES','IT','NL','PL','SE','KR','ID','NG','ZA','AR'])
                   [1 + floor(r_country * 30)::int] AS country,
               CASE WHEN r_device < 0.58 THEN 'mobile'
                    WHEN r_device < 0.94 THEN 'desktop'
                    ELSE 'tablet' END AS device
        FROM base b
    )
    SELECT event_id,
           event_time,
           user_id,
           -- a session is one user's 30-minute window
           md5(user_id || ':' || floor(extract(epoch FROM event_time) / 1800))::uuid::text AS session_id,
           event_type,
           CASE event_type
               WHEN 'search'      THEN '/search'
               WHEN 'add_to_cart' THEN '/cart/add'
               WHEN 'checkout'    THEN '/checkout'
               WHEN 'purchase'    THEN '/checkout/confirm'
               WHEN 'login'       THEN '/login'
               WHEN 'api_call'    THEN '/api/v2/' || (ARRAY['recommendations','inventory','profile','orders'])[1 + floor(r_path * 4)::int]
               ELSE CASE WHEN r_path < 0.45
                         -- popular products get most views
                         THEN '/products/' || (1 + floor(power(random(), 2) * 2000))::int
                         ELSE (ARRAY['/', '/products', '/pricing', '/blog', '/blog/' || (1 + floor(random() * 150))::int,
                                     '/about', '/docs', '/account'])[1 + floor(random() * 8)::int] END
           END AS url_path,
           country,
           device,
           CASE WHEN event_type = 'error' THEN (ARRAY[500, 500, 502, 503, 504, 404])[1 + floor(r_status * 6)::int]
                WHEN r_status < 0.015 THEN 404
                WHEN r_status < 0.050 THEN 304
                WHEN r_status < 0.060 THEN 301
                ELSE 200 END AS status_code,
           greatest(1, round(exp(ln(
               CASE country WHEN 'US' THEN 80 WHEN 'CA' THEN 85 WHEN 'GB' THEN 85 WHEN 'DE' THEN 90
                            WHEN 'FR' THEN 95 WHEN 'NL' THEN 90 WHEN 'SE' THEN 95 WHEN 'JP' THEN 150
                            WHEN 'KR' THEN 140 WHEN 'BR' THEN 180 WHEN 'MX' THEN 160 WHEN 'IN' THEN 210
                            WHEN 'AU' THEN 190 WHEN 'ID' THEN 240 WHEN 'ZA' THEN 260 WHEN 'NG' THEN 320
                            ELSE 120 END
               * CASE device WHEN 'mobile' THEN 1.3 ELSE 1.0 END
               * CASE event_type WHEN 'api_call' THEN 0.6 WHEN 'checkout' THEN 1.8
                                 WHEN 'purchase' THEN 2.0 WHEN 'error' THEN 3.0 ELSE 1.0 END)
               + 0.6 * z)))::int AS latency_ms,
           CASE event_type
               WHEN 'purchase' THEN jsonb_build_object(
                   'order_id', 'ord_' || event_id,
                   'amount', round((5 + exp(random() * 5))::numeric, 2),
                   'currency', CASE country WHEN 'US' THEN 'USD' WHEN 'CA' THEN 'CAD' WHEN 'GB' THEN 'GBP'
                                            WHEN 'IN' THEN 'INR' WHEN 'JP' THEN 'JPY' WHEN 'BR' THEN 'BRL'
                                            WHEN 'DE' THEN 'EUR' WHEN 'FR' THEN 'EUR' WHEN 'ES' THEN 'EUR'
                                            WHEN 'IT' THEN 'EUR' WHEN 'NL' THEN 'EUR' ELSE 'USD' END,
                   'items', 1 + floor(random() * 5)::int)
               WHEN 'add_to_cart' THEN jsonb_build_object(
                   'product_id', 1 + floor(power(random(), 2) * 2000)::int,
                   'quantity', 1 + floor(random() * 3)::int,
                   'price', round((3 + exp(random() * 4.5))::numeric, 2))
               WHEN 'search' THEN jsonb_build_object(
                   'query', (ARRAY['running shoes','laptop','coffee maker','headphones','desk lamp',
                                   'backpack','usb-c cable','yoga mat','monitor','water bottle'])[1 + floor(power(random(), 1.5) * 10)::int],
                   'results', floor(random() * 240)::int)
               WHEN 'click' THEN jsonb_build_object(
                   'element', (ARRAY['nav_menu','cta_button','product_card','footer_link','banner','recommendation'])[1 + floor(random() * 6)::int])
               WHEN 'login' THEN jsonb_build_object(
                   'method', (ARRAY['password','password','google','apple','sso'])[1 + floor(random() * 5)::int],
                   'success', random() < 0.93)
               WHEN 'checkout' THEN jsonb_build_object(
                   'step', 1 + floor(random() * 3)::int,
                   'cart_value', round((10 + exp(random() * 5))::numeric, 2))
               WHEN 'api_call' THEN jsonb_build_object(
                   'client', (ARRAY['ios','android','web'])[1 + floor(random() * 3)::int],
                   'cache_hit', random() < 0.7)
               WHEN 'error' THEN jsonb_build_object(
                   'error', (ARRAY['upstream timeout','connection reset','payment gateway unavailable',
                                   'null reference in cart service','rate limited'])[1 + floor(random() * 5)::int],
                   'trace_id', md5(event_id::text))
               WHEN 'scroll' THEN jsonb_build_object('depth_pct', 10 * (1 + floor(random() * 10)::int))
               ELSE jsonb_build_object(
                   'referrer', (ARRAY['google','direct','direct','newsletter','twitter','bing','partner'])[1 + floor(random() * 7)::int])
           END AS payload
    FROM shaped
    ORDER BY event_id
) TO :'csv' WITH (FORMAT csv);

\echo
\echo '==== 2. Load it: COPY into a table USING' :am ', INSERT ... SELECT into a heap twin'
\echo

CREATE TABLE events (
    event_id    bigint      NOT NULL,
    event_time  timestamptz NOT NULL,
    user_id     bigint      NOT NULL,
    session_id  text        NOT NULL,
    event_type  text        NOT NULL,
    url_path    text        NOT NULL,
    country     char(2)     NOT NULL,
    device      text        NOT NULL,
    status_code smallint    NOT NULL,
    latency_ms  integer     NOT NULL,
    payload     jsonb
) USING :am;

COPY events FROM :'csv' WITH (FORMAT csv);

CREATE TABLE events_heap (LIKE events) USING heap;
INSERT INTO events_heap SELECT * FROM events;

\d+ events

SELECT count(*) AS events, min(event_time), max(event_time),
       count(DISTINCT user_id) AS users, count(DISTINCT session_id) AS sessions
FROM events;

SELECT event_id, event_time, user_id, event_type, url_path, country, device,
       status_code, latency_ms, payload
FROM events
WHERE event_id IN (1, 2, 3, 117, 1000, 4242)
ORDER BY event_id;

\echo 'Row-by-row comparison with the heap twin (0 = identical):'
SELECT count(*) AS rows_that_differ
FROM events e FULL JOIN events_heap h ON e.event_id = h.event_id
WHERE e::text IS DISTINCT FROM h::text;

\echo
\echo '==== 3. Analytics'
\echo

-- event mix
SELECT event_type,
       count(*) AS events,
       round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS pct,
       count(DISTINCT user_id) AS users
FROM events
GROUP BY event_type
ORDER BY events DESC;

-- latency percentiles for the ten busiest countries
SELECT country,
       count(*) AS events,
       percentile_cont(0.50) WITHIN GROUP (ORDER BY latency_ms)::int AS p50_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms)::int AS p95_ms,
       round(100.0 * count(*) FILTER (WHERE status_code >= 500) / count(*), 2) AS pct_5xx
FROM events
GROUP BY country
ORDER BY events DESC
LIMIT 10;

-- first week: daily active users, purchases and revenue (USD orders)
SELECT event_time::date AS day,
       count(DISTINCT user_id) AS active_users,
       count(*) FILTER (WHERE event_type = 'purchase') AS purchases,
       sum((payload ->> 'amount')::numeric) FILTER (WHERE event_type = 'purchase'
                                                     AND payload ->> 'currency' = 'USD') AS revenue_usd
FROM events
WHERE event_time < '2024-03-08'
GROUP BY day
ORDER BY day;

-- most searched terms (jsonb)
SELECT payload ->> 'query' AS query, count(*) AS searches,
       round(avg((payload ->> 'results')::int)) AS avg_results
FROM events
WHERE event_type = 'search'
GROUP BY 1
ORDER BY searches DESC
LIMIT 5;

\echo
\echo '==== 4. Indexes: a btree on user_id, one user''s timeline'
\echo

CREATE INDEX events_user_id_idx ON events (user_id);
CREATE INDEX events_heap_user_id_idx ON events_heap (user_id);
ANALYZE events;
ANALYZE events_heap;

EXPLAIN (COSTS OFF)
SELECT event_time, event_type, url_path, latency_ms
FROM events WHERE user_id = 4242 ORDER BY event_time;

SELECT event_time, event_type, url_path, latency_ms
FROM events WHERE user_id = 4242 ORDER BY event_time;

\echo
\echo '==== 5. Sizes: table USING' :am 'vs its heap twin'
\echo

SELECT c.relnamespace::regnamespace || '.' || c.relname AS table_name, a.amname AS am,
       pg_size_pretty(pg_relation_size(c.oid)) AS main_fork,
       pg_size_pretty(pg_table_size(c.oid)) AS table_size,
       pg_size_pretty(pg_indexes_size(c.oid)) AS indexes,
       pg_size_pretty(pg_total_relation_size(c.oid)) AS total
FROM pg_class c JOIN pg_am a ON a.oid = c.relam
WHERE c.oid IN ('public.events'::regclass, 'public.events_heap'::regclass)
ORDER BY 1;

\echo
\echo '==== 6. UPDATE, DELETE, VACUUM (same statements on both tables)'
\echo

-- a correction: desktop API latencies were double-counted
UPDATE events      SET latency_ms = latency_ms / 2 WHERE device = 'desktop' AND event_type = 'api_call';
UPDATE events_heap SET latency_ms = latency_ms / 2 WHERE device = 'desktop' AND event_type = 'api_call';
-- retention: drop the first week
DELETE FROM events      WHERE event_time < '2024-03-08';
DELETE FROM events_heap WHERE event_time < '2024-03-08';

SELECT (SELECT count(*) FROM events) AS events_rows, (SELECT count(*) FROM events_heap) AS heap_rows;

SELECT c.relnamespace::regnamespace || '.' || c.relname AS table_name, pg_size_pretty(pg_relation_size(c.oid)) AS main_fork_before_vacuum
FROM pg_class c WHERE c.oid IN ('public.events'::regclass, 'public.events_heap'::regclass) ORDER BY 1;

VACUUM events;
VACUUM events_heap;

SELECT c.relnamespace::regnamespace || '.' || c.relname AS table_name, pg_size_pretty(pg_relation_size(c.oid)) AS main_fork_after_vacuum,
       pg_size_pretty(pg_indexes_size(c.oid)) AS indexes
FROM pg_class c WHERE c.oid IN ('public.events'::regclass, 'public.events_heap'::regclass) ORDER BY 1;

\echo 'After UPDATE/DELETE/VACUUM, comparison with the heap twin (0 = identical):'
SELECT count(*) AS rows_that_differ
FROM events e FULL JOIN events_heap h ON e.event_id = h.event_id
WHERE e::text IS DISTINCT FROM h::text;

\echo 'The same lookup through the index after VACUUM:'
SELECT count(*) AS events_of_user_4242, min(event_time), max(event_time)
FROM events WHERE user_id = 4242;

\echo
\echo '==== 7. New traffic after VACUUM (the first week''s events replayed a month later)'
\echo

CREATE TEMP TABLE april_week (LIKE events);
COPY april_week FROM :'csv' WITH (FORMAT csv) WHERE event_time < '2024-03-08';
UPDATE april_week SET event_id = event_id + :rows, event_time = event_time + interval '31 days';
INSERT INTO events      SELECT * FROM april_week;
INSERT INTO events_heap SELECT * FROM april_week;

SELECT c.relnamespace::regnamespace || '.' || c.relname AS table_name, pg_size_pretty(pg_relation_size(c.oid)) AS main_fork,
       pg_size_pretty(pg_indexes_size(c.oid)) AS indexes
FROM pg_class c WHERE c.oid IN ('public.events'::regclass, 'public.events_heap'::regclass) ORDER BY 1;

SELECT count(*) AS events, min(event_time), max(event_time) FROM events;

\echo 'Final comparison with the heap twin (0 = identical):'
SELECT count(*) AS rows_that_differ
FROM events e FULL JOIN events_heap h ON e.event_id = h.event_id
WHERE e::text IS DISTINCT FROM h::text;

\echo
\echo '==== 8. Flush: the background worker moves the rows every transaction sees into'
\echo '     compressed columnar stripes once flush_rows rows arrived (the L0 memtable empties)'
\echo

SELECT :'am' = 'rustydb' AS is_rustydb \gset
\if :is_rustydb
-- wait for the worker, at most 3 minutes, sampling what it does every 0.2 s;
-- a procedure, so that each sample is its own transaction (a long one would
-- keep the rows from being visible to everyone, and so from being flushed)
CREATE TEMP TABLE flush_samples (at timestamptz, l0_rows bigint, flushed_rows bigint,
                                 stripes int, phase text, pages_scanned bigint, pages_total bigint);
CREATE PROCEDURE pg_temp.watch_flush() LANGUAGE plpgsql AS $$
DECLARE
    deadline timestamptz := clock_timestamp() + interval '3 minutes';
    left_rows bigint;
BEGIN
    LOOP
        INSERT INTO flush_samples
        SELECT clock_timestamp(), t.l0_rows, t.flushed_rows, t.stripes, p.phase,
               p.l0_pages_scanned, p.l0_pages_total
          FROM rustydb.tables t LEFT JOIN rustydb.flush_progress p ON p.relation = t.relation
         WHERE t.relation = 'public.events'::regclass
        RETURNING l0_rows INTO left_rows;
        COMMIT;
        EXIT WHEN left_rows < 50000 OR clock_timestamp() > deadline;
        PERFORM pg_sleep(0.2);
    END LOOP;
END $$;
SELECT relation, l0_rows, flushed_rows, stripes FROM rustydb.tables WHERE relation = 'public.events'::regclass;
ALTER TABLE events SET (flush_rows = 50000);
CALL pg_temp.watch_flush();
\echo 'What the samples saw (one line per change in the table''s layout):'
SELECT min(at)::time(1) AS first_seen, l0_rows, flushed_rows, stripes,
       string_agg(DISTINCT phase || ' ' || pages_scanned || '/' || pages_total, '; ') AS flush_running
  FROM flush_samples GROUP BY l0_rows, flushed_rows, stripes ORDER BY 1;
SELECT relation, options, l0_pages, l0_rows, flushed_rows, stripes, deleted_rows,
       pg_size_pretty(raw_bytes) AS values_before_encoding, pg_size_pretty(stored_bytes) AS stripe_size,
       round(compression_ratio::numeric, 1) AS ratio, last_flush::time(0), flushes
  FROM rustydb.tables WHERE relation = 'public.events'::regclass;
SELECT c.relnamespace::regnamespace || '.' || c.relname AS table_name, pg_size_pretty(pg_relation_size(c.oid)) AS main_fork
FROM pg_class c WHERE c.oid IN ('public.events'::regclass, 'public.events_heap'::regclass) ORDER BY 1;
\echo 'What the blocks are now (rustydb.l0_layout): flushed L0 pages were retired into the'
\echo 'generation directory (92 bytes describe a page of rows) and left free pages behind:'
SELECT * FROM rustydb.l0_layout('public.events');
\echo 'New rows reuse those free pages (under new generations, ctid from 2^31 up), and the'
\echo 'worker flushes them in turn: another month of traffic, then the sizes again:'
CREATE TEMP TABLE may_traffic AS
SELECT event_id + 2 * :rows AS event_id, event_time + interval '61 days' AS event_time,
       user_id, session_id, event_type, url_path, country, device, status_code,
       latency_ms, payload
  FROM events_heap WHERE event_id <= :rows;
INSERT INTO events      SELECT * FROM may_traffic;
INSERT INTO events_heap SELECT * FROM may_traffic;
SELECT min(ctid) AS first_new_ctid FROM events WHERE event_id > 2 * :rows;
CALL pg_temp.watch_flush();
SELECT * FROM rustydb.l0_layout('public.events');
SELECT c.relnamespace::regnamespace || '.' || c.relname AS table_name, pg_size_pretty(pg_relation_size(c.oid)) AS main_fork
FROM pg_class c WHERE c.oid IN ('public.events'::regclass, 'public.events_heap'::regclass) ORDER BY 1;
\echo 'The stripes (rustydb.stripes): level, the row numbers they hold, rows deleted since:'
SELECT stripe, level, first_row, last_row, rows, deleted_rows, chunk_groups, pg_size_pretty(bytes) AS size
  FROM rustydb.stripes WHERE relation = 'public.events'::regclass ORDER BY stripe;
\echo 'Per column (rustydb.columns): the encodings flush chose (encoding: chunks) and what they saved:'
SELECT column_name, encodings, null_values, pg_size_pretty(value_bytes) AS values_before,
       pg_size_pretty(stored_bytes) AS stored, round(compression_ratio::numeric, 1) AS ratio
  FROM rustydb.columns WHERE relation = 'public.events'::regclass ORDER BY attnum;
\echo 'An analytic query over the flushed rows: the columnar scan decodes only the columns it needs'
\echo '(Columns:), skips chunk groups whose min/max of event_time rule the filter out (Chunk Groups'
\echo 'Skipped) and evaluates the filter on the decoded column; the aggregate pushdown (RustydbAgg)'
\echo 'groups and aggregates the rows that pass inside the scan, without an Aggregate node. It is'
\echo 'serial: with parallel workers allowed the planner may price a parallel aggregate lower, so'
\echo 'this query runs without them:'
SET max_parallel_workers_per_gather = 0;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT event_type, count(*), round(avg(latency_ms)) AS avg_latency_ms
  FROM events WHERE event_time >= '2024-03-29' AND event_time < '2024-04-01' GROUP BY 1 ORDER BY 1;
RESET max_parallel_workers_per_gather;
\echo 'Its answer, next to the heap twin''s (same numbers):'
SELECT 'rustydb' AS source, event_type, count(*), round(avg(latency_ms)) AS avg_latency_ms
  FROM events WHERE event_time >= '2024-03-29' AND event_time < '2024-04-01' GROUP BY 1, 2
UNION ALL
SELECT 'heap', event_type, count(*), round(avg(latency_ms))
  FROM events_heap WHERE event_time >= '2024-03-29' AND event_time < '2024-04-01' GROUP BY 1, 2
ORDER BY 2, 1;
\echo 'The users and sessions of those three days: count(DISTINCT) is computed in the scan as well'
\echo '(user ids in a hash set, session ids, text, sorted and deduplicated):'
SET max_parallel_workers_per_gather = 0;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(DISTINCT user_id) AS users, count(DISTINCT session_id) AS sessions, count(*) AS events
  FROM events WHERE event_time >= '2024-03-29' AND event_time < '2024-04-01';
SELECT 'rustydb' AS source, count(DISTINCT user_id) AS users, count(DISTINCT session_id) AS sessions,
       count(*) AS events
  FROM events WHERE event_time >= '2024-03-29' AND event_time < '2024-04-01'
UNION ALL
SELECT 'heap', count(DISTINCT user_id), count(DISTINCT session_id), count(*)
  FROM events_heap WHERE event_time >= '2024-03-29' AND event_time < '2024-04-01';
RESET max_parallel_workers_per_gather;
\echo 'How one column is stored (the encodings flush chose come from the data):'
SELECT * FROM rustydb.encode_sample(
    (SELECT array_agg(event_type ORDER BY event_id) FROM (SELECT * FROM events_heap ORDER BY event_id LIMIT 10000) s),
    'auto', 'zstd');
\echo 'The flushed rows read back as before: comparison with the heap twin (0 = identical):'
SELECT count(*) AS rows_that_differ
FROM events e FULL JOIN events_heap h ON e.event_id = h.event_id
WHERE e::text IS DISTINCT FROM h::text;
\echo 'And still take UPDATE and DELETE, as on heap:'
UPDATE events      SET status_code = 299 WHERE event_id % 1000 = 1;
UPDATE events_heap SET status_code = 299 WHERE event_id % 1000 = 1;
DELETE FROM events      WHERE event_id % 1000 = 2;
DELETE FROM events_heap WHERE event_id % 1000 = 2;
SELECT count(*) AS rows_that_differ
FROM events e FULL JOIN events_heap h ON e.event_id = h.event_id
WHERE e::text IS DISTINCT FROM h::text;
SELECT relation, l0_rows, flushed_rows, deleted_rows FROM rustydb.tables WHERE relation = 'public.events'::regclass;
\echo 'Compaction: the worker has been merging the flushed stripes into the next level as they'
\echo 'arrived (level_ratio 4). Stripes it replaced show as all rows deleted until their pages are'
\echo 'given back, which takes a moment when no query holds the table; rows deleted later stay in'
\echo 'their stripe until 20 % of it is dead (rustydb.compaction_dead_fraction). After VACUUM, an'
\echo 'on-demand compaction does what the policy says and gives back what nothing refers to:'
VACUUM events;
SELECT stripes_per_level AS before, deleted_rows FROM rustydb.tables WHERE relation = 'public.events'::regclass;
SELECT rustydb.compact('public.events') AS stripes_rewritten;
SELECT stripes_per_level AS after, deleted_rows, round(write_amplification::numeric, 2) AS write_amplification,
       compactions, compaction_rows_dropped, last_compaction_error
  FROM rustydb.tables WHERE relation = 'public.events'::regclass;
SELECT steps, stripes_rewritten, stripes_written, rows_dropped, pg_size_pretty(bytes_written) AS written,
       pages_freed FROM rustydb.compaction_history('public.events');
SELECT stripe_pages, free_stripe_pages FROM rustydb.l0_layout('public.events');
\echo 'Compacted rows read back as before (0 = identical):'
SELECT count(*) AS rows_that_differ
FROM events e FULL JOIN events_heap h ON e.event_id = h.event_id
WHERE e::text IS DISTINCT FROM h::text;
\else
\echo '(the events table is not a rustydb table: nothing to flush)'
\endif

\echo
\echo '==== 9. What the engine reported while all this ran: storage events'
\echo '     (LISTEN rustydb_pages / rustydb_io / rustydb_columnar / rustydb_lsm receives the same JSON)'
\echo

SELECT channel, variant, count(*) AS events, min(seq) AS first_seq, max(seq) AS last_seq
FROM rustydb.events GROUP BY channel, variant ORDER BY channel, variant;

\echo 'The latest event of each variant, as sent with NOTIFY:'
SELECT DISTINCT ON (variant) variant, payload
FROM rustydb.events ORDER BY variant, seq DESC;

\echo 'Delivery counters (emitted = NOTIFY sent, aggregated = folded into IoStats, dropped = ring wrapped first):'
SELECT channel, emitted, aggregated, sampled, dropped, shed FROM rustydb.event_stats
WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY channel;
