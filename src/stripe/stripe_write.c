/*-------------------------------------------------------------------------
 *
 * stripe_write.c
 *	  Write a set of rows as one columnar stripe appended to the relation.
 *
 * rdb_stripe_write deforms the rows, cuts them into chunk groups of
 * opts->chunk_group_rows rows, encodes every column of every chunk group
 * (src/encoding, automatic choice), compresses it (src/compress), checksums
 * the stored bytes, takes every chunk's min and max value (the bounds),
 * and then lays the stripe's byte stream
 *
 *	  RdbStripeHeader | RdbStripeColumn[ncolumns] |
 *	  RdbChunkRef[nchunkgroups * ncolumns] | bounds section |
 *	  [row order directory] | chunks ... | [row order chunks ...]
 *
 * (the row order, format version 3, only when a sort key moved rows: see
 * "Row order" in stripe.h)
 * over pages of the free extents compaction gave back and/or freshly
 * appended pages (mapped stripes: where a stripe lives, in
 * src/stripe/README.md; format: stripe.h).  All encoding and compression
 * happens before any page is touched, so the relation extension lock, when
 * new pages are needed, is held only while the pages are added, filled and
 * WAL-logged.
 *
 * Locking: the relation extension lock (not for local relations) is held,
 * when the stripe needs new blocks, from its first page to its last, so
 * that its run of new blocks is consecutive (the map, on the first page,
 * names it before it is added); every page is exclusively locked (RBM_ZERO_AND_LOCK)
 * while it is filled and logged, one at a time.  No buffer lock is held
 * while waiting for the extension lock.  Stripe pages are never entered in
 * the free space map, so no inserter can pick one.
 *
 * Crash safety: each page is filled and logged whole (log_newpage_buffer,
 * a full-page image) in its own critical section.  A crash in the middle
 * leaves a prefix of the stripe's pages; nothing refers to them (the caller
 * writes stubs only after rdb_stripe_write returns), and a reader opening a
 * stripe checks every page it reads.  Relations that are not WAL-logged
 * (temp, unlogged) log nothing.
 *
 * Memory: the deformed values of one chunk group live in a context reset
 * per chunk group; the stored chunks (compressed frames) of the whole
 * stripe are kept, one palloc each, in a context deleted on return, so the
 * stripe is never assembled in one allocation (a stripe may exceed 1 GB).
 *
 * IDENTIFICATION
 *	  src/stripe/stripe_write.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/htup_details.h"
#include "access/nbtree.h"
#include "access/xloginsert.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "storage/lmgr.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/sortsupport.h"
#include "utils/typcache.h"

#include "rustydb/l0.h"
#include "rustydb/events.h"
#include "rustydb/gendir.h"
#include "rustydb/stripe.h"
#include "stripe_int.h"

/* one stored chunk, until it is copied into pages */
typedef struct StripeChunk
{
	char	   *data;			/* compression frame, NULL for ALL_NULL */
	uint32		len;
	uint64		raw;			/* bytes of the values before encoding */
} StripeChunk;

/* how the values of one column are ordered for its bounds */
typedef struct StripeColumnOrder
{
	bool		keep;			/* false: no bounds for this column */
	Oid			collation;
	Oid			cmp_type;
	SortSupportData ssup;		/* the default btree opclass's comparator */
} StripeColumnOrder;

/* a chunk's bounds, flat (see RdbChunkBounds), until they are laid out */
typedef struct StripeBound
{
	char	   *min;			/* NULL: none */
	char	   *max;
	uint16		min_len;
	uint16		max_len;
	uint32		value_bytes;	/* RdbChunkBounds.value_bytes */
} StripeBound;

/* format version flush writes: a developer setting (guc.c) */
int			rdb_stripe_format_version = RDB_STRIPE_VERSION;

/* cursor over the pages being filled */
typedef struct StripePageWriter
{
	Relation	rel;
	BlockNumber first_block;
	uint32		nblocks;
	uint32		pageno;			/* pages finished so far */
	Buffer		buf;			/* current page, exclusively locked */
	Size		used;			/* payload bytes in the current page */
	bool		need_wal;
	uint32		nreuse;			/* pages 0 .. nreuse - 1 have their block:
								 * all of them once new blocks are added */
	RdbStripeMap map;			/* where every page goes */
} StripePageWriter;

/* ----------------------------------------------------------------
 * Pages
 * ----------------------------------------------------------------
 */

/*
 * stripe_page_finish
 *		Set pd_lower of the current page to the end of its payload, mark it
 *		dirty and WAL-log it whole, in a critical section; release it.
 */
static void
stripe_page_finish(StripePageWriter *w)
{
	Page		page = BufferGetPage(w->buf);

	START_CRIT_SECTION();
	((PageHeader) page)->pd_lower = SizeOfPageHeaderData + w->used;
	MarkBufferDirty(w->buf);
	if (w->need_wal)
		log_newpage_buffer(w->buf, true);
	END_CRIT_SECTION();

	/* the page is complete and logged: PageFlushed with its payload bytes */
	rdb_emit_page_flushed(w->rel, BufferGetBlockNumber(w->buf),
						  SizeOfPageHeaderData + w->used);
	UnlockReleaseBuffer(w->buf);
	w->buf = InvalidBuffer;
	w->pageno++;
}

/* runs of a stripe's pages in block order (qsort) */
static int
stripe_run_cmp(const void *a, const void *b)
{
	BlockNumber x = ((const RdbFreeExtent *) a)->first;
	BlockNumber y = ((const RdbFreeExtent *) b)->first;

	return x < y ? -1 : x > y ? 1 : 0;
}

/*
 * stripe_seal
 *		Every page of the stripe is written and logged: set the header's
 *		magic on its first page (logged as a whole page again).  Until then
 *		readers that walk the file take the stripe for one being written
 *		(rdb_stripe_read_header_sealed); nothing refers to it before this
 *		returns, so a crash earlier leaves pages compaction gives back.
 */
static void
stripe_seal(StripePageWriter *w)
{
	Buffer		buf;
	Page		page;
	uint32		magic = RDB_STRIPE_MAGIC;

	buf = ReadBufferExtended(w->rel, MAIN_FORKNUM, w->first_block, RBM_NORMAL, NULL);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	if (!rdb_stripe_page_is_stripe(page) ||
		RdbPageGetOpaque(page)->generation != w->first_block)
		elog(ERROR, "rustydb stripe of relation \"%s\": block %u is not its first page",
			 RelationGetRelationName(w->rel), w->first_block);
	START_CRIT_SECTION();
	memcpy(page + SizeOfPageHeaderData + offsetof(RdbStripeHeader, magic),
		   &magic, sizeof(magic));
	MarkBufferDirty(buf);
	if (w->need_wal)
		log_newpage_buffer(buf, true);
	END_CRIT_SECTION();
	UnlockReleaseBuffer(buf);
}

