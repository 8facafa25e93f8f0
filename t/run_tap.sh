#!/usr/bin/env bash
# t/run_tap.sh — run the TAP tests (t/*.pl) the way PGXS's prove_installcheck
# does, as an unprivileged user (PostgreSQL refuses to run as root).
#
#   t/run_tap.sh                      # all of t/*.pl against the installed extension
#   t/run_tap.sh t/003_corruption.pl  # some of them
#   RDB_TEST_AM=heap t/run_tap.sh     # the same tests on heap (validates the tests)
#
# Environment: RDB_TEST_AM (default rustydb), PG_CONFIG (default pg_config),
# TAP_USER (default rustydb; used only when started as root), TESTDIR (default
# a fresh directory under /tmp; tmp_check/log/ there keeps the server logs),
# PROVE_FLAGS (e.g. -v).  Exit status is prove's.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pg_config=${PG_CONFIG:-pg_config}
bindir=$("$pg_config" --bindir)
pgxsdir=$(dirname "$(dirname "$("$pg_config" --pgxs)")")   # .../lib/pgxs/src
testdir=${TESTDIR:-$(mktemp -d /tmp/rustydb_tap.XXXXXX)}
mkdir -p "$testdir"
user=${TAP_USER:-rustydb}

if [ "$#" -eq 0 ]; then
	set -- t/*.pl
fi

# PG_TEST_NOCLEAN keeps the data directories when set (to anything).
keep=()
[ -n "${PG_TEST_NOCLEAN:-}" ] && keep=("PG_TEST_NOCLEAN=1")
cmd=(env -u PG_TEST_NOCLEAN
	"PATH=$bindir:$PATH"
	"TESTDIR=$testdir"
	"PG_REGRESS=$pgxsdir/test/regress/pg_regress"
	"RDB_TEST_AM=${RDB_TEST_AM:-rustydb}"
	"${keep[@]}"
	prove -I "$pgxsdir/test/perl" -I "$root/t" ${PROVE_FLAGS:-} "$@")

cd "$root"
if [ "$(id -u)" -eq 0 ]; then
	id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$user"
	chown -R "$user" "$testdir"
	echo "TAP logs: $testdir/tmp_check/log"
	exec runuser -u "$user" -- "${cmd[@]}"
else
	echo "TAP logs: $testdir/tmp_check/log"
	exec "${cmd[@]}"
fi
