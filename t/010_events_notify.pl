
# t/010_events_notify.pl
#	Storage events reach LISTENers with the numbers of what the engine did.
#
# One session LISTENs on the six rustydb_* channels (RustydbEvents::Listener:
# a psql session that runs `SELECT 1` every 200 ms and collects the
# "Asynchronous notification ..." lines psql prints); another does real work
# and the test compares the events with what it can measure independently:
#
#   * a load that grows a table from B to A blocks gives exactly one
#     PageAllocated per new block, page_id = B .. A-1, size 8192;
#   * DELETE of some rows on a few pages + VACUUM gives PageCompacted on
#     exactly those pages, bytes_reclaimed > 0 and consistent with the page
#     headers before and after (pageinspect);
#   * a COPY of K rows gives BatchInserted events whose rows sum to K, each
#     batch at most 1000 rows (COPY's buffer), columns = live columns (a
#     dropped column does not count), table_name = schema.table;
#   * after a restart (empty shared_buffers) a full scan gives IoStats with
#     reads_per_sec > 0 and VectoredRead runs of the table's blocks; with
#     rustydb.events_sample_rate = 1, ReadCompleted one by one for the pages
#     read (by default they are only aggregated);
#   * a page damaged on disk (block 2, bytes inverted while the server is
#     down) gives ChecksumFailure with expected = pd_checksum as stored in the
#     file and actual = the checksum of the damaged page (computed here in
#     Perl with PostgreSQL's algorithm, itself checked against the intact
#     page first).
# Every payload must parse, have exactly message_type/data/timestamp, one
# variant under data with exactly the seed's keys and JSON types
# (test_data/*.json: integer vs float vs string; floats must be written with
# a decimal point or exponent) plus optionally relation/database, sane unix
# timestamps and this database's oid.  Only live variants may be notified.
# rustydb.events must hold the notified events (same payload, channel,
# variant, relation), each per-channel view only its channel, and
# rustydb.events_since(seq) exactly the later ones.
#
# Needs the rustydb access method (events come from it): with RDB_TEST_AM=heap
# the test is skipped.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep time);
use RustydbTest;
use RustydbEvents;

my $am = test_am();
plan skip_all => "storage events come from the rustydb access method (RDB_TEST_AM=$am)"
  if $am ne 'rustydb';

my $t0 = int(time()) - 2;
my $seeds = seed_variants();
is(scalar(keys %$seeds), 24, 'the seed test data defines 24 variants');

# Variants the engine emits today (EVENTS_CONTRACT.md); ReadCompleted and
# WriteCompleted only when sampled.
my %live = map { $_ => 1 } qw(PageAllocated PageCompacted ChecksumFailure
  ReadCompleted WriteCompleted VectoredRead IoStats BatchInserted);

# Full payloads (table names) for every listener: the administrator's opt-in
# (the default, 'public', anonymises tables PUBLIC may not read; t/012).
my $node = rdb_node('events', conf => "autovacuum = off\nrustydb.notify_scope = all\n");
$node->start;
rdb_create_extension($node);
$node->safe_psql('postgres', 'CREATE EXTENSION pageinspect');
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'rustydb_am'"),
	'0.8.0', 'extension version 0.8.0 (storage events, compaction, directory summaries, stripe space, cache and column view privileges)');
my $dboid = $node->safe_psql('postgres',
	'SELECT oid FROM pg_database WHERE datname = current_database()');

sub sql { return $node->safe_psql('postgres', $_[0]); }
sub nblocks { return sql("SELECT pg_relation_size('$_[0]') / 8192"); }
sub oid_of { return sql("SELECT '$_[0]'::regclass::oid"); }

sub listener
{
	return RustydbEvents::Listener->new($node, 'postgres',
		channels => [ all_channels(), 'rustydb_harness_check' ],
		seeds => $seeds,
		min_ts => $t0,
		database => $dboid);
}