/*
 * stripe_page_init
 *		An empty stripe page of the stripe at first_block (InvalidBlockNumber:
 *		of no stripe yet, a block added for a stripe still being written).
 */
static void
stripe_page_init(Page page, BlockNumber first_block)
{
	rdb_page_init_special(page, RDB_PAGE_KIND_STRIPE, first_block);
}

/*
 * stripe_page_next
 *		Append the next page of the stripe: the next block of its map (a
 *		block of the free extents or FREE pages it took, or one added for
 *		it as an empty stripe page), zeroed and exclusively locked,
 *		initialised as a stripe page.
 */
static void
stripe_page_next(StripePageWriter *w)
{
	Buffer		buf;
	BlockNumber expect = rdb_stripe_map_block(&w->map, w->pageno);

	if (!BlockNumberIsValid(expect))
		elog(ERROR, "rustydb stripe of relation \"%s\": page %u lies past its %u pages",
			 RelationGetRelationName(w->rel), w->pageno, w->nblocks);
	/* a free extent's old contents are never read: zeroed, then rewritten */
	Assert(w->pageno < w->nreuse);
	buf = ReadBufferExtended(w->rel, MAIN_FORKNUM, expect, RBM_ZERO_AND_LOCK,
							 NULL);

	stripe_page_init(BufferGetPage(buf), w->first_block);
	w->buf = buf;
	w->used = 0;
}

/*
 * stripe_put
 *		Append len bytes to the stream, starting new pages as they fill.
 */
static void
stripe_put(StripePageWriter *w, const char *data, Size len)
{
	while (len > 0)
	{
		Size		n;

		if (w->buf == InvalidBuffer)
			stripe_page_next(w);
		n = Min(len, RDB_STRIPE_PAGE_PAYLOAD - w->used);
		memcpy(BufferGetPage(w->buf) + SizeOfPageHeaderData + w->used, data, n);
		w->used += n;
		data += n;
		len -= n;
		if (w->used == RDB_STRIPE_PAGE_PAYLOAD)
			stripe_page_finish(w);
	}
}

/* ----------------------------------------------------------------
 * Encoding
 * ----------------------------------------------------------------
 */

/* ----------------------------------------------------------------
 * Bounds
 * ----------------------------------------------------------------
 */

/*
 * rdb_stripe_type_orderable
 *		Does a stripe keep bounds for (and can a sort key order by) values of
 *		type typid (a domain counts as its base type)?  It needs a default
 *		btree operator class with sort support.  Types whose opclass has
 *		none (jsonb, arrays, ranges...) are left out: their comparison
 *		functions detoast and copy both arguments on every call, which made
 *		a 300,000-row flush of the benchmark's events 75 % slower for the
 *		jsonb column alone, and range quals on such columns (the only ones
 *		bounds serve) are rare.
 */
bool
rdb_stripe_type_orderable(Oid typid)
{
	TypeCacheEntry *tc;

	tc = lookup_type_cache(getBaseType(typid),
						   TYPECACHE_CMP_PROC | TYPECACHE_LT_OPR |
						   TYPECACHE_BTREE_OPFAMILY);
	if (!OidIsValid(tc->cmp_proc) || !OidIsValid(tc->lt_opr))
		return false;
	return OidIsValid(get_opfamily_proc(tc->btree_opf, tc->btree_opintype,
										tc->btree_opintype,
										BTSORTSUPPORT_PROC));
}

/*
 * stripe_column_order
 *		How column att's values are ordered for its bounds: the comparison
 *		of the default btree opclass of its type (the base type of a domain,
 *		whose values are the base type's), under its collation.  None for
 *		dropped columns and types without such an opclass.
 *
 * The comparison is called through sort support (set up from the
 * opclass's "<" operator, which sorts exactly as its comparison function):
 * for integers, timestamps, text, numeric and uuid that is a direct call
 * of a fast comparator instead of an fmgr call per value; other types get
 * the comparison function through the fmgr shim.  Bounds are a sizeable
 * part of flush's time all the same (src/lsm/README.md: mostly jsonb,
 * whose comparison walks both documents).  Sort support state lives in
 * the current context (the stripe's).
 */
static void
stripe_column_order(Form_pg_attribute att, StripeColumnOrder *order)
{
	Oid			base;
	TypeCacheEntry *tc;

	memset(order, 0, sizeof(StripeColumnOrder));
	order->collation = att->attcollation;
	if (att->attisdropped || att->attlen == -2)
		return;
	base = getBaseType(att->atttypid);
	if (!rdb_stripe_type_orderable(base))
		return;
	tc = lookup_type_cache(base, TYPECACHE_LT_OPR);
	order->ssup.ssup_cxt = CurrentMemoryContext;
	order->ssup.ssup_collation = att->attcollation;
	order->ssup.ssup_nulls_first = false;
	order->ssup.abbreviate = false;
	PrepareSortSupportFromOrderingOp(tc->lt_opr, &order->ssup);
	order->keep = true;
	order->cmp_type = base;
}

/*
 * stripe_bound_value
 *		A value as the comparison function should see it: varlena values
 *		held as external TOAST pointers or inline-compressed are fetched and
 *		decompressed (palloc'd: *owned set); others are used in place.
 */
static Datum
stripe_bound_value(Form_pg_attribute att, const StripeColumnOrder *order,
				   Datum v, bool *owned)
{
	*owned = false;
	if (att->attlen == -1)
	{
		struct varlena *p = (struct varlena *) DatumGetPointer(v);

		if (VARATT_IS_EXTERNAL(p) || VARATT_IS_COMPRESSED(p))
		{
			*owned = true;
			return PointerGetDatum(detoast_attr(p));
		}
	}
	return v;
}

/*
 * stripe_bound_flatten
 *		A bound value as the bounds data stores it (see stripe.h), palloc'd
 *		in cxt; NULL if it takes more than RDB_STRIPE_BOUND_MAX_LEN bytes.
 */
static char *
stripe_bound_flatten(Form_pg_attribute att, Datum v, uint16 *len,
					 MemoryContext cxt)
{
	char	   *out;

	if (att->attlen == -1)
	{
		Size		datalen = VARSIZE_ANY_EXHDR(DatumGetPointer(v));

		if (datalen + VARHDRSZ > RDB_STRIPE_BOUND_MAX_LEN)
			return NULL;
		out = MemoryContextAlloc(cxt, datalen + VARHDRSZ);
		SET_VARSIZE(out, datalen + VARHDRSZ);
		memcpy(VARDATA(out), VARDATA_ANY(DatumGetPointer(v)), datalen);
		*len = (uint16) (datalen + VARHDRSZ);
		return out;
	}
	Assert(att->attlen > 0);
	if (att->attlen > RDB_STRIPE_BOUND_MAX_LEN)
		return NULL;
	out = MemoryContextAllocZero(cxt, att->attlen);
	if (att->attbyval)
		store_att_byval(out, v, att->attlen);
	else
		memcpy(out, DatumGetPointer(v), att->attlen);
	*len = (uint16) att->attlen;
	return out;
}

