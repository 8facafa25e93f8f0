-- bench/pgbench/insert.sql: one single-row INSERT per transaction into the
-- events-shaped table ins_events (no indexes: the test measures the table AM's
-- insert path plus WAL/commit, not btree maintenance).
\set id random(1, 1000000000000)
\set tenant random(1, 1024)
\set uid random(1, 2097152)
\set kind random(1, 8)
\set dur random_exponential(1, 60000, 8.0)
\set items random(0, 7)
INSERT INTO ins_events (id, ts, tenant_id, user_id, session_id, event_type,
                        status, duration_ms, amount, country, url, payload)
VALUES (:id::bigint, now(), :tenant::int, :uid::bigint, md5(:uid::text)::uuid,
        (ARRAY['page_view','click','search','add_to_cart','login','logout','purchase','api_call'])[:kind::int],
        200, :dur::int, NULL, 'US', '/products/' || :items::int,
        jsonb_build_object('browser', 'firefox', 'os', 'linux', 'items', :items::int, 'ab', false));
