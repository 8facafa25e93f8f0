#!/usr/bin/env bash
#
# bench/bench.sh -- heap against another table access method, in one run.
#
# The benchmark proper; bench/run.sh is the entry point and runs this file as
# an unprivileged user (PostgreSQL refuses to run as root). It:
#   1. creates a throwaway cluster under /tmp (initdb --data-checksums,
#      shared_preload_libraries = 'rustydb_am', settings for 2 cores / 24 GiB);
#   2. creates two databases, bench_a (baseline AM, heap) and bench_b (the AM
#      under test, rustydb), each with ALTER DATABASE ... SET
#      default_table_access_method, and checks pg_class.relam of every table
#      it benchmarks, so a mistake can never silently compare heap with heap;
#   3. runs each test alternately on both (A B, B A, A B, ...) so that noise
#      and drift hit both, and takes the median of the runs;
#   4. checks the work was really done (row counts, identical aggregates,
#      index plans, the TPC-B balance invariant) and fails loudly if not;
#   5. prints test | heap | rustydb | ratio and writes it, with machine info,
#      settings and every individual run, to $BENCH_OUT (markdown).
#
# Every parameter is an environment variable; see bench/README.md.
# Exit status: 0 if every test ran and every check held, 1 otherwise
# (with BENCH_STRICT=1, also 1 when a ratio is below its target).
#

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# ---------------------------------------------------------------- parameters
BENCH_AM=${BENCH_AM:-rustydb}             # access method under test
BENCH_BASE_AM=${BENCH_BASE_AM:-heap}      # baseline
BENCH_RUNS=${BENCH_RUNS:-5}               # runs per AM of each pgbench test
BENCH_DURATION=${BENCH_DURATION:-10}      # seconds per pgbench run
BENCH_WARMUP=${BENCH_WARMUP:-5}           # seconds of discarded lookup / TPC-B warm-up
BENCH_COPY_ROWS=${BENCH_COPY_ROWS:-5000000}
BENCH_COPY_RUNS=${BENCH_COPY_RUNS:-3}
BENCH_SCAN_RUNS=${BENCH_SCAN_RUNS:-5}
BENCH_SCAN_WORKERS=${BENCH_SCAN_WORKERS:-0}   # max_parallel_workers_per_gather
BENCH_LOOKUP_ROWS=${BENCH_LOOKUP_ROWS:-2000000}
BENCH_LOOKUP_CLIENTS=${BENCH_LOOKUP_CLIENTS:-2}
BENCH_TPCB_SCALE=${BENCH_TPCB_SCALE:-10}
BENCH_TPCB_CLIENTS=${BENCH_TPCB_CLIENTS:-2}
BENCH_TESTS=${BENCH_TESTS:-insert1,insert2,copy,lookup,scan,widecount,tpcb}
BENCH_PORT=${BENCH_PORT:-55432}
BENCH_DATA_DIR=${BENCH_DATA_DIR:-/tmp/rustydb-bench-data}
BENCH_PRELOAD=${BENCH_PRELOAD:-auto}      # auto | 1 | 0
BENCH_KEEP=${BENCH_KEEP:-0}
BENCH_STRICT=${BENCH_STRICT:-0}
BENCH_SHARED_BUFFERS=${BENCH_SHARED_BUFFERS:-2GB}
BENCH_OUT=${BENCH_OUT:-$BENCH_DIR/results/latest.md}
BENCH_SEED=${BENCH_SEED:-20240101}        # pgbench --random-seed, same for both AMs
BENCH_IDLE_WAIT=${BENCH_IDLE_WAIT:-0}     # max seconds to wait for an idle machine per run
BENCH_IDLE_MAX=${BENCH_IDLE_MAX:-10}      # "idle": background CPU below this percent

if [ -z "${PGBIN:-}" ]; then
	PGBIN=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
fi
export PATH="$PGBIN:$PATH"

# Slot A is the baseline, slot B the AM under test.
declare -A AM=([A]=$BENCH_BASE_AM [B]=$BENCH_AM)
declare -A DB=([A]=bench_a [B]=bench_b)
declare -A LABEL=([A]=$BENCH_BASE_AM [B]=$BENCH_AM)
if [ "$BENCH_BASE_AM" = "$BENCH_AM" ]; then
	LABEL=([A]="$BENCH_BASE_AM (A)" [B]="$BENCH_AM (B)")
fi

# ------------------------------------------------------------------ helpers
T0=$(date +%s)
log() { printf '[bench +%4ss] %s\n' "$(($(date +%s) - T0))" "$*" >&2; }

# die MESSAGE: fail the current test (or the whole run outside a test).
die()
{
	printf '\n!!!!!!!! BENCH FAILURE: %s\n\n' "$*" >&2
	if [ -n "${CUR_TEST:-}" ] && [ -d "${WORK:-}/res" ]; then
		printf '%s\n' "$*" >>"$WORK/res/$CUR_TEST.err"
	fi
	exit 1
}

