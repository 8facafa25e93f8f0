
# t/014_events_fairness.pl
#	Storage events: one database cannot take another's ring space, and a
#	stalled listener cannot make the worker fill the NOTIFY queue.
#
# Item 12 of issue 7 (node "fair": rustydb.event_ring_size = 1024, one event
# worker, 3 s channel intervals so that events wait in the ring): database
# "flood" loads 1 M rows (thousands of events, the ring wraps several times)
# while database "quiet" loads 2500 rows.  quiet's listener receives every
# one of its BatchInserted events (2500 rows), rustydb.event_stats counts no
# drop for quiet and drops for flood: the flood lost its own events, not
# quiet's.  Before the fix, the flood overwrote quiet's undelivered events.
#
# Item 16 (node "queue": rustydb.notify_queue_threshold = 0.00002, about 20
# of the queue's 1048560 pages): a listener LISTENs and stays in an open
# transaction (it never consumes the queue); a COPY makes thousands of
# PageAllocated events, which one round would send together.  Throughout and
# afterwards pg_notification_queue_usage() stays at or below the threshold,
# the worker sent some events (emitted > 0) and shed the rest (shed > 0).
# Before the fix, the worker only looked at the queue before a round and
# every 64 events, not counting the round's own notifications (queued at
# commit), and went far past it.
#
# Needs the rustydb access method (RDB_TEST_AM=heap skips it).

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep time);
use RustydbTest;
use RustydbEvents;

my $am = test_am();
plan skip_all => "storage events come from the rustydb access method (RDB_TEST_AM=$am)"
  if $am ne 'rustydb';

my $seeds = seed_variants();
my $t0 = int(time()) - 2;

# {database oid => {emitted, dropped, shed, ...}} summed over channels
sub stats_by_db
{
	my ($node, $db) = @_;
	my %s;
	for my $line (split /\n/, $node->safe_psql($db // 'postgres',
		'SELECT database, sum(emitted), sum(dropped), sum(shed) FROM rustydb.event_stats GROUP BY database'))
	{
		my ($db, $e, $d, $sh) = split /\|/, $line;
		$s{$db} = { emitted => $e, dropped => $d, shed => $sh };
	}
	return \%s;
}

