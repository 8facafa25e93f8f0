# t/028_background_flush.pl
#	The database's background worker flushes rustydb tables whose
#	flush_rows (table option, else rustydb.flush_rows) is above 0 once that
#	many rows were inserted or updated, and leaves other tables alone.  A
#	commit that brings a table to flush_rows wakes it at once; with
#	flush_running, so does a running transaction each time it has written
#	flush_rows rows: the worker moves them while it runs, and retires their
#	pages once it committed.  Stripe rows are counted as those a stub or directory entry
#	refers to (nrows - deleted_rows): a page's rows copied again into one
#	stripe leave copies behind until compaction gives them back.
#
#	The test looks at the storage (rustydb.stripes, rustydb.l0_layout: the
#	flushed pages were retired and their blocks reused, so a table that
#	keeps receiving rows grows by its stripes only), not only at query
#	results, and proves the worker did it: nothing here calls
#	rustydb.flush(), a table with flush_rows = 0 gets no stripe, and with the
#	worker off (rustydb.events = off: background flush runs in the storage
#	event worker) nothing is flushed at all.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use Time::HiRes qw(sleep time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RustydbTest;

my $am = test_am();
plan skip_all => 'background flush is rustydb-specific' if $am ne 'rustydb';

my $node = rdb_node('bgflush', conf => "autovacuum_naptime = 1s\nmax_prepared_transactions = 2\n");
$node->start;
rdb_create_extension($node);

$node->safe_psql('postgres', q{
	CREATE TABLE bf1 (id int PRIMARY KEY, v text, n numeric) USING rustydb WITH (flush_rows = 2000);
	CREATE TABLE bf0 (id int PRIMARY KEY, v text, n numeric) USING rustydb;
	CREATE TABLE bf_twin (id int PRIMARY KEY, v text, n numeric) USING heap;
	INSERT INTO bf1 SELECT g, 'v' || g, g / 3.0 FROM generate_series(1, 10000) g;
	INSERT INTO bf0 SELECT g, 'v' || g, g / 3.0 FROM generate_series(1, 10000) g;
	INSERT INTO bf_twin SELECT g, 'v' || g, g / 3.0 FROM generate_series(1, 10000) g;
});

# bounded wait for the worker
my $flushed = 0;
my $deadline = time() + 90;
while (time() < $deadline)
{
	$flushed = $node->safe_psql('postgres',
		q{SELECT coalesce(sum(nrows - deleted_rows), 0) FROM rustydb.stripes('bf1')});
	last if $flushed >= 10000;
	# keep the worker busy with events meanwhile, as any writer would
	$node->safe_psql('postgres', 'INSERT INTO bf_twin SELECT -g, NULL, NULL FROM generate_series(1, 100) g; DELETE FROM bf_twin WHERE id < 0');
	sleep(0.5);
}
is($flushed, 10000, 'the background worker flushed all 10000 rows of bf1 (flush_rows = 2000) into stripes');
is($node->safe_psql('postgres', q{SELECT count(*) FROM rustydb.stripes('bf0')}), '0',
	'bf0 (flush_rows 0, the default) was left in L0');

my $q = q{SELECT count(*) || ':' || md5(string_agg(id || '/' || v || '/' || n, ',' ORDER BY id)) FROM };
is($node->safe_psql('postgres', $q . 'bf1'), $node->safe_psql('postgres', $q . 'bf_twin WHERE id > 0'),
	'bf1 reads back as its heap twin after the background flush');

# the worker's flushes retired the L0 pages (their rows need no page now)
my ($free, $retired_rows) = split /\|/, $node->safe_psql('postgres',
	q{SELECT free_pages, retired_rows FROM rustydb.l0_layout('bf1')});
cmp_ok($free, '>', 0, "the background flush retired L0 pages ($free free pages)");
cmp_ok($retired_rows, '>', 5000, "most flushed rows live in retired generations ($retired_rows)");

