"""A webhook receiver for tests: a real HTTP server on 127.0.0.1 in a thread of its own.

It keeps every request (headers and body bytes) and answers from a script: statuses to
give in turn (then 200), or "hang" for a request that gets no answer until released.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

WAIT_SECONDS = 30.0
HANG = "hang"


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self._answers: deque[int | str] = deque()
        self._arrived = threading.Condition()
        self.hanging = threading.Event()  # set while a request hangs
        self._release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                answer = receiver._next_answer()
                with receiver._arrived:
                    receiver.received.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    receiver._arrived.notify_all()
                if answer == HANG:
                    receiver.hanging.set()
                    receiver._release.wait(WAIT_SECONDS)
                    receiver.hanging.clear()
                    return  # no answer at all: the sender timed out long ago
                self.send_response(int(answer))
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}/hook"

    def answer(self, *answers: int | str) -> None:
        """Answer the next requests so (a status, or HANG), then 200 again."""
        self._answers.extend(answers)

    def release(self) -> None:
        self._release.set()

    def wait_for(self, count: int) -> list[Received]:
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self.received) >= count, WAIT_SECONDS)
        assert arrived, f"{len(self.received)} of {count} requests arrived"
        return list(self.received)

    def _next_answer(self) -> int | str:
        return self._answers.popleft() if self._answers else 200

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def second_receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()
