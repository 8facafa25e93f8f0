/*-------------------------------------------------------------------------
 *
 * plain.c
 *	  Value areas and the Plain encoding.
 *
 * A value area stores `count` values of one type one after the other so
 * that value i is found in O(1):
 *
 *	  by-value (typlen 1, 2, 4, 8)	count * typlen bytes, little-endian
 *	  fixed-length by-reference		count * stride bytes, stride =
 *									typlen aligned to typalign, zero padded
 *	  varlena / cstring				uint32 offsets[count + 1] (from the
 *									first value), zero padding to 8, then the
 *									values; a 4-byte-header varlena starts at
 *									an offset aligned to typalign, 1-byte
 *									headers and cstrings are not aligned
 *
 * Plain is one value area over all rows: a NULL row holds a copy of its
 * neighbour (fixed-length types) or an empty slot (varlena, cstring).
 * Dictionary and RunLength keep their distinct values in a value area too.
 *
 * Varlena values are stored exactly as given (1-byte or 4-byte header,
 * inline-compressed or not).  An on-disk external TOAST pointer
 * (VARATT_IS_EXTERNAL_ONDISK: 1-byte external header, tag VARTAG_ONDISK,
 * 16 bytes of varatt_external) is an ordinary 18-byte unaligned value here:
 * stripes keep a row's TOAST pointers as the row had them (stripe.h).
 * In-memory external values (indirect, expanded) are refused: they point
 * into backend memory and mean nothing once stored.
 *
 * Pure functions, no locking.  Opening an area validates every offset and
 * varlena header against the chunk length, so reading a value afterwards
 * cannot leave the chunk.
 *
 * IDENTIFICATION
 *	  src/encoding/plain.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tupmacs.h"
#include "common/hashfn.h"

#include "encoding_int.h"

/* ----------------------------------------------------------------
 * Value helpers
 * ----------------------------------------------------------------
 */

/* Bytes of a by-reference value as stored (no alignment padding) */
static inline Size
area_value_size(const RdbTypeInfo *type, Datum d)
{
	Pointer		p = DatumGetPointer(d);

	if (type->typlen > 0)
		return type->typlen;
	if (type->typlen == -1)
		return VARSIZE_ANY(p);
	return strlen(p) + 1;
}

/*
 * rdb_datum_raw_size: bytes a value occupies as PostgreSQL stores it,
 * without alignment padding (what "raw size" means in the diagnostics).
 */
Size
rdb_datum_raw_size(const RdbTypeInfo *type, Datum value)
{
	if (type->typbyval)
		return type->typlen;
	return area_value_size(type, value);
}

/*
 * enc_datum_same: are two values bit-for-bit the same?  (Not the type's
 * equality: numeric 1.0 and 1.00 differ here, as they must to round-trip.)
 */
bool
enc_datum_same(const RdbTypeInfo *type, Datum a, Datum b)
{
	Size		la,
				lb;

	if (type->typbyval)
		return enc_datum_int(a, type->typlen) == enc_datum_int(b, type->typlen);
	if (a == b)
		return true;
	la = area_value_size(type, a);
	lb = area_value_size(type, b);
	return la == lb && memcmp(DatumGetPointer(a), DatumGetPointer(b), la) == 0;
}

/* enc_datum_hash: hash of a value's bytes, consistent with enc_datum_same */
uint32
enc_datum_hash(const RdbTypeInfo *type, Datum d)
{
	if (type->typbyval)
	{
		int64		v = enc_datum_int(d, type->typlen);

		return hash_bytes_extended((const unsigned char *) &v, sizeof(v), 0);
	}
	return hash_bytes((const unsigned char *) DatumGetPointer(d),
					  area_value_size(type, d));
}

/* Refuse what the caller promised never to pass */
static inline void
area_check_input(const RdbTypeInfo *type, Pointer p)
{
	if (type->typlen == -1 && VARATT_IS_EXTERNAL(p) &&
		!VARATT_IS_EXTERNAL_ONDISK(p))
		elog(ERROR, "rustydb encoding: in-memory external (indirect or expanded) varlena values must be flattened before encoding");
}

/* ----------------------------------------------------------------
 * Writing
 * ----------------------------------------------------------------
 */

/*
 * enc_area_size: the bytes enc_area_write would append (from an 8-aligned
 * position).  isnull may be NULL; it only matters for varlena/cstring.
 */
Size
enc_area_size(const RdbTypeInfo *type, const Datum *vals,
			  const bool *isnull, uint32 count)
{
	Size		cur = 0;
	uint32		i;

	if (type->typbyval)
		return (Size) count * type->typlen;
	if (type->typlen > 0)
		return (Size) count * att_align_nominal(type->typlen, type->typalign);

	for (i = 0; i < count; i++)
	{
		Pointer		p;

		if (isnull && isnull[i])
			continue;
		p = DatumGetPointer(vals[i]);
		if (type->typlen == -1 && !VARATT_IS_1B(p))
			cur = att_align_nominal(cur, type->typalign);
		cur += area_value_size(type, vals[i]);
	}
	return ENC_ALIGN((Size) (count + 1) * sizeof(uint32)) + cur;
}

