# t/035_space_reuse.pl
#	Stripe pages compaction gives back are written again only when no
#	reader can still need what they held (src/stripe/stripe_reuse.c), and
#	giving them back waits for no lock beyond compaction's own
#	ShareUpdateExclusiveLock:
#
#	1. a session that holds a lock on the table all along (its transaction
#	   block open, as writers and readers under load that never pauses)
#	   does not keep compaction from giving space back, and a later flush
#	   writes into it;
#	2. that session cached the old stripes (index lookups: stripe metadata
#	   and decompressed chunk groups, per backend) and, still inside its
#	   transaction block, reads rows of the new stripe written at the old
#	   one's first block: it gets the new rows, not the old stripe's;
#	3. a REPEATABLE READ snapshot older than the give-back keeps the space
#	   from being written while it lives (a flush then extends the file),
#	   reads the same rows throughout, and once it is gone the space is
#	   reused;
#	4. a hot standby without feedback: a snapshot older than the give-back
#	   is cancelled when the reuse is replayed (the XLOG_RDB_STRIPE_REUSE
#	   record's recovery conflict), a session in a transaction block with
#	   cached stripes reads the new rows, and the standby answers as the
#	   primary (wal_consistency_checking = all,rustydb);
#	5. the storage-event worker under load that never pauses (four clients
#	   inserting without a break, a session holding a lock throughout):
#	   compaction gives space back and flushes reuse it (4b, before it:
#	   VACUUM FULL's rows, frozen in stripes, cancel an older standby
#	   snapshot);
#	6. the standby promoted while a session on it holds a snapshot older
#	   than a give-back: the promoted server does not reuse those extents
#	   until that session ends, then does.
#
#	Every table is compared with a heap twin that received the same rows.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use Time::HiRes qw(sleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RustydbTest;

plan skip_all => 'stripe space is rustydb-specific' if test_am() ne 'rustydb';

my $node = rdb_node(
	'primary',
	allows_streaming => 1,
	conf => "wal_consistency_checking = '" . wal_consistency_all() . "'\n"
	  . "autovacuum = off\n"
	  . "rustydb.worker_idle_timeout = 3600\n"
	  . "max_wal_size = '512MB'\n");
$node->start;
rdb_create_extension($node);
$node->safe_psql('postgres',
	"SELECT pg_create_physical_replication_slot('standby_slot', immediately_reserve => true)");
$node->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($node, 'base', has_streaming => 1);
# no feedback (the default), and conflicting queries cancelled at once
$standby->append_conf('postgresql.conf', "primary_slot_name = 'standby_slot'\n"
	  . "hot_standby_feedback = off\nmax_standby_streaming_delay = 0\n");
$standby->start;

sub sql { return $node->safe_psql('postgres', $_[0]); }

# the same statement on table $t and its heap twin ${t}_h, in one transaction
sub both
{
	my ($t, $sql) = @_;
	(my $h = $sql) =~ s/\b$t\b/${t}_h/g;
	return sql("BEGIN; $sql; $h; COMMIT;");
}

# no other backend of the database holds a snapshot or an xid (a row moves,
# and given-back space is reused, once every snapshot is newer)
sub wait_quiet
{
	$node->poll_query_until('postgres', q{
		SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity
		  WHERE datname = current_database() AND pid <> pg_backend_pid()
		    AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL))})
	  or die 'another backend holds a snapshot';
}

# rustydb.flush() until $expect rows moved
sub flush_all { return rdb_flush_until($node, @_); }

# stripes of a table: {stripe => {level, rows, pages}}
sub stripes_of
{
	my ($t, $n) = @_;
	$n //= $node;
	my %s;
	for my $line (grep { length } split /\n/, $n->safe_psql('postgres',
		"SELECT stripe, level, rows, pages FROM rustydb.stripes WHERE relation = '$t'::regclass"))
	{
		my @f = split /\|/, $line;
		$s{ $f[0] } = { level => $f[1], rows => $f[2], pages => $f[3] };
	}
	return \%s;
}

