
# t/032_chunk_cache.pl
#	The shared chunk cache (src/cache) under each eviction policy.
#
# One cluster with a small cache (rustydb.chunk_cache_size = 1MB), restarted
# once per policy (the policy and the size are PGC_POSTMASTER; a restart
# also empties the cache).  For each of clock, lru2 and 2q:
#
#   * a table whose chunks fit (hot: one int column, 2 chunk groups): read
#     twice by the columnar scan = 2 misses, then 2 hits, no eviction;
#   * a table whose chunks do not fit (big: 100 chunk groups of equal
#     size p pages, about four times the cache): a scan into the emptied
#     cache gives exactly 100 misses, 100 inserts and 100 - floor(C / p)
#     evictions, C the capacity in pages; memory never passes the GUC
#     (used_pages <= total_pages), PageEvicted events name the policy and
#     the event worker sends PoolStats (capacity, 0 dirty pages);
#   * scan resistance: hot read twice, a big scan, hot read, a big scan,
#     hot read: lru2 and 2q must keep the hot chunks (2 hits at the end),
#     clock's outcome is reported (README: it keeps them only if they are
#     referenced again within one sweep of the hand);
#   * correctness: every lookup and scan compared with a heap twin;
#   * concurrency: pgbench, 3 clients for 40 s (two minutes over the three policies), index lookups that check
#     the value they read (a wrong one divides by zero), columnar and
#     ordinary scans, and inserts + flushes; no error, and the table equals
#     its heap twin afterwards.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RustydbTest;

my $am = test_am();
plan skip_all => "the chunk cache belongs to the rustydb access method (RDB_TEST_AM=$am)"
  if $am ne 'rustydb';

my $secs = $ENV{RDB_CACHE_PGBENCH_SECS} // 40;
my $node = rdb_node('cache',
	conf => "autovacuum = off\nmax_parallel_workers_per_gather = 0\nrustydb.chunk_cache_size = 1MB\n");
$node->start;
rdb_create_extension($node);

sub sql { return $node->safe_psql('postgres', $_[0]); }

# hot: 20000 rows, 2 chunk groups; big: 1,000,000 rows, 100 chunk groups of
# equally incompressible values; cc: 100,000 rows for lookups (id, v = id * 3)
sql(q{
CREATE TABLE hot (v int) USING rustydb;
INSERT INTO hot SELECT g FROM generate_series(1, 20000) g;
SELECT setseed(0.25);
CREATE TABLE big (v int) USING rustydb WITH (compression = 'none', stripe_rows = 100000);
INSERT INTO big SELECT (random() * 2147483647)::int FROM generate_series(1, 1000000) g;
CREATE TABLE warm (v int) USING rustydb WITH (compression = 'none');
INSERT INTO warm SELECT (random() * 2147483647)::int FROM generate_series(1, 300000) g;
CREATE TABLE cc (id int PRIMARY KEY, v int, s text) USING rustydb;
INSERT INTO cc SELECT g, g * 3, 'row ' || g FROM generate_series(1, 100000) g;
CREATE TABLE cc_heap (id int PRIMARY KEY, v int, s text) USING heap;
INSERT INTO cc_heap SELECT * FROM cc;
CREATE SEQUENCE cc_seq START 100001;
});
is(sql("SELECT rustydb.flush('hot') + rustydb.flush('big') + rustydb.flush('warm') + rustydb.flush('cc')"),
	1420000, "tables flushed");
my $kbig = sql("SELECT sum(chunk_groups) FROM rustydb.stripes WHERE relation = 'big'::regclass");
ok($kbig >= 100, "big has $kbig chunk groups");

my $diff_sql = q{SELECT (SELECT count(*) FROM (SELECT * FROM cc EXCEPT ALL SELECT * FROM cc_heap) a)
  + (SELECT count(*) FROM (SELECT * FROM cc_heap EXCEPT ALL SELECT * FROM cc) b)};

sub counts
{
	my ($h, $m, $e, $i, $u, $t) = split /\|/,
	  sql('SELECT hits, misses, evictions, inserts, used_pages, total_pages FROM rustydb.pool_stats');
	return { hits => $h, misses => $m, evictions => $e, inserts => $i, used => $u, total => $t };
}

sub delta
{
	my ($a, $b) = @_;
	return { map { $_ => $b->{$_} - $a->{$_} } qw(hits misses evictions inserts) };
}

