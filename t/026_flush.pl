# t/026_flush.pl
#	rustydb.flush() under fire: concurrent writers, an immediate stop in the
#	middle of a flush, and a streaming standby replaying flushes with
#	wal_consistency_checking = 'all,rustydb'.
#
#	A rustydb table and a heap twin receive the same changes in the same
#	transactions (pgbench).  While the writers run, flushes move rows into
#	stripes; afterwards the table must equal its twin through sequential,
#	index and bitmap scans, its indexes must hold every row (amcheck), and
#	the standby must answer the same.  Then a large flush is interrupted by
#	an immediate stop: after recovery nothing is lost or duplicated, and a
#	new flush finishes the work.  The test proves that flush really ran by
#	looking at the storage: stripes exist (rustydb.stripes) and rows are
#	stubs (pageinspect shows their 32-byte items).

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use Time::HiRes qw(sleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RustydbTest;

my $am = test_am();
plan skip_all => 'flush is rustydb-specific' if $am ne 'rustydb';

my $primary = rdb_node(
	'primary',
	allows_streaming => 1,
	conf => "wal_consistency_checking = '" . wal_consistency_all() . "'\n"
	  . "autovacuum_naptime = 1s\n");
$primary->start;
rdb_create_extension($primary);
$primary->safe_psql('postgres', 'CREATE EXTENSION amcheck; CREATE EXTENSION pageinspect');
# the L0 pages of a table: no special area (stripe pages and the metapage
# have one, and heap_page_items would read their payload as line pointers)
$primary->safe_psql('postgres', q{
CREATE FUNCTION l0_pages(rel regclass) RETURNS SETOF bigint LANGUAGE sql AS $$
	SELECT b FROM generate_series(1, pg_relation_size(rel) / 8192 - 1) b
	 WHERE (page_header(get_raw_page(rel::text, b::int))).special = 8192
$$;});
$primary->safe_psql('postgres',
	"SELECT pg_create_physical_replication_slot('standby_slot', immediately_reserve => true)");
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->append_conf('postgresql.conf', "primary_slot_name = 'standby_slot'");
$standby->start;

$primary->safe_psql('postgres', q{
	CREATE TABLE f (id int PRIMARY KEY, grp int, v text, n numeric) USING rustydb;
	CREATE INDEX f_grp ON f (grp);
	CREATE TABLE f_twin (id int PRIMARY KEY, grp int, v text, n numeric) USING heap;
	INSERT INTO f SELECT g, g % 100, 'v' || g, g * 0.5 FROM generate_series(1, 30000) g;
	INSERT INTO f_twin SELECT * FROM f;
});

my $digest = q{SELECT count(*) || ':' || md5(string_agg(id || '/' || grp || '/' || v || '/' || coalesce(n::text, '-'), ',' ORDER BY id)) FROM };
sub same_as_twin
{
	my ($node, $what) = @_;
	my $want = $node->safe_psql('postgres', $digest . 'f_twin');
	for my $mode (
		[ 'seq', 'SET enable_indexscan = off; SET enable_bitmapscan = off;' ],
		[ 'index', 'SET enable_seqscan = off; SET enable_bitmapscan = off;' ],
		[ 'bitmap', 'SET enable_seqscan = off; SET enable_indexscan = off;' ])
	{
		my $got = $node->safe_psql('postgres',
			$mode->[1] . $digest . '(SELECT * FROM f WHERE grp >= 0) f');
		is($got, $want, $node->name . ": $what: $mode->[0] scan equals the heap twin")
		  or diag("rows that differ (id, rustydb, heap): "
			  . $node->safe_psql('postgres',
				  $mode->[1] . q{SELECT string_agg(coalesce(a.id, b.id) || ' ' || coalesce(a.grp || '/' || a.v || '/' || a.n || ' ctid ' || a.ctid, '-') || ' | ' || coalesce(b.grp || '/' || b.v || '/' || b.n, '-'), '; ') FROM (SELECT ctid, * FROM f WHERE grp >= 0) a FULL JOIN f_twin b ON a.id = b.id WHERE a.id IS NULL OR b.id IS NULL OR a.v IS DISTINCT FROM b.v OR a.grp IS DISTINCT FROM b.grp OR a.n IS DISTINCT FROM b.n}));
	}
}

# --- flushes while writers change the same rows -------------------------
# The writers run REPEATABLE READ: both tables' statements of a transaction
# then see the same snapshot (under READ COMMITTED a concurrent insert can
# commit between "DELETE FROM f" and "DELETE FROM f_twin", and the twins
# diverge on heap as on rustydb); conflicts become serialization failures,
# which pgbench retries.
my $dir = PostgreSQL::Test::Utils::tempdir();
PostgreSQL::Test::Utils::append_to_file("$dir/w.sql", q{
\set id random(1, 32000)
\set g random(0, 99)
BEGIN ISOLATION LEVEL REPEATABLE READ;
UPDATE f SET v = v || 'u', n = n + 1 WHERE id = :id;
UPDATE f_twin SET v = v || 'u', n = n + 1 WHERE id = :id;
DELETE FROM f WHERE id = (:id * 7) % 32000;
DELETE FROM f_twin WHERE id = (:id * 7) % 32000;
INSERT INTO f VALUES (:id, :g, 'new', NULL) ON CONFLICT (id) DO UPDATE SET grp = excluded.grp;
INSERT INTO f_twin VALUES (:id, :g, 'new', NULL) ON CONFLICT (id) DO UPDATE SET grp = excluded.grp;
SELECT id FROM f WHERE id = (:id * 3) % 32000 FOR UPDATE;
END;
});
# two pgbench clients run $script for $secs s while $table is flushed
# $rounds times, $pause s apart; checks the writers did not fail (test
# named $what) and returns the rows the flushes moved
sub flush_under_writers
{
	my ($script, $secs, $table, $rounds, $pause, $what) = @_;
	my ($out, $err) = ('', '');
	my $writers = IPC::Run::start(
		[
			'pgbench', '-n', '-c', '2', '-j', '2', '-T', $secs, '--max-tries=20',
			'-f', $script, '-h', $primary->host, '-p', $primary->port, 'postgres'
		],
		'>', \$out, '2>', \$err);
	my $moved = 0;
	for (1 .. $rounds)
	{
		sleep($pause);
		$moved += $primary->safe_psql('postgres', "SELECT rustydb.flush('$table')");
	}
	$writers->finish;
	my ($nfailed) = $out =~ /number of failed transactions: (\d+)/;
	ok(($nfailed // 1) == 0, $what) or diag("$out\n$err");
	return $moved;
}
my $flushed = flush_under_writers("$dir/w.sql", 12, 'f', 8, 1.2, 'writers committed without failures');
cmp_ok($flushed, '>', 20000, "flushes under load moved $flushed rows");
my $stripes = $primary->safe_psql('postgres', q{SELECT count(*) FROM rustydb.stripes('f')});
cmp_ok($stripes, '>=', 1, "stripes exist ($stripes)");
# the writers have stopped: one more flush moves what they left in L0, so
# the count below does not hang on how many rows their last seconds turned
# back into L0 rows (7,580 stubs were left in one slow run)
$primary->safe_psql('postgres', q{SELECT rustydb.flush('f')});
my $stubs = $primary->safe_psql('postgres', q{
	SELECT count(*) FROM l0_pages('f') b,
	  LATERAL heap_page_items(get_raw_page('f', b::int)) i
	 WHERE i.lp_flags = 1 AND i.lp_len = 32 AND (i.t_infomask2 & 2048) <> 0});
my $retired = $primary->safe_psql('postgres', q{SELECT retired_rows FROM rustydb.l0_layout('f')});
# a flushed row is a stub on its L0 page or, once the flush retired the
# page (also a page of rows from two flushes, which it copies into one
# stripe), a row of a retired generation; the bar is a third of the table
cmp_ok($stubs + $retired, '>', 10000, "rows are stubs in L0 pages ($stubs) or in retired generations ($retired)");
same_as_twin($primary, 'after flushes under load');
is($primary->safe_psql('postgres',
		q{SELECT count(*) FROM (SELECT bt_index_check(c.oid, true) FROM pg_class c WHERE c.relname IN ('f_pkey', 'f_grp')) s}),
	'2', 'indexes hold every row (bt_index_check heapallindexed)');

$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
same_as_twin($standby, 'standby after replaying flushes');

# --- flush_running: flushes move rows of transactions still running ------
# Writers insert rows in transactions that run a while, change some of their
# own rows and commit or roll back; flushes run meanwhile and move their
# rows.  Then the pages are settled: the flush copies each page whose rows
# lie in several stripes into one and retires it.  The standby replays it
# all under wal_consistency_checking.
$primary->safe_psql('postgres', q{
	CREATE TABLE fr (id bigint PRIMARY KEY, v text) USING rustydb WITH (flush_running = on);
	CREATE TABLE fr_twin (id bigint PRIMARY KEY, v text) USING heap;
	CREATE SEQUENCE fr_seq;
});
PostgreSQL::Test::Utils::append_to_file("$dir/r.sql", q{
\set rb random(0, 3)
BEGIN;
SELECT nextval('fr_seq') * 1000 AS base \gset
INSERT INTO fr SELECT :base + g, repeat('r', 50) || g FROM generate_series(1, 300) g;
INSERT INTO fr_twin SELECT :base + g, repeat('r', 50) || g FROM generate_series(1, 300) g;
SELECT pg_sleep(0.02);
INSERT INTO fr SELECT :base + g, 'second ' || g FROM generate_series(301, 600) g;
INSERT INTO fr_twin SELECT :base + g, 'second ' || g FROM generate_series(301, 600) g;
UPDATE fr SET v = v || ' changed' WHERE id BETWEEN :base + 1 AND :base + 20;
UPDATE fr_twin SET v = v || ' changed' WHERE id BETWEEN :base + 1 AND :base + 20;
DELETE FROM fr WHERE id BETWEEN :base + 21 AND :base + 30;
DELETE FROM fr_twin WHERE id BETWEEN :base + 21 AND :base + 30;
\if :rb = 0
ROLLBACK;
\else
COMMIT;
\endif
});
my $running_moved = flush_under_writers("$dir/r.sql", 8, 'fr', 6, 1, 'fr: writers committed without failures');
cmp_ok($running_moved, '>', 0, "fr: flushes moved $running_moved rows while writers ran");
my $frq = q{SELECT count(*) || ':' || md5(string_agg(id || '/' || v, ',' ORDER BY id)) FROM };
is($primary->safe_psql('postgres', $frq . 'fr'), $primary->safe_psql('postgres', $frq . 'fr_twin'),
	'fr equals its heap twin after flushes of running transactions');
$primary->safe_psql('postgres', q{VACUUM fr});
$primary->safe_psql('postgres', q{SELECT rustydb.flush('fr')});
my ($fr_rows, $fr_retired) = split /\|/, $primary->safe_psql('postgres',
	q{SELECT (SELECT count(*) FROM fr), retired_rows FROM rustydb.l0_layout('fr')});
is($fr_retired, $fr_rows, "fr: settled, every row ($fr_rows) is in a retired generation");
is($primary->safe_psql('postgres', $frq . 'fr'), $primary->safe_psql('postgres', $frq . 'fr_twin'),
	'fr equals its heap twin after its pages were retired');
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
is($standby->safe_psql('postgres', $frq . 'fr'), $primary->safe_psql('postgres', $frq . 'fr_twin'),
	'standby: fr equals the heap twin after replaying it');

# --- an immediate stop in the middle of a big flush ----------------------
$primary->safe_psql('postgres', q{
	INSERT INTO f SELECT g, g % 100, 'bulk' || g, g FROM generate_series(100001, 400000) g;
	INSERT INTO f_twin SELECT g, g % 100, 'bulk' || g, g FROM generate_series(100001, 400000) g;
	SET rustydb.stripe_rows = 20000;
});
my $bg = $primary->background_psql('postgres', on_error_stop => 0);
$bg->query_until(qr/started/, q{
	SET rustydb.stripe_rows = 20000;
	\echo started
	SELECT rustydb.flush('f');
});
sleep(1.5);
$primary->stop('immediate');
eval { $bg->quit; };
$primary->start;
my $partial = $primary->safe_psql('postgres', q{SELECT count(*) FROM rustydb.stripes('f')});
note "stripes after the interrupted flush: $partial";
same_as_twin($primary, 'after an immediate stop during flush');
is($primary->safe_psql('postgres',
		q{SELECT count(*) FROM (SELECT bt_index_check(c.oid, true) FROM pg_class c WHERE c.relname IN ('f_pkey', 'f_grp')) s}),
	'2', 'after recovery: indexes hold every row');
# (the stop may come before, during or after the flush: whatever it left in
# L0 a new flush moves, and then every row of the table is a stub)
my $rest = $primary->safe_psql('postgres', q{SELECT rustydb.flush('f')});
note "the new flush moved $rest rows";
# (VACUUM first: rows of aborted transactions, which never move, are dead)
$primary->safe_psql('postgres', 'VACUUM f');
is($primary->safe_psql('postgres', q{
	SELECT count(*) FROM l0_pages('f') b,
	  LATERAL heap_page_items(get_raw_page('f', b::int)) i
	 WHERE i.lp_flags = 1 AND i.t_xmax = '0' AND (i.t_infomask2 & 2048) = 0}),
	'0', 'after the new flush no live row is left in L0 (all are stubs)');
same_as_twin($primary, 'after finishing the flush');

# The views walk the file and meet a stripe's first page while its other
# pages are still being written: a stripe is sealed only when complete, and
# until then the views pass over it instead of calling it corrupted.
{
	$primary->safe_psql('postgres', q{
		CREATE TABLE fw (id int, v text) USING rustydb WITH (stripe_rows = 400000);
		INSERT INTO fw SELECT g, md5(g::text) || md5((g * 7)::text) FROM generate_series(1, 300000) g;
	});
	my $watcher = $primary->background_psql('postgres', on_error_stop => 0);
	# polls the views for 4 s; an error ends the DO with it
	$watcher->query_until(qr/watching/, q{\echo watching
DO $$
DECLARE n int := 0; seen int := 0; s int;
BEGIN
  WHILE clock_timestamp() < now() + interval '4 s' LOOP
    SELECT count(*) INTO s FROM rustydb.stripes WHERE relation = 'fw'::regclass;
    PERFORM * FROM rustydb.tables WHERE relation = 'fw'::regclass;
    PERFORM * FROM rustydb.columns WHERE relation = 'fw'::regclass;
    n := n + 1;
    seen := greatest(seen, s);
  END LOOP;
  RAISE NOTICE 'watched % times, saw % stripes', n, seen;
END $$;
\echo watched
});
	my $moved = 0;
	for (1 .. 50)
	{
		$moved += $primary->safe_psql('postgres', q{SELECT rustydb.flush('fw')});
		last if $moved >= 300000;
		sleep(0.1);
	}
	is($moved, 300000, 'fw: the flush moved every row while the views were polled');
	my $out = $watcher->query_until(qr/watched/, '');
	$watcher->quit;
	unlike($watcher->{stderr} // '', qr/ERROR/, 'fw: no view failed while the stripe was being written')
	  or diag($watcher->{stderr});
	like($watcher->{stderr} // '', qr/watched \d+ times/, 'fw: the views were polled meanwhile');
	# (rows of pages the watcher had pinned stayed in L0 for the next call:
	# their first copies are dead rows of the first stripe)
	my ($nst, $nrows) = split /\|/, $primary->safe_psql('postgres',
		q{SELECT count(*), sum(rows - deleted_rows) FROM rustydb.stripes WHERE relation = 'fw'::regclass});
	note "fw: $nst stripes; the watcher said: " . (($watcher->{stderr} // '') =~ /(watched \d+ times, saw \d+ stripes)/ ? $1 : '?');
	ok($nst >= 1 && $nrows == 300000, "fw: the stripes show once written ($nst, $nrows rows)");
}

$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
same_as_twin($standby, 'standby after the crash and the second flush');

check_log_clean($primary, 0, 'primary log shows no problem',
	[qr/server process .* was terminated by signal 9|terminating connection because of crash/]);
check_log_clean($standby, 0, 'standby log (wal_consistency_checking) shows no problem');

done_testing();
