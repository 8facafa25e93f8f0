/*-------------------------------------------------------------------------
 *
 * compress.h
 *	  General-purpose compression of encoded chunks (lz4, zstd) and the
 *	  xxHash3 checksum that stripes keep per chunk.
 *
 * A compressed frame is an 8-byte header (codec, three zero bytes, raw
 * length as a little-endian uint32) followed by the codec's payload; when a
 * codec does not shrink the data the frame is stored with codec "none".
 * Pure functions: no shared memory, no catalog access.
 *
 * IDENTIFICATION
 *	  include/rustydb/compress.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RUSTYDB_COMPRESS_H
#define RUSTYDB_COMPRESS_H

#include "lib/stringinfo.h"

/* Stored in the frame header: never renumber */
typedef enum RdbCodec
{
	RDB_CODEC_NONE = 0,
	RDB_CODEC_LZ4 = 1,
	RDB_CODEC_ZSTD = 2
} RdbCodec;

#define RDB_NUM_CODECS			3
#define RDB_COMPRESS_HEADER_SIZE 8

/* compress.c */
extern RdbCodec rdb_compress(RdbCodec codec, int level, const char *src,
							 Size srclen, StringInfo out);
extern void rdb_decompress(const char *src, Size srclen, StringInfo out);
extern Size rdb_decompressed_size(const char *src, Size srclen);
extern const char *rdb_codec_name(RdbCodec codec);
extern RdbCodec rdb_codec_from_name(const char *name);
extern void rdb_codec_check_level(RdbCodec codec, int level);
extern uint64 rdb_checksum64(const void *data, Size len);

#endif							/* RUSTYDB_COMPRESS_H */