# more rows: the next flush comes after flush_rows more changes
$node->safe_psql('postgres', q{
	UPDATE bf1 SET v = v || 'u' WHERE id <= 3000;
	UPDATE bf_twin SET v = v || 'u' WHERE id <= 3000;
});
$deadline = time() + 90;
my $stripes = 0;
while (time() < $deadline)
{
	$stripes = $node->safe_psql('postgres', q{SELECT count(*) FROM rustydb.stripes('bf1')});
	last if $stripes >= 2;
	sleep(0.5);
}
cmp_ok($stripes, '>=', 2, "3000 updated rows were flushed in the background too ($stripes stripes)");
is($node->safe_psql('postgres', $q . 'bf1'), $node->safe_psql('postgres', $q . 'bf_twin WHERE id > 0'),
	'bf1 still reads back as its heap twin');

# steady ingestion: rows arrive in rounds and the worker flushes each round;
# the blocks it frees are reused by the next rounds, so the table grows by
# its stripes only, while its heap twin grows by every row
$node->safe_psql('postgres', q{
	CREATE TABLE bf3 (id int, v text, n numeric) USING rustydb WITH (flush_rows = 2000);
	CREATE TABLE bf3_twin (id int, v text, n numeric) USING heap;
});
my ($size2, $twin2);
for my $round (1 .. 8)
{
	my $lo = $round * 10000;
	$node->safe_psql('postgres', qq{
		INSERT INTO bf3 SELECT g, 'round $round row ' || g, g / 7.0 FROM generate_series($lo, $lo + 2999) g;
		INSERT INTO bf3_twin SELECT g, 'round $round row ' || g, g / 7.0 FROM generate_series($lo, $lo + 2999) g;
	});
	my $want = $round * 3000;
	my $got = 0;
	$deadline = time() + 60;
	while (time() < $deadline)
	{
		$got = $node->safe_psql('postgres', q{SELECT retired_rows FROM rustydb.l0_layout('bf3')});
		last if $got >= $want - 600;	# (a page may wait for the next round)
		$node->safe_psql('postgres', 'INSERT INTO bf_twin SELECT -g, NULL, NULL FROM generate_series(1, 100) g; DELETE FROM bf_twin WHERE id < 0');
		sleep(0.5);
	}
	if ($round == 2)
	{
		$size2 = $node->safe_psql('postgres', q{SELECT pg_relation_size('bf3')});
		$twin2 = $node->safe_psql('postgres', q{SELECT pg_relation_size('bf3_twin')});
	}
}
my ($size8, $twin8) = split /\|/, $node->safe_psql('postgres',
	q{SELECT pg_relation_size('bf3'), pg_relation_size('bf3_twin')});
cmp_ok($node->safe_psql('postgres', q{SELECT max((ctid::text::point)[0]) FROM bf3}), '>=', 2147483648,
	'rows of later rounds went into reused blocks (generations from 2^31 up)');
cmp_ok($size8 - $size2, '<', ($twin8 - $twin2) / 3,
	"rounds 3-8 grew the table by " . ($size8 - $size2) . " bytes, its heap twin by " . ($twin8 - $twin2));
is($node->safe_psql('postgres', $q . 'bf3'), $node->safe_psql('postgres', $q . 'bf3_twin'),
	'bf3 reads back as its heap twin');

# a table with a sort key: the worker's flushes store its rows sorted (each
# stripe's chunk groups hold k in order, where the rows arrived scrambled)
$node->safe_psql('postgres', q{
	CREATE TABLE bfs (id int, k int) USING rustydb
	  WITH (flush_rows = 2000, sort_key = 'k', chunk_group_rows = 1000);
	INSERT INTO bfs SELECT g, (g * 7919) % 6007 FROM generate_series(1, 6000) g;
});
$deadline = time() + 90;
$flushed = 0;
while (time() < $deadline)
{
	$flushed = $node->safe_psql('postgres', q{SELECT coalesce(sum(nrows - deleted_rows), 0) FROM rustydb.stripes('bfs')});
	last if $flushed >= 6000;
	$node->safe_psql('postgres', 'INSERT INTO bf_twin SELECT -g, NULL, NULL FROM generate_series(1, 100) g; DELETE FROM bf_twin WHERE id < 0');
	sleep(0.5);
}
is($flushed, 6000, 'the background worker flushed bfs');
like($node->safe_psql('postgres', q{
SELECT count(*) || ':' || count(*) FILTER (WHERE next_min < max::int)
FROM (SELECT max, lead(min::int) OVER (PARTITION BY first_block ORDER BY chunk_group) AS next_min
      FROM rustydb.chunk_bounds('bfs') WHERE column_name = 'k') b}),
	qr/^[1-9]\d*:0$/, "the worker's stripes of bfs hold its chunk groups in sort_key order");
