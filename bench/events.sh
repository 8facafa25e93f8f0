#!/usr/bin/env bash
#
# bench/events.sh -- what storage events cost the writer: rustydb.events = on
# against off, on the same cluster, in one run.
#
#   sudo bash bench/events.sh            # as root: runs itself as user rustydb
#   bash bench/events.sh                 # as an unprivileged user
#
# Tests (both on rustydb tables, database default_table_access_method =
# rustydb, the same files as bench.sh uses):
#   insert1  pgbench, 1 client, -M prepared, one single-row INSERT per
#            transaction (pgbench/insert.sql) into a fresh index-less
#            ins_events table (sql/events_schema.sql); result: tps. Every new
#            page records a PageAllocated and a WriteCompleted (aggregated
#            into IoStats).
#   copy     COPY of EV_COPY_ROWS rows (sql/events_generate.sql, the file is
#            generated once and shared with bench.sh) into a fresh events
#            table; result: seconds. Records PageAllocated per page and
#            BatchInserted per 1000-row batch.
# Each round runs both settings, the order alternating (off on, on off, ...),
# so drift and noise hit both; the report gives medians, the ratio
# (speed with events on / speed with events off) and the overhead in percent.
#
# The switch is the real one: ALTER SYSTEM SET rustydb.events + reload, checked
# with SHOW in a new session. While the runs go, a psql session LISTENs on
# every rustydb_* channel and reads its notifications every 200 ms
# (EV_LISTEN=0: no listener), so the cost includes the worker's NOTIFYs and a
# consumer. Each run also records how many events the ring took (max(seq) of
# rustydb.events before/after) and how many notifications the listener got:
# an "on" run that recorded nothing, or an "off" run that recorded
# anything of its table, fails the benchmark (it would not measure what it
# claims).
#
# Parameters (environment):
#   EV_RUNS=7            rounds of the insert test (each: one off, one on run)
#   EV_DURATION=10       seconds per pgbench run
#   EV_COPY_ROWS=1000000 rows per COPY
#   EV_COPY_RUNS=7       rounds of the COPY test
#   EV_TESTS=insert1,copy
#   EV_LISTEN=1          a listener reading the notifications during the runs
#   EV_SHARED_BUFFERS=2GB, EV_PORT=55433, EV_USER=rustydb, EV_KEEP=0
#   EV_FSYNC=on          off: fsync and synchronous_commit off, so that the
#                        writes are CPU-bound and the events' CPU cost shows
#                        (report: bench/results/events-fsync-off.md)
#   EV_IDLE_WAIT=0       before each run, wait up to N s for background CPU < EV_IDLE_MAX %
#   EV_IDLE_MAX=10
#   BENCH_DATA_DIR=/tmp/rustydb-bench-data  (COPY file, shared with bench.sh)
#   EV_OUT=bench/results/events.md
#
# Exit status: 0 when every run worked and every check held.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
EV_USER=${EV_USER:-rustydb}
EV_FSYNC=${EV_FSYNC:-on}
case $EV_FSYNC in
on) EV_OUT=${EV_OUT:-$BENCH_DIR/results/events.md} ;;
off) EV_OUT=${EV_OUT:-$BENCH_DIR/results/events-fsync-off.md} ;;
*) echo "bench/events.sh: EV_FSYNC must be on or off" >&2; exit 2 ;;
esac
BENCH_DATA_DIR=${BENCH_DATA_DIR:-/tmp/rustydb-bench-data}

if [ -z "${PGBIN:-}" ]; then
	PGBIN=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
fi
export PATH="$PGBIN:$PATH"

# The commit the extension was built from, as far as the tree tells.
git_rev()
{
	local rev
	rev=$(git -C "$BENCH_DIR/.." rev-parse --short HEAD 2>/dev/null) || { echo "no commit"; return; }
	if [ -n "$(git -C "$BENCH_DIR/.." status --porcelain -- src include 2>/dev/null)" ]; then
		rev="$rev (with uncommitted changes in src/ or include/)"
	fi
	echo "$rev"
}

