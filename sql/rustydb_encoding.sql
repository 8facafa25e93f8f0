--
-- rustydb_encoding: the column chunk encodings (src/encoding) and the
-- compression frames (src/compress), through the diagnostic functions
-- rustydb.encode_sample, rustydb.encode_chunk and rustydb.decode_chunk_check
-- (AM-specific; the expected output is written and checked by hand).
--
-- encode_sample really encodes the array's elements as one chunk,
-- compresses, decompresses, decodes every row in bulk and one by one in a
-- scrambled order (and again from a misaligned copy), and says in
-- `roundtrip` whether every value came back bit for bit (datumIsEqual),
-- correctly aligned.
--
-- 1. Every encoding forced on one small chunk: exact sizes (computed by hand
--    from the format in src/encoding/README.md).
-- 2. The automatic choice on data where each encoding should win.
-- 3. Every kind of type, with and without NULLs, all NULL, 1 row and 65536
--    rows, through every encoding and codec.
-- 4. Bad arguments: 22023 with a hint listing the valid values, 54000 for
--    too many rows.
-- 5. Corrupted input: every truncation and every byte flipped of several
--    chunks and frames raises XX001 (data_corrupted) or decodes; the backend
--    never crashes.
--
CREATE SCHEMA rdb_encoding_test;
SET search_path = rdb_encoding_test, public;

