
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
# stay writable, and survive a second crash.  A last part crashes a
# wal_level=minimal server after tables were created and loaded in the same
# transaction (the WAL-skipping path).

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
# Start the writers, a VACUUM loop, then an open and a prepared transaction.
# ---------------------------------------------------------------------------
my $dir = $PostgreSQL::Test::Utils::tmp_check;
my $connstr = $node->connstr('postgres');
my (@h, @out, @err);
for my $c (0 .. $nclients - 1)
{
	my $script = "$dir/crash_client_$c.sql";
	open my $fh, '>', $script or die "could not write $script: $!";
	print $fh txn_sql($c, $_) for 1 .. $ntx;
	close $fh;
	$out[$c] = "$dir/crash_client_$c.out";
	$err[$c] = "$dir/crash_client_$c.err";
	push @h,
	  IPC::Run::start(
		[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $connstr, '-f', $script ],
		'>', $out[$c], '2>', $err[$c]);
}
my $vacuum_script = "$dir/crash_vacuum.sql";
{
	open my $fh, '>', $vacuum_script or die;
	print $fh "VACUUM t;\nVACUUM hot;\nSELECT pg_sleep(0.2);\n" for 1 .. 1000;
	close $fh;
}
my $vacuum_h = IPC::Run::start(
	[ 'psql', '-XAtq', '-d', $connstr, '-f', $vacuum_script ],
	'>', "$dir/crash_vacuum.out", '2>', "$dir/crash_vacuum.err");

# Wait until the writers have committed $min_txns transactions in total, with
# a checkpoint half-way so that recovery starts from it and replays
# full-page images as well as ordinary records.
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
my $total = wait_total(int($min_txns / 2), 120);
note "committed before checkpoint: $total";
$node->safe_psql('postgres', 'CHECKPOINT');

# A transaction that is open (not committed) when the server crashes.
my $open = $node->background_psql('postgres');
$open->query_safe(
	q{BEGIN;
INSERT INTO t (id, client, seq, j, val, n, pad)
	SELECT 990000000 + g * 10, 99, g, 0, 'uncommitted', 0, repeat('u', g % 500)
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
PREPARE TRANSACTION 'p1';});

$total = wait_total($min_txns, 120);
note "committed before crash: $total";
cmp_ok($total, '>=', $min_txns, "writers committed at least $min_txns transactions before the crash");

# The crash.
$node->stop('immediate');

for my $c (0 .. $nclients - 1) { $h[$c]->finish; }
$vacuum_h->finish;
eval { $open->quit; };    # psql has lost its server; quit may complain

