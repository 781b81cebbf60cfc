#!/usr/bin/env bash
# Rendering benchmarks of the officer console on a registry of N people
# (default 1,000,000; SQLite): the search page and the citizen record page,
# each read recorded in the access log before the page is sent, beside the
# ceiling measured in the same run (/healthz of the same server).
# Usage: scripts/bench-pages.sh [N]     (results in bench-out/pages-N.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
OUT="${OUT:-bench-out}"
DUR="${DUR:-20s}"
C="${C:-16}"
mkdir -p "$OUT"
RES="$OUT/pages-$N.txt"
: > "$RES"
say() { echo "$*" | tee -a "$RES"; }
say "== dancu console pages, $(date -u +%FT%TZ), N=$N, $C clients, $DUR each"
say "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
go build -o "$OUT/dancu" ./cmd/dancu
go build -o "$OUT/loadgen" ./scripts/loadgen
D="$OUT/dancu"
# serve needs a data key kept apart from the data: one for this benchmark.
[ -s "$OUT/../.bench-data.key" ] || openssl rand -base64 32 > "$OUT/../.bench-data.key"
DANCU_DATA_KEY=$(cat "$OUT/../.bench-data.key")
export DANCU_DATA_KEY
DB="sqlite:$OUT/pages-$N.db"
if [ ! -s "$OUT/people-$N.jsonl" ]; then "$D" generate --count "$N" --seed 1 --out "$OUT/people-$N.jsonl" >/dev/null; fi
if [ ! -s "$OUT/pages-$N.db" ]; then
  say "-- import"
  "$D" import "$OUT/people-$N.jsonl" --db "$DB" --quiet 2>/dev/null | tee -a "$RES"
fi
PW="Bench-$RANDOM-Pw!"
DANCU_USER_PASSWORD="$PW" "$D" user create bench-viewer --role viewer --level national --name "Benchmark viewer" --db "$DB" >/dev/null 2>&1 ||
  DANCU_USER_PASSWORD="$PW" "$D" user passwd bench-viewer --db "$DB" >/dev/null
DANCU_ADMIN_PASSWORD="$PW" "$D" serve --db "$DB" --addr 127.0.0.1:18098 --log-level error > "$OUT/serve-pages.log" 2>&1 &
SERVE=$!
trap 'kill $SERVE 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18098/readyz >/dev/null 2>&1 && break; sleep 0.2; done
# A console session of the viewer (viewers sign in with the password alone).
JAR=$(mktemp)
CSRF=$(curl -s -c "$JAR" -b "$JAR" http://127.0.0.1:18098/console/login | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
curl -s -o /dev/null -c "$JAR" -b "$JAR" --data-urlencode "csrf=$CSRF" --data-urlencode "username=bench-viewer" --data-urlencode "password=$PW" \
  --data-urlencode "next=/console/" http://127.0.0.1:18098/console/login
COOKIE="dancu_console=$(awk '$6 == "dancu_console" {print $7}' "$JAR")"
rm -f "$JAR"
[ "$COOKIE" != "dancu_console=" ] || { echo "no console session"; exit 1; }
printf '/healthz\n' > "$OUT/healthz.paths"
say "-- ceiling: /healthz"
"$OUT/loadgen" -url http://127.0.0.1:18098 -paths "$OUT/healthz.paths" -c "$C" -d "$DUR" | tee -a "$RES"
for kind in page-search page-record; do
  say "-- $kind"
  "$OUT/loadgen" -url http://127.0.0.1:18098 -cookie "$COOKIE" -people "$OUT/people-$N.jsonl" -kind "$kind" -c "$C" -d "$DUR" | tee -a "$RES"
done
