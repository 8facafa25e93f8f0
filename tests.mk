# tests.mk - test lists for rustydb_am
#
# Included by the Makefile (-include tests.mk) and read by scripts/test.sh,
# which runs every suite with `make test`.  The lists are computed from the
# files present, so a new test is picked up by adding its files; nothing here
# needs editing.  Paths are relative to the repository root.
#
# Layout
#   sql/NAME.sql + expected/NAME.out      pg_regress          (REGRESS)
#   specs/NAME.spec + expected/NAME.out   isolation           (ISOLATION)
#   pgtap/NAME.sql                        pgTAP, via pg_prove (PGTAP)
#   t/NNN_name.pl                         TAP, PostgreSQL::Test::Cluster (TAP_TESTS)
#   expected/NAME_1.out ...               alternative outputs, as pg_regress allows
#
# Regress and isolation tests share expected/, so their names must differ.
# Tests run in sorted name order (C collation), one database per suite that
# all tests of the suite share: a test that others depend on gets a name that
# sorts first (e.g. `helpers`, or `rustydb_00_setup` among rustydb_ tests).
#
# Which access method the tests exercise
#   scripts/test.sh creates the suite databases itself, with the extension
#   installed and `ALTER DATABASE ... SET default_table_access_method =
#   rustydb`, and runs pg_regress / pg_isolation_regress with --use-existing.
#   So a test that says plain `CREATE TABLE t (...)` gets a rustydb table.
#   Tests connect as the cluster's superuser `postgres` (the servers run as
#   the OS user rustydb, but a role named rustydb would put its tables in the
#   extension's schema through search_path's "$user").
#   `RDB_TEST_AM=heap make test` runs the same suites on heap instead.
#
# Two kinds of regress/isolation tests
#   * AM-agnostic tests (any name NOT starting with `rustydb_`): plain SQL that
#     must behave exactly like heap.  Their expected/*.out is the output heap
#     gives: regenerate it with `bash scripts/gen_expected.sh` (runs the suites
#     on heap and copies the results over expected/), then review the diff.
#     Keep them free of AM-specific output: no relation sizes, no ctid values,
#     no plans whose costs depend on the table size.  (pg_regress runs psql
#     with HIDE_TABLEAM=on, so \d+ does not show the access method.)  The test
#     databases have the extension installed in both modes, so
#     `CREATE EXTENSION IF NOT EXISTS rustydb_am` prints the same NOTICE on
#     heap and on rustydb.
#   * AM-specific tests (`rustydb_*`): use rustydb features (reloptions,
#     rustydb.* functions, checksum errors, ...).  gen_expected.sh never
#     touches their expected output, which is written and checked by hand.
#
# Shared helper: scripts/test.sh creates rdb_test.wait_quiet() in the regress
# and isolation databases.  Call it before a flush or a VACUUM that must
# find every row visible to all: it waits, bounded, until no other backend
# of the database holds a snapshot.
#
# pgTAP files follow `BEGIN; SELECT plan(n); ... SELECT * FROM finish(); ROLLBACK;`
# and run in a database with both pgtap and rustydb_am installed.  TAP tests
# create their own clusters and must add shared_preload_libraries = 'rustydb_am'
# (and initdb --data-checksums) themselves.

REGRESS   = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
ISOLATION = $(sort $(basename $(notdir $(wildcard specs/*.spec))))
PGTAP     = $(sort $(wildcard pgtap/*.sql))
TAP       = $(sort $(wildcard t/*.pl))

# PGXS runs t/*.pl under `make installcheck` when TAP_TESTS is set.
TAP_TESTS = $(if $(TAP),1,)

# `make test` (scripts/test.sh) is the supported way to run the tests: it sets
# up the cluster, databases and user described above.  PGXS's own
# `make installcheck` would instead use an already running server at the
# default port, without the database settings, so it is not wired up here.

# Used by scripts/test.sh: print a variable, e.g. `make -s -f tests.mk print-REGRESS`.
print-%:
	@echo $($*)
