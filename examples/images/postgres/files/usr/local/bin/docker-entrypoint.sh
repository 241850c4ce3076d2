#!/bin/bash
# The official postgres image's contract, written for Debian's postgresql-15:
#   POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_USER (postgres),
#   POSTGRES_DB ($POSTGRES_USER), POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD (scram-sha-256), PGDATA;
#   /docker-entrypoint-initdb.d/*.sh|*.sql|*.sql.gz run once, on the first start with an empty PGDATA;
#   the server runs as the `postgres` user (setpriv from util-linux), listening on all addresses.
set -Eeo pipefail

log() { echo "docker-entrypoint: $*" >&2; }

# As root: own the data and socket directories, then run this script again as postgres. One stat
# of both, and chmod/chown only where it differs: each is a process on the way of every start.
as_postgres() {
    [ -d "$PGDATA" ] && [ -d /var/run/postgresql ] || mkdir -p "$PGDATA" /var/run/postgresql
    local data run
    { read -r data && read -r run; } <<<"$(stat -c '%U %a' "$PGDATA" /var/run/postgresql)" || true
    if [ "${data#* }" != 700 ]; then
        chmod 00700 "$PGDATA" 2>/dev/null || true
    fi
    if [ "${data% *}" != postgres ]; then
        chown -R postgres:postgres "$PGDATA"
    fi
    if [ "$run" != "postgres 3775" ]; then
        chmod 03775 /var/run/postgresql
        chown postgres:postgres /var/run/postgresql
    fi
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
}

init_cluster() {
    if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
        log "error: the database is uninitialized and POSTGRES_PASSWORD is not set."
        log "  Set it (-e POSTGRES_PASSWORD=...), or POSTGRES_HOST_AUTH_METHOD=trust to allow"
        log "  every connection without a password (never do that outside a throwaway setup)."
        exit 1
    fi
    local pwfile
    pwfile="$(mktemp)"
    printf '%s\n' "${POSTGRES_PASSWORD}" >"$pwfile"
    # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of words, as in the official image
    initdb --username="$POSTGRES_USER" --pwfile="$pwfile" -D "$PGDATA" $POSTGRES_INITDB_ARGS
    rm -f "$pwfile"
    printf '\nhost all all all %s\n' "${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >>"$PGDATA/pg_hba.conf"
}

run_init_scripts() {
    local psql=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
    if [ "$POSTGRES_DB" != postgres ]; then
        "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
    fi
    local f
    for f in /docker-entrypoint-initdb.d/*; do
        case "$f" in
            *.sh) if [ -x "$f" ]; then log "running $f"; "$f"; else log "sourcing $f"; . "$f"; fi ;;
            *.sql) log "running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
            *.sql.gz) log "running $f"; gunzip -c "$f" | "${psql[@]}" --dbname "$POSTGRES_DB" ;;
            *) [ ! -e "$f" ] || log "ignoring $f" ;;  # an empty directory leaves the pattern
        esac
    done
}

first_start() {
    init_cluster
    # A private server (no TCP) for the init scripts, stopped before the real one starts.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p ${PGPORT:-5432}" -w start
    run_init_scripts
    pg_ctl -D "$PGDATA" -m fast -w stop
    log "PostgreSQL init process complete; ready for start up."
}

main() {
    if [ "${1:0:1}" = - ]; then
        set -- postgres "$@"
    fi
    if [ "$1" != postgres ]; then
        exec "$@"
    fi
    export POSTGRES_USER="${POSTGRES_USER:-postgres}"
    export POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
    export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
    if [ "$EUID" = 0 ]; then
        as_postgres "$@"
    fi
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
        first_start
    else
        log "PostgreSQL database directory appears to contain a database; skipping initialization"
    fi
    exec "$@"
}

main "$@"