/*
 * enc_area_write: append a value area for vals[0 .. count) to out.
 * (out->len - start) must be a multiple of RDB_CHUNK_ALIGN on entry.
 */
void
enc_area_write(StringInfo out, int start, const RdbTypeInfo *type,
			   const Datum *vals, const bool *isnull, uint32 count)
{
	uint32		i;

	Assert((out->len - start) % RDB_CHUNK_ALIGN == 0);

	if (type->typbyval)
	{
		for (i = 0; i < count; i++)
		{
			int64		v = enc_datum_int(vals[i], type->typlen);

			switch (type->typlen)
			{
				case 1:
					appendStringInfoChar(out, (char) v);
					break;
				case 2:
					enc_put_u16(out, (uint16) v);
					break;
				case 4:
					enc_put_u32(out, (uint32) v);
					break;
				default:
					enc_put_u64(out, (uint64) v);
					break;
			}
		}
	}
	else if (type->typlen > 0)
	{
		int			stride = att_align_nominal(type->typlen, type->typalign);

		for (i = 0; i < count; i++)
		{
			int			pad;

			appendBinaryStringInfo(out, DatumGetPointer(vals[i]), type->typlen);
			for (pad = type->typlen; pad < stride; pad++)
				appendStringInfoChar(out, '\0');
		}
	}
	else
	{
		uint32	   *offs = palloc((count + 1) * sizeof(uint32));
		int			offs_pos = out->len;
		int			vstart PG_USED_FOR_ASSERTS_ONLY;
		uint32		cur = 0;

		/* reserve the offsets, fill them in at the end */
		for (i = 0; i <= count; i++)
			enc_put_u32(out, 0);
		enc_pad(out, start);
		vstart = out->len;

		for (i = 0; i < count; i++)
		{
			Pointer		p;
			Size		sz;

			if (isnull && isnull[i])
				continue;		/* its empty slot is placed below */
			p = DatumGetPointer(vals[i]);
			area_check_input(type, p);
			if (type->typlen == -1 && !VARATT_IS_1B(p))
			{
				uint32		aligned = att_align_nominal(cur, type->typalign);

				while (cur < aligned)
				{
					appendStringInfoChar(out, '\0');
					cur++;
				}
			}
			sz = area_value_size(type, vals[i]);
			offs[i] = cur;
			appendBinaryStringInfo(out, p, sz);
			cur += sz;
		}
		offs[count] = cur;
		Assert(out->len - vstart == cur);

		/*
		 * A NULL row's empty slot starts where the next value starts, so
		 * alignment padding stays in the slot of the value before it.
		 */
		for (i = count; i-- > 0;)
			if (isnull && isnull[i])
				offs[i] = offs[i + 1];

		for (i = 0; i <= count; i++)
		{
			uint32		o = offs[i];

#ifdef WORDS_BIGENDIAN
			o = pg_bswap32(o);
#endif
			memcpy(out->data + offs_pos + i * sizeof(uint32), &o, sizeof(o));
		}
		pfree(offs);
	}
}

/* ----------------------------------------------------------------
 * Reading
 * ----------------------------------------------------------------
 */

/*
 * enc_area_open: validate the value area of `count` values at base + pos
 * (pos a multiple of 8, the chunk len bytes long) and set up *a.  nullbits,
 * when given, marks rows that must have an empty varlena/cstring slot
 * (Plain); otherwise every slot must hold a value.  Returns the position
 * just after the area.  Malformed input raises ERRCODE_DATA_CORRUPTED.
 */
