#!/usr/bin/env bash
#
# bench/logical.sh -- what wal_level = logical costs, for heap and rustydb,
# in one run: WAL bytes per transaction and throughput of single-row INSERT
# and single-row UPDATE, at wal_level = replica and at wal_level = logical.
#
#   sudo bash bench/logical.sh        # as root: runs itself as user rustydb
#   bash bench/logical.sh             # as an unprivileged user
#
# At wal_level = logical both access methods log more: heap keeps the tuple
# data with full-page images and logs the old key of key-changing updates
# and of deletes; rustydb does the same through its own records (decode.c).
# The question this answers is whether rustydb's overhead is no worse than
# heap's.
#
# One throwaway cluster (bench/postgresql.bench.conf, data checksums,
# rustydb_am preloaded), started once per WAL level; databases lg_heap and
# lg_rustydb (default_table_access_method set, relam checked).  Per level,
# LG_RUNS rounds, alternating the order of the two AMs:
#   insert   pgbench, 1 client, -M prepared, INSERT of one row (id, a 40-byte
#            text, a timestamp) into a table with a primary key
#   update   pgbench, 1 client, -M prepared, UPDATE of a non-key column of a
#            random row of a 100,000-row table with a primary key (the old key
#            is not logged: REPLICA IDENTITY DEFAULT, key unchanged)
# each for LG_DURATION seconds; WAL bytes = pg_current_wal_lsn() difference
# over the run divided by the transactions pgbench counted.  At wal_level =
# logical a logical replication slot (test_decoding) exists during the runs
# and is drained after each, so the level really is in use; the number of
# changes it decoded is checked against the transactions.
#
# Parameters: LG_RUNS=3, LG_DURATION=10, LG_PORT=55437, LG_USER=rustydb,
#             LG_OUT=bench/results/logical.md
# Exit status: 0 when every run worked and every check held.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LG_USER=${LG_USER:-rustydb}
LG_RUNS=${LG_RUNS:-3}
LG_DURATION=${LG_DURATION:-10}
LG_PORT=${LG_PORT:-55437}
LG_OUT=${LG_OUT:-$BENCH_DIR/results/logical.md}

if [ -z "${PGBIN:-}" ]; then
	PGBIN=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
fi
export PATH="$PGBIN:$PATH"

# the commit measured (the server user may not read the repository's .git)
LG_COMMIT=${LG_COMMIT:-$(git -C "$BENCH_DIR/.." rev-parse --short HEAD 2>/dev/null || echo '?')}
if [ -n "$(git -C "$BENCH_DIR/.." status --porcelain -- src include 2>/dev/null)" ]; then
	LG_COMMIT="$LG_COMMIT (with uncommitted changes in src/ or include/)"
fi

if [ "$(id -u)" = 0 ]; then
	mkdir -p "$(dirname "$LG_OUT")"
	touch "$LG_OUT"
	chown "$LG_USER" "$LG_OUT"
	exec runuser -u "$LG_USER" -- env PGBIN="$PGBIN" LG_RUNS="$LG_RUNS" \
		LG_DURATION="$LG_DURATION" LG_PORT="$LG_PORT" LG_OUT="$LG_OUT" \
		LG_COMMIT="$LG_COMMIT" \
		bash "$BENCH_DIR/logical.sh"
fi

DIR=$(mktemp -d /tmp/rustydb-bench-logical.XXXXXX)
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
	echo "port = $LG_PORT"
	echo "unix_socket_directories = '$DIR'"
	echo "shared_preload_libraries = 'rustydb_am'"
	echo "shared_buffers = 1GB"
	echo "max_replication_slots = 4"
	echo "max_wal_senders = 4"
} >>"$PGDATA/postgresql.conf"

export PGHOST=$DIR PGPORT=$LG_PORT PGUSER=postgres
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

start_level()
{
	pg_ctl -D "$PGDATA" -m fast stop >/dev/null 2>&1 || true
	echo "wal_level = $1" >"$PGDATA/level.conf"
	grep -q "include 'level.conf'" "$PGDATA/postgresql.conf" ||
		echo "include 'level.conf'" >>"$PGDATA/postgresql.conf"
	pg_ctl -D "$PGDATA" -l "$DIR/server.log" -w start >/dev/null
	[ "$(q -d postgres -c 'SHOW wal_level')" = "$1" ] || { echo "wal_level is not $1" >&2; exit 1; }
}

cat >"$DIR/insert.sql" <<'EOF'
INSERT INTO lg_ins (payload, at) VALUES ('0123456789012345678901234567890123456789', now());
EOF
cat >"$DIR/update.sql" <<'EOF'
\set id random(1, 100000)
UPDATE lg_upd SET n = n + 1 WHERE id = :id;
EOF

