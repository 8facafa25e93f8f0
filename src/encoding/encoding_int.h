/*-------------------------------------------------------------------------
 *
 * encoding_int.h
 *	  Declarations shared by the files of src/encoding only.
 *
 * The chunk layout these structs describe is in src/encoding/README.md.
 * Every multi-byte integer in a chunk is little-endian; every region starts
 * at an offset from the chunk start that is a multiple of 8
 * (RDB_CHUNK_ALIGN), so by-reference values inside are aligned whenever the
 * chunk itself is MAXALIGNed (the decoder copies it when it is not).
 *
 * IDENTIFICATION
 *	  src/encoding/encoding_int.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RUSTYDB_ENCODING_INT_H
#define RUSTYDB_ENCODING_INT_H

#include "port/pg_bswap.h"

#include "rustydb/encoding.h"

#define RDB_CHUNK_MAGIC			0x4352	/* "RC" read little-endian */
#define RDB_CHUNK_VERSION		1
#define RDB_CHUNK_HEADER_SIZE	24
#define RDB_CHUNK_ALIGN			8
#define RDB_DELTA_CHECKPOINT	128 /* rows between absolute values */

/* Largest chunk we agree to build: it must fit in one palloc */
#define RDB_MAX_CHUNK_BYTES		((Size) (MaxAllocSize - 1024))

#define corrupt_chunk(...) \
	ereport(ERROR, \
			(errcode(ERRCODE_DATA_CORRUPTED), \
			 errmsg("corrupted rustydb column chunk"), \
			 errdetail(__VA_ARGS__)))

/* ----------------------------------------------------------------
 * Little-endian loads and stores (bitpack.c has the bit streams)
 * ----------------------------------------------------------------
 */
static inline uint16
enc_get_u16(const char *p)
{
	uint16		v;

	memcpy(&v, p, sizeof(v));
#ifdef WORDS_BIGENDIAN
	v = pg_bswap16(v);
#endif
	return v;
}

static inline uint32
enc_get_u32(const char *p)
{
	uint32		v;

	memcpy(&v, p, sizeof(v));
#ifdef WORDS_BIGENDIAN
	v = pg_bswap32(v);
#endif
	return v;
}

static inline uint64
enc_get_u64(const char *p)
{
	uint64		v;

	memcpy(&v, p, sizeof(v));
#ifdef WORDS_BIGENDIAN
	v = pg_bswap64(v);
#endif
	return v;
}

static inline void
enc_put_u16(StringInfo out, uint16 v)
{
#ifdef WORDS_BIGENDIAN
	v = pg_bswap16(v);
#endif
	appendBinaryStringInfo(out, (char *) &v, sizeof(v));
}

static inline void
enc_put_u32(StringInfo out, uint32 v)
{
#ifdef WORDS_BIGENDIAN
	v = pg_bswap32(v);
#endif
	appendBinaryStringInfo(out, (char *) &v, sizeof(v));
}

static inline void
enc_put_u64(StringInfo out, uint64 v)
{
#ifdef WORDS_BIGENDIAN
	v = pg_bswap64(v);
#endif
	appendBinaryStringInfo(out, (char *) &v, sizeof(v));
}

/* Zero-pad out so that (out->len - start) is a multiple of RDB_CHUNK_ALIGN */
static inline void
enc_pad(StringInfo out, int start)
{
	while ((out->len - start) % RDB_CHUNK_ALIGN != 0)
		appendStringInfoChar(out, '\0');
}

#define ENC_ALIGN(off)	TYPEALIGN(RDB_CHUNK_ALIGN, (off))

/*
 * Read a typlen-byte little-endian integer and sign-extend it, which gives
 * the Datum fetch_att() would give for a by-value type.
 */
static inline int64
enc_get_int(const char *p, int typlen)
{
	switch (typlen)
	{
		case 1:
			return (int8) *p;
		case 2:
			return (int16) enc_get_u16(p);
		case 4:
			return (int32) enc_get_u32(p);
		default:
			return (int64) enc_get_u64(p);
	}
}

