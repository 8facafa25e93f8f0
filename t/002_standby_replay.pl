
# t/002_standby_replay.pl
#	A streaming standby replays a broad workload on tables of the access
#	method under test with wal_consistency_checking = 'all', and answers
#	queries (through every index AM) with the primary's results; the primary
#	also survives a crash and replays its own WAL with consistency checks.
#
# Usage: run through t/run_tap.sh (or prove with PostgreSQL's src/test/perl in
# @INC, PATH starting with PostgreSQL 15's bindir, TESTDIR and PG_REGRESS set,
# as an unprivileged user).  RDB_TEST_AM picks the table access method (default
# rustydb; heap validates the test).  wal_consistency_checking is set on the
# primary, which then attaches a full-page image to every WAL record; whoever
# replays the record (the standby, or the primary itself in crash recovery)
# compares the page it rebuilt with that image (after the resource manager's
# mask) and stops with FATAL "inconsistent page found" on any difference, so a
# page change that is not WAL-logged, or logged wrongly, is caught here.  The
# setting is 'all,rustydb' when the extension is loaded: PostgreSQL 15 expands
# a bare 'all' before shared_preload_libraries registers custom resource
# managers, which would leave rustydb's records unchecked; pg_walinspect
# confirms after each step that every record of the AM's resource manager
# carries its verification image.  The workload covers INSERT, COPY, UPDATE, DELETE, row locks (incl. multixacts),
# ON CONFLICT, savepoints, two-phase commit, TOAST, VACUUM / FREEZE / FULL,
# CLUSTER, TRUNCATE, CREATE INDEX [CONCURRENTLY] for btree, hash, gin, gist,
# spgist and brin, REINDEX, SET ACCESS METHOD, SET TABLESPACE, DROP, unlogged
# and temp tables.

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
note "table access method under test: $am";

my $primary = rdb_node(
	'primary',
	allows_streaming => 1,
	conf => "wal_consistency_checking = '" . wal_consistency_all() . "'\n"
	  . "allow_in_place_tablespaces = on\n"
	  . "max_prepared_transactions = 5\n"
	  . "autovacuum = off\n");
$primary->start;
rdb_create_extension($primary);
# A slot keeps the WAL the standby still needs, also across the primary's
# crash and restart later on.
$primary->safe_psql('postgres',
	"SELECT pg_create_physical_replication_slot('standby_slot', immediately_reserve => true)");
$primary->backup('base');

# The standby gets the primary's postgresql.conf with the backup, so it is
# preloaded with the same library and settings.
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->append_conf('postgresql.conf', "primary_slot_name = 'standby_slot'");
$standby->start;

# Wait until the standby has replayed everything the primary has written.
# Gives up early when the standby's log shows an inconsistent page or the
# standby is gone, rather than waiting for the default timeout.
sub wait_replay
{
	my ($what) = @_;
	my $target = $primary->lsn('insert');
	my $deadline = time() + ($ENV{RDB_REPLAY_TIMEOUT} || 180);
	while (time() < $deadline)
	{
		my ($ret, $out) = $standby->psql('postgres',
			"SELECT pg_last_wal_replay_lsn() >= '$target'::pg_lsn");
		return pass("standby replayed $what") if $ret == 0 && $out eq 't';
		my @bad = log_problems($standby, 0);
		if (@bad)
		{
			fail("standby replayed $what");
			diag("standby log:\n" . join("\n", @bad));
			return 0;
		}
		sleep(0.2);
	}
	fail("standby replayed $what (timed out waiting for $target)");
	return 0;
}

# ---------------------------------------------------------------------------
# The workload, in steps, on the primary.
# ---------------------------------------------------------------------------

# Every WAL record of the access method's resource manager that touches a
# page must carry the image that replay compares against (pg_walinspect shows
# it as "FPW"); otherwise consistency checking would be vacuous for it.
# A physical slot reserved at the start of a step keeps the step's WAL in
# pg_wal until it has been checked (the standby's slot advances as it
# replays, and a step can write more than max_wal_size).
$primary->safe_psql('postgres', 'CREATE EXTENSION pg_walinspect');
my $step_start;
sub begin_step
{
	$primary->safe_psql('postgres',
		"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'step_wal'");
	$primary->safe_psql('postgres',
		"SELECT pg_create_physical_replication_slot('step_wal', immediately_reserve => true)");
	$step_start = $primary->lsn('insert');
	return;
}
begin_step();

