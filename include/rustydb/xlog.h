/*-------------------------------------------------------------------------
 *
 * xlog.h
 *	  WAL records of the rustydb resource manager.
 *
 * rustydb registers a custom resource manager (PostgreSQL 15's
 * RegisterCustomRmgr) instead of using generic WAL, for two reasons:
 *
 *	- L0 tuples carry hint bits that PostgreSQL sets without WAL
 *	  (MarkBufferDirtyHint).  generic_mask does not mask them, so
 *	  wal_consistency_checking would flag every page a reader touched.  Our
 *	  rm_mask masks them the way heap_mask does.
 *	- Logical records are much smaller than generic-WAL page deltas for the
 *	  hot single-row paths (insert, delete, lock).
 *
 * Each record names the page(s) it changes as registered block references,
 * so full-page images, torn-page protection and streaming replication work
 * as for any built-in rmgr.  Redo reproduces the primary's page bytes
 * exactly, except what rm_mask masks (hint bits, command ids, unused space).
 *
 * IDENTIFICATION
 *	  include/rustydb/xlog.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RUSTYDB_XLOG_H
#define RUSTYDB_XLOG_H

#include "access/htup.h"
#include "access/xlog_internal.h"
#include "access/xlogreader.h"
#include "lib/stringinfo.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
#include "utils/relcache.h"

/*
 * XXX: RM_EXPERIMENTAL_ID is the id PostgreSQL sets aside for extensions in
 * development.  Before a release we must reserve an id of our own on the
 * PostgreSQL wiki's custom rmgr list, so we don't collide with other
 * extensions that also use the experimental id.
 */
#define RDB_RMGR_ID			RM_EXPERIMENTAL_ID
#define RDB_RMGR_NAME		"rustydb"

/* record types (high nibble of xl_info) */
#define XLOG_RDB_INSERT			0x00	/* one new tuple */
#define XLOG_RDB_MULTI_INSERT	0x10	/* several new tuples on one page */
#define XLOG_RDB_SET_HEADERS	0x20	/* new header fields of existing tuples */
#define XLOG_RDB_UPDATE			0x30	/* new tuple + old tuple's new header */
#define XLOG_RDB_PRUNE			0x40	/* VACUUM: items dead/unused, defragment */
#define XLOG_RDB_ROW_CHANGE		0x50	/* delete / speculative confirm or kill */
#define XLOG_RDB_FLUSH			0x60	/* rows' values moved to a stripe */
#define XLOG_RDB_RETIRE			0x70	/* page retired into the directory */
#define XLOG_RDB_INIT_PAGE		0x80	/* flag: (re)initialise block 0 first */
#define XLOG_RDB_OPMASK			0x70

/*
 * Given-back stripe pages about to be written again (stripe_reuse.c).  The
 * eight op codes are all taken; XLOG_RDB_INIT_PAGE only ever goes with
 * INSERT, MULTI_INSERT and UPDATE, so RETIRE with that flag is free for a
 * record of its own.  Redo and decoding test for it before the op code.
 */
#define XLOG_RDB_STRIPE_REUSE	(XLOG_RDB_RETIRE | XLOG_RDB_INIT_PAGE)

/*
 * The new header fields of one tuple.  This is the result of a delete, a row
 * lock, the confirmation or super-deletion of a speculative insert, or
 * freezing: redo stores the values, it does not recompute them.
 */
typedef struct xl_rdb_header
{
	OffsetNumber offnum;
	uint16		t_infomask;
	uint16		t_infomask2;
	TransactionId xmin;
	TransactionId xmax;
	ItemPointerData ctid;
} xl_rdb_header;

#define SizeOfRdbHeader		(offsetof(xl_rdb_header, ctid) + sizeof(ItemPointerData))

/*
 * Flags of the records that change rows, for logical decoding (decode.c).
 * They mirror heap's XLH_* flags: decoding needs to know whether the record
 * carries the new tuple (it always does in block data, but only with
 * REGBUF_KEEP_DATA does it survive a full-page image, so the flag says the
 * relation was logically logged when the record was written) and which old
 * row image, if any, follows the record's fixed part in main data.
 */
#define RDB_XLF_CONTAINS_NEW_TUPLE	0x01	/* new tuple kept with any FPI */
#define RDB_XLF_IS_SPECULATIVE		0x02	/* INSERT: ON CONFLICT insertion */
#define RDB_XLF_LAST_IN_MULTI		0x04	/* MULTI_INSERT: last of a batch */
#define RDB_XLF_CONTAINS_OLD_KEY	0x08	/* old replica identity key follows */
#define RDB_XLF_CONTAINS_OLD_TUPLE	0x10	/* whole old row follows (FULL) */
#define RDB_XLF_LOGICAL				0x20	/* relation was logically logged */
#define RDB_XLF_COMPACT_TUPLES		0x40	/* INSERT, MULTI_INSERT: new tuples
											 * as xl_rdb_tuple_head + rest */
