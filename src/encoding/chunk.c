/*-------------------------------------------------------------------------
 *
 * chunk.c
 *	  Column chunks: the header and null bitmap shared by every encoding,
 *	  rdb_encode_chunk, and the chunk decoder.
 *
 * A chunk is laid out as (all integers little-endian, offsets from the
 * chunk start; README.md in this directory has the full description):
 *
 *	  0	 uint16 magic "RC"		  4	 int16 typlen		  8	 uint32 nrows
 *	  2	 uint8 format version	  6	 uint8 typbyval		 12	 uint32 nnulls
 *	  3	 uint8 encoding			  7	 char typalign		 16	 uint32 chunk length
 *															 20	 uint32 zero
 *	  24 null bitmap, ceil(nrows / 8) bytes, bit i set = row i is NULL
 *		 (present only when nnulls > 0), zero padding to 8
 *	  .. the encoding's body (empty when every row is NULL)
 *
 * Rows stay dense, row i at position i, so random access needs no rank
 * computation over the bitmap.
 *
 * Memory rules: rdb_encode_chunk does its work in a temporary context it
 * deletes before returning; only `out` grows.  The decoder and its aligned
 * copy of the chunk (made only when the caller's bytes are not MAXALIGNed)
 * are palloc'd in the context current at rdb_chunk_decoder_begin and freed
 * by rdb_chunk_decoder_end; decoding rows allocates nothing.
 *
 * IDENTIFICATION
 *	  src/encoding/chunk.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "port/pg_bitutils.h"
#include "utils/memutils.h"

#include "encoding_int.h"

static const char *const rdb_encoding_names[RDB_NUM_ENCODINGS] = {
	[RDB_ENC_PLAIN] = "Plain",
	[RDB_ENC_DICT] = "Dictionary",
	[RDB_ENC_RLE] = "RunLength",
	[RDB_ENC_DELTA] = "Delta",
	[RDB_ENC_BITPACK] = "BitPacked",
};

/* ----------------------------------------------------------------
 * Names and properties
 * ----------------------------------------------------------------
 */

/* rdb_encoding_name: the name storage events use ("Plain", ...) */
const char *
rdb_encoding_name(RdbEncoding e)
{
	if ((int) e < 0 || (int) e >= RDB_NUM_ENCODINGS)
		return "unknown";
	return rdb_encoding_names[e];
}

/*
 * rdb_encoding_from_name: parse an encoding name, case-insensitively;
 * "auto" gives -1 when allow_auto.  Unknown names raise 22023 with a hint.
 */
int
rdb_encoding_from_name(const char *name, bool allow_auto)
{
	static const struct
	{
		const char *name;
		RdbEncoding enc;
	}			aliases[] = {
		{"plain", RDB_ENC_PLAIN},
		{"dictionary", RDB_ENC_DICT},
		{"dict", RDB_ENC_DICT},
		{"runlength", RDB_ENC_RLE},
		{"rle", RDB_ENC_RLE},
		{"delta", RDB_ENC_DELTA},
		{"bitpacked", RDB_ENC_BITPACK},
		{"bitpack", RDB_ENC_BITPACK},
	};
	int			i;

	if (allow_auto && pg_strcasecmp(name, "auto") == 0)
		return -1;
	for (i = 0; i < lengthof(aliases); i++)
		if (pg_strcasecmp(name, aliases[i].name) == 0)
			return aliases[i].enc;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown column encoding \"%s\"", name),
			 errhint("Valid encodings are %splain, dictionary, runlength, delta and bitpacked.",
					 allow_auto ? "auto, " : "")));
	return -1;					/* keep compiler quiet */
}

/*
 * rdb_encoding_applies: Plain, Dictionary and RunLength take any type; the
 * integer encodings (Delta, BitPacked) take by-value types.
 */
bool
rdb_encoding_applies(const RdbTypeInfo *type, RdbEncoding e)
{
	if (e == RDB_ENC_DELTA || e == RDB_ENC_BITPACK)
		return type->typbyval;
	return (int) e >= 0 && (int) e < RDB_NUM_ENCODINGS;
}

/* rdb_encoding_random_access: is one row read in O(1)? */
bool
rdb_encoding_random_access(RdbEncoding e)
{
	return e == RDB_ENC_PLAIN || e == RDB_ENC_DICT || e == RDB_ENC_BITPACK;
}

