-- bench/sql/events_generate.sql
--
-- Writes the COPY input file once (server-side COPY ... TO, so the server user
-- must be able to write :'path'). Every value is a deterministic function of
-- the row number i (hashint8extended, md5): the file is the same on every run,
-- and heap and the tested AM load exactly the same bytes. Distributions are
-- skewed the way real event logs are: page views dominate, only purchases carry
-- amounts, durations are long-tailed, a few tenants and countries are hot.
--
-- psql variables: rows (row count), path (output file).

COPY (
    SELECT
        i                                                         AS id,
        timestamptz '2024-01-01 00:00:00+00'
            + i * interval '17 milliseconds'                      AS ts,
        1 + (h1 & 1023) % (1 + (h1 >> 10 & 1023))                AS tenant_id,
        1 + (h2 & 2097151)                                        AS user_id,
        md5((i / 23)::text)::uuid                                 AS session_id,
        (ARRAY['page_view','page_view','page_view','page_view',
               'page_view','click','click','click','search',
               'add_to_cart','login','logout','purchase','api_call',
               'api_call','error'])[1 + (h1 >> 20 & 15)]          AS event_type,
        (ARRAY[200,200,200,200,200,200,200,200,200,200,200,200,
               201,304,404,500])[1 + (h2 >> 22 & 15)]             AS status,
        CASE WHEN h2 >> 26 & 7 = 0 THEN NULL
             ELSE ((h1 >> 30 & 1023) * (h1 >> 40 & 1023)) / 97 + 1
        END                                                       AS duration_ms,
        CASE WHEN (h1 >> 20 & 15) = 12
             THEN round(((h2 >> 30 & 1048575) / 100.0)::numeric, 2)
        END                                                       AS amount,
        (ARRAY['US','US','US','US','DE','DE','GB','FR','JP','BR',
               'IN','CA','NL','SE','PL','AU'])[1 + (h2 >> 50 & 15)] AS country,
        '/' || (ARRAY['products','cart','search','account','blog',
                      'checkout','api/v1/items','help'])[1 + (h1 >> 50 & 7)]
            || '/' || (h2 >> 40 & 65535)                          AS url,
        jsonb_build_object(
            'browser', (ARRAY['firefox','chrome','chrome','safari',
                              'edge','curl','chrome','safari'])[1 + (h2 >> 56 & 7)],
            'os',      (ARRAY['linux','windows','macos','ios',
                              'android','windows','android','ios'])[1 + (h1 >> 56 & 7)],
            'items',   (h2 >> 12 & 7),
            'ab',      (h1 >> 12 & 1) = 1)                        AS payload
    FROM (SELECT i,
                 hashint8extended(i, 1) & 9223372036854775807 AS h1,
                 hashint8extended(i, 2) & 9223372036854775807 AS h2
          FROM generate_series(1::bigint, :rows::bigint) AS i) AS g
) TO :'path' WITH (FORMAT csv);
