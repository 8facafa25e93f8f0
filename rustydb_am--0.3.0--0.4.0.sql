/* rustydb_am--0.3.0--0.4.0.sql: leveled compaction (src/lsm/compact.c) */

\echo Use "ALTER EXTENSION rustydb_am UPDATE TO '0.4.0'" to load this file. \quit

CREATE FUNCTION rustydb.compact(rel regclass)
RETURNS bigint
AS 'MODULE_PATHNAME', 'rustydb_compact'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION rustydb.compact(regclass) IS
  'compact the table now as far as the policy goes (stripes of a level merged into the next, stripes with many dead rows rewritten), then give the space of stripes nothing refers to back for later stripes; returns the number of stripes rewritten (table owner only)';

-- compactions since the server started (src/lsm/compact_progress.c)
CREATE FUNCTION rustydb.compaction_history(rel regclass,
    OUT last_compaction timestamptz, OUT compactions bigint, OUT steps bigint,
    OUT stripes_rewritten bigint, OUT stripes_written bigint,
    OUT rows_dropped bigint, OUT bytes_written bigint,
    OUT pages_freed bigint, OUT pages_pending bigint,
    OUT last_error text, OUT last_error_at timestamptz)
AS 'MODULE_PATHNAME', 'rustydb_compaction_history'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION rustydb.compaction_history(regclass) IS
  'the table''s compactions since the server started: when the last one that did work ended, how many did, steps, stripes rewritten and written, stripe rows dropped, bytes written, stripe pages given back and still waiting to be, and the last error with its time (NULL when none); needs SELECT on the table';

-- what flush and compaction wrote into the table's storage (its metapage)
CREATE FUNCTION rustydb.storage_counters(rel regclass,
    OUT flush_bytes bigint, OUT flushed_value_bytes bigint,
    OUT compaction_bytes bigint, OUT compaction_steps bigint,
    OUT write_amplification float8)
AS 'MODULE_PATHNAME', 'rustydb_storage_counters'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION rustydb.storage_counters(regclass) IS
  'stripe bytes flush and compaction wrote into the table''s current storage, the bytes of the values flush moved, compaction steps, and write amplification = stripe bytes written / value bytes flushed; needs SELECT on the table';

CREATE FUNCTION rustydb.compaction_progress_all(
    OUT pid int, OUT datid oid, OUT relid oid, OUT background bool,
    OUT phase text, OUT started timestamptz, OUT level int,
    OUT step_stripes int, OUT step_rows bigint, OUT steps_done int,
    OUT stripes_rewritten int, OUT stripes_written int,
    OUT rows_written bigint, OUT rows_switched bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'rustydb_compaction_progress_all'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION rustydb.compaction_progress_all() IS
  'the compactions running now on tables of this database the user may SELECT (behind the view rustydb.compaction_progress)';

-- one row per running compaction, as pg_stat_progress_vacuum
CREATE VIEW rustydb.compaction_progress AS
  SELECT p.pid, p.datid, d.datname, p.relid::regclass AS relation,
         p.background, p.phase, p.started, p.level, p.step_stripes,
         p.step_rows, p.steps_done, p.stripes_rewritten, p.stripes_written,
         p.rows_written, p.rows_switched
    FROM rustydb.compaction_progress_all() p
    LEFT JOIN pg_database d ON d.oid = p.datid;
COMMENT ON VIEW rustydb.compaction_progress IS
  'one row per compaction running now (rustydb.compact() or the background worker) on a table of this database the user may SELECT: phase (surveying, writing stripes, switching rows, freeing space), the level and size of the current step, steps, stripes and rows done so far';
GRANT SELECT ON rustydb.compaction_progress TO PUBLIC;

-- l0_layout also counts the stripe pages given back
DROP FUNCTION rustydb.l0_layout(regclass);
CREATE FUNCTION rustydb.l0_layout(rel regclass,
    OUT l0_pages bigint, OUT reused_pages bigint, OUT free_pages bigint,
    OUT directory_pages bigint, OUT stripe_pages bigint,
    OUT retired_generations bigint, OUT retired_rows bigint,
    OUT next_generation bigint, OUT free_stripe_pages bigint)
AS 'MODULE_PATHNAME', 'rustydb_l0_layout'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION rustydb.l0_layout(regclass) IS
  'what the table''s blocks are: L0 pages (reused_pages under a new generation), free pages of retired pages, generation directory pages, stripe pages in use; retired generations (flushed L0 pages that need no page) and their live rows; stripe pages compaction gave back for later stripes; reads the whole table; needs SELECT on it';

-- rustydb.tables gains levels, write amplification and compaction
DROP VIEW rustydb.tables;
CREATE VIEW rustydb.tables AS
  SELECT c.oid::regclass AS relation,
         (SELECT string_agg(o.option || '=' || o.value, ', ' ORDER BY o.option)
            FROM rustydb.table_options(c.oid) o WHERE o.source = 'table') AS options,
         l.*,
         pg_table_size(c.oid) AS table_bytes,
         h.last_flush, h.flushes, h.rows_flushed AS rows_flushed_since_start,
         (SELECT string_agg('L' || s.level || ':' || s.n, ' ' ORDER BY s.level)
            FROM (SELECT st.level, count(*) AS n FROM rustydb.stripes(c.oid) st
                   GROUP BY st.level) s) AS stripes_per_level,
         w.write_amplification,
         ch.last_compaction, ch.compactions, ch.rows_dropped AS compaction_rows_dropped,
         ch.last_error AS last_compaction_error, ch.last_error_at AS last_compaction_error_at
    FROM pg_class c
    JOIN pg_am a ON a.oid = c.relam AND a.amname = 'rustydb'
    CROSS JOIN LATERAL rustydb.table_layout(c.oid) l
    CROSS JOIN LATERAL rustydb.flush_history(c.oid) h
    CROSS JOIN LATERAL rustydb.storage_counters(c.oid) w
    CROSS JOIN LATERAL rustydb.compaction_history(c.oid) ch
   WHERE c.relkind = 'r'
     AND (c.relpersistence <> 't' OR c.relnamespace = pg_my_temp_schema())
     AND has_table_privilege(c.oid, 'SELECT');
COMMENT ON VIEW rustydb.tables IS
  'one row per rustydb table the user may SELECT: options set on the table, L0 pages and rows, flushed rows, stripes and their compression, stripe rows deleted, table size, its flushes since the server started, stripes per LSM level (L1:n L2:m ...), write amplification (stripe bytes flush and compaction wrote / value bytes flushed), and its compactions since the server started with the last error (reads every table)';
GRANT SELECT ON rustydb.tables TO PUBLIC;
