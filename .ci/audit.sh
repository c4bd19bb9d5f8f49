#!/usr/bin/env bash
# make audit: govulncheck against a vulnerability database built locally from
# the golang.org/x/vulndb module (the public endpoint is not reachable here).
# Fails on any finding not listed, with its reason, in .ci/vuln-allowlist.
set -euo pipefail
cd "$(dirname "$0")/.."
VULNDB_VERSION=v0.0.0-20261105234957-e22db6528018
GOVULNCHECK=golang.org/x/vuln/cmd/govulncheck@v1.9.0
db=.vulndb/$VULNDB_VERSION
if [ ! -f "$db/index/db.json" ]; then
  src=$(go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  rm -rf "$db" && mkdir -p "$(dirname "$db")"
  echo "audit: building the vulnerability database from golang.org/x/vulndb@$VULNDB_VERSION" >&2
  go run "golang.org/x/vulndb/cmd/indexdb@$VULNDB_VERSION" -vulns "$src/data/osv" -out "$db"
fi
report=$(go run "$GOVULNCHECK" -db "file://$PWD/$db" ./... 2>&1) || true
found=$(printf '%s\n' "$report" | sed -n 's/^Vulnerability #[0-9]*: \(GO-[0-9-]*\).*/\1/p' | sort -u)
allowed=$(sed -n 's/^\(GO-[0-9-]*\).*/\1/p' .ci/vuln-allowlist | sort -u)
unexpected=$(comm -23 <(printf '%s\n' $found) <(printf '%s\n' $allowed) | sed '/^$/d')
if [ -n "$unexpected" ]; then
  printf '%s\n' "$report"
  echo "audit: vulnerabilities found: $(echo $unexpected)" >&2
  exit 1
fi
echo "audit: no vulnerabilities beyond the justified ones in .ci/vuln-allowlist ($(echo $found))"