/*
 * stripe_chunk_bounds
 *		The smallest and largest non-NULL value of a chunk's n values, flat
 *		in cxt, into *bound (none if they are too large).  Detoasted values
 *		are freed as soon as they are neither bound, so a chunk of large
 *		TOASTed values never has more than three of them in memory.
 */
static void
stripe_chunk_bounds(Form_pg_attribute att, StripeColumnOrder *order,
					Datum *values, bool *isnull, int n, StripeBound *bound,
					MemoryContext cxt)
{
	Datum		min = (Datum) 0;
	Datum		max = (Datum) 0;
	bool		min_owned = false;
	bool		max_owned = false;
	bool		have = false;
	int			i;

	memset(bound, 0, sizeof(StripeBound));
	if (!order->keep)
		return;

	for (i = 0; i < n; i++)
	{
		Datum		v;
		bool		owned;

		if (isnull[i])
			continue;

		/*
		 * A value stored out of line or compressed that is larger than a
		 * bound may be: fetching and decompressing every such value only to
		 * find that it is the min or max (and the chunk then keeps no
		 * bounds) is what a flush of TOASTed text must not pay; such a
		 * chunk keeps no bounds.
		 */
		if (att->attlen == -1 &&
			(VARATT_IS_EXTERNAL(DatumGetPointer(values[i])) ||
			 VARATT_IS_COMPRESSED(DatumGetPointer(values[i]))) &&
			toast_raw_datum_size(values[i]) > RDB_STRIPE_BOUND_MAX_LEN)
		{
			if (min_owned)
				pfree(DatumGetPointer(min));
			if (max_owned && max != min)
				pfree(DatumGetPointer(max));
			return;
		}
		v = stripe_bound_value(att, order, values[i], &owned);
		if (owned)
			CHECK_FOR_INTERRUPTS();
		if (!have)
		{
			min = max = v;
			min_owned = owned;
			have = true;
			continue;
		}
		if (ApplySortComparator(v, false, min, false, &order->ssup) < 0)
		{
			if (min_owned && min != max)
				pfree(DatumGetPointer(min));
			/* min == max: max keeps the memory, and its ownership */
			if (min_owned && min == max)
				max_owned = true;
			min = v;
			min_owned = owned;
		}
		else if (ApplySortComparator(v, false, max, false, &order->ssup) > 0)
		{
			if (max_owned && max != min)
				pfree(DatumGetPointer(max));
			if (max_owned && max == min)
				min_owned = true;
			max = v;
			max_owned = owned;
		}
		else if (owned)
			pfree(DatumGetPointer(v));
	}
	if (!have)
		return;

	bound->min = stripe_bound_flatten(att, min, &bound->min_len, cxt);
	bound->max = stripe_bound_flatten(att, max, &bound->max_len, cxt);
	if (bound->min == NULL || bound->max == NULL)
	{
		if (bound->min)
			pfree(bound->min);
		if (bound->max)
			pfree(bound->max);
		memset(bound, 0, sizeof(StripeBound));
	}
	if (min_owned)
		pfree(DatumGetPointer(min));
	if (max_owned && max != min)
		pfree(DatumGetPointer(max));
}

/*
 * stripe_store_chunk
 *		Encode n values (automatic encoding), compress them with the
 *		stripe's codec and checksum the frame: fill ref's encoding, codec,
 *		lengths and checksum, and chunk's data (the frame, palloc'd in cxt)
 *		and len.  enc and frame are scratch buffers.
 */
static void
stripe_store_chunk(const RdbTypeInfo *type, const Datum *values,
				   const bool *isnull, int n, const RdbStripeOptions *opts,
				   StringInfo enc, StringInfo frame, RdbChunkRef *ref,
				   StripeChunk *chunk, MemoryContext cxt)
{
	resetStringInfo(enc);
	ref->encoding = (uint8) rdb_encode_chunk(type, values, isnull, n, -1, enc);
	resetStringInfo(frame);
	ref->codec = (uint8) rdb_compress(opts->codec, opts->level,
									  enc->data, enc->len, frame);
	ref->raw_len = enc->len;
	ref->stored_len = frame->len;
	ref->checksum = rdb_checksum64(frame->data, frame->len);
	chunk->data = MemoryContextAlloc(cxt, frame->len);
	memcpy(chunk->data, frame->data, frame->len);
	chunk->len = frame->len;
}

/*
 * stripe_encode_group
 *		Encode and compress every column of rows [first, first + n) of the
 *		tuples; fill the chunk group's directory entries, chunks and bounds
 *		(frames and bound values allocated in chunkcxt; no bounds when
 *		orders is NULL).  Returns the raw bytes of the values.
 */
static uint64
stripe_encode_group(TupleDesc desc, HeapTuple *tuples, int first, int n,
					const RdbStripeOptions *opts, RdbChunkRef *refs,
					StripeChunk *chunks, StripeColumnOrder *orders,
					StripeBound *bounds, MemoryContext chunkcxt)
{
	int			natts = desc->natts;
	Datum	  **values = palloc(natts * sizeof(Datum *));
	bool	  **isnull = palloc(natts * sizeof(bool *));
	Datum	   *rowvals = palloc(natts * sizeof(Datum));
	bool	   *rownulls = palloc(natts * sizeof(bool));
	StringInfoData enc;
	StringInfoData frame;
	uint64		raw = 0;
	int			c,
				i;

	for (c = 0; c < natts; c++)
	{
		values[c] = palloc(n * sizeof(Datum));
		isnull[c] = palloc(n * sizeof(bool));
	}

	/* deform row by row (values point into the tuples), store column-major */
	for (i = 0; i < n; i++)
	{
		heap_deform_tuple(tuples[first + i], desc, rowvals, rownulls);
		for (c = 0; c < natts; c++)
		{
			values[c][i] = rowvals[c];
			isnull[c][i] = rownulls[c];
		}
	}

	initStringInfo(&enc);
	initStringInfo(&frame);
	for (c = 0; c < natts; c++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, c);
		RdbChunkRef *ref = &refs[c];
		RdbTypeInfo type;
		int			nnulls = 0;

		memset(ref, 0, sizeof(RdbChunkRef));
		memset(&bounds[c], 0, sizeof(StripeBound));
		chunks[c].data = NULL;
		chunks[c].len = 0;

		for (i = 0; i < n; i++)
			if (att->attisdropped || isnull[c][i])
				nnulls++;
		ref->nnulls = nnulls;
		if (nnulls == n)
		{
			ref->flags = RDB_CHUNK_ALL_NULL;
			continue;
		}

		type.typlen = att->attlen;
		type.typbyval = att->attbyval;
		type.typalign = att->attalign;
		chunks[c].raw = 0;
		for (i = 0; i < n; i++)
			if (!isnull[c][i])
				chunks[c].raw += rdb_datum_raw_size(&type, values[c][i]);
		raw += chunks[c].raw;

		stripe_store_chunk(&type, values[c], isnull[c], n, opts, &enc, &frame,
						   ref, &chunks[c], chunkcxt);

		if (orders)
			stripe_chunk_bounds(att, &orders[c], values[c], isnull[c], n,
								&bounds[c], chunkcxt);
		bounds[c].value_bytes = (uint32) Min(chunks[c].raw, PG_UINT32_MAX);
	}
	return raw;
}

