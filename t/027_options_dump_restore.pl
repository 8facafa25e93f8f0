
# t/027_options_dump_restore.pl
#	pg_dump / pg_restore keep the per-table options of rustydb tables.
#
# Our options live in pg_class.reloptions, so pg_dump emits them in
# CREATE TABLE ... WITH (...), which on restore goes through the extension's
# DDL hook again.  A database "src" gets, in schema app, rustydb tables with
# options set by CREATE TABLE USING, through default_table_access_method,
# by CREATE TABLE AS, on a partition, by ALTER TABLE SET / RESET mixed with
# heap's options; a rustydb table with heap's options only; and a table
# moved to heap by SET ACCESS METHOD (whose rustydb options went with it).
# It is dumped in custom format (restored with pg_restore -j 2) and plain
# format (restored with psql); each copy must have the same access methods,
# reloptions, effective options (rustydb.table_options) and rows, and a
# flush in the restored database must use the restored options.  A plain
# dump made with --no-table-access-method makes heap tables of them, which
# refuse rustydb options: that restore must stop with the clear error.

use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RustydbTest;

my $am = test_am();
plan skip_all => 'table options are rustydb-specific' if $am ne 'rustydb';

# no autovacuum: flush moves only rows every snapshot of the database sees
my $node = rdb_node('optdump', conf => "autovacuum = off\n");
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE src');
rdb_create_extension($node, 'src');

$node->safe_psql(
	'src', q{
CREATE SCHEMA app;

CREATE TABLE app.all_opts (id int PRIMARY KEY, v text) USING rustydb
	WITH (flush_rows = 100000, compression = 'zstd', compression_level = 3,
		  chunk_group_rows = 10000, stripe_rows = 150000);

CREATE TABLE app.mixed (id int, v text) USING rustydb
	WITH (fillfactor = 70, compression = 'none', chunk_group_rows = 1000,
		  autovacuum_enabled = false, toast.autovacuum_enabled = false);

SET default_table_access_method = rustydb;
CREATE TABLE app.by_default (id int, v text) WITH (flush_rows = 5000, compression = 'lz4', flush_running = on, writer_flush_rows = 40000);
CREATE TABLE app.ctas WITH (stripe_rows = 2000, chunk_group_rows = 1000) AS
	SELECT g AS id, 'c' || g AS v FROM generate_series(1, 3000) g;
RESET default_table_access_method;

CREATE TABLE app.altered (id int, v text) USING rustydb WITH (fillfactor = 90);
ALTER TABLE app.altered SET (compression = 'zstd', compression_level = 12, stripe_rows = 5000);
ALTER TABLE app.altered SET (fillfactor = 80), RESET (stripe_rows);

CREATE TABLE app.parted (day date NOT NULL, v int) PARTITION BY RANGE (day);
CREATE TABLE app.parted_jan PARTITION OF app.parted
	FOR VALUES FROM ('2024-01-01') TO ('2024-02-01') USING rustydb
	WITH (chunk_group_rows = 2000, flush_rows = 0);
CREATE TABLE app.parted_feb PARTITION OF app.parted
	FOR VALUES FROM ('2024-02-01') TO ('2024-03-01') USING heap WITH (fillfactor = 60);

CREATE TABLE app.heap_opts_only (id int) USING rustydb WITH (fillfactor = 50);

CREATE TABLE app.sorted ("Event Time" timestamptz, u int, v text) USING rustydb
	WITH (sort_key = '"Event Time", U', flush_rows = 0, chunk_group_rows = 1000);

CREATE TABLE app.went_heap (id int, v text) USING rustydb
	WITH (fillfactor = 75, compression = 'none', stripe_rows = 3000);
ALTER TABLE app.went_heap SET ACCESS METHOD heap;

INSERT INTO app.all_opts SELECT g, 'a' || g FROM generate_series(1, 2000) g;
INSERT INTO app.mixed SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 3000) g;
INSERT INTO app.by_default SELECT g, 'd' || g FROM generate_series(1, 500) g;
INSERT INTO app.altered SELECT g, 'x' || g FROM generate_series(1, 500) g;
INSERT INTO app.parted SELECT '2024-01-01'::date + (g % 59), g FROM generate_series(1, 1000) g;
INSERT INTO app.heap_opts_only SELECT generate_series(1, 100);
INSERT INTO app.went_heap SELECT g, 'h' || g FROM generate_series(1, 100) g;
INSERT INTO app.sorted SELECT '2024-01-01'::timestamptz - g * interval '1 min', g % 7, 's' || g
	FROM generate_series(1, 3000) g;
});

