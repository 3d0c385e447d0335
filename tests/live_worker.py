"""A real `blog-graphql worker` process, with its log lines at hand, for tests that need one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

READY_LINE = "Worker process is ready for action."
WAIT_SECONDS = 60.0


class LiveWorker:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for_line(self, text: str) -> None:
        """Block until a log line contains `text` (or fail, showing the log)."""

        def seen() -> bool:
            return any(text in line for line in self.lines) or self.process.poll() is not None

        with self._changed:
            self._changed.wait_for(seen, WAIT_SECONDS)
        if not any(text in line for line in self.lines):
            raise AssertionError(f"the worker never logged {text!r}:\n" + "\n".join(self.lines))

    def terminate(self) -> None:
        """SIGTERM to the main process, as a container runtime sends it."""
        self.process.send_signal(signal.SIGTERM)

    def terminate_every_process(self) -> None:
        """SIGTERM to the main process and each worker process, as systemd sends it."""
        os.killpg(self.process.pid, signal.SIGTERM)

    def group_is_gone(self) -> bool:
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return True
        return False

    def wait(self) -> int:
        return self.process.wait(timeout=WAIT_SECONDS)

    def close(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL if it hangs) and release its pipe."""
        if self.process.poll() is None:
            self.terminate()
            try:
                self.process.wait(timeout=WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._reader.join()
        assert self.process.stdout is not None
        self.process.stdout.close()


@contextmanager
def live_worker(env: dict[str, str], cwd: Path, *args: str) -> Iterator[LiveWorker]:
    """`blog-graphql worker *args` with exactly `env`, ready to take messages."""
    process = subprocess.Popen(
        [sys.executable, "-m", "blog_graphql", "worker", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: a test may signal all of it
    )
    worker = LiveWorker(process)
    try:
        worker.wait_for_line(READY_LINE)
        yield worker
    finally:
        worker.close()
