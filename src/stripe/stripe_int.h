/*-------------------------------------------------------------------------
 *
 * stripe_int.h
 *	  Declarations shared by the files of src/stripe (and the stripe
 *	  diagnostics in src/api) only.
 *
 * IDENTIFICATION
 *	  src/stripe/stripe_int.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RUSTYDB_STRIPE_INT_H
#define RUSTYDB_STRIPE_INT_H

#include "storage/bufpage.h"

#include "rustydb/l0.h"
#include "rustydb/stripe.h"

/* payload bytes of one stripe page: between the page header and the special area */
#define RDB_STRIPE_PAGE_PAYLOAD \
	(BLCKSZ - SizeOfPageHeaderData - MAXALIGN(sizeof(RdbPageOpaqueData)))

#define RDB_STRIPE_DEFAULT_CHUNK_GROUP_ROWS	10000

/* bytes of the bounds section but its data (format version 2) */
#define RDB_STRIPE_BOUNDS_FIXED_SIZE(ncolumns, nchunkgroups) \
	(sizeof(RdbStripeBoundsHeader) + \
	 (Size) (ncolumns) * sizeof(RdbStripeColumnBounds) + \
	 (Size) (ncolumns) * (nchunkgroups) * sizeof(RdbChunkBounds))

/* bytes of a stripe summary but its data */
#define RDB_STRIPE_SUMMARY_FIXED_SIZE(ncolumns) \
	MAXALIGN(sizeof(RdbStripeSummaryHeader) + \
			 (Size) (ncolumns) * sizeof(RdbStripeColumnSummary))

/* guc.c: format version flush writes (2; 1 only to test reading old stripes) */
extern int	rdb_stripe_format_version;

/*
 * guc.c: rustydb.stripe_cache_size, kB of decompressed chunk groups that
 * rdb_stripe_form_tuple keeps per backend (stripe_read.c)
 */
extern int	rdb_stripe_cache_size;
#define RDB_STRIPE_CACHE_SIZE_DEFAULT	(64 * 1024)

/*
 * guc.c: rustydb.stripe_meta_cache_size, kB of stripe headers, directories
 * and chunk bounds a backend keeps (stripe_read.c)
 */
extern int	rdb_stripe_meta_cache_size;
#define RDB_STRIPE_META_CACHE_SIZE_DEFAULT	(16 * 1024)

/* stripe_read.c */
extern uint64 rdb_stripe_dir_checksum(const RdbStripeHeader *hdr,
									  const RdbStripeMap *map,
									  const RdbStripeColumn *cols,
									  const char *summary, Size summarysize,
									  const RdbChunkRef *dir, Size dirsize,
									  const char *bounds, Size boundssize);
extern uint64 rdb_stripe_summary_checksum(const RdbStripeHeader *hdr,
										  const RdbStripeMap *map,
										  const RdbStripeColumn *cols,
										  const char *summary, Size summarysize);
extern void rdb_stripe_read_header(Relation rel, BlockNumber first_block,
								   RdbStripeHeader *hdr, RdbStripeMap *map);
extern bool rdb_stripe_read_header_sealed(Relation rel, BlockNumber first_block,
										  RdbStripeHeader *hdr,
										  RdbStripeMap *map,
										  BlockNumber *skip);
extern BlockNumber rdb_stripe_map_block(const RdbStripeMap *map,
										uint64 pageno);

#endif							/* RUSTYDB_STRIPE_INT_H */
