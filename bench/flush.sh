#!/usr/bin/env bash
#
# bench/flush.sh -- what flushing into columnar stripes does to size, scans
# and lookups, against heap, in one run.
#
#   sudo bash bench/flush.sh        # as root: runs itself as user rustydb
#   bash bench/flush.sh             # as an unprivileged user
#
# One throwaway cluster (bench/postgresql.bench.conf, data checksums,
# rustydb_am preloaded), databases fl_heap and fl_rustydb.  FL_ROWS rows of
# the benchmark's event data (bench/sql/events_generate.sql, the same file
# bench.sh uses) are loaded with COPY into `events` in both and VACUUMed;
# then rustydb.flush('events') runs on the rustydb side (timed), and both
# sides are measured: table size, four scans (bench/sql/scan_aggregate.sql,
# scan_narrow.sql, scan_group_text.sql, scan_range.sql; FL_RUNS rotating
# rounds, medians, parallel query off) on heap and on rustydb with the
# columnar scan off and on, and point lookups by id through a btree
# (pgbench, 1 client, FL_DURATION s); last, VACUUM FULL on both sides (timed,
# sizes after).  The rustydb side is checked to hold stripes with every row,
# and both sides must give the same aggregate, and the same rows after
# VACUUM FULL.
#
# Parameters: FL_ROWS=1000000, FL_RUNS=5, FL_DURATION=10, FL_PORT=55438,
#             FL_USER=rustydb, FL_OUT=bench/results/flush.md
# Exit status: 0 when every run worked and every check held.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FL_USER=${FL_USER:-rustydb}
FL_ROWS=${FL_ROWS:-1000000}
FL_RUNS=${FL_RUNS:-5}
FL_DURATION=${FL_DURATION:-10}
FL_PORT=${FL_PORT:-55438}
FL_OUT=${FL_OUT:-$BENCH_DIR/results/flush.md}

if [ -z "${PGBIN:-}" ]; then
	PGBIN=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
fi
export PATH="$PGBIN:$PATH"

FL_COMMIT=${FL_COMMIT:-$(git -C "$BENCH_DIR/.." rev-parse --short HEAD 2>/dev/null || echo '?')}
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$(dirname "$FL_OUT")"
	touch "$FL_OUT"
	chown "$FL_USER" "$FL_OUT"
	exec runuser -u "$FL_USER" -- env PGBIN="$PGBIN" FL_ROWS="$FL_ROWS" FL_RUNS="$FL_RUNS" \
		FL_DURATION="$FL_DURATION" FL_PORT="$FL_PORT" FL_OUT="$FL_OUT" FL_COMMIT="$FL_COMMIT" \
		bash "$BENCH_DIR/flush.sh"
fi

DIR=$(mktemp -d /tmp/rustydb-bench-flush.XXXXXX)
PGDATA=$DIR/data
cleanup()
{
	pg_ctl -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$DIR"
}
trap cleanup EXIT

initdb -D "$PGDATA" --data-checksums -E UTF8 --locale=C -U postgres >/dev/null
{
	echo "include '$BENCH_DIR/postgresql.bench.conf'"
	echo "port = $FL_PORT"
	echo "unix_socket_directories = '$DIR'"
	echo "shared_preload_libraries = 'rustydb_am'"
	echo "shared_buffers = 2GB"
} >>"$PGDATA/postgresql.conf"
pg_ctl -D "$PGDATA" -l "$DIR/server.log" -w start >/dev/null
export PGHOST=$DIR PGPORT=$FL_PORT PGUSER=postgres
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

csv=$DIR/events.csv
for am in heap rustydb; do
	q -d postgres -c "CREATE DATABASE fl_$am"
	q -d "fl_$am" -c "CREATE EXTENSION rustydb_am" -c "ALTER DATABASE fl_$am SET default_table_access_method = $am"
	q -d "fl_$am" -v tbl=events -f "$BENCH_DIR/sql/events_schema.sql"
	[ "$(q -d "fl_$am" -c "SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.relname = 'events'")" = "$am" ] ||
		{ echo "events in fl_$am is not $am" >&2; exit 1; }
done
q -d fl_heap -v rows="$FL_ROWS" -v path="$csv" -f "$BENCH_DIR/sql/events_generate.sql"
for am in heap rustydb; do
	q -d "fl_$am" -c "COPY events FROM '$csv' WITH (FORMAT csv)" -c "VACUUM ANALYZE events" \
		-c "CREATE INDEX events_id ON events (id)"
