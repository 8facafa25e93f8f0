
# t/003_corruption.pl
#	A corrupted data page gives a clear ERROR with SQLSTATE XX001
#	(data_corrupted) naming relation and block; the server stays up and the
#	rows on the other pages stay readable.
#
# Usage: run through t/run_tap.sh (or prove with PostgreSQL's src/test/perl in
# @INC, PATH starting with PostgreSQL 15's bindir, TESTDIR and PG_REGRESS set,
# as an unprivileged user).  RDB_TEST_AM picks the table access method (default
# rustydb; heap validates the test).  RDB_CORRUPT_BLOCK (default 2) is the
# physical block whose middle is overwritten with inverted bytes while the
# server is down; pg_checksums first confirms, independently of the access
# method, that the file now fails its checksum there.  Then: a full scan must
# fail with XX001 and a message naming the block and the relation; every key
# is looked up through the primary key index one by one (an error in one
# lookup is caught per key), and all but the few rows of the damaged page
# must come back with the right value; TID-range scans that avoid the damaged
# page work; with zero_damaged_pages the rest of the table is scanned.  A
# second table has its block 0 (a metapage, for an access method that has
# one) damaged: a scan either fails with XX001 or returns every row (a scan
# need not read a metapage), VACUUM (which reads every block) must fail with
# XX001, and nothing may crash.  If corruption went unnoticed, returned wrong
# rows, or took the whole table (or the server) down, this test fails.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use Digest::MD5 qw(md5_hex);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RustydbTest;

my $am = test_am();
my $blk = $ENV{RDB_CORRUPT_BLOCK} // 2;
my $nrows = 5000;
note "table access method under test: $am, damaged block $blk";

my $node = rdb_node('corrupt', conf => "autovacuum = off\n");
$node->start;
rdb_create_extension($node);
$node->safe_psql('postgres', 'CREATE EXTENSION pageinspect');

# Rows of ~100 bytes: the table spans dozens of pages.
$node->safe_psql(
	'postgres', qq{
CREATE TABLE c (id int PRIMARY KEY, v text NOT NULL) USING $am;
INSERT INTO c SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, $nrows) g;
CREATE TABLE m (id int PRIMARY KEY, v text NOT NULL) USING $am;
INSERT INTO m SELECT g, md5(g::text) FROM generate_series(1, 1000) g;
CHECKPOINT;
});

my $pgdata = $node->data_dir;
my $relpath = $node->safe_psql('postgres', "SELECT pg_relation_filepath('c')");
my $m_relpath = $node->safe_psql('postgres', "SELECT pg_relation_filepath('m')");
my $nblocks = $node->safe_psql('postgres', "SELECT pg_relation_size('c') / current_setting('block_size')::int");
note "table c: $relpath, $nblocks blocks";
cmp_ok($nblocks, '>', $blk + 2, "table spans more than " . ($blk + 2) . " blocks");

# The page we damage holds data: a header with line pointers.
my ($lower, $upper) = split /\|/,
  $node->safe_psql('postgres', "SELECT lower, upper FROM page_header(get_raw_page('c', $blk))");
note "block $blk: pd_lower $lower, pd_upper $upper";

# Where every row lives (its TID) before the damage, for the TID-range part.
my %tid_block;
for my $line (split /\n/, $node->safe_psql('postgres', 'SELECT id, (ctid::text::point)[0]::bigint FROM c'))
{
	my ($id, $b) = split /\|/, $line;
	$tid_block{$id} = $b;
}
is(scalar(keys %tid_block), $nrows, 'all rows present before the damage');

$node->stop;

# Invert 64 bytes in the middle of the block; read back to be sure.
sub damage
{
	my ($file, $block) = @_;
	my $offset = $block * 8192 + 4096 - 32;
	open my $fh, '+<', $file or die "could not open $file: $!";
	binmode $fh;
	seek($fh, $offset, 0) or die "seek: $!";
	my $orig;
	read($fh, $orig, 64) == 64 or die "short read from $file";
	my $bad = $orig ^ ("\xff" x 64);
	seek($fh, $offset, 0) or die "seek: $!";
	print $fh $bad;
	close $fh or die "close: $!";
	open $fh, '<', $file or die;
	binmode $fh;
	seek($fh, $offset, 0);
	my $now;
	read($fh, $now, 64);
	close $fh;
	return $now eq $bad && $now ne $orig;
}
ok(damage("$pgdata/$relpath", $blk), "bytes in block $blk of c inverted on disk");
ok(damage("$pgdata/$m_relpath", 0), 'bytes in block 0 of m inverted on disk');

