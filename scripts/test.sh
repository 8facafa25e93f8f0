#!/usr/bin/env bash
#
# test.sh - `make test`: set up, then run every test suite of rustydb_am
#
#   1. (as root) scripts/setup.sh: packages, user rustydb, build + install.
#   2. (as root) copy the repository to a work directory owned by rustydb
#      ($RDB_WORK_DIR, default /tmp/rustydb_work): pg_regress writes results/
#      next to the tests, and the servers refuse to run as root.
#   3. (as rustydb, in the copy) start a throwaway cluster (scripts/cluster.sh),
#      create one database per suite with rustydb_am installed and
#      default_table_access_method set, then run
#        regress    pg_regress --use-existing on REGRESS   (sql/, expected/)
#        isolation  pg_isolation_regress --use-existing on ISOLATION (specs/)
#        pgtap      pg_prove on each pgtap/*.sql
#        tap        prove on each t/*.pl (they make their own clusters)
#   4. print a summary; the last line is exactly "N passed, M failed", where a
#      regress/isolation test counts once and pgTAP/TAP count each assertion.
#      Exit status 0 only if nothing failed.
#
# Test lists come from tests.mk (see the comments there for the two kinds of
# tests and how expected output is produced).  Everything runs under
# `timeout`; the suites share a time budget so the run cannot hang.
#
# Environment knobs:
#   RDB_TEST_AM=heap     run the suites with heap as the default table AM
#                        (default: rustydb)
#   RDB_SUITES="..."     subset of: regress isolation pgtap tap (default: all)
#   RDB_TESTS="a b*"     only tests whose name matches one of these patterns
#   RDB_WORK_DIR=DIR     work directory (default /tmp/rustydb_work; it is
#                        deleted and recreated, and kept after the run)
#   RDB_TEST_BUDGET=S    seconds for all suites together (default 1200)
#   RDB_GEN_EXPECTED=1   used by scripts/gen_expected.sh: skip rustydb_* tests
#                        and run AM-agnostic tests even without expected output
#   RDB_SKIP_SETUP=1     do not run setup.sh (packages and extension already
#                        installed; also implied when not run as root)
#   RDB_PG_CONFIG=PATH   pg_config of the PostgreSQL installation to test
#                        against (default the system's; with a private copy,
#                        install the extension there yourself and set
#                        RDB_SKIP_SETUP=1)

