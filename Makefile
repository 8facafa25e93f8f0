# rustydb_am — PGXS build
EXTENSION = rustydb_am
EXTVERSION = 0.3.0
MODULE_big = rustydb_am

OBJS = \
	src/rustydb.o \
	src/guc.o \
	src/tableam/handler.o \
	src/tableam/scan.o \
	src/tableam/fetch.o \
	src/tableam/modify.o \
	src/tableam/ddl.o \
	src/tableam/vacuum.o \
	src/tableam/options.o \
	src/tableam/reloptions.o \
	src/rowstore/l0_page.o \
	src/rowstore/l0_lock.o \
	src/rowstore/l0_xlog.o \
	src/rowstore/decode.o \
	src/rowstore/stub.o \
	src/rowstore/gendir.o \
	src/lsm/flush.o \
	src/lsm/flush_demand.o \
	src/lsm/flush_progress.o \
	src/lsm/compact.o \
	src/lsm/compact_progress.o \
	src/lsm/rewrite.o \
	src/rowstore/metapage.o \
	src/events/payload.o \
	src/events/ring.o \
	src/events/emit.o \
	src/events/events_views.o \
	src/bgworker/launcher.o \
	src/bgworker/worker.o \
	src/encoding/bitpack.o \
	src/encoding/plain.o \
	src/encoding/dict.o \
	src/encoding/rle.o \
	src/encoding/delta.o \
	src/encoding/choose.o \
	src/encoding/chunk.o \
	src/compress/compress.o \
	src/stripe/stripe_write.o \
	src/stripe/stripe_read.o \
	src/stripe/stripe_reuse.o \
	src/cache/chunk_cache.o \
	src/scan/colscan.o \
	src/scan/aggscan.o \
	src/scan/prefetch_guard.o \
	src/api/encoding_diag.o \
	src/api/stripe_views.o \
	src/api/layout_views.o \
	src/api/table_options.o

DATA = rustydb_am--0.1.0.sql rustydb_am--0.1.0--0.2.0.sql rustydb_am--0.2.0--0.3.0.sql \
	rustydb_am--0.3.0--0.4.0.sql rustydb_am--0.4.0--0.5.0.sql \
	rustydb_am--0.5.0--0.6.0.sql rustydb_am--0.6.0--0.7.0.sql \
	rustydb_am--0.7.0--0.8.0.sql
PG_CPPFLAGS = -Iinclude
SHLIB_LINK = -llz4 -lzstd -lxxhash


# Test lists (REGRESS, ISOLATION, their options) live in tests.mk.
-include tests.mk

PG_CONFIG ?= pg_config
# On a fresh machine pg_config is not installed yet: `make demo` / `make test`
# must still work (they install it), so PGXS is included only when present.
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)

# PGXS tracks no header dependencies (without --enable-depend): a changed
# header (a struct's layout) must rebuild every object, or objects built
# against the old layout disagree at run time.  (After the include: the
# first target is PGXS's "all".)
RDB_HEADERS := $(wildcard include/rustydb/*.h src/*/*.h)
$(OBJS) $(OBJS:.o=.bc): $(RDB_HEADERS)
endif

.PHONY: demo test
demo:
	bash scripts/demo.sh
test:
	bash scripts/test.sh