static bool
type_is_valid(const RdbTypeInfo *type)
{
	if (type->typbyval)
		return type->typlen == 1 || type->typlen == 2 || type->typlen == 4 ||
			(type->typlen == 8 && sizeof(Datum) == 8);
	if (type->typlen <= 0 && type->typlen != -1 && type->typlen != -2)
		return false;
	return type->typalign == TYPALIGN_CHAR || type->typalign == TYPALIGN_SHORT ||
		type->typalign == TYPALIGN_INT || type->typalign == TYPALIGN_DOUBLE;
}

static inline bool
row_is_null(const RdbChunkDecoder *d, int row)
{
	return d->nullbits && (d->nullbits[row / 8] & (1 << (row % 8)));
}

/* ----------------------------------------------------------------
 * Encoding
 * ----------------------------------------------------------------
 */

/*
 * rdb_encode_chunk: encode n values (1 .. RDB_MAX_CHUNK_ROWS) of one
 * column into a chunk appended to out.  isnull may be NULL (no NULLs).
 * force < 0 chooses the encoding from the data (choose.c), otherwise that
 * encoding is used, or 22023 raised when it does not apply to the type.
 * Varlena values may be on-disk TOAST pointers (stored as they are), not
 * in-memory external values (indirect, expanded).  Returns the
 * encoding used.
 */
RdbEncoding
rdb_encode_chunk(const RdbTypeInfo *type, const Datum *values,
				 const bool *isnull, int n, int force, StringInfo out)
{
	MemoryContext tmp;
	MemoryContext old;
	RdbEncodeInput in;
	RdbEncoding enc;
	int			start = out->len;
	Size		pos;
	Size		body = 0;
	uint32		total;

	if (!type_is_valid(type))
		elog(ERROR, "rustydb encoding: unsupported type (typlen %d, typbyval %d, typalign '%c')",
			 type->typlen, type->typbyval, type->typalign);
	if (n < 1 || n > RDB_MAX_CHUNK_ROWS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a column chunk holds 1 to %d rows, not %d",
						RDB_MAX_CHUNK_ROWS, n)));
	if (force >= RDB_NUM_ENCODINGS)
		elog(ERROR, "rustydb encoding: unknown encoding %d", force);
	if (force >= 0 && !rdb_encoding_applies(type, (RdbEncoding) force))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("encoding \"%s\" does not apply to a type passed by reference",
						rdb_encoding_name((RdbEncoding) force)),
				 errhint("Delta and BitPacked apply to types passed by value (integers, floats, dates, timestamps, ...).")));

	tmp = AllocSetContextCreate(CurrentMemoryContext, "rustydb encode",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(tmp);

	enc_input_prepare(&in, type, values, isnull, n);
	pos = ENC_ALIGN(RDB_CHUNK_HEADER_SIZE + (in.nnulls > 0 ? (n + 7) / 8 : 0));

	if (in.nnulls == n)
		enc = force >= 0 ? (RdbEncoding) force : RDB_ENC_PLAIN;
	else
	{
		enc = force >= 0 ? (RdbEncoding) force : enc_choose(&in, pos);
		switch (enc)
		{
			case RDB_ENC_PLAIN:
				body = enc_plain_size(&in, pos);
				break;
			case RDB_ENC_DICT:
				enc_dict_build(&in, n);
				body = enc_dict_size(&in, pos);
				break;
			case RDB_ENC_RLE:
				body = enc_rle_size(&in, pos);
				break;
			case RDB_ENC_DELTA:
				body = enc_delta_size(&in, pos);
				break;
			case RDB_ENC_BITPACK:
				body = enc_bitpack_size(&in, pos);
				break;
		}
	}
	if (pos + body > RDB_MAX_CHUNK_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("column chunk of %d rows would take %zu bytes, more than the limit of %zu",
						n, pos + body, RDB_MAX_CHUNK_BYTES),
				 errhint("Encode fewer rows per chunk.")));

	/* header, with the length filled in at the end */
	enc_put_u16(out, RDB_CHUNK_MAGIC);
	appendStringInfoChar(out, (char) RDB_CHUNK_VERSION);
	appendStringInfoChar(out, (char) enc);
	enc_put_u16(out, (uint16) type->typlen);
	appendStringInfoChar(out, (char) type->typbyval);
	appendStringInfoChar(out, type->typalign);
	enc_put_u32(out, n);
	enc_put_u32(out, in.nnulls);
	enc_put_u32(out, 0);
	enc_put_u32(out, 0);

	if (in.nnulls > 0)
	{
		int			nbytes = (n + 7) / 8;
		int			bm = out->len;
		int			i;

		appendStringInfoSpaces(out, nbytes);
		memset(out->data + bm, 0, nbytes);
		for (i = 0; i < n; i++)
			if (isnull[i])
				out->data[bm + i / 8] |= (char) (1 << (i % 8));
	}
	enc_pad(out, start);
	Assert(out->len - start == pos);

	if (in.nnulls < n)
	{
		switch (enc)
		{
			case RDB_ENC_PLAIN:
				enc_plain_write(&in, out, start);
				break;
			case RDB_ENC_DICT:
				enc_dict_write(&in, out, start);
				break;
			case RDB_ENC_RLE:
				enc_rle_write(&in, out, start);
				break;
			case RDB_ENC_DELTA:
				enc_delta_write(&in, out, start);
				break;
			case RDB_ENC_BITPACK:
				enc_bitpack_write(&in, out, start);
				break;
		}
	}
	total = out->len - start;
	Assert(total == pos + body);
