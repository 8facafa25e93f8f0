--
-- types_roundtrip: values of many types stored in a default-AM table and read
-- back unchanged: fixed- and variable-length, by-value and by-reference,
-- every alignment, arrays, composites, domains, ranges, jsonb, numeric edge
-- values, generated columns, and a table with 1000 columns.  Each value is
-- printed or compared with the same expression evaluated without the table.
--
CREATE SCHEMA types_roundtrip;
SET search_path = types_roundtrip;

CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE pair AS (a int, b text);
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%');

CREATE TABLE vals (
  id      int,
  b       boolean,
  i2      smallint,
  i4      int,
  i8      bigint,
  f4      real,
  f8      double precision,
  num     numeric,
  money_n numeric(20, 4),
  ch      char(5),
  vc      varchar(20),
  tx      text,
  by      bytea,
  d       date,
  t       time,
  ttz     timetz,
  ts      timestamp,
  tstz    timestamptz,
  iv      interval,
  u       uuid,
  js      json,
  jb      jsonb,
  ia      int[],
  ta      text[][],
  ip      inet,
  cid     cidr,
  mac     macaddr,
  bits    bit varying(16),
  pt      point,
  bx      box,
  poly    polygon,
  rng     int4range,
  mr      int4multirange,
  tsr     tstzrange,
  tsv     tsvector,
  m       mood,
  pr      pair,
  pi      posint,
  em      email,
  o       oid,
  nm      name,
  c1      "char",
  x       xid8
);

INSERT INTO vals VALUES
(1, true, 32767, 2147483647, 9223372036854775807, 3.4e38, 1.7976931348623157e308,
 123456789012345678901234567890.123456789012345678901234567890, 1234567890123456.7891,
 'ab', 'varchar', 'text with ''quotes'' and \backslash', '\x00ff10deadbeef',
 '2024-02-29', '23:59:59.999999', '12:00:00+05:30', '1999-12-31 23:59:59.5', '2000-01-01 00:00:00+00',
 '1 year 2 months 3 days 04:05:06.789', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
 '{"b": 1, "a": [1, 2, {"c": null}]}', '{"b": 1, "a": [1, 2, {"c": null}], "n": 1.50}',
 '{1,NULL,3}', '{{"a","b"},{NULL,"d"}}', '192.168.1.5/24', '10.0.0.0/8', '08:00:2b:01:02:03',
 B'1010101', '(1.5,-2.25)', '((0,0),(1,1))', '((0,0),(1,0),(1,1),(0,1))',
 '[1,10)', '{[1,3), [5,7)}', '[2024-01-01 00:00+00, 2024-12-31 00:00+00)',
 'the quick brown fox', 'happy', ROW(7, 'seven'), 42, 'me@example.org', 4294967295, 'a_name', 'z',
 '18446744073709551615'),
(2, false, -32768, -2147483648, -9223372036854775808, -1.17549435e-38, 2.2250738585072014e-308,
 -0.000000000000000000000000000001, -0.0001,
 'abcde', '', '', '\x', '4713-01-01 BC', '00:00:00', '00:00:00-12', '0001-01-01 00:00:00', '1970-01-01 00:00:00+00',
 '-178000000 years', '00000000-0000-0000-0000-000000000000',
 '[]', '{}', '{}', '{}', '::1', '::/0', 'ff:ff:ff:ff:ff:ff',
 B'', '(0,0)', '((-1,-1),(-1,-1))', '((0,0))',
 'empty', '{}', '(,)',
 '', 'sad', ROW(NULL, NULL), 1, '@', 0, '', ' ', '0'),