-- "SQLSTATE: message (hint)" of a statement, or "ok"
CREATE FUNCTION enc_err(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	msg text;
	hint text;
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
	RETURN SQLSTATE || ': ' || msg || CASE WHEN hint <> '' THEN ' (' || hint || ')' ELSE '' END;
END $$;

-- every encoding x codec on one array: how many round-tripped, how many
-- did not, and which encodings refused the type (22023)
CREATE FUNCTION enc_check(arr anyarray,
	OUT nrows int, OUT nnulls int, OUT auto text, OUT roundtrips int,
	OUT failures int, OUT refused text)
LANGUAGE plpgsql AS $$
DECLARE
	e text;
	c text;
	r record;
BEGIN
	roundtrips := 0;
	failures := 0;
	refused := '';
	SELECT s.nrows, s.nnulls, s.encoding INTO nrows, nnulls, auto
	FROM rustydb.encode_sample(arr) s;
	FOREACH e IN ARRAY ARRAY['auto', 'plain', 'dictionary', 'runlength', 'delta', 'bitpacked'] LOOP
		FOREACH c IN ARRAY ARRAY['none', 'lz4', 'zstd'] LOOP
			BEGIN
				SELECT * INTO r FROM rustydb.encode_sample(arr, e, c);
				IF r.roundtrip THEN
					roundtrips := roundtrips + 1;
				ELSE
					failures := failures + 1;
				END IF;
			EXCEPTION WHEN invalid_parameter_value THEN
				IF c = 'none' THEN
					refused := refused || e || ' ';
				END IF;
			END;
		END LOOP;
	END LOOP;
END $$;

--
-- 1. Every encoding forced: [5, NULL, 5, 7, -3, max, min, NULL]::int4[]
--    header 24 + null bitmap 1, padded to 32; NULLs repeat their neighbour
--    Plain      8 x 4 bytes                                   = 32 -> 64
--    Dictionary 8 + 5 entries x 4 = 28 -> 32, codes 8 x 3 bits = 3 -> 67
--    RunLength  8 + 5 run ends x 3 bits = 10 -> 16, 5 values x 4 -> 68
--    Delta      16 + 1 checkpoint x 8 + 7 deltas x 33 bits (29) -> 85
--    BitPacked  16 + 8 x 32 bits                              = 48 -> 80
--    stored = encoded + the 8-byte frame header (codec none)
--
SELECT e AS forced, s.*
FROM unnest(ARRAY['plain', 'dictionary', 'runlength', 'delta', 'bitpacked']) e,
	rustydb.encode_sample(ARRAY[5, NULL, 5, 7, -3, 2147483647, -2147483648, NULL]::int4[], e) s;
-- auto takes the smallest: Plain
SELECT * FROM rustydb.encode_sample(ARRAY[5, NULL, 5, 7, -3, 2147483647, -2147483648, NULL]::int4[]);
-- names are case-insensitive and have short aliases
SELECT encoding FROM rustydb.encode_sample(ARRAY[1, 2]::int8[], 'DICT', 'LZ4');
SELECT encoding FROM rustydb.encode_sample(ARRAY[1, 2]::int8[], 'rle', 'Zstd');
SELECT encoding FROM rustydb.encode_sample(ARRAY[1, 2]::int8[], 'BitPack');

--
-- 2. The automatic choice, 10000 rows each
--
-- sorted timestamps, one a second with sub-second jitter: Delta (deltas
-- need 21 bits, the range 34: 10000 x 21 bits + 79 checkpoints x 8 + 48)
SELECT encoding, nrows, raw_bytes, encoded_bytes, roundtrip
FROM rustydb.encode_sample((SELECT array_agg(timestamptz '2024-01-01 00:00:00+00'
		+ g * interval '1 second' + (abs(hashint4(g)) % 1000000) * interval '1 microsecond' ORDER BY g)
	FROM generate_series(1, 10000) g));
-- evenly spaced timestamps: Delta with width 0 (one checkpoint, no deltas)
SELECT encoding, nrows, raw_bytes, encoded_bytes, roundtrip
FROM rustydb.encode_sample((SELECT array_agg(timestamp '2024-01-01' + g * interval '1 minute' ORDER BY g)
	FROM generate_series(1, 10000) g));
-- low-cardinality text: Dictionary (5 entries, 3-bit codes)
SELECT encoding, nrows, raw_bytes, encoded_bytes, roundtrip
FROM rustydb.encode_sample((SELECT array_agg((ARRAY['GET', 'POST', 'PUT', 'DELETE', 'PATCH'])[1 + abs(hashint4(g)) % 5] ORDER BY g)
	FROM generate_series(1, 10000) g));
-- long runs: RunLength (10 runs of 1000)
SELECT encoding, nrows, raw_bytes, encoded_bytes, roundtrip
FROM rustydb.encode_sample((SELECT array_agg(g / 1000 * 7919 ORDER BY g) FROM generate_series(0, 9999) g));
SELECT encoding, nrows, raw_bytes, encoded_bytes, roundtrip
FROM rustydb.encode_sample((SELECT array_agg('status-' || (g / 2500) ORDER BY g) FROM generate_series(0, 9999) g));
-- small-range ints: BitPacked (range 1000: 10 bits)
SELECT encoding, nrows, raw_bytes, encoded_bytes, roundtrip
FROM rustydb.encode_sample((SELECT array_agg(100000 + abs(hashint4(g)) % 1001 ORDER BY g) FROM generate_series(1, 10000) g));
-- random floats of both signs: Plain
SELECT encoding, nrows, raw_bytes, encoded_bytes, roundtrip
FROM rustydb.encode_sample((SELECT array_agg(hashint4(g)::float8 / 3.7 ORDER BY g) FROM generate_series(1, 10000) g));
-- random ints over the whole range: Plain
SELECT encoding, nrows, raw_bytes, encoded_bytes, roundtrip
FROM rustydb.encode_sample((SELECT array_agg(hashint8(g) ORDER BY g) FROM generate_series(1, 10000) g));
-- distinct long text: Plain; and every codec shrinks repetitive text
SELECT c, encoding, encoded_bytes, stored_bytes < encoded_bytes / 4 AS compressed, roundtrip
FROM unnest(ARRAY['none', 'lz4', 'zstd']) c,
	rustydb.encode_sample((SELECT array_agg('user ' || g || ' logged in from the usual place' ORDER BY g)
		FROM generate_series(1, 10000) g), 'auto', c);
-- a frame never costs more than its 8-byte header; data a codec cannot
-- shrink is stored as is (codec byte 0): here zstd gives up, lz4 saves 4
-- bytes of the chunk header's zeros
SELECT c, encoded_bytes, stored_bytes, roundtrip,
	get_byte(rustydb.encode_chunk(arr, 'plain', c), 0) AS codec_used
FROM unnest(ARRAY['none', 'lz4', 'zstd']) c,
	(SELECT array_agg(md5(g::text)::uuid ORDER BY g) FROM generate_series(1, 8) g) a(arr),
	rustydb.encode_sample(arr, 'plain', c);

--
-- 3. Every kind of type (300 rows, every 7th NULL, repeats for
--    Dictionary/RunLength to find); 18 = 6 encodings x 3 codecs, 12 for
--    types passed by reference (Delta and BitPacked refuse them)
--
CREATE TEMP TABLE g AS SELECT g FROM generate_series(1, 300) g;
CREATE DOMAIN posint AS int4 CHECK (VALUE > 0);
CREATE DOMAIN shorttext AS text CHECK (length(VALUE) < 100);
CREATE TYPE pair AS (a int8, b text);
-- an array of arrays needs a domain over the array type (built from its
-- text form: array_agg would make a two-dimensional array instead)
CREATE DOMAIN intarr AS int4[];
CREATE DOMAIN f8arr AS float8[];

SELECT 'bool' AS type, * FROM enc_check((SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL ELSE g % 3 = 0 END ORDER BY g) FROM g));
SELECT '"char"' AS type, * FROM enc_check((SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL ELSE chr(150 + g % 20)::"char" END ORDER BY g) FROM g));
SELECT 'int2' AS type, * FROM enc_check((SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL ELSE (g * 217 % 65536 - 32768)::int2 END ORDER BY g) FROM g));
SELECT 'int4' AS type, * FROM enc_check((SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL WHEN g = 1 THEN -2147483648 WHEN g = 2 THEN 2147483647 ELSE g / 3 - 50 END ORDER BY g) FROM g));
SELECT 'int8' AS type, * FROM enc_check((SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL WHEN g = 1 THEN -9223372036854775808 WHEN g = 2 THEN 9223372036854775807 ELSE hashint8(g / 5) END ORDER BY g) FROM g));
SELECT 'float4' AS type, * FROM enc_check((SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL WHEN g = 1 THEN 'NaN' WHEN g = 2 THEN '-0' WHEN g = 3 THEN '-Infinity' ELSE (hashint4(g / 2) / 1000.0)::float4 END ORDER BY g) FROM g));
SELECT 'float8' AS type, * FROM enc_check((SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL WHEN g = 1 THEN 'NaN' WHEN g = 2 THEN '-0' WHEN g = 3 THEN 'Infinity' ELSE hashint4(g / 2) / 7.0::float8 END ORDER BY g) FROM g));
SELECT 'numeric' AS type, * FROM enc_check((SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL WHEN g = 1 THEN 'NaN' WHEN g = 2 THEN 1.0 WHEN g = 3 THEN 1.00 ELSE (hashint8(g / 4)::numeric * 1e20 + g) / 1000 END ORDER BY g) FROM g));
SELECT 'text' AS type, * FROM enc_check((SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL WHEN g % 5 = 0 THEN repeat('long ', 20 + g % 40) WHEN g % 11 = 0 THEN '' ELSE 'v' || (g % 13) END ORDER BY g) FROM g));
SELECT 'varchar' AS type, * FROM enc_check((SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL ELSE ('name-' || (g % 17))::varchar(20) END ORDER BY g) FROM g));
SELECT 'bytea' AS type, * FROM enc_check((SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL WHEN g % 5 = 0 THEN decode(repeat('00ff', 100 + g), 'hex') ELSE int4send(g % 10) END ORDER BY g) FROM g));
SELECT 'jsonb' AS type, * FROM enc_check((SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL ELSE jsonb_build_object('id', g % 9, 'tags', jsonb_build_array('a', g % 2 = 0), 'x', g / 10.0) END ORDER BY g) FROM g));
SELECT 'int4[]' AS type, * FROM enc_check((SELECT ('{' || string_agg(CASE WHEN g % 7 = 0 THEN 'NULL' ELSE '"' || ARRAY[g % 4, g, NULL]::text || '"' END, ',' ORDER BY g) || '}')::intarr[] FROM g));
SELECT 'float8[]' AS type, * FROM enc_check((SELECT ('{' || string_agg(CASE WHEN g % 7 = 0 THEN 'NULL' WHEN g % 5 = 0 THEN '"' || array_fill(g / 3.0, ARRAY[30])::float8[]::text || '"' ELSE '"' || ARRAY[g / 3.0, 1e300]::float8[]::text || '"' END, ',' ORDER BY g) || '}')::f8arr[] FROM g));
SELECT 'uuid' AS type, * FROM enc_check((SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL ELSE md5((g % 23)::text)::uuid END ORDER BY g) FROM g));
SELECT 'interval' AS type, * FROM enc_check((SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL ELSE make_interval(months => g % 3, days => g, secs => g / 7.0) END ORDER BY g) FROM g));
SELECT 'name' AS type, * FROM enc_check((SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL ELSE ('relation_' || (g % 5))::name END ORDER BY g) FROM g));
SELECT 'macaddr' AS type, * FROM enc_check((SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL ELSE ('08:00:2b:01:02:' || lpad(to_hex(g % 256), 2, '0'))::macaddr END ORDER BY g) FROM g));
SELECT 'tid' AS type, * FROM enc_check((SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL ELSE format('(%s,%s)', g / 10, g % 10 + 1)::tid END ORDER BY g) FROM g));
SELECT 'timetz' AS type, * FROM enc_check((SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL ELSE ('12:00:00+0' || g % 3)::timetz + g * interval '1 second' END ORDER BY g) FROM g));
SELECT 'point' AS type, * FROM enc_check((SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL ELSE point(g, -g / 3.0) END ORDER BY g) FROM g));
SELECT 'timestamptz' AS type, * FROM enc_check((SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL ELSE timestamptz '2024-06-01 00:00:00+00' + g * interval '10 seconds' END ORDER BY g) FROM g));
SELECT 'date' AS type, * FROM enc_check((SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL ELSE date '2000-01-01' + g / 10 END ORDER BY g) FROM g));
SELECT 'money' AS type, * FROM enc_check((SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL ELSE (g * 1.25)::money END ORDER BY g) FROM g));
-- oidvector has plain storage: its short values keep 4-byte headers
SELECT 'oidvector' AS type, * FROM enc_check((SELECT ('{' || string_agg(CASE WHEN g % 7 = 0 THEN 'NULL' ELSE '"23 25 ' || g % 4 || '"' END, ',' ORDER BY g) || '}')::oidvector[] FROM g));
SELECT 'cstring' AS type, * FROM enc_check((SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL ELSE ('c' || g % 6)::cstring END ORDER BY g) FROM g));
SELECT 'posint' AS type, * FROM enc_check((SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL ELSE (g % 40 + 1)::posint END ORDER BY g) FROM g));
SELECT 'shorttext' AS type, * FROM enc_check((SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL ELSE ('s' || g % 8)::shorttext END ORDER BY g) FROM g));
SELECT 'pair' AS type, * FROM enc_check((SELECT array_agg(CASE WHEN g % 7 = 0 THEN NULL ELSE ROW(g % 3, repeat('p', g % 200))::pair END ORDER BY g) FROM g));

