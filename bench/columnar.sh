#!/usr/bin/env bash
#
# bench/columnar.sh -- the measurements the columnar-stripes issue asks for,
# rustydb against heap in one run (ratios, parallel query off).
#
#   sudo bash bench/columnar.sh        # as root: runs itself as user rustydb
#   bash bench/columnar.sh             # as an unprivileged user
#
# One throwaway cluster (bench/postgresql.bench.conf, data checksums,
# rustydb_am preloaded, shared_buffers 4GB, rustydb.chunk_cache_size 1GB),
# databases co_heap and co_rustydb.  CO_ROWS rows of
# the benchmark's event data (bench/sql/events_generate.sql) are loaded with
# COPY into `events` on both sides (timed, CO_RUNS alternating rounds into
# the emptied table: the COPY figure is their median), VACUUMed and
# indexed on id; the rustydb side is flushed (rustydb.flush, timed: the flush
# throughput) and must then hold every row in stripes.  Then, alternating
# the two sides CO_RUNS times and taking medians:
#
#   full-scan aggregate     count, sum and avg over three columns of every row
#   GROUP BY two text cols  event_type, country
#   last 1 % of time range  ts >= the 99th percentile of the range
#   SELECT * selective      tenant_id = 3 AND status = 500 (no index)
#   LIKE on url             the widest text column
#
# each of which must give the same answer on both sides (checked), timed
# as the first query of a new connection and again in that connection (as
# a connection pool would run it: backend caches and the backend's mapping
# of shared memory warm; reported apart); then
# rustydb.compact() merges the flush's stripes (timed), with sort_key = 'ts'
# set first as the compaction issue asks (the rows arrive in ts order, so
# the sort leaves them where they are: the report counts chunk groups whose
# ts range overlaps the next one's, 0 when stripes are in ts order), and the
# first four are timed again (answers checked again); and
#
#   point lookups by id     pgbench, 1 client, CO_DURATION s, btree index
#   single-row INSERT       pgbench, 1 client, CO_DURATION s, into a fresh
#                           table with flush_rows = 10000 (background flush
#                           running on the rustydb side)
#   UPDATE 1 % / DELETE 1 % of the flushed rows (one statement each)
#
# The report (CO_OUT) gives times, ratios (heap time / rustydb time: above 1
# means rustydb is faster) and which plan rustydb used.
#
# Size: the table after the one-shot load and flush (its retired L0 pages
# are free pages, reused by later inserts) and a table that received the
# same rows in batches of CO_FLUSH_ROWS, each flushed before the next
# (steady ingestion, as the background flush does with flush_rows).
#
# Parameters: CO_ROWS=5000000, CO_RUNS=3, CO_DURATION=10, CO_PORT=55440,
#             CO_FLUSH_ROWS=100000,
#             CO_USER=rustydb, CO_OUT=bench/results/columnar.md
# Exit status: 0 when every run worked and every check held.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CO_USER=${CO_USER:-rustydb}
CO_ROWS=${CO_ROWS:-5000000}
CO_RUNS=${CO_RUNS:-3}
CO_DURATION=${CO_DURATION:-10}
CO_FLUSH_ROWS=${CO_FLUSH_ROWS:-100000}
CO_PORT=${CO_PORT:-55440}
CO_OUT=${CO_OUT:-$BENCH_DIR/results/columnar.md}

if [ -z "${PGBIN:-}" ]; then
	PGBIN=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
fi
export PATH="$PGBIN:$PATH"

CO_COMMIT=${CO_COMMIT:-$(git -C "$BENCH_DIR/.." rev-parse --short HEAD 2>/dev/null || echo '?')}
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$(dirname "$CO_OUT")"
	touch "$CO_OUT"
	chown "$CO_USER" "$CO_OUT"
	exec runuser -u "$CO_USER" -- env PGBIN="$PGBIN" CO_ROWS="$CO_ROWS" CO_RUNS="$CO_RUNS" \
		CO_DURATION="$CO_DURATION" CO_FLUSH_ROWS="$CO_FLUSH_ROWS" CO_PORT="$CO_PORT" CO_OUT="$CO_OUT" CO_COMMIT="$CO_COMMIT" \
		bash "$BENCH_DIR/columnar.sh"
fi