set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# RDB_PG_CONFIG: the PostgreSQL installation to test against (default the
# system's).  A private relocated copy lets several people test on one
# machine without replacing each other's rustydb_am.so under running servers.
RDB_PG_CONFIG=${RDB_PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PG_BIN=$("$RDB_PG_CONFIG" --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
PGXS_DIR=$("$RDB_PG_CONFIG" --pkglibdir 2>/dev/null || echo /usr/lib/postgresql/15/lib)/pgxs
export RDB_PG_BIN=$PG_BIN
RDB_USER=${RDB_USER:-rustydb}

RDB_TEST_AM=${RDB_TEST_AM:-rustydb}
RDB_SUITES=${RDB_SUITES:-regress isolation pgtap tap}
RDB_TESTS=${RDB_TESTS:-}
RDB_WORK_DIR=${RDB_WORK_DIR:-/tmp/rustydb_work}
RDB_TEST_BUDGET=${RDB_TEST_BUDGET:-1200}
RDB_GEN_EXPECTED=${RDB_GEN_EXPECTED:-0}
RDB_SKIP_SETUP=${RDB_SKIP_SETUP:-0}

# shellcheck source=scripts/cluster.sh
source "$REPO/scripts/cluster.sh"

# Stop any server left running under DIR (a killed TAP test, an earlier run).
stop_servers_under()
{
	local pidfile

	[ -d "$1" ] || return 0
	find "$1" -name postmaster.pid 2>/dev/null | while read -r pidfile; do
		rdb_as_owner "$PG_BIN/pg_ctl" --pgdata="$(dirname "$pidfile")" \
			--mode=immediate --wait --timeout=30 stop >/dev/null 2>&1 || true
	done
}

# ===========================================================================
# Phase 1: as the invoking user (normally root) - set up, copy, hand over
# ===========================================================================
if [ "${1:-}" != "--in-work" ]; then
	# One stream, so that the summary line really is the last line of output.
	exec 2>&1
	case "$RDB_TEST_AM" in
		rustydb | heap) ;;
		*) echo "test.sh: RDB_TEST_AM must be rustydb or heap" >&2; exit 2 ;;
	esac

	if [ "$(id -u)" = 0 ] && [ "$RDB_SKIP_SETUP" != 1 ]; then
		echo "=== setup (scripts/setup.sh) ==="
		if ! bash "$REPO/scripts/setup.sh"; then
			echo "test.sh: set-up or build failed, no tests were run"
			echo "0 passed, 1 failed"
			exit 1
		fi
	elif [ "$(id -u)" != 0 ]; then
		echo "test.sh: not root: skipping setup.sh, using the installed extension and running as $(id -un)"
	fi

	# Two runs sharing a work directory would delete each other's files:
	# hold a lock on it for the whole run (the descriptor is inherited by
	# phase 2 through exec).
	lock=$RDB_WORK_DIR.lock
	if [ ! -e "$lock" ]; then
		: >"$lock" && chmod 666 "$lock"
	fi
	exec 9<"$lock"
	if ! flock -n 9; then
		echo "test.sh: another run is using $RDB_WORK_DIR; waiting for it (up to 15 minutes)"
		if ! flock -w 900 9; then
			echo "test.sh: $RDB_WORK_DIR is still busy (set RDB_WORK_DIR to use another directory)"
			echo "0 passed, 1 failed"
			exit 1
		fi
	fi

	echo "=== copying the repository to $RDB_WORK_DIR ==="
	stop_servers_under "$RDB_WORK_DIR"
	# Only the sources of the tests matter; build products and the results
	# of in-tree runs are left behind.
	if ! { rm -rf "$RDB_WORK_DIR" && mkdir -p "$RDB_WORK_DIR" &&
		tar -C "$REPO" -cf - --exclude=./.git --exclude='*.o' --exclude='*.so' \
			--exclude='*.bc' --exclude=./results --exclude=./output_iso \
			--exclude=./tmp_check --exclude='./regression.*' --exclude=./log . |
		tar -C "$RDB_WORK_DIR" -xf - &&
		{ [ "$(id -u)" != 0 ] || chown -R "$RDB_USER:" "$RDB_WORK_DIR"; } &&
		cd "$RDB_WORK_DIR"; }; then
		echo "test.sh: could not prepare $RDB_WORK_DIR, no tests were run"
		echo "0 passed, 1 failed"
		exit 1
	fi
	handover=(env RDB_TEST_AM="$RDB_TEST_AM" RDB_SUITES="$RDB_SUITES"
		RDB_TESTS="$RDB_TESTS" RDB_WORK_DIR="$RDB_WORK_DIR"
		RDB_TEST_BUDGET="$RDB_TEST_BUDGET" RDB_GEN_EXPECTED="$RDB_GEN_EXPECTED"
		RDB_PRELOAD="$RDB_PRELOAD" RDB_USER="$RDB_USER" RDB_DBUSER="$RDB_DBUSER"
		RDB_PG_CONFIG="$RDB_PG_CONFIG"
		bash "$RDB_WORK_DIR/scripts/test.sh" --in-work)
	if [ "$(id -u)" = 0 ]; then
		exec runuser -u "$RDB_USER" -- "${handover[@]}"
	else
		exec "${handover[@]}"
	fi
fi

# ===========================================================================
# Phase 2: as the server owner, in the work directory
# ===========================================================================
WORK=$RDB_WORK_DIR
cd "$WORK" || exit 1
CLUSTER=$WORK/tmp_cluster
DEADLINE=$(($(date +%s) + RDB_TEST_BUDGET))
TOTAL_PASS=0
TOTAL_FAIL=0
SUMMARY=()
FAILED_NAMES=()
export PATH="$PG_BIN:$PATH"
# No stray connection settings from the caller's environment.
unset PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGSERVICE PGOPTIONS PGPASSWORD

# Seconds a step may take: its own cap, or what is left of the budget.
cap()
{
	local left=$((DEADLINE - $(date +%s)))

	[ "$left" -lt "$1" ] && echo "$left" || echo "$1"
}

# record SUITE PASSED FAILED [failed names...]
record()
{
	local suite=$1 pass=$2 fail=$3