start_level replica
for am in heap rustydb; do
	q -d postgres -c "CREATE DATABASE lg_$am"
	q -d "lg_$am" -c "CREATE EXTENSION rustydb_am" -c "ALTER DATABASE lg_$am SET default_table_access_method = $am"
done

declare -A RES

# run LEVEL AM TEST: one timed pgbench run; records tps and WAL bytes/txn
run()
{
	local level=$1 am=$2 test=$3 db=lg_$2 out lsn0 lsn1 tps ntx bytes decoded
	if [ "$test" = insert ]; then
		q -d "$db" -c "DROP TABLE IF EXISTS lg_ins" \
			-c "CREATE TABLE lg_ins (id bigserial PRIMARY KEY, payload text, at timestamptz)"
	else
		q -d "$db" -c "DROP TABLE IF EXISTS lg_upd" \
			-c "CREATE TABLE lg_upd (id int PRIMARY KEY, n int, pad text)" \
			-c "INSERT INTO lg_upd SELECT g, 0, repeat('p', 60) FROM generate_series(1, 100000) g" \
			-c "VACUUM ANALYZE lg_upd"
	fi
	[ "$(q -d "$db" -c "SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.relname = 'lg_${test:0:3}'")" = "$am" ] ||
		{ echo "lg_${test:0:3} in $db is not $am" >&2; exit 1; }
	if [ "$level" = logical ]; then
		q -d "$db" -c "SELECT 1 FROM pg_create_logical_replication_slot('lg_slot', 'test_decoding')" >/dev/null
	fi
	q -d "$db" -c CHECKPOINT
	lsn0=$(q -d "$db" -c 'SELECT pg_current_wal_insert_lsn()')
	out=$(pgbench -n -M prepared -c 1 -T "$LG_DURATION" -f "$DIR/$test.sql" "$db" 2>&1)
	lsn1=$(q -d "$db" -c 'SELECT pg_current_wal_insert_lsn()')
	tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out")
	ntx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
	[ -n "$tps" ] && [ "${ntx:-0}" -gt 0 ] || { echo "pgbench failed: $out" >&2; exit 1; }
	bytes=$(q -d "$db" -c "SELECT round(pg_wal_lsn_diff('$lsn1', '$lsn0') / $ntx)")
	if [ "$level" = logical ]; then
		decoded=$(q -d "$db" -c "SELECT count(*) FROM pg_logical_slot_get_changes('lg_slot', NULL, NULL, 'include-xids', '0') WHERE data LIKE 'table %'")
		q -d "$db" -c "SELECT pg_drop_replication_slot('lg_slot')" >/dev/null
		[ "$decoded" -ge "$ntx" ] || { echo "$level/$am/$test: $ntx transactions but only $decoded changes decoded" >&2; exit 1; }
	fi
	RES[$level,$am,$test]+="$tps $bytes;"
	echo "  $level $am $test: $tps tps, $bytes WAL bytes/txn"
}

median()	# median of the N-th field of "a b;a b;..." entries
{
	tr ';' '\n' <<<"$1" | awk -v f="$2" 'NF { print $f }' | sort -g |
		awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

for level in replica logical; do
	start_level "$level"
	echo "wal_level = $level"
	for ((r = 1; r <= LG_RUNS; r++)); do
		for test in insert update; do
			if ((r % 2)); then order="heap rustydb"; else order="rustydb heap"; fi
			for am in $order; do run "$level" "$am" "$test"; done
		done
	done
done

{
	echo "# wal_level = logical against replica: heap and rustydb"
	echo
	echo "Measured with \`bash bench/logical.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores,"
	echo "commit $LG_COMMIT,"
	echo "$LG_RUNS rounds of $LG_DURATION s per cell, medians; 1 pgbench client, -M prepared."
	echo
	echo "| test | AM | tps replica | tps logical | tps logical/replica | WAL B/txn replica | WAL B/txn logical | extra WAL |"
	echo "|---|---|---|---|---|---|---|---|"
	for test in insert update; do
		for am in heap rustydb; do
			tr_=$(median "${RES[replica,$am,$test]}" 1)
			tl=$(median "${RES[logical,$am,$test]}" 1)
			br=$(median "${RES[replica,$am,$test]}" 2)
			bl=$(median "${RES[logical,$am,$test]}" 2)
			awk -v t="$test" -v a="$am" -v tr="$tr_" -v tl="$tl" -v br="$br" -v bl="$bl" 'BEGIN {
				printf "| %s | %s | %.0f | %.0f | %.2f | %.0f | %.0f | %+.0f%% |\n", t, a, tr, tl, tl / tr, br, bl, (bl / br - 1) * 100 }'
		done
	done
	echo
	echo "Every run: $(for k in "${!RES[@]}"; do echo "$k=${RES[$k]}"; done | sort | tr '\n' ' ')"
} >"$LG_OUT"
cat "$LG_OUT"
