/*-------------------------------------------------------------------------
 *
 * choose.c
 *	  Prepare a column chunk for encoding and choose its encoding from the
 *	  data.
 *
 * enc_input_prepare derives what every encoder needs from the rows: the
 * values with NULLs replaced by a neighbour (the previous non-NULL value,
 * or the first one for leading NULLs), their integer form for by-value
 * types, and the runs of bit-identical values.  The dictionary is built on
 * demand, and abandoned when it would hold more than half the rows.
 *
 * enc_choose computes the exact body size of every applicable encoding and
 * takes the smallest, with two preferences that trade a little space for
 * decoding speed (DESIGN.md, "One row without decoding a block"):
 *	  - RunLength and Delta serve one row in O(log n) and <= 127 steps; an
 *		O(1) encoding (Plain, BitPacked, Dictionary) within 10 % of them wins.
 *	  - Plain within 3 % of the winner wins: it decodes fastest, and
 *		byte-aligned values compress better under lz4/zstd than bit streams.
 *
 * Pure functions, no locking; everything is allocated in the caller's
 * (temporary) memory context.
 *
 * IDENTIFICATION
 *	  src/encoding/choose.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "encoding_int.h"

#define PREFER_RANDOM_ACCESS_PCT	10
#define PREFER_PLAIN_PCT			3

/*
 * enc_input_prepare: fill *in for n rows (n >= 1).  isnull may be NULL.
 */
void
enc_input_prepare(RdbEncodeInput *in, const RdbTypeInfo *type,
				  const Datum *values, const bool *isnull, int n)
{
	int			first = -1;
	int			i;

	memset(in, 0, sizeof(*in));
	in->type = type;
	in->n = n;
	in->values = values;

	for (i = 0; i < n; i++)
	{
		if (isnull && isnull[i])
			in->nnulls++;
		else if (first < 0)
			first = i;
	}
	in->isnull = in->nnulls > 0 ? isnull : NULL;

	in->filled = palloc(n * sizeof(Datum));
	for (i = 0; i < n; i++)
	{
		if (first < 0)
			in->filled[i] = (Datum) 0;
		else if (i < first)
			in->filled[i] = values[first];
		else if (in->isnull && in->isnull[i])
			in->filled[i] = in->filled[i - 1];
		else
			in->filled[i] = values[i];
	}

	if (type->typbyval)
	{
		in->ints = palloc(n * sizeof(int64));
		for (i = 0; i < n; i++)
			in->ints[i] = enc_datum_int(in->filled[i], type->typlen);
	}

	/* runs of bit-identical values */
	in->run_last = palloc(n * sizeof(uint32));
	in->run_vals = palloc(n * sizeof(Datum));
	if (first < 0)
		return;
	for (i = 0; i < n; i++)
	{
		bool		same;

		if (i == 0)
			same = false;
		else if (type->typbyval)
			same = in->ints[i] == in->ints[i - 1];
		else
			same = in->filled[i] == in->filled[i - 1] ||
				enc_datum_same(type, in->filled[i], in->filled[i - 1]);
		if (!same)
			in->run_vals[in->nruns++] = in->filled[i];
		in->run_last[in->nruns - 1] = i;
	}
}

/*
 * enc_choose: the encoding for a prepared chunk with at least one non-NULL
 * row (see the file header for the rule).  pos is the body's offset.
 */
RdbEncoding
enc_choose(RdbEncodeInput *in, Size pos)
{
	Size		size[RDB_NUM_ENCODINGS];
	bool		ok[RDB_NUM_ENCODINGS];
	int			best = -1;
	int			best_ra = -1;
	int			e;

	for (e = 0; e < RDB_NUM_ENCODINGS; e++)
	{
		ok[e] = rdb_encoding_applies(in->type, (RdbEncoding) e);
		if (!ok[e])
			continue;
		switch ((RdbEncoding) e)
		{
			case RDB_ENC_PLAIN:
				size[e] = enc_plain_size(in, pos);
				break;
			case RDB_ENC_DICT:
				ok[e] = enc_dict_build(in, Max(in->n / 2, 1));
				if (ok[e])
					size[e] = enc_dict_size(in, pos);
				break;
			case RDB_ENC_RLE:
				size[e] = enc_rle_size(in, pos);
				break;
			case RDB_ENC_DELTA:
				size[e] = enc_delta_size(in, pos);
				break;
			case RDB_ENC_BITPACK:
				size[e] = enc_bitpack_size(in, pos);
				break;
		}
		if (!ok[e])
			continue;
		size[e] += pos;			/* compare whole chunks */
		if (best < 0 || size[e] < size[best])
			best = e;
		if (rdb_encoding_random_access((RdbEncoding) e) &&
			(best_ra < 0 || size[e] < size[best_ra]))
			best_ra = e;
	}
	Assert(best >= 0 && best_ra >= 0);

	if (!rdb_encoding_random_access((RdbEncoding) best) &&
		size[best_ra] * 100 <= size[best] * (100 + PREFER_RANDOM_ACCESS_PCT))
		best = best_ra;
	if (best != RDB_ENC_PLAIN &&
		size[RDB_ENC_PLAIN] * 100 <= size[best] * (100 + PREFER_PLAIN_PCT))
		best = RDB_ENC_PLAIN;
	return (RdbEncoding) best;
}
