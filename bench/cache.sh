#!/usr/bin/env bash
#
# bench/cache.sh -- the shared chunk cache (src/cache): point lookups and
# repeated scans of flushed rows against heap, and hit rates per policy.
#
#   sudo bash bench/cache.sh        # as root: runs itself as user rustydb
#   bash bench/cache.sh             # as an unprivileged user
#
# One throwaway cluster (bench/postgresql.bench.conf, data checksums,
# rustydb_am preloaded, shared_buffers 1GB so that every stripe page stays
# in shared_buffers: what is measured is the decompression the cache saves,
# not disk reads), databases ca_heap and ca_rustydb.  CA_ROWS rows of the
# benchmark's event data (bench/sql/events_generate.sql) are loaded into
# `events` on both sides, with a btree on id; the rustydb side is flushed.
# The server is restarted for each cache configuration (the size and the
# policy are PGC_POSTMASTER):
#
#   1. point lookups by id through the btree (pgbench, 1 client, prepared,
#      CA_DURATION s after a warm-up of 2 s, CA_RUNS rounds each
#      interleaved with heap in the same server):
#      heap; rustydb with the cache warm (shared cache + the per-backend
#      chunk group layer, the defaults); rustydb with the shared cache only
#      (rustydb.stripe_cache_size = 0: every lookup copies its chunks out of
#      shared memory); the per-backend layer only (rustydb.enable_chunk_cache
#      = off); rustydb cold (enable_chunk_cache = off and stripe_cache_size =
#      0: every lookup decompresses its chunks).
#   2. bench/sql/scan_aggregate.sql and scan_narrow.sql by the columnar
#      scan, CA_RUNS times:
#      the session bypassing the cache (rustydb.enable_chunk_cache = off);
#      cache warm; cache emptied before each scan (the cold single scan: what
#      the cache costs a scan that gains nothing), interleaved round by round.
#   3. hit rates per policy with a cache of CA_SMALL (smaller than the
#      decoded data): a skewed lookup workload (Zipf-like ids,
#      random_zipfian s = 1.1, spread over the table by a multiplicative
#      permutation) and a scan-heavy one (the same lookups, plus full
#      columnar scans of scan_aggregate.sql by a second client), each
#      CA_DURATION s after a warm-up, with stripe_cache_size = 0 so that every
#      lookup reaches the shared cache.
#
# Parameters: CA_ROWS=1000000, CA_RUNS=5, CA_DURATION=5, CA_SMALL=16MB,
#             CA_PORT=55439, CA_USER=rustydb, CA_OUT=bench/results/cache.md

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CA_USER=${CA_USER:-rustydb}
CA_ROWS=${CA_ROWS:-1000000}
CA_RUNS=${CA_RUNS:-5}
CA_DURATION=${CA_DURATION:-5}
CA_SMALL=${CA_SMALL:-16MB}
CA_PORT=${CA_PORT:-55439}
CA_OUT=${CA_OUT:-$BENCH_DIR/results/cache.md}

if [ -z "${PGBIN:-}" ]; then
	PGBIN=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
fi
export PATH="$PGBIN:$PATH"

CA_COMMIT=${CA_COMMIT:-$(git -C "$BENCH_DIR/.." rev-parse --short HEAD 2>/dev/null || echo '?')}
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$(dirname "$CA_OUT")"
	touch "$CA_OUT"
	chown "$CA_USER" "$CA_OUT"
	exec runuser -u "$CA_USER" -- env PGBIN="$PGBIN" CA_ROWS="$CA_ROWS" CA_RUNS="$CA_RUNS" \
		CA_DURATION="$CA_DURATION" CA_SMALL="$CA_SMALL" CA_PORT="$CA_PORT" CA_OUT="$CA_OUT" \
		CA_COMMIT="$CA_COMMIT" bash "$BENCH_DIR/cache.sh"
fi

