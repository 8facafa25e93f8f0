
# t/020_dirty_snapshot_logrep.pl
#	Non-MVCC snapshots see tuples one at a time (issue 7, item 4).
#
# The logical replication apply worker finds the target row of an UPDATE on
# a REPLICA IDENTITY FULL table without an index by a sequential scan with
# SnapshotDirty (RelationFindReplTupleSeq), and after each row it reads
# snapshot->xmin/xmax to see whether that row's inserter or deleter is still
# running.  With page-at-a-time visibility those fields described the last
# row of the page instead, so an unrelated, uncommitted local insert on the
# same page made the worker wait for that local transaction.  Heap checks
# visibility tuple by tuple for non-MVCC snapshots; so must the AM.

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

my $pub = rdb_node('pub',
	conf => "wal_level = logical\nmax_wal_senders = 5\nmax_replication_slots = 5\nautovacuum = off\n");
$pub->start;
my $sub = rdb_node('sub', conf => "autovacuum = off\n");
$sub->start;
rdb_create_extension($pub);
rdb_create_extension($sub);

# The publisher's table is heap's: what matters is the subscriber's scan
# (t/030_logical_replication.pl covers rustydb publishers).
$pub->safe_psql('postgres',
	"CREATE TABLE t (id int, v text) USING heap;
	 ALTER TABLE t REPLICA IDENTITY FULL;");
$sub->safe_psql('postgres',
	"CREATE TABLE t (id int, v text) USING $am;
	 ALTER TABLE t REPLICA IDENTITY FULL;");
$pub->safe_psql('postgres',
	"INSERT INTO t VALUES (1, 'a');
	 CREATE PUBLICATION p FOR TABLE t;");
my $connstr = $pub->connstr . ' dbname=postgres';
$sub->safe_psql('postgres',
	"CREATE SUBSCRIPTION s CONNECTION '$connstr' PUBLICATION p");
$sub->wait_for_subscription_sync($pub, 's');
is($sub->safe_psql('postgres', 'SELECT v FROM t'), 'a', 'initial sync');

# An uncommitted local row on the same page, after the row to be updated.
# (VACUUM records the page's free space, so that the new session's insert
# goes there whatever the AM does without the free space map.)
$sub->safe_psql('postgres', 'VACUUM t');
my $local = $sub->background_psql('postgres');
$local->query_safe("BEGIN; INSERT INTO t VALUES (2, 'local uncommitted');");
is( $local->query_safe(
		"SELECT count(DISTINCT (ctid::text::point)[0]) FROM t"),
	'1', 'both rows on one page');

$pub->safe_psql('postgres', "UPDATE t SET v = 'b' WHERE id = 1");

# The update must arrive while the local transaction is still open.  Poll
# for a while (not the full default timeout: a worker waiting on the local
# transaction would wait forever).
my $arrived = 0;
for (1 .. 300)
{
	if ($sub->safe_psql('postgres', 'SELECT v FROM t WHERE id = 1') eq 'b')
	{
		$arrived = 1;
		last;
	}
	select(undef, undef, undef, 0.1);
}
ok($arrived, 'update applied while an unrelated local transaction is open');
is( $sub->safe_psql('postgres',
		"SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
		 WHERE NOT l.granted AND a.backend_type = 'logical replication worker'"),
	'0',
	'apply worker waits on no lock');

$local->query_safe('COMMIT');
$local->quit;

# Afterwards both rows are there and the update stuck.
$pub->safe_psql('postgres', "DELETE FROM t WHERE id = 1");
$pub->wait_for_catchup('s');
is($sub->safe_psql('postgres', 'SELECT id, v FROM t ORDER BY id'),
	'2|local uncommitted', 'delete replicated, local row kept');

check_log_clean($sub, 0, 'subscriber log has no crash');
$sub->stop;
$pub->stop;
done_testing();
