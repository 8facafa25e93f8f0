
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
# NOTIFY is database-wide, so rustydb.notify_scope decides what it exposes
# (dave listens):
#   * 'all' (default): table_name is schema.table;
#   * 'anonymous': no payload carries a table name; table_name is the
#     relation's oid as text, every other field is still there (payloads
#     still validate against the seed);
#   * 'none': no NOTIFY at all, while rustydb.events still fills;
#   * back to 'all': names again.
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

# dave listens from the start (scope 'all').
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

my ($ok, @got) = $l->wait_for(
	$m,
	sub {
		my %rel = map { ($_->{ev}{relation} // 0) => 1 }
		  grep { ($_->{ev}{variant} // '') eq 'BatchInserted' } @_;
		return $rel{$a_oid} && $rel{$b_oid};
	},
	timeout => 15,
	settle => 1);
ok($ok, "scope 'all': BatchInserted of both tables notified to dave");
my @named = grep { ($_->{ev}{variant} // '') eq 'BatchInserted' } @got;
is(join(',', sort { $a cmp $b } uniq(map { "$_->{ev}{relation}=" . ($_->{ev}{f}{table_name} // '?') } @named)),
	join(',', sort { $a cmp $b } ("$a_oid=public.a", "$b_oid=public.b")),
	"... with table_name schema.table");
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

# anonymous
set_scope('anonymous');
$m = $l->mark;
as('alice', copy_rows('a', 5001, 700));
($ok, @got) = $l->wait_for($m,
	sub { grep { ($_->{ev}{variant} // '') eq 'BatchInserted' && ($_->{ev}{relation} // 0) == $a_oid } @_ },
	timeout => 15, settle => 1.5);
ok($ok, "scope 'anonymous': BatchInserted of a still notified");
my @bi = grep { ($_->{ev}{variant} // '') eq 'BatchInserted' && ($_->{ev}{relation} // 0) == $a_oid } @got;
is(join(',', uniq(map { $_->{ev}{f}{table_name} // '?' } @bi)), "$a_oid",
	"... table_name is the relation's oid as text ($a_oid)");
is(join(',', map { ($_->{ev}{f}{rows} // '?') . '/' . ($_->{ev}{f}{columns} // '?') } @bi), '700/2',
	'... rows and columns are still there');
is(scalar(grep { $_->{payload} =~ /public\.|"a"|alice/ } @got), 0,
	'no payload names a table (or its owner)');
cmp_ok(scalar(grep { ($_->{ev}{variant} // '') eq 'PageAllocated' && ($_->{ev}{relation} // 0) == $a_oid } @got),
	'>', 0, 'PageAllocated of a still notified (no name in it to hide)');
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

# back to all
set_scope('all');
$m = $l->mark;
as('bob', copy_rows('b', 9001, 300));
($ok, @got) = $l->wait_for($m,
	sub { grep { ($_->{ev}{variant} // '') eq 'BatchInserted' && ($_->{ev}{relation} // 0) == $b_oid } @_ },
	timeout => 15, settle => 1);
@bi = grep { ($_->{ev}{variant} // '') eq 'BatchInserted' && ($_->{ev}{relation} // 0) == $b_oid } @got;
is(join(',', map { ($_->{ev}{f}{table_name} // '?') . ':' . ($_->{ev}{f}{rows} // '?') } @bi), 'public.b:300',
	"scope 'all' again: BatchInserted of b with its name");
push @received, @got;
$l->quit;

my @bad = grep { @{ $_->{problems} // [] } } grep { $_->{channel} =~ /^rustydb_/ } @received;
is(scalar(@bad), 0, 'every payload received validates against its seed variant')
  or diag(join("\n", map { "$_->{payload}\n  " . join("\n  ", @{ $_->{problems} }) } @bad[ 0 .. ($#bad < 4 ? $#bad : 4) ]));

check_log_clean($node, 0, 'log: no PANIC, failed assertion or crashed process');
$node->stop;
done_testing();
