#!/usr/bin/env bash
# Runs the openid-client interoperability suite against a dancu server
# started with --demo; DANCU_ADMIN_PASSWORD must be the administrator's
# password (the suite registers its own clients).
#
#   scripts/oidc-rp/run.sh http://localhost:8080
set -euo pipefail
cd "$(dirname "$0")"
if [ $# -ne 1 ]; then echo "usage: $0 BASEURL" >&2; exit 2; fi
[ -d node_modules/openid-client ] || npm ci --no-audit --no-fund --silent
exec node suite.mjs "$1"