sub check_step_wal
{
	my ($step) = @_;
	my $rmgr = $am eq 'heap' ? 'Heap' : $am;
	my $rmgrs = $am eq 'heap' ? "'Heap', 'Heap2'" : "'$am'";
	my $end = $primary->lsn('flush');
	my ($with, $without) = split /\|/, $primary->safe_psql('postgres',
		"SELECT count(*) FILTER (WHERE block_ref LIKE '%FPW%'), "
		  . "count(*) FILTER (WHERE block_ref NOT LIKE '%FPW%') "
		  . "FROM pg_get_wal_records_info('$step_start', '$end') "
		  . "WHERE resource_manager IN ($rmgrs) AND block_ref <> ''");
	cmp_ok($with, '>', 0, "$step: $rmgr WAL records carry page images for verification");
	is($without, 0, "$step: no $rmgr WAL record escapes wal_consistency_checking");
	begin_step();
	return;
}

# Main table; indexes come after the initial load (CREATE INDEX logs whole
# pages, which keeps the WAL volume of consistency checking reasonable).
$primary->safe_psql(
	'postgres', qq{
CREATE TABLE w (
	id int PRIMARY KEY,
	k int NOT NULL,
	txt text,
	arr int[],
	pt point,
	ts timestamp,
	big text
) USING $am;
INSERT INTO w
	SELECT g, g % 97, 'txt' || (g % 500), ARRAY[g % 10, g % 7, g % 13],
		point(g % 100, g / 100), '2024-01-01'::timestamp + g * interval '1 minute', NULL
	FROM generate_series(1, 1500) g;
});

# COPY (the multi-insert path), with data generated here.
my $copy = "COPY w (id, k, txt, arr, pt, ts) FROM STDIN;\n";
for my $g (1501 .. 4000)
{
	my $ts = sprintf('2024-01-%02d %02d:%02d:00', 1 + int($g / 1440), int(($g % 1440) / 60), $g % 60);
	$copy .= join("\t",
		$g, $g % 97, 'txt' . ($g % 500),
		'{' . join(',', $g % 10, $g % 7, $g % 13) . '}',
		'(' . ($g % 100) . ',' . int($g / 100) . ')', $ts)
	  . "\n";
}
$copy .= "\\.\n";
$primary->safe_psql('postgres', $copy);

# COPY FREEZE (into a table created in the same transaction) and COPY and
# INSERT in a subtransaction: tuples logged compactly, whose xmin redo
# takes from the record (frozen bits in the infomask, a subtransaction's
# xid)
$primary->safe_psql('postgres',
	"BEGIN;\nCREATE TABLE wf (id int, t text) USING $am;\n"
	  . "COPY wf FROM STDIN (FREEZE);\n1\tx\n2\ty\n\\.\n"
	  . "SAVEPOINT s;\nCOPY wf FROM STDIN;\n3\tz\n\\.\n"
	  . "INSERT INTO wf VALUES (4, 'w');\nRELEASE s;\n"
	  . "SAVEPOINT s2;\nINSERT INTO wf VALUES (5, 'gone');\nROLLBACK TO s2;\nCOMMIT;\n");
check_step_wal('INSERT and COPY');

$primary->safe_psql(
	'postgres', q{
CREATE INDEX w_k ON w (k);
CREATE INDEX w_txt_hash ON w USING hash (txt);
CREATE INDEX w_arr_gin ON w USING gin (arr);
CREATE INDEX w_pt_gist ON w USING gist (pt);
CREATE INDEX w_txt_spgist ON w USING spgist (txt);
CREATE INDEX w_ts_brin ON w USING brin (ts) WITH (pages_per_range = 2);
});

