
# t/005_dump_restore.pl
#	pg_dump / pg_restore of a database with tables of the access method under
#	test: the restored tables still use it and hold identical contents,
#	with their indexes, constraints, sequences and TOASTed values.
#
# Usage: run through t/run_tap.sh (or prove with PostgreSQL's src/test/perl in
# @INC, PATH starting with PostgreSQL 15's bindir, TESTDIR and PG_REGRESS set,
# as an unprivileged user).  RDB_TEST_AM picks the access method (default
# rustydb; heap validates the test).  A database "src" gets, in schema app:
# tables created with USING and through default_table_access_method, a
# partitioned table whose partitions use different access methods, a
# materialized view, an unlogged table and a heap control table, with
# primary keys, unique / check / foreign-key constraints, identity, serial
# and generated columns, btree / hash / gin / partial / expression indexes,
# TOASTed values and dead rows.  It is dumped and restored three ways: custom format
# restored with pg_restore -j 2, plain SQL restored with psql, and custom
# format with --no-table-access-method (everything comes back as heap, which
# shows the access-method check can fail).  Each copy is compared with the
# source: access method of every relation, constraint and index
# definitions, sequence positions, row contents; then constraints are
# exercised and new rows are written in the restored database.

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

my $node = rdb_node('dump');
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE src');
rdb_create_extension($node, 'src');

$node->safe_psql(
	'src', qq{
CREATE SCHEMA app;

CREATE TABLE app.customers (
	id serial PRIMARY KEY,
	email text NOT NULL UNIQUE CHECK (length(email) > 3),
	name text,
	created timestamptz NOT NULL DEFAULT '2024-01-01 00:00:00+00'
) USING $am;
CREATE INDEX customers_lower_email ON app.customers (lower(email));

CREATE TABLE app.orders (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	customer_id int NOT NULL REFERENCES app.customers (id),
	amount numeric(10,2) NOT NULL CHECK (amount >= 0),
	note text,
	tags text[],
	doc text,
	amount_cents bigint GENERATED ALWAYS AS ((amount * 100)::bigint) STORED
) USING $am;
CREATE INDEX orders_customer ON app.orders (customer_id);
CREATE INDEX orders_note_hash ON app.orders USING hash (note);
CREATE INDEX orders_tags ON app.orders USING gin (tags);
CREATE INDEX orders_big ON app.orders (amount) WHERE amount > 900;

SET default_table_access_method = $am;
CREATE TABLE app.events (
	id int PRIMARY KEY,
	kind text NOT NULL,
	payload jsonb
);
RESET default_table_access_method;

CREATE TABLE app.measurements (day date NOT NULL, v int) PARTITION BY RANGE (day);
CREATE TABLE app.measurements_jan PARTITION OF app.measurements
	FOR VALUES FROM ('2024-01-01') TO ('2024-02-01') USING $am;
CREATE TABLE app.measurements_feb PARTITION OF app.measurements
	FOR VALUES FROM ('2024-02-01') TO ('2024-03-01') USING heap;

CREATE UNLOGGED TABLE app.scratch (k int PRIMARY KEY, v text) USING $am;
CREATE TABLE app.plain (k int PRIMARY KEY, v text) USING heap;

INSERT INTO app.customers (email, name)
	SELECT 'user' || g || '\@example.com', 'User ' || g FROM generate_series(1, 500) g;
INSERT INTO app.orders (customer_id, amount, note, tags, doc)
	SELECT 1 + g % 500, (g * 37 % 100000) / 100.0, 'note ' || (g % 50),
		ARRAY['t' || (g % 7), 't' || (g % 11)],
		CASE WHEN g % 1000 = 0
			THEN (SELECT string_agg(md5((x * g)::text), '') FROM generate_series(1, 6000) x)
			ELSE 'doc ' || g END
	FROM generate_series(1, 5000) g;
INSERT INTO app.events
	SELECT g, CASE WHEN g % 3 = 0 THEN 'click' ELSE 'view' END,
		jsonb_build_object('n', g, 'path', '/p/' || (g % 17))
	FROM generate_series(1, 2000) g;
INSERT INTO app.measurements
	SELECT '2024-01-01'::date + (g % 59), g FROM generate_series(1, 3000) g;
INSERT INTO app.scratch SELECT g, 'scratch ' || g FROM generate_series(1, 300) g;
INSERT INTO app.plain SELECT g, 'plain ' || g FROM generate_series(1, 300) g;

-- dead rows and updated rows before the dump
DELETE FROM app.orders WHERE id % 10 = 3;
UPDATE app.orders SET note = note || ' (updated)', amount = amount + 1 WHERE id % 10 = 4;
DELETE FROM app.events WHERE id BETWEEN 100 AND 300;
UPDATE app.customers SET name = upper(name) WHERE id % 9 = 0;

CREATE MATERIALIZED VIEW app.order_totals USING $am AS
	SELECT customer_id, count(*) AS n, sum(amount) AS total FROM app.orders GROUP BY customer_id;
CREATE UNIQUE INDEX order_totals_customer ON app.order_totals (customer_id);
COMMENT ON TABLE app.orders IS 'orders, stored with $am';
ANALYZE;
});

