
# t/023_block_limits.pl
#	Very large tables, without writing them: main forks made of sparse
#	1 GB segment files (truncate(2) beyond the end) on a throwaway cluster.
#
#	* VACUUM's dead-TID array is sized like heap's dead_items_max_items
#	  (issue 7, item 7): rel_pages * MaxHeapTuplesPerPage overflowed 32 bits
#	  above ~14.7 million pages, giving absurdly small (or huge) arrays.
#	  14,759,364 pages * 291 = 2^32 + 7628: the old code allowed 7628 TIDs.
#	* A rustydb table cannot grow past block 2^31 (item 8): TIDs of rows
#	  there would fall into the generations reserved for reused pages, and
#	  index scans could not find them.  The table is extended to exactly
#	  2^31 blocks; its last page (block 2^31 - 1) still takes rows, and the
#	  next extension fails with SQLSTATE 54000 naming the table.
#
# Nothing here may read the whole table: 16 TB of zeroes.  Only TID and
# index lookups touch it, autovacuum is off, and VACUUM is cancelled as soon
# as it has reported its array size.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RustydbTest;

my $am = test_am();
note "table access method under test: $am";

my $node = rdb_node('node', conf => "autovacuum = off\nmaintenance_work_mem = '64MB'\n");
$node->start;
rdb_create_extension($node);

my $blcksz = $node->safe_psql('postgres', "SELECT current_setting('block_size')");
my $segblocks = $node->safe_psql('postgres',
	"SELECT setting FROM pg_settings WHERE name = 'segment_size'");
note "block size $blcksz, $segblocks blocks per segment";

# Make the fork at $path (relative to the data directory) $nblocks blocks
# long: every segment file is extended, sparsely, to its full size.  The
# server must be stopped.
sub sparse_extend
{
	my ($path, $nblocks) = @_;
	my $full = int($nblocks / $segblocks);
	my $rest = $nblocks % $segblocks;

	for my $seg (0 .. $full + ($rest ? 0 : -1))
	{
		my $file = $node->data_dir . '/' . $path . ($seg ? ".$seg" : '');
		my $blocks = ($seg < $full) ? $segblocks : $rest;
		open(my $fh, '+>>', $file) or die "could not open $file: $!";
		truncate($fh, $blocks * $blcksz) or die "could not extend $file: $!";
		close($fh);
	}
	return;
}

# ---------------------------------------------------------------------------
# item 7: dead-TID array size of a 14,759,364-page table
# ---------------------------------------------------------------------------
$node->safe_psql('postgres',
	"CREATE TABLE d (id int) USING $am;
	 CREATE INDEX d_id ON d (id);");
my $d_path = $node->safe_psql('postgres', "SELECT pg_relation_filepath('d')");
$node->stop;
sparse_extend($d_path, 14_759_364);
$node->start;
is($node->safe_psql('postgres', "SELECT pg_relation_size('d') / $blcksz"),
	'14759364', 'sparse table of 14,759,364 pages');

my $vac = $node->background_psql('postgres', on_error_stop => 0);
$vac->query_until(qr/started/, "\\echo started\nVACUUM d;\n");
my $max_dead = '';
for (1 .. 600)
{
	$max_dead = $node->safe_psql('postgres',
		"SELECT max_dead_tuples FROM pg_stat_progress_vacuum
		  WHERE relid = 'd'::regclass AND phase <> 'initializing'");
	last if $max_dead ne '';
	select(undef, undef, undef, 0.1);
}
$node->safe_psql('postgres',
	"SELECT pg_cancel_backend(pid) FROM pg_stat_progress_vacuum WHERE relid = 'd'::regclass");
$vac->quit;
# MAXDEADITEMS(64 MB) = (64 MB - 8 bytes of header) / 6 bytes per TID
is($max_dead, '11184809', 'dead-TID array sized from maintenance_work_mem');

$node->safe_psql('postgres', "DROP TABLE d");

# ---------------------------------------------------------------------------
# item 8: no block at or beyond 2^31
# ---------------------------------------------------------------------------
SKIP:
{
	skip 'the 2^31-block limit is rustydb\'s (heap addresses 2^32 - 1 blocks)', 6
	  if $am eq 'heap';

	$node->safe_psql('postgres',
		"CREATE TABLE big (id int, pad text) USING $am;
		 ALTER TABLE big ALTER COLUMN pad SET STORAGE PLAIN;
		 CREATE INDEX big_id ON big (id);");
	my $path = $node->safe_psql('postgres', "SELECT pg_relation_filepath('big')");
	$node->stop;
	sparse_extend($path, 2**31);
	# The free space map addresses block 2^31 - 1 from its page ~527,900;
	# make that fork sparse too rather than have the server write 4 GB of
	# empty FSM pages.
	sparse_extend($path . '_fsm', 5 * $segblocks);
	$node->start;
	is($node->safe_psql('postgres', "SELECT pg_relation_size('big') / $blcksz"),
		'2147483648', 'sparse table of 2^31 pages');

	# the last page is all zeroes: the first row goes there
	$node->safe_psql('postgres', "INSERT INTO big VALUES (1, repeat('a', 4000))");
	is( $node->safe_psql('postgres',
			"SET enable_seqscan = off; SELECT ctid, id FROM big WHERE id = 1"),
		'(2147483647,1)|1', 'a row on block 2^31 - 1, found through the index');

	my ($ret, $stdout, $stderr) = $node->psql('postgres',
		"\\set VERBOSITY verbose\nINSERT INTO big VALUES (2, repeat('b', 5000))");
	isnt($ret, 0, 'no room left: the insert fails');
	like($stderr, qr/ERROR:  54000: cannot extend rustydb table "big" beyond 2147483648 blocks/,
		'program limit exceeded, naming the table');
	is($node->safe_psql('postgres', "SELECT pg_relation_size('big') / $blcksz"),
		'2147483648', 'the table did not grow');

	# rows that fit on the last page are still accepted
	$node->safe_psql('postgres', "INSERT INTO big VALUES (3, repeat('c', 100))");
	is( $node->safe_psql('postgres',
			"SET enable_seqscan = off; SELECT string_agg(ctid::text || ':' || id, ' ' ORDER BY id) FROM big WHERE id > 0"),
		'(2147483647,1):1 (2147483647,2):3', 'rows on the last page');

	$node->safe_psql('postgres', "DROP TABLE big");
}

check_log_clean($node, 0, 'server log has no crash');
$node->stop;
done_testing();