# psql_fail DB WHAT: die with the first error psql wrote to logs/psql.err.
psql_fail()
{
	local msg
	msg=$(grep -m1 -E 'ERROR|FATAL|psql:' "$WORK/logs/psql.err" || head -1 "$WORK/logs/psql.err")
	die "psql in $1 failed: ${msg:-no message} (running: $2)"
}

# q SLOT SQL: run SQL in the slot's database, print unaligned tuples.
q()
{
	local out
	out=$(psql -X -At -v ON_ERROR_STOP=1 -d "${DB[$1]}" -c "$2" 2>"$WORK/logs/psql.err") ||
		psql_fail "${DB[$1]}" "$(tr -s '\t\n ' ' ' <<<"$2" | cut -c1-160)"
	[ -z "$out" ] || printf '%s\n' "$out"
}

# qf SLOT FILE [psql args]: run a SQL file in the slot's database.
qf()
{
	local s=$1 f=$2
	shift 2
	psql -X -q -v ON_ERROR_STOP=1 -d "${DB[$s]}" "$@" -f "$f" >/dev/null 2>"$WORK/logs/psql.err" ||
		psql_fail "${DB[$s]}" "$(basename "$f")"
}

checkpoint() { q "$1" "CHECKPOINT" >/dev/null; }

# cpu_busy: percent of the machine's CPU time that was busy (steal included)
# over 0.5 s. Called while our own server is idle, it measures what other
# processes on the machine are doing.
cpu_busy()
{
	local b1 t1 b2 t2
	read -r b1 t1 < <(awk '/^cpu /{b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6}' /proc/stat)
	sleep 0.5
	read -r b2 t2 < <(awk '/^cpu /{b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6}' /proc/stat)
	awk -v b="$((b2 - b1))" -v t="$((t2 - t1))" 'BEGIN{printf "%.0f", (t > 0 ? 100 * b / t : 0)}'
}

# before_run SLOT: CHECKPOINT, then sample the background CPU load into
# BG_LAST; with BENCH_IDLE_WAIT=N wait up to N seconds for it to fall below
# BENCH_IDLE_MAX percent.
before_run()
{
	local waited=0
	checkpoint "$1"
	BG_LAST=$(cpu_busy)
	while [ "$BG_LAST" -gt "$BENCH_IDLE_MAX" ] && [ "$waited" -lt "$BENCH_IDLE_WAIT" ]; do
		sleep 2
		waited=$((waited + 2))
		BG_LAST=$(cpu_busy)
	done
	echo "$BG_LAST" >>"$WORK/res/background"
}

# order ROUND: the slot order of one round, alternating A B / B A.
order() { if (($1 % 2 == 0)); then echo A B; else echo B A; fi; }

