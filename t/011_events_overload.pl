
# t/011_events_overload.pl
#	Storage events under overload: a listener that never reads, a ring far
#	too small, a NOTIFY queue above the shedding threshold.  Writing data must
#	never wait for events: the load completes at about its normal speed, what
#	could not be delivered is counted, and the server stays healthy.
#
# The load (each time into fresh tables): COPY of RDB_OVERLOAD_ROWS rows
# (default 2,000,000) from a file, then pgbench with 2 clients doing
# single-row INSERTs for RDB_OVERLOAD_SECONDS (default 10).  It runs with
# rustydb.events = on and off on the same node, alternately; the elapsed
# times are reported, and only a very loose bound is asserted (events on
# less than 3x slower).
#
# Node "big" (default ring of 16384 events, default threshold): a listener
# LISTENs on every channel and then never runs another command, so its
# backend ends up blocked writing notifications to it (wait_event
# ClientWrite).  Checked: the loads complete with every row; with events on
# the ring records PageAllocated/BatchInserted of the load tables and the
# worker accounts for them (event_stats), with events off nothing of the
# load tables is recorded; new connections work and the background processes
# are alive; once the stalled listener goes, a new listener receives events.
#
# Node "tiny" (rustydb.event_ring_size = 64, the minimum, and
# rustydb.notify_queue_threshold = 0.0001): a listener LISTENs and then sits
# in an open transaction (so it never consumes the NOTIFY queue), and the
# queue is filled past the threshold with notifications on another channel.
# Checked: the loads complete; event_stats shows dropped > 0 (ring
# overwritten before delivery) and shed > 0 (backpressure);
# rustydb.events_since() warns about the gap; the server stays healthy and
# delivery resumes once the listener goes.
#
# Needs the rustydb access method (RDB_TEST_AM=heap skips it).

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep time);
use RustydbTest;
use RustydbEvents;

my $am = test_am();
plan skip_all => "storage events come from the rustydb access method (RDB_TEST_AM=$am)"
  if $am ne 'rustydb';

my $rows = $ENV{RDB_OVERLOAD_ROWS} // 2_000_000;
my $secs = $ENV{RDB_OVERLOAD_SECONDS} // 10;
my $seeds = seed_variants();
my $t0 = int(time()) - 2;
note "load: COPY of $rows rows, then pgbench single-row INSERTs (2 clients) for $secs s";

my $settings = "autovacuum = off\nmax_wal_size = 4GB\ncheckpoint_timeout = 30min\nrustydb.notify_scope = all\n";