# ---------------------------------------------------------------------------
# What describes a database, for comparison.
# ---------------------------------------------------------------------------
my %describe = (
	'relations and access methods' => q{
SELECT c.relname || ':' || c.relkind::text || ':' || c.relpersistence::text || ':' || coalesce(a.amname::text, '-')
FROM pg_class c LEFT JOIN pg_am a ON a.oid = c.relam
WHERE c.relnamespace = 'app'::regnamespace ORDER BY 1},
	'constraints' => q{
SELECT conrelid::regclass || ':' || conname || ':' || pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'app'::regnamespace ORDER BY 1},
	'indexes' => q{
SELECT indexrelid::regclass || ':' || pg_get_indexdef(indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
WHERE c.relnamespace = 'app'::regnamespace ORDER BY 1},
	'sequences' => q{
SELECT 'customers ' || last_value || ' ' || is_called FROM app.customers_id_seq
UNION ALL
SELECT 'orders ' || last_value || ' ' || is_called FROM app.orders_id_seq},
	'comment' => q{SELECT obj_description('app.orders'::regclass, 'pg_class')},
);
my @tables = qw(customers orders events measurements measurements_jan measurements_feb scratch plain order_totals);

sub contents
{
	my ($db, $t) = @_;
	return $node->safe_psql($db,
		"SELECT count(*) || ' ' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '-') FROM app.$t x");
}

my %src;
$src{$_} = $node->safe_psql('src', $describe{$_}) for keys %describe;
$src{"rows of $_"} = contents('src', $_) for @tables;

# The source really has what this test is about.
like($src{'relations and access methods'}, qr/^orders:r:p:\Q$am\E$/m, "source: orders uses $am");
like($src{'relations and access methods'}, qr/^events:r:p:\Q$am\E$/m,
	"source: events uses $am (through default_table_access_method)");
like($src{'relations and access methods'}, qr/^measurements_jan:r:p:\Q$am\E$/m, "source: partition uses $am");
like($src{'relations and access methods'}, qr/^measurements_feb:r:p:heap$/m, 'source: other partition uses heap');
like($src{'relations and access methods'}, qr/^order_totals:m:p:\Q$am\E$/m, "source: materialized view uses $am");
like($src{'relations and access methods'}, qr/^scratch:r:u:\Q$am\E$/m, "source: unlogged table uses $am");
like($src{'rows of orders'}, qr/^4500 [0-9a-f]{32}$/, 'source: orders has its rows');
is($node->safe_psql('src',
		"SELECT count(*) FROM app.orders WHERE pg_column_size(doc) > 50000 AND length(doc) = 192000"),
	'5', 'source: five orders carry a 192 kB TOASTed document');

# ---------------------------------------------------------------------------
# Dump and restore, three ways.
# ---------------------------------------------------------------------------
my $dir = $PostgreSQL::Test::Utils::tmp_check;
my $custom = "$dir/src.dump";
my $plain = "$dir/src.sql";
$node->command_ok([ 'pg_dump', '-Fc', '-f', $custom, '-d', 'src' ], 'pg_dump, custom format');
$node->command_ok([ 'pg_dump', '-Fp', '-f', $plain, '-d', 'src' ], 'pg_dump, plain format');
like(slurp_file($plain), qr/SET default_table_access_method = \Q$am\E;/,
	"the plain dump selects $am through default_table_access_method");

$node->safe_psql('postgres', 'CREATE DATABASE dst_custom; CREATE DATABASE dst_plain; CREATE DATABASE dst_noam');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-j', '2', '-d', 'dst_custom', $custom ],
	'pg_restore -j 2 of the custom dump');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'dst_plain', '-f', $plain ],
	'psql restore of the plain dump');
