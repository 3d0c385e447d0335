"""A real `blog-graphql serve` process on a free port, for tests that need one."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

STARTUP_TIMEOUT_SECONDS = 60.0  # a loaded CI machine spawns workers slowly
SERVE = ("-m", "blog_graphql", "serve")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    process: subprocess.Popen[str]
    port: int
    host: str = "127.0.0.1"
    output: list[str] = field(default_factory=list)

    def logs(self) -> str:
        """Everything the server printed so far."""
        return "".join(self.output)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/graphql"


def _wait_until_healthy(server: LiveServer) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            time.sleep(0.2)  # let the reader collect the last lines
            raise RuntimeError(f"server exited with {server.process.returncode}:\n{server.logs()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("server did not become healthy in time")


def clean_environment(**overrides: str) -> dict[str, str]:
    """This process's environment without the app's own variables, plus `overrides`."""
    app_variables = {
        *("DATABASE_URL", "REDIS_URL", "SMTP_HOST", "ENVIRONMENT", "SECRET_KEY", "HOST", "PORT")
    }
    env = {key: value for key, value in os.environ.items() if key not in app_variables}
    return {**env, **overrides}


@contextmanager
def live_server(
    env: dict[str, str],
    cwd: Path,
    extra_args: tuple[str, ...] = (),
    command: Sequence[str] = SERVE,
    port_from_env: bool = False,
) -> Iterator[LiveServer]:
    """Serve with exactly `env` (build it with `clean_environment`), on a free port given
    with `--port`, or in `PORT` when `port_from_env` (as hosting platforms give it)."""
    port = free_port()
    port_args: tuple[str, ...] = ("--port", str(port))
    if port_from_env:
        env, port_args = {**env, "PORT": str(port)}, ()
    process = subprocess.Popen(
        [sys.executable, *command, *port_args, *extra_args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = LiveServer(process=process, port=port, host=_listening_host(env, extra_args))
    # Drain the output as it comes: a full pipe would block a busy server's logging.
    reader = threading.Thread(target=_collect, args=(process, server.output), daemon=True)
    reader.start()
    try:
        _wait_until_healthy(server)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader.join(timeout=5)
        if process.stdout:
            process.stdout.close()


def _listening_host(env: dict[str, str], args: Sequence[str]) -> str:
    """Where `serve` listens: `--host`, else `HOST`, else its default."""
    if "--host" in args:
        return args[list(args).index("--host") + 1]
    return env.get("HOST", "127.0.0.1")


def _collect(process: subprocess.Popen[str], output: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        output.append(line)