/*
 * EncodingChanged events: a column whose chunk in one chunk group chose
 * another encoding than its chunk in the chunk group before (all-NULL chunks
 * have none and are passed over), with that chunk's real compression ratio
 * (its values' bytes before encoding / the bytes stored).  Emitted as the
 * stripe is written, i.e. for what the engine did.
 */
static void
stripe_emit_encoding_changes(Relation rel, TupleDesc desc,
							 const RdbChunkRef *dir, const StripeChunk *chunks,
							 int ngroups, int ncolumns)
{
	int			c;
	int			g;

	for (c = 0; c < ncolumns; c++)
	{
		int			prev = -1;

		if (TupleDescAttr(desc, c)->attisdropped)
			continue;
		for (g = 0; g < ngroups; g++)
		{
			const RdbChunkRef *ref = &dir[(Size) g * ncolumns + c];
			const StripeChunk *ch = &chunks[(Size) g * ncolumns + c];

			if (ref->flags & RDB_CHUNK_ALL_NULL)
				continue;
			if (prev >= 0 && prev != ref->encoding)
				rdb_emit_encoding_changed(rel,
										  NameStr(TupleDescAttr(desc, c)->attname),
										  rdb_encoding_name((RdbEncoding) prev),
										  rdb_encoding_name((RdbEncoding) ref->encoding),
										  ref->stored_len > 0 ?
										  (double) ch->raw / ref->stored_len : 0.0);
			prev = ref->encoding;
		}
	}
}

/*
 * stripe_bounds_section
 *		Lay out the bounds section (stripe.h) of a stripe's bounds into buf.
 */
static void
stripe_bounds_section(const StripeColumnOrder *orders, const StripeBound *bounds,
					  int ngroups, int ncolumns, uint32 level, StringInfo buf)
{
	RdbStripeBoundsHeader bh;
	Size		nchunks = (Size) ngroups * ncolumns;
	Size		fixed = RDB_STRIPE_BOUNDS_FIXED_SIZE(ncolumns, ngroups);
	RdbChunkBounds *cb;
	uint64		data_len = 0;
	Size		i;
	int			c;

	/* the data's size first: values at MAXALIGNed offsets */
	for (i = 0; i < nchunks; i++)
		if (bounds[i].min)
			data_len += MAXALIGN(bounds[i].min_len) + MAXALIGN(bounds[i].max_len);
	if (fixed + data_len >= MaxAllocHugeSize || data_len > PG_UINT32_MAX)
		elog(ERROR, "rustydb stripe bounds of %llu bytes are too large",
			 (unsigned long long) data_len);

	resetStringInfo(buf);
	enlargeStringInfo(buf, fixed + data_len);
	memset(buf->data, 0, fixed + data_len);
	bh.data_len = (uint32) data_len;
	bh.max_len = RDB_STRIPE_BOUND_MAX_LEN;
	bh.level = level;
	bh.reserved = 0;
	memcpy(buf->data, &bh, sizeof(bh));
	for (c = 0; c < ncolumns; c++)
	{
		RdbStripeColumnBounds colb;

		colb.collation = orders[c].collation;
		colb.cmp_type = orders[c].cmp_type;
		memcpy(buf->data + sizeof(bh) + c * sizeof(RdbStripeColumnBounds),
			   &colb, sizeof(colb));
	}
	cb = (RdbChunkBounds *) (buf->data + sizeof(bh) +
							 ncolumns * sizeof(RdbStripeColumnBounds));
	data_len = 0;
	for (i = 0; i < nchunks; i++)
	{
		char	   *data = buf->data + fixed;

		cb[i].value_bytes = bounds[i].value_bytes;
		if (bounds[i].min == NULL)
			continue;
		cb[i].offset = (uint32) data_len;
		cb[i].min_len = bounds[i].min_len;
		cb[i].max_len = bounds[i].max_len;
		memcpy(data + data_len, bounds[i].min, bounds[i].min_len);
		data_len += MAXALIGN(bounds[i].min_len);
		memcpy(data + data_len, bounds[i].max, bounds[i].max_len);
		data_len += MAXALIGN(bounds[i].max_len);
	}
	buf->len = (int) (fixed + data_len);
}

/*
 * stripe_summary_section
 *		Lay out the stripe summary (stripe.h) of a stripe's chunks into buf,
 *		its checksum left 0; nothing (buf->len 0) when not even its fixed
 *		part fits on the first page.  A column's bounds are the smallest of
 *		its chunks' mins and the largest of their maxes, when every chunk
 *		of it that is not all NULL keeps bounds; they are left out (that
 *		column has none) when the page has no room left for them.
 */