# ---------------------------------------------------------------------------
# What each writer knows was acknowledged.
# ---------------------------------------------------------------------------
my @acked;
for my $c (0 .. $nclients - 1)
{
	my @acks = map { /^ack (\d+) (\d+)$/ ? [ $1, $2 ] : () } split /\n/, slurp_file($out[$c]);
	my $ok = 1;
	for my $k (0 .. $#acks)
	{
		$ok = 0 unless $acks[$k][0] == $c && $acks[$k][1] == $k + 1;
	}
	ok($ok, "client $c: acknowledgements are in sequence");
	$acked[$c] = scalar @acks;
	cmp_ok($acked[$c], '<', $ntx, "client $c was still running at the crash ($acked[$c] acknowledged)");
	my $stderr = slurp_file($err[$c]);
	unlike($stderr, qr/\bERROR:/, "client $c saw no SQL error before the crash")
	  or diag($stderr);
}

# ---------------------------------------------------------------------------
# Restart (crash recovery) and check every client against the model.
# ---------------------------------------------------------------------------
my $log_offset = log_size($node);
$node->start;

my $actual = $node->safe_psql('postgres',
	"SELECT client, id, val, n, md5(pad) FROM t WHERE client < 90 ORDER BY id");
my %actual_text;
for my $line (split /\n/, $actual)
{
	my ($c, $rest) = split /\|/, $line, 2;
	$actual_text{$c} .= (defined $actual_text{$c} ? "\n" : '') . $rest;
}
my $committed_regular = 0;
for my $c (0 .. $nclients - 1)
{
	my %rows;
	model_apply(\%rows, $c, $_) for 1 .. $acked[$c];
	my $after_k = model_text(\%rows);
	model_apply(\%rows, $c, $acked[$c] + 1);
	my $after_k1 = model_text(\%rows);
	my $got = $actual_text{$c} // '';
	my $k = $acked[$c];
	if ($got eq $after_k)
	{
		pass("client $c: table holds exactly its $k acknowledged transactions");
		$committed_regular += grep { !is_rollback_txn($_) } 1 .. $k;
	}
	elsif ($got eq $after_k1)
	{
		pass("client $c: table holds its $k acknowledged transactions and the in-doubt one");
		$committed_regular += grep { !is_rollback_txn($_) } 1 .. $k + 1;
	}
	else
	{
		fail("client $c: table matches the state after transaction $k or " . ($k + 1));
		# Show the first difference against the acknowledged state.
		my @g = split /\n/, $got;
		my @e = split /\n/, $after_k;
		for my $x (0 .. ($#g > $#e ? $#g : $#e))
		{
			my ($gx, $ex) = ($g[$x] // '<none>', $e[$x] // '<none>');
			next if $gx eq $ex;
			diag("first difference at line $x: got '$gx', expected '$ex'");
			last;
		}
		diag("rows: got " . scalar(@g) . ", expected " . scalar(@e));
	}
}

is($node->safe_psql('postgres', 'SELECT total FROM hot WHERE id = 1'),
	$committed_regular,
	'shared counter equals the number of committed (non-rolled-back) transactions');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM t WHERE j IN (8, 9) OR val IN ('rolled back', 'savepoint', 'dup')"),
	0, 'no row from a rolled-back transaction or savepoint');
is($node->safe_psql('postgres', "SELECT count(*) FROM t WHERE client = 99 OR val = 'uncommitted'"),
	0, 'nothing of the transaction open at the crash is visible');
is($node->safe_psql('postgres',
		"SELECT count(*) || '|' || sum(n) || '|' || string_agg(DISTINCT val, ',') FROM t WHERE client = 100"),
	'500|0|static', 'rows updated/deleted by the open and the prepared transaction are intact');
is($node->safe_psql('postgres', "SELECT gid FROM pg_prepared_xacts"),
	'p1', 'the prepared transaction survived the crash');
is($node->safe_psql('postgres', "SELECT count(*) FROM t WHERE client = 98 OR val = 'prepared'"),
	0, 'rows of the prepared transaction are not visible before COMMIT PREPARED');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM t WHERE id <> client * 10000000::bigint + seq * 10 + j"),
	0, 'every row has consistent id/client/seq/j columns');

# ---------------------------------------------------------------------------
# Seq, index and bitmap scans must return the same rows; amcheck must find
# every live row in every btree index.
# ---------------------------------------------------------------------------
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
	my ($n, $mode) = @_;
	my $out = $n->safe_psql('postgres', "$scan{$mode} $scan_query");
	return join("\n", sort { ($a =~ /^(-?\d+)/)[0] <=> ($b =~ /^(-?\d+)/)[0] } split /\n/, $out);
}
my %result;
for my $mode (qw(seq index bitmap))
{
	my $plan = $node->safe_psql('postgres', "$scan{$mode} EXPLAIN (COSTS OFF) $scan_query");
	like($plan, qr/\Q$plan_word{$mode}\E/, "$mode scan plan is used");
	$result{$mode} = scan_rows($node, $mode);
}
ok(length($result{seq}) > 0, 'the table is not empty');
is($result{index}, $result{seq}, 'index scan returns the same rows as the seq scan');
is($result{bitmap}, $result{seq}, 'bitmap scan returns the same rows as the seq scan');
is($node->safe_psql('postgres',
		"$scan{index} SELECT count(*) FROM t WHERE client = 0 AND seq BETWEEN 1 AND 100000"),
	$node->safe_psql('postgres',
		"$scan{seq} SELECT count(*) FROM t WHERE client = 0 AND seq BETWEEN 1 AND 100000"),
	'(client, seq) index agrees with the seq scan');

$node->safe_psql('postgres', 'CREATE EXTENSION amcheck');
for my $idx (qw(t_pkey t_client_seq t_sid hot_pkey))
{
	# bt_index_check takes only AccessShareLock (the prepared transaction
	# still holds RowExclusiveLock on t).
	my ($ret, $stdout, $stderr) = $node->psql('postgres',
		"SELECT bt_index_check('$idx', heapallindexed => true)");
	is($ret, 0, "amcheck: every live row of the table is in $idx")
	  or diag($stderr);
}

# ---------------------------------------------------------------------------
# After recovery the tables are writable; COMMIT PREPARED works; the new
# writes survive a second crash.
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
UPDATE t SET val = 'after-upd', n = n + 1 WHERE client = 0;
DELETE FROM t WHERE client = 1 AND j = 3;
UPDATE hot SET total = total + 1 WHERE id = 1;
VACUUM t;
INSERT INTO t (id, client, seq, j, val, n, pad)
	SELECT 960000000 + g * 10, 96, g, 0, 'after-vacuum', g, 'v'
	FROM generate_series(1, 500) g;
});
is($ret, 0, 'the table is writable after crash recovery (INSERT, UPDATE, DELETE, VACUUM)')
  or diag($stderr);

my $check_after = q{SELECT
	(SELECT count(*) || '/' || sum(n) FROM t WHERE client = 97) || ' ' ||
	(SELECT count(*) FROM t WHERE client = 96) || ' ' ||
	(SELECT count(*) FROM t WHERE client = 0 AND val <> 'after-upd') || ' ' ||
	(SELECT count(*) FROM t WHERE client = 1 AND j = 3) || ' ' ||
	(SELECT count(*) FROM t) || ' ' ||
	(SELECT total FROM hot)};
my $before_second_crash = $node->safe_psql('postgres', $check_after);
like($before_second_crash, qr{^3000/4501500 500 0 0 \d+ \d+$}, 'post-recovery writes are visible');
my $rows_before = scan_rows($node, 'seq');

$node->stop('immediate');
$node->start;
is($node->safe_psql('postgres', $check_after), $before_second_crash,
	'post-recovery writes survive a second crash');
is(scan_rows($node, 'seq'), $rows_before,
	'whole table identical after the second crash (seq scan)');
is(scan_rows($node, 'index'), $rows_before,
	'whole table identical after the second crash (index scan)');
($ret, $stdout, $stderr) = $node->psql('postgres',
	"INSERT INTO t (id, client, seq, j, val, n) VALUES (950000000, 95, 0, 0, 'x', 0) RETURNING sid > 0");
is("$ret $stdout", '0 t', 'sequence-generated unique key still free after two crashes')
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