is($node->safe_psql('postgres', q{SELECT count(*) || ':' || sum(id) || ':' || sum(k) FROM bfs}),
	'6000:18003000:' . $node->safe_psql('postgres', q{SELECT sum((g * 7919) % 6007) FROM generate_series(1, 6000) g}),
	'bfs reads back its rows');

# the session default rustydb.flush_rows applies to tables without the option
$node->safe_psql('postgres', q{ALTER SYSTEM SET rustydb.flush_rows = 1000; SELECT pg_reload_conf();});
$node->safe_psql('postgres', q{INSERT INTO bf0 SELECT g, 'w' || g, 0 FROM generate_series(10001, 12000) g});
$deadline = time() + 90;
$flushed = 0;
while (time() < $deadline)
{
	$flushed = $node->safe_psql('postgres', q{SELECT coalesce(sum(nrows - deleted_rows), 0) FROM rustydb.stripes('bf0')});
	last if $flushed > 0;
	$node->safe_psql('postgres', 'INSERT INTO bf_twin SELECT -g, NULL, NULL FROM generate_series(1, 100) g; DELETE FROM bf_twin WHERE id < 0');
	sleep(0.5);
}
cmp_ok($flushed, '>', 0, "with rustydb.flush_rows = 1000, bf0 was flushed too ($flushed rows)");

# rows of bfw in stripes, waiting up to $secs seconds for $want of them
sub bfw_flushed_within
{
	my ($secs, $want) = @_;
	my $deadline = time() + $secs;
	my $got = 0;
	while (time() < $deadline)
	{
		$got = $node->safe_psql('postgres', q{SELECT coalesce(sum(nrows - deleted_rows), 0) FROM rustydb.stripes('bfw')});
		last if $got >= $want;
		sleep(0.2);
	}
	return $got;
}

# a commit that gives a table flush_rows new rows wakes the worker: with
# rustydb.flush_naptime at an hour, the worker's own looks cannot be what
# flushes bfw (a stub that only polled would fail here).  Below flush_rows,
# counted over several transactions, nothing is flushed; the transaction
# that takes the count to flush_rows gets the table flushed within seconds.
# (the worker stays: a new one would start from the statistics' counts)
$node->safe_psql('postgres', q{ALTER SYSTEM SET rustydb.flush_naptime = '1h'; ALTER SYSTEM SET rustydb.worker_idle_timeout = '10min'; SELECT pg_reload_conf();});
$node->safe_psql('postgres', q{CREATE TABLE bfw (id int, v text) USING rustydb WITH (flush_rows = 3000, autovacuum_enabled = off)});
sleep(3);	# the worker has taken the new naptime and done its last look
for my $part (0 .. 1)
{
	$node->safe_psql('postgres', "INSERT INTO bfw SELECT g, 'w' || g FROM generate_series($part * 1000 + 1, $part * 1000 + 1000) g");
}
sleep(4);
is($node->safe_psql('postgres', q{SELECT count(*) FROM rustydb.stripes('bfw')}), '0',
	'2000 committed rows, below flush_rows = 3000, wait in L0 (the naptime is an hour)');
my $t0 = time();
$node->safe_psql('postgres', q{INSERT INTO bfw SELECT g, 'w' || g FROM generate_series(2001, 3000) g});
$flushed = bfw_flushed_within(30, 3000);
is($flushed, 3000, 'the commit that reached flush_rows got all 3000 rows flushed at once (in '
	. sprintf('%.1f', time() - $t0) . ' s, with a one-hour naptime)');
is($node->safe_psql('postgres', q{SELECT l0_rows FROM rustydb.tables WHERE relation = 'bfw'::regclass}), '0',
	'bfw has no row left in L0');
# the count starts again from the flush: 2999 more rows do not wake it
$node->safe_psql('postgres', q{INSERT INTO bfw SELECT g, 'x' FROM generate_series(3001, 5999) g});
sleep(4);
is($node->safe_psql('postgres', q{SELECT coalesce(sum(nrows - deleted_rows), 0) FROM rustydb.stripes('bfw')}), '3000',
	'the next 2999 rows wait for the next flush_rows');
