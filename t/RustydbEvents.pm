
# t/RustydbEvents.pm
#	Helpers for the storage-event TAP tests (t/010_events_notify.pl,
#	t/011_events_overload.pl, t/012_events_privileges.pl).
#
#   * parse_json: a small JSON parser that keeps what a generic decoder
#     loses: whether a number was written as an integer (1500) or as a float
#     (1500.0, 1.5e3), duplicate keys, and key order.  The seed's test data
#     (test_data/*.json) fixes each field's JSON type that way, and payloads
#     are checked against it.
#   * seed_variants: every variant of the six seed files, with its
#     message_type, channel and field types.
#   * check_payload: validates one NOTIFY payload (or a payload taken from
#     rustydb.events) against its seed variant; returns the decoded event and
#     a list of problems (empty when valid).
#   * RustydbEvents::Listener: a psql session (BackgroundPsql) that LISTENs
#     on channels and collects the notifications psql prints after each
#     command ("Asynchronous notification "CH" with payload "..." received
#     from server process with PID N.").
#   * pg_checksum_page: PostgreSQL's data checksum of a page (FNV-1a based,
#     storage/checksum_impl.h), to check the numbers of ChecksumFailure.

package RustydbEvents;

use strict;
use warnings FATAL => 'all';

use Exporter 'import';
use FindBin;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep time);

our @EXPORT = qw(
  parse_json
  json_plain
  json_text
  seed_variants
  check_payload
  channel_of
  all_channels
  pg_checksum_page
  sql_literal
);

# message_type -> NOTIFY channel (DESIGN.md, "Storage events").
my %CHANNEL = (
	buffer_pool_event => 'rustydb_buffer_pool',
	lsm_event => 'rustydb_lsm',
	disk_io_event => 'rustydb_io',
	tier_event => 'rustydb_tiers',
	page_event => 'rustydb_pages',
	columnar_event => 'rustydb_columnar');

sub channel_of { return $CHANNEL{ $_[0] }; }
sub all_channels { return sort values %CHANNEL; }

# Extra keys the engine may add to a variant's fields (EVENTS_CONTRACT.md:
# relation, database; seq = the event's sequence number in the ring, which
# also keeps NOTIFY from merging identical payloads sent in one transaction).
my %EXTRA = (relation => 'integer', database => 'integer', seq => 'integer');

# ---------------------------------------------------------------------------
# JSON with types
# ---------------------------------------------------------------------------
# A parsed value is a hash: {t => 'object', keys => [...], v => {k => value},
# dups => [k...]}, {t => 'array', v => [...]}, {t => 'string', v => $str},
# {t => 'integer' | 'float', v => $text} (the number as written),
# {t => 'boolean', v => 0|1} or {t => 'null'}.  Dies on a syntax error.
sub parse_json
{
	my ($text) = @_;
	die "not a string\n" unless defined $text;
	pos($text) = 0;
	my $v = _value(\$text);
	$text =~ /\G\s*/gc;
	die "trailing characters at offset " . pos($text) . "\n"
	  if pos($text) != length($text);
	return $v;
}