static void
stripe_summary_section(TupleDesc desc, StripeColumnOrder *orders,
					   const StripeBound *bounds, const RdbChunkRef *dir,
					   int ngroups, int ncolumns, StringInfo buf)
{
	int64		room = (int64) RDB_STRIPE_PAGE_PAYLOAD - (int64) sizeof(RdbStripeHeader) -
		(int64) sizeof(RdbStripeMap) - (int64) ncolumns * sizeof(RdbStripeColumn);
	Size		fixed = RDB_STRIPE_SUMMARY_FIXED_SIZE(ncolumns);
	RdbStripeSummaryHeader sh;
	RdbStripeColumnSummary *cs;
	Size		data_len = 0;
	int			c;

	resetStringInfo(buf);
	if (room < (int64) fixed || ncolumns > PG_UINT16_MAX)
		return;
	enlargeStringInfo(buf, (int) room);
	memset(buf->data, 0, room);
	cs = (RdbStripeColumnSummary *) (buf->data + sizeof(sh));
	for (c = 0; c < ncolumns; c++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, c);
		StripeColumnOrder *order = &orders[c];
		const StripeBound *min = NULL;
		const StripeBound *max = NULL;
		bool		complete = order->keep;
		uint64		nnulls = 0;
		Size		need;
		int			g;

		cs[c].cmp_type = order->cmp_type;
		cs[c].collation = order->collation;
		for (g = 0; g < ngroups; g++)
		{
			Size		i = (Size) g * ncolumns + c;
			const StripeBound *b = &bounds[i];

			nnulls += dir[i].nnulls;
			if (!complete || (dir[i].flags & RDB_CHUNK_ALL_NULL))
				continue;
			if (b->min == NULL)
			{
				complete = false;
				continue;
			}
			if (min == NULL ||
				ApplySortComparator(fetch_att(b->min, att->attbyval, att->attlen), false,
									fetch_att(min->min, att->attbyval, att->attlen), false,
									&order->ssup) < 0)
				min = b;
			if (max == NULL ||
				ApplySortComparator(fetch_att(b->max, att->attbyval, att->attlen), false,
									fetch_att(max->max, att->attbyval, att->attlen), false,
									&order->ssup) > 0)
				max = b;
		}
		cs[c].nnulls = (uint32) nnulls;
		if (!complete || min == NULL)
			continue;
		need = MAXALIGN(min->min_len) + MAXALIGN(max->max_len);
		if ((int64) (fixed + data_len + need) > room)
			continue;
		cs[c].offset = (uint32) data_len;
		cs[c].min_len = min->min_len;
		cs[c].max_len = max->max_len;
		memcpy(buf->data + fixed + data_len, min->min, min->min_len);
		data_len += MAXALIGN(min->min_len);
		memcpy(buf->data + fixed + data_len, max->max, max->max_len);
		data_len += MAXALIGN(max->max_len);
	}
	memset(&sh, 0, sizeof(sh));
	sh.len = (uint32) (fixed + data_len);
	sh.ncolumns = (uint16) ncolumns;
	memcpy(buf->data, &sh, sizeof(sh));
	buf->len = (int) sh.len;
}

/* ----------------------------------------------------------------
 * Row order (the sort_key table option)
 * ----------------------------------------------------------------
 */

typedef struct StripeSortState
{
	int			nkeys;
	SortSupport ssup[RDB_MAX_SORT_KEYS];
	Datum	   *values;			/* row-major: nrows * nkeys */
	bool	   *isnull;
	void		(*interrupt_check) (void);	/* opts', or NULL */
	uint32		ncompared;		/* comparisons since the last check */
} StripeSortState;

static int
stripe_sort_cmp(const void *a, const void *b, void *arg)
{
	StripeSortState *s = (StripeSortState *) arg;
	uint32		ra = *(const uint32 *) a;
	uint32		rb = *(const uint32 *) b;
	Size		ia = (Size) ra * s->nkeys;
	Size		ib = (Size) rb * s->nkeys;
	int			k;

	/*
	 * A million-row sort by a text key takes seconds: let the writer give
	 * up (an error out of qsort leaves nothing behind but memory).
	 */
	if (++s->ncompared >= 65536)
	{
		s->ncompared = 0;
		CHECK_FOR_INTERRUPTS();
		if (s->interrupt_check != NULL)
			s->interrupt_check();
	}
	for (k = 0; k < s->nkeys; k++)
	{
		int			r = ApplySortComparator(s->values[ia + k], s->isnull[ia + k],
											s->values[ib + k], s->isnull[ib + k],
											s->ssup[k]);

		if (r != 0)
			return r;
	}
	/* equal keys keep the order they came in: rows that arrived together stay together */
	return (ra > rb) - (ra < rb);
}

/*
 * stripe_sort_order
 *		The order of the tuples by opts' sort key: position -> row number
 *		(palloc'd in the current context), or NULL when sorting would leave
 *		every row in the chunk group (of cgrows rows) it is in as given: then
 *		the chunk groups hold the same rows, so the same bounds, and the rows
 *		are stored as given, without a row order to keep and read (event
 *		data arriving in time order, with a time key: a page flushed out of
 *		turn moves no row out of its group but once in a while).  Only the key
 *		columns the stripe keeps bounds for are used, up to the first that
 *		has none (a type without a btree sort support, a dropped column):
 *		the same comparison the bounds are made with, so that a sorted
 *		stripe's chunk groups have the narrowest bounds.  Varlena keys are
 *		detoasted once, before sorting.
 */
static uint32 *
stripe_sort_order(TupleDesc desc, HeapTuple *tuples, int ntuples,
				  const RdbStripeOptions *opts, StripeColumnOrder *orders,
				  int cgrows)
{
	StripeSortState st;
	AttrNumber	keys[RDB_MAX_SORT_KEYS];
	uint32	   *order;
	int			i;
	int			k;

	if (orders == NULL || ntuples < 2)
		return NULL;
	st.nkeys = 0;
	for (k = 0; k < opts->nsortkeys && k < RDB_MAX_SORT_KEYS; k++)
	{
		AttrNumber	attno = opts->sortkeys[k];

		if (attno < 1 || attno > desc->natts || !orders[attno - 1].keep)
			break;
		keys[st.nkeys] = attno;
		st.ssup[st.nkeys] = &orders[attno - 1].ssup;
		st.nkeys++;
	}
	if (st.nkeys == 0)
		return NULL;
	st.interrupt_check = opts->interrupt_check;
	st.ncompared = 0;

	st.values = palloc_extended((Size) ntuples * st.nkeys * sizeof(Datum),
								MCXT_ALLOC_HUGE);
	st.isnull = palloc_extended((Size) ntuples * st.nkeys * sizeof(bool),
								MCXT_ALLOC_HUGE);
	for (i = 0; i < ntuples; i++)
	{
		if ((i & 4095) == 0)
		{
			CHECK_FOR_INTERRUPTS();
			if (opts->interrupt_check != NULL)
				opts->interrupt_check();
		}
		for (k = 0; k < st.nkeys; k++)
		{
			Size		at = (Size) i * st.nkeys + k;
			Form_pg_attribute att = TupleDescAttr(desc, keys[k] - 1);
			bool		owned;
			Datum		v;

			v = heap_getattr(tuples[i], keys[k], desc, &st.isnull[at]);
			if (!st.isnull[at])
				v = stripe_bound_value(att, &orders[keys[k] - 1], v, &owned);
			st.values[at] = v;
		}
	}

	order = palloc_extended((Size) ntuples * sizeof(uint32), MCXT_ALLOC_HUGE);
	for (i = 0; i < ntuples; i++)
		order[i] = (uint32) i;
	qsort_arg(order, ntuples, sizeof(uint32), stripe_sort_cmp, &st);

	pfree(st.values);
	pfree(st.isnull);
	for (i = 0; i < ntuples; i++)
		if (order[i] / cgrows != (uint32) i / cgrows)
			return order;
	pfree(order);
	return NULL;
}