DIR=$(mktemp -d /tmp/rustydb-bench-cache.XXXXXX)
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
	echo "port = $CA_PORT"
	echo "unix_socket_directories = '$DIR'"
	echo "shared_preload_libraries = 'rustydb_am'"
	echo "shared_buffers = 1GB"
	echo "max_parallel_workers_per_gather = 0"
	echo "include_if_exists = 'cache.conf'"
} >>"$PGDATA/postgresql.conf"
# cache.conf: the cache configuration of the current step
setconf()
{
	printf '%s\n' "$@" >"$PGDATA/cache.conf"
	pg_ctl -D "$PGDATA" -l "$DIR/server.log" -w restart >/dev/null
}
: >"$PGDATA/cache.conf"
pg_ctl -D "$PGDATA" -l "$DIR/server.log" -w start >/dev/null
export PGHOST=$DIR PGPORT=$CA_PORT PGUSER=postgres
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

csv=$DIR/events.csv
for am in heap rustydb; do
	q -d postgres -c "CREATE DATABASE ca_$am"
	q -d "ca_$am" -c "CREATE EXTENSION rustydb_am" -c "ALTER DATABASE ca_$am SET default_table_access_method = $am"
	q -d "ca_$am" -v tbl=events -f "$BENCH_DIR/sql/events_schema.sql"
done
q -d ca_heap -v rows="$CA_ROWS" -v path="$csv" -f "$BENCH_DIR/sql/events_generate.sql"
for am in heap rustydb; do
	q -d "ca_$am" -c "COPY events FROM '$csv' WITH (FORMAT csv)" -c "VACUUM ANALYZE events" \
		-c "CREATE INDEX events_id ON events (id)"
done
flushed=$(q -d ca_rustydb -c "SELECT rustydb.flush('events')")
[ "$flushed" = "$CA_ROWS" ] || { echo "flush moved $flushed of $CA_ROWS rows" >&2; exit 1; }
q -d ca_rustydb -c "VACUUM ANALYZE events"
decoded=$(q -d ca_rustydb -c "SELECT sum(encoded_bytes) FROM rustydb.columns WHERE relation = 'events'::regclass")
stored=$(q -d ca_rustydb -c "SELECT sum(stored_bytes) FROM rustydb.columns WHERE relation = 'events'::regclass")
chunks=$(q -d ca_rustydb -c "SELECT sum(chunks) FROM rustydb.columns WHERE relation = 'events'::regclass")

cat >"$DIR/lookup.sql" <<EOF
\set id random(1, $CA_ROWS)
SELECT * FROM events WHERE id = :id;
EOF
# Zipf-like: rank r (1 = hottest) is spread over the table by r * a mod n
cat >"$DIR/zipf.sql" <<EOF
\set r random_zipfian(1, $CA_ROWS, 1.1)
\set id 1 + (:r * 7919) % $CA_ROWS
SELECT * FROM events WHERE id = :id;
EOF
cat >"$DIR/narrow.sql" <<EOF
SET rustydb.enable_columnar_scan = on;
$(grep -v '^--' "$BENCH_DIR/sql/scan_narrow.sql")
EOF
cat >"$DIR/scan.sql" <<EOF
SET rustydb.enable_columnar_scan = on;
$(grep -v '^--' "$BENCH_DIR/sql/scan_aggregate.sql")
EOF

