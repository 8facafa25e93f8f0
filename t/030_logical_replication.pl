# t/030_logical_replication.pl
#	Logical replication of rustydb tables under a concurrent workload, in
#	both directions, with a streaming standby of the publisher checking
#	every rustydb record at wal_level = logical.
#
#	publisher (wal_level = logical, wal_consistency_checking 'all,rustydb')
#	  r_acct  AM under test, primary key          -> subscriber: AM under test
#	  r_ev    AM under test, REPLICA IDENTITY FULL -> subscriber: heap
#	  r_big   AM under test, primary key, TOASTed -> subscriber: AM under test
#	  h_acct  heap, primary key                   -> subscriber: AM under test
#	  h_ev    heap, REPLICA IDENTITY FULL         -> subscriber: AM under test
#	  (the subscriber's apply worker finds rows to update and delete through
#	  the primary key index, or by a sequential scan for REPLICA IDENTITY
#	  FULL tables without an index, both with a dirty snapshot; the
#	  subscriber's rustydb tables are flushed after the initial sync, so
#	  that it finds flushed rows)
#	standby: streams from the publisher and replays everything.
#
#	pgbench runs single-row INSERT / UPDATE / DELETE / ON CONFLICT, COPY
#	batches and TOAST-sized updates on the publisher for a while; then the
#	subscriber and the standby must hold exactly the publisher's rows, the
#	subscription must report no error, and no server log may show a problem.
#	Before logical decoding of the rustydb rmgr existed, the initial copy
#	arrived and every later change to r_* was silently lost.
#
#	The last part checks what the rmgr logs for decoding: at wal_level =
#	logical the records carry the new tuple and the old key (flags in
#	pg_walinspect's description), below logical they carry nothing extra.

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
my $secs = $ENV{RDB_LOGREP_SECONDS} || 20;

my $pub = rdb_node(
	'publisher',
	allows_streaming => 'logical',
	conf => "wal_consistency_checking = '" . wal_consistency_all() . "'\n"
	  . "max_wal_senders = 10\nmax_replication_slots = 10\n"
	  . "autovacuum_naptime = 1s\n");
$pub->start;
rdb_create_extension($pub);
$pub->safe_psql('postgres',
	"SELECT pg_create_physical_replication_slot('standby_slot', immediately_reserve => true)");
$pub->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($pub, 'base', has_streaming => 1);
$standby->append_conf('postgresql.conf', "primary_slot_name = 'standby_slot'");
$standby->start;

my $sub = rdb_node('subscriber',
	conf => "max_logical_replication_workers = 6\nmax_worker_processes = 16\n");
$sub->start;
rdb_create_extension($sub);

my %pub_am = (r_acct => $am, r_ev => $am, r_big => $am, h_acct => 'heap', h_ev => 'heap');
my %sub_am = (r_acct => $am, r_ev => 'heap', r_big => $am, h_acct => $am, h_ev => $am);

sub schema
{
	my ($ams) = @_;
	return qq{
		CREATE TABLE r_acct (id int PRIMARY KEY, bal int, note text) USING $ams->{r_acct};
		CREATE SEQUENCE r_acct_moved START 100000;
		CREATE TABLE r_ev (a int, b text) USING $ams->{r_ev};
		ALTER TABLE r_ev REPLICA IDENTITY FULL;
		CREATE TABLE r_big (id int PRIMARY KEY, n int, payload text) USING $ams->{r_big};
		ALTER TABLE r_big ALTER payload SET STORAGE EXTERNAL;
		CREATE TABLE h_acct (id int PRIMARY KEY, bal int, note text) USING $ams->{h_acct};
		CREATE TABLE h_ev (a int, b text) USING $ams->{h_ev};
		ALTER TABLE h_ev REPLICA IDENTITY FULL;
	};
}
$pub->safe_psql('postgres', schema(\%pub_am));
$sub->safe_psql('postgres', schema(\%sub_am));
is($sub->safe_psql('postgres',
		"SELECT string_agg(c.relname || '=' || a.amname, ',' ORDER BY c.relname) FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.relname IN ('r_acct','r_ev','r_big','h_acct','h_ev')"),
	join(',', map { "$_=$sub_am{$_}" } sort keys %sub_am),
	'subscriber tables use the intended access methods');