done

size_before=$(q -d fl_rustydb -c "SELECT pg_table_size('events')")
t0=$(date +%s.%N)
flushed=$(q -d fl_rustydb -c "SELECT rustydb.flush('events')")
t1=$(date +%s.%N)
[ "$flushed" = "$FL_ROWS" ] || { echo "flush moved $flushed of $FL_ROWS rows" >&2; exit 1; }
read -r stripes stripe_rows stripe_bytes <<<"$(q -d fl_rustydb -F ' ' -c "SELECT count(*), sum(nrows), sum(nblocks) * 8192 FROM rustydb.stripes('events')")"
[ "$stripe_rows" = "$FL_ROWS" ] || { echo "stripes hold $stripe_rows rows" >&2; exit 1; }
size_heap=$(q -d fl_heap -c "SELECT pg_table_size('events')")
size_after=$(q -d fl_rustydb -c "SELECT pg_table_size('events')")

# The scans: each query on heap, on rustydb with the ordinary seq scan
# (rustydb.enable_columnar_scan = off: how flushed rows were read before the
# columnar scan) and with the columnar scan (on).  Same answers everywhere;
# the plans are checked to be what the setting says.
QUERIES="scan_aggregate scan_narrow scan_group_text scan_range"
CONFS="heap off on"
conf_db() { if [ "$1" = heap ]; then echo fl_heap; else echo fl_rustydb; fi; }
conf_guc() { if [ "$1" = on ]; then echo on; else echo off; fi; }
for qn in $QUERIES; do
	for c in $CONFS; do
		psql -X -A -v ON_ERROR_STOP=1 -d "$(conf_db "$c")" -c "SET max_parallel_workers_per_gather = 0" \
			-c "SET rustydb.enable_columnar_scan = $(conf_guc "$c")" \
			-f "$BENCH_DIR/sql/$qn.sql" >"$DIR/$qn.$c"
		plan=$(psql -X -A -t -v ON_ERROR_STOP=1 -d "$(conf_db "$c")" -c "SET max_parallel_workers_per_gather = 0" \
			-c "SET rustydb.enable_columnar_scan = $(conf_guc "$c")" \
			-c "EXPLAIN (COSTS OFF) $(grep -v '^--' "$BENCH_DIR/sql/$qn.sql")")
		if [ "$c" = on ]; then
			grep -q RustydbScan <<<"$plan" || { echo "$qn: no columnar scan with it on" >&2; exit 1; }
		else
			! grep -q RustydbScan <<<"$plan" || { echo "$qn: columnar scan with it off" >&2; exit 1; }
		fi
	done
	cmp -s "$DIR/$qn.heap" "$DIR/$qn.off" && cmp -s "$DIR/$qn.heap" "$DIR/$qn.on" ||
		{ echo "$qn: answers differ" >&2; exit 1; }
done

declare -A SCAN LOOK
scan_ms()
{
	psql -X -v ON_ERROR_STOP=1 -d "$(conf_db "$1")" <<-EOF | awk '/^Time: /{t=$2} END{print t}'
		SET max_parallel_workers_per_gather = 0;
		SET rustydb.enable_columnar_scan = $(conf_guc "$1");
		\o /dev/null
		\timing on
		\i $BENCH_DIR/sql/$2.sql
	EOF
}
cat >"$DIR/lookup.sql" <<EOF
\set id random(1, $FL_ROWS)
SELECT * FROM events WHERE id = :id;
EOF
for ((r = 1; r <= FL_RUNS; r++)); do
	case $((r % 3)) in
		1) order="heap off on" ;;
		2) order="on heap off" ;;
		0) order="off on heap" ;;
	esac
	for qn in $QUERIES; do
		for c in $order; do
			SCAN[$qn.$c]+="$(scan_ms "$c" "$qn") "
		done
	done
done
for am in heap rustydb; do
	LOOK[$am]=$(pgbench -n -M prepared -c 1 -T "$FL_DURATION" -f "$DIR/lookup.sql" "fl_$am" 2>&1 |
		sed -n 's/^tps = \([0-9.]*\).*/\1/p')
