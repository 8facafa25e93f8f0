#!/usr/bin/env bash
#
# bench/steady.sh -- steady-state ingestion with background flush and
# compaction, rustydb against heap in one run (the compaction issue's
# benchmark).
#
#   sudo bash bench/steady.sh        # as root: runs itself as user rustydb
#   bash bench/steady.sh             # as an unprivileged user
#
# One throwaway cluster (bench/postgresql.bench.conf, data checksums,
# rustydb_am preloaded), databases st_heap and st_rustydb, each with the
# benchmark's `events` table (bench/sql/events_schema.sql) plus an index on
# id; on rustydb WITH (flush_rows = ST_FLUSH_ROWS, flush_running =
# ST_FLUSH_RUNNING, off by default), so the storage-event
# worker flushes it in the background and compacts it (level_ratio 4 and
# max_stripe_rows by default, ST_MAX_STRIPE_ROWS).  ST_ROUNDS rounds, each one on heap
# then on rustydb (alternating which goes first):
#
#   batch insert     ST_BATCH rows of bench/sql/events_generate.sql, by
#                    INSERT ... SELECT from a staging table, ST_TXN_ROWS rows
#                    a transaction (timed)
#   single-row       pgbench, 1 client, ST_SECS seconds (timed: tps)
#   delete oldest    the oldest 10 % of the loaded rows (DELETE by id)
#   VACUUM           as autovacuum would
#
# while the worker flushes and compacts on the rustydb side, on the same 2
# cores.  Reported: insert throughput (rows per second of insert time, batch
# and single-row together) and its ratio, the table sizes after the last
# round and once rustydb's L0 is flushed and compacted, write amplification
# (rustydb.storage_counters: stripe bytes flush and compaction wrote / value
# bytes flushed), stripes per level and compactions.  Both sides must end
# with the same rows (checked).
#
# Parameters: ST_ROUNDS=12, ST_BATCH=200000, ST_TXN_ROWS=ST_BATCH (rows an
#             INSERT ... SELECT transaction of the batch writes), ST_SECS=10,
#             ST_FLUSH_ROWS=100000, ST_FLUSH_RUNNING=off, ST_WRITER_FLUSH_ROWS=0,
#             ST_MAX_STRIPE_ROWS (empty: the table option's default),
#             ST_SORT_KEY (the table's sort_key option; empty: none), ST_TRACE,
#             ST_PORT=55450, ST_USER=rustydb, ST_OUT=bench/results/steady.md;
#             ST_KEEP=1 leaves the cluster running at the end (run it as the
#             unprivileged user: as root the script re-executes itself without it)
# Exit status: 0 when every run worked and every check held.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ST_USER=${ST_USER:-rustydb}
ST_ROUNDS=${ST_ROUNDS:-12}
ST_BATCH=${ST_BATCH:-200000}
ST_SECS=${ST_SECS:-10}
ST_TXN_ROWS=${ST_TXN_ROWS:-$ST_BATCH}
ST_FLUSH_ROWS=${ST_FLUSH_ROWS:-100000}
ST_FLUSH_RUNNING=${ST_FLUSH_RUNNING:-off}
ST_WRITER_FLUSH_ROWS=${ST_WRITER_FLUSH_ROWS:-0}
ST_MAX_STRIPE_ROWS=${ST_MAX_STRIPE_ROWS:-}
ST_PORT=${ST_PORT:-55450}
ST_OUT=${ST_OUT:-$BENCH_DIR/results/steady.md}
ST_TRACE=${ST_TRACE:-}
ST_SORT_KEY=${ST_SORT_KEY:-}

if [ -z "${PGBIN:-}" ]; then
	PGBIN=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
fi
export PATH="$PGBIN:$PATH"

ST_COMMIT=${ST_COMMIT:-$(git -C "$BENCH_DIR/.." rev-parse --short HEAD 2>/dev/null || echo '?')}
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$(dirname "$ST_OUT")"
	touch "$ST_OUT"
	chown "$ST_USER" "$ST_OUT"
	exec runuser -u "$ST_USER" -- env PGBIN="$PGBIN" ST_ROUNDS="$ST_ROUNDS" ST_BATCH="$ST_BATCH" \
		ST_TXN_ROWS="$ST_TXN_ROWS" ST_SECS="$ST_SECS" ST_FLUSH_ROWS="$ST_FLUSH_ROWS" ST_FLUSH_RUNNING="$ST_FLUSH_RUNNING" ST_WRITER_FLUSH_ROWS="$ST_WRITER_FLUSH_ROWS" ST_MAX_STRIPE_ROWS="$ST_MAX_STRIPE_ROWS" \
		ST_PORT="$ST_PORT" ST_OUT="$ST_OUT" ST_TRACE="$ST_TRACE" ST_SORT_KEY="$ST_SORT_KEY" \
		ST_COMMIT="$ST_COMMIT" bash "$BENCH_DIR/steady.sh"