# assert_am SLOT TABLE: the table must really use the slot's access method.
assert_am()
{
	local got
	got=$(q "$1" "SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam
	              WHERE c.oid = '$2'::regclass")
	[ "$got" = "${AM[$1]}" ] ||
		die "table $2 in ${DB[$1]} uses access method '$got', expected '${AM[$1]}'"
}

# record TEST SLOT VALUE: keep one measurement (and its position in the run
# order, with the background load sampled by before_run).
record()
{
	echo "$3" >>"$WORK/res/$1.$2"
	echo "${LABEL[$2]}=$3 [bg ${BG_LAST:-?}%]" >>"$WORK/res/$1.order"
}

# pgb SLOT LABEL PGBENCH-ARGS...: run pgbench in the slot's database and
# print "tps processed". Fails on client errors or failed transactions.
pgb()
{
	local slot=$1 label=$2 logf tps n failed
	shift 2
	logf="$WORK/logs/$label.$slot.$(date +%s%N).txt"
	if ! pgbench "$@" "${DB[$slot]}" >"$logf" 2>&1; then
		cat "$logf" >&2
		die "pgbench $label failed on ${AM[$slot]} (log above)"
	fi
	tps=$(awk '/^tps = /{print $3; exit}' "$logf")
	n=$(awk -F': *' '/number of transactions actually processed/{split($2, a, "/"); print a[1]; exit}' "$logf")
	failed=$(awk -F': *' '/number of failed transactions/{split($2, a, " "); print a[1]; exit}' "$logf")
	[ -n "$tps" ] && [ -n "$n" ] || { cat "$logf" >&2; die "cannot parse pgbench output ($label)"; }
	[ "${failed:-0}" = 0 ] || { cat "$logf" >&2; die "pgbench $label: $failed failed transactions on ${AM[$slot]}"; }
	[ "$n" -gt 0 ] || die "pgbench $label processed no transaction on ${AM[$slot]}"
	echo "$tps $n"
}

# psql_ms SLOT: run psql on stdin with \timing on; print the last "Time:" in ms.
psql_ms()
{
	local out
	out=$(psql -X -v ON_ERROR_STOP=1 -d "${DB[$1]}" 2>"$WORK/logs/psql.err") || psql_fail "${DB[$1]}" "timed statement"
	printf '%s\n' "$out" >>"$WORK/logs/psql_ms.txt"
	printf '%s\n' "$out" | awk '/^Time: /{t=$2} END{if (t == "") exit 1; print t}' ||
		die "no timing in psql output"
}

median()
{
	sort -g "$1" | awk '{a[NR] = $1}
		END { if (NR == 0) exit 1;
		      if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

want() { [[ ",$BENCH_TESTS," == *",$1,"* ]]; }

# ------------------------------------------------------------------ cluster
WORK=$(mktemp -d /tmp/rustydb-bench.XXXXXX)
PGDATA_DIR=$WORK/data
mkdir -p "$WORK/res" "$WORK/logs"
export PGHOST=$WORK PGPORT=$BENCH_PORT PGUSER=$(id -un)
export PGOPTIONS='-c client_min_messages=warning'
unset PGDATABASE PGSERVICE PGPASSWORD

cleanup()
{
	local rc=$?
	if [ -f "$PGDATA_DIR/postmaster.pid" ]; then
		pg_ctl -D "$PGDATA_DIR" -m fast -w stop >/dev/null 2>&1 || true
	fi
	mkdir -p "$BENCH_DATA_DIR" 2>/dev/null &&
		cp "$WORK/server.log" "$BENCH_DATA_DIR/server-last.log" 2>/dev/null || true
	if [ "$BENCH_KEEP" = 1 ]; then
		log "kept $WORK (BENCH_KEEP=1)"
	else
		rm -rf "$WORK"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

LIBDIR=$(pg_config --pkglibdir 2>/dev/null || echo /usr/lib/postgresql/15/lib)
PRELOAD=0
case "$BENCH_PRELOAD" in
1) PRELOAD=1 ;;
0) PRELOAD=0 ;;
*) [ -f "$LIBDIR/rustydb_am.so" ] && PRELOAD=1 ;;
esac
if [ "$BENCH_AM" = rustydb ] || [ "$BENCH_BASE_AM" = rustydb ]; then
	[ -f "$LIBDIR/rustydb_am.so" ] ||
		die "rustydb_am.so is not installed in $LIBDIR: run 'make && make install' (or scripts/setup.sh) first"
	[ "$PRELOAD" = 1 ] || die "the rustydb AM needs shared_preload_libraries = 'rustydb_am' (BENCH_PRELOAD=0 given)"
fi

log "initdb in $PGDATA_DIR"
initdb -D "$PGDATA_DIR" --data-checksums --auth=trust -E UTF8 --locale=C >"$WORK/logs/initdb.txt" 2>&1 ||
	{ cat "$WORK/logs/initdb.txt" >&2; die "initdb failed"; }

# Settings: bench/postgresql.bench.conf (shared with events.sh) plus this
# run's own.  Durability settings are PostgreSQL's defaults (fsync,
# synchronous_commit, full_page_writes on; wal_level replica).
cat >>"$PGDATA_DIR/postgresql.conf" <<EOF

# ---- bench/bench.sh ----
include '$BENCH_DIR/postgresql.bench.conf'
unix_socket_directories = '$WORK'
port = $BENCH_PORT
shared_buffers = $BENCH_SHARED_BUFFERS
synchronous_commit = on
fsync = on
max_parallel_workers = 2
max_parallel_workers_per_gather = 2
max_parallel_maintenance_workers = 2
log_checkpoints = on
EOF
if [ "$PRELOAD" = 1 ]; then
	echo "shared_preload_libraries = 'rustydb_am'" >>"$PGDATA_DIR/postgresql.conf"
fi

pg_ctl -D "$PGDATA_DIR" -l "$WORK/server.log" -w -t 120 start >/dev/null ||
	{ tail -30 "$WORK/server.log" >&2; die "server did not start"; }

for s in A B; do
	psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE ${DB[$s]}"
	if [ "$PRELOAD" = 1 ]; then
		q "$s" "CREATE EXTENSION IF NOT EXISTS rustydb_am" >/dev/null ||
			die "CREATE EXTENSION rustydb_am failed in ${DB[$s]}"
	fi
	q "$s" "ALTER DATABASE ${DB[$s]} SET default_table_access_method = '${AM[$s]}'" >/dev/null
	# The default search_path starts with "$user", and the server user may be
	# called rustydb like the extension's schema (which has its own "events"
	# view): keep the benchmark's tables in public.
	q "$s" "ALTER DATABASE ${DB[$s]} SET search_path = public" >/dev/null
	got=$(q "$s" "SHOW default_table_access_method")
	[ "$got" = "${AM[$s]}" ] || die "default_table_access_method is '$got' in ${DB[$s]}, expected '${AM[$s]}'"
done
PG_VERSION_STR=$(q A "SELECT version()")
log "server up: $PG_VERSION_STR"
log "comparing ${LABEL[A]} (bench_a) with ${LABEL[B]} (bench_b); tests: $BENCH_TESTS"

# ------------------------------------------------------------------ tests
# Each test runs in its own subshell with set -e: a failure (die) ends that
# test only, is recorded in res/TEST.err, and the others still run.

# single-row INSERT into an index-less events table, 1 or 2 clients
test_insert()
{
	local c=$1 name=insert$1 r s out tps n cnt
	for ((r = 0; r < BENCH_RUNS; r++)); do
		for s in $(order $r); do
			q "$s" "DROP TABLE IF EXISTS ins_events" >/dev/null
			qf "$s" "$BENCH_DIR/sql/events_schema.sql" -v tbl=ins_events
			assert_am "$s" ins_events
			before_run "$s"
			out=$(pgb "$s" "$name" -n -M prepared -c "$c" -j "$c" -T "$BENCH_DURATION" \
				--random-seed="$BENCH_SEED" -f "$BENCH_DIR/pgbench/insert.sql")
			read -r tps n <<<"$out"
			cnt=$(q "$s" "SELECT count(*) FROM ins_events")
			[ "$cnt" = "$n" ] ||
				die "$name on ${AM[$s]}: pgbench committed $n inserts but the table holds $cnt rows"
			record "$name" "$s" "$tps"
			log "$name ${LABEL[$s]}: $tps tps ($n rows, verified)"
		done
	done
}

# COPY of BENCH_COPY_ROWS events rows from one CSV file generated once
EVENTS_FILE=
make_events_file()
{
	local tag
	tag=$(md5sum "$BENCH_DIR/sql/events_generate.sql" | cut -c1-8)
	EVENTS_FILE=$BENCH_DATA_DIR/events-$tag-$BENCH_COPY_ROWS.csv
	if [ -s "$EVENTS_FILE" ]; then
		log "reusing $EVENTS_FILE ($(du -h "$EVENTS_FILE" | cut -f1))"
		return
	fi
	mkdir -p "$BENCH_DATA_DIR"
	log "generating $EVENTS_FILE ($BENCH_COPY_ROWS rows, once)"
	qf A "$BENCH_DIR/sql/events_generate.sql" -v rows="$BENCH_COPY_ROWS" -v path="$EVENTS_FILE.tmp.$$"
	mv "$EVENTS_FILE.tmp.$$" "$EVENTS_FILE"
	log "generated $(du -h "$EVENTS_FILE" | cut -f1)"
}

test_copy()
{
	local r s ms out
	make_events_file
	for ((r = 0; r < BENCH_COPY_RUNS; r++)); do
		for s in $(order $r); do
			q "$s" "DROP TABLE IF EXISTS events" >/dev/null
			qf "$s" "$BENCH_DIR/sql/events_schema.sql" -v tbl=events
			assert_am "$s" events
			before_run "$s"
			ms=$(psql_ms "$s" <<-EOF
				\\timing on
				COPY events FROM '$EVENTS_FILE' WITH (FORMAT csv);
			EOF
			)
			tail -5 "$WORK/logs/psql_ms.txt" | grep -qx "COPY $BENCH_COPY_ROWS" ||
				die "COPY into ${AM[$s]} did not report $BENCH_COPY_ROWS rows"
			record copy "$s" "$(awk -v ms="$ms" 'BEGIN{printf "%.3f", ms / 1000}')"
			log "copy ${LABEL[$s]}: $ms ms"
		done
	done
	# The last load of each AM stays for the full-scan test.
	for s in A B; do
		q "$s" "ANALYZE events" >/dev/null
		cnt=$(q "$s" "SELECT count(*) FROM events")
		[ "$cnt" = "$BENCH_COPY_ROWS" ] || die "events on ${AM[$s]} holds $cnt rows after COPY, expected $BENCH_COPY_ROWS"
		echo "$(q "$s" "SELECT pg_table_size('events')")" >"$WORK/res/size_events.$s"
	done
}

# full-scan aggregate over the events table loaded by test_copy
test_scan()
{
	local r s ms
	for s in A B; do
		[ "$(q "$s" "SELECT to_regclass('events') IS NOT NULL")" = t ] ||
			die "no events table in ${DB[$s]} (the scan test needs the copy test)"
		assert_am "$s" events
		# Warm-up, discarded: sets hint bits, fills caches; its result must
		# be the same on both AMs.
		psql -X -A -v ON_ERROR_STOP=1 -d "${DB[$s]}" -f "$BENCH_DIR/sql/scan_aggregate.sql" \
			>"$WORK/res/scan_result.$s" 2>"$WORK/logs/psql.err" || psql_fail "${DB[$s]}" scan_aggregate.sql
	done
	cmp -s "$WORK/res/scan_result.A" "$WORK/res/scan_result.B" ||
		die "full-scan aggregate differs between ${AM[A]} and ${AM[B]}: $(diff "$WORK/res/scan_result.A" "$WORK/res/scan_result.B" | head -10)"
	[ "$(wc -l <"$WORK/res/scan_result.A")" -gt 3 ] || die "full-scan aggregate returned no groups"
	for ((r = 0; r < BENCH_SCAN_RUNS; r++)); do
		for s in $(order $r); do
			before_run "$s"
			ms=$(psql_ms "$s" <<-EOF
				SET max_parallel_workers_per_gather = $BENCH_SCAN_WORKERS;
				\\o /dev/null
				\\timing on
				\\i $BENCH_DIR/sql/scan_aggregate.sql
			EOF
			)
			record scan "$s" "$ms"
			log "scan ${LABEL[$s]}: $ms ms"
		done
	done
}

# count(*) over a wide table (61 int columns, ~17 rows a page, 300,000
# rows) after VACUUM: what per-row visibility checks cost a scan (heap and
# rustydb both skip them on pages VACUUM marked all-visible)
test_widecount()
{
	local r s ms cols vals
	cols=$(seq 1 60 | sed 's/.*/c& int/' | paste -sd,)
	vals=$(seq 1 60 | sed 's/.*/g + &/' | paste -sd,)
	for s in A B; do
		q "$s" "DROP TABLE IF EXISTS wide" >/dev/null
		q "$s" "CREATE TABLE wide (id int, $cols)" >/dev/null
		assert_am "$s" wide
		q "$s" "INSERT INTO wide SELECT g, $vals FROM generate_series(1, 300000) g" >/dev/null
		q "$s" "VACUUM ANALYZE wide" >/dev/null
		[ "$(q "$s" "SELECT count(*) FROM wide")" = 300000 ] || die "wide on ${AM[$s]} lacks rows"
	done
	for ((r = 0; r < BENCH_SCAN_RUNS; r++)); do
		for s in $(order $r); do
			before_run "$s"
			ms=$(psql_ms "$s" <<-EOF
				SET max_parallel_workers_per_gather = 0;
				\\o /dev/null
				\\timing on
				SELECT count(*) FROM wide;
			EOF
			)
			record widecount "$s" "$ms"
			log "widecount ${LABEL[$s]}: $ms ms"
		done
	done
}

# point lookups through the btree primary key of a users table
test_lookup()
{
	local r s out tps n t0 sig_a sig_b plan hits
	for s in A B; do
		t0=$(date +%s.%N)
		qf "$s" "$BENCH_DIR/sql/lookup_load.sql" -v rows="$BENCH_LOOKUP_ROWS"
		awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f\n", b - a}' >"$WORK/res/lookup_load.$s"
		assert_am "$s" users
		plan=$(q "$s" "EXPLAIN SELECT id, email FROM users WHERE id = 42")
		grep -q "Index Scan using users_pkey" <<<"$plan" ||
			die "lookup on ${AM[$s]} does not use the btree index: $plan"
		# Every key in a sample must be found through the index.
		hits=$(q "$s" "SET enable_seqscan = off; SET enable_bitmapscan = off;
		               SELECT count(*) FROM generate_series(1, $BENCH_LOOKUP_ROWS, $((BENCH_LOOKUP_ROWS / 997 + 1))) g
		               WHERE EXISTS (SELECT 1 FROM users WHERE id = g)" | tail -1)
		[ "$hits" = "$(q "$s" "SELECT count(*) FROM generate_series(1, $BENCH_LOOKUP_ROWS, $((BENCH_LOOKUP_ROWS / 997 + 1)))")" ] ||
			die "index lookups on ${AM[$s]} found $hits of the sampled keys"
		q "$s" "SELECT pg_table_size('users') || ' ' || pg_relation_size('users_pkey')" >"$WORK/res/size_users.$s"
	done
	sig_a=$(q A "SELECT count(*), sum(balance), sum(flags), max(email) FROM users")
	sig_b=$(q B "SELECT count(*), sum(balance), sum(flags), max(email) FROM users")
	[ "$sig_a" = "$sig_b" ] || die "users differs between AMs: '$sig_a' vs '$sig_b'"
	for s in A B; do
		checkpoint "$s"
		pgb "$s" lookup_warmup -n -M prepared -c "$BENCH_LOOKUP_CLIENTS" -j "$BENCH_LOOKUP_CLIENTS" \
			-T "$BENCH_WARMUP" -D rows="$BENCH_LOOKUP_ROWS" -f "$BENCH_DIR/pgbench/lookup.sql" >/dev/null
	done
	for ((r = 0; r < BENCH_RUNS; r++)); do
		for s in $(order $r); do
			before_run "$s"
			out=$(pgb "$s" lookup -n -M prepared -c "$BENCH_LOOKUP_CLIENTS" -j "$BENCH_LOOKUP_CLIENTS" \
				-T "$BENCH_DURATION" --random-seed="$BENCH_SEED" -D rows="$BENCH_LOOKUP_ROWS" \
				-f "$BENCH_DIR/pgbench/lookup.sql")
			read -r tps n <<<"$out"
			record lookup "$s" "$tps"
			log "lookup ${LABEL[$s]}: $tps tps"
		done
	done
}

# pgbench TPC-B (built-in tpcb-like) on tables created by pgbench -i
# tpcb_check SLOT EXPECTED_HISTORY_ROWS: the TPC-B invariant.
tpcb_check()
{
	local s=$1 want=$2 row a t b h n
	row=$(q "$s" "SELECT (SELECT coalesce(sum(abalance), 0) FROM pgbench_accounts),
	                     (SELECT coalesce(sum(tbalance), 0) FROM pgbench_tellers),
	                     (SELECT coalesce(sum(bbalance), 0) FROM pgbench_branches),
	                     (SELECT coalesce(sum(delta), 0) FROM pgbench_history),
	                     (SELECT count(*) FROM pgbench_history)")
	IFS='|' read -r a t b h n <<<"$row"
	echo "${AM[$s]}: sum(abalance)=$a sum(tbalance)=$t sum(bbalance)=$b sum(delta)=$h history=$n (expected $want)" \
		>>"$WORK/res/tpcb_checks"
	if [ "$a" != "$t" ] || [ "$t" != "$b" ] || [ "$b" != "$h" ] || [ "$n" != "$want" ]; then
		cat >&2 <<-EOF

			####################################################################
			#  TPC-B CONSISTENCY CHECK FAILED on ${AM[$s]} (${DB[$s]})
			#    sum(abalance) over pgbench_accounts = $a
			#    sum(tbalance) over pgbench_tellers  = $t
			#    sum(bbalance) over pgbench_branches = $b
			#    sum(delta)    over pgbench_history  = $h
			#    rows in pgbench_history = $n, committed transactions = $want
			####################################################################

		EOF
		echo "FAILED on ${AM[$s]}: a=$a t=$t b=$b delta=$h history=$n expected=$want" >"$WORK/res/tpcb_consistency"
		die "TPC-B consistency check failed on ${AM[$s]}"
	fi
}

test_tpcb()
{
	local r s out tps n t0 tbl
	declare -A total=([A]=0 [B]=0)
	for s in A B; do
		t0=$(date +%s.%N)
		PGOPTIONS="$PGOPTIONS -c default_table_access_method=${AM[$s]}" \
			pgbench -i -q -s "$BENCH_TPCB_SCALE" "${DB[$s]}" >"$WORK/logs/tpcb_init.$s.txt" 2>&1 ||
			{ cat "$WORK/logs/tpcb_init.$s.txt" >&2; die "pgbench -i failed on ${AM[$s]}"; }
		awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f\n", b - a}' >"$WORK/res/tpcb_init.$s"
		for tbl in pgbench_accounts pgbench_tellers pgbench_branches pgbench_history; do
			assert_am "$s" "$tbl"
		done
		[ "$(q "$s" "SELECT count(*) FROM pgbench_accounts")" = $((BENCH_TPCB_SCALE * 100000)) ] ||
			die "pgbench_accounts on ${AM[$s]} does not hold $((BENCH_TPCB_SCALE * 100000)) rows"
		tpcb_check "$s" 0
	done
	# A discarded warm-up run per AM (caches, first-touch effects); its
	# transactions count towards the history the invariant is checked on.
	for s in A B; do
		before_run "$s"
		out=$(pgb "$s" tpcb_warmup -n -M prepared -b tpcb-like -c "$BENCH_TPCB_CLIENTS" -j "$BENCH_TPCB_CLIENTS" \
			-T "$BENCH_WARMUP" --random-seed="$BENCH_SEED")
		read -r tps n <<<"$out"
		total[$s]=$((total[$s] + n))
		tpcb_check "$s" "${total[$s]}"
	done
	for ((r = 0; r < BENCH_RUNS; r++)); do
		for s in $(order $r); do
			# What pgbench does before a run, minus truncating the history
			# (-n): the invariant is checked over the whole history.
			q "$s" "VACUUM pgbench_branches" >/dev/null
			q "$s" "VACUUM pgbench_tellers" >/dev/null
			before_run "$s"
			out=$(pgb "$s" tpcb -n -M prepared -b tpcb-like -c "$BENCH_TPCB_CLIENTS" -j "$BENCH_TPCB_CLIENTS" \
				-T "$BENCH_DURATION" --random-seed="$BENCH_SEED")
			read -r tps n <<<"$out"
			total[$s]=$((total[$s] + n))
			tpcb_check "$s" "${total[$s]}"
			record tpcb "$s" "$tps"
			log "tpcb ${LABEL[$s]}: $tps tps ($n transactions, consistency ok)"
		done
	done
	echo "held on both AMs after every run" >"$WORK/res/tpcb_consistency"
	for s in A B; do
		q "$s" "SELECT pg_table_size('pgbench_accounts')" >"$WORK/res/size_accounts.$s"
	done
}

run_test()
{
	local name=$1 fn=$2 rc
	shift 2
	want "$name" || return 0
	log "---- $name"
	set +e
	(
		set -e
		CUR_TEST=$name
		"$fn" "$@"
	)
	rc=$?
	set -e
	if [ $rc -ne 0 ]; then
		[ -s "$WORK/res/$name.err" ] || echo "failed (exit $rc)" >"$WORK/res/$name.err"
		log "$name FAILED: $(tail -1 "$WORK/res/$name.err")"
	fi
}

run_test insert1 test_insert 1
run_test insert2 test_insert 2
run_test copy test_copy
run_test lookup test_lookup
run_test scan test_scan
run_test widecount test_widecount
run_test tpcb test_tpcb

# ------------------------------------------------------------------ report
SETTINGS=$(q A "SELECT name || ' = ' || current_setting(name)
                FROM pg_settings
                WHERE name IN ('shared_buffers', 'max_wal_size', 'min_wal_size', 'checkpoint_timeout',
                               'synchronous_commit', 'fsync', 'full_page_writes', 'wal_level',
                               'data_checksums', 'wal_log_hints', 'shared_preload_libraries',
                               'autovacuum', 'jit', 'work_mem', 'maintenance_work_mem',
                               'effective_cache_size', 'max_parallel_workers_per_gather',
                               'wal_buffers', 'huge_pages', 'lc_collate')
                   OR name LIKE 'rustydb.%'
                ORDER BY name")
BAD=0
BELOW=0

# row TEST TITLE UNIT KIND(higher|lower) FORMAT TARGET: one line of the table.
row()
{
	local t=$1 title=$2 unit=$3 kind=$4 fmt=$5 target=$6 ma mb ratio mark
	if ! want "$t"; then
		return
	fi
	if [ -s "$WORK/res/$t.err" ]; then
		printf '| %s | FAILED | FAILED | - | %s | %s |\n' "$title" "$target" "$(tail -1 "$WORK/res/$t.err" | tr '|' '/')"
		return
	fi
	ma=$(median "$WORK/res/$t.A") && mb=$(median "$WORK/res/$t.B") || {
		printf '| %s | - | - | - | %s | no measurements |\n' "$title" "$target"
		return
	}
	if [ "$kind" = higher ]; then
		ratio=$(awk -v a="$ma" -v b="$mb" 'BEGIN{printf "%.2f", b / a}')
	else
		ratio=$(awk -v a="$ma" -v b="$mb" 'BEGIN{printf "%.2f", a / b}')
	fi
	mark=ok
	if awk -v r="$ratio" -v t="${target#≥ }" 'BEGIN{exit !(r < t)}'; then
		mark="below target"
	fi
	printf "| %s | $fmt %s | $fmt %s | %s | %s | %s |\n" "$title" "$ma" "$unit" "$mb" "$unit" "$ratio" "$target" "$mark"
}

TABLE=$(
	echo "| test | ${LABEL[A]} | ${LABEL[B]} | ratio | target | |"
	echo "|---|---:|---:|---:|---:|---|"
	row insert1 "single-row INSERT, 1 client" tps higher "%.0f" "≥ 0.8"
	row insert2 "single-row INSERT, 2 clients" tps higher "%.0f" "≥ 0.8"
	row copy "COPY $BENCH_COPY_ROWS rows" s lower "%.2f" "≥ 0.8"
	row lookup "point lookup via btree ($BENCH_LOOKUP_ROWS rows, $BENCH_LOOKUP_CLIENTS clients)" tps higher "%.0f" "≥ 0.8"
	row scan "full-scan aggregate ($BENCH_COPY_ROWS rows)" ms lower "%.0f" "≥ 0.8"
	row widecount "count(*) over a 61-column table after VACUUM (300,000 rows)" ms lower "%.1f" "≥ 0.8"
	row tpcb "pgbench TPC-B (scale $BENCH_TPCB_SCALE, $BENCH_TPCB_CLIENTS clients)" tps higher "%.0f" "≥ 0.6"
)
# row() ran in a subshell: take the verdicts from the table text.
grep -q '| FAILED |' <<<"$TABLE" && BAD=1
grep -q 'no measurements' <<<"$TABLE" && BAD=1
grep -q '| below target |' <<<"$TABLE" && BELOW=1

mb() { awk -v b="$1" 'BEGIN{printf "%.0f MB", b / 1048576}'; }
SIZES=$(
	echo "| relation | ${LABEL[A]} | ${LABEL[B]} | ${LABEL[B]} / ${LABEL[A]} |"
	echo "|---|---:|---:|---:|"
	for f in events users accounts; do
		[ -s "$WORK/res/size_$f.A" ] && [ -s "$WORK/res/size_$f.B" ] || continue
		read -r a ai <"$WORK/res/size_$f.A"
		read -r b bi <"$WORK/res/size_$f.B"
		case $f in
		events) name="events table after COPY" ;;
		users) name="users table" ;;
		accounts) name="pgbench_accounts after the TPC-B runs" ;;
		esac
		echo "| $name | $(mb "$a") | $(mb "$b") | $(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2f", b / a}') |"
		if [ -n "${ai:-}" ]; then
			echo "| users_pkey (btree) | $(mb "$ai") | $(mb "$bi") | $(awk -v a="$ai" -v b="$bi" 'BEGIN{printf "%.2f", b / a}') |"
		fi
	done
	for f in lookup_load tpcb_init; do
		[ -s "$WORK/res/$f.A" ] && [ -s "$WORK/res/$f.B" ] || continue
		case $f in
		lookup_load) name="load users (INSERT ... SELECT, primary key, ANALYZE), s" ;;
		tpcb_init) name="pgbench -i -s $BENCH_TPCB_SCALE, s" ;;
		esac
		echo "| $name | $(cat "$WORK/res/$f.A") | $(cat "$WORK/res/$f.B") | $(awk -v a="$(cat "$WORK/res/$f.A")" -v b="$(cat "$WORK/res/$f.B")" 'BEGIN{printf "%.2f", b / a}') |"
	done
)

