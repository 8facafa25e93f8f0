#!/usr/bin/env bash
#
# gen_expected.sh - regenerate expected/*.out of the AM-agnostic tests on heap
#
# The pg_regress and isolation tests whose names do not start with rustydb_
# must behave exactly like heap, so their expected output IS heap's output.
# This script runs those two suites with default_table_access_method = heap
# (via scripts/test.sh, same set-up, cluster and databases as `make test`)
# and copies each test's result over expected/NAME.out in this repository.
# rustydb_* tests are skipped and their expected output is left untouched.
#
# Review the result with `git diff expected/` before committing: the output
# is only as right as heap's behaviour on the test as written.
#
# Usage: bash scripts/gen_expected.sh [NAME-PATTERN...]
#   (as root, like make test; patterns limit which tests are regenerated)

set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${RDB_WORK_DIR:-/tmp/rustydb_gen_expected}

# Only results written by this run count (if set-up fails, the work
# directory may still hold an older run's results).
marker=$(mktemp)
trap 'rm -f "$marker"' EXIT

RDB_TEST_AM=heap RDB_SUITES="regress isolation" RDB_GEN_EXPECTED=1 \
	RDB_TESTS="$*" RDB_WORK_DIR="$WORK" bash "$REPO/scripts/test.sh"
echo "(failures above are differences from the old expected output)"

# Copy results of the tests that were run (those listed in the run logs).
copied=0
copy_results()
{
	local log=$1 resdir=$2 name

	[ "$log" -nt "$marker" ] || return 0
	for name in $(grep -E '^(test +| +)?[^ ]+ +\.\.\. ' "$log" |
		sed -E 's/^(test +| +)?([^ ]+) .*/\2/'); do
		case "$name" in rustydb_*) continue ;; esac
		if [ ! -f "$resdir/$name.out" ]; then
			echo "gen_expected.sh: no result for $name" >&2
			continue
		fi
		if ! cmp -s "$resdir/$name.out" "$REPO/expected/$name.out"; then
			cp "$resdir/$name.out" "$REPO/expected/$name.out"
			# keep the repository's ownership, not the test user's
			chown --reference="$REPO/expected" "$REPO/expected/$name.out" 2>/dev/null || true
			echo "updated expected/$name.out"
			copied=$((copied + 1))
		fi
	done
}

copy_results "$WORK/regress.log" "$WORK/results"
copy_results "$WORK/isolation.log" "$WORK/output_iso/results"
echo "gen_expected.sh: $copied expected file(s) updated"
