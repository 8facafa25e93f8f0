/*-------------------------------------------------------------------------
 *
 * compress.c
 *	  Compression frames (none, lz4, zstd) and the xxHash3 checksum.
 *
 * A frame is
 *
 *	  0	 uint8 codec (RdbCodec)
 *	  1	 3 zero bytes
 *	  4	 uint32 raw length, little-endian
 *	  8	 payload: the raw bytes (none), an LZ4 block (lz4), or one zstd frame
 *
 * rdb_compress falls back to "none" when the codec does not make the data
 * smaller, so a reader never pays for decompression that saves nothing.
 * rdb_decompress checks the header and that the payload decompresses to
 * exactly the raw length; anything else is ERRCODE_DATA_CORRUPTED.
 *
 * lz4 levels: 0 or 1 = LZ4 default (fast), 2..12 = LZ4 HC at that level.
 * zstd levels: 0 = zstd's default (3), otherwise ZSTD_minCLevel..maxCLevel.
 *
 * Pure functions, no locking.  Output goes to the caller's StringInfo;
 * zstd's and lz4's own state is allocated and freed inside each call.
 *
 * IDENTIFICATION
 *	  src/compress/compress.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <lz4.h>
#include <lz4hc.h>
#include <zstd.h>
#include <xxhash.h>

#include "port/pg_bswap.h"
#include "utils/memutils.h"

#include "rustydb/compress.h"

static const char *const rdb_codec_names[RDB_NUM_CODECS] = {
	[RDB_CODEC_NONE] = "none",
	[RDB_CODEC_LZ4] = "lz4",
	[RDB_CODEC_ZSTD] = "zstd",
};

#define corrupt_frame(...) \
	ereport(ERROR, \
			(errcode(ERRCODE_DATA_CORRUPTED), \
			 errmsg("corrupted rustydb compressed frame"), \
			 errdetail(__VA_ARGS__)))

/* Largest raw input: the decompressed bytes must fit in one palloc */
#define RDB_MAX_RAW_BYTES	((Size) (MaxAllocSize - RDB_COMPRESS_HEADER_SIZE - 1))

/* ----------------------------------------------------------------
 * Names and levels
 * ----------------------------------------------------------------
 */
const char *
rdb_codec_name(RdbCodec codec)
{
	if ((int) codec < 0 || (int) codec >= RDB_NUM_CODECS)
		return "unknown";
	return rdb_codec_names[codec];
}

/* rdb_codec_from_name: "none", "lz4" or "zstd" (any case); else 22023 */
RdbCodec
rdb_codec_from_name(const char *name)
{
	int			i;

	for (i = 0; i < RDB_NUM_CODECS; i++)
		if (pg_strcasecmp(name, rdb_codec_names[i]) == 0)
			return (RdbCodec) i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown compression \"%s\"", name),
			 errhint("Valid compressions are none, lz4 and zstd.")));
	return RDB_CODEC_NONE;		/* keep compiler quiet */
}

/* rdb_codec_check_level: 22023 unless level is valid for the codec */
void
rdb_codec_check_level(RdbCodec codec, int level)
{
	int			lo = 0,
				hi = 0;

	switch (codec)
	{
		case RDB_CODEC_NONE:
			lo = hi = 0;
			break;
		case RDB_CODEC_LZ4:
			lo = 0;
			hi = LZ4HC_CLEVEL_MAX;
			break;
		case RDB_CODEC_ZSTD:
			lo = ZSTD_minCLevel();
			hi = ZSTD_maxCLevel();
			break;
	}
	if (level < lo || level > hi)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("compression level %d is out of range for %s",
						level, rdb_codec_name(codec)),
				 errhint("Valid levels for %s are %d to %d (0 is the default).",
						 rdb_codec_name(codec), lo, hi)));
}

/* ----------------------------------------------------------------
 * Compression
 * ----------------------------------------------------------------
 */
static void
frame_header(StringInfo out, RdbCodec codec, uint32 rawlen)
{
	char		hdr[RDB_COMPRESS_HEADER_SIZE] = {0};

#ifdef WORDS_BIGENDIAN
	rawlen = pg_bswap32(rawlen);
#endif
	hdr[0] = (char) codec;
	memcpy(hdr + 4, &rawlen, sizeof(rawlen));
	appendBinaryStringInfo(out, hdr, sizeof(hdr));
}

/*
 * rdb_compress: append a frame holding src to out and return the codec
 * actually used (RDB_CODEC_NONE when compression would not shrink src).
 */
