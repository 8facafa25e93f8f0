# t/031_citus.pl
#	Citus operations that copy shards through logical replication keep
#	every write made to a distributed rustydb table meanwhile.
#
#	A coordinator and two workers (citus + rustydb_am preloaded, wal_level =
#	logical).  A writer runs INSERT / UPDATE / DELETE / ON CONFLICT
#	transactions against distributed tables USING rustydb and, in the same
#	transactions, against local heap twins on the coordinator, while
#	  - citus_move_shard_placement moves shards in the default transfer mode
#	    (logical replication from the source to the target worker), and
#	  - create_distributed_table_concurrently distributes a second table
#	    (logical replication through the 'citus' output plugin).
#	Afterwards each distributed table equals its heap twin.  Before the
#	rustydb rmgr could be decoded, the moves reported success and lost the
#	writes made during the copy.
#
#	Skips, saying so, when the citus extension is not installed (it is third
#	party code: scripts/setup.sh builds it only from a local tarball given in
#	RDB_CITUS_TARBALL, or ../shared/vendor/citus-*.tar.gz when present).

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use Time::HiRes qw(sleep time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RustydbTest;

my $am = test_am();
my $sharedir = `pg_config --sharedir`;
my $pkglibdir = `pg_config --pkglibdir`;
chomp($sharedir, $pkglibdir);
if (!-f "$sharedir/extension/citus.control" || !-f "$pkglibdir/citus.so")
{
	plan skip_all => 'citus is not installed (build it with '
	  . '../shared/tools/build_citus.sh ../shared/vendor/citus-13.2.2.tar.gz)';
}
note "table access method under test: $am";
my $secs = $ENV{RDB_CITUS_SECONDS} || 25;

my $preload = uses_extension() ? 'citus,rustydb_am' : 'citus';
my @nodes;
for my $name (qw(coordinator worker1 worker2))
{
	my $node = rdb_node(
		$name,
		allows_streaming => 'logical',
		conf => "shared_preload_libraries = '$preload'\n"
		  . "max_connections = 100\n"
		  . "max_worker_processes = 32\n"
		  . "max_replication_slots = 16\nmax_wal_senders = 16\n"
		  . "max_prepared_transactions = 20\n"
		  . "output_plugin_libraries = 'pgoutput, test_decoding, citus'\n"
		  . "citus.shard_replication_factor = 1\n"
		  . "citus.shard_count = 4\n"
		  . "citus.enable_statistics_collection = off\n"
		  # the nodes listen on unix sockets only; Citus connects to its own
		  # node (shard moves, logical replication) through local_hostname
		  . "citus.local_hostname = '" . $PostgreSQL::Test::Cluster::test_pghost . "'\n");
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION citus');
	rdb_create_extension($node);
	push @nodes, $node;
}
my ($coord, $w1, $w2) = @nodes;

$coord->safe_psql('postgres',
	"SELECT citus_set_coordinator_host('" . $coord->host . "', " . $coord->port . ")");
for my $w ($w1, $w2)
{
	$coord->safe_psql('postgres',
		"SELECT citus_add_node('" . $w->host . "', " . $w->port . ")");
}
is($coord->safe_psql('postgres', 'SELECT count(*) FROM citus_get_active_worker_nodes()'),
	'2', 'two workers in the cluster');

$coord->safe_psql('postgres', qq{
	CREATE TABLE d (id bigint PRIMARY KEY, v int, note text) USING $am;
	SELECT create_distributed_table('d', 'id');
	CREATE TABLE d_twin (id bigint PRIMARY KEY, v int, note text) USING heap;
	INSERT INTO d SELECT g, g, 'initial' FROM generate_series(1, 2000) g;
	INSERT INTO d_twin SELECT g, g, 'initial' FROM generate_series(1, 2000) g;

	CREATE TABLE c (id bigint PRIMARY KEY, v int, note text) USING $am;
	CREATE TABLE c_twin (id bigint PRIMARY KEY, v int, note text) USING heap;
	INSERT INTO c SELECT g, g, 'initial' FROM generate_series(1, 2000) g;
	INSERT INTO c_twin SELECT g, g, 'initial' FROM generate_series(1, 2000) g;
});
# Citus hides shards from pg_class for applications other than its own
my $show = q{SET citus.show_shards_for_app_name_prefixes = '*'; };
is( $w1->safe_psql('postgres',
		$show . q{SELECT string_agg(DISTINCT a.amname, ',') FROM pg_class r JOIN pg_am a ON a.oid = r.relam WHERE r.relname ~ '^d_[0-9]+$'})
	  . '/'
	  . $w2->safe_psql('postgres',
		$show . q{SELECT string_agg(DISTINCT a.amname, ',') FROM pg_class r JOIN pg_am a ON a.oid = r.relam WHERE r.relname ~ '^d_[0-9]+$'}),
	"$am/$am", "shards on both workers use $am");

# The writer: every transaction changes the distributed table and its twin
# the same way.
my $dir = PostgreSQL::Test::Utils::tempdir();
my $script = "$dir/writer.sql";
PostgreSQL::Test::Utils::append_to_file($script, q{
\set id random(1, 4000)
\set v random(1, 1000000)
BEGIN;
INSERT INTO d VALUES (:id, :v, 'w') ON CONFLICT (id) DO UPDATE SET v = excluded.v, note = 'upsert';
INSERT INTO d_twin VALUES (:id, :v, 'w') ON CONFLICT (id) DO UPDATE SET v = excluded.v, note = 'upsert';
UPDATE d SET v = v + 1, note = 'upd' WHERE id = (:id * 7) % 4000;
UPDATE d_twin SET v = v + 1, note = 'upd' WHERE id = (:id * 7) % 4000;
DELETE FROM d WHERE id = (:id * 13) % 4000;
DELETE FROM d_twin WHERE id = (:id * 13) % 4000;
INSERT INTO c VALUES (:id, :v, 'w') ON CONFLICT (id) DO UPDATE SET v = excluded.v;
INSERT INTO c_twin VALUES (:id, :v, 'w') ON CONFLICT (id) DO UPDATE SET v = excluded.v;
UPDATE c SET note = 'upd' || :v WHERE id = (:id * 3) % 4000;
UPDATE c_twin SET note = 'upd' || :v WHERE id = (:id * 3) % 4000;
DELETE FROM c WHERE id = (:id * 11) % 4000;
DELETE FROM c_twin WHERE id = (:id * 11) % 4000;
END;
});

my ($out, $err) = ('', '');
my $writer = IPC::Run::start(
	[
		'pgbench', '-n', '-c', '1', '-T', $secs, '-f', $script,
		'-h', $coord->host, '-p', $coord->port, 'postgres'
	],
	'>', \$out, '2>', \$err);
sleep(2);

# Move every shard of d from one worker to the other, in the default mode.
my $moves = $coord->safe_psql('postgres', qq{
	SELECT s.shardid, p.nodename, p.nodeport
	  FROM pg_dist_shard s JOIN pg_dist_shard_placement p USING (shardid)
	 WHERE s.logicalrelid = 'd'::regclass ORDER BY s.shardid});
my $nmoved = 0;
for my $line (split /\n/, $moves)
{
	my ($shardid, $host, $port) = split /\|/, $line;
	my $target = $port == $w1->port ? $w2 : $w1;
	my ($ret, $o, $e) = $coord->psql('postgres',
		"SELECT citus_move_shard_placement($shardid, '$host', $port, '"
		  . $target->host . "', " . $target->port . ")");
	if ($ret == 0) { $nmoved++ }
	else { diag("move of shard $shardid failed: $e") }
}
is($nmoved, 4, 'citus_move_shard_placement moved all 4 shards of d while the writer ran');

my ($ret, $o, $e) = $coord->psql('postgres',
	"SELECT create_distributed_table_concurrently('c', 'id')");
is($ret, 0, 'create_distributed_table_concurrently distributed c while the writer ran')
  or diag($e);

$writer->finish;
my ($ntx) = $out =~ /number of transactions actually processed: (\d+)/;
my ($nfailed) = $out =~ /number of failed transactions: (\d+)/;
ok(($ntx // 0) > 0 && ($nfailed // 0) == 0,
	'the writer committed ' . ($ntx // '?') . ' transactions without failures')
  or diag("$out\n$err");

# the rows of table $t and of its twin that differ
sub diff_rows
{
	my ($t) = @_;
	my %rows;
	for my $side ($t, "${t}_twin")
	{
		for my $line (split /\n/,
			$coord->safe_psql('postgres', "SELECT id, v || '/' || note FROM $side"))
		{
			my ($id, $val) = split /\|/, $line;
			$rows{$id}{$side} = $val;
		}
	}
	my @diff;
	for my $id (sort { $a <=> $b } keys %rows)
	{
		my ($x, $y) = ($rows{$id}{$t} // '-', $rows{$id}{"${t}_twin"} // '-');
		push @diff, "$id: $x / $y" if $x ne $y;
	}
	return join('; ', @diff);
}

for my $t (qw(d c))
{
	my $q = "SELECT count(*), md5(string_agg(id || ':' || v || ':' || note, ',' ORDER BY id)) FROM";
	my $twin = $coord->safe_psql('postgres', "$q ${t}_twin");
	my ($n) = split /\|/, $twin;
	is($coord->safe_psql('postgres', "$q $t"), $twin,
		"distributed $t equals its heap twin ($n rows)")
	  or diag("rows that differ (id: distributed table / twin): " . diff_rows($t));
}
is($coord->safe_psql('postgres',
		"SELECT partmethod FROM pg_dist_partition WHERE logicalrelid = 'c'::regclass"),
	'h', 'c is hash-distributed');

# Citus stops the subscriptions of finished moves and splits
check_log_clean($_, 0, $_->name . ' log shows no problem',
	[qr/terminating logical replication worker due to administrator command/])
  for @nodes;

done_testing();