BACKGROUND="not sampled"
if [ -s "$WORK/res/background" ]; then
	BACKGROUND=$(sort -n "$WORK/res/background" | awk '{a[NR] = $1}
		END {printf "median %d%%, max %d%% over %d samples", a[int((NR + 1) / 2)], a[NR], NR;
		     if (a[NR] > 20) printf " -- WARNING: other processes were using the CPU, the figures are noisy"}')
fi

RUNS=$(
	for t in insert1 insert2 copy lookup scan tpcb; do
		[ -s "$WORK/res/$t.order" ] || continue
		printf -- '- %s: %s\n' "$t" "$(awk '{printf "%s%s", (NR > 1 ? ", " : ""), $0}' "$WORK/res/$t.order")"
	done
)

CPU=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
MEM=$(awk '/^MemTotal/{printf "%.1f GiB", $2 / 1048576}' /proc/meminfo 2>/dev/null || true)
GITREV=$(git -C "$BENCH_DIR/.." rev-parse --short HEAD 2>/dev/null || echo "no commit")
ELAPSED=$(($(date +%s) - T0))

REPORT=$(
	cat <<-EOF
		# rustydb bench: ${LABEL[A]} vs ${LABEL[B]}

		Ratio = ${LABEL[B]} speed / ${LABEL[A]} speed (throughput ratio for tps;
		time ratio ${LABEL[A]}/${LABEL[B]} for COPY and the scan), so 1.00 is parity
		and higher is better for ${LABEL[B]}. Each figure is the median of the runs
		listed below; runs alternate between the two access methods.

		$TABLE

		TPC-B consistency (sum(abalance) = sum(tbalance) = sum(bbalance) = sum(delta),
		history rows = committed transactions): $(cat "$WORK/res/tpcb_consistency" 2>/dev/null || echo "not checked")

		## Sizes and load times

		$SIZES

		## Runs, in execution order

		[bg N%]: CPU busy on the whole machine, sampled for 0.5 s just before
		the run while the benchmark's server was idle, i.e. load from other
		processes. Background load: $BACKGROUND.

		$RUNS

		## Machine

		- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')
		- nproc: $(nproc), CPU: ${CPU:-unknown}, memory: ${MEM:-unknown}
		- kernel: $(uname -sr)
		- PostgreSQL: $PG_VERSION_STR
		- source: git $GITREV; bench wall time ${ELAPSED} s

		## Parameters

		BENCH_AM=$BENCH_AM BENCH_BASE_AM=$BENCH_BASE_AM BENCH_RUNS=$BENCH_RUNS
		BENCH_DURATION=$BENCH_DURATION BENCH_WARMUP=$BENCH_WARMUP
		BENCH_COPY_ROWS=$BENCH_COPY_ROWS BENCH_COPY_RUNS=$BENCH_COPY_RUNS
		BENCH_SCAN_RUNS=$BENCH_SCAN_RUNS BENCH_SCAN_WORKERS=$BENCH_SCAN_WORKERS
		BENCH_LOOKUP_ROWS=$BENCH_LOOKUP_ROWS BENCH_LOOKUP_CLIENTS=$BENCH_LOOKUP_CLIENTS
		BENCH_TPCB_SCALE=$BENCH_TPCB_SCALE BENCH_TPCB_CLIENTS=$BENCH_TPCB_CLIENTS
		BENCH_TESTS=$BENCH_TESTS BENCH_IDLE_WAIT=$BENCH_IDLE_WAIT BENCH_IDLE_MAX=$BENCH_IDLE_MAX

		pgbench runs use -M prepared and --random-seed=$BENCH_SEED (same key sequence for both AMs).

		## Server settings (from pg_settings)

		\`\`\`
		$SETTINGS
		\`\`\`
	EOF
)

echo
echo "$REPORT"
mkdir -p "$(dirname "$BENCH_OUT")"
printf '%s\n' "$REPORT" >"$BENCH_OUT"
log "report written to $BENCH_OUT"

if [ "$BAD" = 1 ]; then
	log "FAILED: $(cd "$WORK/res" && ls -- *.err 2>/dev/null | sed 's/\.err$//' | paste -sd' ') (server log: $BENCH_DATA_DIR/server-last.log)"
	exit 1
fi
if [ "$BENCH_STRICT" = 1 ] && [ "$BELOW" = 1 ]; then
	log "a ratio is below its target (BENCH_STRICT=1)"
	exit 1
fi
exit 0
