
# t/025_stripe_corruption.pl
#	Columnar stripes: a standby replaying stripe writes (full-page images)
#	under wal_consistency_checking reads back exactly what the primary
#	reads; a damaged stripe page is caught by the stripe's own chunk
#	checksum (XX001, naming table, stripe and column) while another stripe
#	of the same table still reads back fine; damaged chunk bounds (the
#	bounds section of format version 2) are caught by the directory
#	checksum (XX001); a damaged extent map of a mapped stripe is caught by
#	the map's own checks (XX001); the writer's flush reads only its own
#	pages; a directory entry's damaged offset count and a metapage's free
#	extent past the end of the file are caught (XX001) before anything is
#	built or written from them; a damaged stripe summary (the first page's
#	per-column NULLs and bounds, which a scan reads alone to pass over a
#	whole stripe) is caught by its own checksum (XX001).
#
# The primary is initialised WITHOUT --data-checksums (PostgreSQL::Test::
# Cluster directly, not rdb_node): with data checksums the buffer manager
# would report the damaged page first, and the chunk checksum would never be
# exercised.  Stripes are written by the test diagnostic
# rustydb.stripe_roundtrip (flush does not exist yet), which also checks
# every row it writes; rustydb.stripe_rows reads a stripe's rows as text.
# Only meaningful for the rustydb access method: with RDB_TEST_AM=heap the
# test is skipped.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes;
use RustydbTest;

plan skip_all => 'stripes are a rustydb feature' if test_am() ne 'rustydb';
uses_extension();

my $primary = PostgreSQL::Test::Cluster->new('stripe_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf(
	'postgresql.conf', qq{
shared_preload_libraries = 'rustydb_am'
shared_buffers = '16MB'
max_connections = 20
autovacuum = off
log_statement = 'none'
search_path = 'public'
wal_consistency_checking = '${\ wal_consistency_all()}'
});
$primary->start;
is($primary->safe_psql('postgres', 'SHOW data_checksums'),
	'off', 'primary runs without data checksums');
rdb_create_extension($primary);

# a slot keeps the WAL the standby still needs: on a loaded machine the
# stripes' full-page images can fill several segments before it connects
$primary->safe_psql('postgres',
	"SELECT pg_create_physical_replication_slot('stripe_standby_slot', immediately_reserve => true)");