/* every flag this library reads: redo and decoding refuse the others */
#define RDB_XLF_KNOWN				0x7F

#define RDB_XLF_CONTAINS_OLD \
	(RDB_XLF_CONTAINS_OLD_KEY | RDB_XLF_CONTAINS_OLD_TUPLE)

/*
 * An old row image (REPLICA IDENTITY key or whole row) in main data: the
 * length, then the tuple as heap_form_tuple makes it (HeapTupleHeaderData
 * and data, external TOAST values inlined).  Unaligned: read with memcpy.
 */
typedef struct xl_rdb_old_tuple
{
	uint32		len;
	/* HeapTupleHeaderData + data follow */
} xl_rdb_old_tuple;

/*
 * A new tuple logged without the part of its header redo can rebuild, as
 * heap logs xl_heap_header (RDB_XLF_COMPACT_TUPLES): xmin is the record's
 * xid, cmin FirstCommandId (masked, as heap's), xmax 0, t_ctid the tuple's
 * own TID.  The tuple's bytes from t_bits on (SizeofHeapTupleHeader up)
 * follow.  18 bytes a row less than the whole header.  Fresh inserts only:
 * rewrites carry old headers, and a speculative insertion's t_ctid holds
 * its token.  Unaligned: read with memcpy.
 */
typedef struct xl_rdb_tuple_head
{
	uint16		t_infomask2;
	uint16		t_infomask;
	uint8		t_hoff;
} xl_rdb_tuple_head;

#define SizeOfRdbTupleHead	(offsetof(xl_rdb_tuple_head, t_hoff) + sizeof(uint8))

/*
 * XLOG_RDB_INSERT: main data, block 0 data = tuple (header + data; with
 * RDB_XLF_COMPACT_TUPLES xl_rdb_tuple_head + data)
 */
typedef struct xl_rdb_insert
{
	uint32		generation;		/* for INIT_PAGE */
	OffsetNumber offnum;
	uint8		flags;			/* RDB_XLF_* */
} xl_rdb_insert;

#define SizeOfRdbInsert		(offsetof(xl_rdb_insert, flags) + sizeof(uint8))

/*
 * XLOG_RDB_MULTI_INSERT: main data; block 0 data = ntuples x
 * (OffsetNumber offnum, uint16 len, tuple bytes; with RDB_XLF_COMPACT_TUPLES
 * the len bytes are xl_rdb_tuple_head + data)
 */
typedef struct xl_rdb_multi_insert
{
	uint32		generation;		/* for INIT_PAGE */
	uint16		ntuples;
	uint8		flags;			/* RDB_XLF_* */
} xl_rdb_multi_insert;

#define SizeOfRdbMultiInsert	(offsetof(xl_rdb_multi_insert, flags) + sizeof(uint8))

/*
 * XLOG_RDB_SET_HEADERS: main data; block 0 data = nheaders x xl_rdb_header.
 * conflict_xid is set when the change freezes tuples (standby queries that
 * could still need the old xmin must be cancelled, as for heap freezing).
 */
typedef struct xl_rdb_set_headers
{
	TransactionId prune_xid;	/* if valid, PageSetPrunable() with it */
	TransactionId conflict_xid; /* recovery conflict horizon, or invalid */
	uint16		nheaders;
} xl_rdb_set_headers;

#define SizeOfRdbSetHeaders	(offsetof(xl_rdb_set_headers, nheaders) + sizeof(uint16))

/*
 * XLOG_RDB_UPDATE: block 0 = page of the new tuple (data: tuple bytes),
 * block 1 = page of the old tuple, absent when both are on one page.  With
 * RDB_XLF_CONTAINS_OLD_*, an xl_rdb_old_tuple follows in main data.
 */
typedef struct xl_rdb_update
{
	uint32		generation;		/* for INIT_PAGE of block 0 */
	OffsetNumber new_offnum;
	TransactionId prune_xid;
	xl_rdb_header old;
	uint8		flags;			/* RDB_XLF_* */
} xl_rdb_update;

#define SizeOfRdbUpdate		(offsetof(xl_rdb_update, flags) + sizeof(uint8))

/*
 * XLOG_RDB_ROW_CHANGE: a header change of one tuple that is also a change of
 * a row as logical decoding sees it (SET_HEADERS covers those that are not:
 * row locks, freezing, the lock an UPDATE takes before moving pages).
 * Block 0 = the tuple's page; redo stores the header as SET_HEADERS does.
 * With RDB_XLF_CONTAINS_OLD_*, an xl_rdb_old_tuple follows in main data.
 */
typedef struct xl_rdb_row_change
{
	TransactionId prune_xid;	/* if valid, PageSetPrunable() with it */
	uint8		kind;			/* RDB_ROW_* below */
	uint8		flags;			/* RDB_XLF_* */
	xl_rdb_header hdr;
} xl_rdb_row_change;