# a rolled-back transaction counts nothing (bfw has no flush_running: a
# transaction publishes nothing before it ends; bfr below has it)
$node->safe_psql('postgres', q{BEGIN; INSERT INTO bfw SELECT g, 'r' FROM generate_series(6000, 9999) g; ROLLBACK;});
sleep(4);
is($node->safe_psql('postgres', q{SELECT coalesce(sum(nrows - deleted_rows), 0) FROM rustydb.stripes('bfw')}), '3000',
	'rolled-back rows do not wake the worker');
$node->safe_psql('postgres', q{INSERT INTO bfw VALUES (6000, 'last')});
$flushed = bfw_flushed_within(30, 6000);
is($flushed, 6000, 'the 3000th row since the last flush wakes it again');
is($node->safe_psql('postgres', q{SELECT count(*) || ':' || sum(id) FROM bfw}), '6000:' . (6000 * 6001 / 2),
	'bfw reads back its rows');
# rows a snapshot older than their commit still needs stay in L0 for now;
# the worker comes back for them once it is gone (not at the naptime, an hour)
my $rr = $node->background_psql('postgres');
$rr->query_safe(q{BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM bf_twin});
$node->safe_psql('postgres', q{INSERT INTO bfw SELECT g, 'held' FROM generate_series(6001, 9000) g});
sleep(2);
is($node->safe_psql('postgres', q{SELECT coalesce(sum(nrows - deleted_rows), 0) FROM rustydb.stripes('bfw')}), '6000',
	'3000 rows committed while an older snapshot is open wait in L0');
$rr->query_safe('COMMIT');
$rr->quit;
$flushed = bfw_flushed_within(30, 9000);
is($flushed, 9000, 'once the snapshot is gone the worker flushes them without a new commit');
# a prepared transaction counts when it is prepared: its rows are flushed
# after COMMIT PREPARED (run without the counts) with no other commit
$node->safe_psql('postgres', q{BEGIN; INSERT INTO bfw SELECT g, 'prepared' FROM generate_series(9001, 12000) g; PREPARE TRANSACTION 'bfw_p'});
sleep(2);
is($node->safe_psql('postgres', q{SELECT coalesce(sum(nrows - deleted_rows), 0) FROM rustydb.stripes('bfw')}), '9000',
	'the prepared rows wait in L0 until COMMIT PREPARED');
$node->safe_psql('postgres', q{COMMIT PREPARED 'bfw_p'});
$flushed = bfw_flushed_within(30, 12000);
is($flushed, 12000, 'after COMMIT PREPARED the worker flushes the prepared rows');

# With flush_running, a large transaction publishes its count each time it
# has written flush_rows rows, and the worker moves them while it runs (the
# naptime is an hour: only that can have woken it), so its pages hold
# stubs, not its rows, and take its next rows.  Nobody else sees them; once
# it commits, the worker copies each page whose rows lie in several stripes
# into one and retires it.  A prepared transaction's rows move the same way.
$node->safe_psql('postgres', q{
	CREATE TABLE bfr (id int, v text) USING rustydb
	  WITH (flush_rows = 3000, flush_running = on, autovacuum_enabled = off);
	CREATE TABLE bfr_twin (id int, v text) USING heap;
	INSERT INTO bfr_twin SELECT g, repeat('r', 100) || g FROM generate_series(1, 24000) g;
});
my $heap_pages = $node->safe_psql('postgres', q{SELECT pg_relation_size('bfr_twin') / 8192});
sub bfr_refd
{
	return $node->safe_psql('postgres', q{SELECT coalesce(sum(nrows - deleted_rows), 0) FROM rustydb.stripes('bfr')});
}
# poll $get->() for up to 30 s until $done->(value); returns the last value
sub poll_for
{
	my ($get, $done) = @_;
	my $deadline = time() + 30;
	my $v;
	while (time() < $deadline)
	{
		$v = $get->();
		last if $done->($v);
		sleep(0.2);
	}
	return $v;
}
# bfr's referenced stripe rows once more than $n, or after 30 s
sub bfr_refd_above { my ($n) = @_; return poll_for(\&bfr_refd, sub { $_[0] > $n }); }
# rows of bfr not in a retired generation, once 0 or after 30 s
sub bfr_unretired
{
	return poll_for(sub { $node->safe_psql('postgres',
		q{SELECT (SELECT count(*) FROM bfr) - retired_rows FROM rustydb.l0_layout('bfr')}) }, sub { $_[0] eq '0' });
}
my $big = $node->background_psql('postgres');
$big->query_safe(q{BEGIN});
my $moved = 0;
for my $part (0 .. 5)
{
	my ($lo, $hi) = ($part * 4000 + 1, $part * 4000 + 4000);
	$big->query_safe("INSERT INTO bfr SELECT g, repeat('r', 100) || g FROM generate_series($lo, $hi) g");
	$moved = bfr_refd_above($hi - 1001);
}
cmp_ok($moved, '>=', 23000, "the worker moved $moved of the 24000 rows of the running transaction");
is($node->safe_psql('postgres', q{SELECT count(*) FROM bfr}), '0', 'no other session sees them');
my $l0_pages = $node->safe_psql('postgres', q{SELECT l0_pages FROM rustydb.l0_layout('bfr')});
cmp_ok($l0_pages, '<', $heap_pages / 2,
	"its 24000 rows take $l0_pages L0 pages while it runs (heap: $heap_pages)");
