/*-------------------------------------------------------------------------
 *
 * encoding.h
 *	  Column chunk encodings: Plain, Dictionary, RunLength, Delta and
 *	  BitPacked (frame of reference + bit packing).
 *
 * A chunk holds up to RDB_MAX_CHUNK_ROWS values of one column, NULLs
 * included, in a self-describing byte string (the layout is described in
 * src/encoding/README.md).  The functions here are pure: no buffer manager,
 * no catalog access, no WAL, no shared memory.  Malformed chunks raise
 * ERRCODE_DATA_CORRUPTED; they never crash the backend or read outside the
 * bytes they were given.
 *
 * Memory rules: rdb_encode_chunk appends to the caller's StringInfo and
 * frees its scratch memory before returning.  A decoder lives in the memory
 * context that was current at rdb_chunk_decoder_begin; by-reference Datums it
 * hands out point into the chunk (or into the decoder's aligned copy of it)
 * and stay valid until rdb_chunk_decoder_end, so the caller must keep the
 * chunk bytes alive that long.  Decoding a row allocates nothing.
 *
 * IDENTIFICATION
 *	  include/rustydb/encoding.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RUSTYDB_ENCODING_H
#define RUSTYDB_ENCODING_H

#include "lib/stringinfo.h"

/* Most rows one chunk may hold (row positions must fit in 16 bits + 1) */
#define RDB_MAX_CHUNK_ROWS	65536

/* Values are stored in this order in the chunk header: never renumber */
typedef enum RdbEncoding
{
	RDB_ENC_PLAIN = 0,
	RDB_ENC_DICT = 1,
	RDB_ENC_RLE = 2,
	RDB_ENC_DELTA = 3,
	RDB_ENC_BITPACK = 4			/* frame of reference + bit packing */
} RdbEncoding;

#define RDB_NUM_ENCODINGS	5

/* What the encodings need to know about the column's type */
typedef struct RdbTypeInfo
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
} RdbTypeInfo;

typedef struct RdbChunkDecoder RdbChunkDecoder;

/* chunk.c */
extern RdbEncoding rdb_encode_chunk(const RdbTypeInfo *type,
									const Datum *values, const bool *isnull,
									int n, int force, StringInfo out);
extern RdbChunkDecoder *rdb_chunk_decoder_begin(const RdbTypeInfo *type,
												const char *data, Size len);
extern int	rdb_chunk_nrows(RdbChunkDecoder *d);
extern int	rdb_chunk_nnulls(RdbChunkDecoder *d);
extern RdbEncoding rdb_chunk_encoding(RdbChunkDecoder *d);
extern void rdb_chunk_decode_all(RdbChunkDecoder *d, Datum *values,
								 bool *isnull);
extern Datum rdb_chunk_decode_row(RdbChunkDecoder *d, int row, bool *isnull);
extern void rdb_chunk_decoder_end(RdbChunkDecoder *d);

extern const char *rdb_encoding_name(RdbEncoding e);
extern int	rdb_encoding_from_name(const char *name, bool allow_auto);
extern bool rdb_encoding_applies(const RdbTypeInfo *type, RdbEncoding e);
extern bool rdb_encoding_random_access(RdbEncoding e);
extern Size rdb_datum_raw_size(const RdbTypeInfo *type, Datum value);

#endif							/* RUSTYDB_ENCODING_H */