RdbCodec
rdb_compress(RdbCodec codec, int level, const char *src, Size srclen,
			 StringInfo out)
{
	int			start = out->len;
	Size		bound = 0;
	Size		clen = 0;
	char	   *dst;

	if ((int) codec < 0 || (int) codec >= RDB_NUM_CODECS)
		elog(ERROR, "rustydb compression: unknown codec %d", (int) codec);
	rdb_codec_check_level(codec, level);
	if (srclen > RDB_MAX_RAW_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("cannot compress %zu bytes in one frame", srclen)));

	frame_header(out, codec, (uint32) srclen);
	if (codec == RDB_CODEC_NONE || srclen == 0)
		goto store_raw;

	if (codec == RDB_CODEC_LZ4)
		bound = LZ4_compressBound((int) srclen);
	else
		bound = ZSTD_compressBound(srclen);
	if (bound == 0 || bound > MaxAllocSize - (Size) out->len - 1)
		goto store_raw;
	enlargeStringInfo(out, bound);
	dst = out->data + out->len;

	if (codec == RDB_CODEC_LZ4)
	{
		int			r;

		if (level <= 1)
			r = LZ4_compress_default(src, dst, (int) srclen, (int) bound);
		else
			r = LZ4_compress_HC(src, dst, (int) srclen, (int) bound, level);
		clen = r > 0 ? (Size) r : 0;
	}
	else
	{
		size_t		r = ZSTD_compress(dst, bound, src, srclen,
									  level == 0 ? ZSTD_CLEVEL_DEFAULT : level);

		clen = ZSTD_isError(r) ? 0 : r;
	}

	if (clen > 0 && clen < srclen)
	{
		out->len += clen;
		out->data[out->len] = '\0';
		return codec;
	}

store_raw:
	out->data[start] = (char) RDB_CODEC_NONE;
	appendBinaryStringInfo(out, src, srclen);
	return RDB_CODEC_NONE;
}

/* ----------------------------------------------------------------
 * Decompression
 * ----------------------------------------------------------------
 */

/*
 * rdb_decompressed_size: validate a frame's header and return the raw
 * length it announces.
 */
Size
rdb_decompressed_size(const char *src, Size srclen)
{
	uint32		rawlen;
	int			codec;

	if (srclen < RDB_COMPRESS_HEADER_SIZE)
		corrupt_frame("Frame of %zu bytes is shorter than its header.", srclen);
	codec = (uint8) src[0];
	if (codec >= RDB_NUM_CODECS)
		corrupt_frame("Unknown codec %d.", codec);
	if (src[1] != 0 || src[2] != 0 || src[3] != 0)
		corrupt_frame("Reserved header bytes are not zero.");
	memcpy(&rawlen, src + 4, sizeof(rawlen));
#ifdef WORDS_BIGENDIAN
	rawlen = pg_bswap32(rawlen);
#endif
	if (rawlen > RDB_MAX_RAW_BYTES)
		corrupt_frame("Raw length %u is larger than any frame can be.", rawlen);
	if (codec == RDB_CODEC_NONE && rawlen != srclen - RDB_COMPRESS_HEADER_SIZE)
		corrupt_frame("Uncompressed frame says %u bytes but holds %zu.",
					  rawlen, srclen - RDB_COMPRESS_HEADER_SIZE);
	return rawlen;
}

/*
 * rdb_decompress: append the raw bytes of the frame src[0 .. srclen) to
 * out.  Raises ERRCODE_DATA_CORRUPTED unless the payload decodes to exactly
 * the announced raw length.  out->data stays MAXALIGNed when out was empty,
 * which the chunk decoder relies on to avoid a copy.
 */
void
rdb_decompress(const char *src, Size srclen, StringInfo out)
{
	Size		rawlen = rdb_decompressed_size(src, srclen);
	const char *payload = src + RDB_COMPRESS_HEADER_SIZE;
	Size		plen = srclen - RDB_COMPRESS_HEADER_SIZE;
	char	   *dst;

	enlargeStringInfo(out, rawlen);
	dst = out->data + out->len;

	switch ((RdbCodec) (uint8) src[0])
	{
		case RDB_CODEC_NONE:
			memcpy(dst, payload, rawlen);
			break;
		case RDB_CODEC_LZ4:
			{
				int			r;

				if (plen > (Size) INT_MAX)
					corrupt_frame("LZ4 payload of %zu bytes is too long.", plen);
				r = LZ4_decompress_safe(payload, dst, (int) plen, (int) rawlen);
				if (r < 0 || (Size) r != rawlen)
					corrupt_frame("LZ4 payload decompresses to %d bytes, not %zu.",
								  r, rawlen);
				break;
			}
		case RDB_CODEC_ZSTD:
			{
				unsigned long long fsize = ZSTD_getFrameContentSize(payload, plen);
				size_t		r;

				if (fsize != ZSTD_CONTENTSIZE_UNKNOWN && fsize != rawlen)
					corrupt_frame("zstd frame holds %llu bytes, the header says %zu.",
								  fsize, rawlen);
				r = ZSTD_decompress(dst, rawlen, payload, plen);
				if (ZSTD_isError(r))
					corrupt_frame("zstd: %s.", ZSTD_getErrorName(r));
				if (r != rawlen)
					corrupt_frame("zstd payload decompresses to %zu bytes, not %zu.",
								  r, rawlen);
				break;
			}
	}
	out->len += rawlen;
	out->data[out->len] = '\0';
}

/* ----------------------------------------------------------------
 * Checksum
 * ----------------------------------------------------------------
 */

/* rdb_checksum64: XXH3 64-bit hash of data (seed 0) */
uint64
rdb_checksum64(const void *data, Size len)
{
	return (uint64) XXH3_64bits(data, len);
}
