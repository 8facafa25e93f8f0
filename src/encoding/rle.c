/*-------------------------------------------------------------------------
 *
 * rle.c
 *	  The RunLength encoding: runs of bit-identical values, with run-end
 *	  positions so that one row is found by binary search.
 *
 * Applies to every type.  Runs are taken over the rows with NULLs
 * replaced by a neighbouring value (the null bitmap says which rows are
 * NULL), so NULLs never break a run.  The chunk stores, for every run, the
 * last row it covers (strictly increasing, the last one nrows - 1) as a bit
 * stream, then the runs' values as a value area (plain.c).  Body:
 *
 *	  uint32 nruns, uint8 width, 3 zero bytes, bit stream of nruns run ends,
 *	  zero padding to 8, value area of nruns values
 *
 * Row r is in the first run whose end is >= r: O(log nruns), and O(1) for
 * rows decoded in order (the decoder remembers the last run it used).
 *
 * Pure functions, no locking, no allocation on the read side.
 *
 * IDENTIFICATION
 *	  src/encoding/rle.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "encoding_int.h"

#define RLE_HEADER	8

Size
enc_rle_size(RdbEncodeInput *in, Size pos)
{
	Size		sz = RLE_HEADER + enc_packed_size(in->nruns,
												  enc_bit_width(in->n - 1));

	return ENC_ALIGN(sz) + enc_area_size(in->type, in->run_vals, NULL, in->nruns);
}

void
enc_rle_write(RdbEncodeInput *in, StringInfo out, int start)
{
	int			width = enc_bit_width(in->n - 1);
	uint64	   *ends = palloc(in->nruns * sizeof(uint64));
	uint32		i;

	for (i = 0; i < in->nruns; i++)
		ends[i] = in->run_last[i];
	enc_put_u32(out, in->nruns);
	appendStringInfoChar(out, (char) width);
	appendBinaryStringInfo(out, "\0\0\0", 3);
	enc_pack(out, ends, in->nruns, width);
	enc_pad(out, start);
	enc_area_write(out, start, in->type, in->run_vals, NULL, in->nruns);
	pfree(ends);
}

Size
enc_rle_open(RdbChunkDecoder *d, Size pos)
{
	uint32		nruns;
	uint64		prev = 0;
	uint32		i;

	if (d->len - pos < RLE_HEADER)
		corrupt_chunk("The RunLength header is truncated.");
	nruns = enc_get_u32(d->base + pos);
	if (nruns < 1 || nruns > (uint32) d->nrows)
		corrupt_chunk("RunLength chunk of %d rows has %u runs.", d->nrows, nruns);
	enc_packed_open(&d->packed, d->base + pos + RLE_HEADER,
					d->len - pos - RLE_HEADER, nruns,
					(uint8) d->base[pos + 4], "run ends");

	/* run ends strictly increase and the last one is the last row */
	for (i = 0; i < nruns; i++)
	{
		uint64		e = enc_packed_get(&d->packed, i);

		if ((i > 0 && e <= prev) || e >= (uint64) d->nrows ||
			(i == nruns - 1 && e != (uint64) d->nrows - 1))
			corrupt_chunk("Run %u ends at row %llu.", i, (unsigned long long) e);
		prev = e;
	}
	d->nentries = nruns;
	d->run_hint = 0;
	pos = ENC_ALIGN(pos + RLE_HEADER + d->packed.nbytes);
	return enc_area_open(&d->area, &d->type, d->base, pos, d->len, nruns, NULL);
}

void
enc_rle_decode_all(RdbChunkDecoder *d, Datum *values)
{
	int			row = 0;
	uint32		r;

	for (r = 0; r < d->nentries; r++)
	{
		int			last = (int) enc_packed_get(&d->packed, r);
		Datum		v = enc_area_get(&d->area, r);

		while (row <= last)
			values[row++] = v;
	}
}

Datum
enc_rle_decode_row(RdbChunkDecoder *d, int row)
{
	uint32		lo = 0;
	uint32		hi = d->nentries - 1;
	uint32		h = d->run_hint;

	/* rows read in order: the remembered run or the next one */
	if ((uint64) row <= enc_packed_get(&d->packed, h) &&
		(h == 0 || (uint64) row > enc_packed_get(&d->packed, h - 1)))
		return enc_area_get(&d->area, h);
	if (h + 1 < d->nentries && (uint64) row > enc_packed_get(&d->packed, h) &&
		(uint64) row <= enc_packed_get(&d->packed, h + 1))
	{
		d->run_hint = h + 1;
		return enc_area_get(&d->area, h + 1);
	}

	/* binary search: the first run whose end is >= row */
	while (lo < hi)
	{
		uint32		mid = lo + (hi - lo) / 2;

		if (enc_packed_get(&d->packed, mid) < (uint64) row)
			lo = mid + 1;
		else
			hi = mid;
	}
	d->run_hint = lo;
	return enc_area_get(&d->area, lo);
}