is($big->query_safe(q{SELECT count(*) || ':' || sum(id) FROM bfr}), '24000:' . (24000 * 24001 / 2),
	'the transaction reads its moved rows');
$big->query_safe(q{COMMIT});
is(poll_for(sub { $node->safe_psql('postgres', q{SELECT l0_pages FROM rustydb.l0_layout('bfr')}) }, sub { $_[0] eq '0' }),
	'0', 'after the commit the worker retired every page of bfr');
my $q2 = q{SELECT count(*) || ':' || md5(string_agg(id || '/' || v, ',' ORDER BY id)) FROM };
is($node->safe_psql('postgres', $q2 . 'bfr'), $node->safe_psql('postgres', $q2 . 'bfr_twin'),
	'bfr reads back as its heap twin');
my ($gens, $grows) = split /\|/, $node->safe_psql('postgres',
	q{SELECT retired_generations, retired_rows FROM rustydb.l0_layout('bfr')});
cmp_ok($grows / $gens, '>', 24000 / $heap_pages,
	'a retired generation holds more rows than a page of full rows (' . sprintf('%.0f', $grows / $gens) . ')');
# rolled back after its rows moved: nothing to see, and its count is taken
# back (2999 more rows do not reach flush_rows)
$big->query_safe(q{BEGIN});
$big->query_safe(q{INSERT INTO bfr SELECT g, 'gone' FROM generate_series(30001, 34000) g});
cmp_ok(bfr_refd_above(24000), '>', 24000, 'the worker moved rows of the transaction that will roll back');
$big->query_safe(q{ROLLBACK});
$big->quit;
is($node->safe_psql('postgres', q{SELECT count(*) FROM bfr WHERE id > 24000}), '0', 'its rows are gone');
$node->safe_psql('postgres', q{VACUUM bfr});
is(bfr_refd(), '24000', 'after VACUUM no stub refers to a stripe row of the rolled-back rows');
is($node->safe_psql('postgres', $q2 . 'bfr'), $node->safe_psql('postgres', $q2 . 'bfr_twin'),
	'bfr still reads back as its heap twin');
$node->safe_psql('postgres', q{
	BEGIN; INSERT INTO bfr SELECT g, 'prepared' FROM generate_series(60001, 64000) g;
	PREPARE TRANSACTION 'bfr_p'});
cmp_ok(bfr_refd_above(24000), '>', 24000, 'the worker moved rows of the prepared transaction');
is($node->safe_psql('postgres', q{SELECT count(*) FROM bfr WHERE id > 60000}), '0',
	'nobody sees them before COMMIT PREPARED');
$node->safe_psql('postgres', q{COMMIT PREPARED 'bfr_p'});
$node->safe_psql('postgres', q{INSERT INTO bfr_twin SELECT g, 'prepared' FROM generate_series(60001, 64000) g});
is(bfr_unretired(), '0', 'after COMMIT PREPARED the worker retired every row of bfr into the directory');
is($node->safe_psql('postgres', $q2 . 'bfr'), $node->safe_psql('postgres', $q2 . 'bfr_twin'),
	'bfr reads back as its heap twin, the prepared rows too');
