
# t/013_events_availability.pl
#	Event workers never stand in the way of database DDL, and take a bounded
#	number of worker slots.
#
# Item 1 of issue 7.  Right after a database produced storage events (so that
# an event worker is connected to it), each of these succeeds at once:
#   * DROP DATABASE,
#   * ALTER DATABASE ... RENAME,
#   * CREATE DATABASE ... TEMPLATE that database,
#   * plain CREATE DATABASE while template1 has a rustydb table with events.
# PostgreSQL waits up to 5 s for other backends of the database and asks only
# autovacuum workers to leave; before the fix the worker stayed for
# rustydb.worker_idle_timeout (60 s) and each command failed with "database
# ... is being accessed by other users".  Also: a worker without events does
# not stay connected (rustydb.worker_idle_timeout), and the log has no FATAL.
#
# Item 2.  rustydb.max_event_workers = 1: six databases produce events at
# once; at no time does more than one event worker run, every database's
# listener still receives its events (the databases are served in turn), and
# a parallel query launches all 3 workers it plans (max_worker_processes = 8:
# before the fix the launcher plus six workers left it one).
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
my $node = rdb_node('evavail', conf => "autovacuum = off\n"
	  . "rustydb.notify_scope = all\n"
	  . "rustydb.max_event_workers = 1\n"
	  . "max_worker_processes = 8\n"
	  . "max_parallel_workers = 8\n");
$node->start;

sub sql { my ($db, $q) = @_; return $node->safe_psql($db, $q); }

# event workers connected to $db (by name), or to any database
sub workers_in
{
	my ($db) = @_;
	my $where = defined $db ? "AND datname = '$db'" : '';
	return sql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'rustydb worker' $where");
}

# A database with a rustydb table that just got rows: events, and a worker
# connected to it.
sub make_busy
{
	my ($db, $create) = @_;
	sql('postgres', "CREATE DATABASE $db TEMPLATE template0") if $create;
	sql($db, 'CREATE EXTENSION IF NOT EXISTS rustydb_am');
	sql($db, "CREATE TABLE IF NOT EXISTS t (id int, v text) USING $am");
	sql($db, "COPY t (id) FROM PROGRAM 'seq 1 3000'");
	return $node->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM pg_stat_activity WHERE backend_type = 'rustydb worker' AND datname = '$db'");
}

# Run a command and report (ok, seconds, stderr).
sub timed
{
	my ($db, $q) = @_;
	my $t = time();
	my ($ret, $out, $err) = $node->psql($db, $q);
	return ($ret == 0, time() - $t, $err);
}

my $log0 = log_size($node);

