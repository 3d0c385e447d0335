"""Driving a server with wrk: a Lua script posts a body from a file and reports in JSON."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

RESULT_MARK = "BENCH_RESULT "
# wrk calls done() once at the end; latencies are in microseconds.
LUA_TEMPLATE = """\
local file = assert(io.open(%(path)s, "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
%(headers)s
function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '%(mark)s{"requests": %%d, "duration_us": %%d, "socket_errors": %%d, ' ..
    '"status_errors": %%d, "p50_us": %%d, "p99_us": %%d}\\n',
    summary.requests, summary.duration,
    errors.connect + errors.read + errors.write + errors.timeout, errors.status,
    latency:percentile(50), latency:percentile(99)))
end
"""


def lua_string(text: str) -> str:
    """`text` as a Lua string literal: a long bracket whose level no `]=*]` in it closes."""
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def lua_script(body_path: Path, headers: Mapping[str, str] | None = None) -> str:
    """wrk's script posting the file's body, with `headers` beside the JSON ones."""
    lines = "".join(
        # The spaces matter: `x[[[a]]]` would read as a call of x with a long string.
        f"wrk.headers[ {lua_string(name)} ] = {lua_string(value)}\n"
        for name, value in (headers or {}).items()
    )
    return LUA_TEMPLATE % {
        "path": lua_string(str(body_path)),
        "mark": RESULT_MARK,
        "headers": lines,
    }


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    socket_errors: int  # connect, read, write or timeout
    status_errors: int  # answers other than 2xx and 3xx

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def parse_wrk_output(stdout: str) -> WrkResult:
    for line in stdout.splitlines():
        if line.startswith(RESULT_MARK):
            data = json.loads(line.removeprefix(RESULT_MARK))
            return WrkResult(
                requests=data["requests"],
                seconds=data["duration_us"] / 1e6,
                p50_ms=data["p50_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
                socket_errors=data["socket_errors"],
                status_errors=data["status_errors"],
            )
    raise ValueError(f"no wrk result in its output:\n{stdout}")


def run_wrk(wrk: str, url: str, script: Path, concurrency: int, seconds: int) -> WrkResult:
    """One timed run (wrk counts whole seconds); at most two threads, the machine's cores."""
    threads = min(2, concurrency)
    command = [wrk, f"-t{threads}", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "10s"]
    command += ["-s", str(script), url]
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    return parse_wrk_output(completed.stdout)