# DML with all indexes in place.
$primary->safe_psql(
	'postgres', q{
UPDATE w SET k = k + 1, txt = txt || 'u', arr = arr || 99 WHERE id % 10 = 0;
UPDATE w SET big = 'note ' || id WHERE id % 7 = 0;
DELETE FROM w WHERE id % 11 = 0;
INSERT INTO w (id, k, txt, arr, pt, ts)
	SELECT g, g % 97, 'oc' || g, ARRAY[1], point(1, 1), '2024-02-01'
	FROM generate_series(3900, 4100) g
	ON CONFLICT (id) DO UPDATE SET k = EXCLUDED.k + 1000, txt = 'conflict';
INSERT INTO w (id, k) SELECT g, -1 FROM generate_series(4050, 4150) g
	ON CONFLICT DO NOTHING;
BEGIN;
INSERT INTO w (id, k, txt) VALUES (5001, 1, 'sub');
SAVEPOINT a;
UPDATE w SET k = -99 WHERE id < 100;
DELETE FROM w WHERE id BETWEEN 100 AND 200;
INSERT INTO w (id, k, txt) VALUES (5002, 2, 'rolled back');
ROLLBACK TO SAVEPOINT a;
INSERT INTO w (id, k, txt) VALUES (5003, 3, 'sub');
SAVEPOINT b;
UPDATE w SET k = 42 WHERE id = 5003;
RELEASE SAVEPOINT b;
COMMIT;
BEGIN;
UPDATE w SET k = -1 WHERE id BETWEEN 300 AND 400;
INSERT INTO w (id, k) VALUES (5004, 4);
ROLLBACK;
});

# Row locks: FOR UPDATE / NO KEY UPDATE / SHARE / KEY SHARE, and two sessions
# sharing locks on the same rows (a multixact), followed by an update.
{
	my $s1 = $primary->background_psql('postgres');
	my $s2 = $primary->background_psql('postgres');
	$s1->query_safe('BEGIN');
	$s2->query_safe('BEGIN');
	$s1->query_safe('SELECT count(*) FROM (SELECT 1 FROM w WHERE id BETWEEN 1 AND 60 FOR SHARE) s');
	$s2->query_safe('SELECT count(*) FROM (SELECT 1 FROM w WHERE id BETWEEN 30 AND 90 FOR KEY SHARE) s');
	$s1->query_safe('SELECT count(*) FROM (SELECT 1 FROM w WHERE id BETWEEN 500 AND 520 FOR UPDATE) s');
	$s2->query_safe('SELECT count(*) FROM (SELECT 1 FROM w WHERE id BETWEEN 600 AND 620 FOR NO KEY UPDATE) s');
	$s2->query_safe('UPDATE w SET k = k + 5 WHERE id BETWEEN 600 AND 610');
	$s1->query_safe('COMMIT');
	$s2->query_safe('COMMIT');
	$s1->quit;
	$s2->quit;
}
$primary->safe_psql('postgres', 'UPDATE w SET k = k + 1 WHERE id BETWEEN 40 AND 50');
check_step_wal('UPDATE, DELETE, ON CONFLICT, savepoints, row locks');

# TOAST: a ~1.9 MB value, updated and partly deleted; a smaller one updated
# in a non-toasted column only.
$primary->safe_psql(
	'postgres', q{
INSERT INTO w (id, k, txt, big)
	SELECT 6000 + i, 0, 'big',
		(SELECT string_agg(md5((g * i)::text), '') FROM generate_series(1, 60000) g)
	FROM generate_series(1, 3) i;
UPDATE w SET big = big || 'tail' WHERE id = 6001;
UPDATE w SET k = 7 WHERE id = 6002;
DELETE FROM w WHERE id = 6003;
});

# Two-phase commit.
$primary->safe_psql(
	'postgres', q{
BEGIN; INSERT INTO w (id, k, txt) VALUES (7001, 1, 'prepared'); UPDATE w SET k = 77 WHERE id = 1;
PREPARE TRANSACTION 'p_commit';
BEGIN; INSERT INTO w (id, k, txt) VALUES (7002, 2, 'prepared'); DELETE FROM w WHERE id = 2;
PREPARE TRANSACTION 'p_abort';
COMMIT PREPARED 'p_commit';
ROLLBACK PREPARED 'p_abort';
});

