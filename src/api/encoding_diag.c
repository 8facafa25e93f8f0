/*-------------------------------------------------------------------------
 *
 * encoding_diag.c
 *	  Diagnostic SQL functions over the column encodings and codecs:
 *	  rustydb.encode_sample, rustydb.encode_chunk and
 *	  rustydb.decode_chunk_check.
 *
 * encode_sample encodes an array's elements as one chunk, compresses it,
 * decompresses it, decodes every row in bulk and again one by one in a
 * scrambled order (and once more from a misaligned copy of the chunk), and
 * reports the sizes and whether every value came back bit for bit
 * (datumIsEqual) and correctly aligned.  encode_chunk returns the stored
 * frame; decode_chunk_check decodes caller-supplied bytes, so tests can
 * feed the decoder truncated and garbled chunks.
 *
 * Varlena elements are first given the header heap would store them with
 * (a 1-byte header when they fit, unless the type's storage is plain), so
 * that the chunk sees what a flush of table rows would see.
 *
 * No locking; everything is allocated in the function's memory context.
 *
 * IDENTIFICATION
 *	  src/api/encoding_diag.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tupmacs.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "rustydb/compress.h"
#include "rustydb/encoding.h"

PG_FUNCTION_INFO_V1(rustydb_encode_sample);
PG_FUNCTION_INFO_V1(rustydb_encode_chunk);
PG_FUNCTION_INFO_V1(rustydb_decode_chunk_check);

typedef struct DiagInput
{
	RdbTypeInfo type;
	Datum	   *values;
	bool	   *isnull;
	int			n;
	int			nnulls;
	int64		raw_bytes;
} DiagInput;

/*
 * diag_read_array: the array's elements as a chunk would receive them from
 * table rows (see the file header).
 */
static void
diag_read_array(ArrayType *arr, DiagInput *in)
{
	Oid			elemtype = ARR_ELEMTYPE(arr);
	char		storage = get_typstorage(elemtype);
	int			i;

	get_typlenbyvalalign(elemtype, &in->type.typlen, &in->type.typbyval,
						 &in->type.typalign);
	deconstruct_array(arr, elemtype, in->type.typlen, in->type.typbyval,
					  in->type.typalign, &in->values, &in->isnull, &in->n);
	if (in->n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("values must hold at least one element")));

	in->nnulls = 0;
	in->raw_bytes = 0;
	for (i = 0; i < in->n; i++)
	{
		Pointer		p;

		if (in->isnull[i])
		{
			in->nnulls++;
			continue;
		}
		p = DatumGetPointer(in->values[i]);
		if (in->type.typlen == -1 && storage != TYPSTORAGE_PLAIN &&
			VARATT_CAN_MAKE_SHORT(p))
		{
			Size		sz = VARATT_CONVERTED_SHORT_SIZE(p);
			char	   *s = palloc(sz);

			SET_VARSIZE_SHORT(s, sz);
			memcpy(s + 1, VARDATA(p), sz - 1);
			in->values[i] = PointerGetDatum(s);
		}
		in->raw_bytes += rdb_datum_raw_size(&in->type, in->values[i]);
	}
}

/* Is a decoded value the input value, bit for bit, and aligned? */
static bool
diag_same(const RdbTypeInfo *type, Datum want, bool want_null,
		  Datum got, bool got_null)
{
	Pointer		p;

	if (want_null || got_null)
		return want_null == got_null;
	if (!datumIsEqual(want, got, type->typbyval, type->typlen))
		return false;
	if (type->typbyval)
		return true;
	p = DatumGetPointer(got);
	if (type->typlen == -1 && VARATT_IS_1B(p))
		return true;
	return att_align_nominal((uintptr_t) p, type->typalign) == (uintptr_t) p;
}

/* Decode every row of a chunk in bulk and compare with want[] */
static bool
diag_check_all(const DiagInput *in, const char *data, Size len,
			   RdbEncoding enc)
{
	RdbChunkDecoder *d = rdb_chunk_decoder_begin(&in->type, data, len);
	Datum	   *vals = palloc(in->n * sizeof(Datum));
	bool	   *nulls = palloc(in->n * sizeof(bool));
	bool		ok;
	int			i;

	ok = rdb_chunk_nrows(d) == in->n && rdb_chunk_nnulls(d) == in->nnulls &&
		rdb_chunk_encoding(d) == enc;
	rdb_chunk_decode_all(d, vals, nulls);
	for (i = 0; ok && i < in->n; i++)
		ok = diag_same(&in->type, in->values[i], in->isnull[i], vals[i], nulls[i]);

	/* every row by random access, in a scrambled order */
	if (ok)
	{
		int			step = 40503;	/* a prime */
		int			row = 0;

		if (in->n % step == 0)
			step = 1;
		for (i = 0; ok && i < in->n; i++)
		{
			bool		isnull;
			Datum		v = rdb_chunk_decode_row(d, row, &isnull);

			ok = diag_same(&in->type, in->values[row], in->isnull[row], v, isnull);
			row = (int) (((int64) row + step) % in->n);
		}
	}
	rdb_chunk_decoder_end(d);
	pfree(vals);
	pfree(nulls);
	return ok;
}

