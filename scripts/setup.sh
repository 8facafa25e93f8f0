#!/usr/bin/env bash
#
# setup.sh - install build/test dependencies, create the server user, build
#            and install the rustydb_am extension.
#
# Run as root on Debian 12.  Idempotent: apt is skipped when every package is
# already installed, the user is created only if missing, and make rebuilds
# only what changed.  Called by scripts/demo.sh and scripts/test.sh.
#
# Exit status is non-zero if a package cannot be installed or the extension
# does not build/install; make's output (compiler errors) goes to the terminal.
#
# Environment knobs:
#   RDB_SKIP_BUILD=1   install packages and the user only, do not build.  Only
#                      for exercising the scripts before the C code builds.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_BIN=/usr/lib/postgresql/15/bin
PG_CONFIG=$PG_BIN/pg_config
RDB_USER=${RDB_USER:-rustydb}

# Everything the build, the demo and the four test suites need.
PACKAGES=(
	postgresql-15                         # server, initdb, pg_ctl, psql, pgbench
	postgresql-server-dev-15              # PGXS, server headers, pg_regress, pg_isolation_regress, TAP modules
	postgresql-15-pgtap                   # the pgtap extension
	libtap-parser-sourcehandler-pgtap-perl  # pg_prove
	libipc-run-perl                       # needed by PostgreSQL::Test::Cluster (TAP tests)
	libzstd-dev liblz4-dev libxxhash-dev  # compression and checksums used by the extension
	libkrb5-dev                           # some server headers include gssapi headers
	build-essential                       # gcc, make
)

log() { echo "setup.sh: $*"; }

if [ "$(id -u)" != 0 ]; then
	echo "setup.sh: must be run as root (it installs packages and the extension)" >&2
	exit 1
fi

# ---------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------
missing=()
for pkg in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$pkg")
	fi
done

if [ ${#missing[@]} -gt 0 ]; then
	log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	timeout 600 apt-get update
	timeout 1200 apt-get install -y --no-install-recommends "${missing[@]}"

	# Installing postgresql-15 makes Debian create (and maybe start) a
	# default cluster 15/main on port 5432.  We never use it; if we just
	# installed the server, drop it so it does not hold a port and memory.
	# A cluster that existed before this run is left alone.
	if printf '%s\n' "${missing[@]}" | grep -qx postgresql-15 &&
		command -v pg_lsclusters >/dev/null &&
		pg_lsclusters -h 2>/dev/null | awk '{print $1"/"$2}' | grep -qx '15/main'; then
		log "dropping the default cluster 15/main created by the package"
		pg_dropcluster --stop 15 main || pg_ctlcluster 15 main stop || true
	fi
else
	log "all packages present, skipping apt"
fi

# ---------------------------------------------------------------------------
# Server user
# ---------------------------------------------------------------------------
if ! id "$RDB_USER" >/dev/null 2>&1; then
	log "creating user $RDB_USER"
	useradd --create-home --shell /bin/bash --user-group "$RDB_USER"
fi

# ---------------------------------------------------------------------------
# Build and install the extension
# ---------------------------------------------------------------------------
if [ "${RDB_SKIP_BUILD:-0}" = 1 ]; then
	log "RDB_SKIP_BUILD=1: not building the extension"
	exit 0
fi

cd "$REPO"
log "building rustydb_am"
if ! timeout 900 make -j"$(nproc)" PG_CONFIG="$PG_CONFIG"; then
	echo "setup.sh: build failed (compiler output above)" >&2
	exit 1
fi
log "installing rustydb_am into $($PG_CONFIG --pkglibdir)"
if ! timeout 300 make PG_CONFIG="$PG_CONFIG" install; then
	echo "setup.sh: make install failed" >&2
	exit 1
fi

# Citus, the distributed engine rustydb users grow into, is third-party code
# that the repository never contains.  Where a local copy of its release
# tarball sits beside the project (../shared/vendor, or RDB_CITUS_TARBALL),
# build it once with ../shared/tools/build_citus.sh so that t/031_citus.pl
# runs; elsewhere that test skips, saying so.  A failed build is reported
# and skipped, never fatal: it only costs that one test.
# (no tarball there is normal: `|| true`, or pipefail + set -e would stop here)
citus_tarball=${RDB_CITUS_TARBALL:-$( (ls "$REPO"/../shared/vendor/citus-*.tar.gz 2>/dev/null || true) | tail -n 1)}
citus_script=${RDB_CITUS_BUILD_SCRIPT:-$REPO/../shared/tools/build_citus.sh}
if [ "${RDB_SKIP_CITUS:-0}" != 1 ] && [ -n "$citus_tarball" ] && [ -f "$citus_script" ] &&
	[ ! -f "$($PG_CONFIG --pkglibdir)/citus.so" ]; then
	log "building Citus from $citus_tarball (for t/031_citus.pl; log in /tmp/rustydb_citus_build.log)"
	if ! timeout 900 bash "$citus_script" "$citus_tarball" >/tmp/rustydb_citus_build.log 2>&1; then
		log "Citus build failed (last lines below); t/031_citus.pl will skip"
		tail -n 15 /tmp/rustydb_citus_build.log
	fi
fi
log "done"
