--
-- triggers_fk: triggers and foreign keys on default-AM tables.
--
-- AFTER ROW triggers re-fetch the OLD and NEW rows by TID when they fire
-- (tuple_fetch_row_version), foreign-key checks lock the referenced rows
-- (tuple_lock, KEY SHARE) and cascades update and delete through the AM.
-- Foreign keys are tested in both directions between a default-AM table and
-- an explicitly heap table, and between two default-AM tables.
--
CREATE SCHEMA triggers_fk;
SET search_path = triggers_fk;

CREATE TABLE item (id int PRIMARY KEY, name text, qty int);
CREATE TABLE audit (seq serial, tg text, op text, old_row text, new_row text);

CREATE FUNCTION log_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO triggers_fk.audit (tg, op, old_row, new_row)
  VALUES (TG_NAME, TG_OP,
          CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN OLD::text END,
          CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN NEW::text END);
  RETURN NULL;
END $$;
CREATE TRIGGER item_after AFTER INSERT OR UPDATE OR DELETE ON item
  FOR EACH ROW EXECUTE FUNCTION log_row();

INSERT INTO item VALUES (1, 'bolt', 10), (2, 'nut', 20), (3, 'gear', 30);
UPDATE item SET qty = qty + 1 WHERE id = 2;
UPDATE item SET name = 'big ' || name, qty = qty * 2 WHERE id >= 2;
DELETE FROM item WHERE id = 1;
-- (rows of one statement are processed in scan order, which is the AM's
-- business: the log is shown sorted by contents, not by firing order)
SELECT tg, op, old_row, new_row FROM audit ORDER BY op, old_row COLLATE "C", new_row COLLATE "C";

-- AFTER triggers fire at the end of the statement: the rows they re-fetch are
-- the versions written by the statement even after many changes in one
-- transaction; in a rolled-back transaction nothing remains
TRUNCATE audit;
BEGIN;
UPDATE item SET qty = 0 WHERE id = 3;
UPDATE item SET qty = 1 WHERE id = 3;
UPDATE item SET qty = 2 WHERE id = 3;
SELECT op, old_row, new_row FROM audit ORDER BY seq;
ROLLBACK;
SELECT count(*) FROM audit;
SELECT * FROM item ORDER BY id;

-- a WHEN condition reads OLD and NEW
CREATE TRIGGER item_qty_drop AFTER UPDATE ON item
  FOR EACH ROW WHEN (NEW.qty < OLD.qty) EXECUTE FUNCTION log_row();
TRUNCATE audit;
UPDATE item SET qty = qty - 1;
UPDATE item SET qty = qty + 5;
SELECT tg, op, old_row, new_row FROM audit ORDER BY tg, old_row COLLATE "C", new_row COLLATE "C";

-- deferred constraint trigger: fires at commit, fetching the row then
CREATE CONSTRAINT TRIGGER item_deferred AFTER UPDATE ON item
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION log_row();
TRUNCATE audit;
BEGIN;
UPDATE item SET qty = 100 WHERE id = 2;
UPDATE item SET qty = 200 WHERE id = 2;
SELECT count(*) FILTER (WHERE tg = 'item_deferred') AS deferred_so_far FROM audit;
COMMIT;
SELECT tg, old_row, new_row FROM audit WHERE tg = 'item_deferred' ORDER BY seq;
DROP TRIGGER item_deferred ON item;
DROP TRIGGER item_qty_drop ON item;

-- BEFORE ROW triggers change or suppress rows
CREATE FUNCTION before_fix() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.qty < 0 THEN RETURN NULL; END IF;       -- silently skip
  NEW.name := upper(NEW.name);
  RETURN NEW;
END $$;
CREATE TRIGGER item_before BEFORE INSERT OR UPDATE ON item
  FOR EACH ROW EXECUTE FUNCTION before_fix();
TRUNCATE audit;
INSERT INTO item VALUES (10, 'washer', 5), (11, 'skipped', -1);
UPDATE item SET qty = -5 WHERE id = 10;
UPDATE item SET qty = 6 WHERE id = 10;
SELECT * FROM item WHERE id >= 10 ORDER BY id;
SELECT op, old_row, new_row FROM audit ORDER BY seq;
DROP TRIGGER item_before ON item;

-- statement triggers with transition tables
CREATE TABLE stats (op text, n bigint, total bigint);
CREATE FUNCTION stmt_stats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO triggers_fk.stats SELECT TG_OP, count(*), sum(qty) FROM new_rows;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO triggers_fk.stats SELECT TG_OP, count(*), sum(qty) FROM old_rows;
  ELSE
    INSERT INTO triggers_fk.stats
    SELECT TG_OP, (SELECT count(*) FROM new_rows), (SELECT sum(qty) FROM new_rows) - (SELECT sum(qty) FROM old_rows);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER item_ins_stmt AFTER INSERT ON item REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION stmt_stats();
CREATE TRIGGER item_upd_stmt AFTER UPDATE ON item REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION stmt_stats();
CREATE TRIGGER item_del_stmt AFTER DELETE ON item REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION stmt_stats();
INSERT INTO item SELECT g, 'bulk', g FROM generate_series(100, 199) g;
UPDATE item SET qty = qty + 1 WHERE id >= 100;
DELETE FROM item WHERE id >= 150;
SELECT * FROM stats;
DROP TRIGGER item_after ON item;