# wait until no other session of db (the event worker) holds a snapshot
sub wait_quiet
{
	my ($db) = @_;
	$node->poll_query_until($db, q{
SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity
	WHERE datname = current_database() AND pid <> pg_backend_pid()
	  AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL))})
	  or die "other sessions keep snapshots in $db";
}

# rows are in stripes when the dump is taken
wait_quiet('src');
is($node->safe_psql('src', "SELECT rustydb.flush('app.mixed')"), '3000', 'source: mixed flushed');

my %describe = (
	'access methods and reloptions' => q{
SELECT c.relname || ':' || c.relkind::text || ':' || coalesce(a.amname::text, '-') || ':' || coalesce(c.reloptions::text, '-')
FROM pg_class c LEFT JOIN pg_am a ON a.oid = c.relam
WHERE c.relnamespace = 'app'::regnamespace AND c.relkind IN ('r', 'p') ORDER BY 1},
	'toast reloptions' => q{
SELECT c.relname || ':' || coalesce(t.reloptions::text, '-')
FROM pg_class c JOIN pg_class t ON t.oid = c.reltoastrelid
WHERE c.relnamespace = 'app'::regnamespace ORDER BY 1},
	'effective options' => q{
SELECT c.relname || ':' || o.option || '=' || o.value || ' (' || o.source || ')'
FROM pg_class c JOIN pg_am a ON a.oid = c.relam, rustydb.table_options(c.oid) o
WHERE c.relnamespace = 'app'::regnamespace AND c.relkind = 'r' AND a.amname = 'rustydb'
ORDER BY 1},
);
my @tables = qw(all_opts mixed by_default ctas altered parted parted_jan parted_feb heap_opts_only went_heap sorted);

sub contents
{
	my ($db, $t) = @_;
	return $node->safe_psql($db,
		"SELECT count(*) || ' ' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '-') FROM app.$t x");
}

my %src;
$src{$_} = $node->safe_psql('src', $describe{$_}) for keys %describe;
$src{"rows of $_"} = contents('src', $_) for @tables;

# The source has what this test is about.
my $rels = $src{'access methods and reloptions'};
like($rels,
	qr/^all_opts:r:rustydb:\{flush_rows=100000,compression=zstd,compression_level=3,chunk_group_rows=10000,stripe_rows=150000\}$/m,
	'source: every option stored in reloptions');
like($rels, qr/^mixed:r:rustydb:\{fillfactor=70,autovacuum_enabled=false,compression=none,chunk_group_rows=1000\}$/m,
	"source: options merged with heap's");
like($rels, qr/^by_default:r:rustydb:\{flush_rows=5000,compression=lz4,flush_running=on,writer_flush_rows=40000\}$/m,
	'source: options through default_table_access_method');
like($rels, qr/^ctas:r:rustydb:\{chunk_group_rows=1000,stripe_rows=2000\}$/m, 'source: options of CREATE TABLE AS');
like($rels, qr/^altered:r:rustydb:\{fillfactor=80,compression=zstd,compression_level=12\}$/m,
	'source: options after ALTER TABLE SET / RESET');
like($rels, qr/^parted_jan:r:rustydb:\{flush_rows=0,chunk_group_rows=2000\}$/m, 'source: options of a partition');
like($rels, qr/^went_heap:r:heap:\{fillfactor=75\}$/m, 'source: SET ACCESS METHOD heap dropped the rustydb options');
like($rels, qr/^sorted:r:rustydb:\{flush_rows=0,chunk_group_rows=1000,"sort_key=\\"Event Time\\",u"\}$/m,
	'source: sort_key stored in canonical form');
like($src{'toast reloptions'}, qr/^mixed:\{autovacuum_enabled=false\}$/m, "source: heap's toast option kept");

