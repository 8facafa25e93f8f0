
# t/RustydbTest.pm
#	Helpers shared by the TAP tests in t/*.pl.
#
# Every test creates its own throw-away clusters through
# PostgreSQL::Test::Cluster.  This module only factors out what all of them
# need: which table access method is under test, how a node is created
# (--data-checksums, the library preloaded), and how a server log is scanned
# for things that must never happen (PANIC, assertion failures, crashed
# backends, inconsistent pages found by wal_consistency_checking).
#
# The access method comes from the environment variable RDB_TEST_AM
# (default 'rustydb').  RDB_TEST_AM=heap runs the very same tests on heap so
# the tests themselves can be validated before/independently of the AM.  With
# heap the extension is still preloaded and created when it is installed,
# and silently left out when it is not.  With any other AM a missing
# extension is an error, never a skip: a test that is skipped cannot catch a
# broken engine.

package RustydbTest;

use strict;
use warnings FATAL => 'all';

use Exporter 'import';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes ();

our @EXPORT = qw(
  test_am
  extension_installed
  uses_extension
  rdb_node
  rdb_create_extension
  wal_consistency_all
  log_size
  log_problems
  check_log_clean
  rdb_flush_until
);

# The table access method under test ('rustydb' unless RDB_TEST_AM says).
sub test_am
{
	my $am = $ENV{RDB_TEST_AM};
	$am = 'rustydb' if !defined $am || $am eq '';
	die "RDB_TEST_AM must be a plain identifier, got '$am'"
	  unless $am =~ /^[a-z_][a-z0-9_]*$/;
	return $am;
}

# Is rustydb_am installed in the PostgreSQL found through PATH?  Both the
# control file and the shared library must be there.
sub extension_installed
{
	my $sharedir = `pg_config --sharedir`;
	my $pkglibdir = `pg_config --pkglibdir`;
	chomp($sharedir, $pkglibdir);
	return (-f "$sharedir/extension/rustydb_am.control"
		  && -f "$pkglibdir/rustydb_am.so") ? 1 : 0;
}

# Whether the tests preload the library and CREATE EXTENSION.  For any AM
# other than heap the extension is required (the AM is provided by it).
sub uses_extension
{
	return 1 if extension_installed();
	my $am = test_am();
	BAIL_OUT("RDB_TEST_AM=$am needs the rustydb_am extension, "
		  . "which is not installed (run make install first)")
	  if $am ne 'heap';
	return 0;
}

# Create (but do not start) a node: initdb --data-checksums, the library in
# shared_preload_libraries when used, plus the caller's extra configuration.
#   rdb_node('name', allows_streaming => 1, conf => "wal_consistency_checking = 'all'")
# allows_streaming makes Cluster.pm write shared_buffers = 1MB and
# max_connections = 10; we raise both (later settings win) so that several
# concurrent sessions fit, while keeping the buffer pool small enough that
# pages are evicted and written back during the tests.
sub rdb_node
{
	my ($name, %opts) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(
		extra => ['--data-checksums'],
		allows_streaming => $opts{allows_streaming} // 0);

	my $conf = '';
	$conf .= "shared_preload_libraries = 'rustydb_am'\n" if uses_extension();
	$conf .= "shared_buffers = '" . ($opts{shared_buffers} // '16MB') . "'\n";
	$conf .= "max_connections = 30\n";
	$conf .= "log_min_messages = warning\n";
	# log_statement = all (set by Cluster.pm) makes multi-megabyte logs with
	# the large statements some tests send; statements that fail are still
	# logged with their error.
	$conf .= "log_statement = 'none'\n";
	# The tests connect as the OS user, rustydb, and the default search_path
	# "$user", public would then create every unqualified table in the
	# extension's schema, also named rustydb.  Keep them in public, as for
	# any ordinary user.
	$conf .= "search_path = 'public'\n";
	$conf .= $opts{conf} if defined $opts{conf};
	$node->append_conf('postgresql.conf', $conf);
	return $node;
}

# CREATE EXTENSION rustydb_am in $db when the extension is in use.
sub rdb_create_extension
{
	my ($node, $db) = @_;
	$db //= 'postgres';
	$node->safe_psql($db, 'CREATE EXTENSION IF NOT EXISTS rustydb_am')
	  if uses_extension();
	return;
}

# A wal_consistency_checking value that really covers every resource
# manager.  PostgreSQL 15 expands 'all' when postgresql.conf is first read,
# before shared_preload_libraries registers custom resource managers, so
# 'all' alone leaves the rustydb resource manager unchecked.  Naming the
# custom one as well defers the whole setting until the libraries are loaded
# (InitializeWalConsistencyChecking), and 'all' then includes it.
sub wal_consistency_all
{
	return uses_extension() ? 'all,rustydb' : 'all';
}

# Current size of the node's log file, to scan only what follows later.
sub log_size
{
	my ($node) = @_;
	return -s $node->logfile // 0;
}

# Lines of the node's log (from byte $offset on) that show a real problem:
# PANIC, failed assertions, backends killed by a signal, and every FATAL that
# is not one of the expected ones around restarts and replication
# reconnects.  Extra regexps to ignore may be passed in @$allow.
sub log_problems
{
	my ($node, $offset, $allow) = @_;
	my $log = slurp_file($node->logfile, $offset // 0);
	my @allow = (
		qr/the database system is (starting up|shutting down|in recovery mode|not yet accepting connections)/,
		qr/terminating connection due to (administrator|immediate shutdown) command/,
		qr/terminating (walreceiver|walsender|background worker|autovacuum) process due to administrator command/,
		# an immediately stopped primary cuts its standby's walreceiver off
		# in any of these ways
		qr/could not (receive|send) data (from|to) WAL stream/,
		qr/could not send end-of-streaming message to primary/,
		qr/could not connect to the primary server/,
		qr/replication terminated by primary server/,
		qr/connection to client lost/,
		@{ $allow // [] });
	my @bad;
	for my $line (split /\n/, $log)
	{
		next
		  unless $line =~ /\b(PANIC|FATAL):/
		  || $line =~ /TRAP:|terminated by signal|inconsistent page found/;
		next if grep { $line =~ $_ } @allow;
		push @bad, $line;
	}
	return @bad;
}

# A test that the log (from $offset) shows no problem; prints the bad lines.
sub check_log_clean
{
	my ($node, $offset, $name, $allow) = @_;
	my @bad = log_problems($node, $offset, $allow);
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	is(scalar(@bad), 0, $name)
	  or diag("problems in " . $node->logfile . ":\n" . join("\n", @bad));
	return;
}

# rustydb.flush($table) on $node until $expect rows moved (a flush moves
# only rows every snapshot sees, and the event worker's short transactions
# may hide the newest ones for a moment); returns the rows moved, dies after
# 600 tries (a minute: a background compaction step on another table holds
# the horizon back while it runs, seconds on a loaded machine).
sub rdb_flush_until
{
	my ($node, $table, $expect) = @_;
	my $total = 0;
	for (1 .. 600)
	{
		$total += $node->safe_psql('postgres', "SELECT rustydb.flush('$table')");
		return $total if $total >= $expect;
		Time::HiRes::sleep(0.1);
	}
	die "flush of $table moved $total rows, expected $expect";
}

1;
