# t/033_retire.pl
#	Retired L0 pages (src/rowstore/gendir.c): once flush has moved every row
#	of a page into a stripe and every snapshot sees them, the page is
#	retired into the generation directory and its block reused for new rows
#	under a new generation.  The test looks at the storage
#	(rustydb.l0_layout) to prove that pages really were retired and reused,
#	and at the rows through every read path to prove nothing changed:
#	against a heap twin that received the same statements, on the primary
#	and on a streaming standby replaying with wal_consistency_checking.
#
#	- flush retires pages; new inserts reuse their blocks (ctid >= 2^31)
#	  and the file does not grow over insert/flush rounds
#	- UPDATE, DELETE, SELECT FOR UPDATE of retired rows revive their
#	  generation; VACUUM retires it again
#	- seq, index, bitmap (without prefetch), TID, TID range, parallel,
#	  columnar scans, TABLESAMPLE, ANALYZE, CREATE INDEX CONCURRENTLY; BRIN
#	  is not offered
#	- an immediate stop in the middle of insert/flush/update rounds loses
#	  and resurrects nothing
#	- the standby answers the same

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RustydbTest;

my $am = test_am();
plan skip_all => 'retiring pages is rustydb-specific' if $am ne 'rustydb';

my $primary = rdb_node(
	'primary',
	allows_streaming => 1,
	conf => "wal_consistency_checking = '" . wal_consistency_all() . "'\n"
	  . "autovacuum = off\n"
	  . "max_parallel_workers_per_gather = 2\n");
$primary->start;
rdb_create_extension($primary);
$primary->safe_psql('postgres', 'CREATE EXTENSION amcheck');
$primary->safe_psql('postgres',
	"SELECT pg_create_physical_replication_slot('standby_slot', immediately_reserve => true)");
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->append_conf('postgresql.conf', "primary_slot_name = 'standby_slot'");
$standby->start;

# the same statements go to the rustydb table r and its heap twin h
sub both
{
	my ($sql) = @_;
	(my $h = $sql) =~ s/\br\b/h/g;
	$primary->safe_psql('postgres', "BEGIN; $sql; $h; COMMIT;");
}

$primary->safe_psql('postgres', q{
	CREATE TABLE r (id bigint, ts timestamptz, kind text, v numeric, j jsonb) USING rustydb;
	CREATE TABLE h (id bigint, ts timestamptz, kind text, v numeric, j jsonb) USING heap;
	CREATE UNIQUE INDEX r_id ON r (id);
	CREATE UNIQUE INDEX h_id ON h (id);
	CREATE INDEX r_kind ON r (kind);
});
both(q{INSERT INTO r SELECT g, '2026-01-01'::timestamptz + g * interval '1 s',
	'k' || (g % 7), g * 0.25, jsonb_build_object('g', g)
	FROM generate_series(1, 60000) g});

my $layout = q{SELECT l0_pages, reused_pages, free_pages, retired_generations, retired_rows
	FROM rustydb.l0_layout('r')};
my $flushed = $primary->safe_psql('postgres', "SELECT rustydb.flush('r')");
is($flushed, 60000, 'flush moved every row');
my ($l0, $reused, $free, $retired, $rrows) =
  split /\|/, $primary->safe_psql('postgres', $layout);
is($l0, 0, 'no L0 page is left after the flush');
cmp_ok($retired, '>', 100, "pages were retired ($retired generations)");
is($rrows, 60000, 'every flushed row is described by a retired generation');
is($free, $retired, 'each retired page became a free page');
# each retirement is a PageCompacted event with what it really reclaimed
my ($ncompacted, $minbytes) = split /\|/, $primary->safe_psql('postgres', q{
	SELECT count(*), min((payload->'data'->'PageCompacted'->>'bytes_reclaimed')::int)
	  FROM rustydb.events WHERE relation = 'r'::regclass AND variant = 'PageCompacted'});
