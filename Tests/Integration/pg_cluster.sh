#!/bin/sh
# A real PostgreSQL streaming-replication cluster on 127.0.0.1 for the integration tests.
#
#   pg_cluster.sh start DIR PRIMARY_PORT STANDBY_PORT[:APPLICATION_NAME] ...
#   pg_cluster.sh stop DIR
#   pg_cluster.sh stop-one DIR NAME       (immediate: a crash)
#   pg_cluster.sh start-one DIR NAME
#   pg_cluster.sh promote DIR NAME
#
# With PG_CLUSTER_ARCHIVE=on the primary archives WAL into DIR/archive (archive_timeout 60s).
# Autovacuum is off so that the only writes are the tests' own.
#
# The primary is initialised with trust authentication on loopback only; each standby is a
# pg_basebackup -R copy streaming from it under its own application_name. When run as root,
# the servers run as the postgres user (PostgreSQL refuses to run as root).
set -eu

BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$BIN" ] || { echo "PostgreSQL server binaries not found under /usr/lib/postgresql" >&2; exit 1; }

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

command=$1
dir=$2
shift 2

case "$command" in
start)
    primary_port=$1
    shift
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; fi
    as_postgres "$BIN/initdb" --auth=trust --username=postgres --no-sync -D "$dir/primary" > "$dir/initdb.log"
    cat >> "$dir/primary/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $primary_port
unix_socket_directories = '$dir'
wal_level = replica
max_wal_senders = 10
hot_standby = on
fsync = off
synchronous_commit = on
wal_receiver_status_interval = 1s
autovacuum = off
CONF
    if [ "${PG_CLUSTER_ARCHIVE:-off}" = on ]; then
        mkdir -p "$dir/archive"
        if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir/archive"; fi
        cat >> "$dir/primary/postgresql.conf" <<CONF
archive_mode = on
archive_command = 'test ! -f $dir/archive/%f && cp %p $dir/archive/%f'
archive_timeout = 60
CONF
    fi
    as_postgres "$BIN/pg_ctl" -D "$dir/primary" -l "$dir/primary.log" -w -t 60 start > /dev/null
    for standby in "$@"; do
        port=${standby%%:*}
        name=${standby#*:}
        [ "$name" = "$standby" ] && name="standby$port"
        as_postgres "$BIN/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$dir/$name" -R -X stream --no-sync
        cat >> "$dir/$name/postgresql.auto.conf" <<CONF
port = $port
primary_conninfo = 'host=127.0.0.1 port=$primary_port user=postgres application_name=$name'
CONF
        as_postgres "$BIN/pg_ctl" -D "$dir/$name" -l "$dir/$name.log" -w -t 60 start > /dev/null
    done
    ;;
stop)
    for data in "$dir"/*/; do
        [ -f "$data/PG_VERSION" ] || continue
        as_postgres "$BIN/pg_ctl" -D "$data" -m immediate -w stop > /dev/null 2>&1 || true
    done
    rm -rf "$dir"
    ;;
stop-one)
    as_postgres "$BIN/pg_ctl" -D "$dir/$1" -m immediate -w stop > /dev/null
    ;;
start-one)
    as_postgres "$BIN/pg_ctl" -D "$dir/$1" -l "$dir/$1.log" -w -t 60 start > /dev/null
    ;;
promote)
    as_postgres "$BIN/pg_ctl" -D "$dir/$1" -w promote > /dev/null
    ;;
*)
    echo "usage: $0 start DIR PRIMARY_PORT STANDBY_PORT[:NAME]... | stop DIR | stop-one DIR NAME | start-one DIR NAME | promote DIR NAME" >&2
    exit 2
    ;;
esac