# ===========================================================================
# Fair ring space
# ===========================================================================
{
	my $node = rdb_node('fair', shared_buffers => '128MB', conf => "autovacuum = off\n"
		  . "rustydb.notify_scope = all\n"
		  . "rustydb.event_ring_size = 1024\n"
		  . "rustydb.max_event_workers = 1\n"
		  . "rustydb.notify_interval_pages = 3000\n"
		  . "rustydb.notify_interval_columnar = 3000\n");
	$node->start;
	for my $db ('flood', 'quiet')
	{
		$node->safe_psql('postgres', "CREATE DATABASE $db");
		$node->safe_psql($db, "CREATE EXTENSION rustydb_am; CREATE TABLE t (id int, v text) USING $am");
	}
	my %oid = map { $_ => $node->safe_psql('postgres', "SELECT oid FROM pg_database WHERE datname = '$_'") } qw(flood quiet);
	my $l = RustydbEvents::Listener->new($node, 'quiet',
		channels => [ all_channels() ], seeds => $seeds, min_ts => $t0, database => $oid{quiet});
	my $m = $l->mark;

	my $flood = $node->background_psql('flood', on_error_stop => 1, timeout => 300);
	$flood->query_until(qr/started/, "\\echo started\nCOPY t (id) FROM PROGRAM 'seq 1 1000000';\n\\echo copied\n");
	sleep(0.5);
	$node->safe_psql('quiet', "COPY t (id) FROM PROGRAM 'seq 1 2500'");
	$flood->query_until(qr/copied/, '');
	$flood->quit;
	is($node->safe_psql('flood', 'SELECT count(*) FROM t'), 1000000, 'flood loaded 1 M rows');
	my $pages = $node->safe_psql('flood', "SELECT pg_relation_size('t') / 8192");
	cmp_ok($pages, '>', 2 * 1024, "flood's load made more events than the ring holds ($pages pages)");

	my ($ok, @got) = $l->wait_for($m,
		sub { my $n = 0; $n += $_->{ev}{f}{rows} // 0 for grep { ($_->{ev}{variant} // '') eq 'BatchInserted' } @_; return $n >= 2500; },
		timeout => 30, settle => 1);
	my $rows = 0;
	$rows += $_->{ev}{f}{rows} // 0 for grep { ($_->{ev}{variant} // '') eq 'BatchInserted' } @got;
	is($rows, 2500, "quiet's listener received BatchInserted for all of its 2500 rows despite the flood");
	my $s = stats_by_db($node, 'quiet');
	# The share rule works in ring order: a new event of the quiet database
	# can still be dropped when the slot it needs holds another database's
	# protected event (src/events/ring.c).  That is rare; the flood, not the
	# quiet database, must pay for the flood.
	cmp_ok($s->{ $oid{quiet} }{dropped} // 99, '<=', 2,
		'rustydb.event_stats: quiet lost at most 2 events (' . ($s->{ $oid{quiet} }{dropped} // '?') . ')');
	cmp_ok($s->{ $oid{flood} }{dropped} // 0, '>', 0,
		"rustydb.event_stats: the flood's own events dropped (" . ($s->{ $oid{flood} }{dropped} // 0) . ')');
	is(scalar(grep { @{ $_->{problems} // [] } } @got), 0, "quiet's payloads validate");
	$l->quit;
	check_log_clean($node, 0, 'fair: log has no PANIC, FATAL or crash');
	$node->stop;
}

# ===========================================================================
# The NOTIFY queue stays below the threshold
# ===========================================================================
{
	my $threshold = '0.00002';
	my $node = rdb_node('queue', shared_buffers => '128MB', conf => "autovacuum = off\n"
		  . "rustydb.notify_scope = all\n"
		  . "rustydb.notify_queue_threshold = $threshold\n"
		  . "rustydb.notify_interval_pages = 3000\n");
	$node->start;
	rdb_create_extension($node);
	my $stalled = $node->background_psql('postgres', timeout => 300);
	$stalled->query_safe(join(' ', map { "LISTEN $_;" } all_channels()));
	# an open transaction: this backend consumes no notification until it ends
	$stalled->query_safe('BEGIN; SELECT 1;');

	$node->safe_psql('postgres', "CREATE TABLE t (id int) USING $am");
	my $loader = $node->background_psql('postgres', on_error_stop => 1, timeout => 300);
	$loader->query_until(qr/started/, "\\echo started\nCOPY t FROM PROGRAM 'seq 1 1000000';\n\\echo copied\n");
	my $max = 0;
	my $until = time() + 60;
	my $s;
	while (time() < $until)
	{
		my $u = $node->safe_psql('postgres', 'SELECT pg_notification_queue_usage()');
		$max = $u if $u > $max;
		$s = stats_by_db($node);
		my ($d) = values %$s;
		# done when the load's PageAllocated events are all accounted for
		last if $d && $d->{shed} > 0 && $d->{emitted} + $d->{shed} + $d->{dropped} > 4000
		  && $node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY t FROM%' AND state = 'active'") == 0;
		sleep(0.05);
	}
	$loader->quit;
	my $u = $node->safe_psql('postgres', 'SELECT pg_notification_queue_usage()');
	$max = $u if $u > $max;
	my ($d) = values %$s;
	cmp_ok($d->{emitted}, '>', 0, "the worker sent events until the threshold ($d->{emitted})");
	cmp_ok($d->{shed}, '>', 0, "and shed the rest ($d->{shed})");
	cmp_ok($max, '<=', $threshold,
		"a stalled listener never saw pg_notification_queue_usage() above the threshold $threshold (max $max)");
	$stalled->query_safe('COMMIT');
	$stalled->quit;
	check_log_clean($node, 0, 'queue: log has no PANIC, FATAL or crash');
	$node->stop;
}

done_testing();