DIR=$(mktemp -d /tmp/rustydb-bench-columnar.XXXXXX)
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
	echo "port = $CO_PORT"
	echo "unix_socket_directories = '$DIR'"
	echo "shared_preload_libraries = 'rustydb_am'"
	echo "shared_buffers = 4GB"
	# the decompressed chunks of every column of 5 M rows take about 160 MB:
	# sized like shared_buffers above, so that the table's working set fits
	echo "rustydb.chunk_cache_size = 1GB"
	# and each backend's decoded chunk groups (the lookups' working set, the
	# same 160 MB) in its own cache, as the 1 M-row runs do with the default
	echo "rustydb.stripe_cache_size = 256MB"
	echo "max_parallel_workers_per_gather = 0"
} >>"$PGDATA/postgresql.conf"
pg_ctl -D "$PGDATA" -l "$DIR/server.log" -w start >/dev/null
export PGHOST=$DIR PGPORT=$CO_PORT PGUSER=postgres
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }

csv=$DIR/events.csv
for am in heap rustydb; do
	q -d postgres -c "CREATE DATABASE co_$am"
	q -d "co_$am" -c "CREATE EXTENSION rustydb_am" -c "ALTER DATABASE co_$am SET default_table_access_method = $am"
	q -d "co_$am" -v tbl=events -f "$BENCH_DIR/sql/events_schema.sql"
	q -d "co_$am" -v tbl=ins -f "$BENCH_DIR/sql/events_schema.sql"
	[ "$(q -d "co_$am" -c "SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.relname = 'events'")" = "$am" ] ||
		{ echo "events in co_$am is not $am" >&2; exit 1; }
