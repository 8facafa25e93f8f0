#!/usr/bin/env bash
#
# demo.sh - `make demo`: install, build, start a throwaway cluster and show
#           rustydb at work on a few hundred thousand realistic events
#
#   1. (as root) scripts/setup.sh: packages, user rustydb, build + install.
#   2. a fresh cluster in $RDB_DEMO_DIR (default /tmp/rustydb_demo), run by
#      user rustydb, with shared_preload_libraries = 'rustydb_am' and
#      data checksums; a previous demo cluster there is stopped and removed.
#   3. database rustydb_demo: CREATE EXTENSION rustydb_am, then
#      scripts/demo.sql (generate events, COPY into a rustydb table, compare
#      with a heap twin, analytics, an index lookup, sizes, UPDATE/DELETE/VACUUM).
#   4. the cluster is left running; how to connect and stop it is printed.
#
# Environment knobs:
#   RDB_DEMO_DIR=DIR     cluster directory (default /tmp/rustydb_demo)
#   RDB_DEMO_ROWS=N      events to generate (default 300000)
#   RDB_DEMO_AM=heap     run the same demo on heap (to check the script itself)

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${RDB_DEMO_DIR:-/tmp/rustydb_demo}
ROWS=${RDB_DEMO_ROWS:-300000}
AM=${RDB_DEMO_AM:-rustydb}
DB=rustydb_demo

# shellcheck source=scripts/cluster.sh
source "$REPO/scripts/cluster.sh"

if [ "$(id -u)" = 0 ]; then
	echo "=== setup (scripts/setup.sh) ==="
	bash "$REPO/scripts/setup.sh"
else
	echo "demo.sh: not root: skipping setup.sh, using the installed extension"
fi

echo "=== a throwaway cluster in $DIR ==="
rdb_cluster_destroy "$DIR"
rdb_cluster_create "$DIR"
rdb_cluster_start "$DIR"
PORT=$(rdb_cluster_port "$DIR")
psql_demo() { rdb_cluster_psql "$DIR" -v ON_ERROR_STOP=1 "$@"; }

psql_demo -d postgres -q -c "CREATE DATABASE $DB"
have=$(psql_demo -d "$DB" -Atc "SELECT count(*) FROM pg_available_extensions WHERE name = 'rustydb_am'")
if [ "$have" = 1 ]; then
	psql_demo -d "$DB" -e -c "CREATE EXTENSION rustydb_am"
	psql_demo -d "$DB" -c "SELECT amname, amtype FROM pg_am WHERE amtype = 't' ORDER BY amname"
elif [ "$AM" = rustydb ]; then
	echo "demo.sh: the rustydb_am extension is not installed" >&2
	exit 1
fi

# The script comes in on stdin, so user rustydb needs no access to the repo.
as_owner=()
[ "$(id -u)" = 0 ] && as_owner=(runuser -u "$RDB_USER" --)
(cd /tmp && timeout 600 "${as_owner[@]}" "$RDB_PG_BIN/psql" -X --host="$DIR" --port="$PORT" \
	--username="$RDB_DBUSER" --dbname="$DB" -v ON_ERROR_STOP=1 --echo-queries \
	-v am="$AM" -v rows="$ROWS" -v csv="$DIR/events.csv") <"$REPO/scripts/demo.sql"

# The staging file is no longer needed (the data is in the tables).
rm -f "$DIR/events.csv"

cat <<EOF

=== the demo cluster is still running ===
connect:  psql -h $DIR -p $PORT -U $RDB_DBUSER $DB
          (or, over TCP: psql -h 127.0.0.1 -p $PORT -U $RDB_DBUSER $DB)
server log: $DIR/postgres.log
stop it:  bash $REPO/scripts/cluster.sh stop $DIR
remove:   bash $REPO/scripts/cluster.sh destroy $DIR
EOF