$node->safe_psql('postgres', q{ALTER SYSTEM RESET rustydb.flush_naptime; ALTER SYSTEM RESET rustydb.worker_idle_timeout; SELECT pg_reload_conf();});

# after an immediate stop the counts (shared memory) and the statistics are
# gone: rows committed before it, fewer than flush_rows, were counted
# nowhere and used to wait for flush_rows more.  The worker's first round
# after the server starts flushes every table once, whatever its count.
$node->safe_psql('postgres', q{
	CREATE TABLE bfc (id int, v text) USING rustydb WITH (flush_rows = 3000, autovacuum_enabled = off);
	INSERT INTO bfc SELECT g, 'c' || g FROM generate_series(1, 2000) g;
});
sleep(4);
is($node->safe_psql('postgres', q{SELECT count(*) FROM rustydb.stripes('bfc')}), '0',
	'bfc: 2000 rows, below flush_rows = 3000, wait in L0 before the stop');
# with writer_flush_rows the writer moves its own rows inside its statement
# (no worker: the table's flush_rows is 0, whatever rustydb.flush_rows says):
# one INSERT of 24,000 rows, cut off below too
$node->safe_psql('postgres', q{
	CREATE TABLE bwf (id int, v text) USING rustydb
	  WITH (writer_flush_rows = 4000, flush_rows = 0, autovacuum_enabled = off);
	INSERT INTO bwf SELECT g, 'kept' FROM generate_series(1, 1000) g;
});
$node->safe_psql('postgres', q{SELECT rustydb.flush('bwf')});
# the kept rows are flushed now, by hand, so that the counts of stripe rows
# below are the kept rows' and the cut-off rows'
my $bwf_refd = sub { $node->safe_psql('postgres', q{SELECT coalesce(sum(nrows - deleted_rows), 0) FROM rustydb.stripes('bwf')}) };
is($bwf_refd->(), '1000', 'bwf: the kept rows are in a stripe');
# and a transaction whose rows the worker moved while it ran is cut off by
# the stop: after it, its rows are gone (dead stubs for VACUUM), bfr's are all there
my $cut = $node->background_psql('postgres');
$cut->query_safe(q{BEGIN});
$cut->query_safe(q{INSERT INTO bfr SELECT g, 'cut' FROM generate_series(50001, 54000) g});
cmp_ok(bfr_refd_above(28000), '>', 28000, 'the worker moved rows of the transaction the stop will cut off');
my $wcut = $node->background_psql('postgres');
$wcut->query_safe(q{BEGIN});
$wcut->query_safe(q{INSERT INTO bwf SELECT g, repeat('r', 100) || g FROM generate_series(100001, 124000) g});
cmp_ok($bwf_refd->(), '>=', 21000, 'bwf: the writer moved its rows while its statement ran');
is($node->safe_psql('postgres', q{SELECT count(*) FROM bwf}), '1000', 'bwf: nobody else sees them');
cmp_ok($node->safe_psql('postgres', q{SELECT l0_pages FROM rustydb.l0_layout('bwf')}) * 2, '<', $heap_pages,
	"bwf: its 25,000 rows on under half the pages heap's 24,000 rows take ($heap_pages)");
$node->stop('immediate');
eval { $cut->quit; };
eval { $wcut->quit; };
$node->start;
is($node->safe_psql('postgres', q{SELECT count(*) || ':' || sum(id) FROM bwf}), '1000:' . (1000 * 1001 / 2),
	'bwf: after the immediate stop none of the cut-off rows');
$node->safe_psql('postgres', q{VACUUM bwf});
is($bwf_refd->(), '1000', 'bwf: after VACUUM no stub refers to a stripe row of the cut-off rows, the kept rows\' stubs are there');
$node->safe_psql('postgres', q{INSERT INTO bwf SELECT g, 'after' FROM generate_series(200001, 209000) g});
is($node->safe_psql('postgres', q{SELECT count(*) || ':' || count(*) FILTER (WHERE v = 'after') FROM bwf}), '10000:9000',
	'bwf: a committed statement after the restart, moved by its writer, reads back');
cmp_ok($bwf_refd->(), '>=', 9000, 'bwf: its rows were moved');
is($node->safe_psql('postgres', $q2 . 'bfr'), $node->safe_psql('postgres', $q2 . 'bfr_twin'),
	'after the immediate stop bfr reads back as its heap twin, none of the cut-off rows');