fi

DIR=$(mktemp -d /tmp/rustydb-bench-steady.XXXXXX)
PGDATA=$DIR/data
cleanup()
{
	if [ -n "${ST_KEEP:-}" ]; then echo "kept: $DIR (port $ST_PORT)" >&2; return; fi
	pg_ctl -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$DIR"
}
trap cleanup EXIT

initdb -D "$PGDATA" --data-checksums -E UTF8 --locale=C -U postgres >/dev/null
{
	echo "include '$BENCH_DIR/postgresql.bench.conf'"
	echo "port = $ST_PORT"
	echo "unix_socket_directories = '$DIR'"
	echo "shared_preload_libraries = 'rustydb_am'"
	echo "shared_buffers = 2GB"
	echo "max_parallel_workers_per_gather = 0"
} >>"$PGDATA/postgresql.conf"
pg_ctl -D "$PGDATA" -l "$DIR/server.log" -w start >/dev/null
export PGHOST=$DIR PGPORT=$ST_PORT PGUSER=postgres
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }

total=$((ST_ROUNDS * ST_BATCH))
csv=$DIR/events.csv
for am in heap rustydb; do
	q -d postgres -c "CREATE DATABASE st_$am"
	q -d "st_$am" -c "CREATE EXTENSION rustydb_am" -c "ALTER DATABASE st_$am SET default_table_access_method = $am"
	q -d "st_$am" -v tbl=events -f "$BENCH_DIR/sql/events_schema.sql"
	q -d "st_$am" -c "CREATE INDEX events_id ON events (id)"
	q -d "st_$am" -c "CREATE TABLE src (LIKE events) USING heap"
	[ "$(q -d "st_$am" -c "SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.relname = 'events'")" = "$am" ] ||
		{ echo "events in st_$am is not $am" >&2; exit 1; }
done
q -d st_rustydb -c "ALTER TABLE events SET (flush_rows = $ST_FLUSH_ROWS, flush_running = $ST_FLUSH_RUNNING, writer_flush_rows = $ST_WRITER_FLUSH_ROWS)"
[ -z "$ST_MAX_STRIPE_ROWS" ] || q -d st_rustydb -c "ALTER TABLE events SET (max_stripe_rows = $ST_MAX_STRIPE_ROWS)"
[ -z "$ST_SORT_KEY" ] || q -d st_rustydb -c "ALTER TABLE events SET (sort_key = '$ST_SORT_KEY')"
max_stripe_rows=$(q -d st_rustydb -c "SELECT value FROM rustydb.table_options('events') WHERE option = 'max_stripe_rows'")
level_ratio=$(q -d st_rustydb -c "SELECT value FROM rustydb.table_options('events') WHERE option = 'level_ratio'")
q -d st_heap -v rows="$total" -v path="$csv" -f "$BENCH_DIR/sql/events_generate.sql"
for am in heap rustydb; do
	q -d "st_$am" -c "COPY src FROM '$csv' WITH (FORMAT csv)" -c "CREATE INDEX ON src (id)" -c "VACUUM ANALYZE src"
done

# single-row inserts: ids above the loaded ones, never deleted
cat >"$DIR/insert.sql" <<'EOF'
\set i random(1000000000, 2000000000)
INSERT INTO events VALUES (:i, now(), :i % 100, :i, md5(:i::text)::uuid, 'page_view', 200, :i % 1000, NULL, 'US', '/products/' || :i, '{"k": 1}');
EOF

# ST_TRACE=1: rustydb's pages after each phase of each round (a section of
# the results): where the file's size comes from
trace()
{
	[ -n "$ST_TRACE" ] || return 0
	q -d st_rustydb -F ' ' -c "SELECT '$1', pg_relation_size('events') / 8192, l0_pages, free_pages, stripe_pages, free_stripe_pages, directory_pages FROM rustydb.l0_layout('events')" >>"$DIR/trace"
}

