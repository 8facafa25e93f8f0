#!/usr/bin/env bash
#
# bench/flush_running.sh -- what the table options flush_running and
# writer_flush_rows do to the L0 pages of a large transaction, against heap,
# in one run.
#
#   sudo bash bench/flush_running.sh    # as root: runs itself as user rustydb
#   bash bench/flush_running.sh         # as an unprivileged user
#
# One throwaway cluster (bench/postgresql.bench.conf, data checksums,
# rustydb_am preloaded).  Three tables of the benchmark's event data
# (bench/sql/events_schema.sql, an index on id): heap, rustydb with
# flush_rows = FR_FLUSH_ROWS, the same with flush_running = on, and the same
# with writer_flush_rows = FR_FLUSH_ROWS instead; the storage-event worker
# flushes the rustydb tables in the background.  Into each, one transaction
# inserts FR_ROWS rows in FR_STATEMENTS statements (INSERT ... SELECT from a
# staging table) with FR_PAUSE seconds between them (a long transaction: an
# ETL job, a slow loader); then, into heap, plain rustydb and
# writer_flush_rows tables, FR_ROWS rows in one statement (faster than any
# background flush: a bulk load).  Measured: the table's
# pages while the transaction runs (its largest, polled after each
# statement), its size after the commit once the worker has flushed and
# retired what it can (bounded wait), the transaction's time, and
# rustydb.l0_layout's L0 / free / stripe pages and rows per retired
# generation.  All tables must hold the same rows.
#
# Parameters: FR_ROWS=200000, FR_STATEMENTS=20, FR_PAUSE=0.2 (FR_FLUSH_ROWS is
#             also the writer tables' writer_flush_rows),
#             FR_FLUSH_ROWS=20000, FR_PORT=55460, FR_USER=rustydb,
#             FR_OUT=bench/results/flush_running.md
# Exit status: 0 when every run worked and every check held.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FR_USER=${FR_USER:-rustydb}
FR_ROWS=${FR_ROWS:-200000}
FR_STATEMENTS=${FR_STATEMENTS:-20}
FR_PAUSE=${FR_PAUSE:-0.2}
FR_FLUSH_ROWS=${FR_FLUSH_ROWS:-20000}
FR_PORT=${FR_PORT:-55460}
FR_OUT=${FR_OUT:-$BENCH_DIR/results/flush_running.md}

if [ -z "${PGBIN:-}" ]; then
	PGBIN=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
fi
export PATH="$PGBIN:$PATH"

FR_COMMIT=${FR_COMMIT:-$(git -C "$BENCH_DIR/.." rev-parse --short HEAD 2>/dev/null || echo '?')}
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$(dirname "$FR_OUT")"
	touch "$FR_OUT"
	chown "$FR_USER" "$FR_OUT"
	exec runuser -u "$FR_USER" -- env PGBIN="$PGBIN" FR_ROWS="$FR_ROWS" FR_STATEMENTS="$FR_STATEMENTS" \
		FR_PAUSE="$FR_PAUSE" FR_FLUSH_ROWS="$FR_FLUSH_ROWS" FR_PORT="$FR_PORT" FR_OUT="$FR_OUT" \
		FR_COMMIT="$FR_COMMIT" bash "$BENCH_DIR/flush_running.sh"
fi

DIR=$(mktemp -d /tmp/rustydb-bench-flush-running.XXXXXX)
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
	echo "port = $FR_PORT"
	echo "unix_socket_directories = '$DIR'"
	echo "shared_preload_libraries = 'rustydb_am'"
	echo "shared_buffers = 1GB"
} >>"$PGDATA/postgresql.conf"
pg_ctl -D "$PGDATA" -l "$DIR/server.log" -w start >/dev/null
export PGHOST=$DIR PGPORT=$FR_PORT PGUSER=postgres PGDATABASE=postgres
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }

q -c "CREATE EXTENSION rustydb_am"
for t in ev_heap ev_off ev_on ev_wr one_heap one_off one_wr; do
	q -v tbl=$t -f "$BENCH_DIR/sql/events_schema.sql"
	q -c "CREATE INDEX ON $t (id)"
done
for t in ev_off ev_on ev_wr one_off one_wr; do
	q -c "ALTER TABLE $t SET ACCESS METHOD rustydb"
	q -c "ALTER TABLE $t SET (flush_rows = $FR_FLUSH_ROWS, flush_running = off)"
done
q -c "ALTER TABLE ev_on SET (flush_running = on)"
q -c "ALTER TABLE ev_wr SET (writer_flush_rows = $FR_FLUSH_ROWS)" -c "ALTER TABLE one_wr SET (writer_flush_rows = $FR_FLUSH_ROWS)"
q -c "CREATE TABLE src (LIKE ev_heap) USING heap"
q -v rows="$FR_ROWS" -v path="$DIR/events.csv" -f "$BENCH_DIR/sql/events_generate.sql"
q -c "COPY src FROM '$DIR/events.csv' WITH (FORMAT csv)" -c "CREATE INDEX ON src (id)" -c "VACUUM ANALYZE src"
# a write that publishes storage events starts the database's worker
q -c "INSERT INTO ev_off SELECT * FROM src WHERE false" -c "SELECT pg_sleep(2)" >/dev/null

