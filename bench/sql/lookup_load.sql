-- bench/sql/lookup_load.sql
--
-- The table behind the point-lookup test: a "users" table of :rows rows with a
-- btree primary key, filled by INSERT ... SELECT (deterministic values, so both
-- access methods hold the same rows) and then indexed, the usual order for a
-- bulk load. No USING clause: the database's default_table_access_method
-- decides (bench.sh checks pg_class.relam afterwards).
--
-- psql variable: rows (row count).

DROP TABLE IF EXISTS users;
CREATE TABLE users (
    id          bigint      NOT NULL,
    email       text        NOT NULL,
    name        text        NOT NULL,
    plan        text        NOT NULL,
    created_at  timestamptz NOT NULL,
    last_seen   timestamptz,
    balance     numeric(12,2) NOT NULL,
    flags       integer     NOT NULL
);

INSERT INTO users
SELECT i,
       'user' || i || '@example.' || (ARRAY['com','org','net','io'])[1 + (h & 3)],
       initcap(substr(md5(i::text), 1, 6)) || ' ' || initcap(substr(md5(i::text), 7, 9)),
       (ARRAY['free','free','free','pro','pro','team','enterprise','free'])[1 + (h >> 2 & 7)],
       timestamptz '2020-01-01 00:00:00+00' + (h >> 5 & 134217727) * interval '1 second',
       CASE WHEN h >> 33 & 3 = 0 THEN NULL
            ELSE timestamptz '2024-01-01 00:00:00+00' + (h >> 35 & 33554431) * interval '1 second'
       END,
       round(((h >> 20 & 1048575) / 100.0)::numeric, 2),
       (h >> 40 & 255)::integer
FROM (SELECT i, hashint8extended(i, 3) & 9223372036854775807 AS h
      FROM generate_series(1::bigint, :rows::bigint) AS i) AS g;

ALTER TABLE users ADD PRIMARY KEY (id);
ANALYZE users;

-- One full read sets the hint bits of every row, as a real table's first
-- readers would have long ago; otherwise the timed lookups would pay for
-- them (and, with data checksums, for the WAL full-page images they cause).
SELECT count(*) FROM users;