done
q -d co_heap -v rows="$CO_ROWS" -v path="$csv" -f "$BENCH_DIR/sql/events_generate.sql"
median() { tr ' ' '\n' <<<"$1" | awk 'NF' | sort -g | awk '{v[NR]=$1} END{if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

# COPY CO_RUNS times on each side, alternating (one COPY moved by a fifth
# between runs of the same build), each into the table emptied by TRUNCATE
# after a CHECKPOINT; the last load stays
declare -A COPY_S
for ((r = 1; r <= CO_RUNS; r++)); do
	if ((r % 2)); then order="heap rustydb"; else order="rustydb heap"; fi
	for am in $order; do
		q -d "co_$am" -c "TRUNCATE events" -c "CHECKPOINT"
		t0=$(now)
		q -d "co_$am" -c "COPY events FROM '$csv' WITH (FORMAT csv)"
		t1=$(now)
		COPY_S[$am]+="$(echo "$t1 - $t0" | bc) "
	done
done
for am in heap rustydb; do
	q -d "co_$am" -c "VACUUM ANALYZE events" -c "CREATE INDEX events_id ON events (id)"
done

t0=$(now)
flushed=$(q -d co_rustydb -c "SELECT rustydb.flush('events')")
t1=$(now)
flush_s=$(echo "$t1 - $t0" | bc)
[ "$flushed" = "$CO_ROWS" ] || { echo "flush moved $flushed of $CO_ROWS rows" >&2; exit 1; }
q -d co_rustydb -c "VACUUM ANALYZE events"
read -r stripes stripe_rows stripe_bytes <<<"$(q -d co_rustydb -F ' ' -c "SELECT count(*), sum(nrows), sum(nblocks) * 8192 FROM rustydb.stripes('events')")"
[ "$stripe_rows" = "$CO_ROWS" ] || { echo "stripes hold $stripe_rows rows" >&2; exit 1; }
size_heap=$(q -d co_heap -c "SELECT pg_table_size('events')")
size_rdb=$(q -d co_rustydb -c "SELECT pg_table_size('events')")
free_pages=$(q -d co_rustydb -c "SELECT free_pages FROM rustydb.l0_layout('events')")

# steady ingestion: the same rows arrive in batches of CO_FLUSH_ROWS, each
# flushed before the next arrives (what the background flush does with
# flush_rows = CO_FLUSH_ROWS): the pages each flush retires are reused by
# the next batch, so the table ends up as its stripes plus about one batch
# of L0 pages
q -d co_rustydb -v tbl=steady -f "$BENCH_DIR/sql/events_schema.sql"
per=$CO_FLUSH_ROWS
CO_BATCHES=$(((CO_ROWS + per - 1) / per))
for ((b = 0; b < CO_BATCHES; b++)); do
	q -d co_rustydb -c "INSERT INTO steady SELECT * FROM events WHERE id > $((b * per)) AND id <= $(((b + 1) * per))" \
		-c "SELECT rustydb.flush('steady')" >/dev/null
done
[ "$(q -d co_rustydb -c 'SELECT count(*) FROM steady')" = "$CO_ROWS" ] || { echo "steady lost rows" >&2; exit 1; }
size_steady=$(q -d co_rustydb -c "SELECT pg_table_size('steady')")

# the last 1 % of the time range, as a constant (same on both sides)
ts99=$(q -d co_heap -c "SELECT min(ts) + (max(ts) - min(ts)) * 0.99 FROM events")

declare -A QUERY
QUERY[agg]="SELECT count(*), sum(duration_ms), avg(amount), max(ts) FROM events"
QUERY[groupby]="SELECT event_type, country, count(*) FROM events GROUP BY 1, 2 ORDER BY 1, 2"
QUERY[recent]="SELECT count(*), sum(duration_ms), count(DISTINCT user_id) FROM events WHERE ts >= '$ts99'"
QUERY[selective]="SELECT * FROM events WHERE tenant_id = 3 AND status = 500 ORDER BY id"
QUERY[like]="SELECT count(*) FROM events WHERE url LIKE '%checkout/123%'"
NAMES="agg groupby recent selective like"
declare -A LABEL=([agg]="full-scan aggregate" [groupby]="GROUP BY two text columns"
	[recent]="last 1 % of the time range" [selective]="SELECT * with a selective filter"
	[like]="LIKE on the largest text column")

# same answers on both sides
for n in $NAMES; do
	for am in heap rustydb; do
		q -d "co_$am" -c "${QUERY[$n]}" | md5sum >"$DIR/ans.$n.$am"
	done
	cmp -s "$DIR/ans.$n.heap" "$DIR/ans.$n.rustydb" || { echo "$n: answers differ" >&2; exit 1; }
done

# the query's time in a new connection (its first query: what the rounds
# below report), and with run_ms2 also its time run again in that
# connection (a pooled connection: the backend's caches and its mapping of
# shared memory warm)
run_ms()
{
	psql -X -v ON_ERROR_STOP=1 -d "co_$1" <<-EOF | awk '/^Time: /{t=$2} END{print t}'
		\o /dev/null
		\timing on
		$2;
	EOF
}
run_ms2()
{
	psql -X -v ON_ERROR_STOP=1 -d "co_$1" <<-EOF | awk '/^Time: /{t[++n]=$2} END{print t[1], t[2]}'
		\o /dev/null
		\timing on
		$2;
		$2;
	EOF
}
declare -A T TW PLAN
for n in $NAMES; do
	PLAN[$n]=$(q -d co_rustydb -c "EXPLAIN (COSTS OFF) ${QUERY[$n]}" | grep -o -m1 -E 'Custom Scan \([A-Za-z ]+\)|Seq Scan|Index Scan|Bitmap Heap Scan' || echo '?')
	for ((r = 1; r <= CO_RUNS; r++)); do
		if ((r % 2)); then order="heap rustydb"; else order="rustydb heap"; fi
		for am in $order; do
			read -r cold warm <<<"$(run_ms2 "$am" "${QUERY[$n]}")"
			T[$n.$am]+="$cold "
			TW[$n.$am]+="$warm "
		done
	done
done

# compaction: the flush's level-1 stripes merged into level 2 (rustydb.compact,
# timed), then the scans again, alternating with heap as before
q -d co_rustydb -c "ALTER TABLE events SET (sort_key = 'ts')"
t0=$(now)
compacted=$(q -d co_rustydb -c "SELECT rustydb.compact('events')")
t1=$(now)
compact_s=$(echo "$t1 - $t0" | bc)
levels_before="L1:$stripes"
levels_after=$(q -d co_rustydb -c "SELECT stripes_per_level FROM rustydb.tables WHERE relation = 'events'::regclass")
ts_overlaps=$(q -d co_rustydb -c "SELECT count(*) FILTER (WHERE next_min < max::timestamptz) || ' of ' || count(*) FROM (SELECT max, lead(min::timestamptz) OVER (PARTITION BY first_block ORDER BY chunk_group) AS next_min FROM rustydb.chunk_bounds('events') WHERE column_name = 'ts') b")
[ "$(q -d co_rustydb -c 'SELECT count(*) FROM events')" = "$CO_ROWS" ] || { echo "compaction lost rows" >&2; exit 1; }
CNAMES="agg groupby recent selective"
declare -A TC TCW
for n in $CNAMES; do
	q -d co_rustydb -c "${QUERY[$n]}" | md5sum >"$DIR/ans.$n.compacted"
	cmp -s "$DIR/ans.$n.heap" "$DIR/ans.$n.compacted" || { echo "$n: answers differ after compaction" >&2; exit 1; }
	for ((r = 1; r <= CO_RUNS; r++)); do
		if ((r % 2)); then order="heap rustydb"; else order="rustydb heap"; fi
		for am in $order; do
			read -r cold warm <<<"$(run_ms2 "$am" "${QUERY[$n]}")"
			TC[$n.$am]+="$cold "
			TCW[$n.$am]+="$warm "
		done
	done
done

# point lookups and single-row inserts
cat >"$DIR/lookup.sql" <<EOF
\set id random(1, $CO_ROWS)
SELECT * FROM events WHERE id = :id;
EOF
cat >"$DIR/insert.sql" <<'EOF'
\set i random(1, 1000000000)
INSERT INTO ins VALUES (:i, now(), :i % 100, :i, md5(:i::text)::uuid, 'page_view', 200, :i % 1000, NULL, 'US', '/products/' || :i, '{"k": 1}');
EOF
q -d co_rustydb -c "ALTER TABLE ins SET (flush_rows = 10000)"
# CO_RUNS alternating rounds each, medians (with one 10 s run each, the
# inserts' ratio spread from 0.57 to 1.04 between runs of this script)
declare -A LOOK INS LOOKS INSS
for ((r = 1; r <= CO_RUNS; r++)); do
	if ((r % 2)); then order="heap rustydb"; else order="rustydb heap"; fi
	for am in $order; do
		LOOKS[$am]+="$(pgbench -n -M prepared -c 1 -T "$CO_DURATION" -f "$DIR/lookup.sql" "co_$am" 2>&1 |
			sed -n 's/^tps = \([0-9.]*\).*/\1/p') "
		INSS[$am]+="$(pgbench -n -M prepared -c 1 -T "$CO_DURATION" -f "$DIR/insert.sql" "co_$am" 2>&1 |
			sed -n 's/^tps = \([0-9.]*\).*/\1/p') "
	done