sub free_pages { return sql("SELECT free_stripe_pages FROM rustydb.l0_layout('$_[0]')"); }

sub history
{
	my @v = split /\|/, sql("SELECT pages_freed, pages_pending FROM rustydb.compaction_history('$_[0]')");
	return { freed => $v[0] // 0, pending => $v[1] // 0 };
}

my $digest = q{SELECT count(*), sum(n), md5(string_agg(id || ':' || v || ':' || n, ',' ORDER BY id)) FROM };

sub same_as_twin
{
	my ($n, $t, $what) = @_;
	my $want = $n->safe_psql('postgres', $digest . "${t}_h");
	for my $mode (
		[ 'columnar', '' ],
		[ 'seq', 'SET rustydb.enable_columnar_scan = off; SET enable_indexscan = off; SET enable_bitmapscan = off;' ],
		[ 'index', 'SET enable_seqscan = off; SET enable_bitmapscan = off; SET rustydb.enable_columnar_scan = off;' ])
	{
		is($n->safe_psql('postgres', $mode->[1] . $digest . "(SELECT * FROM $t WHERE id > 0) x"),
			$want, $n->name . ": $t $what: $mode->[0] scan equals the heap twin");
	}
}

my $rows = q{SELECT g, md5(g::text) || repeat('x', g %% 50), g * 3 FROM generate_series(%d, %d) g};
sub load { my ($t, $lo, $hi) = @_; both($t, "INSERT INTO $t " . sprintf($rows, $lo, $hi)); }

my $lookup = 'SET enable_seqscan = off; SET enable_bitmapscan = off; SET rustydb.enable_columnar_scan = off; ';

for my $t (qw(r s))
{
	sql(qq{CREATE TABLE $t (id int PRIMARY KEY, v text, n int) USING rustydb
	         WITH (stripe_rows = 1000, chunk_group_rows = 1000, level_ratio = 2);
	       CREATE TABLE ${t}_h (id int PRIMARY KEY, v text, n int) USING heap;});
}

# ===========================================================================
# 1 and 2. A session holding a lock all along, with the old stripes cached
# ===========================================================================
load('r', 1, 1000);
flush_all('r', 1000);
load('r', 1001, 2000);
flush_all('r', 1000);
my $s0 = stripes_of('r');
is(scalar(keys %$s0), 2, 'r: two level-1 stripes of 1000 rows');

my $holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN');
# index lookups of a row of each stripe: their metadata and chunk groups
# are now in this backend's caches
my $want1 = sql('SELECT v, n FROM r_h WHERE id IN (5, 1005) ORDER BY id');
is($holder->query_safe($lookup . 'SELECT v, n FROM r WHERE id IN (5, 1005) ORDER BY id'), $want1,
	'holder: index lookups into both stripes');
is(sql(q{SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
          WHERE l.relation = 'r'::regclass AND l.granted AND a.state = 'idle in transaction'}),
	'1', 'holder: idle in its transaction block, holding a lock on r');

my $freed0 = history('r')->{freed};
cmp_ok(sql(q{SELECT rustydb.compact('r')}), '>=', 2, 'r: compaction merged the two stripes');
my $h = history('r');
cmp_ok($h->{freed} - $freed0, '>', 0, 'r: it gave ' . ($h->{freed} - $freed0) . ' pages back while the holder holds its lock');
is($h->{pending}, 0, 'r: none pending');
my $free1 = free_pages('r');
cmp_ok($free1, '>', 0, "r: l0_layout shows $free1 free stripe pages");

# a new, smaller stripe goes to the first block of a freed one
wait_quiet();
my $size1 = sql(q{SELECT pg_relation_size('r')});
load('r', 2001, 2600);
flush_all('r', 600);
my $s1 = stripes_of('r');
my @fresh = grep { $s1->{$_}{level} == 1 } keys %$s1;
is(scalar(@fresh), 1, 'r: the flush wrote one level-1 stripe');
ok(defined $fresh[0] && $s0->{ $fresh[0] }, "r: it starts at the first block of a replaced stripe ($fresh[0])");
cmp_ok(free_pages('r'), '<', $free1, 'r: the free stripe pages fell');
cmp_ok(sql(q{SELECT pg_relation_size('r')}), '<=', $size1 + 8192 * 12,
	'r: the file grew by at most the L0 pages of the new rows');

# still in its transaction block, the holder reads rows of the new stripe:
# the stripe caches were emptied when the pages became reusable
my $want2 = sql('SELECT id, v, n FROM r_h WHERE id IN (5, 1005, 2001, 2005, 2300, 2600) ORDER BY id');
is($holder->query_safe($lookup . 'SELECT id, v, n FROM r WHERE id IN (5, 1005, 2001, 2005, 2300, 2600) ORDER BY id'),
	$want2, 'holder: index lookups of old and new rows, after the reuse, in the same transaction block');
is($holder->query_safe($digest . 'r'), sql($digest . 'r_h'), 'holder: a columnar scan in the same block equals the twin');
$holder->query_safe('COMMIT');
$holder->quit;
same_as_twin($node, 'r', 'after reuse under a held lock');

# ===========================================================================
# 3. A snapshot older than the give-back holds the reuse back
# ===========================================================================
# free extents of r given back by a transaction not yet reusable:
# [first, blocks] of rustydb.stripe_space's rows with freed_by set
sub waiting_extents
{
	return [ map { [ split /\|/ ] } grep { length } split /\n/,
		sql("SELECT first_block, blocks FROM rustydb.stripe_space('$_[0]') WHERE kind = 'free' AND freed_by IS NOT NULL ORDER BY 1") ];
}
sub runs_of
{
	my ($t, $stripe) = @_;
	return [ map { [ split /\|/ ] } grep { length } split /\n/,
		sql("SELECT first_block, blocks FROM rustydb.stripe_space('$t') WHERE kind = 'stripe' AND stripe = $stripe") ];
}
sub overlaps
{
	my ($x, $y) = @_;
	for my $p (@$x) { for my $q (@$y) { return 1 if $p->[0] < $q->[0] + $q->[1] && $q->[0] < $p->[0] + $p->[1]; } }
	return 0;
}

# level 1: the stripe of 2001..2600 and one of 3001..3300; the rows
# 3301..3600 are committed before the snapshot is taken, but not flushed
load('r', 3001, 3300);
flush_all('r', 300);
load('r', 3301, 3600);
wait_quiet();
my $rr = $node->background_psql('postgres');
$rr->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
my $seen = $rr->query_safe($digest . 'r');
is($seen, sql($digest . 'r_h'), 'rr: its snapshot sees what the twin holds');

my $freed1 = history('r')->{freed};
cmp_ok(sql(q{SELECT rustydb.compact('r')}), '>=', 2, 'r: compaction merged the level-1 stripes under the open snapshot');
cmp_ok(history('r')->{freed}, '>', $freed1, 'r: ... and gave their pages back');
my $waiting = waiting_extents('r');
cmp_ok(scalar(@$waiting), '>', 0, 'r: stripe_space lists them with the transaction that gave them back: '
	  . join(' ', map { "$_->[0]+$_->[1]" } @$waiting));

# the flush of 3301..3600 (older than the snapshot, so they move) must not
# write into them while the snapshot lives
my $before = stripes_of('r');
flush_all('r', 300);
my $after = stripes_of('r');
my @new = grep { !$before->{$_} } keys %$after;
is(scalar(@new), 1, 'r: the flush wrote one stripe');
ok(!overlaps(runs_of('r', $new[0]), $waiting), "r: not into the pages given back after the snapshot (stripe $new[0])");
is(join(' ', map { "$_->[0]+$_->[1]" } @{ waiting_extents('r') }), join(' ', map { "$_->[0]+$_->[1]" } @$waiting),
	'r: those extents are still free, still waiting');
is($rr->query_safe($digest . 'r'), $seen, 'rr: reads the same rows after the compaction and the flush');
is($rr->query_safe($lookup . $digest . '(SELECT * FROM r WHERE id > 0) x'), $seen, 'rr: ... through the index too');

$rr->query_safe('COMMIT');
$rr->quit;
wait_quiet();
load('r', 3601, 3900);
flush_all('r', 300);
is(scalar(@{ waiting_extents('r') }), 0, 'r: once the snapshot is gone, the next stripe written finds them usable');
same_as_twin($node, 'r', 'after the old snapshot ended');

# ===========================================================================
# 4. A hot standby without feedback
# ===========================================================================
load('s', 1, 1000);
flush_all('s', 1000);
load('s', 1001, 2000);
flush_all('s', 1000);
load('s', 2001, 2600);
my $ss0 = stripes_of('s');
is(scalar(keys %$ss0), 2, 's: two level-1 stripes; 600 rows wait in L0');
$node->wait_for_catchup($standby, 'replay');

# a session in a transaction block with both stripes cached, holding no
# snapshot between its statements
my $sc = $standby->background_psql('postgres');
$sc->query_safe('BEGIN');
is($sc->query_safe($lookup . 'SELECT v, n FROM s WHERE id IN (5, 1005) ORDER BY id'),
	sql('SELECT v, n FROM s_h WHERE id IN (5, 1005) ORDER BY id'), 'standby: index lookups into both stripes');
# a snapshot older than the give-back to come
my $sr = $standby->background_psql('postgres', on_error_stop => 0);
$sr->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
is($sr->query_safe($digest . 's'), sql($digest . 's_h'), 'standby: the old snapshot reads s');
my $sr_pid = $sr->query_safe('SELECT pg_backend_pid()');
my $confl0 = $standby->safe_psql('postgres', q{SELECT confl_snapshot FROM pg_stat_database_conflicts WHERE datname = 'postgres'});

cmp_ok(sql(q{SELECT rustydb.compact('s')}), '>=', 2, 's: compaction merged the two stripes');
wait_quiet();
flush_all('s', 600);
my $ss1 = stripes_of('s');
my @snew = grep { $ss1->{$_}{level} == 1 } keys %$ss1;
is(scalar(@snew), 1, 's: the flush wrote one level-1 stripe');
ok(defined $snew[0] && $ss0->{ $snew[0] }, "s: at the first block of a replaced stripe ($snew[0])");
$node->wait_for_catchup($standby, 'replay');

ok($standby->poll_query_until('postgres', "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $sr_pid)"),
	'standby: the snapshot older than the give-back was cancelled when the reuse was replayed');
ok($standby->poll_query_until('postgres',
		"SELECT confl_snapshot > $confl0 FROM pg_stat_database_conflicts WHERE datname = 'postgres'"),
	'standby: pg_stat_database_conflicts counts a snapshot conflict');
eval { $sr->quit; };
is($sc->query_safe($lookup . 'SELECT id, v, n FROM s WHERE id IN (5, 1005, 2001, 2005, 2300, 2600) ORDER BY id'),
	sql('SELECT id, v, n FROM s_h WHERE id IN (5, 1005, 2001, 2005, 2300, 2600) ORDER BY id'),
	'standby: the session with cached stripes reads old and new rows right, in the same transaction block');
$sc->query_safe('COMMIT');
$sc->quit;
same_as_twin($standby, 's', 'on the standby after the reuse');
same_as_twin($standby, 'r', 'on the standby');

# ===========================================================================
# 4b. VACUUM FULL writes the rows every snapshot of the primary sees into
#     stripes, where they read as frozen (src/lsm/rewrite.c): a standby
#     snapshot older than their inserters, which reads the table only after
#     the rewrite's commit replayed, would see rows inserted after it was
#     taken.  It is cancelled first.
# ===========================================================================
sql(q{CREATE TABLE vf (id int, v text) USING rustydb;
      CREATE TABLE vf_other (x int) USING heap;
      INSERT INTO vf_other VALUES (1);
      INSERT INTO vf SELECT g, md5(g::text) FROM generate_series(1, 12000) g;});
$node->wait_for_catchup($standby, 'replay');
my $sv = $standby->background_psql('postgres', on_error_stop => 0);
$sv->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
is($sv->query_safe('SELECT count(*) FROM vf_other'), '1', 'standby: a snapshot taken, no lock on vf');
my $sv_pid = $sv->query_safe('SELECT pg_backend_pid()');
sql(q{INSERT INTO vf SELECT g, md5(g::text) FROM generate_series(12001, 24000) g});
wait_quiet();
sql(q{VACUUM FULL vf});
is(sql(q{SELECT l0_rows || ':' || flushed_rows FROM rustydb.table_layout('vf')}), '0:24000',
	'vf: VACUUM FULL wrote every row into stripes');
$node->wait_for_catchup($standby, 'replay');
ok($standby->poll_query_until('postgres', "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $sv_pid)"),
	'standby: the snapshot older than the rows VACUUM FULL froze was cancelled');
eval { $sv->quit; };
is($standby->safe_psql('postgres', 'SELECT count(*) || \':\' || sum(id) FROM vf'), '24000:' . (24000 * 24001 / 2),
	'standby: a new snapshot reads every row of vf');

# ===========================================================================
# 5. The storage-event worker under load that never pauses
# ===========================================================================
sql(q{CREATE TABLE w (id bigserial PRIMARY KEY, v text, n int) USING rustydb
        WITH (flush_rows = 2000, stripe_rows = 2000, level_ratio = 2, max_stripe_rows = 8000)});
my $wholder = $node->background_psql('postgres');
$wholder->query_safe('BEGIN; SELECT count(*) FROM w');
my $dir = PostgreSQL::Test::Utils::tempdir();
PostgreSQL::Test::Utils::append_to_file("$dir/ins.sql",
	q{INSERT INTO w (v, n) SELECT md5(g::text), g FROM generate_series(1, 20) g;});
my ($out, $err) = ('', '');
my $writers = IPC::Run::start(
	[
		'pgbench', '-n', '-c', '4', '-j', '2', '-T', '20',
		'-f', "$dir/ins.sql", '-h', $node->host, '-p', $node->port, 'postgres'
	],
	'>', \$out, '2>', \$err);
$writers->finish;
my ($nfailed) = $out =~ /number of failed transactions: (\d+)/;
ok(($nfailed // 1) == 0, 'w: the writers committed without failures') or diag("$out\n$err");
my $whist = history('w');
my $wfree = free_pages('w');
note "w: pages given back $whist->{freed}, pending $whist->{pending}, free now $wfree, "
  . sql(q{SELECT stripes_per_level FROM rustydb.tables WHERE relation = 'w'::regclass});
cmp_ok($whist->{freed}, '>', 0, 'w: background compaction gave pages back while a session held its lock throughout');
is($whist->{pending}, 0, 'w: none pending');
cmp_ok($wfree, '<', $whist->{freed}, 'w: later stripes were written into them (' . ($whist->{freed} - $wfree) . ' pages)');
is($wholder->query_safe('SELECT count(*) = count(DISTINCT id) FROM w'), 't', 'w: the holder reads every row once');
$wholder->query_safe('COMMIT');
$wholder->quit;
my ($rows_w) = sql('SELECT count(*) FROM w');
is(sql(q{SET rustydb.enable_columnar_scan = off; SELECT count(*), sum(n) FROM w}), sql(q{SELECT count(*), sum(n) FROM w}),
	"w: the table AM's scan and the columnar scan agree ($rows_w rows)");
is(sql(q{SELECT count(*) FROM w WHERE n BETWEEN 1 AND 20}), $rows_w, 'w: every row is a row the writers wrote');

# ===========================================================================
# 6. Promotion with extents still waiting
# ===========================================================================
# A hot-standby session whose snapshot is older than a give-back goes on
# after the standby is promoted.  The promoted server must not hand those
# extents out while it lives (its xmin holds GetOldestNonRemovableTransactionId
# back there as on any primary), and hands them out once it ended.  (With
# hot_standby_feedback from here on: without it, any record replayed with a
# newer conflict horizon, from the worker's rounds on w for one, cancels
# that session before the promotion.)
$standby->safe_psql('postgres', q{ALTER SYSTEM SET hot_standby_feedback = on; SELECT pg_reload_conf()});
$node->poll_query_until('postgres',
	q{SELECT xmin IS NOT NULL FROM pg_replication_slots WHERE slot_name = 'standby_slot'})
  or die 'no feedback from the standby';
sql(q{CREATE TABLE p (id int PRIMARY KEY, v text, n int) USING rustydb
        WITH (stripe_rows = 1000, chunk_group_rows = 1000, level_ratio = 2);
      CREATE TABLE p_h (id int PRIMARY KEY, v text, n int) USING heap;});
load('p', 1, 1000);
flush_all('p', 1000);
load('p', 1001, 2000);
flush_all('p', 1000);
load('p', 2001, 2600);
$node->wait_for_catchup($standby, 'replay');
my $ps = $standby->background_psql('postgres');
$ps->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
my $pseen = $ps->query_safe($digest . 'p');
is($pseen, sql($digest . 'p_h'), 'p: a standby snapshot reads p before the give-back');
cmp_ok(sql(q{SELECT rustydb.compact('p')}), '>=', 2, 'p: compaction merged the two stripes and gave them back');
$node->wait_for_catchup($standby, 'replay');
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'the standby was not promoted';
my $promoted = $standby;
sub psql_p { return $promoted->safe_psql('postgres', $_[0]); }
my $pwait = [ map { [ split /\|/ ] } grep { length } split /\n/,
	psql_p("SELECT first_block, blocks FROM rustydb.stripe_space('p') WHERE kind = 'free' AND freed_by IS NOT NULL ORDER BY 1") ];
cmp_ok(scalar(@$pwait), '>', 0, 'promoted: the extents given back on the old primary wait, with their freeing transaction');
is($ps->query_safe($digest . 'p'), $pseen, 'promoted: the session from before the promotion reads what its snapshot saw');
# 2001..2600 were committed before that snapshot: they move, into a new stripe
my %pbefore = map { $_ => 1 } grep { length } split /\n/, psql_p(q{SELECT stripe FROM rustydb.stripes WHERE relation = 'p'::regclass});
rdb_flush_until($promoted, 'p', 600);
my @pnew = grep { !$pbefore{$_} } grep { length } split /\n/,
	psql_p(q{SELECT stripe FROM rustydb.stripes WHERE relation = 'p'::regclass});
is(scalar(@pnew), 1, 'promoted: the flush wrote one stripe');
my $pruns = [ map { [ split /\|/ ] } grep { length } split /\n/,
	psql_p("SELECT first_block, blocks FROM rustydb.stripe_space('p') WHERE kind = 'stripe' AND stripe = $pnew[0]") ];
ok(!overlaps($pruns, $pwait), "promoted: not into the extents the old snapshot may still read (stripe $pnew[0])");
is($ps->query_safe($digest . 'p'), $pseen, 'promoted: the old snapshot still reads the same rows');
is($ps->query_safe($lookup . $digest . '(SELECT * FROM p WHERE id > 0) x'), $pseen, 'promoted: ... through the index too');
$ps->query_safe('COMMIT');
$ps->quit;
# once it ended, the next stripe finds them usable
$promoted->safe_psql('postgres', "BEGIN; INSERT INTO p " . sprintf($rows, 2601, 3000) . "; INSERT INTO p_h "
	  . sprintf($rows, 2601, 3000) . "; COMMIT;");
rdb_flush_until($promoted, 'p', 400);
is(psql_p("SELECT count(*) FROM rustydb.stripe_space('p') WHERE kind = 'free' AND freed_by IS NOT NULL"), '0',
	'promoted: once the old snapshot ended, the next stripe written finds the extents usable');
same_as_twin($promoted, 'p', 'on the promoted server');

done_testing();