Size
enc_area_open(RdbValueArea *a, const RdbTypeInfo *type, const char *base,
			  Size pos, Size len, uint32 count, const uint8 *nullbits)
{
	uint64		need;
	Size		vstart;
	uint32		total;
	uint32		i;

	a->type = type;
	a->base = base;
	a->count = count;
	a->offs = NULL;
	a->stride = 0;

	if (pos > len || pos % RDB_CHUNK_ALIGN != 0)
		corrupt_chunk("Value area at offset %zu does not fit in a chunk of %zu bytes.",
					  pos, len);

	if (type->typbyval || type->typlen > 0)
	{
		a->stride = type->typbyval ? type->typlen :
			att_align_nominal(type->typlen, type->typalign);
		need = (uint64) count * a->stride;
		if (need > len - pos)
			corrupt_chunk("Value area of %u values needs %llu bytes, %zu are left.",
						  count, (unsigned long long) need, len - pos);
		a->vals = base + pos;
		return pos + need;
	}

	need = (uint64) (count + 1) * sizeof(uint32);
	if (need > len - pos)
		corrupt_chunk("Offset array of %u values needs %llu bytes, %zu are left.",
					  count, (unsigned long long) need, len - pos);
	a->offs = base + pos;
	vstart = ENC_ALIGN(pos + need);
	if (vstart > len)
		corrupt_chunk("Value area at offset %zu does not fit in a chunk of %zu bytes.",
					  vstart, len);
	a->vals = base + vstart;
	total = enc_get_u32(a->offs + count * sizeof(uint32));
	if (total > len - vstart)
		corrupt_chunk("Value area of %u bytes does not fit in the %zu bytes left.",
					  total, len - vstart);

	for (i = 0; i < count; i++)
	{
		uint32		o = enc_get_u32(a->offs + i * sizeof(uint32));
		uint32		e = enc_get_u32(a->offs + (i + 1) * sizeof(uint32));
		uint32		slot;
		bool		null_row = nullbits && (nullbits[i / 8] & (1 << (i % 8)));
		const char *p;

		if (o > e || e > total)
			corrupt_chunk("Offset %u of value %u is out of order or out of range.", o, i);
		slot = e - o;
		if (slot == 0)
		{
			if (!null_row)
				corrupt_chunk("Value %u is empty.", i);
			continue;
		}
		if (null_row)
			corrupt_chunk("NULL row %u has a value.", i);

		p = a->vals + o;
		if (type->typlen == -2)
		{
			if (memchr(p, '\0', slot) == NULL)
				corrupt_chunk("String %u is not terminated.", i);
			continue;
		}
		if (VARATT_IS_1B_E(p))
		{
			/* only on-disk TOAST pointers are ever stored (area_check_input) */
			if (slot < VARHDRSZ_EXTERNAL)
				corrupt_chunk("Value %u has a truncated external header.", i);
			if (VARTAG_EXTERNAL(p) != VARTAG_ONDISK)
				corrupt_chunk("Value %u is an external value with tag %u, not an on-disk TOAST pointer.",
							  i, (uint32) VARTAG_EXTERNAL(p));
			if (VARSIZE_EXTERNAL(p) > slot)
				corrupt_chunk("Value %u of %u bytes overruns its slot of %u bytes.",
							  i, (uint32) VARSIZE_EXTERNAL(p), slot);
		}
		else if (VARATT_IS_1B(p))
		{
			if (VARSIZE_1B(p) > slot)
				corrupt_chunk("Value %u of %u bytes overruns its slot of %u bytes.",
							  i, (uint32) VARSIZE_1B(p), slot);
		}
		else
		{
			if (slot < VARHDRSZ)
				corrupt_chunk("Value %u has a truncated header.", i);
			if (VARSIZE_4B(p) < VARHDRSZ || VARSIZE_4B(p) > slot)
				corrupt_chunk("Value %u of %u bytes overruns its slot of %u bytes.",
							  i, (uint32) VARSIZE_4B(p), slot);
			if (att_align_nominal(o, type->typalign) != o)
				corrupt_chunk("Value %u at offset %u is not aligned.", i, o);
		}
	}
	return vstart + total;
}

/* enc_area_get: value i of a validated area (no allocation) */
Datum
enc_area_get(const RdbValueArea *a, uint32 i)
{
	const RdbTypeInfo *type = a->type;

	Assert(i < a->count);
	if (type->typbyval)
		return enc_int_datum(enc_get_int(a->vals + (Size) i * a->stride,
										 type->typlen), type->typlen);
	if (type->typlen > 0)
		return PointerGetDatum(a->vals + (Size) i * a->stride);
	return PointerGetDatum(a->vals + enc_get_u32(a->offs + i * sizeof(uint32)));
}

/* ----------------------------------------------------------------
 * The Plain encoding: one value area over all rows
 * ----------------------------------------------------------------
 */
Size
enc_plain_size(RdbEncodeInput *in, Size pos)
{
	return enc_area_size(in->type, in->filled, in->isnull, in->n);
}

void
enc_plain_write(RdbEncodeInput *in, StringInfo out, int start)
{
	enc_area_write(out, start, in->type, in->filled, in->isnull, in->n);
}

Size
enc_plain_open(RdbChunkDecoder *d, Size pos)
{
	return enc_area_open(&d->area, &d->type, d->base, pos, d->len, d->nrows,
						 d->nullbits);
}

void
enc_plain_decode_all(RdbChunkDecoder *d, Datum *values)
{
	int			i;

	for (i = 0; i < d->nrows; i++)
		values[i] = enc_area_get(&d->area, i);
}

Datum
enc_plain_decode_row(RdbChunkDecoder *d, int row)
{
	return enc_area_get(&d->area, row);
}
