
# t/004_differential.pl
#	The same deterministic random mix of DML, VACUUM and TRUNCATE applied to a
#	heap table and to a table of the access method under test leaves both
#	with identical contents through seq, index and bitmap scans, and every
#	statement on the way gives the same output (rows, command tags, errors).
#
# Usage: run through t/run_tap.sh (or prove with PostgreSQL's src/test/perl in
# @INC, PATH starting with PostgreSQL 15's bindir, TESTDIR and PG_REGRESS set,
# as an unprivileged user).  RDB_TEST_AM picks the access method compared with
# heap (default rustydb; with heap the test compares heap with heap, which
# validates the test).  RDB_DIFF_SEED (default 20240601) seeds Perl's srand:
# the same seed replays the same mix; RDB_DIFF_TXNS (default 1000) is the
# number of transactions (about 3.5 operations each), RDB_DIFF_CHECK_EVERY
# (default 35) how often the full comparison runs.  Each transaction is
# generated once with a table placeholder and sent to two psql sessions, one
# per table; their outputs (with the table name normalised) must match.
# The comparison also runs a parallel seq scan and an index-only scan, with
# the columnar scan (RustydbScan) off so that the intended plans are used
# once the table has stripes, and then the columnar scan itself (plain,
# with skip quals, parallel).  Nothing is flushed before the first
# comparison, which checks the plans, and nothing is truncated in the last
# tenth of the mix.
# Operations: single- and multi-row INSERT, INSERT ... SELECT, COPY FROM
# STDIN, UPDATE by key / by range / of non-indexed columns / of TOASTed
# values, DELETE by key / range / group, INSERT ON CONFLICT DO UPDATE / DO
# NOTHING, SELECT FOR UPDATE / FOR SHARE, reads of the transaction's own
# changes, savepoints released or rolled back (some after a deliberate
# unique violation), rolled-back transactions, and between transactions
# VACUUM, VACUUM FREEZE, ANALYZE, rustydb.flush() (moving rows into columnar
# stripes, so later statements work on flushed rows), VACUUM FULL and CLUSTER
# (which write the rows every snapshot sees into stripes of a new file, with
# new TIDs) and rarely TRUNCATE (also inside
# transactions, some rolled back).  Both tables carry the same btree, hash,
# gin and brin indexes; the comparison goes through each of them.
#
# Compaction (src/lsm/compact.c) runs interleaved with the mix: rustydb.compact()
# between transactions (alone, after a VACUUM or after a flush) and inside
# them (where it gives no space back), with level_ratio = 2 and
# compaction_dead_fraction = 0.1 so that stripes are merged and rewritten
# often.  And now and then a compaction runs in a third session while the mix
# goes on: it is made to wait ("episode") at the 'writing' or 'switching'
# phase (rustydb.compaction_pause_phase, for an advisory lock a fourth session
# holds) while a few transactions of DML run (nothing that would wait for its
# ShareUpdateExclusiveLock: no VACUUM, ANALYZE, TRUNCATE, flush), and is let
# go either between two transactions or while the last one is still open
# (committed or rolled back after the compaction switched its rows).  All of
# it goes through maybe_compact(), a no-op on heap, so both sessions see the
# same output; the test checks that compactions really happened (rows of
# compact_log: what rustydb.compact() returned, rustydb.compaction_history
# and the highest level in rustydb.stripes) and that none failed.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RustydbTest;

my $am = test_am();
my $seed = $ENV{RDB_DIFF_SEED} // 20240601;
my $ntxns = $ENV{RDB_DIFF_TXNS} || 1000;
my $check_every = $ENV{RDB_DIFF_CHECK_EVERY} || 35;
note "comparing heap with $am; seed $seed, $ntxns transactions";
srand($seed);