-- NULLs: none, some, all; one row
SELECT 'no NULLs' AS case, * FROM enc_check(ARRAY[3, 1, 4, 1, 5, 9, 2, 6]::int8[]);
SELECT 'leading and trailing NULLs' AS case, * FROM enc_check(ARRAY[NULL, NULL, 'x', 'y', 'y', NULL]::text[]);
SELECT 'all NULL int4' AS case, * FROM enc_check(ARRAY[NULL, NULL, NULL]::int4[]);
SELECT 'all NULL text' AS case, * FROM enc_check(ARRAY[NULL]::text[]);
SELECT 'one row' AS case, * FROM enc_check(ARRAY[42]::int2[]);
SELECT 'one long row' AS case, * FROM enc_check(ARRAY[repeat('z', 5000)]);
-- all NULL: header and bitmap only (24 + 1, padded to 32), whatever the encoding
SELECT e, s.encoding, s.encoded_bytes FROM unnest(ARRAY['auto', 'runlength', 'delta']) e,
	rustydb.encode_sample(ARRAY[NULL, NULL, NULL]::int4[], e) s;

-- 65536 rows, the most a chunk holds
CREATE TEMP TABLE big AS SELECT g FROM generate_series(1, 65536) g;
SELECT '65536 int8' AS case, * FROM enc_check((SELECT array_agg(CASE WHEN g % 1000 = 0 THEN NULL ELSE g * 3 + g % 7 END ORDER BY g) FROM big));
SELECT '65536 text' AS case, * FROM enc_check((SELECT array_agg(CASE WHEN g % 1000 = 0 THEN NULL ELSE 'k' || g % 300 END ORDER BY g) FROM big));
SELECT '65536 runs' AS case, * FROM enc_check((SELECT array_agg(g / 256 ORDER BY g) FROM big));

