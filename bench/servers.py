"""The servers under test: blog_graphql under uvicorn and PostGraphile 5 under Node 22.

Each runs in its own process group; CPU time and peak RSS are read from /proc for the
whole process tree: uvicorn's supervisor and its workers, or node:cluster's primary and its
workers.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.database import plain_dsn
from bench.tools import CACHE

LOGS = CACHE / "logs"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
READY_TIMEOUT_SECONDS = 90


@dataclass
class Server:
    system: str  # "blog_graphql" or "postgraphile"
    workers: int
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def label(self) -> str:
        return f"{self.system}/{self.workers}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def cpu_seconds(self) -> float:
        """User plus system CPU of every live process of the tree, summed."""
        return tree_cpu_seconds(self.process.pid)

    def peak_rss_mb(self) -> float:
        """The largest peak resident set (VmHWM) of any one process of the tree."""
        return max((_peak_rss_kb(pid) for pid in process_tree(self.process.pid)), default=0) / 1024

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Access tokens must outlive a whole run: one login serves every server of it.
TOKEN_MINUTES = 24 * 60
POOL_SIZE = 10


def app_environment(database_url: str, redis_url: str, secret_key: str) -> dict[str, str]:
    """Production settings, as deployed, with the JSON access log on (a line per request at
    INFO, as a deployment keeps it), minus what would measure something else: rate limits
    (wrk is one client). Every server of a run shares `secret_key`, so that one token signs
    in to each of them."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ENVIRONMENT": "production",
        "SECRET_KEY": secret_key,
        "RATE_LIMIT_ENABLED": "false",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "ACCESS_TOKEN_EXPIRE_MINUTES": str(TOKEN_MINUTES),
        # PostGraphile's pg pool keeps 10 connections a process: the same here. Every
        # server of a run is up at once, and 20 a process (the default) would take
        # PostgreSQL past its 100 connections ("too many clients") at concurrency 32.
        "DATABASE_POOL_SIZE": str(POOL_SIZE),
    }


APP = "blog_graphql"
UNCACHED_APP = "blog_graphql-uncached"  # RESPONSE_CACHE_ENABLED=false: every query executes


def start_app(
    workers: int,
    database_url: str,
    redis_url: str,
    secret_key: str,
    response_cache: bool = True,
) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "blog_graphql", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers)]
    env = app_environment(database_url, redis_url, secret_key)
    env["RESPONSE_CACHE_ENABLED"] = "true" if response_cache else "false"
    system = APP if response_cache else UNCACHED_APP
    process, log = _spawn(f"{system}{workers}", command, env, None)
    return _started(Server(system, workers, port, process, log))


def start_postgraphile(
    install_dir: Path, workers: int, database_url: str, jwt_secret: str | None = None
) -> Server:
    """PostGraphile in `workers` processes on one port (node:cluster, `cluster.mjs`),
    verifying bearer tokens signed with `jwt_secret` (blog_graphql's SECRET_KEY).

    PostGraphile 5 writes no line per request (grafserv has no access log), so there is
    no request logging of its own to turn on."""
    port = free_port()
    node = install_dir / "node_modules" / ".bin" / "node"
    env = {**os.environ, "DATABASE_URL": plain_dsn(database_url), "PORT": str(port)}
    env["NODE_ENV"] = "production"
    env["WORKERS"] = str(workers)
    if jwt_secret:
        env["JWT_SECRET"] = jwt_secret
    command = [str(node), "cluster.mjs"]
    process, log = _spawn(f"postgraphile{workers}", command, env, install_dir)
    return _started(Server("postgraphile", workers, port, process, log))


def _spawn(
    name: str, command: list[str], env: dict[str, str], cwd: Path | None
) -> tuple[subprocess.Popen[bytes], Path]:
    LOGS.mkdir(parents=True, exist_ok=True)
    path = LOGS / f"{name}-{time.strftime('%Y%m%dT%H%M%S')}-{free_port()}.log"
    with path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    return process, path


def _started(server: Server) -> Server:
    """Waits until the server answers `{ __typename }`; stops it and fails otherwise."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            response = httpx.post(server.url, json={"query": "{ __typename }"}, timeout=5)
            if response.status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.stop()
    raise SystemExit(f"{server.label} did not start; see {server.log}")


def process_tree(root: int) -> list[int]:
    """`root` and its descendants, from /proc."""
    return descendants(_parents(), root)


def descendants(parents: dict[int, int], root: int) -> list[int]:
    """`root` and every process below it, given each process's parent."""
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def tree_cpu_seconds(root: int) -> float:
    """User plus system CPU of `root` and its live descendants (a dead one's is lost)."""
    return sum(_cpu_ticks(pid) for pid in process_tree(root)) / CLOCK_TICKS


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU of the one process `pid`."""
    return _cpu_ticks(pid) / CLOCK_TICKS


def _parents() -> dict[int, int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat_fields(int(entry.name))
            if stat:
                parents[int(entry.name)] = int(stat[1])
    return parents


def _stat_fields(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the command name: state, ppid, ..."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return text[text.rindex(")") + 2 :].split()


def _cpu_ticks(pid: int) -> int:
    fields = _stat_fields(pid)
    return int(fields[11]) + int(fields[12]) if fields else 0  # utime, stime


def _peak_rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