done
for am in heap rustydb; do
	LOOK[$am]=$(median "${LOOKS[$am]}")
	INS[$am]=$(median "${INSS[$am]}")
done
ins_flushed=$(q -d co_rustydb -c "SELECT flushed_rows FROM rustydb.tables WHERE relation = 'ins'::regclass")

# UPDATE and DELETE of 1 % of the (flushed) rows
declare -A UPD DEL
for am in heap rustydb; do
	UPD[$am]=$(run_ms "$am" "UPDATE events SET status = 201 WHERE id % 100 = 7")
	DEL[$am]=$(run_ms "$am" "DELETE FROM events WHERE id % 100 = 8")
done
[ "$(q -d co_heap -c 'SELECT count(*), sum(status) FROM events')" = "$(q -d co_rustydb -c 'SELECT count(*), sum(status) FROM events')" ] ||
	{ echo "after UPDATE/DELETE the tables differ" >&2; exit 1; }

{
	echo "# Columnar stripes against heap"
	echo
	echo "Measured with \`bash bench/columnar.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores, commit $CO_COMMIT;"
	echo "$CO_ROWS rows of bench/sql/events_generate.sql, COPY + VACUUM + index on id on both sides, then"
	echo "rustydb.flush(); parallel query off; medians of $CO_RUNS alternating rounds, each query the first of"
	echo "a new connection (\"again in the same connection\": its second run there). Ratio = heap / rustydb"
	echo "for times (above 1: rustydb faster), rustydb / heap for rates and sizes."
	echo
	echo "| | heap | rustydb | ratio | rustydb plan |"
	echo "|---|---|---|---|---|"
	awk -v h="$size_heap" -v r="$size_steady" -v b="$CO_FLUSH_ROWS" 'BEGIN { printf "| table size, rows arriving and flushed every %d rows | %.1f MB | %.1f MB | %.2f (heap / rustydb) | |\n", b, h/1e6, r/1e6, h/r }'
	awk -v h="$size_heap" -v r="$size_rdb" -v f="$free_pages" 'BEGIN { printf "| table size after one load + flush | %.1f MB | %.1f MB | %.2f (heap / rustydb) | (%d free pages left by retired L0 pages, reused by later rows) |\n", h/1e6, r/1e6, h/r, f }'
	awk -v h="$size_heap" -v s="$stripe_bytes" -v n="$stripes" 'BEGIN { printf "| of which stripes (%d) | | %.1f MB | (%.1fx smaller than heap) | |\n", n, s/1e6, h/s }'
	awk -v t="$flush_s" -v n="$CO_ROWS" 'BEGIN { printf "| flush | | %.1f s (%.0f rows/s) | | |\n", t, n/t }'
	awk -v h="$(median "${COPY_S[heap]}")" -v r="$(median "${COPY_S[rustydb]}")" -v hs="${COPY_S[heap]}" -v rs="${COPY_S[rustydb]}" 'BEGIN { printf "| COPY (s) | %.1f | %.1f | %.2f | rounds: heap %s/ rustydb %s|\n", h, r, h/r, hs, rs }'
	for n in $NAMES; do
		h=$(median "${T[$n.heap]}")
		r=$(median "${T[$n.rustydb]}")
		awk -v l="${LABEL[$n]}" -v h="$h" -v r="$r" -v p="${PLAN[$n]}" 'function f(x) { return x < 100 ? sprintf("%.1f", x) : sprintf("%.0f", x) } BEGIN { printf "| %s (ms) | %s | %s | %.2f | %s |\n", l, f(h), f(r), h/r, p }'
	done
	for n in $NAMES; do
		h=$(median "${TW[$n.heap]}")
		r=$(median "${TW[$n.rustydb]}")
		awk -v l="${LABEL[$n]}" -v h="$h" -v r="$r" 'function f(x) { return x < 100 ? sprintf("%.1f", x) : sprintf("%.0f", x) } BEGIN { printf "| %s, again in the same connection (ms) | %s | %s | %.2f | |\n", l, f(h), f(r), h/r }'
	done
	awk -v t="$compact_s" -v n="$compacted" -v b="$levels_before" -v a="$levels_after" -v o="$ts_overlaps" 'BEGIN { printf "| compaction (rustydb.compact, sort_key = ts) | | %.1f s | | %d stripes rewritten: %s -> %s; chunk groups whose ts range overlaps the next: %s |\n", t, n, b, a, o }'
	for n in $CNAMES; do
		h=$(median "${TC[$n.heap]}")
		r=$(median "${TC[$n.rustydb]}")
		awk -v l="${LABEL[$n]}" -v h="$h" -v r="$r" 'function f(x) { return x < 100 ? sprintf("%.1f", x) : sprintf("%.0f", x) } BEGIN { printf "| %s after compaction (ms) | %s | %s | %.2f | |\n", l, f(h), f(r), h/r }'
	done
	for n in $CNAMES; do
		h=$(median "${TCW[$n.heap]}")
		r=$(median "${TCW[$n.rustydb]}")
		awk -v l="${LABEL[$n]}" -v h="$h" -v r="$r" 'function f(x) { return x < 100 ? sprintf("%.1f", x) : sprintf("%.0f", x) } BEGIN { printf "| %s after compaction, again in the same connection (ms) | %s | %s | %.2f | |\n", l, f(h), f(r), h/r }'
	done
	awk -v h="${LOOK[heap]}" -v r="${LOOK[rustydb]}" 'BEGIN { printf "| point lookups by id, 1 client (tps) | %.0f | %.0f | %.2f | Index Scan |\n", h, r, r/h }'
	awk -v h="${INS[heap]}" -v r="${INS[rustydb]}" -v f="$ins_flushed" 'BEGIN { printf "| single-row INSERT, flush running (tps) | %.0f | %.0f | %.2f | (%d rows flushed meanwhile) |\n", h, r, r/h, f }'
	awk -v h="${UPD[heap]}" -v r="${UPD[rustydb]}" 'BEGIN { printf "| UPDATE 1 %% of flushed rows (ms) | %.0f | %.0f | %.2f | |\n", h, r, h/r }'
	awk -v h="${DEL[heap]}" -v r="${DEL[rustydb]}" 'BEGIN { printf "| DELETE 1 %% of flushed rows (ms) | %.0f | %.0f | %.2f | |\n", h, r, h/r }'
	echo
	for n in $NAMES; do
		echo "- ${LABEL[$n]}: \`${QUERY[$n]}\`; rounds (ms) heap ${T[$n.heap]}; rustydb ${T[$n.rustydb]}; again in the same connection: heap ${TW[$n.heap]}; rustydb ${TW[$n.rustydb]}"
	done
	for n in $CNAMES; do
		echo "- ${LABEL[$n]} after compaction: rounds (ms) heap ${TC[$n.heap]}; rustydb ${TC[$n.rustydb]}; again in the same connection: heap ${TCW[$n.heap]}; rustydb ${TCW[$n.rustydb]}"
	done
	echo "- point lookups (tps): heap ${LOOKS[heap]}; rustydb ${LOOKS[rustydb]}"
	echo "- single-row INSERT, flush running (tps): heap ${INSS[heap]}; rustydb ${INSS[rustydb]}"
} >"$CO_OUT"
cat "$CO_OUT"