sub _value
{
	my ($s) = @_;
	$$s =~ /\G\s*/gc;
	if ($$s =~ /\G\{/gc)
	{
		my %o = (t => 'object', keys => [], v => {}, dups => []);
		$$s =~ /\G\s*/gc;
		return \%o if $$s =~ /\G\}/gc;
		while (1)
		{
			$$s =~ /\G\s*/gc;
			my $k = _value($s);
			die "object key is not a string at offset " . pos($$s) . "\n"
			  unless $k->{t} eq 'string';
			$$s =~ /\G\s*:/gc or die "':' expected at offset " . pos($$s) . "\n";
			my $val = _value($s);
			push @{ $o{dups} }, $k->{v} if exists $o{v}{ $k->{v} };
			push @{ $o{keys} }, $k->{v};
			$o{v}{ $k->{v} } = $val;
			$$s =~ /\G\s*/gc;
			next if $$s =~ /\G,/gc;
			last if $$s =~ /\G\}/gc;
			die "',' or '}' expected at offset " . pos($$s) . "\n";
		}
		return \%o;
	}
	if ($$s =~ /\G\[/gc)
	{
		my @a;
		$$s =~ /\G\s*/gc;
		return { t => 'array', v => \@a } if $$s =~ /\G\]/gc;
		while (1)
		{
			push @a, _value($s);
			$$s =~ /\G\s*/gc;
			next if $$s =~ /\G,/gc;
			last if $$s =~ /\G\]/gc;
			die "',' or ']' expected at offset " . pos($$s) . "\n";
		}
		return { t => 'array', v => \@a };
	}
	if ($$s =~ /\G"((?:[^"\\\x00-\x1f]|\\(?:["\\\/bfnrt]|u[0-9a-fA-F]{4}))*)"/gc)
	{
		my $str = $1;
		my %esc = ('"' => '"', '\\' => '\\', '/' => '/', b => "\b", f => "\f",
			n => "\n", r => "\r", t => "\t");
		$str =~ s/\\(?:u([0-9a-fA-F]{4})|(.))/defined $1 ? chr(hex $1) : $esc{$2}/ge;
		return { t => 'string', v => $str };
	}
	if ($$s =~ /\G(-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?)/gc)
	{
		return { t => (defined $2 || defined $3) ? 'float' : 'integer', v => $1 };
	}
	return { t => 'boolean', v => 1 } if $$s =~ /\Gtrue/gc;
	return { t => 'boolean', v => 0 } if $$s =~ /\Gfalse/gc;
	return { t => 'null' } if $$s =~ /\Gnull/gc;
	die "JSON syntax error at offset " . (pos($$s) // 0) . "\n";
}

# JSON text of a parsed value, numbers exactly as they were written.
sub json_text
{
	my ($v) = @_;
	my $t = $v->{t};
	if ($t eq 'object')
	{
		return '{' . join(', ', map { json_text({ t => 'string', v => $_ }) . ': ' . json_text($v->{v}{$_}) } @{ $v->{keys} }) . '}';
	}
	return '[' . join(', ', map { json_text($_) } @{ $v->{v} }) . ']' if $t eq 'array';
	if ($t eq 'string')
	{
		my $s = $v->{v};
		$s =~ s/(["\\])/\\$1/g;
		$s =~ s/([\x00-\x1f])/sprintf('\\u%04x', ord $1)/ge;
		return "\"$s\"";
	}
	return $v->{v} if $t eq 'integer' || $t eq 'float';
	return $v->{v} ? 'true' : 'false' if $t eq 'boolean';
	return 'null';
}

# The plain Perl value of a parsed value (numbers as numbers).
sub json_plain
{
	my ($v) = @_;
	return undef unless defined $v;
	my $t = $v->{t};
	return { map { $_ => json_plain($v->{v}{$_}) } keys %{ $v->{v} } }
	  if $t eq 'object';
	return [ map { json_plain($_) } @{ $v->{v} } ] if $t eq 'array';
	return $v->{v} + 0 if $t eq 'integer' || $t eq 'float';
	return undef if $t eq 'null';
	return $v->{v};
}

# A string as an SQL literal ('...' with quotes doubled).
sub sql_literal
{
	my ($s) = @_;
	$s =~ s/'/''/g;
	return "'$s'";
}

# ---------------------------------------------------------------------------
# The seed's variants
# ---------------------------------------------------------------------------
# Returns {Variant => {message_type, channel, fields => {name => type},
# examples => [raw JSON text of each message]}} from test_data/*.json.
# Dies if the files are missing or disagree with themselves (the same variant
# with different keys or types in two messages).
sub seed_variants
{
	my ($dir) = @_;
	$dir //= "$FindBin::RealBin/../test_data";
	my @files = sort glob("$dir/*.json");
	die "no seed test data in $dir\n" unless @files == 6;
	my %seeds;
	for my $file (@files)
	{
		my $text = slurp_file($file);
		my $doc = parse_json($text);
		die "$file: not an array\n" unless $doc->{t} eq 'array';
		for my $msg (@{ $doc->{v} })
		{
			my $mt = $msg->{v}{message_type}{v};
			my $data = $msg->{v}{data};
			die "$file: bad message\n"
			  unless defined $mt && $CHANNEL{$mt} && $data->{t} eq 'object'
			  && @{ $data->{keys} } == 1;
			my $variant = $data->{keys}[0];
			my $obj = $data->{v}{$variant};
			my %fields = map { $_ => $obj->{v}{$_}{t} } @{ $obj->{keys} };
			if (my $prev = $seeds{$variant})
			{
				my $a = join ',', map { "$_:$prev->{fields}{$_}" } sort keys %{ $prev->{fields} };
				my $b = join ',', map { "$_:$fields{$_}" } sort keys %fields;
				die "$file: $variant has fields ($b) here and ($a) elsewhere\n"
				  if $a ne $b || $prev->{message_type} ne $mt;
			}
			$seeds{$variant} //= {
				variant => $variant,
				message_type => $mt,
				channel => $CHANNEL{$mt},
				fields => \%fields,
				examples => [] };
			push @{ $seeds{$variant}{examples} }, $msg;
		}
	}
	return \%seeds;
}

# ---------------------------------------------------------------------------
# Payload validation
# ---------------------------------------------------------------------------
# check_payload($seeds, $channel, $text, %opts): $channel may be undef (a
# payload from the views, whose channel is checked by the caller).
# opts: min_ts / max_ts bound the timestamps (unix seconds), database = the
# oid "database" must have.
# Returns ($event, @problems); $event = {channel, message_type, variant,
# f => {field => plain value}, raw => {field => text as written},
# relation, database, seq, timestamp, text}.
sub check_payload
{
	my ($seeds, $channel, $text, %opts) = @_;
	my @p;
	my $ev = { channel => $channel, text => $text };
	push @p, 'payload is ' . length($text) . ' bytes (NOTIFY allows < 8000)'
	  if length($text) >= 8000;
	my $doc = eval { parse_json($text) };
	if (!$doc)
	{
		return ($ev, "not JSON: $@");
	}
	if ($doc->{t} ne 'object')
	{
		return ($ev, "not a JSON object");
	}
	push @p, "duplicate top-level keys: @{$doc->{dups}}" if @{ $doc->{dups} };
	my $top = join ',', sort @{ $doc->{keys} };
	push @p, "top-level keys are ($top), expected (data,message_type,timestamp)"
	  if $top ne 'data,message_type,timestamp';
	my $mt = $doc->{v}{message_type};
	if (!$mt || $mt->{t} ne 'string' || !$CHANNEL{ $mt->{v} })
	{
		return ($ev, @p, "message_type missing or unknown");
	}
	$ev->{message_type} = $mt->{v};
	push @p, "message_type $mt->{v} sent on channel $channel (expected $CHANNEL{$mt->{v}})"
	  if defined $channel && $channel ne $CHANNEL{ $mt->{v} };
	my $ts = $doc->{v}{timestamp};
	if (!$ts || $ts->{t} ne 'integer')
	{
		push @p, "top-level timestamp missing or not an integer";
	}
	else
	{
		$ev->{timestamp} = $ts->{v} + 0;
	}
	my $data = $doc->{v}{data};
	if (!$data || $data->{t} ne 'object' || @{ $data->{keys} } != 1)
	{
		return ($ev, @p, "data is not an object with exactly one key");
	}
	my $variant = $data->{keys}[0];
	$ev->{variant} = $variant;
	my $seed = $seeds->{$variant};
	if (!$seed)
	{
		return ($ev, @p, "variant $variant is not in the seed");
	}
	push @p, "variant $variant belongs to $seed->{message_type}, payload says $mt->{v}"
	  if $seed->{message_type} ne $mt->{v};
	my $obj = $data->{v}{$variant};
	if ($obj->{t} ne 'object')
	{
		return ($ev, @p, "data.$variant is not an object");
	}
	push @p, "duplicate keys in $variant: @{$obj->{dups}}" if @{ $obj->{dups} };
	for my $k (sort keys %{ $seed->{fields} })
	{
		my $want = $seed->{fields}{$k};
		my $got = $obj->{v}{$k};
		if (!$got)
		{
			push @p, "$variant.$k missing";
			next;
		}
		if ($got->{t} ne $want)
		{
			push @p, "$variant.$k is a JSON $got->{t} ($got->{v}), the seed has a $want";
			next;
		}
		$ev->{f}{$k} = json_plain($got);
		$ev->{raw}{$k} = $got->{v};
	}
	for my $k (@{ $obj->{keys} })
	{
		next if exists $seed->{fields}{$k};
		if (!$EXTRA{$k})
		{
			push @p, "$variant has key $k that the seed's variant does not have";
			next;
		}
		my $got = $obj->{v}{$k};
		if ($got->{t} ne $EXTRA{$k})
		{
			push @p, "$variant.$k is a JSON $got->{t}, expected $EXTRA{$k}";
			next;
		}
		$ev->{$k} = $got->{v} + 0;
	}
	for my $t ($ev->{timestamp}, $ev->{f}{timestamp})
	{
		next unless defined $t;
		push @p, "timestamp $t is before the test started ($opts{min_ts})"
		  if defined $opts{min_ts} && $t < $opts{min_ts};
		push @p, "timestamp $t is in the future (now $opts{max_ts})"
		  if defined $opts{max_ts} && $t > $opts{max_ts};
	}
	push @p, "database is " . ($ev->{database} // 'absent') . ", expected $opts{database}"
	  if defined $opts{database}
	  && (!defined $ev->{database} || $ev->{database} != $opts{database});
	return ($ev, @p);
}

# ---------------------------------------------------------------------------
# Checksums
# ---------------------------------------------------------------------------
my @CHECKSUM_BASE = (
	0x5B1F36E9, 0xB8525960, 0x02AB50AA, 0x1DE66D2A, 0x79FF467A, 0x9BB9F8A3,
	0x217E7CD2, 0x83E13D2C, 0xF8D4474F, 0xE39EB970, 0x42C6AE16, 0x993216FA,
	0x7B093B5D, 0x98DAFF3C, 0xF718902A, 0x0B1C9CDB, 0xE58F764B, 0x187636BC,
	0x5D7B3BB1, 0xE73DE7DE, 0x92BEC979, 0xCCA6C0B2, 0x304A0979, 0x85AA43D4,
	0x783125BB, 0x6CA8EAA2, 0xE407EAC6, 0x4B5CFC3E, 0x9FBF8C76, 0x15CA20BE,
	0xF2CA9FD3, 0x959BD756);

# pg_checksum_page($page_bytes, $blkno): what PostgreSQL computes (and stores
# in pd_checksum) for an 8 kB page, on a little-endian machine.
sub pg_checksum_page
{
	my ($page, $blkno) = @_;
	die "page is not 8192 bytes\n" unless length($page) == 8192;
	substr($page, 8, 2) = "\0\0";    # pd_checksum counts as zero
	my @w = unpack('V2048', $page);
	my @sums = @CHECKSUM_BASE;
	my $comp = sub {
		my ($j, $value) = @_;
		my $tmp = ($sums[$j] ^ $value) & 0xFFFFFFFF;
		$sums[$j] = ((($tmp * 16777619) & 0xFFFFFFFF) ^ ($tmp >> 17)) & 0xFFFFFFFF;
	};
	for my $i (0 .. 2048 / 32 - 1)
	{
		$comp->($_, $w[ $i * 32 + $_ ]) for 0 .. 31;
	}
	for (1 .. 2)
	{
		$comp->($_, 0) for 0 .. 31;
	}
	my $r = 0;
	$r ^= $_ for @sums;
	$r = ($r ^ $blkno) & 0xFFFFFFFF;
	return ($r % 65535) + 1;
}

# ---------------------------------------------------------------------------
# A listening session
# ---------------------------------------------------------------------------
package RustydbEvents::Listener;

use strict;
use warnings FATAL => 'all';
use Test::More;
use Time::HiRes qw(sleep time);

# new($node, $db, channels => [...], seeds => $seeds, min_ts => .., database => oid,
#     psql_params => [...]): connect and LISTEN.
sub new
{
	my ($class, $node, $db, %opts) = @_;
	# The session's IPC::Run timer restarts with every command, so a
	# listener may live as long as the test (PG_TEST_TIMEOUT_DEFAULT would
	# otherwise bound its whole life).
	my $psql = $node->background_psql($db,
		on_error_stop => 1,
		timeout => $PostgreSQL::Test::Utils::timeout_default,
		extra_params => $opts{psql_params} // []);
	$psql->set_query_timer_restart();
	my $self = bless {
		node => $node,
		psql => $psql,
		seeds => $opts{seeds},
		min_ts => $opts{min_ts},
		database => $opts{database},
		events => [],
	}, $class;
	$psql->query_safe(join(' ', map { "LISTEN $_;" } @{ $opts{channels} }));
	return $self;
}

# Run one command and collect the notifications psql printed with it.
# Returns the number of new ones.
sub poll
{
	my ($self) = @_;
	my $out = $self->{psql}->query_safe('SELECT 1');
	my $n = 0;
	for my $line (split /\n/, $out)
	{
		my ($ch, $payload, $pid);
		if ($line =~ /^Asynchronous notification "([^"]*)" with payload "(.*)" received from server process with PID (\d+)\.$/)
		{
			($ch, $payload, $pid) = ($1, $2, $3);
		}
		elsif ($line =~ /^Asynchronous notification "([^"]*)" received from server process with PID (\d+)\.$/)
		{
			($ch, $payload, $pid) = ($1, '', $2);
		}
		else
		{
			next;
		}
		my $rec = { channel => $ch, payload => $payload, pid => $pid, at => time() };
		if ($self->{seeds} && $ch =~ /^rustydb_(buffer_pool|lsm|io|tiers|pages|columnar)$/)
		{
			my ($ev, @problems) = RustydbEvents::check_payload(
				$self->{seeds}, $ch, $payload,
				min_ts => $self->{min_ts},
				max_ts => int(time()) + 5,
				database => $self->{database});
			$rec->{ev} = $ev;
			$rec->{problems} = \@problems;
		}
		push @{ $self->{events} }, $rec;
		$n++;
	}
	return $n;
}

# Position in the list of notifications received so far.
sub mark { my ($self) = @_; $self->poll; return scalar @{ $self->{events} }; }

# Notifications received from position $mark on (all if no mark).
sub since
{
	my ($self, $mark) = @_;
	my @e = @{ $self->{events} };
	return @e[ ($mark // 0) .. $#e ];
}

# wait_for($mark, $cond, timeout => s, settle => s): poll until
# $cond->(@notifications since $mark) is true or the timeout passes, then go on
# polling for `settle` seconds more (to catch late extras).  Returns whether
# the condition held, and the notifications since $mark.
sub wait_for
{
	my ($self, $mark, $cond, %opts) = @_;
	my $deadline = time() + ($opts{timeout} // 10);
	my $ok = 0;
	while (1)
	{
		$self->poll;
		if ($cond->($self->since($mark)))
		{
			$ok = 1;
			last;
		}
		last if time() > $deadline;
		sleep(0.2);
	}
	if ($opts{settle})
	{
		my $until = time() + $opts{settle};
		while (time() < $until)
		{
			sleep(0.2);
			$self->poll;
		}
		$ok = $cond->($self->since($mark)) ? 1 : 0;
	}
	return ($ok, $self->since($mark));
}

sub query_safe { my ($self, $sql) = @_; return $self->{psql}->query_safe($sql); }

sub quit
{
	my ($self) = @_;
	$self->{psql}{timeout}->start;
	$self->{psql}->quit;
	return;
}

1;