#ifdef WORDS_BIGENDIAN
	total = pg_bswap32(total);
#endif
	memcpy(out->data + start + 16, &total, sizeof(total));

	MemoryContextSwitchTo(old);
	MemoryContextDelete(tmp);
	return enc;
}

/* ----------------------------------------------------------------
 * Decoding
 * ----------------------------------------------------------------
 */

/*
 * rdb_chunk_decoder_begin: validate a chunk of len bytes written for a
 * column of this type, and return a decoder for it.  Every header field,
 * length and offset is checked against len; malformed input raises
 * ERRCODE_DATA_CORRUPTED.  The decoder is palloc'd in the current memory
 * context; data must stay valid until rdb_chunk_decoder_end (by-reference
 * values point into it, unless it was not MAXALIGNed and got copied).
 */
RdbChunkDecoder *
rdb_chunk_decoder_begin(const RdbTypeInfo *type, const char *data, Size len)
{
	RdbChunkDecoder *d;
	const char *b;
	uint32		nrows;
	uint32		nnulls;
	uint32		stored_len;
	int			enc;
	Size		pos;
	Size		end = 0;

	if (len < RDB_CHUNK_HEADER_SIZE)
		corrupt_chunk("Chunk of %zu bytes is shorter than its header.", len);
	if (len > RDB_MAX_CHUNK_BYTES)
		corrupt_chunk("Chunk of %zu bytes is larger than any chunk can be.", len);

	d = palloc0(sizeof(RdbChunkDecoder));
	d->type = *type;
	d->len = len;
	if ((uintptr_t) data % MAXIMUM_ALIGNOF != 0)
	{
		d->copy = palloc(len);
		memcpy(d->copy, data, len);
		data = d->copy;
	}
	d->base = b = data;

	if (enc_get_u16(b) != RDB_CHUNK_MAGIC)
		corrupt_chunk("Bad magic number 0x%04x.", enc_get_u16(b));
	if ((uint8) b[2] != RDB_CHUNK_VERSION)
		corrupt_chunk("Unknown chunk format version %u.", (uint8) b[2]);
	enc = (uint8) b[3];
	if (enc >= RDB_NUM_ENCODINGS)
		corrupt_chunk("Unknown encoding %d.", enc);
	d->enc = (RdbEncoding) enc;
	if ((int16) enc_get_u16(b + 4) != type->typlen ||
		(bool) b[6] != type->typbyval || b[7] != type->typalign)
		corrupt_chunk("Chunk was written for typlen %d, typbyval %d, typalign '%c', not for typlen %d, typbyval %d, typalign '%c'.",
					  (int16) enc_get_u16(b + 4), (uint8) b[6],
					  isprint((unsigned char) b[7]) ? b[7] : '?',
					  type->typlen, type->typbyval, type->typalign);
	if (!type_is_valid(type))
		elog(ERROR, "rustydb encoding: unsupported type (typlen %d, typbyval %d, typalign '%c')",
			 type->typlen, type->typbyval, type->typalign);
	if (!rdb_encoding_applies(type, d->enc))
		corrupt_chunk("Encoding %s does not apply to this type.",
					  rdb_encoding_name(d->enc));

	nrows = enc_get_u32(b + 8);
	nnulls = enc_get_u32(b + 12);
	stored_len = enc_get_u32(b + 16);
	if (nrows < 1 || nrows > RDB_MAX_CHUNK_ROWS || nnulls > nrows)
		corrupt_chunk("Chunk claims %u rows of which %u are NULL.", nrows, nnulls);
	if (stored_len != len)
		corrupt_chunk("Chunk header says %u bytes, %zu were given.", stored_len, len);
	if (enc_get_u32(b + 20) != 0)
		corrupt_chunk("Reserved header field is not zero.");
	d->nrows = nrows;
	d->nnulls = nnulls;
	d->allnull = (nnulls == nrows);

	pos = RDB_CHUNK_HEADER_SIZE;
	if (nnulls > 0)
	{
		Size		nbytes = (nrows + 7) / 8;
		uint64		count;

		if (nbytes > len - pos)
			corrupt_chunk("The null bitmap is truncated.");
		d->nullbits = (const uint8 *) b + pos;
		/* no bits past the last row, and as many set bits as NULLs */
		if (nrows % 8 != 0 && (d->nullbits[nbytes - 1] >> (nrows % 8)) != 0)
			corrupt_chunk("The null bitmap has bits past the last row.");
		count = pg_popcount((const char *) d->nullbits, nbytes);
		if (count != nnulls)
			corrupt_chunk("The null bitmap has %llu NULLs, the header %u.",
						  (unsigned long long) count, nnulls);
		pos += nbytes;
	}
	pos = ENC_ALIGN(pos);

	if (d->allnull)
		end = pos;
	else if (pos > len)
		corrupt_chunk("The chunk has no room for its values.");
	else
	{
		switch (d->enc)
		{
			case RDB_ENC_PLAIN:
				end = enc_plain_open(d, pos);
				break;
			case RDB_ENC_DICT:
				end = enc_dict_open(d, pos);
				break;
			case RDB_ENC_RLE:
				end = enc_rle_open(d, pos);
				break;
			case RDB_ENC_DELTA:
				end = enc_delta_open(d, pos);
				break;
			case RDB_ENC_BITPACK:
				end = enc_bitpack_open(d, pos);
				break;
		}
	}
	if (end != len)
		corrupt_chunk("The encoded values end at byte %zu of a chunk of %zu bytes.",
					  end, len);
	return d;
}