# 1,000-row chunk groups: a rewrite of a table of more rows writes stripes
my $node = rdb_node('diff', conf => "autovacuum_naptime = 1s\nrustydb.chunk_group_rows = 1000\n");
$node->start;
rdb_create_extension($node);
$node->safe_psql('postgres', 'CREATE EXTENSION amcheck');
# rustydb.flush() on tables of the AM under test, nothing on heap: the same
# output either way, so the two sessions stay comparable
$node->safe_psql('postgres', q{
CREATE TABLE flush_log (rows bigint) USING heap;
CREATE FUNCTION maybe_flush(t regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF (SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.oid = t) = 'rustydb' THEN
		INSERT INTO flush_log SELECT rustydb.flush(t);
	END IF;
END $$;
-- the same for rustydb.compact(), waiting at phase (if not 'none') for
-- advisory lock 4242; logs what it did (rows logged inside transactions
-- that roll back are lost: the counts are lower bounds)
CREATE TABLE compact_log (phase text, stripes bigint, compactions bigint,
	max_level int) USING heap;
CREATE FUNCTION maybe_compact(t regclass, phase text DEFAULT 'none') RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF (SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.oid = t) = 'rustydb' THEN
		PERFORM set_config('rustydb.level_ratio', '2', true);
		PERFORM set_config('rustydb.compaction_dead_fraction', '0.1', true);
		PERFORM set_config('rustydb.compaction_pause_phase', phase, true);
		PERFORM set_config('rustydb.compaction_pause_lock', '4242', true);
		INSERT INTO compact_log
			SELECT phase, rustydb.compact(t),
				(SELECT compactions FROM rustydb.compaction_history(t)),
				(SELECT max(level) FROM rustydb.stripes(t));
	END IF;
END $$;
});

my %tables = (heap => 'd_heap', test => 'd_test');
my %using = (heap => 'heap', test => $am);
for my $k (qw(heap test))
{
	my $t = $tables{$k};
	$node->safe_psql(
		'postgres', qq{
CREATE TABLE $t (
	id int PRIMARY KEY,
	grp int NOT NULL,
	val text,
	tags int[],
	num numeric,
	ts timestamp,
	pad text
) USING $using{$k};
CREATE INDEX ${t}_grp ON $t (grp, id);
CREATE INDEX ${t}_val ON $t USING hash (val);
CREATE INDEX ${t}_tags ON $t USING gin (tags);
CREATE INDEX ${t}_ts ON $t USING brin (ts) WITH (pages_per_range = 4);
});
}
is($node->safe_psql('postgres',
		"SELECT amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE relname = 'd_test'"),
	$am, "d_test uses $am");

# ---------------------------------------------------------------------------
# Random generation.  All SQL uses the placeholder TBL for the table name.
# ---------------------------------------------------------------------------
my $next_id = 0;
my %op_count;

sub rint { my ($lo, $hi) = @_; return $lo + int(rand($hi - $lo + 1)); }
sub existing_id { return $next_id ? rint(1, $next_id + 5) : 1; }
sub pick { return $_[ int(rand(@_)) ]; }

sub row_values
{
	my ($id) = @_;
	my $grp = rint(0, 40);
	my $val = rand() < 0.1 ? 'NULL' : "'v" . rint(0, 300) . "'";
	my $tags = rand() < 0.1 ? 'NULL' : "'{" . join(',', map { rint(0, 30) } 1 .. rint(0, 4)) . "}'";
	my $num = rand() < 0.05 ? 'NULL' : sprintf('%.2f', rand(1000) - 200);
	my $ts = "'2024-01-01'::timestamp + interval '" . rint(0, 50000) . " minutes'";
	my $pad = rand() < 0.5 ? 'NULL' : "repeat('p', " . rint(1, 400) . ")";
	return "($id, $grp, $val, $tags, $num, $ts, $pad)";
}

sub copy_line
{
	my ($id) = @_;
	my $val = rand() < 0.1 ? '\N' : 'v' . rint(0, 300);
	my $tags = '{' . join(',', map { rint(0, 30) } 1 .. rint(0, 4)) . '}';
	my $num = sprintf('%.2f', rand(1000) - 200);
	my $ts = sprintf('2024-02-%02d %02d:%02d:00', rint(1, 28), rint(0, 23), rint(0, 59));
	my $pad = rand() < 0.5 ? '\N' : 'c' x rint(1, 300);
	return join("\t", $id, rint(0, 40), $val, $tags, $num, $ts, $pad) . "\n";
}

# One DML statement (or a small group) inside a transaction.
my @ops = (
	[ 8, 'insert_one', sub { my $id = ++$next_id; "INSERT INTO TBL VALUES " . row_values($id) . " RETURNING id, grp;\n" } ],
	[ 6, 'insert_multi', sub {
		my $n = rint(2, 20);
		"INSERT INTO TBL VALUES " . join(', ', map { row_values(++$next_id) } 1 .. $n) . ";\n" } ],
	[ 3, 'insert_select', sub {
		my $n = rint(50, 400);
		my ($a, $b) = ($next_id + 1, $next_id + $n);
		$next_id = $b;
		"INSERT INTO TBL SELECT g, g % 37, 'v' || (g % 301), ARRAY[g % 31, g % 7], g * 1.5, "
		  . "'2024-01-01'::timestamp + g * interval '7 minutes', "
		  . "CASE WHEN g % 3 = 0 THEN repeat('s', g % 500) END FROM generate_series($a, $b) g;\n" } ],
	[ 3, 'copy', sub {
		my $n = rint(10, 200);
		my $s = "COPY TBL FROM STDIN;\n";
		$s .= copy_line(++$next_id) for 1 .. $n;
		# A statement after the data: psql re-runs the COPY if the next
		# input line is a lone ";" (which BackgroundPsql sends after every
		# query), swallowing the rest of the input as data.
		$s . "\\.\nSELECT 'end of copy';\n" } ],
	[ 10, 'update_key', sub {
		my $k = existing_id();
		"UPDATE TBL SET val = 'u" . rint(0, 300) . "', num = num + " . rint(1, 9) . " WHERE id = $k RETURNING id, val, num;\n" } ],
	[ 5, 'update_range', sub {
		my $a = existing_id();
		my $b = $a + rint(0, 60);
		"UPDATE TBL SET grp = (grp + 1) % 41, tags = coalesce(tags, '{}') || " . rint(0, 30)
		  . ", ts = ts + interval '1 day' WHERE id BETWEEN $a AND $b;\n" } ],
	[ 4, 'update_nonindexed', sub {
		"UPDATE TBL SET num = num * 2, pad = coalesce(pad, '') || 'h' WHERE grp = " . rint(0, 40) . ";\n" } ],
	[ 1, 'update_toast', sub {
		my $k = existing_id();
		my $n = rint(60, 250);
		my $salt = rint(0, 100000);
		"UPDATE TBL SET pad = (SELECT string_agg(md5((g + $salt)::text), '') FROM generate_series(1, $n) g) "
		  . "WHERE id BETWEEN $k AND $k + 2;\n" } ],
	[ 6, 'delete_key', sub { "DELETE FROM TBL WHERE id = " . existing_id() . " RETURNING id, grp, val;\n" } ],
	[ 3, 'delete_range', sub {
		my $a = existing_id();
		"DELETE FROM TBL WHERE id BETWEEN $a AND " . ($a + rint(0, 40)) . ";\n" } ],
	[ 1, 'delete_group', sub { "DELETE FROM TBL WHERE grp = " . rint(0, 40) . " AND id % 2 = 0;\n" } ],
	[ 6, 'upsert_update', sub {
		my @rows = map { row_values(existing_id()) } 1 .. rint(1, 5);
		my %seen;
		# ON CONFLICT DO UPDATE cannot touch one row twice in a statement.
		@rows = grep { my ($id) = /^\((\d+),/; !$seen{$id}++ } @rows;
		"INSERT INTO TBL VALUES " . join(', ', @rows)
		  . " ON CONFLICT (id) DO UPDATE SET val = left(coalesce(EXCLUDED.val, '') || coalesce(TBL.val, ''), 40), "
		  . "num = TBL.num - 1, grp = EXCLUDED.grp;\n" } ],
	[ 3, 'upsert_nothing', sub {
		"INSERT INTO TBL VALUES " . join(', ', map { row_values(rand() < 0.5 ? existing_id() : ++$next_id) } 1 .. rint(1, 6))
		  . " ON CONFLICT DO NOTHING;\n" } ],
	[ 2, 'select_for_update', sub {
		"SELECT id, val FROM TBL WHERE grp = " . rint(0, 40) . " ORDER BY id " . pick('FOR UPDATE', 'FOR SHARE', 'FOR NO KEY UPDATE', 'FOR KEY SHARE') . ";\n" } ],
	[ 3, 'read_own_writes', sub {
		"SELECT count(*), sum(num), sum(length(pad)), min(id), max(id) FROM TBL WHERE grp BETWEEN " . rint(0, 20) . " AND " . rint(20, 40) . ";\n" } ],
	[ 2, 'savepoint_error', sub {
		my $k = existing_id();
		"SAVEPOINT e;\nINSERT INTO TBL VALUES " . row_values($k) . ";\nROLLBACK TO SAVEPOINT e;\n" } ],
	# takes ShareUpdateExclusiveLock: not during an episode (see random_op)
	[ 1, 'compact_in_txn', sub { "SELECT maybe_compact('TBL');\n" } ],
);
my $total_weight = 0;
$total_weight += $_->[0] for @ops;

# Set while a compaction waits in another session (an episode): no
# statement that would wait for its ShareUpdateExclusiveLock.
my $in_episode = 0;
# Nothing is flushed (or compacted) before the first comparison, which checks
# that each query gets the plan it is meant to test: no stripes, no retired
# pages (BRIN is not offered on a table with retired pages).
my $stripes_allowed = 0;
# No TRUNCATE in the last tenth of the mix, so that it ends with a table of
# some size whatever the seed (a TRUNCATE becomes an ANALYZE there).
my $txn_no = 0;

sub random_op
{
	for (;;)
	{
		my $r = rand($total_weight);
		for my $op (@ops)
		{
			$r -= $op->[0];
			next if $r >= 0;
			last if $in_episode && $op->[1] eq 'compact_in_txn';    # pick again
			$op_count{ $op->[1] }++;
			return $op->[2]->();
		}
	}
}

# A whole transaction (or something run between transactions).
sub random_txn
{
	my $r = rand();
	if ($in_episode && $r < 0.11) { $r = 0.11 + rand(0.89); }
	if (!$stripes_allowed && $r >= 0.065 && $r < 0.11) { $r = 0.11 + rand(0.89); }
	if ($r < 0.04) { $op_count{vacuum}++; return "VACUUM TBL;\n"; }
	if ($r < 0.05) { $op_count{vacuum_freeze}++; return "VACUUM (FREEZE) TBL;\n"; }
	if ($r < 0.06) { $op_count{analyze}++; return "ANALYZE TBL;\n"; }
	if ($r < 0.065 && $txn_no > 0.9 * $ntxns) { $op_count{analyze}++; return "ANALYZE TBL;\n"; }
	if ($r < 0.065) { $op_count{truncate}++; return "TRUNCATE TBL;\n"; }
	if ($r < 0.085) { $op_count{flush}++; return "SELECT maybe_flush('TBL');\n"; }
	# rewrites write the rows every snapshot sees into stripes (rewrite.c)
	if ($r < 0.0875) { $op_count{vacuum_full}++; return "VACUUM FULL TBL;\n"; }
	if ($r < 0.09) { $op_count{cluster}++; return "CLUSTER TBL USING TBL_pkey;\n"; }
	if ($r < 0.097) { $op_count{compact}++; return "SELECT maybe_compact('TBL');\n"; }
	if ($r < 0.104) { $op_count{vacuum_compact}++; return "VACUUM TBL;\nSELECT maybe_compact('TBL');\n"; }
	if ($r < 0.11) { $op_count{flush_compact}++; return "SELECT maybe_flush('TBL');\nSELECT maybe_compact('TBL');\n"; }
	if ($r < 0.17) { return random_op(); }    # autocommit
	my $sql = "BEGIN;\n";
	if (rand() < 0.1) { $sql .= "SET TRANSACTION ISOLATION LEVEL " . pick('REPEATABLE READ', 'SERIALIZABLE') . ";\n"; }
	for (1 .. rint(1, 6))
	{
		if (rand() < 0.12)
		{
			$op_count{savepoint}++;
			$sql .= "SAVEPOINT s;\n";
			$sql .= random_op() for 1 .. rint(1, 3);
			$sql .= rand() < 0.5 ? "ROLLBACK TO SAVEPOINT s;\n" : "RELEASE SAVEPOINT s;\n";
		}
		elsif (rand() < 0.01 && !$in_episode && $txn_no <= 0.9 * $ntxns)
		{
			$op_count{truncate_in_txn}++;
			$sql .= "TRUNCATE TBL;\n";
		}
		else
		{
			$sql .= random_op();
		}
	}
	if (rand() < 0.15) { $op_count{rollback}++; $sql .= "ROLLBACK;\n"; }
	else { $sql .= "COMMIT;\n"; }
	return $sql;
}

# ---------------------------------------------------------------------------
# Running and comparing.
# ---------------------------------------------------------------------------
my %session;
for my $k (qw(heap test))
{
	$session{$k} = $node->background_psql('postgres', on_error_stop => 0);
	$session{$k}->set_query_timer_restart;
	# Show command tags (UPDATE 3, DELETE 0, ...): they are compared too.
	$session{$k}->query('\set QUIET off');
	$session{$k}->{stderr} = '';
}

# Run $sql (with TBL replaced) in the session for $k; stdout and stderr, with
# the table name and psql's line numbers normalised.
sub run_in
{
	my ($k, $sql) = @_;
	my $t = $tables{$k};
	(my $s = $sql) =~ s/\bTBL(?=\b|_)/$t/g;    # also TBL_pkey
	my $out = $session{$k}->query($s);
	my $err = $session{$k}->{stderr};
	$session{$k}->{stderr} = '';
	my $all = "$out\n--stderr--\n$err";
	$all =~ s/\Q$t\E/TBL/g;    # also inside index names (d_heap_pkey)
	$all =~ s/psql:<stdin>:\d+: //g;
	return $all;
}

my $row = "(id, grp, val, tags, num, ts, md5(pad))::text";
# The columnar scan (RustydbScan, offered once a table has stripes) is
# switched off except in the columnar modes: enable_seqscan = off does not
# keep it from replacing the index and bitmap scans the other modes ask for.
# (On heap the setting is ignored.)
my $nocol = 'SET rustydb.enable_columnar_scan = off;';
my %mode = (
	seq => "$nocol SET enable_indexscan = off; SET enable_bitmapscan = off; SET enable_indexonlyscan = off; SET enable_seqscan = on;",
	index => "$nocol SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_indexscan = on; SET enable_indexonlyscan = on;",
	bitmap => "$nocol SET enable_seqscan = off; SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = on;",
	parallel => "$nocol SET enable_indexscan = off; SET enable_bitmapscan = off; SET enable_indexonlyscan = off; SET enable_seqscan = on; "
	  . 'SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0; '
	  . 'SET max_parallel_workers_per_gather = 2;',
	columnar => 'SET enable_indexscan = off; SET enable_bitmapscan = off; SET enable_indexonlyscan = off; SET enable_seqscan = on;',
	parallel_columnar => 'SET enable_indexscan = off; SET enable_bitmapscan = off; SET enable_indexonlyscan = off; SET enable_seqscan = on; '
	  . 'SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0; '
	  . 'SET max_parallel_workers_per_gather = 2;');
my $reset = 'RESET enable_seqscan; RESET enable_indexscan; RESET enable_bitmapscan; RESET enable_indexonlyscan;';

# [name, mode, plan regexp (TBL = table), query]
my @checks = (
	[ 'all rows, seq scan', 'seq', qr/Seq Scan on TBL/,
		"SELECT count(*), md5(string_agg($row, '|' ORDER BY id)) FROM TBL" ],
	[ 'all rows, index scan', 'index', qr/Index Scan using TBL_pkey/,
		"SELECT count(*), md5(string_agg(r, '|')) FROM (SELECT $row AS r FROM TBL WHERE id > -1 ORDER BY id) s" ],
	[ 'all rows, parallel seq scan', 'parallel', qr/Parallel Seq Scan on TBL/,
		"SELECT count(*), md5(string_agg($row, '|' ORDER BY id)) FROM TBL" ],
	[ 'all rows, bitmap scan', 'bitmap', qr/Bitmap Heap Scan on TBL/,
		"SELECT count(*), md5(string_agg(r, '|' ORDER BY id)) FROM (SELECT id, $row AS r FROM TBL WHERE id > -1) s" ],
	[ 'btree (grp, id)', 'index', qr/TBL_grp/,
		"SELECT count(*), md5(string_agg(id::text, ',' ORDER BY id)) FROM TBL WHERE grp BETWEEN 5 AND 12" ],
	[ 'hash (val)', 'index', qr/TBL_val/,
		"SELECT count(*), md5(string_agg(id::text, ',' ORDER BY id)) FROM TBL WHERE val = 'v17'" ],
	[ 'gin (tags) @>', 'bitmap', qr/TBL_tags/,
		"SELECT count(*), md5(string_agg(id::text, ',' ORDER BY id)) FROM TBL WHERE tags @> '{3}'" ],
	[ 'gin (tags) &&', 'bitmap', qr/TBL_tags/,
		"SELECT count(*), md5(string_agg(id::text, ',' ORDER BY id)) FROM TBL WHERE tags && '{5,6,30}'" ],
	[ 'brin (ts)', 'bitmap', qr/TBL_ts/,
		"SELECT count(*), md5(string_agg(id::text, ',' ORDER BY id)) FROM TBL WHERE ts >= '2024-01-10' AND ts < '2024-01-20'" ],
	[ 'index-only count', 'index', qr/Index Only Scan using TBL_pkey/,
		"SELECT count(*) FROM TBL WHERE id > 0" ],
	# the table AM's seq scan until the table has stripes, then RustydbScan
	# (counted in $colscan_used)
	[ 'all rows, columnar scan', 'columnar', qr/(?:Custom Scan \(RustydbScan\)|Seq Scan) on TBL/,
		"SELECT count(*), md5(string_agg($row, '|' ORDER BY id)) FROM TBL" ],
	[ 'some rows, columnar scan with skip quals', 'columnar', qr/(?:Custom Scan \(RustydbScan\)|Seq Scan) on TBL/,
		"SELECT count(*), md5(string_agg(id || ':' || coalesce(val, '-') || ':' || coalesce(num::text, '-'), ',' ORDER BY id)) "
		  . "FROM TBL WHERE id BETWEEN 200 AND 2500 AND grp >= 3" ],
	[ 'all rows, parallel columnar scan', 'parallel_columnar', qr/Parallel (?:Custom Scan \(RustydbScan\)|Seq Scan) on TBL/,
		"SELECT count(*), md5(string_agg($row, '|' ORDER BY id)) FROM TBL" ],
	# the aggregate pushdown once the table has stripes (counted in
	# $aggpush_used): native and generic aggregates, with and without
	# GROUP BY, with and without quals
	[ 'aggregates, pushed down', 'columnar', qr/(?:Custom Scan \(RustydbAgg\)|Aggregate)/,
		"SELECT count(*), count(num), sum(num), avg(grp), min(id), max(id), sum(id), min(ts), max(val) FROM TBL" ],
	[ 'aggregates with quals, pushed down', 'columnar', qr/(?:Custom Scan \(RustydbAgg\)|Aggregate)/,
		"SELECT count(*), sum(grp), max(ts), avg(num) FROM TBL WHERE id BETWEEN 300 AND 2200" ],
	[ 'DISTINCT aggregates, pushed down', 'columnar', qr/(?:Custom Scan \(RustydbAgg\)|Aggregate)/,
		"SELECT count(DISTINCT grp), count(DISTINCT val), sum(DISTINCT grp), avg(DISTINCT id), count(DISTINCT ts), count(DISTINCT num), count(*) FROM TBL WHERE id > 100" ],
	[ 'GROUP BY, pushed down', 'columnar', qr/(?:Custom Scan \(RustydbAgg\)|Aggregate)/,
		"SELECT count(*), md5(string_agg(g, ',' ORDER BY g)) FROM (SELECT grp || ':' || count(*) || ':' || coalesce(sum(id), 0) || ':' || coalesce(max(ts)::text, '-') AS g FROM TBL GROUP BY grp) s" ],
	[ 'GROUP BY text, pushed down', 'columnar', qr/(?:Custom Scan \(RustydbAgg\)|Aggregate)/,
		"SELECT count(*), md5(string_agg(g, ',' ORDER BY g)) FROM (SELECT coalesce(val, '-') || ':' || count(*) || ':' || min(id) AS g FROM TBL WHERE grp < 30 GROUP BY val) s" ],
);
my $colscan_used = 0;
my $aggpush_used = 0;

my $mismatches = 0;
my $plans_checked = 0;

# Compare: heap by seq scan is the reference; every check on both tables
# must give it.  Returns the number of differences.
sub compare_all
{
	my ($label) = @_;
	my $diffs = 0;
	for my $c (@checks)
	{
		my ($name, $m, $plan_re, $q) = @$c;
		my %res;
		for my $k (qw(heap test))
		{
			my $t = $tables{$k};
			(my $qt = $q) =~ s/\bTBL\b/$t/g;
			if (!$plans_checked)
			{
				my $plan = $node->safe_psql('postgres', "$mode{$m} EXPLAIN (COSTS OFF) $qt");
				(my $re = "$plan_re") =~ s/TBL/$t/g;
				like($plan, qr/$re/, "$k table: '$name' uses the intended plan");
			}
			if ($m =~ /columnar/ && $k eq 'test')
			{
				my $plan = $node->safe_psql('postgres', "$mode{$m} EXPLAIN (COSTS OFF) $qt");
				$colscan_used++ if $plan =~ /RustydbScan/;
				$aggpush_used++ if $plan =~ /RustydbAgg/;
			}
			$res{$k} = $node->safe_psql('postgres', "$mode{$m} $qt");
		}
		# Reference: the same question to heap through a seq scan.
		(my $qref = $q) =~ s/\bTBL\b/$tables{heap}/g;
		my $ref = $node->safe_psql('postgres', "$mode{seq} $qref");
		for my $k (qw(heap test))
		{
			next if $res{$k} eq $ref;
			$diffs++;
			diag("$label: $k table, '$name': got '$res{$k}', heap seq scan gives '$ref'");
		}
	}
	$plans_checked = 1;
	if ($diffs)
	{
		# Show the first rows that differ.
		my %rows;
		for my $k (qw(heap test))
		{
			$rows{$k} = [ split /\n/, $node->safe_psql('postgres',
					"$mode{seq} SELECT $row FROM $tables{$k} ORDER BY id") ];
		}
		my $shown = 0;
		for my $i (0 .. 100000)
		{
			my ($h, $t) = ($rows{heap}[$i], $rows{test}[$i]);
			last if !defined $h && !defined $t;
			next if defined $h && defined $t && $h eq $t;
			diag("row $i: heap " . ($h // '<none>') . " / $am " . ($t // '<none>'));
			last if ++$shown >= 5;
		}
	}
	return $diffs;
}

# ---------------------------------------------------------------------------
# Episodes: a compaction of the test table in a session of its own, made to
# wait at a phase (maybe_compact(..., phase)) for advisory lock 4242, which
# $pause_ctl holds, while the mix goes on.  Nothing happens on heap (and
# with RDB_TEST_AM=heap the compactor returns at once), but the same random
# choices are made, so a seed replays the same mix either way.
# ---------------------------------------------------------------------------
my $pause_ctl = $node->background_psql('postgres');
$pause_ctl->set_query_timer_restart;
my $compactor = $node->background_psql('postgres', on_error_stop => 0);
$compactor->set_query_timer_restart;
$compactor->{stderr} = '';
my $compactor_pid = $compactor->query_safe('SELECT pg_backend_pid()');
my $episodes = 0;
my $episode_left = 0;
my $compactor_errors = 0;

sub start_episode
{
	my $phase = pick('writing', 'switching');
	my $tag = 'episode_' . ++$episodes . '_x';
	$op_count{"episode_$phase"}++;
	$pause_ctl->query_safe('SELECT pg_advisory_lock(4242)');
	$compactor->query_until(qr/$tag started/,
		"\\echo $tag started\nSELECT maybe_compact('$tables{test}', '$phase') AS $tag;\n");
	# until it waits for the lock, or is done (nothing to compact)
	$node->poll_query_until('postgres',
		"SELECT strpos(query, '$tag') > 0 AND (state = 'idle' OR wait_event = 'advisory') "
		  . "FROM pg_stat_activity WHERE pid = $compactor_pid")
	  or die "the compaction of $tag neither waits nor ends";
	$in_episode = 1;
}

sub end_episode
{
	$pause_ctl->query_safe('SELECT pg_advisory_unlock(4242)');
	# psql runs this once the compaction is over
	$compactor->query("SELECT 'episode $episodes over'");
	if ($compactor->{stderr} ne '')
	{
		$compactor_errors++;
		diag("the compaction of episode $episodes failed: $compactor->{stderr}");
		$compactor->{stderr} = '';
	}
	$in_episode = 0;
}

my $stmt_mismatch = 0;
for my $txn (1 .. $ntxns)
{
	$txn_no = $txn;
	if (!$in_episode && $stripes_allowed && rand() < 0.012)
	{
		# a new stripe first: with level_ratio 2 the compaction then
		# often has stripes to merge
		my $f = "SELECT maybe_flush('TBL');\n";
		$stmt_mismatch++ if run_in('heap', $f) ne run_in('test', $f);
		start_episode();
		$episode_left = rint(1, 4);
	}
	my $sql = random_txn();
	my @parts = ($sql);
	my $release_inside = 0;
	if ($in_episode && --$episode_left == 0)
	{
		# the compaction goes on after this transaction, or while it is
		# still open (and switches the rows it changed or locked)
		if (rand() < 0.5 && $sql =~ /\A(BEGIN;\n.*)((?:COMMIT|ROLLBACK);\n)\z/s)
		{
			@parts = ($1, $2);
			$release_inside = 1;
			$op_count{episode_ends_in_txn}++;
		}
	}
	for my $i (0 .. $#parts)
	{
		end_episode() if $release_inside && $i == 1;
		my $oh = run_in('heap', $parts[$i]);
		my $ot = run_in('test', $parts[$i]);
		if ($oh ne $ot)
		{
			$stmt_mismatch++;
			if ($stmt_mismatch <= 3)
			{
				diag("transaction $txn gives different output (seed $seed):\n$parts[$i]\n"
					  . "--- heap:\n$oh\n--- $am:\n$ot");
			}
		}
	}
	end_episode() if $in_episode && $episode_left == 0;
	if ($txn % $check_every == 0 || $txn == $ntxns)
	{
		my $d = compare_all("after transaction $txn");
		$stripes_allowed = 1;
		$mismatches += $d;
		if ($d)
		{
			diag("first divergence found after transaction $txn (seed $seed); stopping the mix");
			last;
		}
	}
}
end_episode() if $in_episode;
note("operations: " . join(', ', map { "$_=$op_count{$_}" } sort keys %op_count));
if ($am eq 'rustydb')
{
	my $moved = $node->safe_psql('postgres', 'SELECT coalesce(sum(rows), 0) FROM flush_log');
	cmp_ok($moved, '>', 0, "the interleaved flushes moved rows into stripes ($moved in all)");
	my ($calls, $rewritten, $compactions, $level, $paused) = split /\|/,
	  $node->safe_psql('postgres', q{
SELECT count(*), coalesce(sum(stripes), 0), coalesce(max(compactions), 0),
	coalesce(max(max_level), 0), count(*) FILTER (WHERE phase <> 'none' AND stripes > 0)
  FROM compact_log});
	note("compactions logged: $calls, $rewritten stripes rewritten, $paused paused ones that did work, "
		  . "highest level $level");
	cmp_ok($rewritten, '>', 0, "the interleaved compactions rewrote stripes ($rewritten in all)");
	cmp_ok($compactions, '>', 0, "rustydb.compaction_history counted them (up to $compactions)");
	cmp_ok($level, '>=', 2, "they merged stripes into higher levels (up to $level)");
	cmp_ok($paused, '>', 0,
		"compactions that waited at a phase while the mix went on did work ($paused of $episodes)");
	cmp_ok($colscan_used, '>', 0, "the columnar checks read $tables{test} through RustydbScan ($colscan_used times)");
	cmp_ok($aggpush_used, '>', 0, "the aggregate checks ran through RustydbAgg ($aggpush_used times)");
}
is($compactor_errors, 0, 'every compaction run beside the mix succeeded');

is($stmt_mismatch, 0, 'every transaction gave the same output on both tables');
is($mismatches, 0, 'contents identical through seq, index and bitmap scans at every check');

my $final = $node->safe_psql('postgres', "SELECT count(*) FROM $tables{test}");
cmp_ok($final, '>', 100, "the mix leaves a non-trivial table ($final rows)");
my $op_total = 0;
$op_total += $_ for values %op_count;
cmp_ok($op_total, '>=', 2 * $ntxns, "at least two operations per transaction on average ($op_total)");

# A last VACUUM on both, compare again, then amcheck the btree indexes.
run_in($_, "VACUUM TBL;\n") for qw(heap test);
is(compare_all('after the final VACUUM'), 0, 'identical after the final VACUUM');
for my $idx ("$tables{test}_pkey", "$tables{test}_grp")
{
	my ($ret, $out, $err) = $node->psql('postgres', "SELECT bt_index_check('$idx', heapallindexed => true)");
	is($ret, 0, "amcheck: every row of $tables{test} is in $idx") or diag($err);
}

$session{$_}->quit for qw(heap test);
$_->quit for ($pause_ctl, $compactor);
check_log_clean($node, 0, 'log: no PANIC, failed assertion or crashed backend');
$node->stop;
done_testing();
