#!/usr/bin/env bash
# Benchmarks of the exchange hub, end to end over HTTP on this machine, on
# SQLite and on PostgreSQL: batch verification jobs (records/s from the
# upload to the job's end, every person named in the access log) and
# single yes/no verifications (signed answers, audited; requests/s and
# latency percentiles).
# Usage: scripts/bench-exchange.sh [N] [JOBS]   (default 200000 people, 4 jobs;
#        results in bench-out/exchange-N.txt). Needs Go, curl, and for
#        PostgreSQL psql and a server at $PGBASE. ENGINES="sqlite postgres" picks the stores.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-200000}"
JOBS="${2:-4}"
OUT="${OUT:-bench-out}"
PGBASE="${PGBASE:-postgres://postgres@127.0.0.1:5432}"
DUR="${DUR:-20s}"
ENGINES="${ENGINES:-sqlite postgres}"
export DANCU_DATA_KEY="${DANCU_DATA_KEY:-3q2+7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhs=}"
mkdir -p "$OUT"
RES="$OUT/exchange-$N.txt"
: > "$RES"
say() { echo "$*" | tee -a "$RES"; }
say "== dancu exchange benchmarks, $(date -u +%FT%TZ), N=$N, $JOBS jobs"
say "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
go build -o "$OUT/dancu" ./cmd/dancu
go build -o "$OUT/loadgen" ./scripts/loadgen
D="$OUT/dancu"
[ -f "$OUT/people-x$N.jsonl" ] || "$D" generate --count "$N" --seed 3 --out "$OUT/people-x$N.jsonl" >/dev/null

run() { # engine db-url
  local engine=$1 db=$2 port=18400
  say "== $engine"
  "$D" import "$OUT/people-x$N.jsonl" --db "$db" --defer-indexes --quiet --rejects "$OUT/rejects-x.jsonl" 2>/dev/null | tee -a "$RES"
  local secret
  secret=$("$D" client create bank --db "$db" --name "Ngân hàng" --type service 2>/dev/null | sed -n 's/client secret (shown once): //p')
  "$D" agency create bank --db "$db" --kind bank --name "Ngân hàng" --services verify --purposes eKYC --rate 100000 >/dev/null
  "$D" serve --db "$db" --addr 127.0.0.1:$port --log-level error > "$OUT/serve-x.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$port/readyz >/dev/null 2>&1 && break; sleep 0.2; done
  local token
  token=$(curl -s -u "bank:$secret" -d grant_type=client_credentials http://127.0.0.1:$port/oauth/token | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
  say "-- batch verification jobs of $N records"
  for _ in $(seq 1 "$JOBS"); do
    "$OUT/loadgen" -url http://127.0.0.1:$port -kind verify-job -people "$OUT/people-x$N.jsonl" -purpose eKYC -token "$token" | tee -a "$RES"
  done
  say "-- single verifications ($DUR, 64 clients)"
  "$OUT/loadgen" -url http://127.0.0.1:$port -kind verify -people "$OUT/people-x$N.jsonl" -purpose eKYC -token "$token" -c 64 -d "$DUR" | tee -a "$RES"
  kill $pid; wait $pid 2>/dev/null || true
}

if [[ " $ENGINES " == *" sqlite "* ]]; then
  rm -f "$OUT"/exchange-x.db*
  run SQLite "sqlite:$OUT/exchange-x.db"
  rm -f "$OUT"/exchange-x.db*
fi
if [[ " $ENGINES " == *" postgres "* ]] && command -v psql >/dev/null && psql "$PGBASE/postgres" -qc 'select 1' >/dev/null 2>&1; then
  psql "$PGBASE/postgres" -qc "DROP DATABASE IF EXISTS dancu_bench_exchange WITH (FORCE)" -qc "CREATE DATABASE dancu_bench_exchange"
  run PostgreSQL "$PGBASE/dancu_bench_exchange?sslmode=disable"
  psql "$PGBASE/postgres" -qc "DROP DATABASE IF EXISTS dancu_bench_exchange WITH (FORCE)"
fi
