#!/usr/bin/env bash
#
# cluster.sh - throwaway PostgreSQL 15 clusters for the demo and the tests
#
# A cluster lives entirely in one directory DIR (under /tmp):
#
#   DIR/data/          PGDATA (initdb --data-checksums, UTF8, C locale)
#   DIR/.s.PGSQL.N     the unix socket (unix_socket_directories = DIR)
#   DIR/postgres.log   the server log (pg_ctl -l)
#   DIR/cluster.env    PGHOST/PGPORT/PGUSER, written by "create"
#
# Servers run as the unprivileged user "rustydb" (PostgreSQL refuses to run
# as root).  When this script is run as root every server command is run
# through runuser; when run as any other user it runs as that user.
#
# Usage as a command:
#   scripts/cluster.sh create  DIR [--fsync-off]   initdb + config (refuses if DIR exists)
#   scripts/cluster.sh start   DIR                 start (waits until it accepts connections)
#   scripts/cluster.sh stop    DIR                 fast shutdown (no error if not running)
#   scripts/cluster.sh status  DIR                 pg_ctl status
#   scripts/cluster.sh env     DIR                 print "export PGHOST=... PGPORT=..." lines
#   scripts/cluster.sh psql    DIR [psql args]     psql as the cluster's superuser
#   scripts/cluster.sh destroy DIR                 stop, then rm -rf DIR
#
# Usage as a library: "source scripts/cluster.sh" defines the rdb_cluster_*
# functions below without running anything.
#
# Environment knobs:
#   RDB_PG_BIN      PostgreSQL binaries (default /usr/lib/postgresql/15/bin)
#   RDB_USER        OS user that owns servers (default rustydb)
#   RDB_DBUSER      the clusters' superuser role (default postgres).  Not
#                   "rustydb": with the default search_path ("$user", public)
#                   a role named rustydb would create its tables in the
#                   extension's schema rustydb.
#   RDB_PRELOAD     shared_preload_libraries (default rustydb_am).  Set it to
#                   an empty string only to exercise these scripts against
#                   heap before the extension builds; the real runs need it.
#
# fsync: "create --fsync-off" is for the pg_regress/isolation/pgTAP cluster,
# whose contents are disposable.  Crash tests never use it: the TAP tests in
# t/ create their own clusters with PostgreSQL::Test::Cluster.

RDB_PG_BIN=${RDB_PG_BIN:-/usr/lib/postgresql/15/bin}
RDB_USER=${RDB_USER:-rustydb}
RDB_DBUSER=${RDB_DBUSER:-postgres}
RDB_PRELOAD=${RDB_PRELOAD-rustydb_am}

# Run a command as the server owner.  As root: through runuser, from a
# directory that user can read (psql, initdb and pg_ctl complain when the
# current directory is not accessible).  As anyone else: directly.
rdb_as_owner()
{
	if [ "$(id -u)" = 0 ]; then
		(cd /tmp && runuser -u "$RDB_USER" -- "$@")
	else
		"$@"
	fi
}

# Print a TCP port on 127.0.0.1 that nothing is listening on, starting at
# $1 (default 54330).  The server also gets its own unix socket directory, so
# the TCP port is the only thing that can collide between clusters.
rdb_free_port()
{
	local port=${1:-54330}

	while [ "$port" -lt 65000 ]; do
		# bash's /dev/tcp connect succeeds only if someone is listening
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
		port=$((port + 1))
	done
	echo "cluster.sh: no free TCP port found" >&2
	return 1
}

# Read the port of an existing cluster from its cluster.env.
rdb_cluster_port()
{
	sed -n 's/^export PGPORT=//p' "$1/cluster.env"
}