--
-- 4. Bad arguments
--
SELECT enc_err($$SELECT * FROM rustydb.encode_sample(ARRAY[1], 'zigzag')$$);
SELECT enc_err($$SELECT * FROM rustydb.encode_sample(ARRAY[1], 'auto', 'gzip')$$);
SELECT enc_err($$SELECT rustydb.encode_chunk(ARRAY[1], 'auto', 'snappy')$$);
SELECT enc_err($$SELECT * FROM rustydb.encode_sample(ARRAY['a', 'b'], 'delta')$$);
SELECT enc_err($$SELECT * FROM rustydb.encode_sample(ARRAY['a', 'b']::text[], 'bitpacked')$$);
SELECT enc_err($$SELECT * FROM rustydb.encode_sample('{}'::int4[])$$);
SELECT enc_err($$SELECT * FROM rustydb.encode_sample((SELECT array_agg(g) FROM generate_series(1, 65537) g))$$);
-- STRICT: NULL arguments give NULL
SELECT count(*) FROM rustydb.encode_sample(NULL::int4[]);
SELECT rustydb.decode_chunk_check(NULL, 'int4');

--
-- 5. Corrupted input
--
-- a valid frame decodes
SELECT rustydb.decode_chunk_check(rustydb.encode_chunk(ARRAY[1, NULL, 3]), 'int4');
SELECT rustydb.decode_chunk_check(rustydb.encode_chunk(ARRAY['a', NULL, 'c'], 'dictionary', 'zstd'), 'text');
-- read as the wrong type (varchar is stored like text, so that one is fine)
SELECT enc_err($$SELECT rustydb.decode_chunk_check(rustydb.encode_chunk(ARRAY[1, 2]), 'int8')$$);
SELECT enc_err($$SELECT rustydb.decode_chunk_check(rustydb.encode_chunk(ARRAY['a']), 'varchar')$$);
SELECT enc_err($$SELECT rustydb.decode_chunk_check(rustydb.encode_chunk(ARRAY['a']), 'name')$$);
-- a type that does not exist
SELECT enc_err($$SELECT rustydb.decode_chunk_check(rustydb.encode_chunk(ARRAY[1, 2]), 0)$$);
-- a few specific injuries
SELECT enc_err($$SELECT rustydb.decode_chunk_check('\x', 'int4')$$);
SELECT enc_err($$SELECT rustydb.decode_chunk_check('\x0000000000000000', 'int4')$$);
SELECT enc_err($$SELECT rustydb.decode_chunk_check('\x0700000000000000', 'int4')$$);
SELECT enc_err($$SELECT rustydb.decode_chunk_check('\x02000000ffffff7f28b52ffd', 'int4')$$);
SELECT enc_err($$SELECT rustydb.decode_chunk_check(rustydb.encode_chunk(ARRAY[1, 2]) || '\x00'::bytea, 'int4')$$);
SELECT enc_err($$SELECT rustydb.decode_chunk_check(set_byte(rustydb.encode_chunk(ARRAY[1, 2]), 8, 0), 'int4')$$);
SELECT enc_err($$SELECT rustydb.decode_chunk_check(set_byte(rustydb.encode_chunk(ARRAY[1, 2]), 16, 3), 'int4')$$);
SELECT enc_err($$SELECT rustydb.decode_chunk_check(set_byte(rustydb.encode_chunk(ARRAY[1, 2]), 11, 9), 'int4')$$);

