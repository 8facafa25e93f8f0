
# t/022_vacuum_report_parallel_failsafe.pl
#	VACUUM behaves like heap's (issue 7, items 3 and 10):
#	  * autovacuum runs are logged under log_autovacuum_min_duration in
#	    heap's format ("automatic vacuum of table ...");
#	  * VACUUM (PARALLEL n) vacuums the indexes in parallel workers;
#	  * the wraparound failsafe (vacuum_failsafe_age) bypasses index
#	    vacuuming when relfrozenxid is too old.

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

# autovacuum_freeze_max_age at its minimum makes the failsafe threshold
# Max(vacuum_failsafe_age, 1.05 * autovacuum_freeze_max_age) = 105000 xids.
my $node = rdb_node(
	'node',
	conf => "log_autovacuum_min_duration = 0\n"
	  . "autovacuum_naptime = 1\n"
	  . "autovacuum_freeze_max_age = 100000\n"
	  . "vacuum_failsafe_age = 0\n"
	  . "synchronous_commit = off\n"
	  . "max_worker_processes = 16\n");
$node->start;
rdb_create_extension($node);

# ---------------------------------------------------------------------------
# autovacuum is logged
# ---------------------------------------------------------------------------
my $offset = log_size($node);
$node->safe_psql('postgres',
	"CREATE TABLE av (id int, pad text) USING $am
	   WITH (autovacuum_vacuum_threshold = 10, autovacuum_vacuum_scale_factor = 0,
	         autovacuum_analyze_threshold = 1000000000);
	 CREATE INDEX av_id ON av (id);
	 BEGIN;
	 INSERT INTO av SELECT g, repeat('a', 50) FROM generate_series(1, 1000) g;
	 DELETE FROM av WHERE id % 2 = 0;
	 COMMIT;");
ok( $node->wait_for_log(
		qr/LOG:  automatic (aggressive )?vacuum (to prevent wraparound )?of table "postgres\.public\.av": index scans: \d+\n\s*pages: \d+ removed, \d+ remain, \d+ scanned/,
		$offset),
	'autovacuum run logged in heap\'s format');
like(slurp_file($node->logfile, $offset),
	qr/tuples: 500 removed, 500 remain, 0 are dead but not yet removable/,
	'autovacuum log reports the removed and remaining rows');

# ---------------------------------------------------------------------------
# VACUUM (PARALLEL 2) uses parallel workers for the indexes
# ---------------------------------------------------------------------------
$node->safe_psql('postgres',
	"CREATE TABLE pv (a int, b int, c int) USING $am WITH (autovacuum_enabled = false);
	 INSERT INTO pv SELECT g, g, g FROM generate_series(1, 20000) g;
	 CREATE INDEX pv_a ON pv (a);
	 CREATE INDEX pv_b ON pv (b);
	 CREATE INDEX pv_c ON pv (c);
	 DELETE FROM pv WHERE a % 3 = 0;");
my ($stdout, $stderr);
$node->psql('postgres',
	"SET min_parallel_index_scan_size = 0;
	 VACUUM (PARALLEL 2, VERBOSE) pv;",
	stdout => \$stdout, stderr => \$stderr, on_error_die => 1);
like($stderr,
	qr/launched [12] parallel vacuum workers? for index vacuuming \(planned: 2\)/,
	'index vacuuming ran in parallel workers');
is( $node->safe_psql('postgres',
		"SET enable_seqscan = off; SET enable_bitmapscan = off;
		 SELECT count(*) FROM pv WHERE a > 0;
		 SELECT count(*) FROM pv WHERE b > 0;
		 SELECT count(*) FROM pv WHERE c > 0;"),
	"13334\n13334\n13334",
	'every index lost the entries of the deleted rows');
is($node->safe_psql('postgres', "SELECT reltuples FROM pg_class WHERE relname = 'pv'"),
	'13334', 'reltuples after parallel vacuum');

# ---------------------------------------------------------------------------
# the wraparound failsafe
# ---------------------------------------------------------------------------
$node->safe_psql('postgres',
	"CREATE TABLE fs (id int, pad text) USING $am WITH (autovacuum_enabled = false);
	 CREATE INDEX fs_id ON fs (id);
	 INSERT INTO fs SELECT g, repeat('f', 50) FROM generate_series(1, 1000) g;
	 DELETE FROM fs WHERE id <= 100;");

# An open transaction with an xid keeps every vacuum from advancing
# relfrozenxid past it while we burn through 110000 xids, so that the table
# is certainly past the failsafe age afterwards.
my $holder = $node->background_psql('postgres');
$holder->query_safe("BEGIN; SELECT pg_current_xact_id();");
$node->safe_psql('postgres',
	"DO \$\$ BEGIN FOR i IN 1 .. 110000 LOOP PERFORM pg_current_xact_id(); COMMIT; END LOOP; END \$\$;");
cmp_ok($node->safe_psql('postgres', "SELECT age(relfrozenxid) FROM pg_class WHERE relname = 'fs'"),
	'>', 105000, 'relfrozenxid is past the failsafe age');

$node->psql('postgres', "VACUUM (VERBOSE) fs;",
	stdout => \$stdout, stderr => \$stderr, on_error_die => 1);
like($stderr,
	qr/WARNING:  bypassing nonessential maintenance of table "postgres\.public\.fs" as a failsafe after 0 index scans/,
	'failsafe triggered');
$holder->query_safe("COMMIT;");
$holder->quit;

# the dead rows' index entries are still there, but scans do not return them
is( $node->safe_psql('postgres',
		"SET enable_seqscan = off; SELECT count(*) FROM fs WHERE id > 0"),
	'900', 'index scan after the failsafe vacuum');
# a vacuum without the held-back xmin freezes and leaves the failsafe behind
$node->safe_psql('postgres', "VACUUM (FREEZE) fs");
cmp_ok($node->safe_psql('postgres', "SELECT age(relfrozenxid) FROM pg_class WHERE relname = 'fs'"),
	'<', 1000, 'VACUUM FREEZE advanced relfrozenxid');
is( $node->safe_psql('postgres',
		"SET enable_seqscan = off; SELECT count(*) FROM fs WHERE id > 0"),
	'900', 'index scan after the final vacuum');

check_log_clean($node, 0, 'server log has no crash');
$node->stop;
done_testing();