--
-- foreign keys
--
-- default AM referencing default AM, with cascades
CREATE TABLE orders (id int PRIMARY KEY, note text);
CREATE TABLE lines (id int PRIMARY KEY, order_id int REFERENCES orders (id) ON DELETE CASCADE ON UPDATE CASCADE,
                    item_id int REFERENCES item (id), amount int);
INSERT INTO orders SELECT g, 'order ' || g FROM generate_series(1, 100) g;
INSERT INTO lines SELECT g, (g % 100) + 1, 2, g FROM generate_series(1, 1000) g;
-- violations
INSERT INTO lines VALUES (5000, 101, 2, 1);
INSERT INTO lines VALUES (5001, 1, 999, 1);
UPDATE lines SET order_id = 1000 WHERE id = 1;
DELETE FROM item WHERE id = 2;
-- cascades
DELETE FROM orders WHERE id <= 10;
SELECT count(*), count(DISTINCT order_id) FROM lines;
UPDATE orders SET id = id + 1000 WHERE id BETWEEN 11 AND 20;
SELECT count(*) FROM lines WHERE order_id > 1000;
SELECT count(*) FROM lines WHERE order_id BETWEEN 11 AND 20;
-- the cascaded rows are found through the indexes afterwards
CREATE INDEX lines_order ON lines (order_id);
SET enable_seqscan = off;
SELECT count(*), sum(amount) FROM lines WHERE order_id = 1011;
RESET enable_seqscan;
-- rows inserted and deleted in one transaction, checked at commit (deferred)
ALTER TABLE lines DROP CONSTRAINT lines_item_id_fkey;
ALTER TABLE lines ADD CONSTRAINT lines_item_deferred FOREIGN KEY (item_id) REFERENCES item (id)
  DEFERRABLE INITIALLY DEFERRED;
BEGIN;
INSERT INTO lines VALUES (6000, 30, 777, 1);   -- item 777 does not exist yet
INSERT INTO item VALUES (777, 'late', 1);
COMMIT;
BEGIN;
INSERT INTO lines VALUES (6001, 30, 778, 1);   -- and never will
COMMIT;
SELECT count(*) FROM lines WHERE id IN (6000, 6001);

-- heap referencing the default AM, and the default AM referencing heap
CREATE TABLE heap_parent (id int PRIMARY KEY, v text) USING heap;
CREATE TABLE dflt_child (id int PRIMARY KEY, parent_id int REFERENCES heap_parent (id) ON DELETE SET NULL);
CREATE TABLE dflt_parent (id int PRIMARY KEY, v text);
CREATE TABLE heap_child (id int PRIMARY KEY, parent_id int REFERENCES dflt_parent (id) ON DELETE CASCADE) USING heap;
INSERT INTO heap_parent SELECT g, 'h' || g FROM generate_series(1, 50) g;
INSERT INTO dflt_parent SELECT g, 'd' || g FROM generate_series(1, 50) g;
INSERT INTO dflt_child SELECT g, g % 50 + 1 FROM generate_series(1, 500) g;
INSERT INTO heap_child SELECT g, g % 50 + 1 FROM generate_series(1, 500) g;
INSERT INTO dflt_child VALUES (1000, 51);
INSERT INTO heap_child VALUES (1000, 51);
DELETE FROM heap_parent WHERE id <= 5;
DELETE FROM dflt_parent WHERE id <= 5;
SELECT count(*), count(parent_id) FROM dflt_child;
SELECT count(*), count(parent_id) FROM heap_child;
-- a referenced row updated (non-key) many times stays referencable
UPDATE dflt_parent SET v = v || '+' WHERE id = 6;
UPDATE dflt_parent SET v = v || '+' WHERE id = 6;
INSERT INTO heap_child VALUES (2000, 6);
UPDATE dflt_parent SET id = 600 WHERE id = 6;   -- still referenced: error
SELECT id, v FROM dflt_parent WHERE id = 6;

-- a self-referencing tree deleted by cascade
CREATE TABLE node (id int PRIMARY KEY, parent int REFERENCES node (id) ON DELETE CASCADE);
INSERT INTO node VALUES (1, NULL);
INSERT INTO node SELECT g, g / 2 FROM generate_series(2, 1023) g;
DELETE FROM node WHERE id = 2;
SELECT count(*) FROM node;
DELETE FROM node WHERE id = 1;
SELECT count(*) FROM node;

-- adding a foreign key validates the existing rows (a scan through the AM)
CREATE TABLE later_child (id int, parent_id int);
INSERT INTO later_child SELECT g, g % 40 + 10 FROM generate_series(1, 300) g;
INSERT INTO later_child VALUES (301, 55), (302, 55);
ALTER TABLE later_child ADD FOREIGN KEY (parent_id) REFERENCES dflt_parent (id);
DELETE FROM later_child WHERE parent_id NOT IN (SELECT id FROM dflt_parent);
ALTER TABLE later_child ADD FOREIGN KEY (parent_id) REFERENCES dflt_parent (id);
SELECT count(*) FROM later_child;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA triggers_fk CASCADE;