done
# VACUUM FULL on both, last (it rewrites the layout the measurements above
# read): rustydb writes the rows every snapshot sees straight into stripes
# (src/lsm/rewrite.c), so the retired L0 pages' room is given back
vf_ms()
{
	psql -X -v ON_ERROR_STOP=1 -d "$1" <<-EOF | awk '/^Time: /{t=$2} END{print t}'
		\timing on
		VACUUM FULL events;
	EOF
}
VF_HEAP=$(vf_ms fl_heap)
VF_RDB=$(vf_ms fl_rustydb)
size_vf_heap=$(q -d fl_heap -c "SELECT pg_table_size('events')")
size_vf=$(q -d fl_rustydb -c "SELECT pg_table_size('events')")
sum_sql="SELECT count(*) || ' ' || sum(hashtext(e::text)) FROM events e"
[ "$(q -d fl_heap -c "$sum_sql")" = "$(q -d fl_rustydb -c "$sum_sql")" ] ||
	{ echo "rows differ after VACUUM FULL" >&2; exit 1; }
median() { tr ' ' '\n' <<<"$1" | awk 'NF' | sort -g | awk '{v[NR]=$1} END{if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

{
	echo "# Flush into columnar stripes against heap"
	echo
	echo "Measured with \`bash bench/flush.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores, commit $FL_COMMIT;"
	echo "$FL_ROWS rows of bench/sql/events_generate.sql, COPY + VACUUM on both sides, then rustydb.flush()."
	echo
	echo "| | heap | rustydb | rustydb / heap |"
	echo "|---|---|---|---|"
	awk -v h="$size_heap" -v b="$size_before" 'BEGIN { printf "| table size before flush | %.1f MB | %.1f MB | %.2f |\n", h/1e6, b/1e6, b/h }'
	awk -v h="$size_heap" -v a="$size_after" 'BEGIN { printf "| table size after flush | %.1f MB | %.1f MB | %.2f |\n", h/1e6, a/1e6, a/h }'
	awk -v h="$size_heap" -v s="$stripe_bytes" -v n="$stripes" 'BEGIN { printf "| values in stripes (%d stripes) | | %.1f MB | %.3f (%.1fx smaller than heap) |\n", n, s/1e6, s/h, h/s }'
	awk -v t="$(echo "$t1 - $t0" | bc)" -v n="$FL_ROWS" 'BEGIN { printf "| flush | | %.2f s (%.0f rows/s) | |\n", t, n/t }'
	awk -v h="${LOOK[heap]}" -v r="${LOOK[rustydb]}" 'BEGIN { printf "| point lookups by id, 1 client (tps) | %.0f | %.0f | %.2f |\n", h, r, r/h }'
	awk -v h="$size_vf_heap" -v a="$size_vf" 'BEGIN { printf "| table size after VACUUM FULL (last) | %.1f MB | %.1f MB | %.3f (%.1fx smaller than heap) |\n", h/1e6, a/1e6, a/h, h/a }'
	awk -v h="$VF_HEAP" -v r="$VF_RDB" 'BEGIN { printf "| VACUUM FULL | %.2f s | %.2f s | %.2f |\n", h/1000, r/1000, r/h }'
	echo
	echo "Scans after the flush, median of $FL_RUNS rounds (ms), parallel query off; rustydb read by the ordinary"
	echo "seq scan (\`rustydb.enable_columnar_scan = off\`, as before the columnar scan) and by the columnar scan (on)."
	echo "Ratios are rustydb time / heap time (below 1: faster than heap)."
	echo
	echo "| query | heap | rustydb, seq scan | rustydb, columnar scan | seq scan / heap | columnar / heap |"
	echo "|---|---|---|---|---|---|"
	for qn in $QUERIES; do
		h=$(median "${SCAN[$qn.heap]}"); o=$(median "${SCAN[$qn.off]}"); n=$(median "${SCAN[$qn.on]}")
		awk -v q="$qn" -v h="$h" -v o="$o" -v n="$n" 'BEGIN { printf "| %s | %.0f | %.0f | %.0f | %.2f | %.2f |\n", q, h, o, n, o/h, n/h }'
	done
	echo
	echo "Queries: bench/sql/scan_aggregate.sql (GROUP BY event_type with seven aggregates), scan_narrow.sql"
	echo "(sum of one numeric column), scan_group_text.sql (GROUP BY a text column, count), scan_range.sql"
	echo "(about 1% of the rows by a ts range, no index on ts)."
	echo
	for qn in $QUERIES; do
		echo "Rounds $qn (ms): heap ${SCAN[$qn.heap]}; seq scan ${SCAN[$qn.off]}; columnar ${SCAN[$qn.on]}"
		echo
	done
} >"$FL_OUT"
cat "$FL_OUT"