$node->safe_psql('postgres', q{VACUUM bfr});
is(bfr_refd(), '28000', 'after VACUUM no stub refers to a stripe row of the cut-off rows');
# a write that publishes storage events starts the database's worker
$node->safe_psql('postgres', q{
	CREATE TABLE bfkick (id int, v text) USING rustydb;
	INSERT INTO bfkick SELECT g, repeat('k', 200) FROM generate_series(1, 2000) g;
});
{
	my $deadline = time() + 60;
	my $got = 0;
	while (time() < $deadline)
	{
		$got = $node->safe_psql('postgres', q{SELECT coalesce(sum(nrows - deleted_rows), 0) FROM rustydb.stripes('bfc')});
		last if $got >= 2000;
		sleep(0.5);
	}
	is($got, 2000, "bfc: after the immediate stop the worker's first round flushed the 2000 rows counted nowhere");
}
is($node->safe_psql('postgres', q{SELECT count(*) || ':' || sum(id) FROM bfc}), '2000:' . (2000 * 2001 / 2),
	'bfc reads back its rows');

# Databases taking turns for the worker slots (more databases with events
# than rustydb.max_event_workers) still get their rows flushed while they
# keep writing: a worker flushes before it yields its slot.  Before, it
# yielded right after sending its events, and a table of one of 20
# databases sharing 2 slots had 85,600 rows in L0 and none flushed after
# 90 s of writing.
{
	$node->safe_psql('postgres', q{ALTER SYSTEM SET rustydb.max_event_workers = 1; SELECT pg_reload_conf();});
	my @dbs = map { "turn$_" } 1 .. 4;
	my %w;
	for my $db (@dbs)
	{
		$node->safe_psql('postgres', "CREATE DATABASE $db");
		$node->safe_psql($db, q{CREATE EXTENSION rustydb_am;
			CREATE TABLE tt (id int, v text) USING rustydb WITH (flush_rows = 500);});
		$w{$db} = $node->background_psql($db);
	}
	my %flushed = map { $_ => 0 } @dbs;
	my $deadline = time() + 30;
	my $n = 0;
	# (with the flush before the yield every database had a stripe after
	# 6,000 rows each here; without it, after 246,000)
	while (time() < $deadline && $n < 60000 && grep { !$flushed{$_} } @dbs)
	{
		for my $db (@dbs)
		{
			$w{$db}->query_safe("INSERT INTO tt SELECT g, repeat('w', 100) FROM generate_series($n + 1, $n + 200) g");
		}
		$n += 200;
		if ($n % 2000 == 0)
		{
			for my $db (grep { !$flushed{$_} } @dbs)
			{
				$flushed{$db} = 1 if $node->safe_psql($db,
					q{SELECT count(*) FROM rustydb.stripes('tt')}) > 0;
			}
		}
	}
	note "turns: $n rows written into each database";
	is(join(',', grep { !$flushed{$_} } @dbs), '',
		'four databases writing without a break share one worker slot, and each has rows flushed before it wrote 60,000');
	$w{$_}->quit for @dbs;
	$node->safe_psql('postgres', q{ALTER SYSTEM RESET rustydb.max_event_workers; SELECT pg_reload_conf();});
	sleep(1);
	for my $db (@dbs)
	{
		$node->poll_query_until('postgres', "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = '$db')");
		$node->safe_psql('postgres', "DROP DATABASE $db WITH (FORCE)");
	}
}

# no worker, no background flush
$node->safe_psql('postgres', q{ALTER SYSTEM SET rustydb.events = off; SELECT pg_reload_conf();});
sleep(6);	# the worker exits once it has been idle for rustydb.worker_idle_timeout
$node->safe_psql('postgres', q{
	CREATE TABLE bf2 (id int, v text) USING rustydb WITH (flush_rows = 1000);
	INSERT INTO bf2 SELECT g, 'x' FROM generate_series(1, 5000) g;
});
sleep(8);
is($node->safe_psql('postgres', q{SELECT count(*) FROM rustydb.stripes('bf2')}), '0',
	'with the worker off (rustydb.events = off) nothing is flushed');

check_log_clean($node, 0, 'log shows no problem');

done_testing();
