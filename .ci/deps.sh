#!/usr/bin/env bash
# Installs the system packages Baton's build, server and tests need, when they
# are missing: the PostgreSQL server binaries, Node.js with npm (to build the
# browser app) and, with "--browser", Chromium (for the browser tests) and
# the npm packages of the tests' OpenID provider (server/idptest/node).
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
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}"
fi

# The tests' second OpenID provider (server/idptest) is npm's oidc-provider:
# install it from its lockfile when node_modules is missing or older.
if [ "${1:-}" = "--browser" ]; then
  idp="$(cd "$(dirname "$0")/.." && pwd)/server/idptest/node"
  if [ ! -f "$idp/node_modules/.package-lock.json" ] || [ "$idp/package-lock.json" -nt "$idp/node_modules/.package-lock.json" ]; then
    echo "deps: installing server/idptest/node's npm packages" >&2
    (cd "$idp" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
fi

# The LTI platform simulator's tests (server/ltitest) launch npm's ltijs, an
# independent LTI tool: install it from its lockfile when node_modules is
# missing or older.
if [ "${1:-}" = "--browser" ]; then
  lti="$(cd "$(dirname "$0")/.." && pwd)/server/ltitest/node"
  if [ ! -f "$lti/node_modules/.package-lock.json" ] || [ "$lti/package-lock.json" -nt "$lti/node_modules/.package-lock.json" ]; then
    echo "deps: installing server/ltitest/node's npm packages" >&2
    (cd "$lti" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
fi
