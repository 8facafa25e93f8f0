-- bench/sql/encoding_sizes.sql
--
-- What the column encodings (src/encoding) and codecs (src/compress) make of
-- the benchmark's event data, before stripes exist: the rows of the "events"
-- table (events_schema.sql, events_generate.sql) are loaded into a heap
-- table, then every column is cut into chunks of :chunk rows (the default
-- chunk_group_rows) and each chunk is encoded with the automatic choice and
-- stored with none, lz4 and zstd through rustydb.encode_sample, which also
-- checks that every value round-trips.  Prints per column the encodings
-- chosen, raw bytes (values as PostgreSQL stores them, no alignment), the
-- encoded and stored bytes, and the total against the heap table's size.
--
-- psql variables: rows (default 100000), chunk (default 10000), path (a
-- file the server may write, default /tmp/rdb_encoding_sizes.csv).
--   psql -v rows=100000 -f bench/sql/encoding_sizes.sql

\if :{?rows} \else \set rows 100000 \endif
\if :{?chunk} \else \set chunk 10000 \endif
\if :{?path} \else \set path /tmp/rdb_encoding_sizes.csv \endif

\set tbl encoding_sizes_events
DROP TABLE IF EXISTS :"tbl";
SET default_table_access_method = heap;
\ir events_schema.sql
\ir events_generate.sql
COPY :"tbl" FROM :'path' WITH (FORMAT csv);
VACUUM ANALYZE :"tbl";

CREATE TEMP TABLE encoding_sizes (col text, grp int, codec text, encoding text,
	raw_bytes bigint, encoded_bytes bigint, stored_bytes bigint, roundtrip bool);

-- the chunk size, for the DO block (psql does not interpolate inside it)
SELECT set_config('rdb.chunk', :'chunk', false) \gset
DO $$
DECLARE
	c record;
	codec text;
BEGIN
	FOR c IN SELECT attname FROM pg_attribute
		WHERE attrelid = 'encoding_sizes_events'::regclass AND attnum > 0 AND NOT attisdropped
		ORDER BY attnum
	LOOP
		FOREACH codec IN ARRAY ARRAY['none', 'lz4', 'zstd'] LOOP
			EXECUTE format($q$
				INSERT INTO encoding_sizes
				SELECT %L, grp, %L, s.encoding, s.raw_bytes, s.encoded_bytes, s.stored_bytes, s.roundtrip
				FROM (SELECT (id - 1) / %s AS grp, array_agg(%I ORDER BY id) AS arr
					  FROM encoding_sizes_events GROUP BY 1) g,
					 rustydb.encode_sample(g.arr, 'auto', %L) s$q$,
				c.attname, codec, current_setting('rdb.chunk'), c.attname, codec);
		END LOOP;
	END LOOP;
END $$;

-- per column (encodings: how many chunks chose each)
SELECT col,
	(SELECT string_agg(encoding || ' x' || n, ', ' ORDER BY n DESC, encoding)
	 FROM (SELECT encoding, count(*) n FROM encoding_sizes e2
		   WHERE e2.col = e.col AND codec = 'none' GROUP BY 1) x) AS encodings,
	sum(raw_bytes) FILTER (WHERE codec = 'none') AS raw,
	sum(encoded_bytes) FILTER (WHERE codec = 'none') AS encoded,
	sum(stored_bytes) FILTER (WHERE codec = 'lz4') AS lz4,
	sum(stored_bytes) FILTER (WHERE codec = 'zstd') AS zstd,
	round(sum(raw_bytes) FILTER (WHERE codec = 'none')::numeric
		  / sum(stored_bytes) FILTER (WHERE codec = 'zstd'), 1) AS "raw/zstd",
	bool_and(roundtrip) AS roundtrip
FROM encoding_sizes e GROUP BY col ORDER BY min(grp), col;

-- the whole table
SELECT pg_size_pretty(pg_table_size(:'tbl')) AS heap_size,
	pg_size_pretty(sum(raw_bytes) FILTER (WHERE codec = 'none')) AS raw,
	pg_size_pretty(sum(encoded_bytes) FILTER (WHERE codec = 'none')) AS encoded,
	pg_size_pretty(sum(stored_bytes) FILTER (WHERE codec = 'lz4')) AS lz4,
	pg_size_pretty(sum(stored_bytes) FILTER (WHERE codec = 'zstd')) AS zstd,
	round(pg_table_size(:'tbl')::numeric / sum(encoded_bytes) FILTER (WHERE codec = 'none'), 1) AS "heap/encoded",
	round(pg_table_size(:'tbl')::numeric / sum(stored_bytes) FILTER (WHERE codec = 'lz4'), 1) AS "heap/lz4",
	round(pg_table_size(:'tbl')::numeric / sum(stored_bytes) FILTER (WHERE codec = 'zstd'), 1) AS "heap/zstd",
	bool_and(roundtrip) AS roundtrip
FROM encoding_sizes;

DROP TABLE :"tbl";
