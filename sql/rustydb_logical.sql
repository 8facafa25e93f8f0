--
-- rustydb_logical: what logical decoding cannot support is refused clearly.
--
-- user_catalog_table: logical decoding would read such a table with
-- historic snapshots; rustydb does not log what those need, so the option
-- is refused on rustydb tables, on every path that could set it.
CREATE TABLE uc1 (a int) USING rustydb WITH (user_catalog_table = true);
SET default_table_access_method = rustydb;
CREATE TABLE uc1 (a int) WITH (user_catalog_table);
CREATE TABLE uc2 WITH (user_catalog_table = on) AS SELECT 1 AS a;
RESET default_table_access_method;
CREATE TABLE uc3 (a int) USING rustydb;
INSERT INTO uc3 VALUES (1);
ALTER TABLE uc3 SET (user_catalog_table = true);
-- nothing was half-applied: uc3 keeps its options and its row
SELECT relname, reloptions FROM pg_class WHERE relname LIKE 'uc_' ORDER BY 1;
SELECT * FROM uc3;
-- false is fine, and so is a heap user catalog table
ALTER TABLE uc3 SET (user_catalog_table = false);
CREATE TABLE uc4 (a int) USING heap WITH (user_catalog_table = true);
-- it cannot become a rustydb table
ALTER TABLE uc4 SET ACCESS METHOD rustydb;
SELECT c.relname, a.amname, c.reloptions FROM pg_class c JOIN pg_am a ON a.oid = c.relam
 WHERE c.relname LIKE 'uc_' ORDER BY 1;
DROP TABLE uc3, uc4;