declare -A INS_S ROWS
ROUND_LINES=()
for am in heap rustydb; do INS_S[$am]=0; ROWS[$am]=0; done
deleted_upto=0
for ((r = 0; r < ST_ROUNDS; r++)); do
	lo=$((r * ST_BATCH + 1))
	hi=$(((r + 1) * ST_BATCH))
	live=$((hi - deleted_upto))
	del_to=$((deleted_upto + live / 10))
	if ((r % 2)); then order="rustydb heap"; else order="heap rustydb"; fi
	for am in $order; do
		t0=$(now)
		for ((b = lo; b <= hi; b += ST_TXN_ROWS)); do
			q -d "st_$am" -c "INSERT INTO events SELECT * FROM src WHERE id BETWEEN $b AND $((b + ST_TXN_ROWS - 1 < hi ? b + ST_TXN_ROWS - 1 : hi))"
		done
		t1=$(now)
		out=$(pgbench -n -M prepared -c 1 -T "$ST_SECS" -f "$DIR/insert.sql" "st_$am" 2>&1)
		n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
		INS_S[$am]=$(echo "${INS_S[$am]} + $t1 - $t0 + $ST_SECS" | bc)
		ROWS[$am]=$((ROWS[$am] + ST_BATCH + n))
		[ "$am" = rustydb ] && trace "round $((r + 1)) batch+single"
		q -d "st_$am" -c "DELETE FROM events WHERE id > $deleted_upto AND id <= $del_to"
		[ "$am" = rustydb ] && trace "round $((r + 1)) delete"
		if [ -n "$ST_TRACE" ] && [ "$am" = rustydb ]; then
			q -d "st_$am" -c "VACUUM (VERBOSE) events" 2>&1 | grep -m1 "not yet removable" >>"$DIR/trace" || true
		else
			q -d "st_$am" -c "VACUUM events"
		fi
		[ "$am" = rustydb ] && trace "round $((r + 1)) vacuum"
	done
	deleted_upto=$del_to
	size_now=$(q -d st_rustydb -c "SELECT pg_table_size('events')")
	size_heap_now=$(q -d st_heap -c "SELECT pg_table_size('events')")
	levels=$(q -d st_rustydb -c "SELECT coalesce(stripes_per_level, '-') FROM rustydb.tables WHERE relation = 'events'::regclass")
	echo "round $((r + 1)): heap $((size_heap_now / 1000000)) MB, rustydb $((size_now / 1000000)) MB, stripes $levels" >&2
	ROUND_LINES+=("| $((r + 1)) | $(awk -v b="$size_heap_now" 'BEGIN{printf "%.1f", b/1e6}') | $(awk -v b="$size_now" 'BEGIN{printf "%.1f", b/1e6}') | $levels |")
done
size_heap=$(q -d st_heap -c "SELECT pg_table_size('events')")
size_rdb=$(q -d st_rustydb -c "SELECT pg_table_size('events')")
read -r l0_rows flushed <<<"$(q -d st_rustydb -F ' ' -c "SELECT l0_rows, flushed_rows FROM rustydb.tables WHERE relation = 'events'::regclass")"
# where the pages are: stripes in use, stripe pages given back, L0 pages,
# free L0 pages (retired pages waiting for rows), directory pages
layout=$(q -d st_rustydb -F ' ' -c "SELECT stripe_pages, free_stripe_pages, l0_pages, free_pages, directory_pages FROM rustydb.l0_layout('events')")
# the stripes' rows, and those nothing refers to any more (deleted, copied again)
read -r stripe_rows stripe_dead <<<"$(q -d st_rustydb -F ' ' -c "SELECT sum(nrows), sum(deleted_rows) FROM rustydb.stripes('events')")"

# settled: what is left in L0 flushed, compaction run to the end
q -d st_rustydb -c "SELECT rustydb.flush('events')" -c "SELECT rustydb.compact('events')" >/dev/null
size_rdb_settled=$(q -d st_rustydb -c "SELECT pg_table_size('events')")
levels=$(q -d st_rustydb -c "SELECT stripes_per_level FROM rustydb.tables WHERE relation = 'events'::regclass")
wa=$(q -d st_rustydb -c "SELECT round(write_amplification::numeric, 2) FROM rustydb.storage_counters('events')")
read -r fb cb steps <<<"$(q -d st_rustydb -F ' ' -c "SELECT flush_bytes, compaction_bytes, compaction_steps FROM rustydb.storage_counters('events')")"
free_stripe=$(q -d st_rustydb -c "SELECT free_stripe_pages FROM rustydb.l0_layout('events')")