cmp_ok($ncompacted, '>=', $retired, "PageCompacted events for the retired pages ($ncompacted)");
cmp_ok($minbytes, '>', 0, "each reclaimed bytes of the page (at least $minbytes)");

my $digest = q{SELECT count(*) || ':' || md5(string_agg(id || '/' || ts || '/' || kind || '/' || v || '/' || j::text, ',' ORDER BY id)) FROM };
sub same_as_twin
{
	my ($node, $what) = @_;
	my $want = $node->safe_psql('postgres',
		'SET enable_indexscan = off; SET enable_bitmapscan = off;' . $digest . 'h');
	for my $mode (
		[ 'seq', 'SET rustydb.enable_columnar_scan = off; SET enable_indexscan = off; SET max_parallel_workers_per_gather = 0;' ],
		[ 'parallel', 'SET rustydb.enable_columnar_scan = off; SET enable_indexscan = off; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;' ],
		[ 'columnar', 'SET enable_indexscan = off; SET max_parallel_workers_per_gather = 0;' ],
		[ 'index', 'SET enable_seqscan = off; SET enable_bitmapscan = off; SET rustydb.enable_columnar_scan = off;' ],
		[ 'bitmap', 'SET enable_seqscan = off; SET enable_indexscan = off; SET rustydb.enable_columnar_scan = off; SET effective_io_concurrency = 8;' ])
	{
		my $got = $node->safe_psql('postgres',
			$mode->[1] . $digest . '(SELECT * FROM r WHERE id > 0) r');
		is($got, $want, $node->name . ": $what: $mode->[0] scan equals the heap twin");
	}
}
same_as_twin($primary, 'after the flush');

# new rows reuse the freed blocks under new generations
both(q{INSERT INTO r SELECT g, '2026-02-01'::timestamptz + g * interval '1 s',
	'n' || (g % 3), g, NULL FROM generate_series(60001, 70000) g});
($l0, $reused, $free) = split /\|/, $primary->safe_psql('postgres', $layout);
cmp_ok($reused, '>', 0, "new rows went into reused blocks ($reused pages)");
cmp_ok($primary->safe_psql('postgres', q{
	SELECT count(*) FROM rustydb.events WHERE relation = 'r'::regclass AND variant = 'PageAllocated'}),
	'>=', $reused, 'a PageAllocated event for every reused block');
is($primary->safe_psql('postgres',
	"SELECT min((ctid::text::point)[0]) >= 2147483648 FROM r WHERE id > 60000"),
	't', 'rows in reused blocks have generations from 2^31 up');
same_as_twin($primary, 'after inserts into reused blocks');

# point reads of retired and reused rows
is($primary->safe_psql('postgres', q{SELECT kind, v FROM r WHERE ctid = (SELECT ctid FROM r WHERE id = 123)}),
	'k4|30.75', 'TID scan of a retired row');
is($primary->safe_psql('postgres', q{SELECT id FROM r WHERE ctid = (SELECT ctid FROM r WHERE id = 65000)}),
	'65000', 'TID scan of a row in a reused block');
is($primary->safe_psql('postgres', q{SELECT count(*) FROM r WHERE ctid >= '(2147483648,1)'}),
	'10000', 'TID range scan over the reused generations');
is($primary->safe_psql('postgres', q{SELECT count(*) FROM r WHERE ctid < '(2147483648,1)' AND ctid > '(0,0)'}),
	'60000', 'TID range scan over the retired generations');
# bitmap heap scans: the executor must not prefetch generations past the
# end of the file (prefetch_guard.c); BRIN is not offered
my $bm = q{SET enable_seqscan = off; SET enable_indexscan = off; SET rustydb.enable_columnar_scan = off; };
like($primary->safe_psql('postgres', $bm . q{EXPLAIN (COSTS OFF) SELECT * FROM r WHERE kind IN ('k1', 'n1')}),
	qr/Bitmap Heap Scan/, 'a bitmap heap scan is planned on a table with retired pages');