	shift 3
	TOTAL_PASS=$((TOTAL_PASS + pass))
	TOTAL_FAIL=$((TOTAL_FAIL + fail))
	SUMMARY+=("$(printf '%-10s %5d passed, %d failed' "$suite" "$pass" "$fail")")
	for name in "$@"; do
		FAILED_NAMES+=("$suite/$name")
	done
}

# Read a list from tests.mk and apply RDB_TESTS / gen mode filters.
# Prints one item per line.
test_list()
{
	local item name pat keep

	for item in $(env -u MAKEFLAGS -u MAKELEVEL make -s --no-print-directory -f tests.mk "print-$1"); do
		name=$(basename "$item")
		name=${name%.*}
		if [ "$RDB_GEN_EXPECTED" = 1 ] && [[ "$name" == rustydb_* ]]; then
			continue
		fi
		if [ -n "$RDB_TESTS" ]; then
			keep=0
			for pat in $RDB_TESTS; do
				# shellcheck disable=SC2053
				[[ "$name" == $pat ]] && keep=1
			done
			[ "$keep" = 1 ] || continue
		fi
		echo "$item"
	done
}

suite_wanted()
{
	[[ " $RDB_SUITES " == *" $1 "* ]]
}

# --------------------------------------------------------------------------
# The shared cluster and the suite databases
# --------------------------------------------------------------------------
CLUSTER_UP=0
PORT=

cluster_psql()
{
	"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 --host="$CLUSTER" --port="$PORT" \
		--username="$RDB_DBUSER" "$@"
}

# Start the cluster if it is not running (first use, or a crash brought it
# down for good).  Returns non-zero if it cannot be started.
ensure_cluster()
{
	if [ "$CLUSTER_UP" = 0 ]; then
		echo "=== starting a throwaway cluster in $CLUSTER ==="
		rdb_cluster_create "$CLUSTER" --fsync-off || return 1
		PORT=$(rdb_cluster_port "$CLUSTER")
		CLUSTER_UP=1
	fi
	if ! rdb_cluster_status "$CLUSTER" >/dev/null 2>&1; then
		rdb_cluster_start "$CLUSTER" || return 1
	fi
}

# create_db NAME [EXTENSION...]: a suite database set up the way pg_regress
# sets up its own (C messages, hex bytea, ...), with rustydb_am and the
# given extensions installed and the default table access method set.
create_db()
{
	local db=$1 ext have

	shift
	cluster_psql -d postgres <<EOF || return 1
SET client_min_messages = warning;
DROP DATABASE IF EXISTS "$db";
CREATE DATABASE "$db" TEMPLATE template0;
ALTER DATABASE "$db" SET lc_messages TO 'C';
ALTER DATABASE "$db" SET lc_monetary TO 'C';
ALTER DATABASE "$db" SET lc_numeric TO 'C';
ALTER DATABASE "$db" SET lc_time TO 'C';
ALTER DATABASE "$db" SET bytea_output TO 'hex';
ALTER DATABASE "$db" SET timezone_abbreviations TO 'Default';
-- a guard against hangs: one statement failing is better than a suite killed
ALTER DATABASE "$db" SET statement_timeout TO '300s';
EOF
	have=$(cluster_psql -d "$db" -Atc \
		"SELECT count(*) FROM pg_available_extensions WHERE name = 'rustydb_am'") || return 1
	if [ "$have" = 1 ]; then
		cluster_psql -d "$db" -c "CREATE EXTENSION rustydb_am" || return 1
	elif [ "$RDB_TEST_AM" = rustydb ]; then
		echo "test.sh: extension rustydb_am is not installed" >&2
		return 1
	else
		echo "test.sh: WARNING: rustydb_am is not installed; $db runs on plain heap without it"
	fi
	for ext in "$@"; do
		cluster_psql -d "$db" -c "CREATE EXTENSION $ext" || return 1
	done
	# rdb_test.wait_quiet(): what the tests that flush or VACUUM share.  A
	# row moves to a stripe, and a dead row is removable, only once no
	# snapshot could still need it: wait, bounded (30 s), until no other
	# backend of the database (the storage-event worker, autovacuum) holds
	# one.  pg_stat_clear_snapshot() each round, or the loop, one
	# statement, would see a single snapshot of pg_stat_activity.
	cluster_psql -d "$db" <<'SQL' || return 1
SET client_min_messages = warning;
CREATE SCHEMA rdb_test;
CREATE FUNCTION rdb_test.wait_quiet() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1..600 LOOP
		PERFORM pg_stat_clear_snapshot();
		EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()
			  AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL));
		PERFORM pg_sleep(0.05);
	END LOOP;