# (For archives, --no-table-access-method is a pg_restore option; pg_dump's
# flag of that name only affects plain-format output.)
$node->command_ok([ 'pg_restore', '--exit-on-error', '--no-table-access-method', '-d', 'dst_noam', $custom ],
	'pg_restore --no-table-access-method of the custom dump');

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
}

# Without access methods in the dump every table comes back as heap; the
# rows are the same.  With RDB_TEST_AM=heap nothing changes, of course.
{
	my $rels = $node->safe_psql('dst_noam', $describe{'relations and access methods'});
	if ($am ne 'heap')
	{
		isnt($rels, $src{'relations and access methods'},
			'--no-table-access-method: access methods differ from the source (the check can fail)');
		unlike($rels, qr/:\Q$am\E$/m, "--no-table-access-method: no relation uses $am");
	}
	for my $t (qw(orders events order_totals))
	{
		is(contents('dst_noam', $t), $src{"rows of $t"}, "dst_noam: app.$t has identical contents");
	}
}

# ---------------------------------------------------------------------------
# The restored database works: constraints hold, new rows can be added, and
# index scans find the restored rows.
# ---------------------------------------------------------------------------
my $db = 'dst_custom';
my ($ret, $out, $err);
($ret, $out, $err) = $node->psql($db, "\\set VERBOSITY verbose\nINSERT INTO app.orders (customer_id, amount) VALUES (100000, 1)");
like($err, qr/ERROR:\s+23503:/, 'restored foreign key rejects a missing customer');
($ret, $out, $err) = $node->psql($db, "\\set VERBOSITY verbose\nINSERT INTO app.customers (email) VALUES ('user7\@example.com')");
like($err, qr/ERROR:\s+23505:/, 'restored unique constraint rejects a duplicate e-mail');
($ret, $out, $err) = $node->psql($db, "\\set VERBOSITY verbose\nINSERT INTO app.orders (customer_id, amount) VALUES (1, -5)");
like($err, qr/ERROR:\s+23514:/, 'restored check constraint rejects a negative amount');

# (The failed inserts above consumed sequence values: ids continue above the
# dumped ones, not necessarily right after them.)
($ret, $out, $err) = $node->psql(
	$db, q{
WITH c AS (INSERT INTO app.customers (email, name) VALUES ('new@example.com', 'New') RETURNING id)
INSERT INTO app.orders (customer_id, amount, note) SELECT id, 12.34, 'after restore' FROM c
RETURNING customer_id > 500, id > 5000, amount_cents;
});
is($ret, 0, 'new rows can be inserted after the restore') or diag($err);
is($out, 't|t|1234', '... with serial, identity and generated columns continuing from the dump');

my $idx = 'SET enable_seqscan = off; SET enable_bitmapscan = off;';
for my $q (
	[ "SELECT count(*), sum(amount) FROM app.orders WHERE customer_id BETWEEN 10 AND 60", 'orders_customer' ],
	[ "SELECT count(*), sum(id) FROM app.orders WHERE id BETWEEN 100 AND 2000", 'orders_pkey' ],
	[ "SELECT name FROM app.customers WHERE lower(email) = 'user42\@example.com'", 'customers_lower_email' ],
	[ "SELECT count(*) FROM app.events WHERE id > 1000", 'events_pkey' ])
{
	my ($sql, $index) = @$q;
	like($node->safe_psql($db, "$idx EXPLAIN (COSTS OFF) $sql"), qr/\b$index\b/, "restored: plan uses $index");
	is($node->safe_psql($db, "$idx $sql"), $node->safe_psql('src', "$idx $sql"),
		"restored: $index finds the same rows as in the source");
}
$node->safe_psql($db, 'CREATE EXTENSION amcheck');
($ret, $out, $err) = $node->psql($db, "SELECT bt_index_check(c.oid, true) FROM pg_class c JOIN pg_am a ON a.oid = c.relam "
	  . "WHERE a.amname = 'btree' AND c.relnamespace = 'app'::regnamespace AND c.relkind = 'i'");
is($ret, 0, 'amcheck: every btree index of the restored tables has every row') or diag($err);

check_log_clean($node, 0, 'log: no PANIC, failed assertion or crashed backend');
$node->stop;
done_testing();
