/* rustydb_am--0.2.0--0.3.0.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION rustydb_am UPDATE TO '0.3.0'" to load this file. \quit

-- columnar encodings (src/encoding, src/compress)
CREATE FUNCTION rustydb.encode_sample(elements anyarray,
                                      encoding text DEFAULT 'auto',
                                      compression text DEFAULT 'none')
RETURNS TABLE (encoding text, nrows int, nnulls int, raw_bytes int,
               encoded_bytes int, stored_bytes int, roundtrip boolean)
AS 'MODULE_PATHNAME', 'rustydb_encode_sample'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION rustydb.encode_sample(anyarray, text, text) IS
  'diagnostic: encode the elements as one column chunk (encoding auto, plain, dictionary, runlength, delta or bitpacked), compress it (none, lz4 or zstd), decode it back in bulk and row by row, and report sizes and whether every value round-tripped bit for bit';

CREATE FUNCTION rustydb.encode_chunk(elements anyarray,
                                     encoding text DEFAULT 'auto',
                                     compression text DEFAULT 'none')
RETURNS bytea
AS 'MODULE_PATHNAME', 'rustydb_encode_chunk'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION rustydb.encode_chunk(anyarray, text, text) IS
  'diagnostic: the stored bytes (compression frame around an encoded column chunk) of the elements';

CREATE FUNCTION rustydb.decode_chunk_check(chunk bytea, type regtype)
RETURNS int
AS 'MODULE_PATHNAME', 'rustydb_decode_chunk_check'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION rustydb.decode_chunk_check(bytea, regtype) IS
  'diagnostic: decompress and decode stored chunk bytes of a column of the given type, in bulk and row by row; returns the row count or raises data_corrupted';
