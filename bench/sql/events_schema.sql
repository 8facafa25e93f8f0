-- bench/sql/events_schema.sql
--
-- The "events" table used by the COPY, full-scan and single-row INSERT tests:
-- an application event log (who did what, when, how long it took, a small
-- JSON payload), the kind of table the project's DESIGN.md has in mind.
-- No USING clause: the table takes the database's default_table_access_method
-- (bench.sh sets it per database and checks pg_class.relam afterwards).
--
-- psql variable: tbl (table name).

CREATE TABLE :"tbl" (
    id          bigint      NOT NULL,
    ts          timestamptz NOT NULL,
    tenant_id   integer     NOT NULL,
    user_id     bigint      NOT NULL,
    session_id  uuid        NOT NULL,
    event_type  text        NOT NULL,
    status      smallint    NOT NULL,
    duration_ms integer,
    amount      numeric(12,2),
    country     char(2)     NOT NULL,
    url         text        NOT NULL,
    payload     jsonb       NOT NULL
);
