
# t/012_events_privileges.pl
#	Who sees which storage events.
#
# alice owns table a, bob owns table b (both rustydb); each loads its table
# with COPY, which records PageAllocated and BatchInserted events naming the
# table.  Then, in rustydb.events, every per-channel view and
# rustydb.events_since(0):
#   * bob sees none of a's events (neither by the relation column, nor by a
#     relation oid or the table's name inside a payload) and does see b's;
#     alice the other way round; dave (no privilege on either) sees neither;
#   * carol, a member of pg_monitor without any table privilege, sees both,
#     exactly as many as the superuser;
#   * GRANT SELECT ON a TO bob lets bob see a's events, REVOKE hides them again
#     (privileges, not ownership, decide);
#   * events without a relation (IoStats) are visible to everyone.
# NOTIFY is database-wide (LISTEN needs no privilege), so
# rustydb.notify_scope decides what it exposes (dave listens):
#   * 'public' (default): events of a and b (not readable by PUBLIC) carry
#     no table name (table_name "(hidden)"), no relation oid, and nothing
#     that names the table or its owner, yet keep every seed key with its
#     JSON type; after GRANT SELECT ON a TO PUBLIC, a's events are named;
#   * 'all' (the administrator's opt-in): every table named;
#   * 'anonymous': no name even for a table PUBLIC may read;
#   * 'none': no NOTIFY at all, while rustydb.events still fills.
# rustydb.event_stats and rustydb.io_stats: rows of another database only
# for members of pg_monitor (carol), the current database's for everyone.
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

my $t0 = int(time()) - 2;
my $seeds = seed_variants();
my $node = rdb_node('evpriv', conf => "autovacuum = off\n");
$node->start;
rdb_create_extension($node);

sub sql { return $node->safe_psql('postgres', $_[0]); }
sub uniq { my %s; return grep { !$s{$_}++ } @_; }

sub as
{
	my ($user, $q) = @_;
	return $node->safe_psql('postgres', $q, extra_params => [ '-U', $user ]);
}

# COPY ... FROM STDIN with the rows inline (psql reads them from its input).
sub copy_rows
{
	my ($table, $from, $n) = @_;
	return "COPY $table FROM STDIN;\n"
	  . join('', map { "$_\trow $_ of $table\n" } $from .. $from + $n - 1) . "\\.\n";
}

sql(q{
CREATE ROLE alice LOGIN;
CREATE ROLE bob LOGIN;
CREATE ROLE carol LOGIN IN ROLE pg_monitor;
CREATE ROLE dave LOGIN;
GRANT CREATE ON SCHEMA public TO alice, bob;
});
my $dboid = sql('SELECT oid FROM pg_database WHERE datname = current_database()');

# dave listens from the start (default scope 'public').
my $l = RustydbEvents::Listener->new($node, 'postgres',
	channels => [ all_channels() ],
	seeds => $seeds,
	min_ts => $t0,
	database => $dboid,
	psql_params => [ '-U', 'dave' ]);
my $m = $l->mark;

