"""Instructions per request, counted by Valgrind's callgrind: a figure that the other
processes on a shared machine do not move, unlike CPU time.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench uv run python -m bench.instructions \\
        --valgrind [--query q1 ...] [--viewer signed-in] [--requests 20]

(`--valgrind` runs itself under `valgrind --tool=callgrind --instr-atstart=no` and reports.)

Builds the production app (JSON access log on, written to /dev/null; rate limits off; the
serving GC tuning), warms each query up, then counts the instructions of `--requests` of
its requests, called straight into the ASGI app as uvicorn calls it (no client, no HTTP
parsing: the server's own work). Counting is switched on and off from inside through
callgrind's client requests, made by a tiny C helper compiled on first use (gcc and
Valgrind's headers). `DATABASE_URL` names the seeded database.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

from bench.fast_cpu import load_queries, variables_for
from bench.viewers import ANONYMOUS, LOGIN, SIGNED_IN, VIEWERS, pick_user
from blog_graphql.app import create_app
from blog_graphql.cli.seed import SEED_PASSWORD
from blog_graphql.config.settings import Settings
from blog_graphql.observability.logs import configure_logging
from blog_graphql.server.gc_tuning import tune_for_serving

HELPER_SOURCE = r"""
#include <valgrind/callgrind.h>
void counting_on(void) { CALLGRIND_START_INSTRUMENTATION; CALLGRIND_ZERO_STATS; }
void counting_off(const char *name) { CALLGRIND_DUMP_STATS_AT(name); }
int under_valgrind(void) { return RUNNING_ON_VALGRIND; }
"""
HELPER = Path.home() / ".cache" / "blog_graphql-bench" / "callgrind_helper.so"
WARMUP = 30
DEVNULL = open(os.devnull, "w")  # noqa: SIM115 (where the access log goes: lives as we do)


def helper() -> ctypes.CDLL:
    if not HELPER.exists():
        HELPER.parent.mkdir(parents=True, exist_ok=True)
        source = HELPER.with_suffix(".c")
        source.write_text(HELPER_SOURCE)
        subprocess.run(["gcc", "-O1", "-shared", "-fPIC", "-o", HELPER, source], check=True)
    library = ctypes.CDLL(str(HELPER))
    library.counting_off.argtypes = [ctypes.c_char_p]
    return library


def settings_for(database_url: str, log_level: str = "INFO") -> Settings:
    return Settings(
        database_url=database_url,
        environment="production",
        secret_key=secrets.token_hex(32),
        rate_limit_enabled=False,
        log_level=log_level,
        log_format="json",
        redis_url=None,
        _env_file=None,
    )


class Caller:
    """Requests straight into the ASGI app, as uvicorn makes them."""

    def __init__(self, app: Any, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")]
        self.headers += [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def post(self, payload: bytes) -> dict[str, Any]:
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "POST", "scheme": "http", "path": "/graphql", "raw_path": b"/graphql",
            "query_string": b"", "root_path": "", "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8000),
            "headers": [*self.headers, (b"content-length", str(len(payload)).encode())],
        }  # fmt: skip
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": payload, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await self.app(scope, receive, send)
        answer: dict[str, Any] = orjson.loads(b"".join(m.get("body", b"") for m in sent[1:]))
        if sent[0]["status"] != 200 or answer.get("errors"):
            raise SystemExit(f"the request failed: {str(answer)[:500]}")
        return answer


async def sign_in(caller: Caller, viewer: str) -> dict[str, str]:
    if viewer == ANONYMOUS:
        return {}
    username = await pick_user(os.environ["DATABASE_URL"])
    variables = {"login": username, "password": SEED_PASSWORD}
    answer = await caller.post(orjson.dumps({"query": LOGIN, "variables": variables}))
    return {"authorization": f"Bearer {answer['data']['login']['accessToken']}"}


async def count(args: argparse.Namespace) -> None:
    library = helper()
    if not library.under_valgrind():
        raise SystemExit("run under valgrind --tool=callgrind --instr-atstart=no (or --valgrind)")
    settings = settings_for(os.environ["DATABASE_URL"], args.log_level)
    configure_logging(settings, DEVNULL)
    app = create_app(settings)
    state = app.state.blog
    variables = await variables_for(state)
    caller = Caller(app, {})
    caller = Caller(app, await sign_in(caller, args.viewer))
    tune_for_serving()
    for name, path in load_queries().items():
        if args.query and name not in args.query:
            continue
        payload = orjson.dumps({"query": path.read_text(), "variables": variables})
        for _ in range(WARMUP):
            await caller.post(payload)
        library.counting_on()
        for _ in range(args.requests):
            await caller.post(payload)
        library.counting_off(f"{name}:{args.requests}".encode())
    await state.close()


def report(out_prefix: str, viewer: str) -> None:
    """Instructions per request of each dump that `count` made."""
    for dump in sorted(Path(out_prefix).parent.glob(Path(out_prefix).name)):
        text = dump.read_text(errors="replace")
        trigger = next(line for line in text.splitlines() if line.startswith("desc: Trigger"))
        totals = next(line for line in text.splitlines() if line.startswith("summary:"))
        if "Client Request:" not in trigger:
            continue
        name, requests = trigger.rsplit("Client Request: ", 1)[1].split(":")
        per_request = int(totals.split()[1]) / int(requests)
        print(f"{name} {viewer}: {per_request / 1e6:.2f} M instructions per request")


def run_under_valgrind(argv: list[str], viewer: str) -> None:
    valgrind = shutil.which("valgrind") or sys.exit("valgrind is missing")
    out = Path("/tmp") / f"bench-callgrind-{os.getpid()}"
    command = [valgrind, "--tool=callgrind", "--instr-atstart=no",
               f"--callgrind-out-file={out}.%p", sys.executable, "-m", "bench.instructions",
               *[arg for arg in argv if arg != "--valgrind"]]  # fmt: skip
    subprocess.run(command, check=True, stderr=subprocess.DEVNULL)
    report(f"{out}.*", viewer)  # one file per dump: `out.<pid>.<n>`
    for dump in out.parent.glob(out.name + ".*"):
        dump.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__)
    parser.add_argument("--query", action="append", help="q1 .. q6; every one if not given")
    parser.add_argument("--viewer", choices=VIEWERS, default=ANONYMOUS)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument(
        "--log-level", default="INFO", help="INFO: the access log on (a deployment keeps it)"
    )
    parser.add_argument("--valgrind", action="store_true", help="run under callgrind, report")
    args = parser.parse_args()
    if args.valgrind:
        run_under_valgrind(sys.argv[1:], args.viewer)
        return
    import uvloop

    uvloop.run(count(args))


__all__ = ["SIGNED_IN"]

if __name__ == "__main__":
    main()