is($primary->safe_psql('postgres', $bm . q{SET effective_io_concurrency = 16;
	SELECT count(*), sum(id) FROM r WHERE kind IN ('k1', 'n1')}),
	$primary->safe_psql('postgres', q{SELECT count(*), sum(id) FROM h WHERE kind IN ('k1', 'n1')}),
	'bitmap heap scan over retired and reused generations (effective_io_concurrency 16)');
$primary->safe_psql('postgres', 'CREATE INDEX r_brin ON r USING brin (id)');
unlike($primary->safe_psql('postgres', $bm . q{EXPLAIN (COSTS OFF) SELECT count(*) FROM r WHERE id BETWEEN 100 AND 65000}),
	qr/r_brin/, 'BRIN (blocks of the file only) is not used on a table with retired pages');
is($primary->safe_psql('postgres', $bm . q{SELECT count(*) FROM r WHERE id BETWEEN 100 AND 65000}),
	'64901', 'range count with a BRIN index present');

# writes to retired rows revive their generation
both(q{UPDATE r SET v = -1 WHERE id % 1000 = 7});
both(q{DELETE FROM r WHERE id BETWEEN 20001 AND 21000});
both(q{DELETE FROM r WHERE id % 997 = 3});
$primary->safe_psql('postgres', q{BEGIN; SELECT * FROM r WHERE id = 30001 FOR UPDATE; COMMIT;});
same_as_twin($primary, 'after updates and deletes of retired rows');
my $retired_before = (split /\|/, $primary->safe_psql('postgres', $layout))[3];
$primary->safe_psql('postgres', 'VACUUM r');
$primary->safe_psql('postgres', "SELECT rustydb.flush('r')");
$primary->safe_psql('postgres', 'VACUUM r');
my $retired_after = (split /\|/, $primary->safe_psql('postgres', $layout))[3];
cmp_ok($retired_after, '>=', $retired_before,
	"VACUUM and flush retire revived and new pages again ($retired_before -> $retired_after)");
same_as_twin($primary, 'after VACUUM re-retired pages');

# ANALYZE counts retired rows; TABLESAMPLE sees them
$primary->safe_psql('postgres', 'ANALYZE r');
my $count = $primary->safe_psql('postgres', 'SELECT count(*) FROM h');
is($primary->safe_psql('postgres', q{SELECT reltuples::bigint FROM pg_class WHERE relname = 'r'}),
	$count, 'ANALYZE counted every row, retired ones included');
is($primary->safe_psql('postgres', 'SELECT count(*) FROM r TABLESAMPLE SYSTEM (100)'),
	$count, 'TABLESAMPLE SYSTEM (100) returns every row');
my $bern = $primary->safe_psql('postgres', 'SELECT count(*) FROM r TABLESAMPLE BERNOULLI (50) REPEATABLE (7)');
cmp_ok(abs($bern - $count / 2), '<', $count / 10, "TABLESAMPLE BERNOULLI (50) samples about half ($bern of $count)");

# CREATE INDEX CONCURRENTLY validates in TID order across generations
$primary->safe_psql('postgres', 'CREATE INDEX CONCURRENTLY r_v ON r (v)');
is($primary->safe_psql('postgres', q{SELECT bt_index_check('r_v', true), bt_index_check('r_id', true)}),
	'|', 'amcheck: indexes hold every row (heapallindexed)');
is($primary->safe_psql('postgres', q{SET enable_seqscan = off; SET rustydb.enable_columnar_scan = off; SELECT count(*) FROM r WHERE v = -1}),
	$primary->safe_psql('postgres', 'SELECT count(*) FROM h WHERE v = -1'),
	'the concurrently built index finds the updated rows');