/*
 * stripe_order_chunk
 *		Chunk group g's part of the row order (positions first .. first + n)
 *		as a chunk: int4 row numbers, encoded, compressed and checksummed
 *		like a column's; the frame is palloc'd in cxt.
 */
static void
stripe_order_chunk(const uint32 *order, int first, int n,
				   const RdbStripeOptions *opts, RdbChunkRef *ref,
				   StripeChunk *chunk, MemoryContext cxt)
{
	static const RdbTypeInfo int4type = {4, true, TYPALIGN_INT};
	Datum	   *values = palloc(n * sizeof(Datum));
	bool	   *isnull = palloc0(n * sizeof(bool));
	StringInfoData enc;
	StringInfoData frame;
	int			i;

	for (i = 0; i < n; i++)
		values[i] = Int32GetDatum((int32) order[first + i]);
	initStringInfo(&enc);
	initStringInfo(&frame);
	memset(ref, 0, sizeof(RdbChunkRef));
	stripe_store_chunk(&int4type, values, isnull, n, opts, &enc, &frame, ref,
					   chunk, cxt);
	chunk->raw = (uint64) n * sizeof(int32);
	pfree(enc.data);
	pfree(frame.data);
	pfree(values);
	pfree(isnull);
}

/* ----------------------------------------------------------------
 * rdb_stripe_write
 * ----------------------------------------------------------------
 */

/*
 * rdb_stripe_write
 *		Write tuples[0 .. ntuples) (complete heap tuples of rel) as a new
 *		stripe in a free extent of rel that fits it (space compaction gave
 *		back), else at the end of rel, and describe it in *info.
 *
 * The tuples may have fewer attributes than the relation (ADD COLUMN
 * since): their missing values are stored as heap_deform_tuple gives them.
 * Dropped columns are stored as all-NULL.  Values are stored as the tuples
 * hold them (TOAST pointers and inline-compressed values unchanged), so the
 * caller must keep the TOAST rows alive for as long as the stripe rows are.
 *
 * On return the pages are in shared buffers, dirty and WAL-logged (for
 * relations that need WAL); the caller may then publish stubs that point
 * into the stripe.  Errors before the first page is added leave the
 * relation unchanged; the pages of a stripe whose writing failed half-way
 * are orphans (kind STRIPE, never referenced), like the pages of any
 * aborted extension.
 */