# VACUUM, freezing, ANALYZE, CREATE INDEX CONCURRENTLY, REINDEX.
begin_step();
$primary->safe_psql('postgres', 'VACUUM w');
$primary->safe_psql('postgres', 'VACUUM (FREEZE) w');
check_step_wal('VACUUM and VACUUM FREEZE');
$primary->safe_psql('postgres', "SELECT pg_drop_replication_slot('step_wal')");
$primary->safe_psql('postgres', 'ANALYZE w');
$primary->safe_psql('postgres', 'CREATE INDEX CONCURRENTLY w_k_id ON w (k, id)');
$primary->safe_psql('postgres', 'REINDEX INDEX w_k');
$primary->safe_psql('postgres', 'UPDATE w SET ts = ts + interval \'1 day\' WHERE id % 13 = 0');

# TRUNCATE (committed, and rolled back), CLUSTER, VACUUM FULL, SET ACCESS
# METHOD, SET TABLESPACE, DROP.
my $to_am = $am;
$primary->safe_psql(
	'postgres', qq{
CREATE TABLE tr (id int PRIMARY KEY, v text) USING $am;
INSERT INTO tr SELECT g, 'first' FROM generate_series(1, 500) g;
TRUNCATE tr;
INSERT INTO tr SELECT g, 'second' FROM generate_series(1, 300) g;
BEGIN;
TRUNCATE tr;
INSERT INTO tr VALUES (1, 'rolled back');
ROLLBACK;
BEGIN;
INSERT INTO tr SELECT g, 'third' FROM generate_series(301, 400) g;
TRUNCATE tr;
INSERT INTO tr SELECT g, 'fourth' FROM generate_series(1, 50) g;
COMMIT;

CREATE TABLE cl (id int, v text) USING $am;
INSERT INTO cl SELECT (g * 7919) % 12000, md5(g::text) FROM generate_series(1, 12000) g;
CREATE INDEX cl_id ON cl (id);
CLUSTER cl USING cl_id;
VACUUM FULL w;

CREATE TABLE h (id int PRIMARY KEY, v text) USING heap;
INSERT INTO h SELECT g, 'heap ' || g FROM generate_series(1, 1000) g;
ALTER TABLE h SET ACCESS METHOD $to_am;
UPDATE h SET v = v || ' converted' WHERE id % 3 = 0;

CREATE TABLESPACE ts LOCATION '';
CREATE TABLE cl_stripes AS SELECT count(*) AS n FROM pg_class c
  WHERE c.relname = 'cl' AND c.relam = (SELECT oid FROM pg_am WHERE amname = 'rustydb')
    AND EXISTS (SELECT FROM rustydb.stripes('cl'));
ALTER TABLE cl SET TABLESPACE ts;
INSERT INTO cl VALUES (5000, 'in tablespace');

CREATE TABLE drop_me (id int PRIMARY KEY) USING $am;
INSERT INTO drop_me SELECT generate_series(1, 1000);
DROP TABLE drop_me;

CREATE UNLOGGED TABLE ul (id int PRIMARY KEY, v text) USING $am;
INSERT INTO ul SELECT g, 'unlogged' FROM generate_series(1, 1000) g;
});

# CLUSTER wrote cl's rows (every snapshot sees them) straight into a stripe
# (src/lsm/rewrite.c): its stripe and directory pages replay too.
is($primary->safe_psql('postgres', 'SELECT n FROM cl_stripes'), $am eq 'rustydb' ? '1' : '0',
	'CLUSTER wrote the rows into a stripe');

# A temporary table (local buffers, no WAL), used and checked in one session.
my ($ret, $out, $err) = $primary->psql(
	'postgres', qq{
CREATE TEMP TABLE tt (id int PRIMARY KEY, v text) USING $am;
INSERT INTO tt SELECT g, 'temp' FROM generate_series(1, 3000) g;
UPDATE tt SET v = 'temp upd' WHERE id % 2 = 0;
DELETE FROM tt WHERE id % 3 = 0;
SET enable_seqscan = off;
SELECT count(*), sum(id), count(*) FILTER (WHERE v = 'temp upd') FROM tt WHERE id > 0;
RESET enable_seqscan;
SELECT count(*), sum(id) FROM tt;
});
is("$ret\n$out", "0\n2000|3000000|1000\n2000|3000000", 'temporary table works (index and seq scan)')
  or diag($err);

