# t/029_flush_progress.pl
#	rustydb.flush_progress shows a flush while it runs, and only to those
#	who may read the table; rustydb.tables shows the flush history after it.
#
#	A flush of 1.2 M rows runs in one session while two others poll
#	rustydb.flush_progress: a superuser, who must see the flush advance
#	(pages scanned growing, its phases, rows and stripes done so far up to
#	what the flush returns), and a role without SELECT on the table, who
#	must see nothing.  A flush cancelled half-way leaves no row behind in
#	the view, and its history counts what it converted before the cancel.  The history (rustydb.tables) holds exactly
#	the rows the flush returned, and TRUNCATE forgets it.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use Time::HiRes qw(sleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RustydbTest;

my $am = test_am();
plan skip_all => 'flush is rustydb-specific' if $am ne 'rustydb';

my $node = rdb_node('progress');
$node->start;
rdb_create_extension($node);

$node->safe_psql('postgres', q{
	CREATE ROLE outsider LOGIN;
	GRANT USAGE ON SCHEMA rustydb TO outsider;
	CREATE TABLE ev (id bigint, ts timestamptz, kind text, v float8) USING rustydb;
	INSERT INTO ev SELECT g, '2026-01-01'::timestamptz + g * interval '1 s',
	       'k' || (g % 7), g * 0.5 FROM generate_series(1, 1200000) g;
	VACUUM ev;
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM rustydb.flush_progress'),
	'0', 'no flush running: the view is empty');
is($node->safe_psql('postgres',
		'SELECT last_flush IS NULL AND flushes IS NULL FROM rustydb.tables'),
	't', 'no flush yet: no history');

# poll the view while a flush runs
sub poll_flush
{
	my ($flush_sql) = @_;
	my $flusher = $node->background_psql('postgres', on_error_stop => 0);
	my $pid = $flusher->query_safe('SELECT pg_backend_pid()');
	$flusher->query_until(qr/started/, "\\echo started\n$flush_sql\n\\echo finished\n");
	my (@seen, $outsider_rows);
	$outsider_rows = 0;
	for my $i (1 .. 600)
	{
		my $row = $node->safe_psql('postgres',
			"SELECT pid, relation, phase, l0_pages_scanned, l0_pages_total, rows_collected, "
			  . "rows_flushed, stripes_written, background FROM rustydb.flush_progress");
		$outsider_rows += $node->safe_psql('postgres',
			'SELECT count(*) FROM rustydb.flush_progress', extra_params => [ '-U', 'outsider' ]);
		push @seen, $row if $row ne '';
		last if $row eq '' && @seen;
		sleep(0.02);
	}
	return ($flusher, $pid, \@seen, $outsider_rows);
}

my ($flusher, $pid, $seen, $outsider_rows) = poll_flush("SELECT rustydb.flush('ev');");
$flusher->quit;
my $flushed = $node->safe_psql('postgres',
	"SELECT flushed_rows FROM rustydb.tables WHERE relation = 'ev'::regclass");
is($flushed, '1200000', 'the flush moved every row');
ok(scalar(@$seen) >= 2, 'the flush was seen running ' . scalar(@$seen) . ' times');
my ($prev_pages, $prev_rows, $bad, %phases) = (-1, -1, 0);
for my $row (@$seen)
{
	my ($p, $rel, $phase, $scanned, $total, $collected, $rows, $stripes, $bg) = split /\|/, $row;
	$bad++ unless $p == $pid && $rel eq 'ev' && $bg eq 'f';
	$bad++ unless $total > 0 && $scanned <= $total && $rows <= 1200000;
	$bad++ if $scanned < $prev_pages || $rows < $prev_rows;
	$phases{$phase}++;
	($prev_pages, $prev_rows) = ($scanned, $rows);
}
is($bad, 0, 'every sample names the flushing backend and table, and counts only grow');
ok($prev_rows > 0 || exists $phases{'writing stripe'} || exists $phases{'converting rows to stubs'},
	'samples show stripes being written: ' . join(', ', sort keys %phases));
is($outsider_rows, 0, 'a role without SELECT on the table never sees its flush');
is($node->safe_psql('postgres',
		"SELECT flushes, rows_flushed_since_start, last_flush <= now() FROM rustydb.tables"),
	'1|1200000|t', 'the history holds the flush and its rows');
my ($stripes_h, $stripes_l) = split /\|/, $node->safe_psql('postgres',
	"SELECT h.stripes_written, l.stripes FROM rustydb.flush_history('ev') h, rustydb.table_layout('ev') l");
is($stripes_h, $stripes_l, 'history counts the stripes that exist');
is($node->safe_psql('postgres', 'SELECT count(*) FROM rustydb.flush_progress'),
	'0', 'after the flush the view is empty again');

# a flush that is cancelled leaves nothing behind
$node->safe_psql('postgres', q{
	TRUNCATE ev;
	INSERT INTO ev SELECT g, now(), 'k', g FROM generate_series(1, 1200000) g;
	VACUUM ev;
});
is($node->safe_psql('postgres', 'SELECT flushes IS NULL FROM rustydb.tables'),
	't', 'TRUNCATE forgets the flush history');
$flusher = $node->background_psql('postgres', on_error_stop => 0);
$pid = $flusher->query_safe('SELECT pg_backend_pid()');
$flusher->query_until(qr/started/, "\\echo started\nSELECT rustydb.flush('ev');\n");
my $running = 0;
for my $i (1 .. 500)
{
	$running = $node->safe_psql('postgres', 'SELECT count(*) FROM rustydb.flush_progress');
	last if $running;
	sleep(0.01);
}
ok($running, 'the second flush shows up');
$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
$node->poll_query_until('postgres', 'SELECT count(*) = 0 FROM rustydb.flush_progress')
  or die 'progress row stayed';
$flusher->quit;
is($node->safe_psql('postgres', 'SELECT count(*) FROM rustydb.flush_progress'),
	'0', 'the cancelled flush left no progress row');
# what it converted before the cancel (if anything) stays converted and
# counted; nothing else moved
is($node->safe_psql('postgres',
		"SELECT flushed_rows = coalesce(rows_flushed_since_start, 0) FROM rustydb.tables"),
	't', 'the history counts exactly the rows the cancelled flush converted');
is($node->safe_psql('postgres', 'SELECT count(*) FROM ev'), '1200000', 'no row lost');

$node->stop;
done_testing();