# Notifications of a variant (and relation, if given) among @_.
sub of
{
	my ($variant, $relid, @n) = @_;
	return grep {
		     $_->{ev}
		  && ($_->{ev}{variant} // '') eq $variant
		  && (!defined $relid || ($_->{ev}{relation} // -1) == $relid)
	} @n;
}

# Every notification received, over the listeners (one per server start):
# a listener's list goes here when it quits.
my @all;

my $l = listener();

# ---------------------------------------------------------------------------
# The harness itself: a NOTIFY sent by hand arrives intact, and the payload
# check accepts the seed's own message and rejects altered ones.
# ---------------------------------------------------------------------------
{
	my $m = $l->mark;
	my $msg = json_text($seeds->{IoStats}{examples}[0]);
	sql("NOTIFY rustydb_harness_check, " . sql_literal($msg));
	my ($ok, @got) = $l->wait_for($m,
		sub { grep { $_->{channel} eq 'rustydb_harness_check' } @_ }, timeout => 10);
	ok($ok && (grep { $_->{payload} eq $msg } @got),
		'harness: a hand-sent NOTIFY is collected with its payload intact');
	my ($ev, @p) = check_payload($seeds, 'rustydb_io', $msg);
	is_deeply(\@p, [], 'harness: the seed message itself validates');
	my %bad = (
		'float written as an integer' => sub { $_[0] =~ s/"reads_per_sec": 1500\.0/"reads_per_sec": 1500/ },
		'integer written as a float' => sub { $_[0] =~ s/"avg_read_latency_us": 2500/"avg_read_latency_us": 2500.0/ },
		'number written as a string' => sub { $_[0] =~ s/"avg_write_latency_us": 3200/"avg_write_latency_us": "3200"/ },
		'missing field' => sub { $_[0] =~ s/"writes_per_sec": 800\.0, // },
		'unknown extra field' => sub { $_[0] =~ s/"timestamp": 1702569604\}/"timestamp": 1702569604, "stripe": 3}/ },
		'wrong message_type' => sub { $_[0] =~ s/disk_io_event/page_event/ },
		'not JSON' => sub { $_[0] =~ s/\}$// });
	for my $what (sort keys %bad)
	{
		my $t = $msg;
		$bad{$what}->($t);
		isnt($t, $msg, "harness: mutation '$what' applies");
		my (undef, @q) = check_payload($seeds, 'rustydb_io', $t);
		cmp_ok(scalar(@q), '>', 0, "harness: payload check rejects a $what");
	}
}

# ---------------------------------------------------------------------------
# PageAllocated: one per new block of a load.
# ---------------------------------------------------------------------------
sql("CREATE TABLE t_load (id int, v text) USING $am");
my $load_oid = oid_of('t_load');
my $before = nblocks('t_load');
my $m = $l->mark;
sql("INSERT INTO t_load SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 20000) g");
my $after = nblocks('t_load');
note "t_load grew from $before to $after blocks";
cmp_ok($after - $before, '>=', 100, 'the load allocated at least 100 new blocks');

my ($ok, @got) = $l->wait_for(
	$m,
	sub {
		my %seen = map { $_->{ev}{f}{page_id} // -1 => 1 } of('PageAllocated', $load_oid, @_);
		return !grep { !$seen{$_} } $before .. $after - 1;
	},
	timeout => 20,
	settle => 1.5);
my @pa = of('PageAllocated', $load_oid, @got);
ok($ok, "PageAllocated notified for every new block $before.." . ($after - 1))
  or diag(scalar(@pa) . " PageAllocated notifications for t_load");
is(join(',', sort { $a <=> $b } map { $_->{ev}{f}{page_id} // 'undef' } @pa),
	join(',', $before .. $after - 1),
	'... exactly once each, and for no other block');
is(scalar(grep { ($_->{ev}{f}{size} // 0) != 8192 } @pa), 0, '... each with size 8192');
is(scalar(grep { !defined $_->{ev}{relation} } @pa), 0, '... each with the relation oid');
# The NOTIFYs come from the events worker, not from the loading backend.
if (@pa)
{
	my $bt = sql("SELECT backend_type FROM pg_stat_activity WHERE pid = $pa[0]{pid}");
	like($bt, qr/rustydb/, "notifications are sent by a rustydb background process ($bt)");
}

# ---------------------------------------------------------------------------
# PageCompacted: DELETE some rows on a few pages, VACUUM.
# ---------------------------------------------------------------------------
sql("CREATE TABLE t_vac (id int, v text) USING $am");
sql("INSERT INTO t_vac SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 4000) g");
my $vac_oid = oid_of('t_vac');
my $vac_blocks = nblocks('t_vac');
note "t_vac: $vac_blocks blocks";
my @dpages = (2, 5, 9);
cmp_ok($vac_blocks, '>', 12, 't_vac spans more than 12 blocks');

# Page headers of every block of t_vac (0 = metapage included: it must not
# change, and no event may name it).
sub headers
{
	my %h;
	for my $line (split /\n/, sql(
		"SELECT b, lower, upper FROM generate_series(0, $vac_blocks - 1) b,
		        LATERAL page_header(get_raw_page('t_vac', b))"))
	{
		my ($b, $lo, $up) = split /\|/, $line;
		$h{$b} = [ $lo, $up ];
	}
	return \%h;
}
my $h0 = headers();
my %deleted = map { split /\|/ } split /\n/, sql(
	"WITH d AS (DELETE FROM t_vac WHERE (ctid::text::point)[0]::int IN (" . join(',', @dpages) . ")
	                                   AND id % 2 = 0 RETURNING ctid)
	 SELECT (ctid::text::point)[0]::int, count(*) FROM d GROUP BY 1 ORDER BY 1");
is(join(',', sort { $a <=> $b } keys %deleted), join(',', @dpages),
	'rows deleted on blocks ' . join(',', @dpages) . ' only')
  or diag(explain \%deleted);
$m = $l->mark;
# VACUUM removes the dead rows unless some snapshot still needs them (a
# transaction that was open when the DELETE committed, e.g. a round of the
# events worker): then repeat it, as a user would.  Each attempt's events
# count.
my ($h1, $attempts) = (undef, 0);
while ($attempts < 5)
{
	sql('VACUUM t_vac');
	$attempts++;
	$h1 = headers();
	last unless grep { $h1->{$_}[1] == $h0->{$_}[1] } @dpages;
	sleep(0.5);
}
note "VACUUM attempts: $attempts";
($ok, @got) = $l->wait_for(
	$m,
	sub {
		my %seen = map { $_->{ev}{f}{page_id} // -1 => 1 } of('PageCompacted', $vac_oid, @_);
		return !grep { !$seen{$_} } @dpages;
	},
	timeout => 15,
	settle => 1.5);
my @pc = of('PageCompacted', $vac_oid, @got);
ok($ok, 'PageCompacted notified for every page that had dead rows');
my %reclaimed;
$reclaimed{ $_->{ev}{f}{page_id} // -1 } += $_->{ev}{f}{bytes_reclaimed} // 0 for @pc;
is(join(',', sort { $a <=> $b } keys %reclaimed), join(',', @dpages),
	'... and for no other page');
is(scalar(grep { ($_->{ev}{f}{bytes_reclaimed} // 0) <= 0 } @pc), 0,
	'... each with bytes_reclaimed > 0');
for my $p (@dpages)
{
	# Tuple space freed = growth of pd_upper (defragmentation packs the
	# remaining tuples); free space growth (upper - lower) also counts line
	# pointers that VACUUM truncated.  4 bytes of slack: PageGetFreeSpace
	# subtracts one line pointer and floors at 0.
	my ($lo0, $up0) = @{ $h0->{$p} };
	my ($lo1, $up1) = @{ $h1->{$p} };
	my $tuple_bytes = $up1 - $up0;
	my $free_growth = ($up1 - $lo1) - ($up0 - $lo0);
	my $got = $reclaimed{$p} // 0;
	note "block $p: $deleted{$p} rows deleted; pd_upper $up0 -> $up1, pd_lower $lo0 -> $lo1; bytes_reclaimed $got";
	cmp_ok($tuple_bytes, '>', 0, "block $p: VACUUM really freed tuple space ($tuple_bytes bytes)");
	ok($got >= $tuple_bytes - 4 && $got <= $free_growth + 4,
		"block $p: bytes_reclaimed $got is the space VACUUM freed ($tuple_bytes tuple bytes, free space +$free_growth)");
}

# ---------------------------------------------------------------------------
# BatchInserted: COPY K rows into a table with 5 live columns (one dropped).
# ---------------------------------------------------------------------------
sql("CREATE TABLE t_copy (id int, gone int, name text, amount numeric, at timestamptz, flag bool) USING $am");
sql("ALTER TABLE t_copy DROP COLUMN gone");
my $copy_oid = oid_of('t_copy');
my $k = 12345;
my $copy_file = $node->basedir . '/t_copy.tsv';
{
	open my $fh, '>', $copy_file or die "$copy_file: $!";
	printf $fh "%d\tname %d\t%d.%02d\t2024-01-01 00:00:%02d+00\t%s\n", $_, $_, $_, $_ % 100, $_ % 60,
	  ($_ % 2 ? 't' : 'f')
	  for 1 .. $k;
	close $fh;
}
$m = $l->mark;
sql("COPY t_copy FROM '$copy_file'");
is(sql('SELECT count(*) FROM t_copy'), $k, "COPY loaded $k rows");
($ok, @got) = $l->wait_for(
	$m,
	sub {
		my $sum = 0;
		$sum += $_->{ev}{f}{rows} // 0 for of('BatchInserted', $copy_oid, @_);
		return $sum >= $k;
	},
	timeout => 15,
	settle => 2);
my @bi = of('BatchInserted', $copy_oid, @got);
my $rows = 0;
$rows += $_->{ev}{f}{rows} // 0 for @bi;
ok($ok, 'BatchInserted notified for the COPY');
is($rows, $k, "... rows of the batches sum to $k");
cmp_ok(scalar(@bi), '>=', int(($k + 999) / 1000), '... in batches of at most 1000 rows (' . scalar(@bi) . ' batches)');
is(scalar(grep { ($_->{ev}{f}{rows} // 0) < 1 || $_->{ev}{f}{rows} > 1000 } @bi), 0,
	'... each batch 1..1000 rows');
is(scalar(grep { ($_->{ev}{f}{columns} // -1) != 5 } @bi), 0,
	'... columns = 5 (the dropped column does not count)');
is(scalar(grep { ($_->{ev}{f}{table_name} // '') ne 'public.t_copy' } @bi), 0,
	'... table_name = public.t_copy');

# ---------------------------------------------------------------------------
# The views hold what was notified.
# ---------------------------------------------------------------------------
$l->poll;
my @mine = grep { $_->{ev} && defined $_->{ev}{relation} } $l->since(0);
{
	my $values = join(",\n", map {
		"(" . sql_literal($_->{channel}) . ", " . sql_literal($_->{payload}) . ")"
	} @mine);
	my $missing = sql(qq{
		SELECT count(*) FROM (VALUES $values) n(channel, payload)
		WHERE NOT EXISTS (
			SELECT 1 FROM rustydb.events e
			WHERE e.payload = n.payload::jsonb
			  AND e.channel = n.channel
			  AND e.message_type = n.payload::jsonb->>'message_type'
			  AND e.variant = (SELECT k FROM jsonb_object_keys(n.payload::jsonb->'data') k)
			  AND e.relation::oid = (SELECT (v->>'relation')::oid FROM jsonb_each(n.payload::jsonb->'data') x(k, v)))});
	is($missing, 0, 'rustydb.events holds every notified event (same payload, channel, variant, relation) of '
		  . scalar(@mine));
	# And nothing more for these tables: per (variant, relation), as many
	# rows in the view as notifications.
	my %n;
	$n{"$_->{ev}{variant}|$_->{ev}{relation}"}++ for @mine;
	my %v = map { split /=/ } split /\n/, sql(
		"SELECT variant || '|' || relation::oid || '=' || count(*) FROM rustydb.events
		 WHERE relation IN ('t_load'::regclass, 't_vac'::regclass, 't_copy'::regclass)
		   AND variant NOT IN ('ReadCompleted', 'WriteCompleted')
		 GROUP BY variant, relation");
	is_deeply(\%v, \%n, 'per variant and table, rustydb.events has as many rows as were notified');
}
# Per-channel views: exactly their channel's part of rustydb.events.
{
	my $w = sql('SELECT max(seq) FROM rustydb.events');
	for my $ch (all_channels())
	{
		(my $view = $ch) =~ s/^rustydb_/events_/;
		my $r = sql(qq{
			SELECT (SELECT count(*) FROM rustydb.$view WHERE channel <> '$ch'),
			       (SELECT count(*) FROM (SELECT seq, payload::text FROM rustydb.$view WHERE seq <= $w
			                              EXCEPT
			                              SELECT seq, payload::text FROM rustydb.events WHERE channel = '$ch' AND seq <= $w) x),
			       (SELECT count(*) FROM (SELECT seq FROM rustydb.events WHERE channel = '$ch' AND seq <= $w
			                              EXCEPT
			                              SELECT seq FROM rustydb.$view WHERE seq <= $w) y),
			       (SELECT count(*) FROM rustydb.$view WHERE seq <= $w)});
		my ($other, $extra, $lacking, $count) = split /\|/, $r;
		is("$other $extra $lacking", '0 0 0', "rustydb.$view is rustydb.events of channel $ch ($count rows)");
	}
	cmp_ok(sql("SELECT count(*) FROM rustydb.events_pages WHERE relation = 't_load'::regclass"), '>=',
		$after - $before, 'rustydb.events_pages has the PageAllocated events of t_load');
	cmp_ok(sql("SELECT count(*) FROM rustydb.events_columnar WHERE relation = 't_copy'::regclass"), '>=',
		scalar(@bi), 'rustydb.events_columnar has the BatchInserted events of t_copy');
	is(sql(qq{SELECT count(*) FROM rustydb.events
	          WHERE message_type <> (payload->>'message_type')
	             OR NOT payload->'data' ? variant
	             OR (payload->'data'->variant ? 'seq' AND (payload->'data'->variant->>'seq')::bigint <> seq)
	             OR emitted_at IS NULL OR emitted_at > now() + interval '5 s'
	             OR emitted_at < to_timestamp($t0)}),
		0, 'rustydb.events: message_type, variant, seq and emitted_at agree with the payload');
}
# events_since(seq): exactly the events after seq.
{
	my $w = sql('SELECT coalesce(max(seq), 0) FROM rustydb.events');
	open my $fh, '>', "$copy_file.2" or die;
	print $fh "$_\tsince $_\t1\t2024-01-01\tt\n" for 1 .. 2500;
	close $fh;
	sql("COPY t_copy FROM '$copy_file.2'");
	my $r = sql(qq{
		WITH s AS (SELECT * FROM rustydb.events_since($w)),
		     v AS (SELECT * FROM rustydb.events WHERE seq > $w AND seq <= (SELECT max(seq) FROM s))
		SELECT (SELECT count(*) FROM s WHERE seq <= $w),
		       (SELECT count(*) FROM (SELECT seq, payload::text FROM v EXCEPT SELECT seq, payload::text FROM s) x),
		       (SELECT coalesce(sum((payload->'data'->'BatchInserted'->>'rows')::int), 0)
		          FROM s WHERE variant = 'BatchInserted' AND relation = 't_copy'::regclass),
		       (SELECT count(*) FROM s)});
	my ($old, $lacking, $since_rows, $n) = split /\|/, $r;
	is($old, 0, "events_since($w) returns no event with seq <= $w");
	is($lacking, 0, "events_since($w) returns every event of rustydb.events after $w");
	is($since_rows, 2500, "events_since($w) has the BatchInserted events of a later COPY of 2500 rows ($n events)");
	my ($ret, $out, $err) = $node->psql('postgres', "SELECT count(*) FROM rustydb.events_since($w)");
	unlike($err, qr/overwritten/, 'no warning about overwritten events while the ring holds them');
}

# ---------------------------------------------------------------------------
# I/O: after a restart, reading a table misses shared_buffers.
# ---------------------------------------------------------------------------
sql("CREATE TABLE t_io (id int, v text) USING $am");
sql("INSERT INTO t_io SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 30000) g");
sql("CREATE TABLE t_io2 (id int, v text) USING $am");
sql("INSERT INTO t_io2 SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 5000) g");
sql('CHECKPOINT');
my $io_blocks = nblocks('t_io');
my $io2_blocks = nblocks('t_io2');
my $io_oid = oid_of('t_io');
my $io2_oid = oid_of('t_io2');
is(scalar(grep { $_->{ev} && ($_->{ev}{variant} // '') =~ /^(ReadCompleted|WriteCompleted)$/ } $l->since(0)), 0,
	'ReadCompleted/WriteCompleted are not notified one by one by default');
$l->poll;
push @all, $l->since(0);
$l->quit;
$node->restart;
$l = listener();
$m = $l->mark;
is(sql('SELECT count(*) FROM t_io'), 30000, "cold full scan of t_io ($io_blocks blocks)");
($ok, @got) = $l->wait_for(
	$m,
	sub { grep { ($_->{ev}{f}{reads_per_sec} // 0) > 0 } of('IoStats', undef, @_) },
	timeout => 10,
	settle => 1);
my @ios = of('IoStats', undef, @got);
ok($ok, 'IoStats with reads_per_sec > 0 after a cold scan') or diag(explain [ map { $_->{payload} } @ios ]);
my ($busy) = grep { $_->{ev}{f}{reads_per_sec} > 0 } @ios;
if ($busy)
{
	my $f = $busy->{ev}{f};
	note "IoStats: $busy->{payload}";
	cmp_ok($f->{read_throughput_mbps}, '>', 0, '... read_throughput_mbps > 0');
	cmp_ok($f->{avg_read_latency_us}, '>=', 0, '... avg_read_latency_us >= 0');
	ok(!defined $busy->{ev}{relation}, '... no relation (a per-database statistic)');
}
my @vr = of('VectoredRead', $io_oid, @got);
cmp_ok(scalar(@vr), '>=', 1, 'VectoredRead notified for the scan of t_io');
is(scalar(grep { ($_->{ev}{f}{page_count} // 0) < 2 } @vr), 0, '... each a run of >= 2 pages');
is(scalar(grep { ($_->{ev}{f}{total_bytes} // 0) != 8192 * ($_->{ev}{f}{page_count} // 0) } @vr), 0,
	'... total_bytes = page_count * 8192');
my $vr_pages = 0;
$vr_pages += $_->{ev}{f}{page_count} // 0 for @vr;
cmp_ok($vr_pages, '<=', $io_blocks, "... covering at most the table's $io_blocks blocks ($vr_pages)");
is(scalar(of('ReadCompleted', undef, @got)), 0, '... and no ReadCompleted one by one (sample rate 0)');
is(sql("SELECT count(*) FROM rustydb.io_stats WHERE database = $dboid AND reads_per_sec > 0 AND measured_at > now() - interval '1 min'"),
	1, 'rustydb.io_stats shows the reads of this database');
cmp_ok(sql("SELECT aggregated FROM rustydb.event_stats WHERE channel = 'rustydb_io' AND database = $dboid"), '>', 0,
	'rustydb.event_stats counts the aggregated single reads');

# Sampling: every single read notified.
sql("ALTER SYSTEM SET rustydb.events_sample_rate = 1");
sql('SELECT pg_reload_conf()');
sleep(1.5);    # the worker and new backends pick it up
$m = $l->mark;
is(sql('SELECT count(*) FROM t_io2'), 5000, "cold full scan of t_io2 ($io2_blocks blocks) with sample rate 1");
($ok, @got) = $l->wait_for(
	$m,
	sub { of('ReadCompleted', $io2_oid, @_) >= $io2_blocks - 1 },
	timeout => 10,
	settle => 1);
my @rc = of('ReadCompleted', $io2_oid, @got);
ok($ok, 'with rustydb.events_sample_rate = 1, ReadCompleted for (nearly) every block read: '
	  . scalar(@rc) . " of $io2_blocks");
my %rcp;
$rcp{ $_->{ev}{f}{page_id} // -1 }++ for @rc;
is(scalar(grep { $rcp{$_} > 1 || $_ < 0 || $_ >= $io2_blocks } keys %rcp), 0,
	'... page_ids distinct and within the table');
is(scalar(grep { ($_->{ev}{f}{bytes} // 0) != 8192 || ($_->{ev}{f}{latency_us} // -1) < 0 } @rc), 0,
	'... bytes = 8192, latency_us >= 0');
cmp_ok(sql("SELECT sampled FROM rustydb.event_stats WHERE channel = 'rustydb_io' AND database = $dboid"), '>=', scalar(@rc),
	'rustydb.event_stats counts them as sampled');

# ... and every page the engine writes itself: a relation extension writes
# one new zeroed page.
sql("CREATE TABLE t_w (id int, v text) USING $am");
my $w_oid = oid_of('t_w');
my $w_before = nblocks('t_w');
$m = $l->mark;
sql("INSERT INTO t_w SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 3000) g");
my $w_after = nblocks('t_w');
($ok, @got) = $l->wait_for(
	$m,
	sub {
		my %seen = map { $_->{ev}{f}{page_id} // -1 => 1 } of('WriteCompleted', $w_oid, @_);
		return (!grep { !$seen{$_} } $w_before .. $w_after - 1)
		  && grep { ($_->{ev}{f}{writes_per_sec} // 0) > 0 } of('IoStats', undef, @_);
	},
	timeout => 10,
	settle => 1);
my @wc = of('WriteCompleted', $w_oid, @got);
is(join(',', sort { $a <=> $b } map { $_->{ev}{f}{page_id} // 'undef' } @wc), join(',', $w_before .. $w_after - 1),
	"WriteCompleted (sampled) once for each block the load added, $w_before.." . ($w_after - 1));
is(scalar(grep { ($_->{ev}{f}{bytes} // 0) != 8192 || ($_->{ev}{f}{latency_us} // -1) < 0 } @wc), 0,
	'... bytes = 8192, latency_us >= 0');
my ($wstats) = grep { ($_->{ev}{f}{writes_per_sec} // 0) > 0 } of('IoStats', undef, @got);
ok($wstats && $wstats->{ev}{f}{write_throughput_mbps} > 0,
	'IoStats reports the writes (writes_per_sec, write_throughput_mbps > 0)')
  or diag(join("\n", map { $_->{payload} } of('IoStats', undef, @got)));
sql("ALTER SYSTEM RESET rustydb.events_sample_rate");
sql('SELECT pg_reload_conf()');

# ---------------------------------------------------------------------------
# ChecksumFailure: block 2 damaged while the server is down.
# ---------------------------------------------------------------------------
my $blk = 2;
sql("CREATE TABLE t_sum (id int, v text) USING $am");
sql("INSERT INTO t_sum SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 3000) g");
sql('CHECKPOINT');
my $sum_oid = oid_of('t_sum');
my $file = $node->data_dir . '/' . sql("SELECT pg_relation_filepath('t_sum')");
cmp_ok(nblocks('t_sum'), '>', $blk + 1, "t_sum spans more than " . ($blk + 1) . " blocks");
$l->poll;
push @all, $l->since(0);
$l->quit;
$node->stop;

my ($stored, $damaged_sum);
{
	open my $fh, '+<', $file or die "$file: $!";
	binmode $fh;
	seek($fh, $blk * 8192, 0) or die;
	my $page;
	read($fh, $page, 8192) == 8192 or die "short read";
	$stored = unpack('v', substr($page, 8, 2));
	is(pg_checksum_page($page, $blk), $stored,
		"harness: the Perl checksum of intact block $blk equals its pd_checksum ($stored)");
	substr($page, 4096 - 32, 64) ^= ("\xff" x 64);
	$damaged_sum = pg_checksum_page($page, $blk);
	isnt($damaged_sum, $stored, "the damaged page's checksum ($damaged_sum) differs");
	seek($fh, $blk * 8192, 0) or die;
	print $fh $page;
	close $fh or die;
}
$node->start;
$l = listener();
$m = $l->mark;
my ($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\nSELECT count(*) FROM t_sum");
like($err, qr/ERROR:\s+XX001/, 'reading the damaged table fails with XX001');
like($err, qr/calculated checksum $damaged_sum but expected $stored\b/,
	"harness: PostgreSQL's own warning gives the same checksums ($damaged_sum, $stored)");
($ok, @got) = $l->wait_for($m, sub { of('ChecksumFailure', $sum_oid, @_) }, timeout => 10, settle => 1);
my @cf = of('ChecksumFailure', $sum_oid, @got);
ok($ok, 'ChecksumFailure notified');
is(join(',', map { $_->{ev}{f}{page_id} // 'undef' } @cf), join(',', ($blk) x @cf), "... page_id $blk");
is(join(',', map { $_->{ev}{f}{expected} // 'undef' } @cf), join(',', ($stored) x @cf),
	"... expected = pd_checksum stored in the page ($stored)");
is(join(',', map { $_->{ev}{f}{actual} // 'undef' } @cf), join(',', ($damaged_sum) x @cf),
	"... actual = checksum of the damaged page ($damaged_sum)");
is(sql("SELECT count(*) FROM rustydb.events_pages WHERE variant = 'ChecksumFailure' AND relation = 't_sum'::regclass
        AND (payload->'data'->'ChecksumFailure'->>'expected')::int = $stored
        AND (payload->'data'->'ChecksumFailure'->>'actual')::int = $damaged_sum"),
	scalar(@cf), 'rustydb.events_pages holds the same ChecksumFailure events');
$l->poll;
push @all, $l->since(0);
$l->quit;

# ---------------------------------------------------------------------------
# Every payload, whatever the step.
# ---------------------------------------------------------------------------
my @evs = grep { $_->{channel} =~ /^rustydb_(buffer_pool|lsm|io|tiers|pages|columnar)$/ } @all;
note scalar(@evs) . " notifications received on rustydb_* channels";
my @bad = grep { @{ $_->{problems} // [] } } @evs;
is(scalar(@bad), 0, 'every payload validates against its seed variant (keys, JSON types, timestamps, database)')
  or diag(join("\n", map { "$_->{channel}: $_->{payload}\n  " . join("\n  ", @{ $_->{problems} }) } @bad[ 0 .. ($#bad < 9 ? $#bad : 9) ]));
my @dead = grep { $_->{ev} && $_->{ev}{variant} && !$live{ $_->{ev}{variant} } } @evs;
is(scalar(@dead), 0, 'only live variants are notified')
  or diag(join("\n", map { $_->{payload} } @dead[ 0 .. ($#dead < 4 ? $#dead : 4) ]));
my %byv;
$byv{ $_->{ev}{variant} // '?' }++ for @evs;
note "notified: " . join(', ', map { "$_ $byv{$_}" } sort keys %byv);

check_log_clean($node, 0, 'log: no PANIC, failed assertion or crashed process');
$node->stop;
done_testing();