# rows that the initial table sync copies
$pub->safe_psql('postgres', q{
	INSERT INTO r_acct SELECT g, g, 'initial' FROM generate_series(1, 300) g;
	INSERT INTO h_acct SELECT g, g, 'initial' FROM generate_series(1, 300) g;
	INSERT INTO r_ev SELECT g % 100, 'initial' FROM generate_series(1, 200) g;
	INSERT INTO h_ev SELECT g % 100, 'initial' FROM generate_series(1, 200) g;
	INSERT INTO r_big SELECT g, 0, repeat(md5(g::text), 100) FROM generate_series(1, 50) g;
	CREATE PUBLICATION p FOR TABLE r_acct, r_ev, r_big, h_acct, h_ev;
});
my $connstr = $pub->connstr() . ' dbname=postgres';
$sub->safe_psql('postgres',
	"CREATE SUBSCRIPTION s CONNECTION '$connstr' PUBLICATION p");
$sub->wait_for_subscription_sync($pub, 's');
pass('initial table sync finished');

# The subscriber's rustydb tables flushed: the apply worker then finds the
# rows to update and delete as flushed rows, h_ev's (REPLICA IDENTITY FULL,
# no index) by a sequential scan whose match PostgreSQL copies into another
# slot and locks by that slot's TID (RelationFindReplTupleSeq).  Flushed
# rows are owned copies in their slots, which ExecCopySlot copies without
# the TID: every change to such a row failed the apply worker.
if ($am eq 'rustydb')
{
	my %initial = (r_acct => 300, r_big => 50, h_acct => 300, h_ev => 200);
	for my $t (sort keys %initial)
	{
		is(rdb_flush_until($sub, $t, $initial{$t}), $initial{$t},
			"subscriber: the initial rows of $t flushed");
	}
}

# The workload.  Each client's transactions touch random rows, so clients
# deadlock now and then: pgbench retries those (--max-tries).
my $dir = PostgreSQL::Test::Utils::tempdir();
my $dml = "$dir/dml.sql";
my $bulk = "$dir/bulk.sql";
PostgreSQL::Test::Utils::append_to_file($dml, q{
\set id random(1, 500)
\set b random(1, 1000)
BEGIN;
INSERT INTO r_acct VALUES (:id, :b, 'ins') ON CONFLICT (id) DO UPDATE SET bal = r_acct.bal + 1;
UPDATE r_acct SET note = md5(:b::text) WHERE id = :b % 500;
UPDATE r_acct SET id = nextval('r_acct_moved') WHERE id = (:b * 3) % 500;
DELETE FROM r_acct WHERE id = (:id * 7) % 500;
INSERT INTO r_acct VALUES (:id + 2000, 0, 'nothing') ON CONFLICT DO NOTHING;
INSERT INTO h_acct VALUES (:id, :b, 'ins') ON CONFLICT (id) DO UPDATE SET bal = h_acct.bal + 1;
UPDATE h_acct SET note = md5(:b::text) WHERE id = :b % 500;
DELETE FROM h_acct WHERE id = (:id * 7) % 500;
INSERT INTO r_ev VALUES (:id % 100, 'e' || :b);
UPDATE r_ev SET b = b || 'u' WHERE a = :b % 100 AND length(b) < 12;
DELETE FROM r_ev WHERE a = (:id * 3) % 100 AND b LIKE '%u';
INSERT INTO h_ev VALUES (:id % 100, 'e' || :b);
UPDATE h_ev SET b = b || 'u' WHERE a = :b % 100 AND length(b) < 12;
DELETE FROM h_ev WHERE a = (:id * 3) % 100 AND b LIKE '%u';
END;
});
PostgreSQL::Test::Utils::append_to_file($bulk, q{
\set id random(1, 60)
\set r random(1, 1000000)
BEGIN;
COPY r_ev (a) FROM PROGRAM 'seq 1 25';
COPY h_ev (a) FROM PROGRAM 'seq 1 25';
INSERT INTO r_big VALUES (:id, 0, repeat(md5(:r::text), 100)) ON CONFLICT (id) DO UPDATE SET payload = excluded.payload;
UPDATE r_big SET n = n + 1 WHERE id = (:id * 7) % 60;
DELETE FROM r_big WHERE id = (:id * 11) % 60 AND n > 3;
DELETE FROM r_ev WHERE b IS NULL AND a = :id % 25;
DELETE FROM h_ev WHERE b IS NULL AND a = :id % 25;
SAVEPOINT sp;
INSERT INTO r_acct VALUES (:id + 5000, 0, 'rolled back') ON CONFLICT DO NOTHING;
ROLLBACK TO SAVEPOINT sp;
END;
});

my ($out, $err) = ('', '');
my $ok = IPC::Run::run(
	[
		'pgbench', '-n', '-c', '3', '-j', '3', '-T', $secs,
		'--max-tries=20', '-f', "$dml\@4", '-f', "$bulk\@1",
		'-h', $pub->host, '-p', $pub->port, 'postgres'
	],
	'>', \$out, '2>', \$err);