#define RDB_ROW_DELETE			1	/* DELETE (or the old half of a
									 * cross-partition UPDATE) */
#define RDB_ROW_SPEC_CONFIRM	2	/* speculative insertion confirmed */
#define RDB_ROW_SPEC_KILL		3	/* speculative insertion super-deleted */

#define SizeOfRdbRowChange	(offsetof(xl_rdb_row_change, hdr) + SizeOfRdbHeader)

/*
 * XLOG_RDB_PRUNE: block 0 data = ndead offsets made LP_DEAD, then nunused
 * offsets made LP_UNUSED.  With RDB_PRUNE_DEFRAGMENT the page is then
 * defragmented (needs a cleanup lock); with RDB_PRUNE_TRUNCATE_LP trailing
 * unused line pointers are truncated.
 */
typedef struct xl_rdb_prune
{
	TransactionId conflict_xid; /* latest removed xid, for hot standby */
	uint16		ndead;
	uint16		nunused;
	uint8		flags;
} xl_rdb_prune;

#define RDB_PRUNE_DEFRAGMENT	0x01
#define RDB_PRUNE_TRUNCATE_LP	0x02
#define RDB_PRUNE_ALL_VISIBLE	0x04	/* then mark the page all-visible */

#define SizeOfRdbPrune		(offsetof(xl_rdb_prune, flags) + sizeof(uint8))

/*
 * XLOG_RDB_FLUSH: tuples of block 0 become stubs pointing into a stripe
 * (l0.h) whose pages were logged before; block 0 data = nstubs x
 * xl_rdb_stub.  Redo rebuilds each stub from the tuple's header on the page
 * and defragments the page (needs a cleanup lock, as on the primary).  A
 * flush changes no row: logical decoding ignores it.
 */
typedef struct xl_rdb_flush
{
	uint32		stripe;			/* first block of the stripe */
	uint16		nstubs;
} xl_rdb_flush;

#define SizeOfRdbFlush		(offsetof(xl_rdb_flush, nstubs) + sizeof(uint16))

typedef struct xl_rdb_stub
{
	OffsetNumber offnum;
	uint32		row;			/* row index in the stripe */
} xl_rdb_stub;

#define SizeOfRdbStub		(offsetof(xl_rdb_stub, row) + sizeof(uint32))

/*
 * XLOG_RDB_RETIRE: block 0 = the L0 page, which becomes FREE (will init;
 * redo takes a cleanup lock); block 1 = the directory leaf, data = the new
 * RdbGenEntry at leafidx.  conflict_xid: newest xmin of the rows, which now
 * read as frozen (recovery conflict, as for freezing), or invalid.
 * free_stamp: the FREE page's stamp (gendir.c, rdb_gen_take_free_pages);
 * records written before it existed end at leafidx and read as invalid.
 * Since the stamp is read once the record is in the WAL, a logged page's
 * record carries an invalid one, and a full-page image right after it
 * stamps the page.
 */
typedef struct xl_rdb_retire
{
	TransactionId conflict_xid;
	uint16		leafidx;
	TransactionId free_stamp;
} xl_rdb_retire;

#define SizeOfRdbRetireV1	(offsetof(xl_rdb_retire, leafidx) + sizeof(uint16))
#define SizeOfRdbRetire		(offsetof(xl_rdb_retire, free_stamp) + sizeof(TransactionId))

/*
 * XLOG_RDB_STRIPE_REUSE: no block; the relation, and the newest xid that
 * gave back the extents about to be reused (recovery conflict: a standby
 * query whose snapshot could still see their old stripes is cancelled).
 */
typedef struct xl_rdb_stripe_reuse
{
	RelFileNode node;
	TransactionId conflict_xid;
} xl_rdb_stripe_reuse;

#define SizeOfRdbStripeReuse	(offsetof(xl_rdb_stripe_reuse, conflict_xid) + sizeof(TransactionId))

/* l0_xlog.c */
extern void rdb_xlog_register_rmgr(void);
extern void rdb_xlog_fill_header(xl_rdb_header *xlh, HeapTupleHeader htup,
								 OffsetNumber offnum);
extern void rdb_l0_apply_stubs(Page page, uint32 stripe,
							   const xl_rdb_stub *stubs, int nstubs);

/* decode.c */
struct LogicalDecodingContext;
struct XLogRecordBuffer;
extern void rdb_decode(struct LogicalDecodingContext *ctx,
					   struct XLogRecordBuffer *buf);
extern uint8 rdb_xlog_logical_flags(Relation rel, int options);
extern HeapTuple rdb_xlog_old_row_image(Relation rel, HeapTuple oldtup,
										HeapTuple newtup, uint8 *flags);
extern void rdb_xlog_register_old_row(HeapTuple old_image,
									  xl_rdb_old_tuple *hdr);

#endif							/* RUSTYDB_XLOG_H */