-- Every truncation and every single byte inverted, of chunks of each
-- encoding (int8 and text, with NULLs) and of lz4 and zstd frames:
-- outcome per case.  Truncations must all fail (a chunk knows its length);
-- an inverted byte fails, or decodes when it only changed a value or a
-- padding byte.
CREATE TEMP TABLE fuzz_input (name text, typ regtype, frame bytea);
INSERT INTO fuzz_input
SELECT 'int8 ' || e, 'int8', rustydb.encode_chunk(ARRAY[10, NULL, 10, 10, 12, 300, -7, 300, NULL, 301, 302, 303]::int8[], e)
FROM unnest(ARRAY['plain', 'dictionary', 'runlength', 'delta', 'bitpacked']) e;
INSERT INTO fuzz_input
SELECT 'text ' || e, 'text', rustydb.encode_chunk(ARRAY['ab', NULL, 'ab', repeat('long', 40), '', 'ab', NULL, 'c']::text[], e)
FROM unnest(ARRAY['plain', 'dictionary', 'runlength']) e;
INSERT INTO fuzz_input
SELECT 'float8[] ' || e, 'f8arr', rustydb.encode_chunk(ARRAY['{1.5,2}', NULL, '{1.5,2}', '{3,4,5}']::f8arr[], e)
FROM unnest(ARRAY['plain', 'dictionary', 'runlength']) e;
INSERT INTO fuzz_input
SELECT 'interval ' || e, 'interval', rustydb.encode_chunk(ARRAY['1 day', NULL, '1 day', '2 hours']::interval[], e)
FROM unnest(ARRAY['plain', 'dictionary', 'runlength']) e;
INSERT INTO fuzz_input
SELECT 'text dictionary ' || c, 'text', rustydb.encode_chunk((SELECT array_agg('word' || g % 5) FROM generate_series(1, 200) g), 'dictionary', c)
FROM unnest(ARRAY['lz4', 'zstd']) c;
-- all decode before injury
SELECT name, length(frame) AS bytes, rustydb.decode_chunk_check(frame, typ) AS nrows FROM fuzz_input ORDER BY name;

SELECT name, 'truncated' AS injury, split_part(outcome, ':', 1) AS outcome, count(*)
FROM fuzz_input, generate_series(0, length(frame) - 1) n,
	enc_err(format('SELECT rustydb.decode_chunk_check(%L::bytea, %L)', substr(frame, 1, n), typ)) outcome
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
SELECT name, 'byte inverted' AS injury, split_part(outcome, ':', 1) AS outcome, count(*)
FROM fuzz_input, generate_series(0, length(frame) - 1) n,
	enc_err(format('SELECT rustydb.decode_chunk_check(%L::bytea, %L)', set_byte(frame, n, get_byte(frame, n) # 255), typ)) outcome
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
-- and the server is still there
SELECT 1 AS alive;

SET client_min_messages = warning;
DROP SCHEMA rdb_encoding_test CASCADE;