/* The canonical by-value Datum for a sign-extended integer of typlen bytes */
static inline Datum
enc_int_datum(int64 v, int typlen)
{
	switch (typlen)
	{
		case 1:
			return (Datum) (int64) (int8) v;
		case 2:
			return (Datum) (int64) (int16) v;
		case 4:
			return (Datum) (int64) (int32) v;
		default:
			return (Datum) v;
	}
}

/* Datum -> sign-extended integer of typlen bytes (store_att_byval + fetch) */
static inline int64
enc_datum_int(Datum d, int typlen)
{
	return (int64) enc_int_datum((int64) d, typlen);
}

/* ----------------------------------------------------------------
 * bitpack.c: bit streams and the BitPacked encoding
 * ----------------------------------------------------------------
 */

/* A validated view of n values of width bits, packed LSB first */
typedef struct RdbPacked
{
	const uint8 *p;
	Size		nbytes;
	uint32		count;
	int			width;			/* 0..64 */
} RdbPacked;

extern int	enc_bit_width(uint64 range);
extern Size enc_packed_size(uint32 count, int width);
extern void enc_pack(StringInfo out, const uint64 *vals, uint32 count,
					 int width);
extern void enc_packed_open(RdbPacked *pk, const char *data, Size avail,
							uint32 count, int width, const char *what);

static inline uint64
enc_packed_get(const RdbPacked *pk, uint32 i)
{
	uint64		bit;
	Size		byte;
	int			sh;
	uint64		lo = 0;
	uint64		v;

	if (pk->width == 0)
		return 0;
	bit = (uint64) i * pk->width;
	byte = bit >> 3;
	sh = bit & 7;
	if (byte + 8 <= pk->nbytes)
		memcpy(&lo, pk->p + byte, 8);
	else
		memcpy(&lo, pk->p + byte, pk->nbytes - byte);
#ifdef WORDS_BIGENDIAN
	lo = pg_bswap64(lo);
#endif
	v = lo >> sh;
	if (sh + pk->width > 64)
		v |= ((uint64) pk->p[byte + 8]) << (64 - sh);
	if (pk->width < 64)
		v &= (((uint64) 1) << pk->width) - 1;
	return v;
}

/* ----------------------------------------------------------------
 * The encoder's view of one column chunk (choose.c fills it)
 * ----------------------------------------------------------------
 */
typedef struct RdbEncodeInput
{
	const RdbTypeInfo *type;
	int			n;
	int			nnulls;
	const Datum *values;		/* as given */
	const bool *isnull;			/* as given, or NULL when no NULLs */
	Datum	   *filled;			/* NULLs replaced by a neighbouring value */
	int64	   *ints;			/* by-value types: filled as integers */

	/* runs of equal filled values (always computed) */
	uint32		nruns;
	uint32	   *run_last;		/* last row of each run */
	Datum	   *run_vals;

	/* dictionary (computed on demand; ndict = 0 when abandoned) */
	bool		dict_built;
	uint32		ndict;
	Datum	   *dict_vals;
	uint32	   *codes;			/* per row; 0 for NULL rows */
} RdbEncodeInput;

/* plain.c: value areas, used by Plain, and by Dictionary and RunLength */
typedef struct RdbValueArea
{
	const RdbTypeInfo *type;
	const char *base;			/* chunk start (MAXALIGNed) */
	const char *vals;			/* first value */
	const char *offs;			/* varlena/cstring: uint32 offsets[n + 1] */
	uint32		count;
	int			stride;			/* fixed-length types */
} RdbValueArea;

extern Size enc_area_size(const RdbTypeInfo *type, const Datum *vals,
						  const bool *isnull, uint32 count);
extern void enc_area_write(StringInfo out, int start, const RdbTypeInfo *type,
						   const Datum *vals, const bool *isnull,
						   uint32 count);
extern Size enc_area_open(RdbValueArea *a, const RdbTypeInfo *type,
						  const char *base, Size pos, Size len,
						  uint32 count, const uint8 *nullbits);