void
rdb_stripe_write(Relation rel, HeapTuple *tuples, int ntuples,
				 const RdbStripeOptions *opts, RdbStripeInfo *info)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			ncolumns = desc->natts;
	int			cgrows;
	int			ngroups;
	Size		dirsize;
	uint64		stream_len;
	uint64		nblocks64;
	uint32		nblocks;
	RdbStripeHeader hdr;
	RdbStripeColumn *cols;
	RdbChunkRef *dir;
	StripeChunk *chunks;
	StripeColumnOrder *orders = NULL;
	StripeBound *bounds;
	StringInfoData boundsec;
	StringInfoData sumsec;
	uint32	   *order = NULL;	/* position -> row number; NULL: same */
	RdbChunkRef *orderdir = NULL;
	StripeChunk *orderchunks = NULL;
	Size		orderdir_at = 0;
	int			version = rdb_stripe_format_version;
	MemoryContext stripecxt;
	MemoryContext groupcxt;
	MemoryContext oldcxt;
	StripePageWriter w;
	BlockNumber relblocks;
	uint32		nblocks_mapped;
	instr_time	start,
				duration;
	int			g;
	uint64		off;
	uint64		raw = 0;
	bool		local = RELATION_IS_LOCAL(rel);

	if (ntuples <= 0)
		elog(ERROR, "rustydb stripe of relation \"%s\": no rows to write",
			 RelationGetRelationName(rel));
	if (ncolumns < 1)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot write a rustydb stripe for table \"%s\" without columns",
						RelationGetRelationName(rel))));

	cgrows = opts->chunk_group_rows > 0 ? opts->chunk_group_rows :
		RDB_STRIPE_DEFAULT_CHUNK_GROUP_ROWS;
	if (cgrows > RDB_MAX_CHUNK_ROWS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("chunk group of %d rows is too large", cgrows),
				 errhint("A chunk group holds 1 to %d rows.", RDB_MAX_CHUNK_ROWS)));
	rdb_codec_check_level(opts->codec, opts->level);

	ngroups = (ntuples + cgrows - 1) / cgrows;
	dirsize = (Size) ngroups * ncolumns * sizeof(RdbChunkRef);

	stripecxt = AllocSetContextCreate(CurrentMemoryContext, "rustydb stripe write",
									  ALLOCSET_DEFAULT_SIZES);
	groupcxt = AllocSetContextCreate(stripecxt, "rustydb stripe chunk group",
									 ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(stripecxt);

	dir = MemoryContextAllocHuge(stripecxt, dirsize);
	chunks = MemoryContextAllocHuge(stripecxt,
									(Size) ngroups * ncolumns * sizeof(StripeChunk));
	bounds = MemoryContextAllocHuge(stripecxt,
									(Size) ngroups * ncolumns * sizeof(StripeBound));
	if (version != RDB_STRIPE_VERSION_V1)
	{
		version = RDB_STRIPE_VERSION;
		orders = palloc(ncolumns * sizeof(StripeColumnOrder));
		for (g = 0; g < ncolumns; g++)
			stripe_column_order(TupleDescAttr(desc, g), &orders[g]);

		/*
		 * A sort key: store the rows in its order, and the order itself,
		 * so that row numbers (which stubs, retired generations and so
		 * indexes hold) still find their rows.
		 */
		order = stripe_sort_order(desc, tuples, ntuples, opts, orders, cgrows);
		if (order != NULL)
		{
			HeapTuple  *sorted = palloc_extended((Size) ntuples * sizeof(HeapTuple),
												 MCXT_ALLOC_HUGE);
			int			i;

			for (i = 0; i < ntuples; i++)
				sorted[i] = tuples[order[i]];
			tuples = sorted;
			version = RDB_STRIPE_VERSION_SORTED;
			orderdir = palloc0(ngroups * sizeof(RdbChunkRef));
			orderchunks = palloc0(ngroups * sizeof(StripeChunk));
		}
	}

	/* encode and compress everything before touching any page */
	for (g = 0; g < ngroups; g++)
	{
		int			first = g * cgrows;
		int			n = Min(cgrows, ntuples - first);

		CHECK_FOR_INTERRUPTS();
		if (opts->interrupt_check != NULL)
			opts->interrupt_check();
		MemoryContextSwitchTo(groupcxt);
		raw += stripe_encode_group(desc, tuples, first, n, opts,
								   &dir[(Size) g * ncolumns],
								   &chunks[(Size) g * ncolumns], orders,
								   &bounds[(Size) g * ncolumns], stripecxt);
		if (order != NULL)
			stripe_order_chunk(order, first, n, opts, &orderdir[g],
							   &orderchunks[g], stripecxt);
		MemoryContextSwitchTo(stripecxt);
		MemoryContextReset(groupcxt);
	}

	/* the bounds section: values flat, between directory and chunks */
	initStringInfo(&boundsec);
	if (orders)
		stripe_bounds_section(orders, bounds, ngroups, ncolumns,
							  Max(opts->stripe_level, 1), &boundsec);
	/* the stripe summary, on the first page after the column table */
	initStringInfo(&sumsec);
	if (orders)
		stripe_summary_section(desc, orders, bounds, dir, ngroups, ncolumns,
							   &sumsec);
	if (sumsec.len > 0)
		version |= RDB_STRIPE_SUMMARY;
	/* version 3: the row order's directory right after it, filled below */
	if (order != NULL)
	{
		orderdir_at = boundsec.len;
		enlargeStringInfo(&boundsec, ngroups * sizeof(RdbChunkRef));
		boundsec.len += ngroups * sizeof(RdbChunkRef);
	}

	/*
	 * Where the pages go decides the stream's layout: a stripe spread over
	 * several runs carries its extent map after the header.  So first the
	 * stream's length either way.
	 */
	{
		uint64		body = ncolumns * sizeof(RdbStripeColumn) + sumsec.len +
			dirsize + boundsec.len;

		for (g = 0; g < ngroups * ncolumns; g++)
			if (!(dir[g].flags & RDB_CHUNK_ALL_NULL))
				body += dir[g].stored_len;
		for (g = 0; order != NULL && g < ngroups; g++)
			body += orderdir[g].stored_len;
		stream_len = sizeof(RdbStripeHeader) + body;
		nblocks64 = (stream_len + sizeof(RdbStripeMap) + RDB_STRIPE_PAGE_PAYLOAD - 1) /
			RDB_STRIPE_PAGE_PAYLOAD;
		if (nblocks64 >= RDB_FIRST_REMAPPED_GENERATION)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("rustydb stripe of table \"%s\" would take %llu pages",
							RelationGetRelationName(rel),
							(unsigned long long) nblocks64)));
		nblocks_mapped = (uint32) nblocks64;
		nblocks = (uint32) ((stream_len + RDB_STRIPE_PAGE_PAYLOAD - 1) /
							RDB_STRIPE_PAGE_PAYLOAD);
	}

	/*
	 * Space compaction gave back first (rdb_meta_take_space): the pages of
	 * stripes nothing refers to any more; one extent that holds the whole
	 * stripe, else as many pages of free extents as it takes (then the
	 * stripe is mapped), and new blocks for the rest.  Taking them out of
	 * the list is logged before any page is written, so a crash in between
	 * leaves pages no one refers to, which compaction finds and frees
	 * again.
	 */
	INSTR_TIME_SET_CURRENT(start);
	memset(&w, 0, sizeof(w));
	w.rel = rel;
	w.buf = InvalidBuffer;
	w.need_wal = RelationNeedsWAL(rel);
	{
		RdbFreeExtent taken[RDB_STRIPE_MAX_EXTENTS];
		bool		mapped;
		int			ntaken;
		int			i;

		ntaken = rdb_meta_take_space(rel, nblocks, nblocks_mapped, taken,
									 RDB_STRIPE_MAX_EXTENTS - 1, &mapped);

		/*
		 * What the extents do not hold, from FREE L0 pages the caller met
		 * (retired pages no insert has reused yet), before the file grows:
		 * the stripe is then mapped over all of its runs.
		 */
		if ((ntaken == 0 || mapped) && opts->free_pages != NULL &&
			ntaken < RDB_STRIPE_MAX_EXTENTS - 1)
		{
			uint32		have = 0;
			int			nfree;

			for (i = 0; i < ntaken; i++)
				have += taken[i].nblocks;
			if (have < nblocks_mapped)
			{
				nfree = rdb_gen_take_free_pages(rel, opts->free_pages,
												nblocks_mapped - have,
												&taken[ntaken],
												RDB_STRIPE_MAX_EXTENTS - 1 - ntaken);
				if (nfree > 0)
				{
					ntaken += nfree;
					mapped = true;
					qsort(taken, ntaken, sizeof(RdbFreeExtent), stripe_run_cmp);
				}
			}
		}
		if (mapped)
		{
			version |= RDB_STRIPE_MAPPED;
			nblocks = nblocks_mapped;
		}
		for (i = 0; i < ntaken; i++)
		{
			w.map.ext[i].first = taken[i].first;
			w.map.ext[i].nblocks = taken[i].nblocks;
			w.nreuse += taken[i].nblocks;
		}
		w.map.nextents = ntaken;
	}
	Assert(w.nreuse <= nblocks);
	w.nblocks = nblocks;

	/*
	 * New blocks for what the free extents do not hold.  No buffer lock is
	 * held while we wait for the extension lock (as hio.c), and we hold it
	 * until the last of them is added so that nobody else's page lands in
	 * the middle of the run -- but not while the stripe is written: the
	 * new blocks are added at once as empty stripe pages of no stripe yet
	 * (as the FREE pages a stripe takes, gendir.c; a crash before the seal
	 * leaves them to compaction's survey), and every page is then written
	 * as a taken block is.  Writing a taken block waits for its lock, which
	 * a backend that knew the block as the page it once was may hold while
	 * it waits for another page -- whose holder may be waiting for the
	 * extension lock to add a directory page.  (Inserts that extend the
	 * table no longer wait for a whole stripe either.)
	 */
	if (w.nreuse < nblocks)
	{
		uint32		nnew = nblocks - w.nreuse;
		uint32		k;

		if (!local)
			LockRelationForExtension(rel, ExclusiveLock);
		relblocks = RelationGetNumberOfBlocks(rel);
		if (relblocks == 0)
		{
			if (!local)
				UnlockRelationForExtension(rel, ExclusiveLock);
			elog(ERROR, "rustydb relation \"%s\" has no metapage",
				 RelationGetRelationName(rel));
		}

		/*
		 * Block numbers from RDB_FIRST_REMAPPED_GENERATION up are not
		 * addressable (l0.h); a stripe's first block is also its pages'
		 * generation.
		 */
		if ((uint64) relblocks + nnew > RDB_FIRST_REMAPPED_GENERATION)
		{
			if (!local)
				UnlockRelationForExtension(rel, ExclusiveLock);
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("cannot extend rustydb table \"%s\" beyond %u blocks",
							RelationGetRelationName(rel),
							RDB_FIRST_REMAPPED_GENERATION),
					 errdetail("The table has %u blocks and a stripe of %u blocks does not fit below the limit.",
							   relblocks, nnew),
					 errhint("Delete rows and VACUUM the table to make room, or move rows to another table.")));
		}
		w.map.ext[w.map.nextents].first = relblocks;
		w.map.ext[w.map.nextents].nblocks = nnew;
		w.map.nextents++;
		for (k = 0; k < nnew; k++)
		{
			Buffer		nbuf = ReadBufferExtended(rel, MAIN_FORKNUM, P_NEW,
												  RBM_ZERO_AND_LOCK, NULL);
			if (BufferGetBlockNumber(nbuf) != relblocks + k)
				elog(ERROR, "rustydb stripe of relation \"%s\": extension gave block %u, expected %u",
					 RelationGetRelationName(rel), BufferGetBlockNumber(nbuf),
					 relblocks + k);
			START_CRIT_SECTION();
			stripe_page_init(BufferGetPage(nbuf), InvalidBlockNumber);
			MarkBufferDirty(nbuf);
			if (w.need_wal)
				log_newpage_buffer(nbuf, true);
			END_CRIT_SECTION();
			UnlockReleaseBuffer(nbuf);
		}
		if (!local)
			UnlockRelationForExtension(rel, ExclusiveLock);
		w.nreuse = nblocks;
	}
	w.first_block = w.map.ext[0].first;

	/* chunk offsets, stream length, header */
	off = sizeof(RdbStripeHeader) + RDB_STRIPE_MAP_SIZE(version) +
		ncolumns * sizeof(RdbStripeColumn) + sumsec.len + dirsize + boundsec.len;
	for (g = 0; g < ngroups * ncolumns; g++)
	{
		if (dir[g].flags & RDB_CHUNK_ALL_NULL)
			continue;
		dir[g].offset = off;
		off += dir[g].stored_len;
	}
	if (order != NULL)
	{
		for (g = 0; g < ngroups; g++)
		{
			orderdir[g].offset = off;
			off += orderdir[g].stored_len;
		}
		memcpy(boundsec.data + orderdir_at, orderdir,
			   ngroups * sizeof(RdbChunkRef));
	}
	stream_len = off;
	if ((stream_len + RDB_STRIPE_PAGE_PAYLOAD - 1) / RDB_STRIPE_PAGE_PAYLOAD != nblocks)
		elog(ERROR, "rustydb stripe of relation \"%s\": %llu bytes do not make %u pages",
			 RelationGetRelationName(rel), (unsigned long long) stream_len, nblocks);

	memset(&hdr, 0, sizeof(hdr));
	hdr.magic = RDB_STRIPE_MAGIC;
	hdr.version = (uint16) version;
	hdr.ncolumns = (uint16) ncolumns;
	hdr.nrows = (uint32) ntuples;
	hdr.chunk_group_rows = (uint32) cgrows;
	hdr.nchunkgroups = (uint32) ngroups;
	hdr.nblocks = nblocks;
	hdr.stream_len = stream_len;
	hdr.raw_bytes = raw;
	cols = palloc0(ncolumns * sizeof(RdbStripeColumn));
	for (g = 0; g < ncolumns; g++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, g);

		cols[g].typid = att->atttypid;
		cols[g].typlen = att->attlen;
		cols[g].typbyval = att->attbyval;
		cols[g].typalign = att->attalign;
		cols[g].typstorage = att->attstorage;
		cols[g].isdropped = att->attisdropped;
	}
	hdr.dir_checksum = 0;
	if (sumsec.len > 0)
	{
		RdbStripeSummaryHeader *sh = (RdbStripeSummaryHeader *) sumsec.data;

		sh->checksum = 0;
		sh->checksum = rdb_stripe_summary_checksum(&hdr, &w.map, cols,
												   sumsec.data, sumsec.len);
	}
	hdr.dir_checksum = rdb_stripe_dir_checksum(&hdr, &w.map, cols,
											   sumsec.data, sumsec.len,
											   dir, dirsize,
											   boundsec.data, boundsec.len);

	/*
	 * The header goes out unsealed (magic 0) and is sealed once every page
	 * is written (stripe_seal): a reader walking the file (the views) meets
	 * the first page long before the last one exists.
	 */
	{
		RdbStripeHeader unsealed = hdr;

		unsealed.magic = 0;
		stripe_put(&w, (const char *) &unsealed, sizeof(unsealed));
	}
	if (version & RDB_STRIPE_MAPPED)
		stripe_put(&w, (const char *) &w.map, sizeof(RdbStripeMap));
	stripe_put(&w, (const char *) cols, ncolumns * sizeof(RdbStripeColumn));
	if (sumsec.len > 0)
		stripe_put(&w, sumsec.data, sumsec.len);
	stripe_put(&w, (const char *) dir, dirsize);
	stripe_put(&w, boundsec.data, boundsec.len);
	for (g = 0; g < ngroups * ncolumns; g++)
	{
		if (chunks[g].data == NULL)
			continue;
		stripe_put(&w, chunks[g].data, chunks[g].len);
		pfree(chunks[g].data);
		chunks[g].data = NULL;
	}
	for (g = 0; order != NULL && g < ngroups; g++)
		stripe_put(&w, orderchunks[g].data, orderchunks[g].len);
	if (w.buf != InvalidBuffer)
		stripe_page_finish(&w);
	if (w.pageno != nblocks)
		elog(ERROR, "rustydb stripe of relation \"%s\": wrote %u pages, expected %u",
			 RelationGetRelationName(rel), w.pageno, nblocks);
	stripe_seal(&w);

	INSTR_TIME_SET_CURRENT(duration);
	INSTR_TIME_SUBTRACT(duration, start);
	stripe_emit_encoding_changes(rel, desc, dir, chunks, ngroups, ncolumns);

	info->first_block = w.first_block;
	info->nblocks = nblocks;
	info->nrows = (uint32) ntuples;
	info->raw_bytes = raw;
	info->stored_bytes = (uint64) nblocks * BLCKSZ;
	info->write_us = INSTR_TIME_GET_MICROSEC(duration);
	info->sorted = (order != NULL);

	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(stripecxt);
}