int
rdb_chunk_nrows(RdbChunkDecoder *d)
{
	return d->nrows;
}

int
rdb_chunk_nnulls(RdbChunkDecoder *d)
{
	return d->nnulls;
}

RdbEncoding
rdb_chunk_encoding(RdbChunkDecoder *d)
{
	return d->enc;
}

/*
 * rdb_chunk_decode_all: every row into values[0 .. nrows) and
 * isnull[0 .. nrows) (NULL rows get (Datum) 0).  Both arrays belong to the
 * caller.
 */
void
rdb_chunk_decode_all(RdbChunkDecoder *d, Datum *values, bool *isnull)
{
	int			i;

	if (d->allnull)
	{
		for (i = 0; i < d->nrows; i++)
		{
			values[i] = (Datum) 0;
			isnull[i] = true;
		}
		return;
	}
	switch (d->enc)
	{
		case RDB_ENC_PLAIN:
			enc_plain_decode_all(d, values);
			break;
		case RDB_ENC_DICT:
			enc_dict_decode_all(d, values);
			break;
		case RDB_ENC_RLE:
			enc_rle_decode_all(d, values);
			break;
		case RDB_ENC_DELTA:
			enc_delta_decode_all(d, values);
			break;
		case RDB_ENC_BITPACK:
			enc_bitpack_decode_all(d, values);
			break;
	}
	for (i = 0; i < d->nrows; i++)
	{
		isnull[i] = row_is_null(d, i);
		if (isnull[i])
			values[i] = (Datum) 0;
	}
}

/*
 * rdb_chunk_decode_row: one row, without decoding the others: O(1) for
 * Plain, Dictionary and BitPacked, O(log runs) for RunLength (O(1) when
 * rows are read in order), at most 127 steps for Delta (one when rows are
 * read in order).  Allocates nothing.
 */
Datum
rdb_chunk_decode_row(RdbChunkDecoder *d, int row, bool *isnull)
{
	if (row < 0 || row >= d->nrows)
		elog(ERROR, "rustydb encoding: row %d out of range 0..%d", row, d->nrows - 1);
	if (row_is_null(d, row))
	{
		*isnull = true;
		return (Datum) 0;
	}
	*isnull = false;
	switch (d->enc)
	{
		case RDB_ENC_PLAIN:
			return enc_plain_decode_row(d, row);
		case RDB_ENC_DICT:
			return enc_dict_decode_row(d, row);
		case RDB_ENC_RLE:
			return enc_rle_decode_row(d, row);
		case RDB_ENC_DELTA:
			return enc_delta_decode_row(d, row);
		case RDB_ENC_BITPACK:
			return enc_bitpack_decode_row(d, row);
	}
	return (Datum) 0;			/* keep compiler quiet */
}

/* rdb_chunk_decoder_end: free the decoder; its Datums become invalid */
void
rdb_chunk_decoder_end(RdbChunkDecoder *d)
{
	if (d->copy)
		pfree(d->copy);
	pfree(d);
}