# Independent of the access method: the checksum of those blocks is now wrong.
my ($stdout, $stderr);
IPC::Run::run([ 'pg_checksums', '--check', '-D', $pgdata ], '>', \$stdout, '2>', \$stderr);
like($stderr . $stdout, qr/checksum verification failed in file "[^"]*\Q$relpath\E", block $blk\b/,
	"pg_checksums reports block $blk of c");
like($stderr . $stdout, qr/checksum verification failed in file "[^"]*\Q$m_relpath\E", block 0\b/,
	'pg_checksums reports block 0 of m');

$node->start;

# ---------------------------------------------------------------------------
# A full scan: ERROR XX001 naming the block and the relation.
# ---------------------------------------------------------------------------
my $verbose = "\\set VERBOSITY verbose\n";
my ($ret, $out, $err) = $node->psql('postgres', "${verbose}SELECT count(*) FROM c");
isnt($ret, 0, 'full scan of the damaged table fails');
like($err, qr/ERROR:\s+XX001:/, '... with SQLSTATE XX001 (data_corrupted)');
like($err, qr/\bblock $blk\b/, "... naming block $blk");
like($err, qr/\Q$relpath\E|"c"/, '... and the relation');
unlike($err, qr/PANIC|server closed the connection/, '... without taking the server down');
note "error: $err";

is($node->safe_psql('postgres', 'SELECT 1'), '1', 'server still accepts queries');
cmp_ok($node->safe_psql('postgres',
		'SELECT checksum_failures FROM pg_stat_database WHERE datname = current_database()'),
	'>=', 1, 'pg_stat_database counted the checksum failure');