declare -A PEAK TIME AFTER LAYOUT
# one transaction into table $1, of FR_ROWS rows in $2 statements, $3 s apart
run_txn()
{
	local t=$1 nstmt=$2 pause=$3 per fifo pid peak t0 t1 s lo hi pages
	per=$(((FR_ROWS + nstmt - 1) / nstmt))
	fifo=$DIR/$t.in
	mkfifo "$fifo"
	psql -X -q -At -v ON_ERROR_STOP=1 <"$fifo" >"$DIR/$t.out" 2>&1 &
	pid=$!
	exec 7>"$fifo"
	peak=0
	t0=$(now)
	echo "BEGIN;" >&7
	for ((s = 0; s < nstmt; s++)); do
		lo=$((s * per + 1))
		hi=$(((s + 1) * per))
		echo "INSERT INTO $t SELECT * FROM src WHERE id BETWEEN $lo AND $hi; SELECT 'done $s';" >&7
		# wait until this statement is done, then look at the table from outside
		while ! grep -q "^done $s\$" "$DIR/$t.out" 2>/dev/null; do sleep 0.02; done
		pages=$(q -c "SELECT pg_relation_size('$t') / 8192")
		((pages > peak)) && peak=$pages
		sleep "$pause"
	done
	echo "COMMIT; SELECT 'committed';" >&7
	while ! grep -q "^committed\$" "$DIR/$t.out" 2>/dev/null; do sleep 0.02; done
	t1=$(now)
	exec 7>&-
	wait $pid
	PEAK[$t]=$peak
	TIME[$t]=$(echo "$t1 - $t0" | bc)
}
for t in ev_heap ev_off ev_on ev_wr; do run_txn $t "$FR_STATEMENTS" "$FR_PAUSE"; done
for t in one_heap one_off one_wr; do run_txn $t 1 0; done

# after the commit: the worker flushes the committed rows and retires what
# it can (up to 60 s; heap has nothing to wait for)
for t in ev_off ev_on ev_wr one_off one_wr; do
	for i in $(seq 1 300); do
		left=$(q -c "SELECT (SELECT count(*) FROM $t) - retired_rows FROM rustydb.l0_layout('$t')")
		[ "$left" -le 0 ] && break
		sleep 0.2
	done
	LAYOUT[$t]=$(q -F ' / ' -c "SELECT l0_pages, free_pages, stripe_pages, directory_pages, round(retired_rows::numeric / nullif(retired_generations, 0), 0) FROM rustydb.l0_layout('$t')")
done
for t in ev_heap ev_off ev_on ev_wr one_heap one_off one_wr; do
	AFTER[$t]=$(q -c "SELECT pg_relation_size('$t') / 8192")
done

want=$(q -c "SELECT count(*) || ':' || sum(id) || ':' || sum(hashtext(url)) FROM ev_heap")
for t in ev_off ev_on ev_wr one_heap one_off one_wr; do
	got=$(q -c "SELECT count(*) || ':' || sum(id) || ':' || sum(hashtext(url)) FROM $t")
	[ "$got" = "$want" ] || { echo "$t differs from heap: $got vs $want" >&2; exit 1; }
done
[ "$want" != "0::" ] || { echo "nothing was inserted" >&2; exit 1; }

{
	echo "# A large transaction's L0 pages, with and without flush_running and writer_flush_rows"
	echo
	echo "Measured with \`bash bench/flush_running.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores, commit $FR_COMMIT;"
	echo "one transaction inserts $FR_ROWS rows of bench/sql/events_generate.sql in $FR_STATEMENTS statements"
	echo "(INSERT ... SELECT), $FR_PAUSE s apart, into a heap table and three rustydb tables with"
	echo "\`flush_rows = $FR_FLUSH_ROWS\` (the storage-event worker flushing in the background), one of them"
	echo "with \`flush_running = on\`, one with \`writer_flush_rows = $FR_FLUSH_ROWS\` (the inserting backend moves"
	echo "its own rows). Pages polled after each statement; after the commit, up to 60 s for the worker"
	echo "to flush and retire the rows."
	echo
	echo "| $FR_STATEMENTS statements | heap | rustydb | rustydb, flush_running = on | rustydb, writer_flush_rows = $FR_FLUSH_ROWS |"
	echo "|---|---|---|---|---|"
	echo "| largest size while the transaction ran (pages) | ${PEAK[ev_heap]} | ${PEAK[ev_off]} | ${PEAK[ev_on]} | ${PEAK[ev_wr]} |"
	echo "| the transaction's time (s, pauses included) | ${TIME[ev_heap]} | ${TIME[ev_off]} | ${TIME[ev_on]} | ${TIME[ev_wr]} |"
	echo "| size after the commit, rows flushed and retired (pages) | ${AFTER[ev_heap]} | ${AFTER[ev_off]} | ${AFTER[ev_on]} | ${AFTER[ev_wr]} |"
	echo "| then: L0 / free L0 / stripe / directory pages; rows per retired generation | | ${LAYOUT[ev_off]} | ${LAYOUT[ev_on]} | ${LAYOUT[ev_wr]} |"
	echo
	echo "The same $FR_ROWS rows in one INSERT ... SELECT (the rustydb tables with \`flush_rows = $FR_FLUSH_ROWS\`):"
	echo
	echo "| one statement | heap | rustydb | rustydb, writer_flush_rows = $FR_FLUSH_ROWS |"
	echo "|---|---|---|---|"
	echo "| largest size while the transaction ran (pages) | ${PEAK[one_heap]} | ${PEAK[one_off]} | ${PEAK[one_wr]} |"
	echo "| the statement's time (s) | ${TIME[one_heap]} | ${TIME[one_off]} | ${TIME[one_wr]} |"
	echo "| size after the commit, rows flushed and retired (pages) | ${AFTER[one_heap]} | ${AFTER[one_off]} | ${AFTER[one_wr]} |"
	echo "| then: L0 / free L0 / stripe / directory pages; rows per retired generation | | ${LAYOUT[one_off]} | ${LAYOUT[one_wr]} |"
} >"$FR_OUT"
cat "$FR_OUT"
