-- bench/sql/scan_group_text.sql: GROUP BY on a text column, nothing else read.
SELECT event_type, count(*) AS n FROM events GROUP BY event_type ORDER BY event_type;