(3, NULL, NULL, NULL, NULL, 'NaN', '-Infinity', 'NaN', NULL,
 NULL, NULL, NULL, NULL, 'infinity', NULL, NULL, '-infinity', 'infinity',
 NULL, NULL, 'null', 'null', '{NULL}', NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
(4, true, 0, 0, 0, '-0', '-0', 'Infinity', 0,
 ' ', ' x ', repeat('long text ', 300), decode(repeat('ab', 3000), 'hex'), '2000-01-01', '12:34:56', '12:34:56+00',
 '2000-01-01 12:34:56', '2000-01-01 12:34:56+00', '0', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
 '{"deep": {"deeper": {"deepest": [true, false]}}}', (SELECT jsonb_object_agg('k' || g, g) FROM generate_series(1, 200) g),
 ARRAY(SELECT generate_series(1, 500)), ARRAY[['x']], '0.0.0.0', '0.0.0.0/32', '00:00:00:00:00:00',
 B'1111111111111111', '(1e300,-1e-300)', '((1,2),(3,4))', '((0,0),(3,0),(3,3),(0,3),(1,1))',
 '[-2147483648,2147483647)', '{[1,2), [3,4), [5,6)}', 'empty',
 (SELECT string_agg('w' || g, ' ')::tsvector FROM generate_series(1, 300) g), 'ok', ROW(-1, repeat('p', 100)),
 2147483647, repeat('x', 5000) || '@' || repeat('y', 5000), 1, repeat('n', 63), 'A', '1');

SELECT * FROM vals WHERE id <= 3 ORDER BY id \gx
SELECT id, length(tx), md5(tx), length(by), md5(by), jsonb_typeof(jb), (SELECT count(*) FROM jsonb_object_keys(jb)) AS keys,
       array_length(ia, 1), (SELECT sum(x) FROM unnest(ia) x), length(tsv), length(em), length(nm),
       (pr).a, length((pr).b)
FROM vals WHERE id = 4;

-- every value equals the literal it was inserted from, read through a fresh
-- scan, an index scan and after an update of an unrelated column
CREATE TABLE vals_copy AS SELECT * FROM vals;
UPDATE vals SET i4 = i4 WHERE id IN (1, 2);
UPDATE vals SET b = NOT b WHERE id = 4;
UPDATE vals SET b = NOT b WHERE id = 4;
SELECT (SELECT md5(string_agg(v::text, '|' ORDER BY id)) FROM vals v) =
       (SELECT md5(string_agg(v::text, '|' ORDER BY id)) FROM vals_copy v) AS same_after_updates;
CREATE INDEX vals_jb ON vals USING gin (jb);
CREATE INDEX vals_u ON vals (u);
SET enable_seqscan = off;
SELECT id FROM vals WHERE jb @> '{"k7": 7}';
SELECT id, u FROM vals WHERE u = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
RESET enable_seqscan;

-- numeric edge values and float special values compare and sort as before
SELECT id, num, num = num AS self_equal, f8, f4 FROM vals ORDER BY num, id;
SELECT id, f8::text, f4::text, '-0'::float8 = f8 AS is_zero FROM vals WHERE id = 4;

-- domains keep checking on insert and update
INSERT INTO vals (id, pi) VALUES (5, 0);
INSERT INTO vals (id, em) VALUES (5, 'no at sign');
UPDATE vals SET pi = -1 WHERE id = 1;
SELECT count(*) FROM vals;

-- arrays: slices, NULL elements, multi-dimensional, updates of one element
UPDATE vals SET ia[2] = 2 WHERE id = 1;
UPDATE vals SET ia[600] = 600 WHERE id = 4;
SELECT id, ia[1:3], array_length(ia, 1), ta[2][1] IS NULL AS null_elem, ta FROM vals WHERE id IN (1, 2, 3) ORDER BY id;
SELECT ia[598:600] FROM vals WHERE id = 4;

-- generated columns are computed on insert and update, stored with the row
CREATE TABLE gen (
  a int,
  b text,
  sq bigint GENERATED ALWAYS AS (a::bigint * a) STORED,
  up text GENERATED ALWAYS AS (upper(b)) STORED,
  tag text GENERATED ALWAYS AS (a::text || ':' || coalesce(b, '-')) STORED
);
INSERT INTO gen (a, b) SELECT g, 'row' || g FROM generate_series(1, 1000) g;
UPDATE gen SET a = -a WHERE a % 10 = 0;
UPDATE gen SET b = NULL WHERE a % 7 = 0;
SELECT count(*), sum(sq), count(up), sum(split_part(tag, ':', 1)::int), count(*) FILTER (WHERE tag LIKE '%:-') FROM gen;
SELECT * FROM gen WHERE a IN (-10, 7, 11) ORDER BY a;
INSERT INTO gen (a, b, sq) VALUES (1, 'x', 1);
ALTER TABLE gen ADD COLUMN cube bigint GENERATED ALWAYS AS (a::bigint * a * a) STORED;
SELECT sum(cube) FROM gen;

-- composite values, including a whole-row column of another table's type
CREATE TABLE holder (id int, v vals, prs pair[]);
INSERT INTO holder SELECT id, v, ARRAY[pr, pr] FROM vals v WHERE id IN (1, 4);
SELECT id, (v).tx = (SELECT tx FROM vals WHERE vals.id = holder.id) AS same_tx,
       (v).jb = (SELECT jb FROM vals WHERE vals.id = holder.id) AS same_jb, (prs[2]).a, length((prs[2]).b)
FROM holder ORDER BY id;

-- a table with 1000 columns: rows with every 10th column set, one with all
CREATE FUNCTION make_wide() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  cols text;
  vals text;
BEGIN
  SELECT string_agg(format('c%s int', g), ', ' ORDER BY g) INTO cols FROM generate_series(1, 1000) g;
  EXECUTE format('CREATE TABLE types_roundtrip.wide (id int, %s)', cols);
  FOR r IN 1..50 LOOP
    SELECT string_agg(CASE WHEN (g + r) % 10 = 0 THEN (g * r)::text ELSE 'NULL' END, ', ' ORDER BY g)
      INTO vals FROM generate_series(1, 1000) g;
    EXECUTE format('INSERT INTO types_roundtrip.wide VALUES (%s, %s)', r, vals);
  END LOOP;
  -- and one row with all 1000 columns set
  SELECT string_agg(g::text, ', ' ORDER BY g) INTO vals FROM generate_series(1, 1000) g;
  EXECUTE format('INSERT INTO types_roundtrip.wide VALUES (51, %s)', vals);
END $$;
SELECT make_wide();
SELECT count(*), sum(c10), sum(c999), sum(c1000), count(c1), count(c9) FROM wide;
SELECT id, c1, c9, c10, c990, c999, c1000 FROM wide WHERE id IN (1, 10, 50, 51) ORDER BY id;
UPDATE wide SET c500 = -id WHERE id % 2 = 0;
SELECT count(c500), sum(c500) FROM wide;
SELECT md5(string_agg(w::text, '|' ORDER BY id)), sum(length(w::text)) FROM wide w;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA types_roundtrip CASCADE;
