-- bench/pgbench/lookup.sql: one point lookup through the users primary key
-- (btree), pgbench "select-only" style. -D rows=N gives the key range.
\set id random(1, :rows)
SELECT id, email, name, plan, balance FROM users WHERE id = :id;
