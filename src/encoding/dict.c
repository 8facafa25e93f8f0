/*-------------------------------------------------------------------------
 *
 * dict.c
 *	  The Dictionary encoding: distinct values once, rows as bit-packed
 *	  codes.
 *
 * Applies to every type.  Values are distinct when their bytes differ
 * (no catalog access here, so no type equality: numeric 1.0 and 1.00 are
 * two entries, as they must be to round-trip).  Entries keep the order of
 * their first row; NULL rows get code 0.  Body:
 *
 *	  uint32 ndict, uint8 width, 3 zero bytes, value area of ndict values
 *	  (plain.c), zero padding to 8, bit stream of nrows codes
 *
 * Any row is read in O(1).  Codes are checked against ndict as they are
 * read, so a corrupted code raises an error instead of reading elsewhere.
 *
 * Pure functions, no locking.  The build allocates in the caller's
 * (temporary) context; decoding allocates nothing.
 *
 * IDENTIFICATION
 *	  src/encoding/dict.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "port/pg_bitutils.h"

#include "encoding_int.h"

#define DICT_HEADER	8

/*
 * enc_dict_build: find the distinct values of the (NULL-filled) rows.
 * Gives up, returning false, as soon as there are more than max_entries.
 */
bool
enc_dict_build(RdbEncodeInput *in, uint32 max_entries)
{
	uint32		cap = Min(max_entries, (uint32) in->n);
	uint32		nslots = pg_nextpower2_32(Max(cap * 2, 16));
	int32	   *slots;
	uint32	   *slot_hash;
	uint32		ndict = 0;
	int			i;

	if (in->dict_built)
		return true;

	slots = palloc(nslots * sizeof(int32));
	slot_hash = palloc(nslots * sizeof(uint32));
	memset(slots, -1, nslots * sizeof(int32));
	in->dict_vals = palloc(cap * sizeof(Datum) + 1);
	in->codes = palloc(in->n * sizeof(uint32));

	for (i = 0; i < in->n; i++)
	{
		Datum		v = in->filled[i];
		uint32		h;
		uint32		s;

		if (in->isnull && in->isnull[i])
		{
			in->codes[i] = 0;
			continue;
		}
		/* a run repeats the previous row's code without hashing */
		if (i > 0 && !(in->isnull && in->isnull[i - 1]) &&
			enc_datum_same(in->type, v, in->filled[i - 1]))
		{
			in->codes[i] = in->codes[i - 1];
			continue;
		}

		h = enc_datum_hash(in->type, v);
		for (s = h & (nslots - 1);; s = (s + 1) & (nslots - 1))
		{
			if (slots[s] < 0)
			{
				if (ndict >= cap)
				{
					pfree(slots);
					pfree(slot_hash);
					in->ndict = 0;
					return false;
				}
				slots[s] = ndict;
				slot_hash[s] = h;
				in->dict_vals[ndict] = v;
				in->codes[i] = ndict++;
				break;
			}
			if (slot_hash[s] == h &&
				enc_datum_same(in->type, v, in->dict_vals[slots[s]]))
			{
				in->codes[i] = slots[s];
				break;
			}
		}
	}
	pfree(slots);
	pfree(slot_hash);
	in->ndict = ndict;
	in->dict_built = true;
	return true;
}

Size
enc_dict_size(RdbEncodeInput *in, Size pos)
{
	Assert(in->dict_built);
	return ENC_ALIGN(DICT_HEADER + enc_area_size(in->type, in->dict_vals, NULL,
												 in->ndict)) +
		enc_packed_size(in->n, enc_bit_width(in->ndict - 1));
}

void
enc_dict_write(RdbEncodeInput *in, StringInfo out, int start)
{
	int			width = enc_bit_width(in->ndict - 1);
	uint64	   *codes = palloc(in->n * sizeof(uint64));
	int			i;

	Assert(in->dict_built);
	for (i = 0; i < in->n; i++)
		codes[i] = in->codes[i];
	enc_put_u32(out, in->ndict);
	appendStringInfoChar(out, (char) width);
	appendBinaryStringInfo(out, "\0\0\0", 3);
	enc_area_write(out, start, in->type, in->dict_vals, NULL, in->ndict);
	enc_pad(out, start);
	enc_pack(out, codes, in->n, width);
	pfree(codes);
}

Size
enc_dict_open(RdbChunkDecoder *d, Size pos)
{
	uint32		ndict;
	int			width;

	if (d->len - pos < DICT_HEADER)
		corrupt_chunk("The Dictionary header is truncated.");
	ndict = enc_get_u32(d->base + pos);
	width = (uint8) d->base[pos + 4];
	if (ndict < 1 || ndict > (uint32) d->nrows)
		corrupt_chunk("Dictionary chunk of %d rows has %u entries.",
					  d->nrows, ndict);
	d->nentries = ndict;
	pos = ENC_ALIGN(enc_area_open(&d->area, &d->type, d->base,
								  pos + DICT_HEADER, d->len, ndict, NULL));
	if (pos > d->len)
		corrupt_chunk("The Dictionary codes are missing.");
	enc_packed_open(&d->packed, d->base + pos, d->len - pos, d->nrows,
					width, "dictionary codes");
	return pos + d->packed.nbytes;
}

static inline Datum
dict_get(RdbChunkDecoder *d, int row)
{
	uint64		code = enc_packed_get(&d->packed, row);

	if (code >= d->nentries)
		corrupt_chunk("Row %d has dictionary code %llu of %u entries.",
					  row, (unsigned long long) code, d->nentries);
	return enc_area_get(&d->area, (uint32) code);
}

void
enc_dict_decode_all(RdbChunkDecoder *d, Datum *values)
{
	int			i;

	for (i = 0; i < d->nrows; i++)
	{
		if (d->nullbits && (d->nullbits[i / 8] & (1 << (i % 8))))
			values[i] = (Datum) 0;
		else
			values[i] = dict_get(d, i);
	}
}

Datum
enc_dict_decode_row(RdbChunkDecoder *d, int row)
{
	return dict_get(d, row);
}