# ---------------------------------------------------------------------------
# Compare the standby with the primary.
# ---------------------------------------------------------------------------
my %force = (
	seq => 'SET enable_indexscan = off; SET enable_bitmapscan = off; SET enable_indexonlyscan = off;',
	index => 'SET enable_seqscan = off; SET enable_bitmapscan = off;',
	bitmap => 'SET enable_seqscan = off; SET enable_indexscan = off; SET enable_indexonlyscan = off;');

# Whole-table contents (md5 of all rows in key order) and counts.
my @content_queries = (
	"SELECT count(*), md5(string_agg(w::text, '|' ORDER BY id)) FROM w",
	"SELECT count(*), md5(string_agg(tr::text, '|' ORDER BY id)) FROM tr",
	"SELECT count(*), md5(string_agg(cl::text, '|' ORDER BY id, v)) FROM cl",
	"SELECT count(*), md5(string_agg(h::text, '|' ORDER BY id)) FROM h",
	"SELECT string_agg(id || ':' || t, ',' ORDER BY id) FROM wf",
	"SELECT md5(big), length(big) FROM w WHERE id > 6000 AND id < 6100 ORDER BY id",
);

# Queries each answered through a given index; [mode, index name regexp, query].
my @index_queries = (
	[ 'index', 'w_pkey', 'SELECT count(*), sum(k), sum(length(txt)) FROM w WHERE id BETWEEN 100 AND 3000' ],
	[ 'index', 'Index Only Scan using w_pkey', 'SELECT count(*), sum(id) FROM w WHERE id BETWEEN 10 AND 3500' ],
	[ 'index', 'w_k(_id)?', 'SELECT count(*), sum(id) FROM w WHERE k = 17' ],
	[ 'index', 'w_k_id', 'SELECT count(*), sum(id) FROM w WHERE k = 15 AND id BETWEEN 1000 AND 3000' ],
	[ 'index', 'w_txt_hash', "SELECT count(*), sum(id) FROM w WHERE txt = 'txt120u'" ],
	[ 'bitmap', 'w_arr_gin', 'SELECT count(*), sum(id) FROM w WHERE arr @> ARRAY[3, 99]' ],
	[ 'index', 'w_pt_gist', "SELECT count(*), sum(id) FROM w WHERE pt <@ box '((10,5),(40,25))'" ],
	[ 'index', 'w_txt_spgist', "SELECT count(*), sum(id) FROM w WHERE txt ^@ 'txt12'" ],
	[ 'bitmap', 'w_ts_brin', "SELECT count(*), sum(id) FROM w WHERE ts BETWEEN '2024-01-02' AND '2024-01-03'" ],
	[ 'bitmap', 'w_k(_id)?', 'SELECT count(*), sum(id) FROM w WHERE k IN (1, 2, 3)' ],
	[ 'index', 'tr_pkey', 'SELECT count(*), sum(id), min(v) FROM tr WHERE id > 0' ],
	[ 'index', 'cl_id', 'SELECT count(*), sum(id) FROM cl WHERE id BETWEEN 10 AND 1500' ],
	[ 'index', 'h_pkey', "SELECT count(*), sum(id) FROM h WHERE id > 10 AND v LIKE '%converted'" ],
);

# Reference answers from the primary through seq scans, then the same
# questions to $node through the forced scan type, checking the plan.
sub compare_with_primary
{
	my ($node, $label) = @_;
	for my $q (@content_queries)
	{
		is($node->safe_psql('postgres', $q), $primary->safe_psql('postgres', $q),
			"$label: same contents as the primary: $q");
	}
	for my $iq (@index_queries)
	{
		my ($mode, $index, $q) = @$iq;
		my $expected = $primary->safe_psql('postgres', "$force{seq} $q");
		my $plan = $node->safe_psql('postgres', "$force{$mode} EXPLAIN (COSTS OFF) $q");
		like($plan, qr/\b$index\b/, "$label: plan uses $index");
		is($node->safe_psql('postgres', "$force{$mode} $q"), $expected,
			"$label: $mode scan on $index gives the primary's seq scan answer");
	}
	return;
}