# ------------------------------------------------ as root: delegate to EV_USER
if [ "$(id -u)" = 0 ]; then
	LIBDIR=$("$PGBIN/pg_config" --pkglibdir 2>/dev/null || echo /usr/lib/postgresql/15/lib)
	[ -f "$LIBDIR/rustydb_am.so" ] ||
		{ echo "bench/events.sh: rustydb_am is not installed: run 'make && make install' (or scripts/setup.sh) first" >&2; exit 1; }
	id "$EV_USER" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$EV_USER"
	mkdir -p "$BENCH_DATA_DIR"
	chown "$EV_USER": "$BENCH_DATA_DIR"
	OUTDIR=$(mktemp -d /tmp/rustydb-events-bench-out.XXXXXX)
	chown "$EV_USER": "$OUTDIR"
	trap 'rm -rf "$OUTDIR"' EXIT
	RUN_DIR=$BENCH_DIR
	if ! runuser -u "$EV_USER" -- test -r "$BENCH_DIR/events.sh"; then
		RUN_DIR=$OUTDIR/bench
		cp -r "$BENCH_DIR" "$RUN_DIR"
		chown -R "$EV_USER": "$RUN_DIR"
	fi
	ENV_ARGS=(PGBIN="$PGBIN" PATH="$PGBIN:/usr/local/bin:/usr/bin:/bin" EV_OUT="$OUTDIR/events.md"
		BENCH_DATA_DIR="$BENCH_DATA_DIR"
		EV_GITREV="$(git_rev)")
	while IFS= read -r v; do
		case $v in EV_OUT | EV_GITREV) continue ;; esac
		ENV_ARGS+=("$v=${!v}")
	done < <(compgen -e | grep '^EV_' || true)
	set +e
	(cd /tmp && runuser -u "$EV_USER" -- env "${ENV_ARGS[@]}" bash "$RUN_DIR/events.sh")
	rc=$?
	set -e
	if [ -s "$OUTDIR/events.md" ]; then
		mkdir -p "$(dirname "$EV_OUT")"
		cp "$OUTDIR/events.md" "$EV_OUT"
		echo "[bench/events.sh] report: $EV_OUT" >&2
	fi
	exit $rc
fi

# ------------------------------------------------------------------ parameters
EV_RUNS=${EV_RUNS:-7}
EV_DURATION=${EV_DURATION:-10}
EV_COPY_ROWS=${EV_COPY_ROWS:-1000000}
EV_COPY_RUNS=${EV_COPY_RUNS:-7}
EV_TESTS=${EV_TESTS:-insert1,copy}
EV_LISTEN=${EV_LISTEN:-1}
EV_SHARED_BUFFERS=${EV_SHARED_BUFFERS:-2GB}
EV_PORT=${EV_PORT:-55433}
EV_KEEP=${EV_KEEP:-0}
EV_IDLE_WAIT=${EV_IDLE_WAIT:-0}
EV_IDLE_MAX=${EV_IDLE_MAX:-10}
EV_SEED=${EV_SEED:-20240101}
DB=bench_ev

