#!/usr/bin/env bash
# Installs the system packages Baton's build, server and tests need, when they
# are missing: the PostgreSQL server binaries, Node.js with npm (to build the
# browser app) and, with "--browser", Chromium (for the browser tests) and
# the npm packages of the tests' OpenID provider (server/idptest/node) and learning record store
# (server/lrstest/node); with "--browser" or "--scale", PgBouncer and HAProxy
# (the topology test, server/scaletest, and make scale).
# Installs only as root with apt; otherwise it says exactly what to install
# and fails.
set -euo pipefail

have_postgres() {
  command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1 && return 0
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}

apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: missing $*; install them as root with: apt-get install $*" >&2
    exit 1
  fi
  echo "deps: installing $* with apt-get" >&2
  # Baton runs its own cluster; the package's default system cluster is not needed.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/baton.conf
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

missing=()
have_postgres || missing+=(postgresql)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ "${1:-}" = "--browser" ]; then
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fi
# The topology test puts PgBouncer and HAProxy in front of Baton. Debian
# installs pgbouncer in /usr/sbin, which is not on every PATH.
if [ "${1:-}" = "--browser" ] || [ "${1:-}" = "--scale" ]; then
  command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
  command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
fi
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}"
fi

# The tests' npm tools, each from its committed lockfile, installed when its
# node_modules is missing or older than the lockfile: the second OpenID
# provider (server/idptest: oidc-provider), the learning record store
# (server/lrstest: xapi-statements, xapi-validation), and the independent LTI
# tool the platform simulator is proven against (server/ltitest: ltijs).
if [ "${1:-}" = "--browser" ]; then
  root="$(cd "$(dirname "$0")/.." && pwd)"
  for dir in server/idptest/node server/lrstest/node server/ltitest/node; do
    if [ ! -f "$root/$dir/node_modules/.package-lock.json" ] || [ "$root/$dir/package-lock.json" -nt "$root/$dir/node_modules/.package-lock.json" ]; then
      echo "deps: installing $dir's npm packages" >&2
      (cd "$root/$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    fi
  done
fi