# --- the 0.2.0 -> 0.8.0 upgrade --------------------------------------------------
sql('postgres', "CREATE DATABASE d_upg TEMPLATE template0");
sql('d_upg', "CREATE EXTENSION rustydb_am VERSION '0.2.0'; CREATE TABLE u (id int) USING $am;
	COPY u FROM PROGRAM 'seq 1 3000'");
is(sql('d_upg', "SELECT count(*) FROM rustydb.event_stats"), 6,
	'0.2.0 SQL with the new library: event_stats has one row per channel');
sql('d_upg', 'ALTER EXTENSION rustydb_am UPDATE');
is(sql('d_upg', "SELECT extversion FROM pg_extension WHERE extname = 'rustydb_am'"), '0.8.0',
	'ALTER EXTENSION UPDATE goes to 0.8.0');
is(sql('d_upg', "SELECT count(*) FROM rustydb.stripe_space('u')"), 0,
	'... which has stripe_space (u has no stripe and no free extent)');
is(sql('d_upg', "SELECT count(*) FROM rustydb.directory_groups('u')"), 0,
	'... which has directory_groups (no group of u is summarised: nothing was flushed)');
is(sql('d_upg', "SELECT count(*) FROM rustydb.tables WHERE relation = 'u'::regclass AND stripes_per_level IS NULL"), 1,
	'... whose rustydb.tables knows compaction');
is(sql('d_upg', "SELECT count(*) FROM rustydb.event_stats WHERE database = (SELECT oid FROM pg_database WHERE datname = 'd_upg')"),
	6, '... whose event_stats has a row per channel of the database');

# --- DROP DATABASE -----------------------------------------------------------
ok(make_busy('d_drop', 1), 'd_drop: an event worker is connected after a COPY');
my ($ok, $secs, $err) = timed('postgres', 'DROP DATABASE d_drop');
ok($ok, sprintf('DROP DATABASE right after events succeeds (%.2f s)', $secs)) or diag($err);
cmp_ok($secs, '<', 3, '... without waiting for the worker\'s idle timeout');

# --- ALTER DATABASE RENAME -----------------------------------------------------
ok(make_busy('d_ren', 1), 'd_ren: an event worker is connected after a COPY');
($ok, $secs, $err) = timed('postgres', 'ALTER DATABASE d_ren RENAME TO d_ren2');
ok($ok, sprintf('ALTER DATABASE RENAME right after events succeeds (%.2f s)', $secs)) or diag($err);
cmp_ok($secs, '<', 3, '... without waiting for the worker');
# the renamed database still gets its events delivered
{
	my $dboid = sql('postgres', "SELECT oid FROM pg_database WHERE datname = 'd_ren2'");
	my $l = RustydbEvents::Listener->new($node, 'd_ren2',
		channels => [ all_channels() ], seeds => $seeds, min_ts => $t0, database => $dboid);
	my $m = $l->mark;
	sql('d_ren2', "COPY t (id) FROM PROGRAM 'seq 1 500'");
	my ($got) = $l->wait_for($m, sub { grep { ($_->{ev}{variant} // '') eq 'BatchInserted' } @_ }, timeout => 20);
	ok($got, 'd_ren2: events are delivered again after the rename');
	$l->quit;
}

# --- CREATE DATABASE ... TEMPLATE ---------------------------------------------
ok(make_busy('d_tpl', 1), 'd_tpl: an event worker is connected after a COPY');
($ok, $secs, $err) = timed('postgres', 'CREATE DATABASE d_copy TEMPLATE d_tpl');
ok($ok, sprintf('CREATE DATABASE ... TEMPLATE right after events succeeds (%.2f s)', $secs)) or diag($err);
cmp_ok($secs, '<', 3, '... without waiting for the worker');
is(sql('d_copy', 'SELECT count(*) FROM t'), 3000, 'the copy has the template\'s rows');

# --- plain CREATE DATABASE with events in template1 ----------------------------
ok(make_busy('template1', 0), 'template1: an event worker is connected after a COPY');
($ok, $secs, $err) = timed('postgres', 'CREATE DATABASE d_plain');
ok($ok, sprintf('plain CREATE DATABASE with events in template1 succeeds (%.2f s)', $secs)) or diag($err);
cmp_ok($secs, '<', 3, '... without waiting for the worker');

# --- idle workers leave ---------------------------------------------------------
sql('postgres', 'ALTER SYSTEM SET rustydb.worker_idle_timeout = 1; SELECT pg_reload_conf()');
ok(make_busy('d_ren2', 0), 'd_ren2: a worker after a COPY');
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'rustydb worker'"),
	'with rustydb.worker_idle_timeout = 1s, no event worker stays connected once idle');
sql('postgres', 'ALTER SYSTEM RESET rustydb.worker_idle_timeout; SELECT pg_reload_conf()');

# --- item 2: six databases, one worker slot ------------------------------------
my @dbs = map { "m$_" } 1 .. 6;
my %l;
for my $db (@dbs)
{
	sql('postgres', "CREATE DATABASE $db TEMPLATE template0");
	sql($db, "CREATE EXTENSION rustydb_am; CREATE TABLE t (id int, v text) USING $am");
	my $dboid = sql('postgres', "SELECT oid FROM pg_database WHERE datname = '$db'");
	$l{$db} = RustydbEvents::Listener->new($node, $db,
		channels => [ all_channels() ], seeds => $seeds, min_ts => $t0, database => $dboid);
	$l{$db}{m} = $l{$db}->mark;
}
# all six produce events at once
my @bg;
for my $db (@dbs)
{
	my $h = $node->background_psql($db, on_error_stop => 1);
	$h->query_until(qr/started/, "\\echo started\nCOPY t (id) FROM PROGRAM 'seq 1 20000';\n");
	push @bg, $h;
}
my $max_workers = 0;
my $deadline = time() + 60;
my %done;
while (time() < $deadline && keys %done < @dbs)
{
	my $n = workers_in(undef);
	$max_workers = $n if $n > $max_workers;
	for my $db (@dbs)
	{
		next if $done{$db};
		$l{$db}->poll;
		$done{$db} = 1 if grep { ($_->{ev}{variant} // '') eq 'BatchInserted' } $l{$db}->since($l{$db}{m});
	}
	sleep(0.1);
}
$_->quit for @bg;
is(join(',', grep { !$done{$_} } @dbs), '', 'every one of six databases received its events with one worker slot');
cmp_ok($max_workers, '<=', 1, "never more than rustydb.max_event_workers = 1 event worker at a time (max seen $max_workers)");
my @bad = grep { @{ $_->{problems} // [] } } map { $l{$_}->since(0) } @dbs;
is(scalar(@bad), 0, 'their payloads validate against the seed');

# parallel query gets its workers while the six databases have events
for my $db (@dbs)
{
	my $h = $node->background_psql($db, on_error_stop => 1);
	$h->query_until(qr/started/, "\\echo started\nCOPY t (id) FROM PROGRAM 'seq 1 5000';\n");
	$h->quit;
}
sql('postgres', "CREATE TABLE pq AS SELECT g AS id FROM generate_series(1, 300000) g");
my $plan = sql('postgres', "SET max_parallel_workers_per_gather = 3; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
	EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT count(*) FROM pq");
my ($planned) = $plan =~ /Workers Planned: (\d+)/;
my ($launched) = $plan =~ /Workers Launched: (\d+)/;
is(($launched // -1) . '/' . ($planned // -1), '3/3', 'a parallel query launches all 3 planned workers while six databases have events')
  or diag($plan);
$_->quit for values %l;

check_log_clean($node, $log0, 'log: no FATAL, PANIC or crash (no worker failed to connect)');
$node->stop;
done_testing();