# ---------------------------------------------------------------------------
# Every key through the primary key index, one lookup at a time.
# ---------------------------------------------------------------------------
$node->safe_psql(
	'postgres', q{
CREATE FUNCTION probe(n int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	ok int := 0;		-- found, right value
	bad int := 0;		-- data_corrupted error
	missing int := 0;	-- no row, or a wrong value
	r text;
	msg text := '';
	bad_ids text := '';
BEGIN
	FOR i IN 1 .. n LOOP
		BEGIN
			r := NULL;
			SELECT v INTO r FROM c WHERE id = i;
			IF r IS NOT DISTINCT FROM repeat(md5(i::text), 3) THEN
				ok := ok + 1;
			ELSE
				missing := missing + 1;
			END IF;
		EXCEPTION WHEN data_corrupted THEN
			bad := bad + 1;
			msg := SQLERRM;
			bad_ids := bad_ids || i || ',';
		END;
	END LOOP;
	RETURN ok || '|' || bad || '|' || missing || '|' || rtrim(bad_ids, ',') || '|' || msg;
END $$;
});
my $index_only = 'SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_indexonlyscan = off;';
my $plan = $node->safe_psql('postgres', "$index_only EXPLAIN (COSTS OFF) SELECT v FROM c WHERE id = 42");
like($plan, qr/Index Scan using c_pkey/, 'lookups use the primary key index');

($ret, $out, $err) = $node->psql('postgres', "$index_only SELECT probe($nrows)");
is($ret, 0, 'probing every key raised no error other than data_corrupted') or diag($err);
my ($ok, $bad, $missing, $bad_ids, $msg) = split /\|/, $out, 5;
$_ //= 0 for $ok, $bad, $missing;
$bad_ids //= '';
note "index lookups: $ok ok, $bad data_corrupted, $missing missing/wrong; first error: " . ($msg // '');
cmp_ok($bad, '>', 0, 'lookups of rows on the damaged page report data_corrupted');
cmp_ok($bad, '<', $nrows / 4, 'only a small part of the table is affected');
is($missing, 0, 'no lookup returns a missing or wrong row');
is($ok + $bad, $nrows, 'every other row is readable through the index');
like($msg // '', qr/\bblock $blk\b/, "per-row error names block $blk");

# ---------------------------------------------------------------------------
# TID-range scans that stay off the damaged page.
# ---------------------------------------------------------------------------
my @bad_ids = grep { $_ ne '' } split /,/, $bad_ids;
SKIP:
{
	skip 'no damaged rows to locate', 5 unless @bad_ids;
	my ($lo, $hi) = (undef, undef);
	for my $id (@bad_ids)
	{
		my $b = $tid_block{$id};
		$lo = $b if !defined $lo || $b < $lo;
		$hi = $b if !defined $hi || $b > $hi;
	}
	my $before = grep { $tid_block{$_} < $lo } keys %tid_block;
	my $after = grep { $tid_block{$_} > $hi } keys %tid_block;
	note "damaged rows have TID blocks $lo..$hi; $before rows before, $after after";
	# enable_seqscan = off: a TID-range scan is what is being tested, not
	# the planner's choice between it and a seq scan of most of the table.
	my $tidr = 'SET enable_seqscan = off;';
	my $q_before = "$tidr SELECT count(*) FROM c WHERE ctid < '($lo,0)'";
	my $q_after = "$tidr SELECT count(*) FROM c WHERE ctid >= '(" . ($hi + 1) . ",0)'";
	for my $q ($q_before, $q_after)
	{
		(my $explain = $q) =~ s/SELECT/EXPLAIN (COSTS OFF) SELECT/;
		like($node->safe_psql('postgres', $explain), qr/Tid Range Scan/, "TID-range scan is used: $q");
	}
	($ret, $out, $err) = $node->psql('postgres', $q_before);
	is("$ret $out", "0 $before", "TID-range scan before the damaged rows reads all $before rows")
	  or diag($err);
	($ret, $out, $err) = $node->psql('postgres', $q_after);
	is("$ret $out", "0 $after", "TID-range scan after the damaged rows reads all $after rows")
	  or diag($err);
	($ret, $out, $err) = $node->psql('postgres',
		"${verbose}$tidr SELECT count(*) FROM c WHERE ctid >= '($lo,0)' AND ctid < '(" . ($hi + 1) . ",0)'");
	like($err, qr/ERROR:\s+XX001:/, 'TID-range scan over the damaged rows fails with XX001');
}

# ---------------------------------------------------------------------------
# zero_damaged_pages: the rest of the table can be read in one scan.
# ---------------------------------------------------------------------------
($ret, $out, $err) = $node->psql('postgres',
	"SET zero_damaged_pages = on; SELECT count(*), count(*) FILTER (WHERE v = repeat(md5(id::text), 3)) FROM c");
is($ret, 0, 'with zero_damaged_pages the full scan completes') or diag($err);
is($out, ($nrows - $bad) . '|' . ($nrows - $bad), '... returning exactly the rows outside the damaged page, intact');
like($err, qr/invalid page in block $blk\b.*zeroing out page/, '... with a WARNING about zeroing the page');
($ret, $out, $err) = $node->psql('postgres', "$index_only SELECT probe($nrows)");
($ok, $bad, $missing) = split /\|/, $out;
$_ //= 0 for $ok, $bad, $missing;
is("$ret $ok $bad", "0 " . ($nrows - @bad_ids) . " 0",
	'after zeroing, index lookups find every row outside the damaged page and no error')
  or diag($err);

# ---------------------------------------------------------------------------
# Block 0 of the second table.
# ---------------------------------------------------------------------------
# Block 0 holds rows (heap) or a metapage that a scan may not need to read
# (an AM that keeps one): a scan either fails with XX001 or returns every
# row; it never silently returns fewer.  VACUUM reads every block, so it
# must report the damage.
($ret, $out, $err) = $node->psql('postgres', "${verbose}SELECT count(*) FROM m");
if ($ret == 0)
{
	is($out, '1000', 'scan of the table with a damaged block 0 returns every row (block 0 holds none)');
}
else
{
	like($err, qr/ERROR:\s+XX001:.*\bblock 0\b/, 'scan of the table with a damaged block 0 fails with XX001 naming block 0');
}
($ret, $out, $err) = $node->psql('postgres', "${verbose}VACUUM m");
isnt($ret, 0, 'VACUUM of the table with a damaged block 0 fails');
like($err, qr/ERROR:\s+XX001:.*\bblock 0\b/, '... with XX001 naming block 0') or diag($err);
# A lookup of a row on another page may work (heap) or hit the damaged
# metapage (an AM that has one): either the right row or XX001.
($ret, $out, $err) = $node->psql('postgres', "${verbose}$index_only SELECT v FROM m WHERE id = 500");
if ($ret == 0)
{
	is($out, md5_hex(500), 'index lookup of a row elsewhere in that table returns the right row');
}
else
{
	like($err, qr/ERROR:\s+XX001:/, 'index lookup in that table fails with XX001');
}
is($node->safe_psql('postgres', 'SELECT count(*) FROM c WHERE id > 0 AND id < 10'), '9',
	'server still up, other tables fine');

check_log_clean($node, 0, 'log: no PANIC, failed assertion or crashed backend');
$node->stop;
done_testing();
