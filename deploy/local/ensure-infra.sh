#!/usr/bin/env bash
# Make sure the broker (and, with --postgres, PostgreSQL) runs on this machine;
# with --browser, that Chromium and CJK fonts are installed (the browser tests
# drive /usr/bin/chromium and read Chinese pages).
# Starts what is installed but stopped; installs with apt-get what is missing
# (Debian/Ubuntu, as root). Elsewhere it says what to do and fails.
set -euo pipefail

want_postgres=0
want_browser=0
for flag in "$@"; do
  case "$flag" in
    --postgres) want_postgres=1 ;;
    --browser) want_browser=1 ;;
    *) echo "usage: $0 [--postgres] [--browser]" >&2; exit 2 ;;
  esac
done

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local port=$1 name=$2
  for _ in $(seq 1 60); do
    port_open "$port" && return 0
    sleep 1
  done
  echo "$name did not open port $port in 60 s" >&2
  return 1
}

apt_install() {
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "Please install $* (or point the services at one with AMQP_URI / DATABASE_URL)." >&2
    exit 1
  fi
  echo "installing $* with apt-get"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if [ -n "${AMQP_URI:-}" ] && [[ "$AMQP_URI" != *"@127.0.0.1"* && "$AMQP_URI" != *"@localhost"* ]]; then
  : # a remote broker: nothing to start here
elif ! port_open 5672; then
  command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
  echo "starting RabbitMQ"
  rabbitmq-server -detached
  wait_port 5672 RabbitMQ
fi

start_postgres() {
  if ! ls /etc/postgresql >/dev/null 2>&1; then
    apt_install postgresql
    # A cluster installed here for the tests: let local connections in as
    # postgres without a password, as on the development machines.
    hba="/etc/postgresql/$(ls /etc/postgresql | sort -V | tail -n 1)/main/pg_hba.conf"
    { printf 'host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n'; cat "$hba"; } > "$hba.new"
    mv "$hba.new" "$hba"
  fi
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
  wait_port 5432 PostgreSQL
}

# The tests run an end-to-end cluster, the fault suite's cluster (two processes
# of each service) and the integration tests side by side: more connections
# than PostgreSQL's default 100. Raised once, on a local cluster we may restart.
MIN_PG_CONNECTIONS=300
raise_pg_connections() {
  command -v psql >/dev/null && command -v pg_ctlcluster >/dev/null || return 0
  local current
  current=$(psql -h 127.0.0.1 -U postgres -tAc "SHOW max_connections" 2>/dev/null) || return 0
  [ -n "$current" ] && [ "$current" -lt "$MIN_PG_CONNECTIONS" ] || return 0
  echo "raising PostgreSQL's max_connections from $current to $MIN_PG_CONNECTIONS (a restart)"
  psql -h 127.0.0.1 -U postgres -qc "ALTER SYSTEM SET max_connections = $MIN_PG_CONNECTIONS" &&
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main restart &&
    wait_port 5432 PostgreSQL
}

# PostgreSQL is wanted, not required: without it the tests use SQLite files.
if [ "$want_postgres" = 1 ] && ! port_open 5432; then
  ( start_postgres ) || echo "PostgreSQL is not available; the tests will use SQLite." >&2
fi
if [ "$want_postgres" = 1 ] && port_open 5432; then
  ( raise_pg_connections ) || echo "could not raise PostgreSQL's max_connections" >&2
fi

# The browser is wanted, not required: without it the browser tests are skipped.
if [ "$want_browser" = 1 ]; then
  browser_packages=()
  command -v chromium >/dev/null || browser_packages+=(chromium)
  dpkg -s fonts-noto-cjk >/dev/null 2>&1 || browser_packages+=(fonts-noto-cjk)
  if [ "${#browser_packages[@]}" -gt 0 ]; then
    ( apt_install "${browser_packages[@]}" ) ||
      echo "Chromium is not available; the browser tests will be skipped." >&2
  fi
fi
exit 0
