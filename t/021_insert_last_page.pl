
# t/021_insert_last_page.pl
#	Inserts fill the last page when the free space map has nothing
#	(issue 7, item 5).
#
# Only VACUUM fills the free space map, and the block an insert last used is
# cached in the relation's smgr entry, which every new session and every
# relcache invalidation (GRANT, ANALYZE, ...) loses.  heap's hio.c then tries
# the relation's last page before extending it; without that, each one-row
# session started a new page (200 sessions, 201 pages).

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

my $node = rdb_node('node', conf => "autovacuum = off\n");
$node->start;
rdb_create_extension($node);

# heap needs one page; rustydb one more, its metapage
my $max_pages = ($am eq 'heap') ? 1 : 2;

# (200 rows of one int column fit on one page: 200 * 36 bytes < 8 kB)
$node->safe_psql('postgres', "CREATE TABLE s (id int, v text) USING $am");
for my $i (1 .. 200)
{
	$node->safe_psql('postgres', "INSERT INTO s VALUES ($i, NULL)");
}
my $pages = $node->safe_psql('postgres',
	"SELECT pg_relation_size('s') / current_setting('block_size')::int");
cmp_ok($pages, '<=', $max_pages, "200 one-row sessions: $pages pages");

# relcache invalidations within one session (GRANT between inserts)
$node->safe_psql('postgres', "CREATE TABLE g (id int, v text) USING $am");
my $script = '';
for my $i (1 .. 100)
{
	$script .= "INSERT INTO g VALUES ($i, NULL);\n";
	$script .= "GRANT SELECT ON g TO public;\n";
}
$node->safe_psql('postgres', $script);
$pages = $node->safe_psql('postgres',
	"SELECT pg_relation_size('g') / current_setting('block_size')::int");
cmp_ok($pages, '<=', $max_pages, "100 inserts with invalidations: $pages pages");

is( $node->safe_psql('postgres',
		"SELECT (SELECT count(*) FROM s) || ' ' || (SELECT count(*) FROM g)"),
	'200 100', 'every row is there');

# a full last page is not reused: the table grows as it must
$node->safe_psql('postgres',
	"INSERT INTO s SELECT g, repeat('x', 200) FROM generate_series(1, 200) g");
for my $i (1 .. 20)
{
	$node->safe_psql('postgres', "INSERT INTO s VALUES ($i, repeat('y', 200))");
}
is($node->safe_psql('postgres', "SELECT count(*) FROM s"), '420',
	'inserts past a full last page');

check_log_clean($node, 0, 'server log has no crash');
$node->stop;
done_testing();