/*
 * rustydb.encode_sample(elements anyarray, encoding text, compression text)
 * RETURNS TABLE (encoding text, nrows int, nnulls int, raw_bytes int,
 *				  encoded_bytes int, stored_bytes int, roundtrip boolean)
 */
Datum
rustydb_encode_sample(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);
	int			force = rdb_encoding_from_name(text_to_cstring(PG_GETARG_TEXT_PP(1)), true);
	RdbCodec	codec = rdb_codec_from_name(text_to_cstring(PG_GETARG_TEXT_PP(2)));
	DiagInput	in;
	StringInfoData chunk;
	StringInfoData frame;
	StringInfoData raw;
	RdbEncoding enc;
	char	   *shifted;
	bool		ok;
	Datum		values[7];
	bool		nulls[7] = {0};

	InitMaterializedSRF(fcinfo, 0);
	diag_read_array(arr, &in);

	initStringInfo(&chunk);
	enc = rdb_encode_chunk(&in.type, in.values, in.isnull, in.n, force, &chunk);
	initStringInfo(&frame);
	rdb_compress(codec, 0, chunk.data, chunk.len, &frame);
	initStringInfo(&raw);
	rdb_decompress(frame.data, frame.len, &raw);

	ok = raw.len == chunk.len && memcmp(raw.data, chunk.data, raw.len) == 0;
	ok = ok && diag_check_all(&in, raw.data, raw.len, enc);

	/* and from a copy that is not MAXALIGNed (the decoder must copy it) */
	shifted = palloc(raw.len + 1);
	memcpy(shifted + 1, raw.data, raw.len);
	ok = ok && diag_check_all(&in, shifted + 1, raw.len, enc);

	values[0] = CStringGetTextDatum(rdb_encoding_name(enc));
	values[1] = Int32GetDatum(in.n);
	values[2] = Int32GetDatum(in.nnulls);
	values[3] = Int32GetDatum((int32) Min(in.raw_bytes, PG_INT32_MAX));
	values[4] = Int32GetDatum(chunk.len);
	values[5] = Int32GetDatum(frame.len);
	values[6] = BoolGetDatum(ok);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}

/*
 * rustydb.encode_chunk(elements anyarray, encoding text, compression text)
 * RETURNS bytea: the compressed frame of the encoded chunk.
 */
Datum
rustydb_encode_chunk(PG_FUNCTION_ARGS)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);
	int			force = rdb_encoding_from_name(text_to_cstring(PG_GETARG_TEXT_PP(1)), true);
	RdbCodec	codec = rdb_codec_from_name(text_to_cstring(PG_GETARG_TEXT_PP(2)));
	DiagInput	in;
	StringInfoData chunk;
	StringInfoData frame;
	bytea	   *result;

	diag_read_array(arr, &in);
	initStringInfo(&chunk);
	rdb_encode_chunk(&in.type, in.values, in.isnull, in.n, force, &chunk);
	initStringInfo(&frame);
	rdb_compress(codec, 0, chunk.data, chunk.len, &frame);

	result = palloc(VARHDRSZ + frame.len);
	SET_VARSIZE(result, VARHDRSZ + frame.len);
	memcpy(VARDATA(result), frame.data, frame.len);
	PG_RETURN_BYTEA_P(result);
}

/*
 * rustydb.decode_chunk_check(chunk bytea, type regtype) RETURNS int:
 * decompress and decode a frame for a column of that type, in bulk and
 * row by row; returns the number of rows.  Malformed input raises 22023
 * (unknown names) or XX001 (ERRCODE_DATA_CORRUPTED).
 */
Datum
rustydb_decode_chunk_check(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	Oid			typid = PG_GETARG_OID(1);
	RdbTypeInfo type;
	StringInfoData raw;
	RdbChunkDecoder *d;
	Datum	   *vals;
	bool	   *nulls;
	int			n;
	int			i;

	if (!SearchSysCacheExists1(TYPEOID, ObjectIdGetDatum(typid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("type with OID %u does not exist", typid)));
	get_typlenbyvalalign(typid, &type.typlen, &type.typbyval, &type.typalign);
	initStringInfo(&raw);
	rdb_decompress(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b), &raw);

	d = rdb_chunk_decoder_begin(&type, raw.data, raw.len);
	n = rdb_chunk_nrows(d);
	vals = palloc(n * sizeof(Datum));
	nulls = palloc(n * sizeof(bool));
	rdb_chunk_decode_all(d, vals, nulls);
	for (i = n - 1; i >= 0; i--)
	{
		bool		isnull;
		Datum		v = rdb_chunk_decode_row(d, i, &isnull);

		if (!diag_same(&type, vals[i], nulls[i], v, isnull))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("row %d decodes differently alone and in bulk", i)));
	}
	rdb_chunk_decoder_end(d);
	PG_RETURN_INT32(n);
}