sub make_node
{
	my ($name, $conf) = @_;
	my $node = rdb_node($name, shared_buffers => '256MB', conf => $settings . ($conf // ''));
	$node->start;
	rdb_create_extension($node);
	my $file = $node->basedir . '/load.csv';
	$node->safe_psql('postgres',
		"COPY (SELECT g, md5(g::text) || md5((g * 7)::text) FROM generate_series(1, $rows) g) TO '$file' WITH (FORMAT csv)");
	my $script = $node->basedir . '/insert.sql';
	open my $fh, '>', $script or die "$script: $!";
	print $fh "\\set id random(1, 1000000000)\nINSERT INTO :tbl VALUES (:id, md5(:id::text));\n";
	close $fh;
	$node->{load_file} = $file;
	$node->{ins_script} = $script;
	return $node;
}

# rustydb.events on or off (SIGHUP), seen by new sessions.
sub set_events
{
	my ($node, $v) = @_;
	$node->safe_psql('postgres', "ALTER SYSTEM SET rustydb.events = $v; SELECT pg_reload_conf();");
	$node->poll_query_until('postgres', 'SHOW rustydb.events', $v)
	  or die "rustydb.events did not become $v";
	sleep(0.5);    # the events worker too
	return;
}

# rustydb.event_stats summed over channels: {emitted => .., ...}, and per channel.
sub stats
{
	my ($node) = @_;
	my %s;
	for my $line (split /\n/, $node->safe_psql('postgres',
		"SELECT channel, emitted, aggregated, sampled, dropped, shed FROM rustydb.event_stats
		 WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database())"))
	{
		my ($ch, @v) = split /\|/, $line;
		my $i = 0;
		for my $k (qw(emitted aggregated sampled dropped shed))
		{
			$s{$k} += $v[$i];
			$s{"$ch.$k"} = $v[$i];
			$i++;
		}
	}
	return \%s;
}

# One load into fresh tables ov_copy_TAG and ov_ins_TAG; returns
# {copy_s, tps, copy_oid, ins_oid, blocks}.
sub load
{
	my ($node, $tag) = @_;
	$node->safe_psql('postgres',
		"CREATE TABLE ov_copy_$tag (id int, v text) USING $am; CREATE TABLE ov_ins_$tag (id bigint, v text) USING $am; CHECKPOINT;");
	my $t = time();
	$node->safe_psql('postgres', "COPY ov_copy_$tag FROM '$node->{load_file}' WITH (FORMAT csv)");
	my $copy_s = time() - $t;
	is($node->safe_psql('postgres', "SELECT count(*) FROM ov_copy_$tag"), $rows,
		$node->name . " $tag: COPY loaded all $rows rows (" . sprintf('%.1f s', $copy_s) . ')');
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run(
		[
			'pgbench', '-n', '-c', '2', '-j', '2', '-T', $secs,
			'-D', "tbl=ov_ins_$tag", '-f', $node->{ins_script},
			'-h', $node->host, '-p', $node->port, 'postgres'
		],
		'>', \$out, '2>', \$err);
	my ($tps) = $out =~ /^tps = ([0-9.]+)/m;
	my ($n) = $out =~ /number of transactions actually processed: (\d+)/;
	my ($failed) = $out =~ /number of failed transactions: (\d+)/;
	ok($ok && defined $tps && ($failed // 0) == 0, $node->name . " $tag: pgbench ran without errors")
	  or diag("$out\n$err");
	is($node->safe_psql('postgres', "SELECT count(*) FROM ov_ins_$tag"), $n // -1,
		$node->name . " $tag: every committed INSERT is in the table (" . ($n // '?') . " rows, "
		  . ($tps // '?') . " tps)");
	return {
		copy_s => $copy_s,
		tps => $tps // 0,
		copy_oid => $node->safe_psql('postgres', "SELECT 'ov_copy_$tag'::regclass::oid"),
		ins_oid => $node->safe_psql('postgres', "SELECT 'ov_ins_$tag'::regclass::oid"),
		blocks => $node->safe_psql('postgres', "SELECT pg_relation_size('ov_copy_$tag') / 8192"),
	};
}

sub median
{
	my @s = sort { $a <=> $b } @_;
	return @s % 2 ? $s[ $#s / 2 ] : ($s[ @s / 2 - 1 ] + $s[ @s / 2 ]) / 2;
}

# Healthy: new connections work, the launcher alive (found among the
# postmaster's children).  Event workers come and go (they leave when idle),
# so delivery is checked by check_delivery_resumes instead.
sub check_healthy
{
	my ($node, $what) = @_;
	is($node->safe_psql('postgres', 'SELECT 1'), '1', "$what: new connections work");
	my $pm = (split /\n/, slurp_file($node->data_dir . '/postmaster.pid'))[0];
	my $children = `ps -o args= --ppid $pm`;
	like($children, qr/rustydb launcher/, "$what: the rustydb launcher is alive");
	return;
}

# After the overload: a fresh listener receives the events of a small COPY.
sub check_delivery_resumes
{
	my ($node, $what) = @_;
	set_events($node, 'on');
	my $dboid = $node->safe_psql('postgres', 'SELECT oid FROM pg_database WHERE datname = current_database()');
	my $l = RustydbEvents::Listener->new($node, 'postgres',
		channels => [ all_channels() ], seeds => $seeds, min_ts => $t0, database => $dboid);
	my $m = $l->mark;
	$node->safe_psql('postgres',
		"CREATE TABLE ov_after (id int, v text) USING $am; COPY ov_after (id) FROM PROGRAM 'seq 1 500'");
	my $oid = $node->safe_psql('postgres', "SELECT 'ov_after'::regclass::oid");
	my ($ok, @got) = $l->wait_for($m,
		sub { grep { ($_->{ev}{variant} // '') eq 'BatchInserted' && ($_->{ev}{relation} // 0) == $oid } @_ },
		timeout => 20);
	ok($ok, "$what: a new listener receives the events of a new COPY (delivery resumed)");
	my @bad = grep { @{ $_->{problems} // [] } } grep { $_->{channel} =~ /^rustydb_/ } @got;
	is(scalar(@bad), 0, "$what: their payloads validate")
	  or diag(join("\n", map { "$_->{payload}: @{$_->{problems}}" } @bad[ 0 .. ($#bad < 4 ? $#bad : 4) ]));
	$l->quit;
	return;
}

my %report;

# ===========================================================================
# Node "big": default ring, a listener that never reads.
# ===========================================================================
{
	my $node = make_node('big');
	my $stalled = $node->background_psql('postgres', timeout => 1800);
	$stalled->query_safe(join(' ', map { "LISTEN $_;" } all_channels()));
	my $stalled_pid = $stalled->query_safe('SELECT pg_backend_pid()');
	# From here on $stalled never runs another command.

	my (@on, @off);
	for my $round (1 .. 2)
	{
		for my $mode ('on', 'off')
		{
			set_events($node, $mode);
			my $seq0 = $node->safe_psql('postgres', 'SELECT coalesce(max(seq), 0) FROM rustydb.events');
			my $s0 = stats($node);
			my $r = load($node, "${mode}_$round");
			my $rels = "$r->{copy_oid}, $r->{ins_oid}";
			if ($mode eq 'on')
			{
				push @on, $r;
				# The worker accounts for every BatchInserted of the COPY
				# (sent, dropped or shed) within a few rounds.
				my $want = int(($rows + 999) / 1000);
				my $s1;
				my $deadline = time() + 20;
				do
				{
					sleep(0.5);
					$s1 = stats($node);
				  } while (($s1->{'rustydb_columnar.emitted'} + $s1->{'rustydb_columnar.dropped'} + $s1->{'rustydb_columnar.shed'})
					  - ($s0->{'rustydb_columnar.emitted'} + $s0->{'rustydb_columnar.dropped'} + $s0->{'rustydb_columnar.shed'}) < $want
					  && time() < $deadline);
				my $acc = ($s1->{'rustydb_columnar.emitted'} + $s1->{'rustydb_columnar.dropped'} + $s1->{'rustydb_columnar.shed'})
				  - ($s0->{'rustydb_columnar.emitted'} + $s0->{'rustydb_columnar.dropped'} + $s0->{'rustydb_columnar.shed'});
				cmp_ok($acc, '>=', $want,
					"big on_$round: event_stats accounts for the COPY's >= $want batches on rustydb_columnar ($acc)");
				my $seq1 = $node->safe_psql('postgres', 'SELECT max(seq) FROM rustydb.events');
				cmp_ok($seq1 - $seq0, '>=', $r->{blocks} + $want,
					"big on_$round: the ring recorded >= $r->{blocks} PageAllocated + $want BatchInserted ("
					  . ($seq1 - $seq0) . " events)");
				note "big on_$round: event_stats delta: "
				  . join(', ', map { "$_ " . ($s1->{$_} - $s0->{$_}) } qw(emitted aggregated sampled dropped shed));
			}
			else
			{
				push @off, $r;
				is($node->safe_psql('postgres', "SELECT count(*) FROM rustydb.events WHERE relation IN ($rels)"),
					0, "big off_$round: with rustydb.events = off nothing of the load is recorded");
			}
		}
	}
	my $we = $node->safe_psql('postgres', "SELECT coalesce(wait_event, '-') FROM pg_stat_activity WHERE pid = $stalled_pid");
	is($we, 'ClientWrite', 'big: the listener that never reads has its backend blocked writing notifications');
	my $usage = $node->safe_psql('postgres', 'SELECT pg_notification_queue_usage()');
	note "big: NOTIFY queue usage $usage";

	my ($c_on, $c_off) = (median(map { $_->{copy_s} } @on), median(map { $_->{copy_s} } @off));
	my ($t_on, $t_off) = (median(map { $_->{tps} } @on), median(map { $_->{tps} } @off));
	$report{big} = sprintf('COPY %.2f s (events on, stalled listener) vs %.2f s (off): x%.2f; INSERT %.0f tps vs %.0f tps: x%.2f',
		$c_on, $c_off, $c_on / $c_off, $t_on, $t_off, $t_off / ($t_on || 1));
	note "big: $report{big}";
	cmp_ok($c_on / $c_off, '<', 3, "big: COPY with events on and a stalled listener is not 3x slower ($report{big})");
	cmp_ok($t_off / ($t_on || 1e-9), '<', 3, 'big: single-row INSERT tps with events on is not 3x lower');

	check_healthy($node, 'big');
	$stalled->quit;
	$node->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $stalled_pid")
	  or diag('the stalled listener backend did not go away');
	check_delivery_resumes($node, 'big');
	check_log_clean($node, 0, 'big: log has no PANIC, FATAL, failed assertion or crashed process');
	$node->stop;
}

# ===========================================================================
# Node "tiny": ring of 64 events, shedding above 0.01% NOTIFY queue usage.
# ===========================================================================
{
	my $node = make_node('tiny', "rustydb.event_ring_size = 64\nrustydb.notify_queue_threshold = 0.0001\n");
	is($node->safe_psql('postgres', "SELECT current_setting('rustydb.event_ring_size') || ' ' || current_setting('rustydb.notify_queue_threshold')"),
		'64 0.0001', 'tiny: ring of 64 events, threshold 0.0001');
	my $stalled = $node->background_psql('postgres', timeout => 1800);
	$stalled->query_safe(join(' ', map { "LISTEN $_;" } all_channels()));
	# An open transaction: this backend consumes no notification until it ends.
	$stalled->query_safe('BEGIN; SELECT 1;');
	# Fill the queue past the threshold (0.0001 of 8 GB is ~860 kB): 300
	# distinct 7.9 kB notifications on a channel nobody listens to.
	$node->safe_psql('postgres',
		"SELECT pg_notify('rustydb_filler', g || repeat('x', 7900)) FROM generate_series(1, 300) g");
	my $usage = $node->safe_psql('postgres', 'SELECT pg_notification_queue_usage()');
	cmp_ok($usage, '>', 0.0001, "tiny: NOTIFY queue usage $usage is above the threshold");

	my (%r, %s);
	for my $mode ('on', 'off')
	{
		set_events($node, $mode);
		my $s0 = stats($node);
		$r{$mode} = load($node, $mode);
		sleep(2) if $mode eq 'on';    # let the worker run a few rounds
		my $s1 = stats($node);
		$s{$mode} = { map { $_ => $s1->{$_} - $s0->{$_} } qw(emitted aggregated sampled dropped shed) };
		note "tiny $mode: event_stats delta: " . join(', ', map { "$_ $s{$mode}{$_}" } sort keys %{ $s{$mode} });
	}
	cmp_ok($s{on}{dropped}, '>', 0, "tiny: events overwritten in the 64-event ring are counted as dropped ($s{on}{dropped})");
	cmp_ok($s{on}{shed}, '>', 0, "tiny: events not sent because the NOTIFY queue is above the threshold are counted as shed ($s{on}{shed})");
	my ($ret, $out, $err) = $node->psql('postgres', 'SELECT count(*) FROM rustydb.events_since(1)');
	like($err, qr/WARNING:.*rustydb events \d+ to \d+ were overwritten/,
		'tiny: events_since() warns that events were overwritten');
	cmp_ok($out, '<=', 64, "tiny: the ring holds at most 64 events ($out)");
	$report{tiny} = sprintf('COPY %.2f s (events on, ring 64, shedding) vs %.2f s (off): x%.2f; INSERT %.0f tps vs %.0f tps: x%.2f; dropped %d, shed %d',
		$r{on}{copy_s}, $r{off}{copy_s}, $r{on}{copy_s} / $r{off}{copy_s},
		$r{on}{tps}, $r{off}{tps}, $r{off}{tps} / ($r{on}{tps} || 1), $s{on}{dropped}, $s{on}{shed});
	note "tiny: $report{tiny}";
	cmp_ok($r{on}{copy_s} / $r{off}{copy_s}, '<', 3, "tiny: COPY with events on is not 3x slower ($report{tiny})");
	cmp_ok($r{off}{tps} / ($r{on}{tps} || 1e-9), '<', 3, 'tiny: single-row INSERT tps with events on is not 3x lower');

	check_healthy($node, 'tiny');
	$stalled->query_safe('COMMIT');
	$stalled->quit;
	# The queue drains once no listener holds it back.
	$node->poll_query_until('postgres', 'SELECT pg_notification_queue_usage() < 0.0001')
	  or diag('NOTIFY queue usage stays at ' . $node->safe_psql('postgres', 'SELECT pg_notification_queue_usage()'));
	check_delivery_resumes($node, 'tiny');
	check_log_clean($node, 0, 'tiny: log has no PANIC, FATAL, failed assertion or crashed process');
	$node->stop;
}

diag("events overload timings: big: $report{big}; tiny: $report{tiny}") if $ENV{RDB_OVERLOAD_VERBOSE};
note "big: $report{big}";
note "tiny: $report{tiny}";
done_testing();
