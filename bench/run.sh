#!/usr/bin/env bash
#
# bench/run.sh -- entry point of the heap vs rustydb benchmark.
#
#   sudo bash bench/run.sh                      # heap vs rustydb
#   BENCH_AM=heap bash bench/run.sh             # heap vs heap: checks the harness
#
# Run as root it prepares the machine and hands the benchmark proper
# (bench/bench.sh) to the unprivileged user $BENCH_USER (default rustydb,
# created if missing), because PostgreSQL refuses to run as root:
#   - runs scripts/setup.sh when the project has one (installs packages,
#     builds and installs the extension), unless BENCH_SETUP=0; otherwise the
#     extension must already be installed (make && make install);
#   - creates the user, the data directory for the generated COPY file, and
#     copies bench/ to /tmp if that user cannot read it in place;
#   - copies the markdown report to bench/results/.
# Run as any other user it runs bench/bench.sh directly as that user.
#
# Parameters are environment variables (BENCH_*), all passed through; see
# bench/README.md. The exit status is bench.sh's.
#

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(dirname "$BENCH_DIR")

BENCH_USER=${BENCH_USER:-rustydb}
BENCH_SETUP=${BENCH_SETUP:-1}
BENCH_AM=${BENCH_AM:-rustydb}
BENCH_BASE_AM=${BENCH_BASE_AM:-heap}
BENCH_DATA_DIR=${BENCH_DATA_DIR:-/tmp/rustydb-bench-data}
export BENCH_AM BENCH_BASE_AM BENCH_DATA_DIR

# The report name says what was compared, so a heap-vs-heap check of the
# harness never overwrites the real heap-vs-rustydb figures.
if [ "$BENCH_BASE_AM" = heap ] && [ "$BENCH_AM" = rustydb ]; then
	REPORT_NAME=latest.md
else
	REPORT_NAME=latest-$BENCH_BASE_AM-vs-$BENCH_AM.md
fi
REPORT=${BENCH_REPORT:-$BENCH_DIR/results/$REPORT_NAME}

say() { printf '[bench/run.sh] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

if [ "$(id -u)" != 0 ]; then
	export BENCH_OUT=$REPORT
	exec bash "$BENCH_DIR/bench.sh"
fi

# ---- as root: prepare, then delegate
NEED_EXT=0
if [ "$BENCH_AM" = rustydb ] || [ "$BENCH_BASE_AM" = rustydb ]; then
	NEED_EXT=1
fi
if [ "$BENCH_SETUP" != 0 ] && [ -f "$ROOT_DIR/scripts/setup.sh" ]; then
	# Without rustydb in the comparison (heap vs heap, to check the harness)
	# only packages and the user are needed: don't build the extension.
	say "running scripts/setup.sh (BENCH_SETUP=0 skips it)"
	if [ "$NEED_EXT" = 1 ]; then
		bash "$ROOT_DIR/scripts/setup.sh" || die "scripts/setup.sh failed: the extension must build and install"
	else
		RDB_SKIP_BUILD=1 RDB_USER=$BENCH_USER bash "$ROOT_DIR/scripts/setup.sh"
	fi
fi

PG_CONFIG=${PG_CONFIG:-$(command -v pg_config || echo /usr/lib/postgresql/15/bin/pg_config)}
[ -x "$PG_CONFIG" ] ||
	die "PostgreSQL 15 is not installed (no pg_config): install postgresql-15 and postgresql-server-dev-15, or run make demo"
PGBIN=$("$PG_CONFIG" --bindir)
export PGBIN
for b in initdb pg_ctl psql pgbench; do
	[ -x "$PGBIN/$b" ] || die "$PGBIN/$b is missing (postgresql-15 packages)"
done
if [ "$NEED_EXT" = 1 ]; then
	[ -f "$("$PG_CONFIG" --pkglibdir)/rustydb_am.so" ] &&
		[ -f "$("$PG_CONFIG" --sharedir)/extension/rustydb_am.control" ] ||
		die "the rustydb_am extension is not installed: run 'make && make install' in $ROOT_DIR first"
fi

if ! id "$BENCH_USER" >/dev/null 2>&1; then
	say "creating user $BENCH_USER"
	useradd --create-home --shell /bin/bash "$BENCH_USER"
fi

mkdir -p "$BENCH_DATA_DIR"
chown "$BENCH_USER": "$BENCH_DATA_DIR"

OUTDIR=$(mktemp -d /tmp/rustydb-bench-out.XXXXXX)
chown "$BENCH_USER": "$OUTDIR"
trap 'rm -rf "$OUTDIR"' EXIT

# bench.sh and its SQL files must be readable by the unprivileged user.
RUN_DIR=$BENCH_DIR
if ! runuser -u "$BENCH_USER" -- test -r "$BENCH_DIR/bench.sh"; then
	RUN_DIR=$OUTDIR/bench
	cp -r "$BENCH_DIR" "$RUN_DIR"
	chown -R "$BENCH_USER": "$RUN_DIR"
fi

# Pass every BENCH_* variable (and PGBIN) through runuser's clean environment.
ENV_ARGS=(PGBIN="$PGBIN" BENCH_OUT="$OUTDIR/report.md" PATH="$PGBIN:/usr/local/bin:/usr/bin:/bin")
while IFS= read -r v; do
	case $v in BENCH_OUT) continue ;; esac
	ENV_ARGS+=("$v=${!v}")
done < <(compgen -e | grep '^BENCH_' || true)

say "running bench/bench.sh as $BENCH_USER"
set +e
(cd /tmp && runuser -u "$BENCH_USER" -- env "${ENV_ARGS[@]}" bash "$RUN_DIR/bench.sh")
rc=$?
set -e

if [ -s "$OUTDIR/report.md" ]; then
	mkdir -p "$(dirname "$REPORT")"
	cp "$OUTDIR/report.md" "$REPORT"
	say "report: $REPORT"
fi
exit $rc
