#!/usr/bin/env bash
# The package as `pip install .`, `pipx install` or `uv tool install` leave it: build the
# wheel, install it into a fresh virtualenv, and from an empty directory (no checkout
# beside it) run `blog-graphql migrate` on a temporary SQLite file, then `serve` until
# /healthz answers. The developer tools must not come along.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
workdir="$(mktemp -d)"
server=""
stop() {
  if [ -n "$server" ]; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$workdir"
}
trap stop EXIT

uv build --quiet --wheel --out-dir "$workdir/dist" "$repo"
uv venv --quiet --python 3.11 "$workdir/venv"
uv pip install --quiet --python "$workdir/venv/bin/python" "$workdir"/dist/blog_graphql-*.whl
for tool in mypy ruff hadolint pytest; do
  if [ -e "$workdir/venv/bin/$tool" ]; then
    echo "wheel-install: the wheel brought a developer tool: $tool" >&2
    exit 1
  fi
done

mkdir "$workdir/empty"
cd "$workdir/empty"
export DATABASE_URL="sqlite:///$workdir/wheel.db"
unset REDIS_URL ENVIRONMENT VIRTUAL_ENV PYTHONPATH
"$workdir/venv/bin/blog-graphql" migrate
python3 - "$workdir/wheel.db" <<'EOF'
import sqlite3
import sys

(version,) = sqlite3.connect(sys.argv[1]).execute("select version_num from alembic_version").fetchone()
print(f"wheel-install: migrated to {version}")
EOF

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$workdir/venv/bin/blog-graphql" serve --port "$port" >"$workdir/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.5
done
if ! curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null; then
  echo "wheel-install: the installed serve never answered /healthz; its output:" >&2
  cat "$workdir/serve.log" >&2
  exit 1
fi
curl -fsS "http://127.0.0.1:$port/graphql" -H 'Content-Type: application/json' \
  --data '{"query": "{ tags { name } }"}' | grep -qx '{"data":{"tags":\[\]}}'
echo "wheel-install: the installed package migrated and served"