# steady state: insert and flush rounds do not grow the file
my $size0 = $primary->safe_psql('postgres', "SELECT pg_relation_size('r')");
for my $round (1 .. 6)
{
	my $lo = 100000 + $round * 10000;
	both("INSERT INTO r SELECT g, now(), 's' || (g % 5), g, NULL FROM generate_series($lo, $lo + 9999) g");
	$primary->safe_psql('postgres', "SELECT rustydb.flush('r')");
}
my $size1 = $primary->safe_psql('postgres', "SELECT pg_relation_size('r')");
my $hsize = $primary->safe_psql('postgres', "SELECT pg_relation_size('h')");
# (heap would grow by all 60000 rows; here only by their stripes: the L0
# pages of each round are retired by its flush and reused by the next)
cmp_ok($size1 - $size0, '<', $hsize / 8,
	"60000 rows in 6 insert/flush rounds grew the table by " . ($size1 - $size0)
	  . " bytes (the heap twin holds all rows in $hsize bytes)");
same_as_twin($primary, 'after insert/flush rounds');

# insert / delete / VACUUM rounds: the generations a round empties name the
# next round's reused pages (gendir.c, "Recycling remapped generations"),
# so the remapped space, and the directory, stop growing (before, each
# round took about 170 new generation numbers for good)
my $ng = q{SELECT next_generation FROM rustydb.l0_layout('r')};
my $ng_start;
for my $round (1 .. 6)
{
	my $lo = 300000 + $round * 10000;
	my $prev = $lo - 10000;
	both("INSERT INTO r SELECT g, now(), 'y' || (g % 5), g, NULL FROM generate_series($lo, $lo + 9999) g");
	both("DELETE FROM r WHERE id BETWEEN $prev AND $prev + 9999") if $round > 1;
	$primary->safe_psql('postgres', 'VACUUM r');
	$primary->safe_psql('postgres', "SELECT rustydb.flush('r')");
	$ng_start = $primary->safe_psql('postgres', $ng) if $round == 3;
}
my $ng_end = $primary->safe_psql('postgres', $ng);
cmp_ok($ng_end - $ng_start, '<', 100,
	"insert/delete/VACUUM rounds recycle the generations they empty (next generation $ng_start -> $ng_end)");
is($primary->safe_psql('postgres',
	"SELECT count(*) FROM r WHERE id >= 300000 AND ctid >= '(2147483648,1)'"), '10000',
	'the last round\'s rows live in reused blocks');
same_as_twin($primary, 'after insert/delete/VACUUM rounds with recycled generations');
is($primary->safe_psql('postgres', q{SELECT bt_index_check('r_id', true), bt_index_check('r_kind', true)}),
	'|', 'amcheck: indexes hold every row after recycling');

# the standby replays all of it (wal_consistency_checking) and answers the same
$primary->wait_for_catchup($standby, 'replay');
same_as_twin($standby, 'on the standby');

# an immediate stop in the middle of rounds of changes loses nothing
$primary->safe_psql('postgres', 'CREATE TABLE done (round int)');
my $bg = $primary->background_psql('postgres', on_error_stop => 0);
my $script = '';
for my $round (1 .. 40)
{
	my $lo = 200000 + $round * 500;
	my $sql = "INSERT INTO r SELECT g, now(), 'c', g, NULL FROM generate_series($lo, $lo + 499) g; "
	  . "UPDATE r SET v = v + 1 WHERE id % 101 = $round; DELETE FROM r WHERE id % 211 = $round";
	(my $hsql = $sql) =~ s/\br\b/h/g;
	$script .= "BEGIN; $sql; $hsql; INSERT INTO done VALUES ($round); COMMIT; SELECT rustydb.flush('r'); VACUUM r;\n";
}
$bg->query_until(qr//, $script);
sleep 2;
$primary->stop('immediate');
eval { $bg->quit; };
$primary->start;
same_as_twin($primary, 'after an immediate stop during insert/update/delete/flush/VACUUM rounds');
is($primary->safe_psql('postgres', q{SELECT bt_index_check('r_id', true)}), '', 'amcheck after recovery');

check_log_clean($primary, 0, 'primary log shows no problem');
check_log_clean($standby, 0, 'standby log: no inconsistent page, PANIC or unexpected FATAL');
done_testing();