# a pgbench script set: lookups that check their row, scans, inserts + flush
my $dir = PostgreSQL::Test::Utils::tempdir;
open(my $fh, '>', "$dir/lookup.sql") or die;
print $fh "\\set id random(1, 100000)\n"
  . "SELECT 1 / (CASE WHEN v = :id * 3 AND s = 'row ' || :id THEN 1 ELSE 0 END) FROM cc WHERE id = :id;\n";
close $fh;
open($fh, '>', "$dir/scan.sql") or die;
print $fh "SELECT 1 / (CASE WHEN sum(v) = 3 * sum(id) THEN 1 ELSE 0 END) FROM cc;\n"
  . "SET rustydb.enable_columnar_scan = off;\n"
  . "SELECT 1 / (CASE WHEN sum(v) = 3 * sum(id) THEN 1 ELSE 0 END) FROM cc WHERE id % 7 = 0;\n";
close $fh;
open($fh, '>', "$dir/write.sql") or die;
print $fh "INSERT INTO cc SELECT n, n * 3, 'row ' || n FROM (SELECT nextval('cc_seq') n FROM generate_series(1, 200)) x;\n"
  . "SELECT rustydb.flush('cc');\n";
close $fh;

my %scan_resistant;
for my $policy (qw(clock lru2 2q))
{
	$node->append_conf('postgresql.conf', "rustydb.chunk_cache_policy = '$policy'\n");
	$node->restart;
	is(sql('SELECT policy FROM rustydb.pool_stats'), $policy, "$policy: policy in force");
	sql('SELECT rustydb.pool_reset()');

	# a table whose chunks fit
	my $c0 = counts();
	is(sql('SELECT sum(v) FROM hot'), '200010000', "$policy: hot sum");
	my $c1 = counts();
	is_deeply(delta($c0, $c1), { hits => 0, misses => 2, evictions => 0, inserts => 2 },
		"$policy: first read of 2 chunks: 2 misses");
	sql('SELECT sum(v) FROM hot');
	my $c2 = counts();
	is_deeply(delta($c1, $c2), { hits => 2, misses => 0, evictions => 0, inserts => 0 },
		"$policy: the same read again: 2 hits");

	# a table whose chunks do not fit, into the emptied cache
	sql('SELECT rustydb.chunk_cache_clear()');
	my $bigsum = sql('SELECT sum(v::bigint) FROM big');
	my $c3 = counts();
	# every chunk of big takes p pages but the last one (the stripe flush
	# made of the rows of its last L0 pages), which is scanned last and
	# takes q < p pages: it fits in the C mod p pages left over
	my ($p, $q, $nsmall) = split /\|/, sql(
		"SELECT max(pages), min(pages), count(*) FILTER (WHERE pages < (SELECT max(pages) FROM rustydb.cache_contents WHERE relation = 'big'::regclass))
		   FROM rustydb.cache_contents WHERE relation = 'big'::regclass");
	my $fit = int($c3->{total} / $p);
	ok($nsmall <= 1 && ($nsmall == 0 || $c3->{total} % $p >= $q),
		"$policy: big's chunks take $p pages ($nsmall of $q pages), $fit fit in $c3->{total} pages");
	my $full = $kbig - $nsmall;
	is_deeply(delta($c2, $c3), { hits => 0, misses => $kbig, evictions => $full - $fit, inserts => $kbig },
		"$policy: scan of $kbig chunks into a cache of $fit: $kbig misses, " . ($full - $fit) . ' evictions');
	ok($c3->{used} <= $c3->{total}, "$policy: used pages $c3->{used} <= $c3->{total}");
	is(sql('SELECT (SELECT sum(bytes) FROM rustydb.cache_contents) = bytes AND (SELECT sum(pages) FROM rustydb.cache_contents) = used_pages FROM rustydb.pool_stats'),
		't', "$policy: cache_contents adds up to pool_stats' bytes and used pages");
	is(sql("SELECT sum(v::bigint) FROM big"), $bigsum, "$policy: big scanned again, same sum");
	my $reasons = sql("SELECT string_agg(DISTINCT payload::json->'data'->'PageEvicted'->>'reason', '; ') FROM rustydb.events WHERE variant = 'PageEvicted'");
	my $prefix = { clock => 'CLOCK', lru2 => 'LRU-2', '2q' => '2Q' }->{$policy};
	like($reasons, qr/^\Q$prefix\E:/, "$policy: PageEvicted reasons name the policy ($reasons)");

	# PoolStats from the database's event worker at the buffer-pool interval
	ok($node->poll_query_until('postgres', qq{
		SELECT count(*) > 0 FROM rustydb.events
		 WHERE variant = 'PoolStats'
		   AND (payload->'data'->'PoolStats'->>'total_pages')::int = $c3->{total}
		   AND (payload->'data'->'PoolStats'->>'used_pages')::int BETWEEN 1 AND $c3->{total}
		   AND (payload->'data'->'PoolStats'->>'dirty_pages')::int = 0
		   AND (payload->'data'->'PoolStats'->>'hit_rate')::float8 BETWEEN 0 AND 1}),
		"$policy: PoolStats with total_pages = $c3->{total}, dirty_pages = 0");

	# scan resistance: the hot chunks become hot (read twice; for 2Q, read
	# again after the scan of warm (1.2x the cache) pushed them from A1in
	# into A1out, which puts
	# them in Am), then one scan of big (4x the cache, keys never seen:
	# chunk_cache_clear also forgets the history), then hot again
	sql('SELECT rustydb.chunk_cache_clear()');
	sql('SELECT sum(v) FROM hot') for 1 .. 2;
	sql('SELECT sum(v::bigint) FROM warm');
	sql('SELECT sum(v) FROM hot') for 1 .. 2;
	sql('SELECT sum(v::bigint) FROM big');
	my $c4 = counts();
	sql('SELECT sum(v) FROM hot');
	my $c5 = counts();
	my $d = delta($c4, $c5);
	$scan_resistant{$policy} = "$d->{hits}/2";
	note("$policy: hot read after a scan of 4x the cache: $d->{hits} hits, $d->{misses} misses");
	if ($policy ne 'clock')
	{
		is($d->{hits}, 2, "$policy: the hot chunks survived a scan of 4x the cache");
	}
	else
	{
		ok($d->{hits} + $d->{misses} == 2, "clock: hot read counted ($d->{hits} hits; clock keeps them only within a sweep)");
	}
	# a second scan: big's keys are now in the history (reported only)
	sql('SELECT sum(v::bigint) FROM big');
	$c4 = counts();
	sql('SELECT sum(v) FROM hot');
	$d = delta($c4, counts());
	$scan_resistant{$policy} .= ", after a second scan $d->{hits}/2";

	# correctness against the heap twin, lookups and scans
	is(sql($diff_sql), '0', "$policy: cc equals its heap twin");
	is(sql(q{SELECT count(*) FROM generate_series(1, 100000, 331) i
	         WHERE (SELECT v FROM cc WHERE id = i) IS DISTINCT FROM (SELECT v FROM cc_heap WHERE id = i)}),
		'0', "$policy: index lookups agree with heap");

	# concurrency
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run(
		[
			'pgbench', '-n', '-c', '3', '-j', '3', '-T', $secs,
			'-f', "$dir/lookup.sql\@20", '-f', "$dir/scan.sql\@1", '-f', "$dir/write.sql\@2",
			'-h', $node->host, '-p', $node->port, 'postgres'
		],
		'>', \$out, '2>', \$err);
	my ($n) = $out =~ /number of transactions actually processed: (\d+)/;
	ok($ok && defined $n && $n > 0 && $err !~ /ERROR/, "$policy: pgbench lookups, scans, flushes for $secs s without error ("
		  . ($n // '?') . ' transactions)')
	  or diag("$out\n$err");
	sql("INSERT INTO cc_heap SELECT * FROM cc WHERE id > (SELECT max(id) FROM cc_heap)");
	is(sql($diff_sql), '0', "$policy: cc equals its heap twin after the concurrent run");
	my $c6 = counts();
	ok($c6->{used} <= $c6->{total}, "$policy: used pages $c6->{used} <= $c6->{total} after the run");
	note("$policy after pgbench: " . join(', ', map { "$_=$c6->{$_}" } sort keys %$c6));
}

note('scan resistance (hot chunks hit after one scan of big, and after a second): '
	  . join(', ', map { "$_=$scan_resistant{$_}" } qw(clock lru2 2q)));
check_log_clean($node, 0, "server log clean");
$node->stop;
done_testing();
