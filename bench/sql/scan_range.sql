-- bench/sql/scan_range.sql: a selective range filter (about 1% of 1M rows:
-- ts grows with id, 17 ms apart) on a column without an index, so every AM
-- answers it with a scan; a columnar scan can skip chunk groups by min/max.
SELECT count(*) AS n, sum(duration_ms) AS total_ms, max(url) AS last_url
FROM events
WHERE ts >= '2024-01-01 01:00:00+00' AND ts < '2024-01-01 01:03:00+00';
