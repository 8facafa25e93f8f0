
# t/006_not_preloaded.pl
#	rustydb_am loaded without shared_preload_libraries: every way into
#	rustydb storage fails with OBJECT_NOT_IN_PREREQUISITE_STATE (55000) and a
#	hint naming the setting, nothing is written, and heap tables are
#	unaffected.  Then the same cluster is restarted with the library
#	preloaded, and the table created there works.
#
# Usage: run through t/run_tap.sh.  Only meaningful for rustydb: with
# RDB_TEST_AM=heap it is skipped (heap needs no preloading).

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RustydbTest;

if (test_am() ne 'rustydb')
{
	plan skip_all => 'only the rustydb access method needs preloading';
}

my $node = PostgreSQL::Test::Cluster->new('nopreload');
$node->init(extra => ['--data-checksums']);
$node->append_conf('postgresql.conf', "search_path = 'public'\n");
$node->start;

# CREATE EXTENSION works (it only creates catalog entries) ...
$node->safe_psql('postgres', 'CREATE EXTENSION rustydb_am');

# ... but creating a rustydb table must not.
my ($ret, $out, $err) = $node->psql('postgres',
	'\set VERBOSITY verbose' . "\n" . 'CREATE TABLE t (id int) USING rustydb');
isnt($ret, 0, 'CREATE TABLE USING rustydb fails without preloading');
like($err, qr/55000/, 'errcode is object_not_in_prerequisite_state');
like($err, qr/shared_preload_libraries/, 'message names shared_preload_libraries');

($ret, $out, $err) = $node->psql('postgres',
	"SET default_table_access_method = rustydb; CREATE TABLE t2 (id int)");
isnt($ret, 0, 'default_table_access_method = rustydb fails too');

is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_class WHERE relname IN ('t', 't2')"),
	'0', 'no relation was left behind');

# heap keeps working in the same database
$node->safe_psql('postgres',
	'CREATE TABLE h (id int); INSERT INTO h SELECT generate_series(1, 10)');
is($node->safe_psql('postgres', 'SELECT sum(id) FROM h'), '55',
	'heap tables are unaffected');

# with the library preloaded the same database can use rustydb
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'rustydb_am'\n");
$node->restart;
$node->safe_psql('postgres',
	'CREATE TABLE t (id int) USING rustydb; INSERT INTO t SELECT generate_series(1, 10)');
is($node->safe_psql('postgres', 'SELECT sum(id) FROM t'), '55',
	'after preloading, rustydb tables work');

$node->stop;
done_testing();