scan_ms() # extra SQL before the scan, [script]
{
	psql -X -v ON_ERROR_STOP=1 -d ca_rustydb <<-EOF | awk '/^Time: /{t=$2} END{print t}'
		$1
		\o /dev/null
		\timing on
		\i ${2:-$DIR/scan.sql}
	EOF
}
median() { tr ' ' '\n' <<<"$1" | awk 'NF' | sort -g | awk '{v[NR]=$1} END{if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

# 1 + 2.  The machine may be shared: every measurement is repeated
# CA_RUNS times, interleaved with its reference in the same server
# (lookups: heap and rustydb one after the other; scans: warm and cold),
# and medians are reported, with the median of the rounds' ratios.
tps1() # db, script, [PGOPTIONS]: CA_DURATION s after a warm-up of 2 s
{
	PGOPTIONS="${3:-}" pgbench -n -M prepared -c 1 -T 2 -f "$2" "$1" >/dev/null 2>&1
	PGOPTIONS="${3:-}" pgbench -n -M prepared -c 1 -T "$CA_DURATION" -f "$2" "$1" 2>&1 |
		sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
lookup_rounds() # variable name, PGOPTIONS for rustydb
{
	local r h t
	for ((r = 1; r <= CA_RUNS; r++)); do
		h=$(tps1 ca_heap "$DIR/lookup.sql")
		t=$(tps1 ca_rustydb "$DIR/lookup.sql" "$2")
		eval "$1+=\"$t \""
		eval "$1_H+=\"$h \""
	done
}
setconf "rustydb.chunk_cache_size = 256MB"
L_WARM="" L_WARM_H="" L_SHARED="" L_SHARED_H="" L_NOSHARED="" L_NOSHARED_H="" L_COLD="" L_COLD_H=""
lookup_rounds L_WARM ""
lookup_rounds L_SHARED "-c rustydb.stripe_cache_size=0"
HIT_LOOKUP=$(q -d ca_rustydb -c "SELECT round(hit_rate::numeric, 4) FROM rustydb.pool_stats")
lookup_rounds L_NOSHARED "-c rustydb.enable_chunk_cache=off"
lookup_rounds L_COLD "-c rustydb.enable_chunk_cache=off -c rustydb.stripe_cache_size=0"
# scans: off (this session bypasses the cache), warm, cold (emptied first),
# interleaved round by round
S_OFF="" S_WARM="" S_COLD="" S_NOFF="" S_NWARM="" S_NCOLD=""
scan_ms "" >/dev/null
for ((r = 1; r <= CA_RUNS; r++)); do
	S_OFF+="$(scan_ms "SET rustydb.enable_chunk_cache = off;") "
	S_WARM+="$(scan_ms "") "
	S_COLD+="$(scan_ms "SELECT rustydb.chunk_cache_clear();") "
	scan_ms "" "$DIR/narrow.sql" >/dev/null
	S_NOFF+="$(scan_ms "SET rustydb.enable_chunk_cache = off;" "$DIR/narrow.sql") "
	S_NWARM+="$(scan_ms "" "$DIR/narrow.sql") "
	S_NCOLD+="$(scan_ms "SELECT rustydb.chunk_cache_clear();" "$DIR/narrow.sql") "
done

# 3: hit rates per policy
declare -A HR_Z HR_S
for policy in clock lru2 2q; do
	setconf "rustydb.chunk_cache_size = $CA_SMALL" "rustydb.chunk_cache_policy = '$policy'"
	PGOPTIONS="-c rustydb.stripe_cache_size=0" pgbench -n -M prepared -c 1 -T "$CA_DURATION" -f "$DIR/zipf.sql" ca_rustydb >/dev/null 2>&1
	q -d ca_rustydb -c "SELECT rustydb.pool_reset()" >/dev/null
	PGOPTIONS="-c rustydb.stripe_cache_size=0" pgbench -n -M prepared -c 1 -T "$CA_DURATION" -f "$DIR/zipf.sql" ca_rustydb >/dev/null 2>&1
	HR_Z[$policy]=$(q -d ca_rustydb -c "SELECT round(hit_rate::numeric, 4) FROM rustydb.pool_stats")
	q -d ca_rustydb -c "SELECT rustydb.pool_reset()" >/dev/null
	PGOPTIONS="-c rustydb.stripe_cache_size=0" pgbench -n -M prepared -c 1 -T "$CA_DURATION" -f "$DIR/zipf.sql" ca_rustydb >/dev/null 2>&1 &
	pgbench -n -c 1 -T "$CA_DURATION" -f "$DIR/scan.sql" ca_rustydb >/dev/null 2>&1
	wait
	HR_S[$policy]=$(q -d ca_rustydb -c "SELECT round(hit_rate::numeric, 4) || ' (' || hits || ' hits, ' || misses || ' misses)' FROM rustydb.pool_stats")
done

{
	echo "# The shared chunk cache"
	echo
	echo "Measured with \`bash bench/cache.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores, commit $CA_COMMIT;"
	echo "$CA_ROWS rows of bench/sql/events_generate.sql, flushed into stripes ($chunks chunks,"
	awk -v d="$decoded" -v s="$stored" 'BEGIN { printf "%.1f MB decoded = encoded, %.1f MB stored); shared_buffers 1GB (every page stays in it).\n", d/1e6, s/1e6 }'
	echo
	echo "## Point lookups by id through a btree (pgbench, 1 client, $CA_DURATION s after 2 s of warm-up)"
	echo
	echo "Median of $CA_RUNS rounds, each round heap then rustydb in the same server; the ratio is the median of"
	echo "the rounds' ratios."
	echo
	echo "| rustydb configuration | rustydb tps | heap tps | rustydb / heap |"
	echo "|---|---|---|---|"
	for k in WARM SHARED NOSHARED COLD; do
		v=L_$k; vh=L_${k}_H
		case $k in
			WARM) label="cache warm (shared cache 256MB + per-backend layer, the defaults)" ;;
			SHARED) label="shared cache only (stripe_cache_size = 0)" ;;
			NOSHARED) label="per-backend layer only (enable_chunk_cache = off)" ;;
			COLD) label="cold: no cache at all (enable_chunk_cache = off, stripe_cache_size = 0: every lookup decompresses)" ;;
		esac
		ratios=$(paste -d' ' <(tr ' ' '\n' <<<"${!v}" | awk 'NF') <(tr ' ' '\n' <<<"${!vh}" | awk 'NF') | awk '{printf "%s ", $1/$2}')
		awk -v l="$label" -v t="$(median "${!v}")" -v h="$(median "${!vh}")" -v r="$(median "$ratios")" \
			'BEGIN { printf "| %s | %.0f | %.0f | %.3f |\n", l, t, h, r }'
	done
	echo
	echo "Hit rate of the shared cache over the rustydb lookup runs with it on: $HIT_LOOKUP."
	echo
	echo "## Scans by the columnar scan, median of $CA_RUNS (ms)"
	echo
	echo "scan_aggregate.sql reads 7 columns of every row; scan_narrow.sql sums one. Off (the session bypasses the"
	echo "cache: rustydb.enable_chunk_cache = off), warm and cold rounds alternate in one server."
	echo
	echo "| query | cache off | cache on, warm (repeated scan) | cache on, emptied before each scan (cold single scan) | warm / off | cold / off |"
	echo "|---|---|---|---|---|---|"
	awk -v o="$(median "$S_OFF")" -v w="$(median "$S_WARM")" -v c="$(median "$S_COLD")" \
		'BEGIN { printf "| scan_aggregate | %.0f | %.0f | %.0f | %.3f | %.3f |\n", o, w, c, w/o, c/o }'
	awk -v o="$(median "$S_NOFF")" -v w="$(median "$S_NWARM")" -v c="$(median "$S_NCOLD")" \
		'BEGIN { printf "| scan_narrow | %.0f | %.0f | %.0f | %.3f | %.3f |\n", o, w, c, w/o, c/o }'
	echo
	echo "Rounds scan_aggregate: off $S_OFF; warm $S_WARM; cold $S_COLD"
	echo
	echo "Rounds scan_narrow: off $S_NOFF; warm $S_NWARM; cold $S_NCOLD"
	echo
	echo "Lookup rounds (rustydb tps / heap tps): warm $L_WARM/ $L_WARM_H; shared only $L_SHARED/ $L_SHARED_H;"
	echo "per-backend only $L_NOSHARED/ $L_NOSHARED_H; cold $L_COLD/ $L_COLD_H"
	echo
	echo "## Hit rates per policy (cache of $CA_SMALL, $CA_DURATION s after a warm-up, stripe_cache_size = 0)"
	echo
	echo "| policy | skewed lookups (Zipf s = 1.1) | lookups + full scans (scan-heavy) |"
	echo "|---|---|---|"
	for p in clock lru2 2q; do
		echo "| $p | ${HR_Z[$p]} | ${HR_S[$p]} |"
	done
} >"$CA_OUT"
cat "$CA_OUT"
