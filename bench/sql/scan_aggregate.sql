-- bench/sql/scan_aggregate.sql: the full-scan aggregate. Reads every row of
-- events and deforms most of its fixed-width columns plus one text column; the
-- result (16 groups or fewer) is also used to check that heap and the tested
-- AM hold the same data.
SELECT event_type,
       count(*)                 AS n,
       count(amount)            AS purchases,
       sum(amount)              AS revenue,
       sum(duration_ms)         AS total_ms,
       max(ts)                  AS last_ts,
       sum(status)              AS status_sum,
       sum(user_id)             AS user_sum
FROM events
GROUP BY event_type
ORDER BY event_type;
