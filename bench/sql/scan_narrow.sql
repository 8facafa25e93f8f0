-- bench/sql/scan_narrow.sql: a narrow aggregate, one numeric column of every
-- row (what a columnar scan decodes alone).
SELECT sum(amount) AS revenue, count(amount) AS purchases FROM events;