END $$;
SQL
	# Run in the target database so the setting is validated against it.
	cluster_psql -d "$db" -c \
		"ALTER DATABASE \"$db\" SET default_table_access_method TO '$RDB_TEST_AM'" || return 1
}

# Print what the server logged about crashes and assertion failures since
# the current suite started (mark_server_log).
LOG_MARK=0
mark_server_log()
{
	LOG_MARK=$(stat -c %s "$CLUSTER/postgres.log" 2>/dev/null || echo 0)
}

show_server_problems()
{
	local log=$CLUSTER/postgres.log pat='PANIC|TRAP|terminated by signal|was terminated'

	[ -f "$log" ] || return 0
	if tail -c +$((LOG_MARK + 1)) "$log" | grep -qE "$pat"; then
		echo "--- server log: crashes ($log) ---"
		tail -c +$((LOG_MARK + 1)) "$log" | grep -E -A3 "$pat" | head -n 60
	fi
}

# Count "... ok" / "... FAILED" lines of pg_regress-style output in $1 and
# record them for suite $2; $3 = exit status, $4 = number of tests run,
# $5 = diffs file; remaining args: names already counted as failed.
count_regress_output()
{
	local log=$1 suite=$2 rc=$3 ntests=$4 diffs=$5 pass fail unaccounted

	shift 5
	local failed=("$@")
	pass=$(grep -cE '^(test +| +)?[^ ]+ +\.\.\. ok' "$log")
	mapfile -t -O "${#failed[@]}" failed < <(grep -E '^(test +| +)?[^ ]+ +\.\.\. (FAILED|failed)' "$log" |
		sed -E 's/^(test +| +)?([^ ]+) .*/\2/')
	fail=${#failed[@]}
	# Tests that never reported (killed by the timeout, driver died).
	unaccounted=$((ntests + $# - pass - fail))
	if [ "$unaccounted" -gt 0 ]; then
		fail=$((fail + unaccounted))
		failed+=("($unaccounted did not finish)")
	elif [ "$rc" != 0 ] && [ "$fail" = 0 ]; then
		fail=1
		failed+=("(driver exit status $rc)")
	fi
	if [ "$fail" -gt 0 ] && [ -s "$diffs" ]; then
		echo "--- $diffs (first 400 lines) ---"
		head -n 400 "$diffs"
	fi
	[ "$fail" -gt 0 ] && show_server_problems
	record "$suite" "$pass" "$fail" "${failed[@]}"
}

# Split a list into tests that can run and tests missing expected output.
# Sets RUN and MISSING.
check_expected()
{
	local t

	RUN=()
	MISSING=()
	for t in "$@"; do
		if [ -f "expected/$t.out" ]; then
			RUN+=("$t")
		elif [ "$RDB_GEN_EXPECTED" = 1 ]; then
			# gen_expected.sh replaces it with the real output
			mkdir -p expected
			: >"expected/$t.out"
			RUN+=("$t")
		else
			echo "test.sh: $t has no expected/$t.out (run scripts/gen_expected.sh, or write it by hand for rustydb_* tests)"
			MISSING+=("$t")
		fi
	done
}

# --------------------------------------------------------------------------
# Suites
# --------------------------------------------------------------------------
run_regress()
{
	local tests rc

	mapfile -t tests < <(test_list REGRESS)
	[ ${#tests[@]} -gt 0 ] || { echo "(no regress tests)"; return 0; }
	echo "=== regress: ${#tests[@]} tests, default_table_access_method = $RDB_TEST_AM ==="
	if ! ensure_cluster || ! create_db rdb_regress; then
		record regress 0 ${#tests[@]} "(cluster or database set-up failed)"
		return 0
	fi
	check_expected "${tests[@]}"
	rc=0
	if [ ${#RUN[@]} -gt 0 ]; then
		timeout -k 10 "$(cap 900)" "$PGXS_DIR/src/test/regress/pg_regress" \
			--use-existing --host="$CLUSTER" --port="$PORT" --user="$RDB_DBUSER" \
			--dbname=rdb_regress --inputdir=. --outputdir=. --bindir="$PG_BIN" \
			"${RUN[@]}" 2>&1 | tee regress.log
		rc=${PIPESTATUS[0]}
	else
		: >regress.log
	fi
	count_regress_output regress.log regress "$rc" ${#RUN[@]} regression.diffs "${MISSING[@]}"
}

run_isolation()
{
	local tests rc

	mapfile -t tests < <(test_list ISOLATION)
	[ ${#tests[@]} -gt 0 ] || { echo "(no isolation tests)"; return 0; }
	echo "=== isolation: ${#tests[@]} specs, default_table_access_method = $RDB_TEST_AM ==="
	if ! ensure_cluster || ! create_db rdb_isolation; then
		record isolation 0 ${#tests[@]} "(cluster or database set-up failed)"
		return 0
	fi
	check_expected "${tests[@]}"
	rc=0
	if [ ${#RUN[@]} -gt 0 ]; then
		# isolationtester cancels a step waiting longer than this (seconds)
		PGISOLATIONTIMEOUT=120 timeout -k 10 "$(cap 600)" \
			"$PGXS_DIR/src/test/isolation/pg_isolation_regress" \
			--use-existing --host="$CLUSTER" --port="$PORT" --user="$RDB_DBUSER" \
			--dbname=rdb_isolation --inputdir=. --outputdir=output_iso \
			--bindir="$PG_BIN" "${RUN[@]}" 2>&1 | tee isolation.log
		rc=${PIPESTATUS[0]}
	else
		: >isolation.log
	fi
	count_regress_output isolation.log isolation "$rc" ${#RUN[@]} output_iso/regression.diffs "${MISSING[@]}"
}

# Count TAP lines in file $1 (prove/pg_prove --verbose output, or a TAP
# test's regress_log, whose lines carry a "[time](delta) " prefix): sets
# T_PASS and T_FAIL.  Only top-level assertions count (subtests are indented).
# A plan that was not completed counts the missing assertions as failed; a
# non-zero exit status $2 with nothing else failing counts as one failure.
count_tap()
{
	local out=$1 rc=$2 planned ok notok pre='^(\[[0-9:.]+\]\([0-9.]+s\) )?'

	planned=$(grep -m1 -oE "${pre}1\.\.[0-9]+" "$out" | sed 's/.*\.\.//')
	ok=$(grep -cE "${pre}ok [0-9]+" "$out")
	notok=$(grep -cE "${pre}not ok [0-9]+" "$out")
	T_PASS=$ok
	T_FAIL=$notok
	if [ -n "$planned" ] && [ $((ok + notok)) -lt "$planned" ]; then
		T_FAIL=$((planned - ok))
	fi
	if [ "$rc" != 0 ] && [ "$T_FAIL" = 0 ]; then
		T_FAIL=1
	fi
}

run_pgtap()
{
	local files f name rc pass=0 fail=0 failed=()

	mapfile -t files < <(test_list PGTAP)
	[ ${#files[@]} -gt 0 ] || { echo "(no pgTAP tests)"; return 0; }
	echo "=== pgtap: ${#files[@]} files, default_table_access_method = $RDB_TEST_AM ==="
	if ! ensure_cluster || ! create_db rdb_pgtap pgtap; then
		record pgtap 0 ${#files[@]} "(cluster or database set-up failed)"
		return 0
	fi
	mkdir -p pgtap_results
	for f in "${files[@]}"; do
		name=$(basename "$f" .sql)
		timeout -k 5 "$(cap 300)" pg_prove --verbose --psql-bin "$PG_BIN/psql" \
			--host "$CLUSTER" --port "$PORT" --username "$RDB_DBUSER" \
			--dbname rdb_pgtap "$f" >"pgtap_results/$name.out" 2>&1
		rc=$?
		count_tap "pgtap_results/$name.out" "$rc"
		printf 'pgtap %-40s %4d passed, %d failed\n' "$name" "$T_PASS" "$T_FAIL"
		if [ "$T_FAIL" -gt 0 ]; then
			echo "--- $f output (first 80 lines) ---"
			head -n 80 "pgtap_results/$name.out"
			failed+=("$name")
		fi
		pass=$((pass + T_PASS))
		fail=$((fail + T_FAIL))
	done
	[ "$fail" -gt 0 ] && show_server_problems
	record pgtap "$pass" "$fail" "${failed[@]}"
}

run_tap()
{
	local files f name rc pass=0 fail=0 failed=() l

	mapfile -t files < <(test_list TAP)
	[ ${#files[@]} -gt 0 ] || { echo "(no TAP tests)"; return 0; }
	echo "=== tap: ${#files[@]} files ==="
	# Each TAP test makes its own clusters; ours is no longer needed.
	[ "$CLUSTER_UP" = 1 ] && rdb_cluster_stop "$CLUSTER"
	rm -rf tmp_check
	mkdir -p tmp_check
	for f in "${files[@]}"; do
		name=$(basename "$f" .pl)
		# The environment PGXS's prove_installcheck gives TAP tests.
		TESTDIR="$WORK" PG_REGRESS="$PGXS_DIR/src/test/regress/pg_regress" \
			PG_TEST_TIMEOUT_DEFAULT=120 \
			timeout -k 10 "$(cap 600)" prove --verbose \
			-I "$PGXS_DIR/src/test/perl/" -I "$WORK" "$f" >"tmp_check/$name.out" 2>&1
		rc=$?
		# A test killed by the timeout leaves its servers running.
		stop_servers_under "$WORK/tmp_check"
		if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
			# prove was killed before printing what it had buffered; the
			# test's own log has every assertion made so far.
			count_tap "tmp_check/log/regress_log_$name" 0
			T_FAIL=$((T_FAIL + 1))
		else
			count_tap "tmp_check/$name.out" "$rc"
		fi
		printf 'tap   %-40s %4d passed, %d failed\n' "$name" "$T_PASS" "$T_FAIL"
		if [ "$T_FAIL" -gt 0 ]; then
			{ [ "$rc" = 124 ] || [ "$rc" = 137 ]; } && echo "(killed by the timeout; the count includes one failure for that)"
			echo "--- $f output (first 60 lines) ---"
			head -n 60 "tmp_check/$name.out"
			l=tmp_check/log/regress_log_$name
			if [ -f "$l" ]; then
				echo "--- $l (last 60 lines) ---"
				tail -n 60 "$l"
			fi
			for l in tmp_check/log/"${name}"_*.log; do
				[ -f "$l" ] || continue
				if grep -qE 'PANIC|TRAP|FATAL|ERROR|terminated by signal' "$l"; then
					echo "--- $l: errors (first 30) ---"
					grep -E 'PANIC|TRAP|FATAL|ERROR|terminated by signal' "$l" | head -n 30
				fi
			done
			failed+=("$name")
		fi
		pass=$((pass + T_PASS))
		fail=$((fail + T_FAIL))
	done
	record tap "$pass" "$fail" "${failed[@]}"
}

# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------
for suite in regress isolation pgtap tap; do
	suite_wanted "$suite" || continue
	if [ "$(cap 1)" -le 0 ]; then
		echo "test.sh: time budget of ${RDB_TEST_BUDGET}s used up, $suite not run"
		record "$suite" 0 1 "(not run: time budget used up)"
		continue
	fi
	mark_server_log
	"run_$suite"
done

[ "$CLUSTER_UP" = 1 ] && rdb_cluster_stop "$CLUSTER"

echo
echo "=== summary (default_table_access_method = $RDB_TEST_AM; work dir $WORK) ==="
if [ ${#SUMMARY[@]} -eq 0 ]; then
	echo "WARNING: no tests found (sql/, specs/, pgtap/, t/ are empty)"
fi
for line in "${SUMMARY[@]}"; do
	echo "$line"
done
if [ ${#FAILED_NAMES[@]} -gt 0 ]; then
	echo "failed: ${FAILED_NAMES[*]}"
	echo "logs: $WORK/{regression.diffs,output_iso/regression.diffs,pgtap_results/,tmp_check/log/}, server log $CLUSTER/postgres.log"
fi
echo "$TOTAL_PASS passed, $TOTAL_FAIL failed"
[ "$TOTAL_FAIL" = 0 ]