$primary->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('stripe_standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
$standby->append_conf('postgresql.conf', "primary_slot_name = 'stripe_standby_slot'");
$standby->start;

# 30000 rows of incompressible text: two stripes of 15000 rows, 2 chunk
# groups each, spanning dozens of pages.  ref keeps a heap copy.
$primary->safe_psql(
	'postgres', q{
CREATE TABLE t (id int, v text, n numeric) USING rustydb;
INSERT INTO t SELECT g, md5(g::text) || md5((g * 7)::text), g / 3.0
FROM generate_series(1, 30000) g;
CREATE TABLE ref USING heap AS SELECT * FROM t;
});
my $rt = $primary->safe_psql('postgres',
	q{SELECT string_agg(nrows || ':' || rows_equal, ' ' ORDER BY first_block)
	  FROM rustydb.stripe_roundtrip('t', 'zstd', 10000, 2)});
is($rt, '15000:15000 15000:15000', 'two stripes written, every row read back equal');

my $stripes = $primary->safe_psql('postgres',
	q{SELECT first_block, nblocks FROM rustydb.stripes('t') ORDER BY first_block});
my @stripes = map { [ split /\|/ ] } split /\n/, $stripes;
is(scalar(@stripes), 2, 'rustydb.stripes lists two stripes');
my ($a_first, $a_nblocks) = @{ $stripes[0] };
my ($b_first, $b_nblocks) = @{ $stripes[1] };
cmp_ok($a_nblocks, '>=', 10, "stripe A (block $a_first) spans $a_nblocks pages");

# what each stripe must hold, from the heap copy
my %want;
$want{$a_first} = $primary->safe_psql('postgres',
	q{SELECT md5(string_agg(r::text, E'\n' ORDER BY r::text)) FROM ref r WHERE id <= 15000});
$want{$b_first} = $primary->safe_psql('postgres',
	q{SELECT md5(string_agg(r::text, E'\n' ORDER BY r::text)) FROM ref r WHERE id > 15000});

sub stripe_md5
{
	my ($node, $first) = @_;
	return $node->safe_psql('postgres',
		qq{SELECT md5(string_agg(row_text, E'\\n' ORDER BY row_text))
		   FROM rustydb.stripe_rows('t', $first)});
}

for my $first ($a_first, $b_first)
{
	is(stripe_md5($primary, $first), $want{$first},
		"primary: stripe at block $first holds its rows");
}

# ---- the standby replayed the stripe pages ----
$primary->wait_for_catchup($standby, 'replay');
is( $standby->safe_psql('postgres',
		q{SELECT first_block, nblocks, nrows, chunk_groups, raw_bytes FROM rustydb.stripes('t') ORDER BY 1}),
	$primary->safe_psql('postgres',
		q{SELECT first_block, nblocks, nrows, chunk_groups, raw_bytes FROM rustydb.stripes('t') ORDER BY 1}),
	'standby lists the same stripes');
for my $first ($a_first, $b_first)
{
	is(stripe_md5($standby, $first), $want{$first},
		"standby: stripe at block $first reads back identically");
}
check_log_clean($standby, 0, 'standby log: no inconsistent page, no crash');

# read len bytes of file at off
sub read_bytes
{
	my ($file, $off, $len) = @_;
	my $buf;
	open(my $fh, '<', $file) or die "open $file: $!";
	binmode $fh;
	sysseek($fh, $off, 0) or die "seek: $!";
	sysread($fh, $buf, $len) == $len or die "read: $!";
	close($fh);
	return $buf;
}

# XOR len bytes of file at off with mask (the server stopped)
sub damage_bytes
{
	my ($file, $off, $len, $mask) = @_;
	my $buf = read_bytes($file, $off, $len);
	$buf = join('', map { chr(ord($_) ^ $mask) } split //, $buf);
	open(my $fh, '+<', $file) or die "open $file: $!";
	binmode $fh;
	sysseek($fh, $off, 0) or die "seek: $!";
	syswrite($fh, $buf) == $len or die "write: $!";
	close($fh);
}

# ---- damage a data page in the middle of stripe A ----
my $relpath = $primary->safe_psql('postgres', q{SELECT pg_relation_filepath('t')});
my $file = $primary->data_dir . "/$relpath";
$primary->stop;

my $blk = $a_first + int($a_nblocks / 2);
my $off = $blk * 8192 + 24 + 3000;
damage_bytes($file, $off, 64, 0xff);
note "inverted 64 bytes of block $blk of stripe A (first block $a_first)";

$primary->start;

my ($ret, $stdout, $stderr) = $primary->psql('postgres',
	qq{\\set VERBOSITY verbose
	   SELECT count(*) FROM rustydb.stripe_rows('t', $a_first)});
isnt($ret, 0, 'reading the damaged stripe fails');
like($stderr, qr/ERROR:\s+XX001: rustydb stripe at block $a_first of table "t" is corrupted in column "(id|v|n)"/,
	'XX001 naming the table, the stripe and the column');
like($stderr, qr/checksum [0-9a-f]{16}, its directory entry says [0-9a-f]{16}/,
	'the chunk checksum caught it');

is(stripe_md5($primary, $b_first), $want{$b_first},
	'the other stripe of the table still reads back fine');
is($primary->safe_psql('postgres', q{SELECT count(*) FROM rustydb.stripes('t')}),
	'2', 'rustydb.stripes still lists both stripes (headers intact)');

# the standby has its own, intact copy
is(stripe_md5($standby, $a_first), $want{$a_first},
	'standby: its copy of the damaged stripe is intact');

check_log_clean($primary, 0, 'primary log: no PANIC or crash');

# ---- damage the bounds section of stripe B (format version 2) ----
# Stream layout of t's stripes (3 columns, 2 chunk groups): header 48 bytes,
# column table 3 * 12, the stripe summary (its length its first 4 bytes),
# directory 6 * 32, bounds header 8, column bounds 3 * 8, chunk bounds
# 6 * 8: the bounds data starts at stream offset 356 plus the summary's
# length, on the stripe's first page, with the min of id in chunk group 0.
is($primary->safe_psql('postgres',
		qq{SELECT min || '..' || max FROM rustydb.chunk_bounds('t')
		   WHERE first_block = $b_first AND chunk_group = 0 AND column_name = 'id'}),
	'15001..25000', 'stripe B keeps bounds for id');
$primary->stop;
my $sumlen = unpack('L', read_bytes($file, $b_first * 8192 + 24 + 84, 4));
cmp_ok($sumlen, '>=', 16 + 3 * 20, "stripe B carries a stripe summary of $sumlen bytes");
$off = $b_first * 8192 + 24 + 356 + $sumlen;
damage_bytes($file, $off, 8, 0x5a);
$primary->start;
($ret, $stdout, $stderr) = $primary->psql('postgres',
	qq{\\set VERBOSITY verbose
	   SELECT count(*) FROM rustydb.chunk_bounds('t')});
isnt($ret, 0, 'reading damaged bounds fails');
like($stderr, qr/ERROR:\s+XX001: rustydb stripe at block $b_first of table "t" is corrupted/,
	'XX001 naming the table and the stripe whose bounds are damaged');
like($stderr, qr/Header and directory have checksum/,
	'the directory checksum covers the bounds section');
check_log_clean($primary, 0, 'primary log: no PANIC or crash after damaged bounds');

# ---- damage the stripe summary of a flushed stripe ----
# A scan whose quals the summary answers reads nothing of a stripe but its
# first page (src/scan/colscan.c, colscan_summary_skipped): the summary's
# own checksum must catch a damaged bound there, or the scan could pass
# over rows it should return.  Stream layout: header 48 bytes, the extent
# map (264, mapped stripes), column table 2 * 12, then the summary, whose
# data starts MAXALIGN(16 + 2 * 20) = 56 bytes in, with id's min first.
$primary->safe_psql(
	'postgres', q{
CREATE TABLE u (id int, v text) USING rustydb;
INSERT INTO u SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
SELECT rustydb.flush('u');
});
my $u_first = $primary->safe_psql('postgres', q{SELECT min(first_block) FROM rustydb.stripes('u')});
is($primary->safe_psql('postgres', q{SELECT count(*) FROM u WHERE id > 19990}),
	'10', 'the flushed table reads');
my $ufile = $primary->data_dir . '/' . $primary->safe_psql('postgres', q{SELECT pg_relation_filepath('u')});
$primary->stop;
my $uversion = unpack('S', read_bytes($ufile, $u_first * 8192 + 24 + 4, 2));
ok($uversion & 0x0200, sprintf('the flushed stripe carries a stripe summary (version 0x%04x)', $uversion));
my $u_min = $u_first * 8192 + 24 + 48 + (($uversion & 0x0100) ? 264 : 0) + 2 * 12 + 56;
is(unpack('l', read_bytes($ufile, $u_min, 4)), 1, "id's smallest value where the summary keeps it");
damage_bytes($ufile, $u_min, 4, 0x40);
$primary->start;
($ret, $stdout, $stderr) = $primary->psql('postgres',
	q{\\set VERBOSITY verbose
	  SELECT count(*) FROM u WHERE id > 100000});
isnt($ret, 0, 'a scan reading the damaged summary fails');
like($stderr, qr/ERROR:\s+XX001: rustydb stripe at block $u_first of table "u" is corrupted/,
	'XX001 naming the table and the stripe');
like($stderr, qr/stripe summary has checksum/, "the summary's own checksum caught it");
$primary->stop;
damage_bytes($ufile, $u_min, 4, 0x40);
$primary->start;
is($primary->safe_psql('postgres', q{SELECT count(*) FROM u WHERE id > 19990}),
	'10', 'repaired, the table reads again');
is($primary->safe_psql('postgres', q{SELECT count(*) FROM u WHERE id > 100000}),
	'0', '... and a scan the summary answers gives nothing');

# ---- damage the row order of a stripe sorted by a sort key (format 3) ----
# The order chunks are the last bytes of the stream: damage the end of the
# last page's payload (pd_lower ends it).  Reading a row by its row number
# needs the order, whose own checksum catches the damage.
$primary->safe_psql(
	'postgres', q{
CREATE TABLE ts (id int, k int, v text) USING rustydb WITH (sort_key = 'k');
INSERT INTO ts SELECT g, (g * 7919) % 10007, md5(g::text) FROM generate_series(1, 20000) g;
});
is($primary->safe_psql('postgres',
		q{SELECT nrows || ':' || rows_equal FROM rustydb.stripe_roundtrip('ts', 'zstd', 5000, 1)}),
	'20000:20000', 'sorted stripe written, every row read back equal by row number');
my ($s_first, $s_nblocks) = split /\|/, $primary->safe_psql('postgres',
	q{SELECT first_block, nblocks FROM rustydb.stripes('ts')});
is($primary->safe_psql('postgres',
		qq{SELECT count(*) FILTER (WHERE next_min < max::int) || '/' || count(*)
		   FROM (SELECT max, lead(min::int) OVER (ORDER BY chunk_group) AS next_min
		         FROM rustydb.chunk_bounds('ts') WHERE column_name = 'k') b}),
	'0/4', 'its 4 chunk groups hold k in order');
my $srelpath = $primary->safe_psql('postgres', q{SELECT pg_relation_filepath('ts')});
my $sfile = $primary->data_dir . "/$srelpath";
$primary->stop;
my $last = $s_first + $s_nblocks - 1;
my $lower = unpack('v', read_bytes($sfile, $last * 8192 + 12, 2));
cmp_ok($lower, '>', 24 + 8, "last page of the sorted stripe ends its payload at $lower");
damage_bytes($sfile, $last * 8192 + $lower - 8, 8, 0xff);
$primary->start;
($ret, $stdout, $stderr) = $primary->psql('postgres',
	qq{\\set VERBOSITY verbose
	   SELECT count(*) FROM rustydb.stripe_rows('ts', $s_first)});
isnt($ret, 0, 'reading rows of a stripe whose row order is damaged fails');
like($stderr, qr/ERROR:\s+XX001: rustydb stripe at block $s_first of table "ts" is corrupted in its row order/,
	'XX001 naming the table and the stripe, for its row order');
like($stderr, qr/Chunk group 3 of the row order .* has checksum [0-9a-f]{16}, its directory entry says/,
	'the row order chunk checksum caught it');
is($primary->safe_psql('postgres', q{SELECT count(*) FROM rustydb.chunk_bounds('ts')}),
	'12', 'the stripe\'s directory and bounds still read');
check_log_clean($primary, 0, 'primary log: no PANIC or crash after a damaged row order');

# ---- damage the extent map of a mapped stripe ----
# Two flushed stripes merged into one (level_ratio 2) are given back by the
# next compaction; a larger flush then takes their pages and new blocks for
# the rest: a mapped stripe, whose extent map follows its header on its
# first page (stripe.h: RdbStripeMap, runs of {first, nblocks} after a
# count and a reserved word).  A damaged map is caught before any page is
# read through it.
$primary->safe_psql(
	'postgres', q{
CREATE TABLE mp (id int, v text) USING rustydb WITH (flush_rows = 0, level_ratio = 2);
CREATE FUNCTION flush_all(r regclass, want bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint := 0;
BEGIN
	FOR i IN 1 .. 100 LOOP
		n := n + rustydb.flush(r);
		EXIT WHEN n >= want;
		PERFORM pg_sleep(0.1);
	END LOOP;
	RETURN n;
END $$;
});
for my $r ([ 1, 4000 ], [ 4001, 8000 ])
{
	$primary->safe_psql('postgres',
		"INSERT INTO mp SELECT g, md5(g::text) || md5((g * 3)::text) FROM generate_series($r->[0], $r->[1]) g");
	is($primary->safe_psql('postgres', 'SELECT flush_all(\'mp\', 4000)'), '4000', "mp: rows $r->[0] to $r->[1] flushed");
}
# the larger flush's rows wait in L0 before the extents are free: an L0
# page that finds no room takes a free extent's block (l0_page.c)
$primary->safe_psql('postgres',
	"INSERT INTO mp SELECT g, md5(g::text) || md5((g * 3)::text) FROM generate_series(8001, 30000) g");
$primary->safe_psql('postgres', q{SELECT rustydb.compact('mp')});
$primary->safe_psql('postgres', q{SELECT rustydb.compact('mp')});
cmp_ok($primary->safe_psql('postgres', q{SELECT count(*) FROM rustydb.stripe_space('mp') WHERE kind = 'free'}),
	'>', 0, 'mp: compaction gave stripe pages back');
is($primary->safe_psql('postgres', q{SELECT flush_all('mp', 22000)}), '22000', 'mp: a larger flush');
my ($m_first, $m_runs, $m_run1) = split /\|/, $primary->safe_psql('postgres',
	q{SELECT stripe, count(*), min(first_block) FILTER (WHERE run = 1)
	    FROM rustydb.stripe_space('mp') WHERE kind = 'stripe' GROUP BY stripe HAVING count(*) > 1});
ok(defined $m_runs && $m_runs >= 2, "mp: the flush wrote a mapped stripe at block $m_first (" . ($m_runs // 0) . ' runs)');
my ($o_first) = $primary->safe_psql('postgres',
	qq{SELECT stripe FROM rustydb.stripe_space('mp') WHERE kind = 'stripe' AND stripe <> $m_first LIMIT 1});
my $want_o = $primary->safe_psql('postgres',
	qq{SELECT md5(string_agg(row_text, E'\n' ORDER BY row_text)) FROM rustydb.stripe_rows('mp', $o_first)});
my $mrelpath = $primary->safe_psql('postgres', q{SELECT pg_relation_filepath('mp')});
my $mfile = $primary->data_dir . "/$mrelpath";
$primary->stop;
# header 48 bytes, then nextents and a reserved word: run 1 starts 64 bytes in
is(unpack('V', read_bytes($mfile, $m_first * 8192 + 24 + 64, 4)), $m_run1,
	'mp: the map on the first page names run 1 where stripe_space says');
damage_bytes($mfile, $m_first * 8192 + 24 + 64, 4, 0xff);
$primary->start;
($ret, $stdout, $stderr) = $primary->psql('postgres',
	qq{\\set VERBOSITY verbose
	   SELECT count(*) FROM mp});
isnt($ret, 0, 'reading a table whose mapped stripe has a damaged map fails');
like($stderr, qr/ERROR:\s+XX001: rustydb stripe at block $m_first of table "mp" is corrupted/,
	'XX001 naming the table and the stripe');
like($stderr, qr/Run 1 of the stripe's extent map/, 'the map check caught it');
is($primary->safe_psql('postgres',
		qq{SELECT md5(string_agg(row_text, E'\n' ORDER BY row_text)) FROM rustydb.stripe_rows('mp', $o_first)}),
	$want_o, 'the other stripe of the table still reads back fine');
check_log_clean($primary, 0, 'primary log: no PANIC or crash after a damaged extent map');

# ---- the writer's flush reads only the pages its own rows went to ----
# With writer_flush_rows an INSERT moves its rows into stripes while it
# runs (flush.c: the blocks noted by rdb_flush_writer_note).  A page
# elsewhere in the table that cannot be read (its header damaged: the
# buffer manager's own page check fails) must not fail the INSERT, as it
# would if the writer's flush read the whole table.
$primary->safe_psql(
	'postgres', q{
CREATE TABLE wf (id int, v text) USING rustydb WITH (flush_rows = 0, writer_flush_rows = 1000);
INSERT INTO wf SELECT g, md5(g::text) || md5((g * 3)::text) FROM generate_series(1, 8000) g;
});
is($primary->safe_psql('postgres', q{SELECT count(*) >= 4 FROM rustydb.stripes('wf')}),
	't', 'wf: the first INSERT moved its rows itself, in several stripes');
my ($w_first, $w_nblocks) = split /\|/, $primary->safe_psql('postgres',
	q{SELECT first_block, nblocks FROM rustydb.stripes('wf') ORDER BY nblocks DESC, first_block LIMIT 1});
cmp_ok($w_nblocks, '>=', 2, "wf: stripe at block $w_first spans $w_nblocks pages");
my $w_rows = $primary->safe_psql('postgres', q{SELECT rows_flushed FROM rustydb.flush_history('wf')});
is($w_rows, '8000', 'wf: flush history counts its 8000 rows moved');
my $wrelpath = $primary->safe_psql('postgres', q{SELECT pg_relation_filepath('wf')});
my $wfile = $primary->data_dir . "/$wrelpath";
$primary->stop;
# pd_special (page header offset 16) beyond the page: PageIsVerified fails
my $w_blk = $w_first + $w_nblocks - 1;
damage_bytes($wfile, $w_blk * 8192 + 16, 2, 0xff);
$primary->start;
($ret, $stdout, $stderr) = $primary->psql('postgres', q{SELECT count(*) FROM wf});
isnt($ret, 0, 'wf: a full scan meets the damaged page');
like($stderr, qr/invalid page in block $w_blk of relation/, "wf: block $w_blk fails the page check");
($ret, $stdout, $stderr) = $primary->psql('postgres',
	q{INSERT INTO wf SELECT g, md5(g::text) FROM generate_series(8001, 13000) g});
is($ret, 0, 'wf: an INSERT whose writer flushes runs despite the damaged page elsewhere')
  or diag($stderr);
# (rustydb.stripes reads every page, so the flush history tells: it counts
# since the server started)
is($primary->safe_psql('postgres', q{SELECT rows_flushed FROM rustydb.flush_history('wf')}),
	'5000', 'wf: and its writer moved its 5000 rows into stripes');
check_log_clean($primary, 0, 'primary log: no PANIC or crash after the damaged page of wf');

# The background flush of wf meets the damaged page: it fails, and the
# worker looks at the table again after 10 s (then 20, 40 ... 600), not in
# every round, while the table's rows keep asking for a flush.
my $wf_oid = $primary->safe_psql('postgres', q{SELECT 'wf'::regclass::oid});
my $wlog = -s $primary->logfile;
$primary->safe_psql('postgres', q{ALTER TABLE wf SET (flush_rows = 100, writer_flush_rows = 0)});
$primary->safe_psql('postgres',
	q{INSERT INTO wf SELECT g, md5(g::text) FROM generate_series(13001, 13500) g});
my $failed_re = qr/background flush of table $wf_oid failed (\d+) time\(s\) in a row; the worker looks at it again in (\d+) s/;
my $t0 = time;
until (slurp_file($primary->logfile, $wlog) =~ $failed_re)
{
	die 'the background flush of wf did not fail within 60 s' if time - $t0 > 60;
	Time::HiRes::sleep(0.2);
}
pass('wf: the background flush failed on the damaged page');
# new commits keep waking the worker meanwhile
for my $i (1 .. 5)
{
	$primary->safe_psql('postgres',
		"INSERT INTO wf SELECT g, md5(g::text) FROM generate_series(13501 + $i * 200, 13700 + $i * 200) g");
	Time::HiRes::sleep(1);
}
my @fails = (slurp_file($primary->logfile, $wlog) =~ /$failed_re/g);
is(scalar(@fails) / 2, 1, 'wf: within the next 5 s the worker did not try it again');
is("$fails[0] $fails[1]", '1 10', 'wf: first failure, next look in 10 s');

# ---- a damaged directory entry: its offset count ----
# A retired generation's rows are described by its directory entry
# (gendir.h: phys, stripe, first, maxoff, nlive, two bitmaps; 92 bytes,
# from byte 24 of a leaf page).  maxoff bounds every loop over the entry's
# offsets: at 0xFFFF the readers wrote past a page built from it, or (a
# uint16 counter) looped for ever, uncancellable.  Every reader now checks
# it (XX001).
$primary->safe_psql(
	'postgres', q{
CREATE TABLE dl (id int PRIMARY KEY, v text) USING rustydb WITH (flush_rows = 0);
INSERT INTO dl SELECT g, md5(g::text) FROM generate_series(1, 6000) g;
});
is(rdb_flush_until($primary, 'dl', 6000), 6000, 'dl: flushed');
$primary->safe_psql('postgres', 'VACUUM dl');
my $drelpath = $primary->safe_psql('postgres', q{SELECT pg_relation_filepath('dl')});
my $dfile = $primary->data_dir . "/$drelpath";
$primary->stop;
my ($leaf, $entry);
for my $b (1 .. int((-s $dfile) / 8192) - 1)
{
	next unless unpack('v', read_bytes($dfile, $b * 8192 + 8188, 2)) == 6;
	for my $i (0 .. 87)
	{
		if (unpack('V', read_bytes($dfile, $b * 8192 + 24 + 92 * $i, 4)) == 0xFFFFFFFF
			&& unpack('v', read_bytes($dfile, $b * 8192 + 24 + 92 * $i + 14, 2)) > 0)
		{
			($leaf, $entry) = ($b, $i);
			last;
		}
	}
	last if defined $leaf;
}
ok(defined $leaf, 'dl: a directory leaf holds a retired generation with live rows'
	  . (defined $leaf ? " (block $leaf, entry $entry)" : ''));
# maxoff from its value to 0xFFFF (XOR with its own complement)
my $moff = $leaf * 8192 + 24 + 92 * $entry + 12;
my $mval = unpack('v', read_bytes($dfile, $moff, 2));
damage_bytes($dfile, $moff, 1, 0xff ^ ($mval & 0xff));
damage_bytes($dfile, $moff + 1, 1, 0xff ^ ($mval >> 8));
is(unpack('v', read_bytes($dfile, $moff, 2)), 65535, 'dl: the entry now claims 65535 offsets');
$primary->start;
for my $q (
	[ 'columnar scan', 'SELECT count(*) FROM dl' ],
	[ 'row scan', 'SET rustydb.enable_columnar_scan = off; SELECT count(*) FROM dl' ],
	[ 'UPDATE by a bitmap scan', 'SET enable_indexscan = off; SET enable_seqscan = off; UPDATE dl SET v = v WHERE id BETWEEN 1 AND 6000' ],
	[ 'VACUUM', 'VACUUM dl' ])
{
	my ($r, $o, $e) = $primary->psql('postgres', "SET statement_timeout = '60s'; \\set VERBOSITY verbose\n$q->[1]");
	isnt($r, 0, "dl: $q->[0] fails");
	like($e, qr/ERROR:\s+XX001: rustydb generation directory entry of generation \d+ is corrupted/,
		"dl: $q->[0]: XX001, the entry is named");
}
check_log_clean($primary, 0, 'primary log: no PANIC or crash after a damaged directory entry');

# ---- a damaged free-extent list in the metapage ----
# Free extents are blocks a stripe writes without reading them first; one
# that names blocks past the end of the file is refused (XX001) before
# anything is written through it.  The metapage's extent list: a count at
# byte 1672, extents of 12 bytes from 1680 (first, nblocks, xid).
$primary->safe_psql('postgres', q{
CREATE TABLE fx (id int, v text) USING rustydb WITH (flush_rows = 0);
INSERT INTO fx SELECT g, md5(g::text) FROM generate_series(1, 3000) g;
});
my $fx_before = $primary->safe_psql('postgres', q{SELECT count(*), md5(string_agg(v, ',' ORDER BY id)) FROM fx});
my $frelpath = $primary->safe_psql('postgres', q{SELECT pg_relation_filepath('fx')});
my $ffile = $primary->data_dir . "/$frelpath";
$primary->stop;
is(unpack('V', read_bytes($ffile, 1672, 4)), 0, 'fx: no free extent yet');
my $fnblocks = int((-s $ffile) / 8192);
open(my $fh, '+<', $ffile) or die "open $ffile: $!";
binmode $fh;
sysseek($fh, 1672, 0) or die;
syswrite($fh, pack('V', 1)) == 4 or die;
sysseek($fh, 1680, 0) or die;
syswrite($fh, pack('VVV', $fnblocks + 10, 100, 2)) == 12 or die;
close($fh);
$primary->start;
($ret, $stdout, $stderr) = $primary->psql('postgres',
	qq{\\set VERBOSITY verbose\nSELECT rustydb.flush('fx')});
isnt($ret, 0, 'fx: a flush through the damaged extent list fails');
like($stderr, qr/ERROR:\s+XX001: block 0 of relation "fx" is not a valid rustydb metapage/,
	'fx: XX001 for the metapage');
like($stderr, qr/Its free extent 1 names blocks/, 'fx: the extent is named');
$primary->safe_psql('postgres', 'CHECKPOINT');
is(-s $ffile, $fnblocks * 8192, 'fx: nothing was written past the end of the file');
is($primary->safe_psql('postgres', q{SELECT count(*), md5(string_agg(v, ',' ORDER BY id)) FROM fx}),
	$fx_before, 'fx: its rows still read back');
check_log_clean($primary, 0, 'primary log: no PANIC or crash after a damaged extent list');

# ---- a mapped stripe given back run by run is no stripe any more ----
# Compaction gives back the pages of a stripe nothing refers to run by run
# (a run that cannot join the metapage's full list of free extents waits
# for a later survey), so a mapped stripe's first page can outlive a run of
# it that another stripe has written since.  Nothing reads such a stripe's
# rows; the views that walk the file must pass over it, not report it
# corrupted (bench/steady.sh with writer_flush_rows = 1000 met it:
# rustydb.tables failed on every call while the table read fine).
# Simulated: the rows of a mapped stripe are deleted and vacuumed away,
# then the last page of its last run is made another stripe's (the special
# area's stripe field, 8 bytes from the page's end).
$primary->safe_psql(
	'postgres', q{
CREATE TABLE mg (id int, v text) USING rustydb WITH (flush_rows = 0, level_ratio = 2);
CREATE INDEX mg_id ON mg (id);
});
for my $r ([ 1, 4000 ], [ 4001, 8000 ])
{
	$primary->safe_psql('postgres',
		"INSERT INTO mg SELECT g, md5(g::text) || md5((g * 3)::text) FROM generate_series($r->[0], $r->[1]) g");
	is($primary->safe_psql('postgres', 'SELECT flush_all(\'mg\', 4000)'), '4000', "mg: rows $r->[0] to $r->[1] flushed");
}
$primary->safe_psql('postgres',
	"INSERT INTO mg SELECT g, md5(g::text) || md5((g * 3)::text) FROM generate_series(8001, 30000) g");
$primary->safe_psql('postgres', q{SELECT rustydb.compact('mg')});
$primary->safe_psql('postgres', q{SELECT rustydb.compact('mg')});
is($primary->safe_psql('postgres', q{SELECT flush_all('mg', 22000)}), '22000', 'mg: a larger flush');
# its last page: the end of its byte stream, where the chunk directory the
# views read lies
my ($g_first, $g_runs, $g_run1) = split /\|/, $primary->safe_psql('postgres',
	q{SELECT stripe, count(*), max(first_block + blocks - 1) FILTER (WHERE run > 0)
	    FROM rustydb.stripe_space('mg') WHERE kind = 'stripe' GROUP BY stripe HAVING count(*) > 1});
ok(defined $g_runs && $g_runs >= 2, "mg: the flush wrote a mapped stripe at block $g_first (" . ($g_runs // 0) . ' runs)');
$primary->safe_psql('postgres', q{DELETE FROM mg WHERE id > 8000});
$primary->safe_psql('postgres', q{VACUUM mg});
is($primary->safe_psql('postgres',
		qq{SELECT nrows = deleted_rows FROM rustydb.stripes('mg') WHERE first_block = $g_first}),
	't', 'mg: no row refers to the mapped stripe any more');
my ($g_other) = $primary->safe_psql('postgres',
	qq{SELECT first_block FROM rustydb.stripes('mg') WHERE first_block <> $g_first LIMIT 1});
my $g_want = $primary->safe_psql('postgres', q{SELECT count(*), md5(string_agg(v, ',' ORDER BY id)) FROM mg});
my $grelpath = $primary->safe_psql('postgres', q{SELECT pg_relation_filepath('mg')});
my $gfile = $primary->data_dir . "/$grelpath";
$primary->stop;
is(unpack('V', read_bytes($gfile, $g_run1 * 8192 + 8184, 4)), $g_first,
	'mg: the last page of its last run names the mapped stripe');
{
	open(my $gh, '+<', $gfile) or die "open $gfile: $!";
	binmode $gh;
	sysseek($gh, $g_run1 * 8192 + 8184, 0) or die;
	syswrite($gh, pack('V', $g_other)) == 4 or die;
	close($gh);
}
$primary->start;
($ret, $stdout, $stderr) = $primary->psql('postgres',
	qq{SELECT count(*) FILTER (WHERE first_block = $g_first), count(*) FROM rustydb.stripes('mg')});
is($ret, 0, 'mg: rustydb.stripes reads the table') or diag($stderr);
like($stdout, qr/^0\|[1-9]/, 'mg: and lists the other stripes, not the one given back in part');
is($primary->safe_psql('postgres',
		q{SELECT stripes_per_level IS NOT NULL FROM rustydb.tables WHERE relation = 'mg'::regclass}),
	't', 'mg: rustydb.tables too');
is($primary->safe_psql('postgres', q{SELECT count(*) > 0 FROM rustydb.column_stats('mg')}),
	't', 'mg: and rustydb.column_stats');
is($primary->safe_psql('postgres', q{SELECT count(*), md5(string_agg(v, ',' ORDER BY id)) FROM mg}),
	$g_want, 'mg: its rows read back as before');
$primary->safe_psql('postgres', q{SELECT rustydb.compact('mg')});
is($primary->safe_psql('postgres',
		qq{SELECT count(*) FROM rustydb.stripe_space('mg') WHERE kind = 'stripe' AND stripe = $g_first}),
	'0', 'mg: the next compaction gives the rest of it back');
check_log_clean($primary, 0, 'primary log: no PANIC or crash after a stripe given back in part');

$standby->stop;
$primary->stop;
done_testing();