# the same rows on both sides
for am in heap rustydb; do
	q -d "st_$am" -c "SELECT count(*), sum(id), sum(hashtext(url)) FROM events WHERE id < 1000000000" >"$DIR/ans.$am"
	# every single-row insert is there (their number differs between sides)
	[ "$(q -d "st_$am" -c "SELECT count(*) FROM events WHERE id >= 1000000000")" = "$((ROWS[$am] - total))" ] ||
		{ echo "st_$am lost single-row inserts" >&2; exit 1; }
done
cmp -s "$DIR/ans.heap" "$DIR/ans.rustydb" || { echo "the tables differ: $(cat "$DIR/ans.heap") vs $(cat "$DIR/ans.rustydb")" >&2; exit 1; }
[ "$steps" -gt 0 ] || { echo "no compaction happened" >&2; exit 1; }

{
	echo "# Steady-state ingestion with background flush and compaction"
	echo
	echo "Measured with \`bash bench/steady.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores, commit $ST_COMMIT;"
	echo "$ST_ROUNDS rounds of: INSERT ... SELECT of $ST_BATCH rows (bench/sql/events_generate.sql, $ST_TXN_ROWS a transaction), single-row"
	echo "INSERTs (pgbench, 1 client, $ST_SECS s), DELETE of the oldest 10 % of the loaded rows, VACUUM; heap and"
	echo "rustydb alternate within each round. rustydb: \`flush_rows = $ST_FLUSH_ROWS\`, \`flush_running = $ST_FLUSH_RUNNING\`, \`writer_flush_rows = $ST_WRITER_FLUSH_ROWS\`, the storage-event worker"
	echo "flushing and compacting in the background (level_ratio $level_ratio, max_stripe_rows $max_stripe_rows, sort_key ${ST_SORT_KEY:-none})."
	echo
	echo "| | heap | rustydb | ratio |"
	echo "|---|---|---|---|"
	awk -v hr="${ROWS[heap]}" -v hs="${INS_S[heap]}" -v rr="${ROWS[rustydb]}" -v rs="${INS_S[rustydb]}" \
		'BEGIN { printf "| insert throughput (rows / s of insert time) | %.0f | %.0f | %.2f (rustydb / heap) |\n", hr/hs, rr/rs, (rr/rs)/(hr/hs) }'
	awk -v h="$size_heap" -v r="$size_rdb" -v l="$l0_rows" 'BEGIN { printf "| table size after the last round | %.1f MB | %.1f MB | %.2f (heap / rustydb; %d rows still in L0) |\n", h/1e6, r/1e6, h/r, l }'
	awk -v h="$size_heap" -v r="$size_rdb_settled" 'BEGIN { printf "| table size, L0 flushed and compacted | %.1f MB | %.1f MB | %.2f (heap / rustydb) |\n", h/1e6, r/1e6, h/r }'
	read -r lp_stripe lp_freestripe lp_l0 lp_free lp_dir <<<"$layout"
	echo "| after the last round, pages: stripes / stripe pages given back / L0 / free L0 / directory | | $lp_stripe / $lp_freestripe / $lp_l0 / $lp_free / $lp_dir | |"
	echo "| after the last round, stripe rows / of them referenced by no row any more | | $stripe_rows / $stripe_dead | |"
	echo "| write amplification (stripe bytes written / value bytes flushed) | | $wa | |"
	awk -v f="$fb" -v c="$cb" 'BEGIN { printf "| stripe bytes written by flush / by compaction | | %.1f MB / %.1f MB | |\n", f/1e6, c/1e6 }'
	echo "| compaction steps; stripes per level at the end | | $steps; $levels | |"
	echo "| stripe pages given back and not yet reused | | $free_stripe | |"
	echo
	echo "Sizes after each round:"
	echo
	echo "| round | heap MB | rustydb MB | rustydb stripes per level |"
	echo "|---|---|---|---|"
	printf '%s\n' "${ROUND_LINES[@]}"
	if [ -n "$ST_TRACE" ]; then
		echo
		echo "rustydb's pages after each phase (ST_TRACE): file, L0, free L0, stripes, stripe pages given back, directory; VACUUM's dead rows not yet removable"
		echo
		echo '```'
		cat "$DIR/trace"
		echo '```'
	fi
} >"$ST_OUT"
cat "$ST_OUT"
