# t/024_all_visible.pl
#	Pages VACUUM marks all-visible (PD_ALL_VISIBLE) stay correct through
#	WAL: crash recovery and a promoted standby clear the flag wherever the
#	primary did, so scans that trust it never return a deleted or updated-
#	away row, nor miss a new one.
#
#	A checkpoint, then VACUUM marks every page (its record carries the
#	page's full image, the first change after the checkpoint), then
#	DELETE / UPDATE / INSERT change rows on those pages without full-page
#	images: only the redo of those records can clear the flag.  The
#	primary then crashes (immediate stop) and recovers, and a streaming
#	standby (wal_consistency_checking = 'all,rustydb') is promoted; on both,
#	sequential scans (which skip visibility checks on all-visible pages) must
#	agree with index scans and with what was committed.

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

my $primary = rdb_node(
	'primary',
	allows_streaming => 1,
	conf => "wal_consistency_checking = '" . wal_consistency_all() . "'\n"
	  . "autovacuum = off\n");
$primary->start;
rdb_create_extension($primary);
$primary->safe_psql('postgres', 'CREATE EXTENSION pageinspect');
$primary->safe_psql('postgres',
	"SELECT pg_create_physical_replication_slot('standby_slot', immediately_reserve => true)");
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->append_conf('postgresql.conf', "primary_slot_name = 'standby_slot'");
$standby->start;

$primary->safe_psql('postgres', qq{
	CREATE TABLE av (id int PRIMARY KEY, v int, pad text) USING $am;
	INSERT INTO av SELECT g, g, repeat('p', 200) FROM generate_series(1, 6000) g;
	CHECKPOINT;
});
# VACUUM marks only rows no running snapshot could miss: let sessions that
# may hold an older snapshot (the event worker) finish first
$primary->poll_query_until('postgres', q{
	SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity
	 WHERE datname = current_database() AND pid <> pg_backend_pid()
	   AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL))})
  or die 'another session keeps a snapshot';
$primary->safe_psql('postgres', 'VACUUM av');
my $flagged = $primary->safe_psql('postgres', q{
	SELECT count(*) FILTER (WHERE ((page_header(get_raw_page('av', b))).flags & 4) <> 0) || '/' || count(*)
	  FROM generate_series(1, pg_relation_size('av') / 8192 - 1) b});
my ($nv, $np) = split m{/}, $flagged;
ok($np > 100 && $nv == $np, "VACUUM marked every data page all-visible ($flagged)")
  if $am eq 'rustydb';

# changes on (almost) every page, after the pages' full images were logged
$primary->safe_psql('postgres', q{
	DELETE FROM av WHERE id % 7 = 0;
	UPDATE av SET v = -v WHERE id % 11 = 0;
	INSERT INTO av SELECT g, g, 'new' FROM generate_series(6001, 6100) g;
});
my $cleared = $primary->safe_psql('postgres', q{
	SELECT count(*) FILTER (WHERE ((page_header(get_raw_page('av', b))).flags & 4) <> 0)
	  FROM generate_series(1, pg_relation_size('av') / 8192 - 1) b});
is($cleared, '0', 'the changes cleared the flag on every page they touched') if $am eq 'rustydb';

my $want = $primary->safe_psql('postgres',
	'SELECT count(*), sum(v), sum(id) FILTER (WHERE v < 0) FROM av');
my $q_seq = q{SET enable_indexscan = off; SET enable_bitmapscan = off;
	SELECT count(*), sum(v), sum(id) FILTER (WHERE v < 0) FROM av};
my $q_idx = q{SET enable_seqscan = off; SET enable_bitmapscan = off;
	SELECT count(*), sum(v), sum(id) FILTER (WHERE v < 0) FROM av WHERE id > 0};
is($want, '5243|13223671|1405404', 'primary: the expected rows after the changes');

$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
is($standby->safe_psql('postgres', $q_seq), $want, 'standby: sequential scan agrees');

# crash and recover: the redo of the DELETE/UPDATE/INSERT records must clear
# the flag restored from the VACUUM record's full-page image
$primary->stop('immediate');
$primary->start;
is($primary->safe_psql('postgres', $q_seq), $want,
	'after crash recovery: sequential scan sees exactly the committed rows');
is($primary->safe_psql('postgres', $q_idx), $want,
	'after crash recovery: index scan agrees');

# a promoted standby trusts the flags it replayed
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'standby was not promoted';
is($standby->safe_psql('postgres', $q_seq), $want,
	'promoted standby: sequential scan sees exactly the committed rows');
is($standby->safe_psql('postgres', $q_idx), $want,
	'promoted standby: index scan agrees');

# and VACUUM marks the pages again, on both
for my $node ($primary, $standby)
{
	$node->safe_psql('postgres', 'VACUUM av');
	is($node->safe_psql('postgres', $q_seq), $want,
		$node->name . ': after another VACUUM the scan still agrees');
}

check_log_clean($primary, 0, 'primary log shows no problem');
check_log_clean($standby, 0, 'standby log (wal_consistency_checking) shows no problem');

done_testing();
