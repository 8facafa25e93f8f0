/*-------------------------------------------------------------------------
 *
 * delta.c
 *	  The Delta encoding: differences between consecutive rows,
 *	  frame-of-reference bit packed, with absolute checkpoints.
 *
 * Applies to by-value types (as sign-extended integers; arithmetic is
 * modulo 2^64, so any bit pattern round-trips).  d[i] = v[i] - v[i-1] for
 * i >= 1; the chunk stores min(d) and every (d[i] - min) in width bits.
 * So that one row costs at most RDB_DELTA_CHECKPOINT - 1 additions, the
 * absolute value of every RDB_DELTA_CHECKPOINT-th row is kept too; when all
 * deltas are equal (width 0) row i is v[0] + i * min and only v[0] is kept.
 * NULL rows repeat the previous value (delta 0).  Body:
 *
 *	  uint64 min_delta, uint8 width, 3 zero bytes, uint32 ncheckpoints,
 *	  int64 checkpoints[ncheckpoints], bit stream of nrows - 1 deltas
 *
 * ncheckpoints is 1 when width is 0, else ceil(nrows / 128).  Sorted
 * timestamps and serial keys typically take 0-20 bits a row.
 *
 * Pure functions, no locking, no allocation on the read side.
 *
 * IDENTIFICATION
 *	  src/encoding/delta.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "encoding_int.h"

#define DELTA_HEADER	16

static void
delta_range(RdbEncodeInput *in, uint64 *min_delta, int *width)
{
	int64		lo = 0;
	int64		hi = 0;
	int			i;

	for (i = 1; i < in->n; i++)
	{
		int64		dv = (int64) ((uint64) in->ints[i] - (uint64) in->ints[i - 1]);

		if (i == 1 || dv < lo)
			lo = dv;
		if (i == 1 || dv > hi)
			hi = dv;
	}
	*min_delta = (uint64) lo;
	*width = enc_bit_width((uint64) hi - (uint64) lo);
}

static inline uint32
delta_ncheckpoints(int n, int width)
{
	if (width == 0)
		return 1;
	return (n + RDB_DELTA_CHECKPOINT - 1) / RDB_DELTA_CHECKPOINT;
}

Size
enc_delta_size(RdbEncodeInput *in, Size pos)
{
	uint64		min_delta;
	int			width;

	delta_range(in, &min_delta, &width);
	return DELTA_HEADER + 8 * delta_ncheckpoints(in->n, width) +
		enc_packed_size(in->n - 1, width);
}

void
enc_delta_write(RdbEncodeInput *in, StringInfo out, int start)
{
	uint64		min_delta;
	int			width;
	uint32		nck;
	uint32		k;
	uint64	   *v;
	int			i;

	delta_range(in, &min_delta, &width);
	nck = delta_ncheckpoints(in->n, width);

	enc_put_u64(out, min_delta);
	appendStringInfoChar(out, (char) width);
	appendBinaryStringInfo(out, "\0\0\0", 3);
	enc_put_u32(out, nck);
	for (k = 0; k < nck; k++)
		enc_put_u64(out, (uint64) in->ints[k * RDB_DELTA_CHECKPOINT]);

	v = palloc(Max(in->n - 1, 1) * sizeof(uint64));
	for (i = 1; i < in->n; i++)
		v[i - 1] = (uint64) in->ints[i] - (uint64) in->ints[i - 1] - min_delta;
	enc_pack(out, v, in->n - 1, width);
	pfree(v);
}

Size
enc_delta_open(RdbChunkDecoder *d, Size pos)
{
	int			width;
	uint32		nck;
	uint64		cklen;

	if (d->len - pos < DELTA_HEADER)
		corrupt_chunk("The Delta header is truncated.");
	d->min_delta = enc_get_u64(d->base + pos);
	width = (uint8) d->base[pos + 8];
	nck = enc_get_u32(d->base + pos + 12);
	if (width > 64 || nck != delta_ncheckpoints(d->nrows, width))
		corrupt_chunk("Delta chunk of %d rows has width %d and %u checkpoints.",
					  d->nrows, width, nck);
	pos += DELTA_HEADER;
	cklen = (uint64) nck * 8;
	if (cklen > d->len - pos)
		corrupt_chunk("The Delta checkpoints are truncated.");
	d->ckpts = d->base + pos;
	d->delta_hint_row = -1;
	pos += cklen;
	enc_packed_open(&d->packed, d->base + pos, d->len - pos, d->nrows - 1,
					width, "deltas");
	return pos + d->packed.nbytes;
}

void
enc_delta_decode_all(RdbChunkDecoder *d, Datum *values)
{
	uint64		v = enc_get_u64(d->ckpts);
	int			i;

	values[0] = enc_int_datum((int64) v, d->type.typlen);
	for (i = 1; i < d->nrows; i++)
	{
		v += d->min_delta + enc_packed_get(&d->packed, i - 1);
		values[i] = enc_int_datum((int64) v, d->type.typlen);

		/* the checkpoints must agree with the deltas (decode_row uses them) */
		if (i % RDB_DELTA_CHECKPOINT == 0 && d->packed.width > 0 &&
			enc_get_u64(d->ckpts + (Size) (i / RDB_DELTA_CHECKPOINT) * 8) != v)
			corrupt_chunk("Delta checkpoint %d does not match the deltas.",
						  i / RDB_DELTA_CHECKPOINT);
	}
}

Datum
enc_delta_decode_row(RdbChunkDecoder *d, int row)
{
	uint64		v;
	int			cp;
	int			i;

	if (d->packed.width == 0)
	{
		v = enc_get_u64(d->ckpts) + (uint64) row * d->min_delta;
		return enc_int_datum((int64) v, d->type.typlen);
	}
	if (row > 0 && row == d->delta_hint_row + 1)
	{
		/* rows read in order (a columnar scan): one addition */
		v = d->delta_hint_value + d->min_delta +
			enc_packed_get(&d->packed, row - 1);
	}
	else
	{
		cp = row / RDB_DELTA_CHECKPOINT;
		v = enc_get_u64(d->ckpts + (Size) cp * 8);
		for (i = cp * RDB_DELTA_CHECKPOINT + 1; i <= row; i++)
			v += d->min_delta + enc_packed_get(&d->packed, i - 1);
	}
	d->delta_hint_row = row;
	d->delta_hint_value = v;
	return enc_int_datum((int64) v, d->type.typlen);
}