T0=$(date +%s)
log() { printf '[events +%4ss] %s\n' "$(($(date +%s) - T0))" "$*" >&2; }
die() { printf '\n!!!!!!!! EVENTS BENCH FAILURE: %s\n\n' "$*" >&2; exit 1; }
q() { psql -X -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
qf() { local f=$1; shift; psql -X -q -v ON_ERROR_STOP=1 -d "$DB" "$@" -f "$f" >/dev/null; }
want() { [[ ",$EV_TESTS," == *",$1,"* ]]; }

median()
{
	sort -g "$1" | awk '{a[NR] = $1}
		END { if (NR == 0) exit 1;
		      if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# Percent of the machine's CPU busy over 0.5 s (our server idle: others' load).
cpu_busy()
{
	local b1 t1 b2 t2
	read -r b1 t1 < <(awk '/^cpu /{b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6}' /proc/stat)
	sleep 0.5
	read -r b2 t2 < <(awk '/^cpu /{b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6}' /proc/stat)
	awk -v b="$((b2 - b1))" -v t="$((t2 - t1))" 'BEGIN{printf "%.0f", (t > 0 ? 100 * b / t : 0)}'
}

before_run()
{
	local waited=0
	q "CHECKPOINT" >/dev/null
	BG_LAST=$(cpu_busy)
	while [ "$BG_LAST" -gt "$EV_IDLE_MAX" ] && [ "$waited" -lt "$EV_IDLE_WAIT" ]; do
		sleep 2
		waited=$((waited + 2))
		BG_LAST=$(cpu_busy)
	done
	echo "$BG_LAST" >>"$WORK/res/background"
}

# set_events on|off: the real switch, as a user would flip it.
set_events()
{
	local i got
	q "ALTER SYSTEM SET rustydb.events = $1" >/dev/null
	q "SELECT pg_reload_conf()" >/dev/null
	for i in $(seq 1 50); do
		got=$(q "SHOW rustydb.events")
		[ "$got" = "$1" ] && break
		sleep 0.1
	done
	[ "$got" = "$1" ] || die "rustydb.events did not become $1"
	sleep 0.5    # the events worker too
}

ring_seq() { q "SELECT coalesce(max(seq), 0) FROM rustydb.events"; }
heard() { if [ -f "$WORK/listener.out" ]; then grep -c '^Asynchronous notification "rustydb_' "$WORK/listener.out" || true; else echo 0; fi; }

# record TEST MODE VALUE EVENTS NOTIFICATIONS
record()
{
	echo "$3" >>"$WORK/res/$1.$2"
	echo "$2=$3 [events $4, notified $5, bg ${BG_LAST:-?}%]" >>"$WORK/res/$1.order"
}

# check_events TEST MODE TABLE SEQ_DELTA: on runs must record events of the
# table, off runs none.
check_events()
{
	local n
	n=$(q "SELECT count(*) FROM rustydb.events WHERE relation = '$3'::regclass")
	if [ "$2" = on ]; then
		[ "$4" -gt 0 ] && [ "$n" -gt 0 ] || die "$1 with events on recorded no event of $3 (ring delta $4, in view $n)"
	else
		[ "$n" = 0 ] || die "$1 with events off recorded $n events of $3"
	fi
}

# ------------------------------------------------------------------ cluster
WORK=$(mktemp -d /tmp/rustydb-events-bench.XXXXXX)
PGDATA_DIR=$WORK/data
mkdir -p "$WORK/res" "$WORK/logs"
export PGHOST=$WORK PGPORT=$EV_PORT PGUSER=$(id -un)
# The OS user (and so the database user) is rustydb: with the default
# search_path "$user", public, unqualified names would resolve in the
# extension's schema rustydb first, which has a view named events.
export PGOPTIONS='-c client_min_messages=warning -c search_path=public'
unset PGDATABASE PGSERVICE PGPASSWORD
LISTENER_PID=

cleanup()
{
	local rc=$?
	if [ -n "$LISTENER_PID" ]; then
		kill "$LISTENER_PID" 2>/dev/null || true
	fi
	if [ -f "$PGDATA_DIR/postmaster.pid" ]; then
		pg_ctl -D "$PGDATA_DIR" -m fast -w stop >/dev/null 2>&1 || true
	fi
	mkdir -p "$BENCH_DATA_DIR" 2>/dev/null &&
		cp "$WORK/server.log" "$BENCH_DATA_DIR/server-events-last.log" 2>/dev/null || true
	if [ "$EV_KEEP" = 1 ]; then
		log "kept $WORK (EV_KEEP=1)"
	else
		rm -rf "$WORK"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

LIBDIR=$(pg_config --pkglibdir 2>/dev/null || echo /usr/lib/postgresql/15/lib)
[ -f "$LIBDIR/rustydb_am.so" ] || die "rustydb_am.so is not installed in $LIBDIR: run 'make && make install' first"

log "initdb in $PGDATA_DIR"
initdb -D "$PGDATA_DIR" --data-checksums --auth=trust -E UTF8 --locale=C >"$WORK/logs/initdb.txt" 2>&1 ||
	{ cat "$WORK/logs/initdb.txt" >&2; die "initdb failed"; }
# The settings shared with bench.sh (2 cores / 24 GiB), plus this run's own.
cat >>"$PGDATA_DIR/postgresql.conf" <<EOF

# ---- bench/events.sh ----
include '$BENCH_DIR/postgresql.bench.conf'
unix_socket_directories = '$WORK'
port = $EV_PORT
shared_buffers = $EV_SHARED_BUFFERS
synchronous_commit = $EV_FSYNC
fsync = $EV_FSYNC
shared_preload_libraries = 'rustydb_am'
EOF
pg_ctl -D "$PGDATA_DIR" -l "$WORK/server.log" -w -t 120 start >/dev/null ||
	{ tail -30 "$WORK/server.log" >&2; die "server did not start"; }
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $DB"
q "CREATE EXTENSION rustydb_am" >/dev/null
q "ALTER DATABASE $DB SET default_table_access_method = rustydb" >/dev/null
[ "$(q "SELECT extversion FROM pg_extension WHERE extname = 'rustydb_am'")" = 0.2.0 ] ||
	die "rustydb_am is not version 0.2.0 (no storage events)"
PG_VERSION_STR=$(q "SELECT version()")
log "server up: $PG_VERSION_STR"

if [ "$EV_LISTEN" = 1 ]; then
	# LISTEN on every channel, then a command every 200 ms: psql prints the
	# notifications that arrived after each one.
	{
		echo "LISTEN rustydb_buffer_pool; LISTEN rustydb_lsm; LISTEN rustydb_io;"
		echo "LISTEN rustydb_tiers; LISTEN rustydb_pages; LISTEN rustydb_columnar;"
		while sleep 0.2; do echo "SELECT 1;"; done
	} | psql -X -q -At -d "$DB" >"$WORK/listener.out" 2>&1 &
	LISTENER_PID=$!
	log "listener started (psql pid $LISTENER_PID)"
fi

assert_rustydb()
{
	[ "$(q "SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.oid = '$1'::regclass")" = rustydb ] ||
		die "table $1 is not a rustydb table"
}

order() { if (($1 % 2 == 0)); then echo off on; else echo on off; fi; }

# ------------------------------------------------------------------ tests
test_insert1()
{
	local r mode logf tps n cnt s0 s1 h0 h1
	for ((r = 0; r < EV_RUNS; r++)); do
		for mode in $(order $r); do
			set_events "$mode"
			q "DROP TABLE IF EXISTS ins_events" >/dev/null
			qf "$BENCH_DIR/sql/events_schema.sql" -v tbl=ins_events
			assert_rustydb ins_events
			before_run
			s0=$(ring_seq)
			h0=$(heard)
			logf=$WORK/logs/insert1.$r.$mode.txt
			pgbench -n -M prepared -c 1 -j 1 -T "$EV_DURATION" --random-seed="$EV_SEED" \
				-f "$BENCH_DIR/pgbench/insert.sql" "$DB" >"$logf" 2>&1 ||
				{ cat "$logf" >&2; die "pgbench failed (events $mode)"; }
			tps=$(awk '/^tps = /{print $3; exit}' "$logf")
			n=$(awk -F': *' '/number of transactions actually processed/{split($2, a, "/"); print a[1]; exit}' "$logf")
			[ -n "$tps" ] && [ -n "$n" ] && [ "$n" -gt 0 ] || { cat "$logf" >&2; die "cannot parse pgbench output"; }
			cnt=$(q "SELECT count(*) FROM ins_events")
			[ "$cnt" = "$n" ] || die "insert1 (events $mode): pgbench committed $n inserts, the table holds $cnt"
			sleep 1.5    # let the worker send this run's events before counting
			s1=$(ring_seq)
			h1=$(heard)
			check_events insert1 "$mode" ins_events $((s1 - s0))
			record insert1 "$mode" "$tps" $((s1 - s0)) $((h1 - h0))
			log "insert1 events $mode: $tps tps ($n rows, $((s1 - s0)) events, $((h1 - h0)) notifications)"
		done
	done
}

EVENTS_FILE=
make_events_file()
{
	local tag
	tag=$(md5sum "$BENCH_DIR/sql/events_generate.sql" | cut -c1-8)
	EVENTS_FILE=$BENCH_DATA_DIR/events-$tag-$EV_COPY_ROWS.csv
	if [ -s "$EVENTS_FILE" ]; then
		log "reusing $EVENTS_FILE"
		return
	fi
	mkdir -p "$BENCH_DATA_DIR"
	log "generating $EVENTS_FILE ($EV_COPY_ROWS rows, once)"
	qf "$BENCH_DIR/sql/events_generate.sql" -v rows="$EV_COPY_ROWS" -v path="$EVENTS_FILE.tmp.$$"
	mv "$EVENTS_FILE.tmp.$$" "$EVENTS_FILE"
}

test_copy()
{
	local r mode out ms s0 s1 h0 h1
	make_events_file
	for ((r = 0; r < EV_COPY_RUNS; r++)); do
		for mode in $(order $r); do
			set_events "$mode"
			q "DROP TABLE IF EXISTS events" >/dev/null
			qf "$BENCH_DIR/sql/events_schema.sql" -v tbl=events
			assert_rustydb events
			before_run
			s0=$(ring_seq)
			h0=$(heard)
			out=$(psql -X -v ON_ERROR_STOP=1 -d "$DB" <<-EOF
				\\timing on
				COPY events FROM '$EVENTS_FILE' WITH (FORMAT csv);
			EOF
			) || die "COPY failed (events $mode)"
			grep -qx "COPY $EV_COPY_ROWS" <<<"$out" || die "COPY (events $mode) did not report $EV_COPY_ROWS rows: $out"
			ms=$(awk '/^Time: /{t = $2} END{print t}' <<<"$out")
			[ -n "$ms" ] || die "no timing in psql output"
			sleep 1.5
			s1=$(ring_seq)
			h1=$(heard)
			check_events copy "$mode" events $((s1 - s0))
			record copy "$mode" "$(awk -v ms="$ms" 'BEGIN{printf "%.3f", ms / 1000}')" $((s1 - s0)) $((h1 - h0))
			log "copy events $mode: $ms ms ($((s1 - s0)) events, $((h1 - h0)) notifications)"
		done
	done
}

want insert1 && { log "---- insert1"; test_insert1; }
want copy && { log "---- copy"; test_copy; }
set_events on
STATS=$(psql -X -d "$DB" -c "SELECT * FROM rustydb.event_stats ORDER BY channel")

# ------------------------------------------------------------------ report
# row TEST TITLE UNIT KIND(higher|lower) FORMAT
row()
{
	local t=$1 title=$2 unit=$3 kind=$4 fmt=$5 moff mon ratio paired
	[ -s "$WORK/res/$t.off" ] && [ -s "$WORK/res/$t.on" ] || return 0
	moff=$(median "$WORK/res/$t.off")
	mon=$(median "$WORK/res/$t.on")
	if [ "$kind" = higher ]; then
		ratio=$(awk -v a="$moff" -v b="$mon" 'BEGIN{printf "%.3f", b / a}')
	else
		ratio=$(awk -v a="$moff" -v b="$mon" 'BEGIN{printf "%.3f", a / b}')
	fi
	# Paired: the ratio within each round (its off and its on run ran back
	# to back), then the median over rounds; drift between rounds cancels.
	paste "$WORK/res/$t.off" "$WORK/res/$t.on" |
		awk -v k="$kind" '{printf "%.6f\n", (k == "higher" ? $2 / $1 : $1 / $2)}' >"$WORK/res/$t.pairs"
	paired=$(median "$WORK/res/$t.pairs")
	printf "| %s | $fmt %s | $fmt %s | %s | %s %% | %.3f | %s %% |\n" "$title" "$moff" "$unit" "$mon" "$unit" "$ratio" \
		"$(awk -v r="$ratio" 'BEGIN{printf "%+.1f", (1 - r) * 100}')" "$paired" \
		"$(awk -v r="$paired" 'BEGIN{printf "%+.1f", (1 - r) * 100}')"
}

# Spread of the off runs alone: how much two runs of the same setting differ.
spread()
{
	local t=$1
	[ -s "$WORK/res/$t.off" ] || return 0
	sort -g "$WORK/res/$t.off" | awk -v t="$t" '{a[NR] = $1} END {printf "- %s, events off: min %s, max %s (max/min %.3f)\n", t, a[1], a[NR], a[NR] / a[1]}'
	sort -g "$WORK/res/$t.on" | awk -v t="$t" '{a[NR] = $1} END {printf "- %s, events on: min %s, max %s (max/min %.3f)\n", t, a[1], a[NR], a[NR] / a[1]}'
}

TABLE=$(
	echo "| test | events off (median) | events on (median) | ratio of medians | overhead | paired ratio | paired overhead |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	row insert1 "single-row INSERT, 1 client (pgbench, ${EV_DURATION} s runs)" tps higher "%.0f"
	row copy "COPY $EV_COPY_ROWS rows" s lower "%.3f"
)
RUNS=$(
	for t in insert1 copy; do
		[ -s "$WORK/res/$t.order" ] || continue
		printf -- '- %s: %s\n' "$t" "$(awk '{printf "%s%s", (NR > 1 ? "; " : ""), $0}' "$WORK/res/$t.order")"
	done
)
SPREAD=$(for t in insert1 copy; do spread "$t"; done)
BACKGROUND="not sampled"
if [ -s "$WORK/res/background" ]; then
	BACKGROUND=$(sort -n "$WORK/res/background" | awk '{a[NR] = $1}
		END {printf "median %d%%, max %d%% over %d samples", a[int((NR + 1) / 2)], a[NR], NR;
		     if (a[NR] > 20) printf " -- WARNING: other processes were using the CPU, the figures are noisy"}')
fi
CPU=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
MEM=$(awk '/^MemTotal/{printf "%.1f GiB", $2 / 1048576}' /proc/meminfo 2>/dev/null || true)
GITREV=${EV_GITREV:-$(git_rev)}

REPORT=$(
	cat <<-EOF
		# rustydb bench: storage events on vs off (fsync $EV_FSYNC)

		Cost of recording and publishing storage events on the write path:
		the same rustydb cluster with \`rustydb.events = on\` and \`off\`
		(ALTER SYSTEM + reload), runs interleaved (order alternating each
		round), medians. Ratio = speed with events on / speed with events off
		(tps ratio for INSERT, time off / time on for COPY); overhead =
		(1 - ratio) x 100 %; negative overhead means the "on" runs happened to
		be faster (noise). Paired ratio: the on/off ratio within each round (the
		two runs of a round ran back to back), median over the rounds; it is
		less sensitive to drift over the whole run. Listener during the runs: $([ "$EV_LISTEN" = 1 ] && echo "yes, one psql session on all six channels, reading every 200 ms" || echo "none").

		$TABLE

		Target (issue 3): under 3 % on single-row INSERT and COPY. Read the
		overhead together with the noise below: when runs of the same setting
		differ by more than the overhead, the figure only says the cost is
		within that noise.

		## Noise

		$SPREAD

		Background CPU before the runs ([bg N%] below): $BACKGROUND.

		## Runs, in execution order

		[events N, notified M]: events the ring recorded during the run (max(seq)
		of rustydb.events) and notifications the listener received.

		$RUNS

		## Event counters at the end (rustydb.event_stats)

		\`\`\`
		$STATS
		\`\`\`

		## Machine

		- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')
		- nproc: $(nproc), CPU: ${CPU:-unknown}, memory: ${MEM:-unknown}
		- kernel: $(uname -sr)
		- PostgreSQL: $PG_VERSION_STR
		- source: git $GITREV; wall time $(($(date +%s) - T0)) s
		- settings: those of bench.sh (shared_buffers = $EV_SHARED_BUFFERS, autovacuum and jit
		  off), fsync = $EV_FSYNC, synchronous_commit = $EV_FSYNC, shared_preload_libraries = 'rustydb_am'
		- parameters: EV_RUNS=$EV_RUNS EV_DURATION=$EV_DURATION EV_COPY_ROWS=$EV_COPY_ROWS
		  EV_COPY_RUNS=$EV_COPY_RUNS EV_LISTEN=$EV_LISTEN EV_TESTS=$EV_TESTS
	EOF
)
echo
echo "$REPORT"
mkdir -p "$(dirname "$EV_OUT")"
printf '%s\n' "$REPORT" >"$EV_OUT"
log "report written to $EV_OUT"
