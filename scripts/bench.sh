#!/usr/bin/env bash
# The dancu benchmarks, end to end, on this machine:
#   generate N people; import them into SQLite and PostgreSQL next to a raw
#   baseline of the same rows (prepared INSERT / COPY) in the same run;
#   lookup by personal ID and search by name over HTTP under load.
# Usage: scripts/bench.sh [N]        (default 1000000; results in bench-out/)
# Needs Go, and for PostgreSQL psql and a server at $PGBASE.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
OUT="${OUT:-bench-out}"
PGBASE="${PGBASE:-postgres://postgres@127.0.0.1:5432}"
DUR="${DUR:-30s}"
mkdir -p "$OUT"
RES="$OUT/results-$N.txt"
: > "$RES"
say() { echo "$*" | tee -a "$RES"; }

say "== dancu benchmarks, $(date -u +%FT%TZ), N=$N"
say "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
say "$(go version)"
go build -o "$OUT/dancu" ./cmd/dancu
go build -o "$OUT/rawload" ./scripts/rawload
go build -o "$OUT/loadgen" ./scripts/loadgen
D="$OUT/dancu"

say "== generate"
/usr/bin/env bash -c "time $D generate --count $N --seed 1 --out $OUT/people-$N.jsonl" 2>&1 | tail -5 | tee -a "$RES"
"$OUT/rawload" -prepare "$OUT/people-$N.jsonl" -out "$OUT/rows-$N.tsv" 2>&1 | tee -a "$RES"

say "== import into SQLite (raw baseline first, same rows, same run)"
rm -f "$OUT"/raw-*.db* "$OUT"/import-*.db*
"$OUT/rawload" -load "$OUT/rows-$N.tsv" -db "sqlite:$OUT/raw-$N.db" | tee -a "$RES"
"$D" import "$OUT/people-$N.jsonl" --db "sqlite:$OUT/import-$N.db" --quiet --rejects "$OUT/rejects-sqlite.jsonl" 2>/dev/null | tee -a "$RES"

if command -v psql >/dev/null && psql "$PGBASE/postgres" -qc 'select 1' >/dev/null 2>&1; then
  say "== import into PostgreSQL (raw COPY baseline first, same rows, same run)"
  for db in dancu_bench_raw dancu_bench_import; do
    psql "$PGBASE/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -qc "CREATE DATABASE $db"
  done
  "$OUT/rawload" -load "$OUT/rows-$N.tsv" -db "$PGBASE/dancu_bench_raw?sslmode=disable" | tee -a "$RES"
  "$D" import "$OUT/people-$N.jsonl" --db "$PGBASE/dancu_bench_import?sslmode=disable" --quiet --rejects "$OUT/rejects-pg.jsonl" 2>/dev/null | tee -a "$RES"
  psql "$PGBASE/postgres" -qc "DROP DATABASE IF EXISTS dancu_bench_raw WITH (FORCE)"
fi

say "== HTTP under load: lookup by personal ID and search by name, SQLite registry of N people ($DUR each, 64 clients)"
rm -f "$OUT/raw-$N.db"*
PW="Bench-$RANDOM-Pw!"
# serve needs a data key kept apart from the data.
export DANCU_DATA_KEY="${DANCU_DATA_KEY:-$(openssl rand -base64 32)}"
DANCU_ADMIN_PASSWORD="$PW" "$D" serve --db "sqlite:$OUT/import-$N.db" --addr 127.0.0.1:18099 --log-level error > "$OUT/serve.log" 2>&1 &
SERVE=$!
trap 'kill $SERVE 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:18099/readyz >/dev/null 2>&1 && break; sleep 0.2; done
TOKEN=$("$D" user token admin --db "sqlite:$OUT/import-$N.db" --name bench --ttl 1h 2>/dev/null)
for kind in lookup name name-ascii; do
  say "-- $kind"
  "$OUT/loadgen" -url http://127.0.0.1:18099 -token "$TOKEN" -people "$OUT/people-$N.jsonl" -kind "$kind" -c 64 -d "$DUR" | tee -a "$RES"
done
say "-- token endpoint: client credentials, signed JWT access tokens (64 clients)"
SEC=$("$D" client create "bench-$RANDOM" --db "sqlite:$OUT/import-$N.db" --name "Benchmark agency" --type service 2>/dev/null | tee "$OUT/client.txt" | sed -n 's/client secret (shown once): //p')
CID=$(sed -n 's/created client \([^ ]*\) .*/\1/p' "$OUT/client.txt")
"$OUT/loadgen" -url http://127.0.0.1:18099 -kind token -client "$CID" -secret "$SEC" -c 64 -d "$DUR" | tee -a "$RES"
kill $SERVE; wait $SERVE 2>/dev/null || true

say "== go test -bench (hot functions)"
go test -run XXX -bench . -benchmem -benchtime 1s ./internal/personalid ./internal/vnname ./internal/adminunit ./internal/workday 2>&1 | grep -E '^Benchmark' | tee -a "$RES"
say "== password logins (argon2id m=19 MiB t=2 p=1): whole e-ID logins, account read and audit record included"
go test -run XXX -bench 'Login|Argon2id' -benchtime 3s -cpu 1,2 ./internal/eid 2>&1 | grep -E '^Benchmark' | tee -a "$RES"
say "results in $RES"