# create DIR [--fsync-off]: initdb a new cluster in DIR/data and configure it.
rdb_cluster_create()
{
	local dir=$1 fsync=on port

	shift
	[ "${1:-}" = "--fsync-off" ] && fsync=off
	case "$dir" in
		/*) ;;
		*) echo "cluster.sh: DIR must be an absolute path: $dir" >&2; return 1 ;;
	esac
	if [ -e "$dir" ]; then
		echo "cluster.sh: $dir already exists (destroy it first)" >&2
		return 1
	fi

	mkdir -p "$dir"
	chmod 700 "$dir"
	[ "$(id -u)" = 0 ] && chown "$RDB_USER:" "$dir"

	# --auth=trust: local socket (mode 0700 dir) and 127.0.0.1 only;
	# these clusters are throwaway and reachable only from this machine.
	rdb_as_owner "$RDB_PG_BIN/initdb" --pgdata="$dir/data" --data-checksums \
		--encoding=UTF8 --locale=C --auth=trust --username="$RDB_DBUSER" \
		>"$dir/initdb.log" 2>&1 || {
		echo "cluster.sh: initdb failed:" >&2
		cat "$dir/initdb.log" >&2
		return 1
	}

	port=$(rdb_free_port 54330) || return 1

	# Appended last, so these win over initdb's defaults.
	rdb_as_owner tee -a "$dir/data/postgresql.conf" >/dev/null <<EOF

# ---- added by scripts/cluster.sh ----
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
shared_preload_libraries = '$RDB_PRELOAD'
wal_level = logical
max_wal_senders = 4
max_replication_slots = 4
max_prepared_transactions = 10
fsync = $fsync
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
log_checkpoints = off
lc_messages = 'C'
EOF

	rdb_as_owner tee "$dir/cluster.env" >/dev/null <<EOF
export PGHOST=$dir
export PGPORT=$port
export PGUSER=$RDB_DBUSER
EOF
}

# start DIR: start the server and wait (up to 60 s) until it accepts connections.
rdb_cluster_start()
{
	local dir=$1

	if ! rdb_as_owner "$RDB_PG_BIN/pg_ctl" --pgdata="$dir/data" --log="$dir/postgres.log" \
		--wait --timeout=60 start >/dev/null; then
		echo "cluster.sh: server in $dir did not start; last lines of $dir/postgres.log:" >&2
		tail -n 30 "$dir/postgres.log" >&2
		return 1
	fi
}

# stop DIR: fast shutdown, falling back to immediate; quiet if not running.
rdb_cluster_stop()
{
	local dir=$1

	[ -f "$dir/data/postmaster.pid" ] || return 0
	rdb_as_owner "$RDB_PG_BIN/pg_ctl" --pgdata="$dir/data" --mode=fast \
		--wait --timeout=60 stop >/dev/null 2>&1 ||
		rdb_as_owner "$RDB_PG_BIN/pg_ctl" --pgdata="$dir/data" --mode=immediate \
			--wait --timeout=30 stop >/dev/null 2>&1 || true
}

# status DIR: exit 0 if the server is running.
rdb_cluster_status()
{
	rdb_as_owner "$RDB_PG_BIN/pg_ctl" --pgdata="$1/data" status
}

# env DIR: print the connection environment.
rdb_cluster_env()
{
	cat "$1/cluster.env"
}

# psql DIR [args]: psql as the superuser over the cluster's unix socket.
rdb_cluster_psql()
{
	local dir=$1 port

	shift
	port=$(rdb_cluster_port "$dir")
	rdb_as_owner "$RDB_PG_BIN/psql" -X --host="$dir" --port="$port" \
		--username="$RDB_DBUSER" "$@"
}

# destroy DIR: stop and remove.
rdb_cluster_destroy()
{
	local dir=$1

	[ -e "$dir" ] || return 0
	rdb_cluster_stop "$dir"
	rm -rf "$dir"
}

# Run as a command unless sourced.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	cmd=${1:-}
	dir=${2:-}
	if [ -z "$cmd" ] || [ -z "$dir" ]; then
		sed -n '/^# Usage as a command:/,/^#$/p' "$0" >&2
		exit 2
	fi
	shift 2
	case "$cmd" in
		create | start | stop | status | env | psql | destroy)
			"rdb_cluster_$cmd" "$dir" "$@"
			;;
		*)
			echo "cluster.sh: unknown command $cmd" >&2
			exit 2
			;;
	esac
fi
