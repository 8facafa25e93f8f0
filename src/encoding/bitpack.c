/*-------------------------------------------------------------------------
 *
 * bitpack.c
 *	  Bit streams shared by the encodings, and the BitPacked encoding
 *	  (frame of reference + bit packing).
 *
 * A bit stream holds `count` unsigned values of `width` bits (0..64), value
 * i at bits [i * width, (i + 1) * width) counted from the least significant
 * bit of the first byte; it takes exactly ceil(count * width / 8) bytes.
 * Any value is read in O(1) (enc_packed_get in encoding_int.h).
 *
 * BitPacked applies to by-value types: the chunk stores the minimum of the
 * column (as a sign-extended int64) and every row as (value - minimum) in
 * width bits, width being what the range max - min needs.  NULL rows hold
 * the value of a neighbouring row.  Body:
 *
 *	  int64 min, uint8 width, 7 zero bytes, bit stream of nrows values
 *
 * Pure functions, no locking, no allocation on the read side.
 *
 * IDENTIFICATION
 *	  src/encoding/bitpack.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "port/pg_bitutils.h"

#include "encoding_int.h"

/* ----------------------------------------------------------------
 * Bit streams
 * ----------------------------------------------------------------
 */

/* enc_bit_width: bits needed for values 0..range */
int
enc_bit_width(uint64 range)
{
	if (range == 0)
		return 0;
	return pg_leftmost_one_pos64(range) + 1;
}

/* enc_packed_size: bytes of a bit stream */
Size
enc_packed_size(uint32 count, int width)
{
	return (Size) (((uint64) count * width + 7) / 8);
}

static inline void
packed_flush(char *dst, uint64 acc, int nbytes)
{
#ifdef WORDS_BIGENDIAN
	acc = pg_bswap64(acc);
#endif
	memcpy(dst, &acc, nbytes);
}

/*
 * enc_pack: append vals[0 .. count) as a bit stream of the given width.
 * Values must fit in width bits.
 */
void
enc_pack(StringInfo out, const uint64 *vals, uint32 count, int width)
{
	Size		nbytes = enc_packed_size(count, width);
	char	   *dst;
	uint64		acc = 0;
	int			nbits = 0;
	uint32		i;

	Assert(width >= 0 && width <= 64);
	if (nbytes == 0)
		return;
	enlargeStringInfo(out, nbytes + 8);
	dst = out->data + out->len;

	for (i = 0; i < count; i++)
	{
		uint64		v = vals[i];

		Assert(width == 64 || (v >> width) == 0);
		acc |= v << nbits;
		if (nbits + width >= 64)
		{
			int			used = 64 - nbits;

			packed_flush(dst, acc, 8);
			dst += 8;
			acc = (used == 64) ? 0 : v >> used;
			nbits = nbits + width - 64;
		}
		else
			nbits += width;
	}
	if (nbits > 0)
		packed_flush(dst, acc, (nbits + 7) / 8);

	out->len += nbytes;
	out->data[out->len] = '\0';
}

/*
 * enc_packed_open: check that a bit stream of count values of width bits
 * fits in the avail bytes at data, and describe it in *pk.
 */
void
enc_packed_open(RdbPacked *pk, const char *data, Size avail, uint32 count,
				int width, const char *what)
{
	Size		need;

	if (width < 0 || width > 64)
		corrupt_chunk("The %s have a bit width of %d.", what, width);
	need = enc_packed_size(count, width);
	if (need > avail)
		corrupt_chunk("The %s need %zu bytes, %zu are left.", what, need, avail);
	pk->p = (const uint8 *) data;
	pk->nbytes = need;
	pk->count = count;
	pk->width = width;
}

/* ----------------------------------------------------------------
 * The BitPacked encoding
 * ----------------------------------------------------------------
 */
static void
bitpack_range(RdbEncodeInput *in, int64 *min, int *width)
{
	int64		lo = in->ints[0];
	int64		hi = in->ints[0];
	int			i;

	for (i = 1; i < in->n; i++)
	{
		if (in->ints[i] < lo)
			lo = in->ints[i];
		if (in->ints[i] > hi)
			hi = in->ints[i];
	}
	*min = lo;
	*width = enc_bit_width((uint64) hi - (uint64) lo);
}

Size
enc_bitpack_size(RdbEncodeInput *in, Size pos)
{
	int64		min;
	int			width;

	bitpack_range(in, &min, &width);
	return 16 + enc_packed_size(in->n, width);
}

void
enc_bitpack_write(RdbEncodeInput *in, StringInfo out, int start)
{
	int64		min;
	int			width;
	uint64	   *v = palloc(in->n * sizeof(uint64));
	int			i;

	bitpack_range(in, &min, &width);
	for (i = 0; i < in->n; i++)
		v[i] = (uint64) in->ints[i] - (uint64) min;
	enc_put_u64(out, (uint64) min);
	appendStringInfoChar(out, (char) width);
	appendBinaryStringInfo(out, "\0\0\0\0\0\0\0", 7);
	enc_pack(out, v, in->n, width);
	pfree(v);
}

Size
enc_bitpack_open(RdbChunkDecoder *d, Size pos)
{
	if (d->len - pos < 16)
		corrupt_chunk("The BitPacked header is truncated.");
	d->first = (int64) enc_get_u64(d->base + pos);
	enc_packed_open(&d->packed, d->base + pos + 16, d->len - pos - 16,
					d->nrows, (uint8) d->base[pos + 8], "bit-packed values");
	return pos + 16 + d->packed.nbytes;
}

void
enc_bitpack_decode_all(RdbChunkDecoder *d, Datum *values)
{
	int			i;

	for (i = 0; i < d->nrows; i++)
		values[i] = enc_int_datum((int64) ((uint64) d->first +
										   enc_packed_get(&d->packed, i)),
								  d->type.typlen);
}

Datum
enc_bitpack_decode_row(RdbChunkDecoder *d, int row)
{
	return enc_int_datum((int64) ((uint64) d->first +
								  enc_packed_get(&d->packed, row)),
						 d->type.typlen);
}