my ($ntx) = $out =~ /number of transactions actually processed: (\d+)/;
my ($nfailed) = $out =~ /number of failed transactions: (\d+)/;
ok($ok && ($ntx // 0) > 0 && ($nfailed // 0) == 0,
	"concurrent workload on the publisher: " . ($ntx // '?') . " transactions in $secs s")
  or diag("$out\n$err");

# one more of each kind after the load, so the last changes are known
$pub->safe_psql('postgres', q{
	UPDATE r_acct SET note = 'last' WHERE id = (SELECT min(id) FROM r_acct);
	DELETE FROM r_big WHERE id = (SELECT max(id) FROM r_big);
	TRUNCATE h_ev;
	INSERT INTO h_ev VALUES (1, 'after truncate');
});

$pub->wait_for_catchup('s');
my $lsn = $pub->lsn('insert');
$pub->wait_for_catchup('standby', 'replay', $lsn);

my %queries = (
	r_acct => q{SELECT count(*), md5(string_agg(id || ':' || bal || ':' || coalesce(note, ''), ',' ORDER BY id)) FROM r_acct},
	h_acct => q{SELECT count(*), md5(string_agg(id || ':' || bal || ':' || coalesce(note, ''), ',' ORDER BY id)) FROM h_acct},
	r_ev => q{SELECT count(*), md5(string_agg(a || ':' || coalesce(b, 'NULL'), ',' ORDER BY a, b)) FROM r_ev},
	h_ev => q{SELECT count(*), md5(string_agg(a || ':' || coalesce(b, 'NULL'), ',' ORDER BY a, b)) FROM h_ev},
	r_big => q{SELECT count(*), md5(string_agg(id || ':' || n || ':' || md5(payload), ',' ORDER BY id)) FROM r_big},
);
for my $t (sort keys %queries)
{
	my $want = $pub->safe_psql('postgres', $queries{$t});
	my ($n) = split /\|/, $want;
	is($sub->safe_psql('postgres', $queries{$t}), $want,
		"subscriber's $t ($sub_am{$t}) equals the publisher's ($pub_am{$t}, $n rows)");
	is($standby->safe_psql('postgres', $queries{$t}), $want,
		"standby's $t equals the publisher's");
}
is($sub->safe_psql('postgres',
		"SELECT apply_error_count + sync_error_count FROM pg_stat_subscription_stats WHERE subname = 's'"),
	'0', 'the subscription reports no apply or sync error');
is($sub->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_subscription WHERE subname = 's' AND pid IS NOT NULL"),
	'1', 'the apply worker is running');

# indexes on the subscriber agree with its tables
$sub->safe_psql('postgres', 'CREATE EXTENSION amcheck');
is($sub->safe_psql('postgres',
		"SELECT count(*) FROM (SELECT bt_index_check(c.oid, true) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname IN ('r_acct_pkey', 'r_big_pkey', 'h_acct_pkey')) s"),
	'3', 'subscriber indexes contain every row (bt_index_check heapallindexed)');

# What the rmgr logs for decoding.  A single change of each kind on r_acct:
# at wal_level = logical the records carry flags LOGICAL (0x20) and
# CONTAINS_NEW_TUPLE (0x01), the delete and the key-changing update the old
# key (0x08); on a wal_level = replica server they carry none.  The insert
# logs its tuple without the header redo rebuilds (COMPACT_TUPLES, 0x40) at
# either level; the subscriber's and standby's tables above show both
# decoding and redo read it back.
SKIP:
{
	skip 'WAL record flags are specific to the rustydb rmgr', 5 if $am ne 'rustydb';

	my $walcheck = sub {
		my ($node) = @_;
		$node->safe_psql('postgres', 'CREATE EXTENSION IF NOT EXISTS pg_walinspect');
		$node->safe_psql('postgres',
			'CREATE TABLE IF NOT EXISTS wal_probe (id int PRIMARY KEY, v text) USING rustydb');
		my $start = $node->safe_psql('postgres', 'SELECT pg_current_wal_insert_lsn()');
		$node->safe_psql('postgres', q{
			INSERT INTO wal_probe VALUES (1, 'a');
			UPDATE wal_probe SET v = 'b' WHERE id = 1;
			UPDATE wal_probe SET id = 2 WHERE id = 1;
			DELETE FROM wal_probe WHERE id = 2;
		});
		my $end = $node->safe_psql('postgres', 'SELECT pg_current_wal_flush_lsn()');
		return $node->safe_psql('postgres', qq{
			SELECT string_agg(regexp_replace(record_type, '[+]INIT\$', '') || ' ' || substring(description from 'flags (0x[0-9A-F]+)'), ', ' ORDER BY start_lsn)
			  FROM pg_get_wal_records_info('$start', '$end')
			 WHERE resource_manager = 'rustydb' AND record_type NOT LIKE 'SET_HEADERS%'});
	};
	# Which inserts log compact tuples (0x40): COPY's batch (0x04: the
	# batch's last record) does; a speculative insertion (0x02) and VACUUM
	# FULL's rewrite, which carries the old rows' headers, log whole ones.
	my $inscheck = sub {
		my ($node) = @_;
		$node->safe_psql('postgres',
			'CREATE TABLE IF NOT EXISTS ins_probe (id int PRIMARY KEY, v text) USING rustydb');
		$node->safe_psql('postgres', 'TRUNCATE ins_probe');
		my $start = $node->safe_psql('postgres', 'SELECT pg_current_wal_insert_lsn()');
		$node->safe_psql('postgres', "COPY ins_probe FROM STDIN;\n1\ta\n2\tb\n\\.\n");
		$node->safe_psql('postgres', q{
			INSERT INTO ins_probe VALUES (3, 'c') ON CONFLICT DO NOTHING;
			VACUUM FULL ins_probe;
		});
		my $end = $node->safe_psql('postgres', 'SELECT pg_current_wal_flush_lsn()');
		return $node->safe_psql('postgres', qq{
			SELECT string_agg(regexp_replace(record_type, '[+]INIT\$', '') || ' ' || substring(description from 'flags (0x[0-9A-F]+)'), ', ' ORDER BY start_lsn)
			  FROM pg_get_wal_records_info('$start', '$end')
			 WHERE resource_manager = 'rustydb' AND record_type ~ '^(MULTI_)?INSERT'});
	};
	is($walcheck->($pub),
		'INSERT 0x61, UPDATE 0x21, UPDATE 0x29, ROW_CHANGE 0x28',
		'wal_level = logical: records carry the new tuple and the old key where needed');
	is($inscheck->($pub), 'MULTI_INSERT 0x65, INSERT 0x23, MULTI_INSERT 0x04',
		'wal_level = logical: COPY logs compact tuples, a speculative insertion and VACUUM FULL whole ones');
	# VACUUM FULL's new TOAST rows are no change either: heap's rewrite
	# inserts them with HEAP_INSERT_NO_LOGICAL, so does ours (before, each
	# carried its tuple for decoding, flags 0x18, and decoding spilled the
	# whole TOAST table to disk)
	$pub->safe_psql('postgres', q{
		CREATE TABLE toast_probe (id int, v text) USING rustydb;
		ALTER TABLE toast_probe ALTER v SET STORAGE EXTERNAL;
		INSERT INTO toast_probe SELECT g, repeat(md5(g::text), 100) FROM generate_series(1, 5) g;
	});
	my $tstart = $pub->safe_psql('postgres', 'SELECT pg_current_wal_insert_lsn()');
	$pub->safe_psql('postgres', 'VACUUM FULL toast_probe');
	my $tend = $pub->safe_psql('postgres', 'SELECT pg_current_wal_flush_lsn()');
	is($pub->safe_psql('postgres', qq{
			SELECT count(*) || ' ' || coalesce(string_agg(DISTINCT substring(description from 'flags (0x[0-9A-F]+)'), ','), '')
			  FROM pg_get_wal_records_info('$tstart', '$tend')
			 WHERE resource_manager = 'Heap' AND record_type LIKE 'INSERT%'
			   AND block_ref LIKE '%/' || (SELECT relfilenode FROM pg_class WHERE oid =
			         (SELECT reltoastrelid FROM pg_class WHERE relname = 'toast_probe')) || ' %'}),
		'10 0x00', 'wal_level = logical: VACUUM FULL\'s TOAST rows carry nothing for decoding');
	my $plain = rdb_node('replica_level', allows_streaming => 1);
	$plain->start;
	rdb_create_extension($plain);
	is($walcheck->($plain),
		'INSERT 0x40, UPDATE 0x00, UPDATE 0x00, ROW_CHANGE 0x00',
		'wal_level = replica: no extra data for decoding');
	is($inscheck->($plain), 'MULTI_INSERT 0x44, INSERT 0x02, MULTI_INSERT 0x04',
		'wal_level = replica: COPY logs compact tuples, a speculative insertion and VACUUM FULL whole ones');
	$plain->stop;
}

check_log_clean($pub, 0, 'publisher log shows no problem');
check_log_clean($sub, 0, 'subscriber log shows no problem');
check_log_clean($standby, 0, 'standby log (wal_consistency_checking) shows no problem');

done_testing();
