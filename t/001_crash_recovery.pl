
# t/001_crash_recovery.pl
#	An immediate-mode stop (a crash) during concurrent INSERT/UPDATE/DELETE
#	loses no acknowledged commit and shows no rolled-back or uncommitted row.
#
# Usage: run through t/run_tap.sh (or prove with PostgreSQL's src/test/perl in
# @INC, PATH starting with PostgreSQL 15's bindir, TESTDIR and PG_REGRESS set,
# as an unprivileged user).  RDB_TEST_AM picks the table access method under
# test (default rustydb; heap validates the test itself); RDB_CRASH_CLIENTS
# (default 4) and RDB_CRASH_MIN_TXNS (default 2000, committed transactions
# before the crash) size the workload.  How it works: every writer is a psql
# process running a generated script of numbered transactions, each followed
# by "\echo ack C I", which psql only reaches once COMMIT has returned; with
# ON_ERROR_STOP the script stops at the first error (the crash).  After the
# restart, each client's rows must equal exactly the state a Perl model
# computes after its last acknowledged transaction I, or after I+1 (the one
# whose COMMIT may have reached the server without its reply getting back).
# Rolled-back transactions, rolled-back savepoints, a transaction left open
# across the crash and a prepared transaction must leave no visible trace; a
# shared counter row updated by every transaction must match the commits
# exactly; seq, index and bitmap scans and amcheck must agree; the table must
# stay writable.  A second round crashes again under load with new clients,
# on the recovered table (the first round's rows must not change), and a
# third crash with nothing running must bring back the table unchanged.  A
# last part crashes a wal_level=minimal server after tables were created and
# loaded in the same transaction, or rewritten by VACUUM FULL and CLUSTER
# (the WAL-skipping path).

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use Digest::MD5 qw(md5_hex);
use IPC::Run;
use Time::HiRes qw(sleep time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RustydbTest;

my $am = test_am();
my $nclients = $ENV{RDB_CRASH_CLIENTS} || 4;
my $min_txns = $ENV{RDB_CRASH_MIN_TXNS} || 2000;
my $ntx = 10000;    # transactions per client script; never reached
note "table access method under test: $am";

my $node = rdb_node(
	'crash',
	allows_streaming => 1,
	shared_buffers => '2MB',
	conf => "max_prepared_transactions = 5\nautovacuum_naptime = 1s\n");
$node->start;
rdb_create_extension($node);

# ---------------------------------------------------------------------------
# Schema.  id encodes (client, seq, j) as client*1e7 + seq*10 + j.  Client
# 100 holds "static" rows that only the open and the prepared transaction
# touch; clients 98/99 are rows those two insert.
# ---------------------------------------------------------------------------
$node->safe_psql(
	'postgres', qq{
CREATE TABLE t (
	id bigint PRIMARY KEY,
	sid bigserial NOT NULL,
	client int NOT NULL,
	seq int NOT NULL,
	j int NOT NULL,
	val text NOT NULL,
	n int NOT NULL,
	pad text
) USING $am;
CREATE INDEX t_client_seq ON t (client, seq);
CREATE UNIQUE INDEX t_sid ON t (sid);
CREATE TABLE hot (id int PRIMARY KEY, total bigint NOT NULL) USING $am;
INSERT INTO hot VALUES (1, 0);
INSERT INTO t (id, client, seq, j, val, n, pad)
	SELECT 1000000000 + g * 10, 100, g, 0, 'static', 0, 'static'
	FROM generate_series(1, 500) g;
});
is($node->safe_psql('postgres',
		"SELECT amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE relname = 't'"),
	$am, "table t uses $am");

# ---------------------------------------------------------------------------
# The workload, as SQL text and as a model.
# ---------------------------------------------------------------------------
sub rid { my ($c, $s, $j) = @_; return $c * 10_000_000 + $s * 10 + $j; }

# Initial pad of a row: mostly short, every 50th transaction's first row is a
# ~3 kB value of md5 hex digits, which does not compress and goes to TOAST.
sub pad_sql
{
	my ($c, $i, $j) = @_;
	my $id = rid($c, $i, $j);
	return "(SELECT string_agg(md5((g + $id)::text), '') FROM generate_series(1, 100) g)"
	  if $i % 50 == 0 && $j == 1;
	return "repeat('p', " . (20 + ($id * 7) % 300) . ")";
}

sub pad_model
{
	my ($c, $i, $j) = @_;
	my $id = rid($c, $i, $j);
	return join('', map { md5_hex($_ + $id) } 1 .. 100)
	  if $i % 50 == 0 && $j == 1;
	return 'p' x (20 + ($id * 7) % 300);
}

sub is_rollback_txn { return $_[0] % 10 == 5; }

# SQL of client $c's transaction $i.
sub txn_sql
{
	my ($c, $i) = @_;
	my $sql = "BEGIN;\n";
	if (is_rollback_txn($i))
	{
		# Everything here is rolled back explicitly.
		$sql .= "INSERT INTO t (id, client, seq, j, val, n, pad) VALUES ("
		  . rid($c, $i, 8) . ", $c, $i, 8, 'rolled back', 0, 'x');\n";
		$sql .= "UPDATE t SET val = 'rolled back', n = n + 1000 WHERE client = $c;\n";
		$sql .= "DELETE FROM t WHERE client = $c AND j = 1;\n";
		$sql .= "UPDATE hot SET total = total + 1000 WHERE id = 1;\n";
		$sql .= "ROLLBACK;\n";
	}
	else
	{
		$sql .= "INSERT INTO t (id, client, seq, j, val, n, pad) VALUES "
		  . join(', ',
			map { "(" . rid($c, $i, $_) . ", $c, $i, $_, 'i$i', 0, " . pad_sql($c, $i, $_) . ")" }
			  1 .. 3)
		  . ";\n";
		$sql .= "SELECT id FROM t WHERE id = " . rid($c, $i - 1, 1) . " FOR UPDATE;\n";
		$sql .= "UPDATE t SET val = 'u$i', n = n + 1 WHERE id = " . rid($c, $i - 1, 1) . ";\n";
		$sql .= "DELETE FROM t WHERE id = " . rid($c, $i - 2, 2) . ";\n";
		$sql .= "INSERT INTO t (id, client, seq, j, val, n, pad) VALUES ("
		  . rid($c, $i - 1, 3) . ", $c, " . ($i - 1) . ", 3, 'oc', 0, 'oc') "
		  . "ON CONFLICT (id) DO UPDATE SET n = t.n + 100;\n";
		$sql .= "UPDATE t SET n = n + 10, pad = pad || 'z' WHERE client = $c AND seq BETWEEN "
		  . ($i - 6) . " AND " . ($i - 3) . " AND j = 3;\n";
		$sql .= "INSERT INTO t (id, client, seq, j, val, n) VALUES ("
		  . rid($c, $i, 1) . ", $c, $i, 1, 'dup', -1) ON CONFLICT DO NOTHING;\n";
		if ($i % 10 == 7)
		{
			# Work inside a savepoint that is rolled back.
			$sql .= "SAVEPOINT s;\n";
			$sql .= "INSERT INTO t (id, client, seq, j, val, n) VALUES ("
			  . rid($c, $i, 9) . ", $c, $i, 9, 'savepoint', 0);\n";
			$sql .= "UPDATE t SET val = 'savepoint', n = n + 5000 WHERE client = $c;\n";
			$sql .= "DELETE FROM t WHERE client = $c AND seq < $i - 1;\n";
			$sql .= "ROLLBACK TO SAVEPOINT s;\n";
		}
		$sql .= "UPDATE hot SET total = total + 1 WHERE id = 1;\n";
		$sql .= "COMMIT;\n";
	}
	$sql .= "\\echo ack $c $i\n";
	return $sql;
}

# Apply client $c's transaction $i to the model (a hash id => [val, n, pad]).
sub model_apply
{
	my ($rows, $c, $i) = @_;
	return if is_rollback_txn($i);
	$rows->{ rid($c, $i, $_) } = [ "i$i", 0, pad_model($c, $i, $_) ] for 1 .. 3;
	if (my $r = $rows->{ rid($c, $i - 1, 1) }) { $r->[0] = "u$i"; $r->[1] += 1; }
	delete $rows->{ rid($c, $i - 2, 2) };
	if (my $r = $rows->{ rid($c, $i - 1, 3) }) { $r->[1] += 100; }
	else { $rows->{ rid($c, $i - 1, 3) } = [ 'oc', 0, 'oc' ]; }
	for my $s ($i - 6 .. $i - 3)
	{
		if (my $r = $rows->{ rid($c, $s, 3) }) { $r->[1] += 10; $r->[2] .= 'z'; }
	}
	return;
}

# The model as the text "id|val|n|md5(pad)" lines, ordered by id.
sub model_text
{
	my ($rows) = @_;
	return join("\n",
		map { "$_|$rows->{$_}[0]|$rows->{$_}[1]|" . md5_hex($rows->{$_}[2]) }
		sort { $a <=> $b } keys %$rows);
}

# ---------------------------------------------------------------------------
# A round: start the writers (client ids $first .. $first + $nclients - 1)
# and a VACUUM loop, checkpoint half-way, open a transaction that is never
# committed (and, in round 1, prepare one), crash, restart, and work out from
# the acknowledgements and the table which transactions each client
# committed.
# ---------------------------------------------------------------------------
my $dir = $PostgreSQL::Test::Utils::tmp_check;
my $connstr = $node->connstr('postgres');
my %committed;    # client => number of its transactions that committed

sub wait_total
{
	my ($target, $limit) = @_;
	my $deadline = time() + $limit;
	my ($total, $last, $last_change) = (0, -1, time());
	while (1)
	{
		$total = $node->safe_psql('postgres', 'SELECT total FROM hot WHERE id = 1');
		last if $total >= $target || time() > $deadline;
		# Writers that stopped (an error) make no progress: stop waiting.
		($last, $last_change) = ($total, time()) if $total != $last;
		last if time() - $last_change > 15;
		sleep(0.2);
	}
	return $total;
}

# The rows of clients < 90 as "id|val|n|md5(pad)" text per client.
sub actual_by_client
{
	my %text;
	for my $line (split /\n/,
		$node->safe_psql('postgres', "SELECT client, id, val, n, md5(pad) FROM t WHERE client < 90 ORDER BY id"))
	{
		my ($c, $rest) = split /\|/, $line, 2;
		$text{$c} .= (defined $text{$c} ? "\n" : '') . $rest;
	}
	return \%text;
}

sub model_after
{
	my ($c, $k) = @_;
	my %rows;
	model_apply(\%rows, $c, $_) for 1 .. $k;
	return model_text(\%rows);
}

# Show the first line where two texts differ.
sub diag_first_difference
{
	my ($got, $expected) = @_;
	my @g = split /\n/, $got;
	my @e = split /\n/, $expected;
	for my $x (0 .. ($#g > $#e ? $#g : $#e))
	{
		my ($gx, $ex) = ($g[$x] // '<none>', $e[$x] // '<none>');
		next if $gx eq $ex;
		diag("first difference at line $x: got '$gx', expected '$ex'");
		last;
	}
	diag("rows: got " . scalar(@g) . ", expected " . scalar(@e));
	return;
}

sub crash_round
{
	my ($round, $first) = @_;
	my @clients = ($first .. $first + $nclients - 1);
	my $hot_before = $node->safe_psql('postgres', 'SELECT total FROM hot WHERE id = 1');
	my (%h, %out, %err);
	for my $c (@clients)
	{
		my $script = "$dir/crash_client_$c.sql";
		open my $fh, '>', $script or die "could not write $script: $!";
		print $fh txn_sql($c, $_) for 1 .. $ntx;
		close $fh;
		$out{$c} = "$dir/crash_client_$c.out";
		$err{$c} = "$dir/crash_client_$c.err";
		$h{$c} = IPC::Run::start(
			[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $connstr, '-f', $script ],
			'>', $out{$c}, '2>', $err{$c});
	}
	my $vacuum_script = "$dir/crash_vacuum.sql";
	open my $fh, '>', $vacuum_script or die;
	print $fh "VACUUM t;\nVACUUM hot;\nSELECT pg_sleep(0.2);\n" for 1 .. 1000;
	close $fh;
	my $vacuum_h = IPC::Run::start([ 'psql', '-XAtq', '-d', $connstr, '-f', $vacuum_script ],
		'>', "$dir/crash_vacuum_$round.out", '2>', "$dir/crash_vacuum_$round.err");

	# Half-way, a checkpoint: recovery then starts from it and replays
	# full-page images as well as ordinary records.
	my $total = wait_total($hot_before + int($min_txns / 2), 120) - $hot_before;
	note "round $round: committed before checkpoint: $total";
	$node->safe_psql('postgres', 'CHECKPOINT');

	# A transaction that is open (not committed) when the server crashes.
	my $open = $node->background_psql('postgres');
	my $base = 990000000 + $round * 100000;
	$open->query_safe(
		qq{BEGIN;
INSERT INTO t (id, client, seq, j, val, n, pad)
	SELECT $base + g * 10, 99, g, 0, 'uncommitted', 0, repeat('u', g % 500)
	FROM generate_series(1, 2000) g;
UPDATE t SET val = 'uncommitted', n = -1 WHERE client = 100 AND seq <= 250;
DELETE FROM t WHERE client = 100 AND seq <= 100;
SELECT 1});

	# A prepared transaction: invisible until COMMIT PREPARED, even across a crash.
	$node->safe_psql(
		'postgres', q{BEGIN;
INSERT INTO t (id, client, seq, j, val, n, pad)
	SELECT 980000000 + g * 10, 98, g, 0, 'prepared', 0, 'prepared'
	FROM generate_series(1, 300) g;
UPDATE t SET val = 'prepared', n = 7 WHERE client = 100 AND seq > 250;
PREPARE TRANSACTION 'p1';}) if $round == 1;

	$total = wait_total($hot_before + $min_txns, 120) - $hot_before;
	note "round $round: committed before crash: $total";
	cmp_ok($total, '>=', $min_txns, "round $round: writers committed at least $min_txns transactions before the crash");

	# The crash.
	$node->stop('immediate');
	$h{$_}->finish for @clients;
	$vacuum_h->finish;
	eval { $open->quit; };    # psql has lost its server; quit may complain

	# What each writer knows was acknowledged.
	my %acked;
	for my $c (@clients)
	{
		my @acks = map { /^ack (\d+) (\d+)$/ ? [ $1, $2 ] : () } split /\n/, slurp_file($out{$c});
		my $ok = 1;
		for my $k (0 .. $#acks)
		{
			$ok = 0 unless $acks[$k][0] == $c && $acks[$k][1] == $k + 1;
		}
		ok($ok, "client $c: acknowledgements are in sequence");
		$acked{$c} = scalar @acks;
		cmp_ok($acked{$c}, '<', $ntx, "client $c was still running at the crash ($acked{$c} acknowledged)");
		my $stderr = slurp_file($err{$c});
		unlike($stderr, qr/\bERROR:/, "client $c saw no SQL error before the crash")
		  or diag($stderr);
	}

	# Crash recovery.
	$node->start;

	# Each client's rows are exactly the state after its acknowledged
	# transactions, or after one more (COMMIT sent, reply lost).
	my $actual = actual_by_client();
	for my $c (@clients)
	{
		my $k = $acked{$c};
		my $got = $actual->{$c} // '';
		my $after_k = model_after($c, $k);
		if ($got eq $after_k)
		{
			pass("client $c: table holds exactly its $k acknowledged transactions");
			$committed{$c} = $k;
		}
		elsif ($got eq model_after($c, $k + 1))
		{
			pass("client $c: table holds its $k acknowledged transactions and the in-doubt one");
			$committed{$c} = $k + 1;
		}
		else
		{
			fail("client $c: table matches the state after transaction $k or " . ($k + 1));
			diag_first_difference($got, $after_k);
			$committed{$c} = $k;
		}
	}
	return;
}

# Checks that hold after every crash: clients of earlier rounds unchanged,
# the shared counter, no trace of rolled-back or uncommitted work.
sub check_invariants
{
	my ($label) = @_;
	my $actual = actual_by_client();
	my $expected_total = 0;
	for my $c (sort { $a <=> $b } keys %committed)
	{
		my $expected = model_after($c, $committed{$c});
		is($actual->{$c} // '', $expected, "$label: client $c still holds exactly its committed transactions")
		  or diag_first_difference($actual->{$c} // '', $expected);
		$expected_total += grep { !is_rollback_txn($_) } 1 .. $committed{$c};
	}
	is($node->safe_psql('postgres', 'SELECT total FROM hot WHERE id = 1'), $expected_total,
		"$label: shared counter equals the number of committed (non-rolled-back) transactions");
	is($node->safe_psql('postgres',
			"SELECT count(*) FROM t WHERE j IN (8, 9) OR val IN ('rolled back', 'savepoint', 'dup')"),
		0, "$label: no row from a rolled-back transaction or savepoint");
	is($node->safe_psql('postgres', "SELECT count(*) FROM t WHERE client = 99 OR val = 'uncommitted'"),
		0, "$label: nothing of the transactions open at the crash is visible");
	is($node->safe_psql('postgres',
			"SELECT count(*) || '|' || sum(n) || '|' || string_agg(DISTINCT val, ',') FROM t WHERE client = 100 AND seq <= 250"),
		'250|0|static', "$label: rows updated/deleted by the open transaction are intact");
	is($node->safe_psql('postgres',
			"SELECT count(*) FROM t WHERE client < 90 AND id <> client * 10000000::bigint + seq * 10 + j"),
		0, "$label: every row has consistent id/client/seq/j columns");
	return;
}

# Seq, index and bitmap scans must return the same rows; amcheck must find
# every live row in every btree index.
my $rowexpr = "id || ',' || sid || ',' || client || ',' || seq || ',' || j || ',' || val || ',' || n || ',' || md5(coalesce(pad, ''))";
my %scan = (
	seq => "SET enable_indexscan = off; SET enable_bitmapscan = off; SET enable_indexonlyscan = off;",
	index => "SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_indexonlyscan = off;",
	bitmap => "SET enable_seqscan = off; SET enable_indexscan = off; SET enable_indexonlyscan = off;");
my %plan_word = (seq => 'Seq Scan on t', index => 'Index Scan using t_pkey', bitmap => 'Bitmap Heap Scan on t');
# No ORDER BY: it would make the planner prefer the (ordered) index scan over
# a bitmap scan of the whole range.  Rows are sorted by id here instead.
my $scan_query = "SELECT $rowexpr FROM t WHERE id >= 0";
sub scan_rows
{
	my ($mode) = @_;
	my $out = $node->safe_psql('postgres', "$scan{$mode} $scan_query");
	return join("\n", sort { ($a =~ /^(-?\d+)/)[0] <=> ($b =~ /^(-?\d+)/)[0] } split /\n/, $out);
}

sub check_scans
{
	my ($label) = @_;
	my %result;
	for my $mode (qw(seq index bitmap))
	{
		my $plan = $node->safe_psql('postgres', "$scan{$mode} EXPLAIN (COSTS OFF) $scan_query");
		like($plan, qr/\Q$plan_word{$mode}\E/, "$label: $mode scan plan is used");
		$result{$mode} = scan_rows($mode);
	}
	ok(length($result{seq}) > 0, "$label: the table is not empty");
	is($result{index}, $result{seq}, "$label: index scan returns the same rows as the seq scan");
	is($result{bitmap}, $result{seq}, "$label: bitmap scan returns the same rows as the seq scan");
	is($node->safe_psql('postgres',
			"$scan{index} SELECT count(*), sum(n) FROM t WHERE client < 90 AND seq BETWEEN 1 AND 100000"),
		$node->safe_psql('postgres',
			"$scan{seq} SELECT count(*), sum(n) FROM t WHERE client < 90 AND seq BETWEEN 1 AND 100000"),
		"$label: (client, seq) index agrees with the seq scan");
	# An index-only scan trusts the visibility map where one exists.
	like($node->safe_psql('postgres',
			"SET enable_seqscan = off; SET enable_bitmapscan = off; EXPLAIN (COSTS OFF) SELECT count(*), sum(id) FROM t WHERE id >= 0"),
		qr/Index Only Scan using t_pkey/, "$label: index-only scan plan is used");
	is($node->safe_psql('postgres', "SET enable_seqscan = off; SET enable_bitmapscan = off; SELECT count(*), sum(id) FROM t WHERE id >= 0"),
		$node->safe_psql('postgres', "$scan{seq} SELECT count(*), sum(id) FROM t WHERE id >= 0"),
		"$label: index-only scan agrees with the seq scan");
	for my $idx (qw(t_pkey t_client_seq t_sid hot_pkey))
	{
		# bt_index_check takes only AccessShareLock (a prepared transaction
		# may still hold RowExclusiveLock on t).
		my ($ret, $stdout, $stderr) = $node->psql('postgres',
			"SELECT bt_index_check('$idx', heapallindexed => true)");
		is($ret, 0, "$label: amcheck: every live row of the table is in $idx")
		  or diag($stderr);
	}
	return $result{seq};
}

$node->safe_psql('postgres', 'CREATE EXTENSION amcheck');

# ---------------------------------------------------------------------------
# Round 1.
# ---------------------------------------------------------------------------
crash_round(1, 0);
check_invariants('round 1');
is($node->safe_psql('postgres', "SELECT gid FROM pg_prepared_xacts"),
	'p1', 'the prepared transaction survived the crash');
is($node->safe_psql('postgres', "SELECT count(*) FROM t WHERE client = 98 OR val = 'prepared'"),
	0, 'rows of the prepared transaction are not visible before COMMIT PREPARED');
is($node->safe_psql('postgres', "SELECT count(*) || '|' || sum(n) FROM t WHERE client = 100"),
	'500|0', 'rows the prepared transaction updated are unchanged before COMMIT PREPARED');
check_scans('round 1');

# ---------------------------------------------------------------------------
# After recovery the tables are writable and COMMIT PREPARED works.
# ---------------------------------------------------------------------------
$node->safe_psql('postgres', q{COMMIT PREPARED 'p1'});
is($node->safe_psql('postgres',
		"SELECT count(*) FROM t WHERE client = 98 OR (client = 100 AND val = 'prepared' AND n = 7)"),
	550, 'COMMIT PREPARED after recovery makes its rows visible');

my ($ret, $stdout, $stderr) = $node->psql(
	'postgres', q{
INSERT INTO t (id, client, seq, j, val, n, pad)
	SELECT 970000000 + g * 10, 97, g, 0, 'after', g, repeat('a', g % 700)
	FROM generate_series(1, 3000) g;
UPDATE t SET val = 'after-upd', n = n + 1 WHERE client = 97 AND seq % 3 = 0;
DELETE FROM t WHERE client = 97 AND seq % 5 = 0;
VACUUM t;
INSERT INTO t (id, client, seq, j, val, n, pad)
	SELECT 960000000 + g * 10, 96, g, 0, 'after-vacuum', g, 'v'
	FROM generate_series(1, 500) g;
});
is($ret, 0, 'the table is writable after crash recovery (INSERT, UPDATE, DELETE, VACUUM)')
  or diag($stderr);
my ($n97, $sum97) = (0, 0);
for my $g (1 .. 3000)
{
	next if $g % 5 == 0;
	$n97++;
	$sum97 += $g + ($g % 3 == 0 ? 1 : 0);
}
my $check_after = q{SELECT
	(SELECT count(*) || '/' || sum(n) || '/' || count(*) FILTER (WHERE val = 'after-upd') FROM t WHERE client = 97) || ' ' ||
	(SELECT count(*) || '/' || sum(n) FROM t WHERE client = 96) || ' ' ||
	(SELECT count(*) FROM t WHERE client = 98)};
my $expected_after = "$n97/$sum97/800 500/125250 300";
is($node->safe_psql('postgres', $check_after), $expected_after, 'post-recovery writes are visible');

# ---------------------------------------------------------------------------
# Round 2: another crash under load, on a table that went through recovery.
# Round 1 ran with a 2 MB buffer pool, so most changed pages were written out
# before the crash (evictions); now the pool is large enough to keep them all
# in memory, so that after the crash only the WAL can bring them back.
# ---------------------------------------------------------------------------
$node->append_conf('postgresql.conf', "shared_buffers = '128MB'");
$node->restart;
crash_round(2, 10);
check_invariants('round 2');
is($node->safe_psql('postgres', $check_after), $expected_after, 'round 2: post-recovery writes survived the crash');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_prepared_xacts"), '0', 'no prepared transaction left');
my $rows_before = check_scans('round 2');

# ---------------------------------------------------------------------------
# A crash with nothing running: the whole table comes back unchanged.
# ---------------------------------------------------------------------------
$node->stop('immediate');
$node->start;
is(scan_rows('seq'), $rows_before, 'whole table identical after a crash at rest (seq scan)');
is(scan_rows('index'), $rows_before, 'whole table identical after a crash at rest (index scan)');
($ret, $stdout, $stderr) = $node->psql('postgres',
	"INSERT INTO t (id, client, seq, j, val, n) VALUES (950000000, 95, 0, 0, 'x', 0) RETURNING sid > 0");
is("$ret $stdout", '0 t', 'sequence-generated unique key still free after three crashes')
  or diag($stderr);

check_log_clean($node, 0, 'server log shows no PANIC, failed assertion or crashed backend');
$node->stop;

# ---------------------------------------------------------------------------
# wal_level = minimal: tables created (or truncated) and loaded in the same
# transaction skip WAL and are synced or WAL-logged wholesale at commit.  A
# crash right after such commits must keep their contents.
# ---------------------------------------------------------------------------
my $min = rdb_node('minimal', conf => "wal_skip_threshold = '256kB'\n");
$min->start;
rdb_create_extension($min);
$min->safe_psql(
	'postgres', qq{
CREATE TABLE m_old (id int PRIMARY KEY, v text) USING $am;
INSERT INTO m_old SELECT g, 'old' FROM generate_series(1, 1000) g;
BEGIN;
CREATE TABLE m_small (id int PRIMARY KEY, v text) USING $am;
INSERT INTO m_small SELECT g, md5(g::text) FROM generate_series(1, 200) g;
CREATE TABLE m_big (id int PRIMARY KEY, v text) USING $am;
INSERT INTO m_big SELECT g, md5(g::text) FROM generate_series(1, 30000) g;
TRUNCATE m_old;
INSERT INTO m_old SELECT g, 'new' FROM generate_series(1, 5000) g;
COMMIT;
INSERT INTO m_small SELECT g, 'later' FROM generate_series(201, 300) g;
-- rewrites into new relfilenodes skip WAL too (rustydb: the rows into
-- stripes and directory pages, rewrite.c), a large and a small one
VACUUM FULL m_big;
CLUSTER m_old USING m_old_pkey;
});
my $min_check = q{SELECT
	(SELECT count(*) || '/' || sum(id) FROM m_small) || ' ' ||
	(SELECT count(*) || '/' || md5(string_agg(v, ',' ORDER BY id)) FROM m_big) || ' ' ||
	(SELECT count(*) || '/' || string_agg(DISTINCT v, ',') FROM m_old)};
my $min_before = $min->safe_psql('postgres', $min_check);
like($min_before, qr{^300/45150 30000/[0-9a-f]{32} 5000/new$}, 'wal_level=minimal: contents before the crash');
$min->stop('immediate');
$min->start;
is($min->safe_psql('postgres', $min_check), $min_before,
	'wal_level=minimal: tables created/truncated and loaded in one transaction survive a crash');
is($min->safe_psql('postgres',
		'SET enable_seqscan = off; SET enable_bitmapscan = off; SELECT count(*) FROM m_big WHERE id > 0'),
	'30000', 'wal_level=minimal: index agrees after the crash');
check_log_clean($min, 0, 'wal_level=minimal server log shows no problem');
$min->stop;

done_testing();