as('alice', "CREATE TABLE a (id int, v text) USING $am;\n" . copy_rows('a', 1, 3000));
as('bob', "CREATE TABLE b (id int, v text) USING $am;\n" . copy_rows('b', 1, 3000));
my $a_oid = sql("SELECT 'a'::regclass::oid");
my $b_oid = sql("SELECT 'b'::regclass::oid");
is(sql("SELECT string_agg(c.relname || ':' || r.rolname || ':' || am.amname, ',' ORDER BY c.relname)
        FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner JOIN pg_am am ON am.oid = c.relam
        WHERE c.oid IN ($a_oid, $b_oid)"),
	"a:alice:$am,b:bob:$am", 'alice owns a, bob owns b, both rustydb');

is(sql('SHOW rustydb.notify_scope'), 'public', "rustydb.notify_scope is 'public' by default");

# anonymised payloads: identify a's and b's BatchInserted by their counts
# (3000 rows each, in batches of 1000)
sub hidden_batches { return grep { ($_->{ev}{variant} // '') eq 'BatchInserted' } @_; }
my ($ok, @got) = $l->wait_for($m,
	sub { my $n = 0; $n += $_->{ev}{f}{rows} // 0 for hidden_batches(@_); return $n >= 6000; },
	timeout => 15, settle => 1);
ok($ok, "scope 'public': BatchInserted of a and b notified to dave (6000 rows)");
my @bi = hidden_batches(@got);
is(join(',', uniq(map { $_->{ev}{f}{table_name} // '?' } @bi)), '(hidden)',
	"... with table_name '(hidden)'");
is(scalar(grep { defined $_->{ev}{relation} } grep { $_->{ev} } @got), 0,
	'... and no payload carries a relation oid');
is(scalar(grep { $_->{payload} =~ /public\.|"a"|"b"|alice|bob|\b$a_oid\b|\b$b_oid\b/ } @got), 0,
	'no payload names a or b, their owners, or their oids');
is(scalar(grep { @{ $_->{problems} // [] } } grep { $_->{channel} =~ /^rustydb_/ } @got), 0,
	'anonymised payloads keep the seed\'s keys and JSON types');
cmp_ok(scalar(grep { ($_->{ev}{variant} // '') eq 'PageAllocated' } @got), '>', 0,
	'PageAllocated still notified (anonymised)');

# a table PUBLIC may read is named
sql('GRANT SELECT ON a TO PUBLIC');
$m = $l->mark;
as('alice', copy_rows('a', 3001, 400));
($ok, @got) = $l->wait_for($m,
	sub { grep { ($_->{ev}{variant} // '') eq 'BatchInserted' && ($_->{ev}{relation} // 0) == $a_oid } @_ },
	timeout => 15, settle => 1);
@bi = grep { ($_->{ev}{variant} // '') eq 'BatchInserted' } @got;
is(join(',', map { ($_->{ev}{f}{table_name} // '?') . ':' . ($_->{ev}{f}{rows} // '?') . ':' . ($_->{ev}{relation} // '-') } @bi),
	"public.a:400:$a_oid", "after GRANT SELECT ON a TO PUBLIC, a's events are named");
sql('REVOKE SELECT ON a FROM PUBLIC');
my @received = @got;

# ---------------------------------------------------------------------------
# The views.
# ---------------------------------------------------------------------------
my @views = map { "rustydb.$_" }
  qw(events events_buffer_pool events_lsm events_io events_tiers events_pages events_columnar);
push @views, 'rustydb.events_since(0)';

# For $user and $view, the events of table $oid: by the relation column, by
# the relation oid in the payload, by the table's name in the payload.
sub seen
{
	my ($user, $view, $oid, $name) = @_;
	return as($user, qq{
		SELECT count(*) FILTER (WHERE relation::oid = $oid)
		     + count(*) FILTER (WHERE payload->'data'->variant->>'relation' = '$oid')
		     + count(*) FILTER (WHERE payload::text LIKE '%"public.$name"%')
		FROM $view});
}

my $w = sql('SELECT max(seq) FROM rustydb.events');
for my $v (@views)
{
	is(seen('bob', $v, $a_oid, 'a'), 0, "bob sees none of a's events in $v");
	is(seen('alice', $v, $b_oid, 'b'), 0, "alice sees none of b's events in $v");
	is(seen('dave', $v, $a_oid, 'a') + seen('dave', $v, $b_oid, 'b'), 0,
		"dave sees none of a's or b's events in $v");
}
for my $v ('rustydb.events', 'rustydb.events_pages', 'rustydb.events_columnar', 'rustydb.events_since(0)')
{
	cmp_ok(seen('bob', $v, $b_oid, 'b'), '>', 0, "bob sees b's events in $v");
	cmp_ok(seen('alice', $v, $a_oid, 'a'), '>', 0, "alice sees a's events in $v");
}

# pg_monitor: everything the superuser sees.
my $count_q = "SELECT count(*) FILTER (WHERE relation::oid = $a_oid) || ',' || count(*) FILTER (WHERE relation::oid = $b_oid)
               FROM rustydb.events WHERE seq <= $w";
my $su = sql($count_q);
like($su, qr/^[1-9]\d*,[1-9]\d*$/, "the superuser sees the events of a and b ($su)");
is(as('carol', $count_q), $su, 'carol (pg_monitor) sees exactly the same events of a and b');
is(as('carol', "SELECT count(*) FROM rustydb.events_columnar WHERE seq <= $w AND relation::oid IN ($a_oid, $b_oid)"),
	sql("SELECT count(*) FROM rustydb.events_columnar WHERE seq <= $w AND relation::oid IN ($a_oid, $b_oid)"),
	'... also in rustydb.events_columnar');

# Privilege, not ownership.
sql('GRANT SELECT ON a TO bob');
is(as('bob', $count_q), $su, 'after GRANT SELECT ON a TO bob, bob sees the events of a too');
sql('REVOKE SELECT ON a FROM bob');
is(seen('bob', 'rustydb.events', $a_oid, 'a'), 0, 'after REVOKE, none again');

# Events without a relation: visible to all.
my $norel = "SELECT count(*) FROM rustydb.events WHERE relation IS NULL AND seq <= $w";
my $n_norel = sql($norel);
cmp_ok($n_norel, '>', 0, "there are events without a relation (IoStats): $n_norel");
is(as('dave', $norel), $n_norel, 'dave sees every event without a relation');

# ---------------------------------------------------------------------------
# rustydb.notify_scope
# ---------------------------------------------------------------------------
sub set_scope
{
	my ($scope) = @_;
	sql("ALTER SYSTEM SET rustydb.notify_scope = '$scope'");
	sql('SELECT pg_reload_conf()');
	# The worker re-reads the configuration between rounds.
	sleep(2);
	is(sql('SHOW rustydb.notify_scope'), $scope, "rustydb.notify_scope = '$scope'");
}

# all: the administrator opts into full payloads
set_scope('all');
$m = $l->mark;
as('alice', copy_rows('a', 5001, 700));
($ok, @got) = $l->wait_for($m,
	sub { grep { ($_->{ev}{variant} // '') eq 'BatchInserted' && ($_->{ev}{relation} // 0) == $a_oid } @_ },
	timeout => 15, settle => 1.5);
ok($ok, "scope 'all': BatchInserted of a notified");
@bi = grep { ($_->{ev}{variant} // '') eq 'BatchInserted' && ($_->{ev}{relation} // 0) == $a_oid } @got;
is(join(',', map { ($_->{ev}{f}{table_name} // '?') . ':' . ($_->{ev}{f}{rows} // '?') . '/' . ($_->{ev}{f}{columns} // '?') } @bi),
	'public.a:700/2', '... named, with rows and columns');
push @received, @got;

# anonymous: not even a table PUBLIC may read is named
sql('GRANT SELECT ON b TO PUBLIC');
set_scope('anonymous');
$m = $l->mark;
as('bob', copy_rows('b', 4001, 600));
($ok, @got) = $l->wait_for($m,
	sub { my $n = 0; $n += $_->{ev}{f}{rows} // 0 for hidden_batches(@_); return $n >= 600; },
	timeout => 15, settle => 1.5);
ok($ok, "scope 'anonymous': BatchInserted of b still notified");
@bi = hidden_batches(@got);
is(join(',', map { ($_->{ev}{f}{table_name} // '?') . ':' . ($_->{ev}{f}{rows} // '?') } @bi), '(hidden):600',
	"... with table_name '(hidden)' although PUBLIC may read b");
is(scalar(grep { $_->{payload} =~ /public\.|"relation"|\b$b_oid\b/ } @got), 0,
	'no payload names b or carries its oid');
sql('REVOKE SELECT ON b FROM PUBLIC');
push @received, @got;

# none
set_scope('none');
$m = $l->mark;
my $w2 = sql('SELECT max(seq) FROM rustydb.events');
as('bob', copy_rows('b', 5001, 700));
sleep(4);    # several rounds of every channel but tiers (5 s; nothing live there)
$l->poll;
my @none = grep { $_->{channel} =~ /^rustydb_/ } $l->since($m);
is(scalar(@none), 0, "scope 'none': no NOTIFY at all")
  or diag(join("\n", map { $_->{payload} } @none[ 0 .. ($#none < 4 ? $#none : 4) ]));
is(sql("SELECT coalesce(sum((payload->'data'->'BatchInserted'->>'rows')::int), 0)
        FROM rustydb.events_since($w2) WHERE variant = 'BatchInserted' AND relation::oid = $b_oid"),
	700, '... while rustydb.events still records the COPY (700 rows of b)');
is(as('bob', "SELECT count(*) FROM rustydb.events_since($w2) WHERE relation::oid = $b_oid")
	  , sql("SELECT count(*) FROM rustydb.events_since($w2) WHERE relation::oid = $b_oid"),
	'... and bob sees those events of his table');

# back to the default
set_scope('public');
$m = $l->mark;
as('bob', copy_rows('b', 9001, 300));
($ok, @got) = $l->wait_for($m,
	sub { my $n = 0; $n += $_->{ev}{f}{rows} // 0 for hidden_batches(@_); return $n >= 300; },
	timeout => 15, settle => 1);
@bi = hidden_batches(@got);
is(join(',', map { ($_->{ev}{f}{table_name} // '?') . ':' . ($_->{ev}{f}{rows} // '?') } @bi), '(hidden):300',
	"scope 'public' again: BatchInserted of b anonymised");
push @received, @got;
$l->quit;

# ---------------------------------------------------------------------------
# rustydb.event_stats and rustydb.io_stats: other databases for pg_monitor only
# ---------------------------------------------------------------------------
sql('CREATE DATABASE other');
$node->safe_psql('other', "CREATE EXTENSION rustydb_am; CREATE TABLE o (id int) USING $am;
	COPY o FROM PROGRAM 'seq 1 20000'");
my $other = sql("SELECT oid FROM pg_database WHERE datname = 'other'");
$node->poll_query_until('postgres', "SELECT count(*) > 0 FROM rustydb.io_stats WHERE database = $other")
  or diag('no IoStats of database other');
my $q_stats = "SELECT (SELECT count(*) FILTER (WHERE database = $other) || '/' || count(*) FILTER (WHERE database = $dboid) FROM rustydb.event_stats)
             || ' ' || (SELECT count(*) FILTER (WHERE database = $other) FROM rustydb.io_stats)";
like(sql($q_stats), qr{^6/6 1$}, 'the superuser sees event_stats and io_stats rows of both databases');
is(as('carol', $q_stats), '6/6 1', 'carol (pg_monitor) too');
is(as('dave', $q_stats), '0/6 0', 'dave sees only the current database in event_stats and none of other\'s io_stats');
is(as('dave', 'SELECT count(DISTINCT database) FROM rustydb.event_stats'), 1, '... in event_stats, one database');
is(as('dave', "SELECT count(*) FROM rustydb.io_stats WHERE database <> $dboid"), 0, '... in io_stats, none but the current one');
is($node->safe_psql('other', "SELECT count(*) FROM rustydb.event_stats WHERE database = $dboid", extra_params => [ '-U', 'dave' ]), 0,
	'... and from database other, nothing of postgres');

my @bad = grep { @{ $_->{problems} // [] } } grep { $_->{channel} =~ /^rustydb_/ } @received;
is(scalar(@bad), 0, 'every payload received validates against its seed variant')
  or diag(join("\n", map { "$_->{payload}\n  " . join("\n  ", @{ $_->{problems} }) } @bad[ 0 .. ($#bad < 4 ? $#bad : 4) ]));

check_log_clean($node, 0, 'log: no PANIC, failed assertion or crashed process');
$node->stop;
done_testing();