# ---------------------------------------------------------------------------
# Dump and restore.
# ---------------------------------------------------------------------------
my $dir = $PostgreSQL::Test::Utils::tmp_check;
my $custom = "$dir/optsrc.dump";
my $plain = "$dir/optsrc.sql";
my $plain_noam = "$dir/optsrc_noam.sql";
$node->command_ok([ 'pg_dump', '-Fc', '-f', $custom, '-d', 'src' ], 'pg_dump, custom format');
$node->command_ok([ 'pg_dump', '-Fp', '-f', $plain, '-d', 'src' ], 'pg_dump, plain format');
$node->command_ok([ 'pg_dump', '-Fp', '--no-table-access-method', '-f', $plain_noam, '-d', 'src' ],
	'pg_dump --no-table-access-method, plain format');
my $sql = slurp_file($plain);
like($sql,
	qr/CREATE TABLE app\.all_opts \(.*?\)\nWITH \(flush_rows='100000', compression=zstd, compression_level='3', chunk_group_rows='10000', stripe_rows='150000'\);/s,
	'the plain dump carries the options in CREATE TABLE ... WITH');

$node->safe_psql('postgres', 'CREATE DATABASE dst_custom; CREATE DATABASE dst_plain; CREATE DATABASE dst_noam');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-j', '2', '-d', 'dst_custom', $custom ],
	'pg_restore -j 2 of the custom dump');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'dst_plain', '-f', $plain ],
	'psql restore of the plain dump');

for my $db (qw(dst_custom dst_plain))
{
	for my $what (sort keys %describe)
	{
		is($node->safe_psql($db, $describe{$what}), $src{$what}, "$db: same $what as the source");
	}
	for my $t (@tables)
	{
		is(contents($db, $t), $src{"rows of $t"}, "$db: app.$t has identical contents");
	}

	# the restored options are the ones flush uses
	wait_quiet($db);
	$node->safe_psql($db, 'SET rustydb.chunk_group_rows = 10000; SET rustydb.compression = zstd;'
		  . " SELECT rustydb.flush('app.mixed'), rustydb.flush('app.ctas')");
	is($node->safe_psql($db,
			"SELECT count(*) || ':' || sum(nrows) || ':' || sum(chunk_groups) || ':' || bool_and(stored_bytes >= raw_bytes) FROM rustydb.stripes('app.mixed')"),
		'1:3000:3:true', "$db: flush of mixed uses chunk_group_rows = 1000 and compression none");
	is($node->safe_psql($db,
			"SELECT sum(nrows) || ':' || bool_and(nrows <= 2000) || ':' || bool_and(chunk_groups = ceil(nrows / 1000.0)) FROM rustydb.stripes('app.ctas')"),
		'3000:true:true', "$db: flush of ctas uses stripe_rows = 2000 and chunk_group_rows = 1000");

	# the restored sort key is the one flush sorts by: rows arrived newest
	# first, the stripe keeps its 3 chunk groups oldest first
	$node->safe_psql($db, "SELECT rustydb.flush('app.sorted')");
	is($node->safe_psql($db, q{
SELECT count(*) || ':' || bool_and(next_min IS NULL OR next_min >= max::timestamptz)
FROM (SELECT max, lead(min::timestamptz) OVER (ORDER BY chunk_group) AS next_min
      FROM rustydb.chunk_bounds('app.sorted') WHERE column_name = 'Event Time') b}),
		'3:true', "$db: flush of sorted orders its rows by the restored sort_key");
	is(contents($db, 'sorted'), $src{'rows of sorted'}, "$db: app.sorted reads the same once flushed");

	# and ALTER TABLE keeps working on restored tables
	$node->safe_psql($db, "ALTER TABLE app.altered SET (fillfactor = 85), RESET (compression_level)");
	like($node->safe_psql($db, "SELECT reloptions FROM pg_class WHERE oid = 'app.altered'::regclass"),
		qr/^\{fillfactor=85,compression=zstd\}$/, "$db: ALTER TABLE SET / RESET on a restored table");
}

# --no-table-access-method: every table becomes heap, and heap tables refuse
# rustydb options, so the restore stops at the first such table.
my ($ret, $out, $err) = $node->psql('dst_noam', "\\set VERBOSITY verbose\n\\i $plain_noam",
	extra_params => [ '-v', 'ON_ERROR_STOP=1' ]);
isnt($ret, 0, '--no-table-access-method: the restore stops');
like($err, qr/ERROR:\s+22023: rustydb option "\w+" is only accepted on rustydb tables/,
	'--no-table-access-method: with the clear error for the options on a heap table');

check_log_clean($node, 0, 'log: no PANIC, failed assertion or crashed backend');
$node->stop;
done_testing();
