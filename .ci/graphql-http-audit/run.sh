#!/usr/bin/env bash
# The graphql-http server audits against a live `blog-graphql serve` on the embedded default.
# Installs graphql-http from this folder's lock (node_modules/ is gitignored); exits non-zero
# if any MUST or SHOULD audit fails.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
npm ci --prefix "$here" --ignore-scripts --no-audit --no-fund --loglevel=error

workdir="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
(cd "$workdir" && exec env -u DATABASE_URL -u REDIS_URL -u ENVIRONMENT \
  "$repo/.venv/bin/blog-graphql" serve --port "$port" >"$workdir/serve.log" 2>&1) &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$workdir"' EXIT

for _ in $(seq 1 240); do  # up to 2 minutes on a loaded machine
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done
node "$here/audit.mjs" "http://127.0.0.1:$port/graphql"
