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
#      CA_DURATION s after a warm-up of the same length):
#      heap; rustydb with the cache warm (shared cache + the per-backend
#      chunk group layer, the defaults); rustydb with the shared cache only
#      (rustydb.stripe_cache_size = 0: every lookup copies its chunks out of
#      shared memory); rustydb cold (rustydb.chunk_cache_size = 0 and
#      stripe_cache_size = 0: every lookup decompresses its chunks).
#   2. bench/sql/scan_aggregate.sql by the columnar scan, CA_RUNS times:
#      cache off; cache on and warm; cache on but emptied before each scan
#      (the cold single scan: what the cache costs a scan that gains nothing).
#   3. hit rates per policy with a cache of CA_SMALL (smaller than the
#      decoded data): a skewed lookup workload (Zipf-like ids,
#      random_zipfian s = 1.1, spread over the table by a multiplicative
#      permutation) and a scan-heavy one (the same lookups, plus full
#      columnar scans of scan_aggregate.sql by a second client), each
#      CA_DURATION s after a warm-up, with stripe_cache_size = 0 so that every
#      lookup reaches the shared cache.
#
# Parameters: CA_ROWS=1000000, CA_RUNS=5, CA_DURATION=10, CA_SMALL=16MB,
#             CA_PORT=55439, CA_USER=rustydb, CA_OUT=bench/results/cache.md

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CA_USER=${CA_USER:-rustydb}
CA_ROWS=${CA_ROWS:-1000000}
CA_RUNS=${CA_RUNS:-5}
CA_DURATION=${CA_DURATION:-10}
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
cat >"$DIR/scan.sql" <<EOF
SET rustydb.enable_columnar_scan = on;
$(grep -v '^--' "$BENCH_DIR/sql/scan_aggregate.sql")
EOF

tps() # db, script, [PGOPTIONS]
{
	PGOPTIONS="${3:-}" pgbench -n -M prepared -c 1 -T "$CA_DURATION" -f "$2" "$1" >/dev/null 2>&1
	PGOPTIONS="${3:-}" pgbench -n -M prepared -c 1 -T "$CA_DURATION" -f "$2" "$1" 2>&1 |
		sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
scan_ms() # extra SQL before the scan
{
	psql -X -v ON_ERROR_STOP=1 -d ca_rustydb <<-EOF | awk '/^Time: /{t=$2} END{print t}'
		$1
		\o /dev/null
		\timing on
		\i $DIR/scan.sql
	EOF
}
median() { tr ' ' '\n' <<<"$1" | awk 'NF' | sort -g | awk '{v[NR]=$1} END{if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

# 1 + 2 with the default cache (64MB, clock)
setconf "rustydb.chunk_cache_size = 256MB"
L_HEAP=$(tps ca_heap "$DIR/lookup.sql")
L_WARM=$(tps ca_rustydb "$DIR/lookup.sql")
L_SHARED=$(tps ca_rustydb "$DIR/lookup.sql" "-c rustydb.stripe_cache_size=0")
HIT_LOOKUP=$(q -d ca_rustydb -c "SELECT round(hit_rate::numeric, 4) FROM rustydb.pool_stats")
S_WARM="" S_COLD=""
scan_ms "" >/dev/null
for ((r = 1; r <= CA_RUNS; r++)); do
	S_WARM+="$(scan_ms "") "
	S_COLD+="$(scan_ms "SELECT rustydb.chunk_cache_clear();") "
done
setconf "rustydb.chunk_cache_size = 0"
L_COLD=$(tps ca_rustydb "$DIR/lookup.sql" "-c rustydb.stripe_cache_size=0")
L_NOSHARED=$(tps ca_rustydb "$DIR/lookup.sql")
S_OFF=""
for ((r = 1; r <= CA_RUNS; r++)); do
	S_OFF+="$(scan_ms "") "
done
S_HEAP=""
for ((r = 1; r <= CA_RUNS; r++)); do
	S_HEAP+="$(psql -X -d ca_heap <<-EOF | awk '/^Time: /{t=$2} END{print t}'
		\o /dev/null
		\timing on
		\i $BENCH_DIR/sql/scan_aggregate.sql
	EOF
	) "
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
	echo "## Point lookups by id through a btree (pgbench, 1 client, $CA_DURATION s after a warm-up)"
	echo
	echo "| | tps | / heap |"
	echo "|---|---|---|"
	for k in HEAP WARM SHARED NOSHARED COLD; do
		v=L_$k
		case $k in
			HEAP) label="heap" ;;
			WARM) label="rustydb, cache warm (shared cache 256MB + per-backend layer, defaults)" ;;
			SHARED) label="rustydb, shared cache only (stripe_cache_size = 0)" ;;
			NOSHARED) label="rustydb, per-backend layer only (chunk_cache_size = 0)" ;;
			COLD) label="rustydb, cold: no cache at all (every lookup decompresses)" ;;
		esac
		awk -v l="$label" -v t="${!v}" -v h="$L_HEAP" 'BEGIN { printf "| %s | %.0f | %.3f |\n", l, t, t/h }'
	done
	echo
	echo "Hit rate of the shared cache over the two rustydb lookup runs with it on: $HIT_LOOKUP."
	echo
	echo "## Full-scan aggregate (bench/sql/scan_aggregate.sql, columnar scan), median of $CA_RUNS (ms)"
	echo
	echo "| | ms | / cache off |"
	echo "|---|---|---|"
	off=$(median "$S_OFF")
	for k in HEAP OFF WARM COLD; do
		v=S_$k
		case $k in
			HEAP) label="heap" ;;
			OFF) label="rustydb, cache off" ;;
			WARM) label="rustydb, cache on, warm (repeated scan)" ;;
			COLD) label="rustydb, cache on, emptied before each scan (cold single scan)" ;;
		esac
		awk -v l="$label" -v t="$(median "${!v}")" -v o="$off" 'BEGIN { printf "| %s | %.0f | %.3f |\n", l, t, t/o }'
	done
	echo
	echo "Rounds: heap $S_HEAP; off $S_OFF; warm $S_WARM; cold $S_COLD"
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