my $am_tables = "SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_class c "
  . "JOIN pg_am a ON a.oid = c.relam WHERE a.amname = '$am' AND c.relkind = 'r' "
  . "AND c.relname IN ('w', 'tr', 'cl', 'h', 'ul', 'drop_me', 'tt')";
is($primary->safe_psql('postgres', $am_tables), 'cl,h,tr,ul,w', "tables are $am on the primary");
is($primary->safe_psql('postgres', 'SHOW wal_consistency_checking'), wal_consistency_all(),
	'wal_consistency_checking is in effect');

if (wait_replay('the workload'))
{
	is($standby->safe_psql('postgres', $am_tables), 'cl,h,tr,ul,w', "tables are $am on the standby");
	compare_with_primary($standby, 'standby');

	# The unlogged table exists on the standby, but cannot be read there.
	is($standby->safe_psql('postgres', "SELECT relpersistence FROM pg_class WHERE relname = 'ul'"),
		'u', 'unlogged table exists on the standby');
	my ($r, $o, $e) = $standby->psql('postgres', 'SELECT count(*) FROM ul');
	isnt($r, 0, 'reading the unlogged table on the standby fails');
	like($e, qr/cannot access temporary or unlogged relations during recovery/,
		'... with the expected error');
}
check_log_clean($standby, 0, 'standby log: no inconsistent page, PANIC or unexpected FATAL');

# ---------------------------------------------------------------------------
# Crash the primary in the middle of more work, restart it (crash recovery
# with consistency checks), check it and the standby again.
# ---------------------------------------------------------------------------
my %before;
$before{$_} = $primary->safe_psql('postgres', $_) for @content_queries;
is($primary->safe_psql('postgres', 'SELECT count(*) FROM ul'), '1000', 'unlogged table has rows before the crash');

# Work that is open at the crash must vanish.
my $open = $primary->background_psql('postgres');
$open->query_safe(q{BEGIN; UPDATE w SET k = -1000 WHERE id < 2000; INSERT INTO tr VALUES (9999, 'open'); SELECT 1});
$primary->safe_psql('postgres', 'CHECKPOINT');
$primary->safe_psql('postgres', q{UPDATE h SET v = v || ' after checkpoint' WHERE id % 5 = 0});
$before{ $content_queries[3] } = $primary->safe_psql('postgres', $content_queries[3]);

my $plog = log_size($primary);
$primary->stop('immediate');
eval { $open->quit; };
$primary->start;

for my $q (@content_queries)
{
	is($primary->safe_psql('postgres', $q), $before{$q}, "after crash recovery, primary has the same contents: $q");
}
is($primary->safe_psql('postgres', 'SELECT count(*) FROM ul'), '0', 'unlogged table is empty after the crash');
($ret, $out, $err) = $primary->psql('postgres',
	q{INSERT INTO ul SELECT g, 'again' FROM generate_series(1, 100) g; SELECT count(*) FROM ul WHERE id > 0});
is("$ret $out", '0 100', 'unlogged table is writable after the crash') or diag($err);

# More work after the restart, streamed to the standby.
$primary->safe_psql(
	'postgres', q{
INSERT INTO w (id, k, txt, arr, pt, ts)
	SELECT g, g % 97, 'post' || g, ARRAY[g % 5], point(g % 50, 1), '2024-03-01'
	FROM generate_series(8000, 8500) g;
UPDATE w SET k = k + 2 WHERE id BETWEEN 1000 AND 1200;
DELETE FROM w WHERE id BETWEEN 2000 AND 2100;
VACUUM w;
TRUNCATE tr;
INSERT INTO tr SELECT g, 'after crash' FROM generate_series(1, 10) g;
});
if (wait_replay('the work after the primary crash'))
{
	compare_with_primary($standby, 'standby after primary crash');
}

check_log_clean($primary, $plog, 'primary log after crash recovery: no inconsistent page, PANIC or crash');
check_log_clean($standby, 0, 'standby log: no inconsistent page, PANIC or unexpected FATAL');
is($primary->safe_psql('postgres', "SELECT count(*) FROM pg_prepared_xacts"), '0', 'no prepared transaction left');

$standby->stop;
$primary->stop;
done_testing();
