# Sourced by CI (`source .ci/postgres.sh`): a throwaway Postgres on 127.0.0.1 for the database tests.
# Installs Debian's postgresql if missing, starts one cluster (reused when already running) and exports
# TUDSR_TEST_POSTGRES_URL for a role that may create databases (each test run makes its own).
# Written as a function that returns on failure, so it never changes the options of the shell sourcing it.
# Settings: TUDSR_PG_DIR (cluster folder, default /tmp/tudsr-postgres), TUDSR_PG_PORT (default: 5432 if free).

tudsr_postgres_start() {
  local base="${TUDSR_PG_DIR:-/tmp/tudsr-postgres}"
  local bindir

  # Debian keeps the server programs outside PATH, under /usr/lib/postgresql/<major>/bin.
  bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    echo "postgres.sh: installing Debian postgresql" >&2
    if [ "$(id -u)" -ne 0 ]; then
      echo "postgres.sh: postgresql is not installed and this is not root; install it first" >&2
      return 1
    fi
    # policy-rc.d stops the package from starting its own cluster (we run ours, on our port).
    local policy_made=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy_made=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    local status=$?
    [ -n "$policy_made" ] && rm -f /usr/sbin/policy-rc.d
    [ "$status" -eq 0 ] || { echo "postgres.sh: apt-get install postgresql failed" >&2; return 1; }
    bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  fi

  # initdb refuses to run as root: as root the cluster belongs to the postgres user the package created.
  local as=()
  if [ "$(id -u)" -eq 0 ]; then
    as=(runuser -u postgres --)
    mkdir -p "$base" && chown postgres: "$base" || return 1
  else
    mkdir -p "$base" || return 1
  fi

  local port
  if "${as[@]}" "$bindir/pg_ctl" -D "$base/data" status >/dev/null 2>&1; then
    port="$(cat "$base/port")"
  else
    if [ ! -s "$base/data/PG_VERSION" ]; then
      "${as[@]}" "$bindir/initdb" -D "$base/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 >"$base/initdb.log" 2>&1 \
        || { echo "postgres.sh: initdb failed, see $base/initdb.log" >&2; return 1; }
    fi
    port="${TUDSR_PG_PORT:-}"
    if [ -z "$port" ]; then
      port=5432
      # Something answers on this port already (another cluster): take the next free one.
      while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
    fi
    echo "$port" >"$base/port"
    "${as[@]}" "$bindir/pg_ctl" -D "$base/data" -l "$base/postgres.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $base" start >/dev/null \
      || { echo "postgres.sh: pg_ctl start failed, see $base/postgres.log" >&2; return 1; }
  fi

  # Idempotent: the role and database are created only when missing.
  local psql=("${as[@]}" "$bindir/psql" -h "$base" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA)
  "${psql[@]}" -c "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tudsr') THEN
        CREATE ROLE tudsr LOGIN CREATEDB PASSWORD 'tudsr';
      END IF;
    END \$\$;" >/dev/null || return 1
  if [ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'tudsr_test'")" ]; then
    "${psql[@]}" -c "CREATE DATABASE tudsr_test OWNER tudsr" >/dev/null || return 1
  fi

  export TUDSR_TEST_POSTGRES_URL="postgresql://tudsr:tudsr@127.0.0.1:$port/tudsr_test"
  echo "postgres.sh: Postgres $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($base)" >&2
}

tudsr_postgres_start
