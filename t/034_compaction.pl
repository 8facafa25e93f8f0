# t/034_compaction.pl
#	Leveled compaction (src/lsm/compact.c): rustydb.compact() and the
#	background worker merge stripes of a level into fewer stripes of the
#	next one, rewrite stripes with many dead rows, and give the pages of
#	stripes nothing refers to any more back to later stripes.
#
#	Every check looks at the storage (rustydb.stripes, rustydb.l0_layout,
#	rustydb.tables, rustydb.compaction_history, pg_relation_size), not only
#	at query results, and every table is compared with a heap twin that
#	received the same statements, through the seq scan, the columnar custom
#	scan, index and bitmap scans:
#
#	1. on demand: flushes make level-1 stripes; compaction merges them
#	   (fewer stripes, a higher level, TIDs and indexes unchanged), also
#	   inside a transaction block that rolls back (its give-back undone);
#	   DML after it; DELETE + VACUUM then compaction drops the dead rows;
#	   the freed pages are reused by the next flush (the file does not grow)
#	2. events: CompactionStarted / CompactionCompleted / LevelMigration /
#	   PageMerged agree with compaction_history and the stripes
#	3. an immediate stop while a compaction waits at each phase (writing,
#	   switching, freeing; rustydb.compaction_pause_phase) loses and
#	   resurrects nothing; the next compaction frees what was left behind
#	3b. a stripe larger than any free extent is mapped over them and new
#	   blocks (rustydb.stripe_space), reads back through every path, and
#	   compaction gives all its runs back
#	4. a streaming standby (wal_consistency_checking = all,rustydb) replays
#	   all of it and answers the same
#	5. background compaction by the storage-event worker, and
#	   rustydb.enable_background_compaction = off stopping it
#	6. steady state: insert / delete the oldest 10% / VACUUM / flush /
#	   compact rounds keep the table's size bounded
#	7. a damaged input stripe: XX001, the error recorded in rustydb.tables,
#	   the stripes unchanged, other stripes still readable
#	8. a background step gives way to a session waiting for a lock on its
#	   table (ALTER TABLE): put off before it writes anything, the
#	   statement goes on, a later round compacts the table
#
#	Two engine bugs this test found are fixed and checked here: stripes that
#	could not share an output were "merged" one level up for ever (a stripe
#	is now full above half of max_stripe_rows), and L0 pages emptied by
#	DELETE + VACUUM of revived rows piled up (VACUUM now retires them empty).

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use Time::HiRes qw(sleep time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RustydbTest;
use RustydbEvents;

plan skip_all => 'compaction is rustydb-specific' if test_am() ne 'rustydb';

my $node = rdb_node(
	'primary',
	allows_streaming => 1,
	conf => "wal_consistency_checking = '" . wal_consistency_all() . "'\n"
	  . "autovacuum = off\n"
	  # the event worker (background flush and compaction) stays for the
	  # whole test instead of leaving after 5 s without events
	  . "rustydb.worker_idle_timeout = 3600\n"
	  . "max_wal_size = '512MB'\n");
$node->start;
rdb_create_extension($node);
$node->safe_psql('postgres', 'CREATE EXTENSION amcheck');
$node->safe_psql('postgres',
	"SELECT pg_create_physical_replication_slot('standby_slot', immediately_reserve => true)");
$node->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($node, 'base', has_streaming => 1);
$standby->append_conf('postgresql.conf', "primary_slot_name = 'standby_slot'");
$standby->start;

my $seeds = seed_variants();

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

sub sql { return $node->safe_psql('postgres', $_[0]); }

# the same statements on table $t and its heap twin ${t}_h, in one transaction
sub both
{
	my ($t, $sql) = @_;
	(my $h = $sql) =~ s/\b$t\b/${t}_h/g;
	return sql("BEGIN; $sql; $h; COMMIT;");
}

# rustydb.flush() until $expect rows were moved: a flush moves only rows
# every transaction sees, and the event worker's short transactions may hide
# the newest ones for a moment
sub flush_all { return rdb_flush_until($node, @_); }

# rustydb.stripes of a table: list of {stripe, level, rows, deleted, pages}
sub stripes_of
{
	my ($t, $n) = @_;
	$n //= $node;
	my $out = $n->safe_psql('postgres',
		"SELECT stripe, level, rows, deleted_rows, pages FROM rustydb.stripes
		  WHERE relation = '$t'::regclass ORDER BY stripe");
	my @s;
	for my $line (grep { length } split /\n/, $out)
	{
		my @f = split /\|/, $line;
		push @s, { stripe => $f[0], level => $f[1], rows => $f[2], deleted => $f[3], pages => $f[4] };
	}
	return @s;
}

sub describe { return join(' ', map { "$_->{stripe}:L$_->{level}:$_->{rows}/$_->{deleted}d" } @_); }
sub max_level { my $m = 0; for (@_) { $m = $_->{level} if $_->{level} > $m; } return $m; }
# stripes nothing refers to (outputs of an interrupted compaction, inputs
# after the switch): every row dead
sub orphans { return grep { $_->{rows} > 0 && $_->{deleted} == $_->{rows} } @_; }

sub row_of
{
	my ($query, @cols) = @_;
	my @v = split /\|/, sql($query), -1;
	my %h;
	@h{@cols} = @v;
	return \%h;
}

my @LAYOUT = qw(l0_pages reused_pages free_pages directory_pages stripe_pages
  retired_generations retired_rows next_generation free_stripe_pages);
sub layout { return row_of("SELECT " . join(', ', @LAYOUT) . " FROM rustydb.l0_layout('$_[0]')", @LAYOUT); }

my @HIST = qw(compactions steps stripes_rewritten stripes_written rows_dropped
  bytes_written pages_freed pages_pending last_error);
sub history
{
	my $h = row_of("SELECT " . join(', ', map { "coalesce(" . $_ . "::text, '')" } @HIST)
		  . " FROM rustydb.compaction_history('$_[0]')", @HIST);
	$h->{$_} = ($h->{$_} eq '' ? 0 : $h->{$_}) for grep { $_ ne 'last_error' } @HIST;
	return $h;
}

sub relsize { return sql("SELECT pg_relation_size('$_[0]')"); }

# new stripes lie within the file as it was (in pages compaction gave back)
# and the free stripe pages fell by exactly their pages
sub in_old_space
{
	my ($fresh, $oldsize, $fell, $t) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $blocks = $oldsize / 8192;
	my $pages = 0;
	$pages += $_->{pages} for @$fresh;
	# every run of every new stripe (a mapped stripe has several)
	my $ids = join(',', map { $_->{stripe} } @$fresh);
	my $beyond = @$fresh ? sql("SELECT count(*) FROM rustydb.stripe_space('$t')
		WHERE kind = 'stripe' AND stripe IN ($ids) AND first_block + blocks > $blocks") : 0;
	is($beyond, 0,
		"$t: the new stripes (" . describe(@$fresh) . ") lie in freed pages below the old end of the file (block $blocks)");
	is($fell, $pages, "$t: the free stripe pages fell by their $pages pages");
}

# the columns of each table, as one text per row (no whole-row reference:
# that would keep the planner from offering the columnar scan)
my %ROWTEXT = (
	lv => q{format('%s|%L|%L|%L|%L', id, t, n, j, md5(b))},
	cx => q{format('%s|%L|%L', id, v, n)},
	ss => q{format('%s|%L|%L', id, v, n)},
	bad => q{format('%s|%L', id, v)},
	bg1 => q{format('%s|%L', id, v)},
	bg3 => q{format('%s|%L|%L', id, v, extra)},
	bg4 => q{format('%s|%L|%L', id, v, extra)},
	bg2 => q{format('%s|%L', id, v)},
	mp => q{format('%s|%L|%L', id, ts, v)});

my @MODES = (
	[ 'seq', 'SET rustydb.enable_columnar_scan = off; SET enable_indexscan = off; SET enable_bitmapscan = off;',
		qr/Seq Scan on /, qr/Custom Scan|Index/ ],
	[ 'columnar', 'SET enable_indexscan = off; SET enable_bitmapscan = off;',
		qr/Custom Scan \(RustydbScan\)/, qr/Seq Scan|Index/ ],
	[ 'index', 'SET enable_seqscan = off; SET enable_bitmapscan = off; SET rustydb.enable_columnar_scan = off;',
		qr/Index Scan using /, qr/Seq Scan|Custom Scan|Bitmap/ ],
	[ 'bitmap', 'SET enable_seqscan = off; SET enable_indexscan = off; SET rustydb.enable_columnar_scan = off;',
		qr/Bitmap Heap Scan on /, qr/Seq Scan|Custom Scan/ ]);

sub digest_sql
{
	my ($t, $rel, $cond) = @_;
	$cond //= '';
	return "SELECT count(*) || ':' || coalesce(md5(string_agg($ROWTEXT{$t}, E'\\n' ORDER BY id)), '-') FROM $rel WHERE id > 0 $cond";
}

# the table reads back as its heap twin through every scan path; once per
# table, also check that each mode really gets its plan
my %plans_checked;
sub same_as_twin
{
	my ($n, $t, $what) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $want = $n->safe_psql('postgres',
		'SET enable_indexscan = off; SET enable_bitmapscan = off; ' . digest_sql($t, "${t}_h"));
	for my $m (@MODES)
	{
		my ($name, $set, $plan_re, $not_re) = @$m;
		if (!$plans_checked{ $n->name . $t . $name }++)
		{
			my $plan = $n->safe_psql('postgres', "$set EXPLAIN (COSTS OFF) " . digest_sql($t, $t));
			ok($plan =~ $plan_re && $plan !~ $not_re, $n->name . ": $t: the $name mode gets its plan")
			  or diag($plan);
		}
		is($n->safe_psql('postgres', $set . digest_sql($t, $t)), $want,
			$n->name . ": $t $what: $name scan equals the heap twin");
	}
}

# ===========================================================================
# 1. On demand: level-1 stripes merged into level 2
# ===========================================================================
# small stripes and level_ratio 4; varied types, NULLs, one ~100 kB value
# per round that TOAST keeps out of line (hex digits compress only ~2x)
sql(q{
	CREATE TABLE lv (id bigint, t text, n numeric, j jsonb, b text) USING rustydb
	  WITH (stripe_rows = 2000, level_ratio = 4, sort_key = 't, n');
	CREATE TABLE lv_h (id bigint, t text, n numeric, j jsonb, b text) USING heap;
	CREATE UNIQUE INDEX lv_id ON lv (id);
	CREATE UNIQUE INDEX lv_h_id ON lv_h (id);
	CREATE INDEX lv_t ON lv (t);
});
for my $round (1 .. 4)
{
	my $lo = ($round - 1) * 2500 + 1;
	my $hi = $round * 2500;
	both('lv', qq{INSERT INTO lv SELECT g, 'k' || (g % 13),
		CASE WHEN g % 17 = 0 THEN NULL ELSE g * 0.5 END,
		CASE WHEN g % 11 = 0 THEN NULL ELSE jsonb_build_object('g', g, 'a', jsonb_build_array(g, 'x' || g)) END,
		CASE WHEN g % 2500 = 7 THEN (SELECT string_agg(md5(g::text || '.' || x), '') FROM generate_series(1, 3200) x) END
		FROM generate_series($lo, $hi) g});
	# a separate statement: the rows are all visible, so their pages retire
	flush_all('lv', 2500);
}
cmp_ok(sql(q{SELECT max(pg_column_size(b)) FROM lv_h}), '>', 40000,
	'the wide values are ~100 kB (stored out of line)');
my $l = layout('lv');
cmp_ok($l->{retired_generations}, '>', 0,
	"flushes retired L0 pages before compaction ($l->{retired_generations} generations)");
my @before = stripes_of('lv');
note 'lv before compaction: ' . describe(@before);
my $nl1 = grep { $_->{level} == 1 } @before;
cmp_ok($nl1, '>=', 4, "four flushes made at least level_ratio (4) level-1 stripes ($nl1)");
is(max_level(@before), 1, 'all stripes are at level 1 before compaction');
my $rows_before = 0;
$rows_before += $_->{rows} for @before;
is($rows_before, 10000, 'the stripes hold the 10000 flushed rows');
same_as_twin($node, 'lv', 'after the flushes');

my $tids = q{SELECT md5(string_agg(id || '@' || ctid, ',' ORDER BY id)) FROM lv};
my $tids_before = sql($tids);
my $events_mark = sql(q{SELECT coalesce(max(seq), 0) FROM rustydb.events});

# first inside a transaction block that rolls back: the stubs are switched
# (not transactional, as flush) and the inputs' pages given back, stamped
# with the transaction: rolled back, they are not free after all
my $n_rewritten = sql(q{BEGIN; SELECT rustydb.compact('lv'); ROLLBACK;});
cmp_ok($n_rewritten, '>=', 4, "rustydb.compact rewrote $n_rewritten stripes (inside BEGIN ... ROLLBACK)");
my $h1 = history('lv');
is($h1->{stripes_rewritten}, $n_rewritten, 'compaction_history.stripes_rewritten is what compact() returned');
cmp_ok($h1->{steps}, '>=', 1, "compaction_history counts $h1->{steps} steps");
cmp_ok($h1->{pages_freed}, '>', 0, "inside the transaction block $h1->{pages_freed} pages were given back");
is($h1->{pages_pending}, 0, '... none left pending (no lock to wait for)');
is(layout('lv')->{free_stripe_pages}, 0, 'l0_layout: the rolled-back give-back left no free stripe page');
my @mid = stripes_of('lv');
note 'lv after the rolled back compaction: ' . describe(@mid);
is(scalar(orphans(@mid)), $n_rewritten, 'the rewritten inputs are listed with every row dead (nothing refers to them)');
same_as_twin($node, 'lv', 'after a compaction in a transaction that rolled back');

# again, committed: nothing more to merge, the same pages are given back
is(sql(q{SELECT rustydb.compact('lv')}), '0', 'a second compaction has no stripe to rewrite');
my $h2 = history('lv');
is($h2->{pages_freed} - $h1->{pages_freed}, $h1->{pages_freed},
	"it gave the $h1->{pages_freed} pages back again");
is($h2->{pages_pending}, 0, 'none is pending');
$l = layout('lv');
is($l->{free_stripe_pages}, $h1->{pages_freed}, "l0_layout: $l->{free_stripe_pages} free stripe pages");

my @after = stripes_of('lv');
note 'lv after compaction: ' . describe(@after);
cmp_ok(scalar(@after), '<', scalar(@before),
	'fewer stripes: ' . scalar(@before) . ' -> ' . scalar(@after));
cmp_ok(max_level(@after), '>=', 2, 'the merged stripes are at level ' . max_level(@after));
cmp_ok(scalar(grep { $_->{level} == 1 } @after), '<', 4, 'fewer than level_ratio stripes are left at level 1');
my $rows_after = 0;
$rows_after += $_->{rows} for @after;
is($rows_after, 10000, 'the stripes still hold 10000 rows, none dead');
is(scalar(grep { $_->{deleted} != 0 } @after), 0, 'no stripe has dead rows');
my %was = map { $_->{stripe} => 1 } @before;
my %now = map { $_->{stripe} => 1 } @after;
my @gone = grep { !$now{$_} } map { $_->{stripe} } @before;
my @new = grep { !$was{$_} } map { $_->{stripe} } @after;
is(scalar(@gone), $n_rewritten, 'the rewritten stripes are gone from rustydb.stripes');
is(scalar(@new), $h2->{stripes_written}, "compaction_history.stripes_written ($h2->{stripes_written}) new stripes are there");
like(sql(q{SELECT stripes_per_level FROM rustydb.tables WHERE relation = 'lv'::regclass}),
	qr/^(L1:[123] )?L2:\d+$/, 'rustydb.tables.stripes_per_level shows the levels');
is(sql(q{SELECT compactions > 0 AND last_compaction IS NOT NULL AND last_compaction_error IS NULL
	FROM rustydb.tables WHERE relation = 'lv'::regclass}), 't', 'rustydb.tables shows the compaction, no error');
my ($cbytes, $csteps, $wa) = split /\|/, sql(q{SELECT compaction_bytes, compaction_steps, write_amplification FROM rustydb.storage_counters('lv')});
is($csteps, $h2->{steps}, 'storage_counters.compaction_steps matches the history');
is($cbytes, $h2->{bytes_written}, "storage_counters.compaction_bytes ($cbytes) matches the history");
is(sql($tids), $tids_before, 'every row kept its TID');
is(sql(q{SELECT bt_index_check('lv_id', true), bt_index_check('lv_t', true)}), '|',
	'amcheck: the untouched indexes still find every row (heapallindexed)');
same_as_twin($node, 'lv', 'after compaction');

# ===========================================================================
# 2. Events of that compaction
# ===========================================================================
{
	my $ev = sql(qq{SELECT seq, channel, variant, payload::text FROM rustydb.events
		WHERE seq > $events_mark AND relation = 'lv'::regclass
		  AND variant IN ('CompactionStarted', 'CompactionCompleted', 'LevelMigration', 'PageMerged', 'PageSplit')
		ORDER BY seq});
	my (%by, @problems, @seq);
	for my $line (grep { length } split /\n/, $ev)
	{
		my ($seq, $ch, $variant, $payload) = split /\|/, $line, 4;
		my ($e, @p) = check_payload($seeds, $ch, $payload);
		push @problems, map { "$variant: $_" } @p;
		push @{ $by{$variant} }, $e->{f};
		push @seq, $variant;
	}
	is(join("\n", @problems), '', 'the compaction events have the seed\'s shape');
	my @st = @{ $by{CompactionStarted} // [] };
	my @co = @{ $by{CompactionCompleted} // [] };
	my @lm = @{ $by{LevelMigration} // [] };
	my @pm = @{ $by{PageMerged} // [] };
	is(scalar(@st), $h2->{steps}, 'one CompactionStarted per step');
	is(scalar(@co), $h2->{steps}, 'one CompactionCompleted per step');
	is(scalar(@lm), $h2->{steps}, 'one LevelMigration per step (every step merged into the next level)');
	my ($old, $newn, $mig, $ok) = (0, 0, 0, 1);
	for my $i (0 .. $#co)
	{
		$old += $co[$i]{old_sstables};
		$newn += $co[$i]{new_sstables};
		$ok = 0 unless $st[$i] && $st[$i]{sstable_count} == $co[$i]{old_sstables}
		  && $st[$i]{level} == $co[$i]{level} && $co[$i]{tree_name} eq 'public.lv';
	}
	for my $m (@lm)
	{
		$mig += $m->{sstable_count};
		$ok = 0 unless $m->{to_level} == $m->{from_level} + 1 && $m->{tree_name} eq 'public.lv';
	}
	ok($ok, 'each CompactionCompleted matches its CompactionStarted; migrations go one level up');
	is($old, $n_rewritten, "CompactionCompleted.old_sstables add up to the stripes rewritten ($old)");
	is($newn, $h2->{stripes_written}, "CompactionCompleted.new_sstables add up to the stripes written ($newn)");
	is($mig, $n_rewritten, 'LevelMigration.sstable_count add up to the stripes rewritten');
	is((sort { $b <=> $a } map { $_->{to_level} } @lm)[0], max_level(@after),
		'the highest LevelMigration.to_level is the highest level in rustydb.stripes');
	is(scalar(@pm), $old - $newn, 'one PageMerged per input merged into another\'s output');
	my %gone = map { $_ => 1 } @gone;
	my %new = map { $_ => 1 } @new;
	is(scalar(grep { !$gone{ $_->{page1_id} } || !$gone{ $_->{page2_id} } || !$new{ $_->{result_page_id} } } @pm), 0,
		'PageMerged names rewritten stripes and the stripe they went into');
	is(scalar(@{ $by{PageSplit} // [] }), 0, 'no PageSplit (the outputs stay under max_stripe_rows)');
	like(join(',', @seq), qr/^CompactionStarted,(PageMerged,)*LevelMigration,CompactionCompleted(,CompactionStarted,(PageMerged,)*LevelMigration,CompactionCompleted)*$/,
		'events come in order: started, merged, migration, completed');
}

# ===========================================================================
# 1 (cont.). DML after compaction, dead rows dropped, space reused
# ===========================================================================
both('lv', q{UPDATE lv SET n = n + 1, t = t || 'u' WHERE id % 10 = 3});
both('lv', q{DELETE FROM lv WHERE id % 3 = 0});
{
	my $q = q{SELECT id, t FROM lv WHERE id BETWEEN 4000 AND 4010 ORDER BY id FOR UPDATE};
	(my $qh = $q) =~ s/\blv\b/lv_h/g;
	is(sql("BEGIN; $q; UPDATE lv SET t = 'locked' WHERE id BETWEEN 4000 AND 4010; COMMIT;"),
		sql("BEGIN; $qh; UPDATE lv_h SET t = 'locked' WHERE id BETWEEN 4000 AND 4010; COMMIT;"),
		'SELECT FOR UPDATE of compacted rows returns what heap returns');
}
same_as_twin($node, 'lv', 'after UPDATE, DELETE, FOR UPDATE of compacted rows');
sql('VACUUM lv');
sql('VACUUM lv_h');
my @dead = stripes_of('lv');
note 'lv after DELETE + VACUUM: ' . describe(@dead);
my $ndead = 0;
$ndead += $_->{deleted} for @dead;
cmp_ok($ndead, '>', 1000, "after DELETE + VACUUM the stripes hold $ndead dead rows");
my $dropped0 = history('lv')->{rows_dropped};
my $mark2 = sql(q{SELECT coalesce(max(seq), 0) FROM rustydb.events});
my $tids_dead = sql($tids);
my $n2 = sql(q{SELECT rustydb.compact('lv')});
cmp_ok($n2, '>=', 1, "compaction rewrote $n2 stripes with dead rows");
my @clean = stripes_of('lv');
note 'lv after compacting dead rows: ' . describe(@clean);
is(scalar(grep { $_->{deleted} != 0 } @clean), 0, 'no stripe has dead rows any more');
my $h3 = history('lv');
is($h3->{rows_dropped} - $dropped0, $ndead, "compaction_history.rows_dropped grew by the $ndead dead rows");
is(sql(qq{SELECT string_agg(DISTINCT variant, ',' ORDER BY variant) FROM rustydb.events
	WHERE seq > $mark2 AND relation = 'lv'::regclass
	  AND variant IN ('CompactionStarted', 'CompactionCompleted', 'LevelMigration', 'PageSplit')}),
	'CompactionCompleted,CompactionStarted', 'rewriting dead rows at the same level: no LevelMigration event');
is(sql(q{SELECT compaction_rows_dropped FROM rustydb.tables WHERE relation = 'lv'::regclass}), $h3->{rows_dropped},
	'rustydb.tables.compaction_rows_dropped says the same');
my $live = sql('SELECT count(*) FROM lv_h');
my $srows = 0;
$srows += $_->{rows} for @clean;
cmp_ok($srows, '<=', $live, "the stripes hold no more rows than are live ($srows <= $live)");
is(sql($tids), $tids_dead, 'the rows left kept their TIDs');
is(sql(q{SELECT bt_index_check('lv_id', true), bt_index_check('lv_t', true)}), '|',
	'amcheck after dropping dead rows');
same_as_twin($node, 'lv', 'after compacting dead rows away');

# the freed pages take the next flush's stripes: the file does not grow
# (measured after the insert: its L0 pages may take free extent blocks,
# l0_page.c)
both('lv', q{INSERT INTO lv SELECT g, 'new', g, NULL, NULL FROM generate_series(20001, 21500) g});
$l = layout('lv');
my $size0 = relsize('lv');
cmp_ok($l->{free_stripe_pages}, '>', 0, "free stripe pages after compaction: $l->{free_stripe_pages}");
note "lv layout before the reuse: " . join(', ', map { "$_=$l->{$_}" } @LAYOUT) . ", size $size0";
flush_all('lv', 1500);
my $l2 = layout('lv');
my @reuse = stripes_of('lv');
my %had = map { $_->{stripe} => 1 } @clean;
my @fresh = grep { !$had{ $_->{stripe} } } @reuse;
note "lv after insert + flush: " . describe(@reuse) . ', size ' . relsize('lv');
cmp_ok(scalar(@fresh), '>=', 1, 'the flush wrote new stripes');
is(relsize('lv'), $size0, "the file did not grow ($size0 bytes)");
in_old_space(\@fresh, $size0, $l->{free_stripe_pages} - $l2->{free_stripe_pages}, 'lv');
same_as_twin($node, 'lv', 'after a flush into reused stripe pages');

# ===========================================================================
# Policy: stripes too big to share an output are not merged forever
# ===========================================================================
# Two level-1 stripes of 600 rows, level_ratio 2, max_stripe_rows 1000: no
# output may hold both (outputs are cut between inputs).  Before the fix a
# step wrote them as two stripes one level up, which qualified again: the
# run went on for its 1000 steps (level 1001, 2000 stripes written, the file
# grew by 2000 pages for 1200 rows).  Now a stripe above half of
# max_stripe_rows is full and is not merged.  UNLOGGED: no WAL for the
# standby to replay.
sql(q{CREATE UNLOGGED TABLE lk (id int, v text) USING rustydb
	WITH (stripe_rows = 1000, level_ratio = 2, max_stripe_rows = 1000)});
sql(q{INSERT INTO lk SELECT g, 'a' FROM generate_series(1, 600) g});
flush_all('lk', 600);
sql(q{INSERT INTO lk SELECT g, 'a' FROM generate_series(601, 1200) g});
flush_all('lk', 600);
is(join(',', map { "L$_->{level}:$_->{rows}" } stripes_of('lk')), 'L1:600,L1:600', 'lk: two level-1 stripes of 600 rows');
my $lk_size = relsize('lk');
my $lk_n = sql(q{SELECT rustydb.compact('lk')});
my @lk = stripes_of('lk');
note "lk: compact() returned $lk_n, stripes " . describe(@lk) . ', steps ' . history('lk')->{steps}
  . ", size $lk_size -> " . relsize('lk');
{
	cmp_ok($lk_n, '<=', 2, "compacting two stripes that cannot be merged rewrites at most 2 (got $lk_n)");
	cmp_ok(max_level(@lk), '<=', 2, 'and leaves them no higher than level 2 (got level ' . max_level(@lk) . ')');
	cmp_ok(relsize('lk'), '<=', $lk_size + 4 * 8192, 'and does not grow the file by more than a few pages');
}
is(sql(q{SELECT count(*), sum(id) FROM lk}), '1200|720600', 'lk still reads back its 1200 rows');
sql('DROP TABLE lk');

# ===========================================================================
# 6. Steady state: rows come and go, the size stays bounded
# ===========================================================================
sql(q{
	CREATE TABLE ss (id int, v text, n numeric) USING rustydb WITH (stripe_rows = 2000, level_ratio = 4);
	CREATE TABLE ss_h (id int, v text, n numeric) USING heap;
	CREATE UNIQUE INDEX ss_id ON ss (id);
	CREATE UNIQUE INDEX ss_h_id ON ss_h (id);
});
both('ss', q{INSERT INTO ss SELECT g, 'r0 ' || md5(g::text), g / 7.0 FROM generate_series(1, 10000) g});
flush_all('ss', 10000);
sql(q{SELECT rustydb.compact('ss')});
my (@sizes, @l0, $lo);
$lo = 1;
for my $round (1 .. 10)
{
	my $first = 10000 + ($round - 1) * 1000 + 1;
	my $last = $first + 999;
	both('ss', qq{INSERT INTO ss SELECT g, 'r$round ' || md5(g::text), g / 7.0 FROM generate_series($first, $last) g});
	# the oldest 10 %
	both('ss', sprintf('DELETE FROM ss WHERE id < %d', $lo + 1000));
	$lo += 1000;
	sql('VACUUM ss');
	flush_all('ss', 1000);
	sql(q{SELECT rustydb.compact('ss')});
	push @sizes, relsize('ss');
	my @s = stripes_of('ss');
	my $sl = layout('ss');
	push @l0, $sl->{l0_pages};
	note sprintf('ss round %d: %d bytes, %d stripes (%s); %s',
		$round, $sizes[-1], scalar(@s), join(' ', map { "L$_->{level}:$_->{rows}" } @s),
		join(', ', map { "$_=$sl->{$_}" } @LAYOUT));
}
cmp_ok($sizes[9], '<=', 1.3 * $sizes[2],
	"after 10 rounds the table is $sizes[9] bytes, after round 3 it was $sizes[2] (bounded by 1.3x)");
{
	# The L0 pages that DELETE revives (rows of retired generations) are
	# emptied by VACUUM; before the fix they were neither reused by the
	# next round's inserts nor given back (l0_pages grew by ~10 per round,
	# with no row on them).  VACUUM now retires them empty: free pages.
	cmp_ok($l0[9], '<=', $l0[2] + 5, "L0 pages do not accumulate over the rounds ($l0[2] after round 3, $l0[9] after round 10)");
}
my @ss = stripes_of('ss');
is(scalar(grep { $_->{deleted} * 5 >= $_->{rows} && $_->{rows} > 0 } @ss), 0,
	'no stripe is left with 20 % or more dead rows');
my $ss_hist = history('ss');
cmp_ok($ss_hist->{rows_dropped}, '>=', 9000, "compaction dropped the deleted rows ($ss_hist->{rows_dropped})");
is(sql('SELECT count(*) FROM ss_h'), '10000', 'the twin holds 10000 rows');
same_as_twin($node, 'ss', 'after 10 steady-state rounds');

# a cursor open across a compaction reads on unharmed; the inputs' pages
# are given back while it is open (no lock needed), and are reused only
# after its snapshot is gone (t/035 checks that part)
{
	both('ss', q{DELETE FROM ss WHERE id % 4 = 1});
	my $want = sql(q{SELECT id, v, n FROM ss_h ORDER BY id});
	my $cur = $node->background_psql('postgres');
	$cur->query_safe(q{BEGIN ISOLATION LEVEL REPEATABLE READ;
		SET LOCAL rustydb.enable_columnar_scan = off;
		DECLARE c NO SCROLL CURSOR FOR SELECT id, v, n FROM ss});
	my $got = $cur->query_safe('FETCH 100 FROM c');
	sql('VACUUM ss');
	my $freed_before = history('ss')->{pages_freed};
	my $n = sql(q{SELECT rustydb.compact('ss')});
	cmp_ok($n, '>=', 1, "ss: a compaction rewrote $n stripes with dead rows under an open cursor");
	my $h = history('ss');
	cmp_ok($h->{pages_freed}, '>', $freed_before,
		'ss: with the cursor open the space is given back (' . ($h->{pages_freed} - $freed_before) . ' pages)');
	is($h->{pages_pending}, 0, 'ss: ... none pending');
	$got .= "\n" . $cur->query_safe('FETCH ALL FROM c');
	$cur->query_safe('COMMIT');
	$cur->quit;
	my @rows = sort { (split /\|/, $a)[0] <=> (split /\|/, $b)[0] } grep { length } split /\n/, $got;
	is(join("\n", @rows), $want, 'ss: the cursor read every row as of its snapshot, across the compaction');
	# Rows on the page the cursor had pinned kept their input (and VACUUM
	# could not clean that page): it is rewritten now.  Their copies in the
	# output of the first run stay there, unreferenced, below the dead
	# fraction.
	sql('VACUUM ss');
	my $n2 = sql(q{SELECT rustydb.compact('ss')});
	cmp_ok($n2, '<=', 1, "ss: once it is closed, at most the stripe kept by the pinned page is left to rewrite ($n2)");
	my @s = stripes_of('ss');
	note 'ss after the cursor closed, VACUUM and compact: ' . describe(@s);
	is(scalar(grep { $_->{deleted} * 5 >= $_->{rows} } @s), 0, 'ss: no stripe is left with 20 % or more dead rows');
	is(scalar(orphans(@s)), 0, 'ss: no stripe is left that nothing refers to');
	$h = history('ss');
	is($h->{pages_pending}, 0, 'ss: ... and no page is pending');
	same_as_twin($node, 'ss', 'after a compaction under an open cursor');
}

# ===========================================================================
# 3. An immediate stop while a compaction waits at each phase
# ===========================================================================
sql(q{
	CREATE TABLE cx (id int, v text, n numeric) USING rustydb WITH (stripe_rows = 1500, level_ratio = 2, sort_key = 'v',
	  chunk_group_rows = 1000);
	CREATE TABLE cx_h (id int, v text, n numeric) USING heap;
	CREATE UNIQUE INDEX cx_id ON cx (id);
	CREATE UNIQUE INDEX cx_h_id ON cx_h (id);
});
my %LABEL = (writing => 'writing stripes', switching => 'switching rows', freeing => 'freeing space');
my $lock = 7001;
my $next_id = 1;

# first without a crash: DML (reviving retired generations, new row
# versions, deletes, row locks) while a compaction waits between writing
# its outputs and switching the rows to them; then it goes on
{
	both('cx', q{INSERT INTO cx SELECT g, 'pre ' || g, g FROM generate_series(1, 4000) g});
	$next_id = 4001;
	flush_all('cx', 4000);
	my $retired0 = layout('cx')->{retired_generations};
	cmp_ok($retired0, '>', 0, "cx: flush retired $retired0 pages");
	my $holder = $node->background_psql('postgres');
	$holder->query_safe("SELECT pg_advisory_lock($lock)");
	my $comp = $node->background_psql('postgres');
	$comp->query_safe("SET rustydb.compaction_pause_phase = 'switching'; SET rustydb.compaction_pause_lock = $lock");
	$comp->query_until(qr/compacting/, "\\echo compacting\nSELECT rustydb.compact('cx');\n");
	ok( $node->poll_query_until('postgres', qq{
			SELECT count(*) = 1 FROM rustydb.compaction_progress p
			 WHERE p.relation = 'cx'::regclass AND p.phase = 'switching rows'
			   AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.objid = $lock
			                 AND NOT l.granted AND l.pid = p.pid)}),
		'cx: a compaction waits before switching the rows');
	both('cx', q{UPDATE cx SET v = v || '+' WHERE id % 50 = 1});
	both('cx', q{DELETE FROM cx WHERE id % 70 = 2});
	is(sql(q{BEGIN; SELECT string_agg(id::text, ',' ORDER BY id) FROM (SELECT id FROM cx WHERE id BETWEEN 3000 AND 3010 FOR UPDATE) s; COMMIT;}),
		'3000,3001,3002,3003,3004,3005,3006,3007,3008,3009,3010', 'cx: SELECT FOR UPDATE while it waits');
	cmp_ok(layout('cx')->{retired_generations}, '<', $retired0, 'cx: the DML revived retired generations meanwhile');
	$holder->query_safe("SELECT pg_advisory_unlock($lock)");
	my $out = $comp->query_safe('');
	$comp->quit;
	like($out, qr/^[1-9][0-9]*$/m, 'cx: released, the compaction completed and rewrote stripes');
	$holder->quit;
	my @s = stripes_of('cx');
	note "cx after the paused compaction went on: " . describe(@s);
	is(scalar(orphans(@s)), 0, 'cx: the compaction finished and freed its inputs');
	cmp_ok(max_level(@s), '>=', 2, 'cx: it merged into level ' . max_level(@s));
	same_as_twin($node, 'cx', 'after DML during a paused compaction');
	is(sql(q{SELECT bt_index_check('cx_id', true)}), '', 'cx: amcheck after DML during a paused compaction');
}
for my $phase (qw(writing switching freeing))
{
	# new level-1 stripes for this round (level_ratio 2: at least one merge)
	my $hi = $next_id + 3999;
	both('cx', qq{INSERT INTO cx SELECT g, '$phase ' || g, g * 1.5 FROM generate_series($next_id, $hi) g});
	$next_id = $hi + 1;
	flush_all('cx', 4000);
	my @s0 = stripes_of('cx');
	note "cx before the $phase crash: " . describe(@s0);
	cmp_ok(scalar(grep { $_->{level} == 1 } @s0), '>=', 2, "$phase: at least two level-1 stripes to merge");

	my $holder = $node->background_psql('postgres');
	$holder->query_safe("SELECT pg_advisory_lock($lock)");
	my $comp = $node->background_psql('postgres', on_error_stop => 0);
	$comp->query_safe("SET rustydb.compaction_pause_phase = '$phase'; SET rustydb.compaction_pause_lock = $lock");
	$comp->query_until(qr/compacting/, "\\echo compacting\nSELECT rustydb.compact('cx');\n");
	ok( $node->poll_query_until('postgres', qq{
			SELECT count(*) = 1 FROM rustydb.compaction_progress p
			 WHERE p.relation = 'cx'::regclass AND p.phase = '$LABEL{$phase}' AND NOT p.background
			   AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.objid = $lock
			                 AND NOT l.granted AND l.pid = p.pid)}),
		"$phase: the compaction waits in phase '$LABEL{$phase}'");
	my ($ss, $sr, $sw, $rw) = split /\|/, sql(q{SELECT step_stripes, step_rows, stripes_written, rows_written
		FROM rustydb.compaction_progress WHERE relation = 'cx'::regclass});
	note "progress: step_stripes $ss, step_rows $sr, stripes_written $sw, rows_written $rw";
	if ($phase eq 'writing')
	{
		ok($ss >= 2 && $sr > 0 && $sw == 0 && $rw == 0,
			'writing: compaction_progress shows the step\'s inputs, nothing written yet');
	}
	elsif ($phase eq 'switching')
	{
		ok($ss >= 2 && $sr > 0 && $sw >= 1 && $rw == $sr,
			'switching: compaction_progress shows the step\'s rows all written');
	}
	if ($phase ne 'freeing')
	{
		# DML meanwhile (the compaction holds ShareUpdateExclusiveLock only)
		both('cx', q{UPDATE cx SET v = v || '+', n = n + 1 WHERE id % 50 = 1});
		both('cx', q{DELETE FROM cx WHERE id % 70 = 2});
	}
	else
	{
		is(sql(q{SELECT string_agg(mode, ',' ORDER BY mode) FROM pg_locks WHERE relation = 'cx'::regclass AND granted}),
			'ShareUpdateExclusiveLock', 'freeing: the compaction holds only its ShareUpdateExclusiveLock while it gives space back');
		both('cx', q{UPDATE cx SET v = v || '+', n = n + 1 WHERE id % 50 = 1});
	}
	if ($phase eq 'switching')
	{
		my @s1 = stripes_of('cx');
		note "cx while waiting in $phase: " . describe(@s1);
		cmp_ok(scalar(orphans(@s1)), '>=', 1, 'switching: the outputs are written, nothing refers to them yet');
	}
	# the outputs (and everything else) on disk, then more WAL after it
	sql('CHECKPOINT');
	both('cx', q{UPDATE cx SET n = -n WHERE id % 97 = 5}) if $phase ne 'freeing';
	$node->stop('immediate');
	eval { $comp->quit; };
	eval { $holder->quit; };
	$node->start;

	same_as_twin($node, 'cx', "after an immediate stop in phase $phase");
	my @s2 = stripes_of('cx');
	note "cx after the $phase crash: " . describe(@s2);
	if ($phase eq 'writing')
	{
		is(scalar(orphans(@s2)), 0, 'writing: the crash left no stripe behind');
	}
	else
	{
		cmp_ok(scalar(orphans(@s2)), '>=', 1, "$phase: the crash left stripes nothing refers to");
	}
	my $n = sql(q{SELECT rustydb.compact('cx')});
	my @s3 = stripes_of('cx');
	note "cx after compacting again ($n stripes rewritten): " . describe(@s3);
	is(scalar(orphans(@s3)), 0, "$phase: the next compaction completes and frees every stripe nothing refers to");
	is(scalar(grep { $_->{level} == 1 } @s3) < 2 ? 1 : 0, 1, "$phase: the level-1 stripes are merged");
	my $h = history('cx');
	is($h->{pages_pending}, 0, "$phase: compaction_history: no page pending");
	cmp_ok($h->{pages_freed}, '>', 0, "$phase: it gave $h->{pages_freed} stripe pages back");
	cmp_ok(layout('cx')->{free_stripe_pages}, '>', 0, "$phase: l0_layout shows free stripe pages");
	same_as_twin($node, 'cx', "after compacting again after the $phase crash");
	is(sql(q{SELECT bt_index_check('cx_id', true)}), '', "$phase: amcheck");
}
{
	my %had = map { $_->{stripe} => 1 } stripes_of('cx');
	both('cx', q{INSERT INTO cx SELECT g, 'after', 0 FROM generate_series(100001, 101500) g});
	# measured after the insert: the L0 pages the 1500 new rows needed may
	# have taken free extent blocks (l0_page.c) or extended the file
	my $l0 = layout('cx');
	my $size = relsize('cx');
	flush_all('cx', 1500);
	my @fresh = grep { !$had{ $_->{stripe} } } stripes_of('cx');
	my $l1 = layout('cx');
	note "cx after the last flush: size $size -> " . relsize('cx') . '; '
	  . join(', ', map { "$_=$l0->{$_}->$l1->{$_}" } @LAYOUT);
	cmp_ok(scalar(@fresh), '>=', 1, 'cx: the flush wrote a stripe');
	in_old_space(\@fresh, $size, $l0->{free_stripe_pages} - $l1->{free_stripe_pages}, 'cx');
	same_as_twin($node, 'cx', 'after the last flush');
}

# ===========================================================================
# 3b. Mapped stripes: a stripe no free extent holds whole takes the free
#     extents it can and new blocks for the rest (stripe.h, RdbStripeMap)
# ===========================================================================
{
	sql(q{CREATE TABLE mp (id int, ts timestamptz, v text) USING rustydb
	        WITH (flush_rows = 0, level_ratio = 2, chunk_group_rows = 1000);
	      CREATE TABLE mp_h (id int, ts timestamptz, v text) USING heap;
	      CREATE INDEX mp_id ON mp (id); CREATE INDEX mp_h_id ON mp_h (id)});
	my $ins = sub {
		my ($lo, $hi) = @_;
		both('mp', qq{INSERT INTO mp SELECT g, '2024-01-01'::timestamptz + g * interval '1 minute',
			md5(g::text) || repeat('x', g % 40) FROM generate_series($lo, $hi) g});
		flush_all('mp', $hi - $lo + 1);
	};
	my $space = sub {
		my $out = sql(q{SELECT kind, coalesce(stripe, -1), run, first_block, blocks FROM rustydb.stripe_space('mp')
		                ORDER BY kind DESC, stripe, run});
		return map { my @f = split /\|/; { kind => $f[0], stripe => $f[1], run => $f[2], first => $f[3], blocks => $f[4] } }
		  grep { length } split /\n/, $out;
	};
	# two small level-1 stripes, merged into level 2; the next compaction
	# gives their pages back as one free extent (they lie side by side or not:
	# either way each extent is smaller than the stripe that comes next)
	$ins->(1, 3000);
	$ins->(3001, 6000);
	# the next stripe's rows wait in L0 already: an L0 page that finds no
	# room takes a free extent's block (l0_page.c), and these rows took the
	# FREE pages the flushes left and new blocks before any extent was free
	both('mp', qq{INSERT INTO mp SELECT g, '2024-01-01'::timestamptz + g * interval '1 minute',
		md5(g::text) || repeat('x', g % 40) FROM generate_series(6001, 30000) g});
	sql(q{SELECT rustydb.compact('mp')});
	sql(q{SELECT rustydb.compact('mp')});
	my @free = grep { $_->{kind} eq 'free' } $space->();
	my $freeblocks = 0;
	$freeblocks += $_->{blocks} for @free;
	cmp_ok($freeblocks, '>', 0, "mp: compaction gave back $freeblocks stripe pages in " . scalar(@free) . ' extents');
	my $size = relsize('mp');
	my %had = map { $_->{stripe} => 1 } stripes_of('mp');

	# a stripe larger than any free extent: mapped over them and new blocks
	flush_all('mp', 24000);
	my @fresh = grep { !$had{ $_->{stripe} } } stripes_of('mp');
	is(scalar(@fresh), 1, 'mp: the flush wrote one stripe');
	my $st = $fresh[0]{stripe};
	my @runs = grep { $_->{kind} eq 'stripe' && $_->{stripe} == $st } $space->();
	note "mp: stripe $st ($fresh[0]{pages} pages) in runs " . join(', ', map { "$_->{first}+$_->{blocks}" } @runs)
	  . "; free before: " . join(', ', map { "$_->{first}+$_->{blocks}" } @free);
	cmp_ok(scalar(@runs), '>=', 2, 'mp: the new stripe is mapped over several runs');
	my $inold = 0;
	my $total = 0;
	for my $r (@runs)
	{
		$total += $r->{blocks};
		$inold += $r->{blocks} if $r->{first} + $r->{blocks} <= $size / 8192;
	}
	is($total, $fresh[0]{pages}, 'mp: its runs hold its pages');
	is($inold, $freeblocks, 'mp: it took every free stripe page, and new blocks for the rest');
	is(scalar(grep { $_->{kind} eq 'free' } $space->()), 0, 'mp: no free extent is left');
	same_as_twin($node, 'mp', 'with a mapped stripe');
	is(sql(q{SELECT count(*), sum(id) FROM mp WHERE ts >= '2024-01-10' AND ts < '2024-01-11'}),
		sql(q{SELECT count(*), sum(id) FROM mp_h WHERE ts >= '2024-01-10' AND ts < '2024-01-11'}),
		'mp: a range query on the mapped stripe');

	# DML on its rows, then a compaction that takes the mapped stripe as
	# input: the next one gives all its runs back
	both('mp', q{UPDATE mp SET v = 'upd' WHERE id % 101 = 7});
	both('mp', q{DELETE FROM mp WHERE id % 89 = 3});
	$ins->(30001, 33000);
	sql(q{VACUUM mp});
	sql(q{SELECT rustydb.compact('mp')});
	sql(q{SELECT rustydb.compact('mp')});
	my @s = stripes_of('mp');
	note 'mp after compacting the mapped stripe: ' . describe(@s);
	ok(!grep({ $_->{stripe} == $st } @s), 'mp: the mapped stripe was compacted away');
	my @sp = $space->();
	my ($used, $freed) = (0, 0);
	$used += $_->{blocks} for grep { $_->{kind} eq 'stripe' } @sp;
	$freed += $_->{blocks} for grep { $_->{kind} eq 'free' } @sp;
	my $l = layout('mp');
	is("$used|$freed", "$l->{stripe_pages}|$l->{free_stripe_pages}",
		'mp: stripe_space accounts for every stripe page l0_layout counts, used and free');
	my %blk;
	my $overlap = 0;
	for my $r (@sp)
	{
		for my $b ($r->{first} .. $r->{first} + $r->{blocks} - 1) { $overlap++ if $blk{$b}++; }
	}
	is($overlap, 0, 'mp: no block is in two runs or extents');
	cmp_ok($freed, '>=', $fresh[0]{pages}, "mp: the mapped stripe's $fresh[0]{pages} pages are free again ($freed)");
	same_as_twin($node, 'mp', 'after compacting the mapped stripe');
}

# ===========================================================================
# 4. The standby replayed all of it (wal_consistency_checking)
# ===========================================================================
# gsum: the directory's leaf-group summaries (gendir.h) are WAL-logged too:
# ~750 retired pages (two whole groups of 352), flush and VACUUM summarise
# them, an UPDATE revives a page of the second group (clearing its
# summary); the standby's columnar scan passes over the first group and
# finds the updated row, as the primary's does
sql(q{CREATE TABLE gsum (id int, ts timestamptz, pad text) USING rustydb WITH (chunk_group_rows = 1000);
      CREATE TABLE gsum_h (id int, ts timestamptz, pad text) USING heap});
both('gsum', q{INSERT INTO gsum SELECT g, '2024-01-01'::timestamptz + g * interval '1 second',
	repeat(md5(g::text), 28) FROM generate_series(1, 6000) g});
flush_all('gsum', 6000);
sql('VACUUM gsum');
both('gsum', q{UPDATE gsum SET ts = '2030-01-01' WHERE id = 5000});
my $gsum_q = q{SELECT count(*), sum(id) FROM gsum WHERE ts > '2029-01-01'};
my $gsum_explain = "EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF) $gsum_q";
is(sql($gsum_q), '1|5000', 'gsum: the updated row is found past the summarised groups');
like(sql($gsum_explain), qr/Generation Groups Skipped: [1-9]/, 'gsum: the primary skips a summarised group');
$node->wait_for_catchup($standby, 'replay');
is($standby->safe_psql('postgres', $gsum_q), '1|5000', 'standby: gsum finds the updated row');
like($standby->safe_psql('postgres', $gsum_explain), qr/Generation Groups Skipped: [1-9]/,
	'standby: the replayed summaries let its scan skip a group');
{
	my $all = q{SELECT count(*) || ':' || md5(string_agg(id || ts::text || pad, ',' ORDER BY id)) FROM %s};
	is(sql(sprintf($all, 'gsum')), sql(sprintf($all, 'gsum_h')), 'gsum equals its heap twin');
	is($standby->safe_psql('postgres', sprintf($all, 'gsum')), sql(sprintf($all, 'gsum_h')),
		'standby: gsum equals the heap twin');
}
for my $t (qw(lv ss cx mp))
{
	same_as_twin($standby, $t, 'on the standby');
	my $cols = q{SELECT stripe, level, rows, pages FROM rustydb.stripes WHERE relation = '%s'::regclass ORDER BY stripe};
	is($standby->safe_psql('postgres', sprintf($cols, $t)), sql(sprintf($cols, $t)),
		"standby: $t has the same stripes");
	is($standby->safe_psql('postgres', "SELECT free_stripe_pages, stripe_pages FROM rustydb.l0_layout('$t')"),
		sql("SELECT free_stripe_pages, stripe_pages FROM rustydb.l0_layout('$t')"),
		"standby: $t has the same free and used stripe pages");
}
# cx has sort_key = 'v' ('pre 1', 'pre 10', 'pre 100' ...: not the order
# rows came in): each of its stripes of several chunk groups, written by
# flushes and compactions through the crashes above, holds them in v order
# (a group's max <= the next group's min), on both nodes
{
	my $q = q{
SELECT count(DISTINCT first_block) || ':' || count(*) FILTER (WHERE next_min < max)
FROM (SELECT first_block, max,
             lead(min) OVER (PARTITION BY first_block ORDER BY chunk_group) AS next_min
      FROM rustydb.chunk_bounds('cx') WHERE column_name = 'v') b
WHERE first_block IN (SELECT first_block FROM rustydb.chunk_bounds('cx')
                      GROUP BY 1 HAVING count(*) > 1)};
	my $sorted = sql($q);
	like($sorted, qr/^[1-9]\d*:0$/, "cx: its stripes of several chunk groups are sorted by v ($sorted)");
	is($standby->safe_psql('postgres', $q), $sorted, 'standby: cx stripes sorted the same');
}

# ===========================================================================
# 7. A damaged input stripe
# ===========================================================================
sql(q{
	CREATE TABLE bad (id int, v text) USING rustydb WITH (stripe_rows = 2000, level_ratio = 2);
	CREATE TABLE bad_h (id int, v text) USING heap;
	CREATE UNIQUE INDEX bad_id ON bad (id);
	CREATE UNIQUE INDEX bad_h_id ON bad_h (id);
});
both('bad', q{INSERT INTO bad SELECT g, md5(g::text) || md5((g * 7)::text) FROM generate_series(1, 4000) g});
flush_all('bad', 4000);
my @bs = stripes_of('bad');
note 'bad: ' . describe(@bs);
cmp_ok($bs[0]{pages}, '>=', 3, "the first stripe of bad spans $bs[0]{pages} pages");
my $bad_first = $bs[0]{stripe};
my $bad_rows = $bs[0]{rows};
{
	my $file = $node->data_dir . '/' . sql(q{SELECT pg_relation_filepath('bad')});
	my $free_before = layout('bad')->{free_stripe_pages};
	$node->stop;
	# invert 64 bytes in the middle of a data page of the first stripe and
	# fix the page checksum, so that the stripe's own chunk checksum (not
	# the buffer manager) finds the damage
	my $blk = $bad_first + int($bs[0]{pages} / 2);
	open(my $fh, '+<', $file) or die "open $file: $!";
	binmode $fh;
	sysseek($fh, $blk * 8192, 0) or die "seek: $!";
	my $page;
	sysread($fh, $page, 8192) == 8192 or die "read: $!";
	substr($page, 3000, 64) = join('', map { chr(ord($_) ^ 0xff) } split //, substr($page, 3000, 64));
	substr($page, 8, 2) = pack('v', pg_checksum_page($page, $blk));
	sysseek($fh, $blk * 8192, 0) or die "seek: $!";
	syswrite($fh, $page) == 8192 or die "write: $!";
	close($fh);
	note "inverted 64 bytes of block $blk (stripe at block $bad_first)";
	$node->start;

	my ($ret, $stdout, $stderr) = $node->psql('postgres',
		qq{\\set VERBOSITY verbose
		   SELECT rustydb.compact('bad')});
	isnt($ret, 0, 'compacting a table with a damaged input stripe fails');
	like($stderr, qr/ERROR:\s+XX001: rustydb stripe at block $bad_first of table "bad" is corrupted/,
		'XX001 (data corrupted) naming the table and the stripe');
	my ($err, $at) = split /\|/, sql(q{SELECT last_compaction_error, last_compaction_error_at IS NOT NULL
		FROM rustydb.tables WHERE relation = 'bad'::regclass});
	like($err, qr/stripe at block $bad_first of table "bad" is corrupted/, 'rustydb.tables.last_compaction_error says so');
	is($at, 't', 'rustydb.tables.last_compaction_error_at is set');
	like(history('bad')->{last_error}, qr/corrupted/, 'compaction_history.last_error says so too');
	is(describe(stripes_of('bad')), describe(@bs), 'the stripes are unchanged (none written, none switched)');
	is(layout('bad')->{free_stripe_pages}, $free_before, 'no stripe page was freed');
	my $idx = 'SET enable_seqscan = off; SET enable_bitmapscan = off; SET rustydb.enable_columnar_scan = off; ';
	is(sql($idx . digest_sql('bad', 'bad', "AND id > $bad_rows")),
		sql(digest_sql('bad', 'bad_h', "AND id > $bad_rows")),
		"the rows of the other stripes still read back (index scan, ids > $bad_rows)");

	# the background worker meets the same damage: it logs the error,
	# leaves the table as it is and backs off (10 s, doubling) instead of
	# retrying every round (2 s)
	# (rows arrive every 3 s, so every worker round that flushes would
	# also try to compact, were it not backing off)
	my $log_from = -s $node->logfile;
	sql(q{ALTER TABLE bad SET (flush_rows = 100)});
	my $t0 = time();
	my $bg_errors = 0;
	my $next_id = 4001;
	while (time() - $t0 < 30)
	{
		both('bad', sprintf(q{INSERT INTO bad SELECT g, md5(g::text) FROM generate_series(%d, %d) g},
			$next_id, $next_id + 199));
		$next_id += 200;
		sleep(3);
	}
	my $log = substr(slurp_file($node->logfile), $log_from);
	$bg_errors = () = $log =~ /ERROR:\s+rustydb stripe at block $bad_first of table "bad" is corrupted/g;
	note "background compaction errors in 30 s: $bg_errors";
	cmp_ok($bg_errors, '>=', 1, 'the background worker tried to compact bad and logged the damage');
	cmp_ok($bg_errors, '<=', 3, "and backed off (10 s, 20 s, ...) instead of retrying every round ($bg_errors attempts in 30 s)");
	like(sql(q{SELECT last_compaction_error FROM rustydb.tables WHERE relation = 'bad'::regclass}),
		qr/corrupted/, 'rustydb.tables still shows the error');
	is(sql($idx . digest_sql('bad', 'bad', "AND id > $bad_rows")),
		sql(digest_sql('bad', 'bad_h', "AND id > $bad_rows")),
		'the rows the worker flushed meanwhile read back too');
	cmp_ok(sql(q{SELECT count(*) FROM rustydb.stripes WHERE relation = 'bad'::regclass}), '>', scalar(@bs),
		'(the worker did flush them into stripes of their own)');
	sql(q{ALTER TABLE bad SET (flush_rows = 0)});
}

# ===========================================================================
# 5. Background compaction
# ===========================================================================
sql(q{
	CREATE TABLE bg1 (id int, v text) USING rustydb WITH (flush_rows = 1000, stripe_rows = 1000, level_ratio = 2);
	CREATE TABLE bg1_h (id int, v text) USING heap;
	CREATE UNIQUE INDEX bg1_id ON bg1 (id);
	CREATE UNIQUE INDEX bg1_h_id ON bg1_h (id);
});
for my $i (0 .. 5)
{
	both('bg1', sprintf(q{INSERT INTO bg1 SELECT g, 'bg ' || g FROM generate_series(%d, %d) g}, $i * 1000 + 1, $i * 1000 + 1000));
}
my $deadline = time() + 90;
my $bg_level = 0;
while (time() < $deadline)
{
	$bg_level = sql(q{SELECT coalesce(max(level), 0) FROM rustydb.stripes WHERE relation = 'bg1'::regclass});
	last if $bg_level >= 2;
	sleep(0.5);
}
cmp_ok($bg_level, '>=', 2, "the worker flushed and compacted bg1 up to level $bg_level (nothing here called flush or compact)");
my ($spl, $bgc) = split /\|/, sql(q{SELECT stripes_per_level, compactions FROM rustydb.tables WHERE relation = 'bg1'::regclass});
note "bg1: stripes_per_level $spl, compactions $bgc";
like($spl, qr/L[2-9]:\d/, "rustydb.tables.stripes_per_level shows it ($spl)");
cmp_ok($bgc, '>=', 1, 'rustydb.tables counts the background compactions');
# the worker gives the inputs' pages back too (it compacts in a subtransaction
# of its own transaction, which is no user's transaction block)
cmp_ok(history('bg1')->{pages_freed}, '>', 0,
	'the background compactions gave stripe pages back (' . history('bg1')->{pages_freed} . ')');
same_as_twin($node, 'bg1', 'after background compaction');

# with background compaction off, the worker still flushes but compacts nothing
sql(q{ALTER SYSTEM SET rustydb.enable_background_compaction = off; SELECT pg_reload_conf();});
sleep(2);
sql(q{
	CREATE TABLE bg2 (id int, v text) USING rustydb WITH (flush_rows = 1000, stripe_rows = 1000, level_ratio = 2);
	CREATE TABLE bg2_h (id int, v text) USING heap;
	CREATE UNIQUE INDEX bg2_id ON bg2 (id);
	CREATE UNIQUE INDEX bg2_h_id ON bg2_h (id);
});
my $start = time();
for my $i (0 .. 4)
{
	both('bg2', sprintf(q{INSERT INTO bg2 SELECT g, 'off ' || g FROM generate_series(%d, %d) g}, $i * 1000 + 1, $i * 1000 + 1000));
	sleep(2);
}
$deadline = time() + 60;
my $bg2_stripes = 0;
while (time() < $deadline)
{
	$bg2_stripes = sql(q{SELECT count(*) FROM rustydb.stripes WHERE relation = 'bg2'::regclass});
	last if $bg2_stripes >= 4 && time() - $start >= 15;
	sleep(0.5);
}
my @b2 = stripes_of('bg2');
note sprintf('bg2 after %.0f s with background compaction off: %s', time() - $start, describe(@b2));
cmp_ok(scalar(@b2), '>=', 4, 'the worker still flushed bg2 (' . scalar(@b2) . ' stripes)');
is(max_level(@b2), 1, 'but compacted nothing: every stripe is still at level 1');
is(history('bg2')->{compactions}, 0, 'compaction_history has no compaction of bg2');
same_as_twin($node, 'bg2', 'with background compaction off');
# on again: the next flush is followed by a compaction
sql(q{ALTER SYSTEM RESET rustydb.enable_background_compaction; SELECT pg_reload_conf();});
sleep(2);
both('bg2', q{INSERT INTO bg2 SELECT g, 'on ' || g FROM generate_series(5001, 6000) g});
$deadline = time() + 60;
my $bg2_level = 1;
while (time() < $deadline)
{
	$bg2_level = sql(q{SELECT coalesce(max(level), 0) FROM rustydb.stripes WHERE relation = 'bg2'::regclass});
	last if $bg2_level >= 2;
	sleep(0.5);
}
cmp_ok($bg2_level, '>=', 2, 'switched on again, the worker compacts bg2');
same_as_twin($node, 'bg2', 'after background compaction was switched on again');

# ===========================================================================
# 8. A background step yields to a session that waits for a lock on its
#    table (here ALTER TABLE; VACUUM, ANALYZE and CREATE INDEX alike): the
#    step is put off before it writes anything, the statement goes on.
# ===========================================================================
{
	# only bg3 for the worker now
	sql(q{ALTER TABLE bg1 SET (flush_rows = 0); ALTER TABLE bg2 SET (flush_rows = 0)});
	sql(q{
		CREATE TABLE bg3 (id int, v text) USING rustydb WITH (flush_rows = 1000, stripe_rows = 1000, level_ratio = 2);
		CREATE TABLE bg3_h (id int, v text) USING heap;
		CREATE UNIQUE INDEX bg3_id ON bg3 (id);
		CREATE UNIQUE INDEX bg3_h_id ON bg3_h (id);
	});
	my $ylock = 777034;
	my $holder = $node->background_psql('postgres');
	$holder->query_safe("SELECT pg_advisory_lock($ylock)");
	sql(qq{ALTER SYSTEM SET rustydb.compaction_pause_phase = 'writing';
		ALTER SYSTEM SET rustydb.compaction_pause_lock = $ylock;
		SELECT pg_reload_conf();});
	sleep(2);
	both('bg3', q{INSERT INTO bg3 SELECT g, 'y ' || g FROM generate_series(1, 1000) g});
	sleep(1);
	both('bg3', q{INSERT INTO bg3 SELECT g, 'y ' || g FROM generate_series(1001, 2000) g});
	ok( $node->poll_query_until('postgres', qq{
			SELECT count(*) = 1 FROM rustydb.compaction_progress p
			 WHERE p.relation = 'bg3'::regclass AND p.phase = 'writing stripes' AND p.background
			   AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.objid = $ylock
			                 AND NOT l.granted AND l.pid = p.pid)}),
		'bg3: the worker\'s compaction step waits before writing');
	my @before = stripes_of('bg3');
	note 'bg3 while the step waits: ' . describe(@before);
	my $steps_before = history('bg3')->{steps};
	my $log_from = -s $node->logfile;

	# DDL comes along and waits for the worker's ShareUpdateExclusiveLock
	my $ddl = $node->background_psql('postgres');
	$ddl->query_until(qr/altering/, "\\echo altering\nALTER TABLE bg3 ADD COLUMN extra int DEFAULT 5;\n\\echo altered\n");
	ok( $node->poll_query_until('postgres', q{
			SELECT count(*) = 1 FROM pg_locks WHERE relation = 'bg3'::regclass AND NOT granted
			   AND mode = 'AccessExclusiveLock'}),
		'bg3: ALTER TABLE waits for the lock the worker holds');
	my $t0 = time();
	$holder->query_safe("SELECT pg_advisory_unlock($ylock)");
	# released, the step sees the waiter and is put off instead of starting
	$ddl->query_until(qr/altered/, '');
	my $waited = time() - $t0;
	note sprintf('ALTER TABLE went on %.1f s after the step was released', $waited);
	my $h = history('bg3');
	ok( $node->wait_for_log(qr/LOG:  background compaction of "bg3" put its step off/, $log_from),
		'bg3: the server log says the step was put off');
	is($h->{last_error}, '', 'bg3: a step put off is no failure (no error, no back-off)');
	is($h->{steps}, $steps_before, 'bg3: no step was counted as done');
	my @after = stripes_of('bg3');
	note 'bg3 after the step was put off: ' . describe(@after);
	is(scalar(grep { $_->{level} >= 2 } @after), 0,
		'bg3: nothing was written for it (no stripe of level 2)');
	# (a flush may have copied a page's rows of one stripe into the next,
	# which leaves rows no stub refers to: compare, do not expect none)
	is(describe(grep { $_->{level} == 1 } @after), describe(grep { $_->{level} == 1 } @before),
		'bg3: the inputs are as they were, every row still referred to');
	$ddl->quit;
	$holder->quit;
	sql(q{ALTER SYSTEM RESET rustydb.compaction_pause_phase;
		ALTER SYSTEM RESET rustydb.compaction_pause_lock;
		SELECT pg_reload_conf();});
	sql(q{ALTER TABLE bg3_h ADD COLUMN extra int DEFAULT 5});
	same_as_twin($node, 'bg3', 'after the background step was put off');
	# a later round compacts it: the next flush that writes a stripe is
	# followed by a compaction (no back-off)
	both('bg3', q{INSERT INTO bg3 SELECT g, 'z ' || g FROM generate_series(2001, 3000) g});
	my $deadline3 = time() + 120;
	my $lvl = 1;
	while (time() < $deadline3)
	{
		# a merged stripe that rows refer to
		$lvl = sql(q{SELECT coalesce(max(level), 0) FROM rustydb.stripes
			WHERE relation = 'bg3'::regclass AND deleted_rows < rows});
		last if $lvl >= 2;
		sleep(0.5);
	}
	cmp_ok($lvl, '>=', 2, 'bg3: a later round of the worker compacts it');
	same_as_twin($node, 'bg3', 'after the later background compaction');
}

# ===========================================================================
# 8b. A background step already under way (its output written, switching
#     rows to it) is given up for a session that waits for a lock on its
#     table: the statement waits for a page at most, not for the step (a
#     step of a large max_stripe_rows or sort-key merge writes for seconds,
#     and DDL under lock_timeout failed behind it).  What it did stays as a
#     crash would leave it; a later round compacts the table again.
# ===========================================================================
{
	sql(q{ALTER TABLE bg3 SET (flush_rows = 0)});
	sql(q{
		CREATE TABLE bg4 (id int, v text) USING rustydb WITH (flush_rows = 1000, stripe_rows = 1000, level_ratio = 2);
		CREATE TABLE bg4_h (id int, v text) USING heap;
		CREATE UNIQUE INDEX bg4_id ON bg4 (id);
		CREATE UNIQUE INDEX bg4_h_id ON bg4_h (id);
	});
	my $glock = 777035;
	my $holder = $node->background_psql('postgres');
	$holder->query_safe("SELECT pg_advisory_lock($glock)");
	sql(qq{ALTER SYSTEM SET rustydb.compaction_pause_phase = 'switching';
		ALTER SYSTEM SET rustydb.compaction_pause_lock = $glock;
		SELECT pg_reload_conf();});
	sleep(2);
	both('bg4', q{INSERT INTO bg4 SELECT g, 'y ' || g FROM generate_series(1, 1000) g});
	sleep(1);
	both('bg4', q{INSERT INTO bg4 SELECT g, 'y ' || g FROM generate_series(1001, 2000) g});
	ok( $node->poll_query_until('postgres', qq{
			SELECT count(*) = 1 FROM rustydb.compaction_progress p
			 WHERE p.relation = 'bg4'::regclass AND p.phase = 'switching rows' AND p.background
			   AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.objid = $glock
			                 AND NOT l.granted AND l.pid = p.pid)}),
		'bg4: the worker\'s compaction step wrote its output and waits before switching');
	my $steps_before = history('bg4')->{steps};
	my $log_from = -s $node->logfile;

	my $ddl = $node->background_psql('postgres');
	$ddl->query_until(qr/altering/, "\\echo altering\nSET lock_timeout = '60s';\nALTER TABLE bg4 ADD COLUMN extra int DEFAULT 5;\n\\echo altered\n");
	ok( $node->poll_query_until('postgres', q{
			SELECT count(*) = 1 FROM pg_locks WHERE relation = 'bg4'::regclass AND NOT granted
			   AND mode = 'AccessExclusiveLock'}),
		'bg4: ALTER TABLE waits for the lock the worker holds');
	$holder->query_safe("SELECT pg_advisory_unlock($glock)");
	$ddl->query_until(qr/altered/, '');
	ok( $node->wait_for_log(qr/LOG:  background compaction of "bg4" gave its step up/, $log_from),
		'bg4: the server log says the step under way was given up');
	my $h = history('bg4');
	is($h->{last_error}, '', 'bg4: a step given up is no failure (no error, no back-off)');
	is($h->{steps}, $steps_before, 'bg4: no step was counted as done');
	$ddl->quit;
	$holder->quit;
	sql(q{ALTER SYSTEM RESET rustydb.compaction_pause_phase;
		ALTER SYSTEM RESET rustydb.compaction_pause_lock;
		SELECT pg_reload_conf();});
	sql(q{ALTER TABLE bg4_h ADD COLUMN extra int DEFAULT 5});
	same_as_twin($node, 'bg4', 'after the background step was given up');
	both('bg4', q{INSERT INTO bg4 SELECT g, 'z ' || g FROM generate_series(2001, 3000) g});
	my $deadline4 = time() + 120;
	my $lvl = 1;
	while (time() < $deadline4)
	{
		$lvl = sql(q{SELECT coalesce(max(level), 0) FROM rustydb.stripes
			WHERE relation = 'bg4'::regclass AND deleted_rows < rows});
		last if $lvl >= 2;
		sleep(0.5);
	}
	cmp_ok($lvl, '>=', 2, 'bg4: a later round of the worker compacts it');
	same_as_twin($node, 'bg4', 'after the later background compaction');
}

# ===========================================================================
# Logs
# ===========================================================================
$node->wait_for_catchup($standby, 'replay');
same_as_twin($standby, 'bg1', 'on the standby');
check_log_clean($node, 0, 'primary log shows no problem');
check_log_clean($standby, 0, 'standby log: no inconsistent page, PANIC or unexpected FATAL');
{
	my @errors = grep { /\bERROR:/ && !/table "bad" is corrupted/ }
	  split /\n/, slurp_file($node->logfile);
	is(join("\n", @errors), '', 'primary log: no ERROR but the damaged table\'s (a step put off is none)');
	@errors = grep { /\bERROR:/ } split /\n/, slurp_file($standby->logfile);
	is(join("\n", @errors), '', 'standby log: no ERROR');
}

$standby->stop;
$node->stop;
done_testing();
