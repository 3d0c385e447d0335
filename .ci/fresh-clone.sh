#!/usr/bin/env bash
# A newcomer on a stock machine: Debian's system Python (PEP 668, externally managed),
# no uv and no pipx on PATH. In a fresh clone, the README's serve command (`./dev serve`)
# must reach a server whose /healthz answers 200 and whose /graphql answers a query.
# Prints the seconds from `git clone` to that first answer.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

system_python=/usr/bin/python3
marker="$("$system_python" -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')/EXTERNALLY-MANAGED"
if [ ! -f "$marker" ]; then
  echo "fresh-clone: $system_python is not externally managed (no $marker)" >&2
  exit 1
fi
# Debian splits venv out of the standard library: a stock machine may lack it, and ./dev
# says so in one line; CI installs it as a newcomer would, once.
if ! dpkg -s python3-venv >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
fi

# PATH as a stock machine has it: the system directories, less any that hold uv or pipx.
stock_path=""
for dir in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
  if [ -d "$dir" ] && [ ! -e "$dir/uv" ] && [ ! -e "$dir/pipx" ]; then
    stock_path="${stock_path:+$stock_path:}$dir"
  fi
done

readme_serve="$(grep -m1 -oE '^\./dev serve$' "$repo/README.md" || true)"
if [ "$readme_serve" != "./dev serve" ]; then
  echo "fresh-clone: the README's serve command is no longer './dev serve'" >&2
  exit 1
fi

workdir="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
server=""
stop() {
  if [ -n "$server" ]; then
    kill -TERM -- "-$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$workdir"
}
trap stop EXIT

started="$(date +%s.%N)"
git clone -q "$repo" "$workdir/clone"
git -C "$workdir/clone" checkout -q "$(git -C "$repo" rev-parse HEAD)"
# The machine's environment (its CA bundle, say) with the stock PATH and none of the
# project's settings. Its own process group (setsid), so uv and the server stop together.
(
  cd "$workdir/clone"
  exec env -u VIRTUAL_ENV -u UV -u PYTHONPATH -u DATABASE_URL -u REDIS_URL -u ENVIRONMENT \
    PATH="$stock_path" setsid ./dev serve --port "$port"
) >"$workdir/serve.log" 2>&1 &
server=$!

env -i PATH="$stock_path" sh -c '! command -v uv && ! command -v pipx' >/dev/null || {
  echo "fresh-clone: uv or pipx is still on the stock PATH" >&2
  exit 1
}
[ "$(env -i PATH="$stock_path" sh -c 'command -v python3')" = "$system_python" ]

answered=""
for _ in $(seq 1 600); do
  if curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
    answered=yes
    break
  fi
  if ! kill -0 "$server" 2>/dev/null; then
    break
  fi
  sleep 0.5
done
if [ -z "$answered" ]; then
  echo "fresh-clone: ./dev serve never answered /healthz; its output:" >&2
  cat "$workdir/serve.log" >&2
  exit 1
fi
body="$(curl -fsS "http://127.0.0.1:$port/graphql" -H 'Content-Type: application/json' \
  --data '{"query": "{ posts(first: 1) { totalCount } }"}')"
finished="$(date +%s.%N)"
if [ "$body" != '{"data":{"posts":{"totalCount":0}}}' ]; then
  echo "fresh-clone: unexpected GraphQL answer: $body" >&2
  exit 1
fi
[ -x "$workdir/clone/.tools/uv-venv/bin/uv" ] || {
  echo "fresh-clone: ./dev did not install its own uv into .tools/" >&2
  exit 1
}
for tool in mypy ruff hadolint pytest; do
  if [ -e "$workdir/clone/.venv/bin/$tool" ]; then
    echo "fresh-clone: ./dev serve installed a developer tool: $tool" >&2
    exit 1
  fi
done
if [ -n "$(git -C "$workdir/clone" status --porcelain)" ]; then
  echo "fresh-clone: ./dev serve left files git does not ignore:" >&2
  git -C "$workdir/clone" status --porcelain >&2
  exit 1
fi
python3 -c "print(f'fresh-clone: from git clone to the first GraphQL answer: {$finished - $started:.1f} s')"