extern Datum enc_area_get(const RdbValueArea *a, uint32 i);
extern bool enc_datum_same(const RdbTypeInfo *type, Datum a, Datum b);
extern uint32 enc_datum_hash(const RdbTypeInfo *type, Datum d);

/* per-encoding size estimate (bytes after the header and bitmap) and writer */
extern Size enc_plain_size(RdbEncodeInput *in, Size pos);
extern void enc_plain_write(RdbEncodeInput *in, StringInfo out, int start);
extern bool enc_dict_build(RdbEncodeInput *in, uint32 max_entries);
extern Size enc_dict_size(RdbEncodeInput *in, Size pos);
extern void enc_dict_write(RdbEncodeInput *in, StringInfo out, int start);
extern Size enc_rle_size(RdbEncodeInput *in, Size pos);
extern void enc_rle_write(RdbEncodeInput *in, StringInfo out, int start);
extern Size enc_delta_size(RdbEncodeInput *in, Size pos);
extern void enc_delta_write(RdbEncodeInput *in, StringInfo out, int start);
extern Size enc_bitpack_size(RdbEncodeInput *in, Size pos);
extern void enc_bitpack_write(RdbEncodeInput *in, StringInfo out, int start);

/* choose.c */
extern void enc_input_prepare(RdbEncodeInput *in, const RdbTypeInfo *type,
							  const Datum *values, const bool *isnull, int n);
extern RdbEncoding enc_choose(RdbEncodeInput *in, Size pos);

/* ----------------------------------------------------------------
 * The decoder (chunk.c owns it; the per-encoding files fill their part)
 * ----------------------------------------------------------------
 */
struct RdbChunkDecoder
{
	RdbTypeInfo type;
	const char *base;			/* chunk start, MAXALIGNed */
	Size		len;
	char	   *copy;			/* our aligned copy of the chunk, or NULL */
	RdbEncoding enc;
	int			nrows;
	int			nnulls;
	bool		allnull;
	const uint8 *nullbits;		/* bit i set = row i is NULL; NULL if none */

	RdbValueArea area;			/* Plain values, dictionary, run values */
	RdbPacked	packed;			/* codes, run ends, deltas, offsets */
	uint32		nentries;		/* dictionary entries or runs */
	int64		first;			/* BitPacked: minimum */
	uint64		min_delta;		/* Delta */
	const char *ckpts;			/* Delta: int64 checkpoints */
	uint32		run_hint;		/* RunLength: run of the last row decoded */
	int			delta_hint_row; /* Delta: last row decoded, or -1 */
	uint64		delta_hint_value;	/* Delta: its value */
};

extern Size enc_plain_open(RdbChunkDecoder *d, Size pos);
extern void enc_plain_decode_all(RdbChunkDecoder *d, Datum *values);
extern Datum enc_plain_decode_row(RdbChunkDecoder *d, int row);
extern Size enc_dict_open(RdbChunkDecoder *d, Size pos);
extern void enc_dict_decode_all(RdbChunkDecoder *d, Datum *values);
extern Datum enc_dict_decode_row(RdbChunkDecoder *d, int row);
extern Size enc_rle_open(RdbChunkDecoder *d, Size pos);
extern void enc_rle_decode_all(RdbChunkDecoder *d, Datum *values);
extern Datum enc_rle_decode_row(RdbChunkDecoder *d, int row);
extern Size enc_delta_open(RdbChunkDecoder *d, Size pos);
extern void enc_delta_decode_all(RdbChunkDecoder *d, Datum *values);
extern Datum enc_delta_decode_row(RdbChunkDecoder *d, int row);
extern Size enc_bitpack_open(RdbChunkDecoder *d, Size pos);
extern void enc_bitpack_decode_all(RdbChunkDecoder *d, Datum *values);
extern Datum enc_bitpack_decode_row(RdbChunkDecoder *d, int row);

#endif							/* RUSTYDB_ENCODING_INT_H */
