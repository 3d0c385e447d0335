"""A TCP proxy in front of PostgreSQL that counts the statements its clients run.

pg_stat_statements needs `shared_preload_libraries` (a server restart), so the benchmark
counts on the wire instead: every simple `Query` message and every extended-protocol
`Execute` is one statement. Transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT...)
is counted apart from the rest, and every statement's text is kept so that a surprising
count can be explained. The proxy refuses TLS (answers `N` to SSLRequest) so that it can
read the messages; the benchmark only talks to a local server.
"""

from __future__ import annotations

import asyncio
import struct
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
TRANSACTION_WORDS = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "START TRANSACTION")


def is_transaction_control(sql: str) -> bool:
    return sql.lstrip().upper().startswith(TRANSACTION_WORDS)


@dataclass
class StatementLog:
    """Statements seen since the proxy started; `snapshot()` and `since()` give deltas."""

    texts: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sql: str) -> None:
        with self.lock:
            self.texts.append(" ".join(sql.split()))

    def snapshot(self) -> int:
        with self.lock:
            return len(self.texts)

    def since(self, mark: int) -> list[str]:
        with self.lock:
            return self.texts[mark:]


@dataclass(frozen=True)
class Counts:
    statements: int
    transaction_control: int
    texts: Counter[str]

    @classmethod
    def of(cls, texts: list[str]) -> Counts:
        control = sum(1 for sql in texts if is_transaction_control(sql))
        return cls(len(texts) - control, control, Counter(texts))


class FrontendParser:
    """Reads what a client sends and records each statement it runs (one per connection)."""

    def __init__(self, log: StatementLog) -> None:
        self.log = log
        self.buffer = b""
        self.started = False
        self.prepared: dict[bytes, str] = {}  # statement name -> SQL
        self.portals: dict[bytes, str] = {}  # portal name -> SQL

    def feed(self, data: bytes) -> tuple[bytes, bytes]:
        """Take bytes from the client; answer (bytes for the server, reply to the client)."""
        self.buffer += data
        upstream, reply = b"", b""
        while True:
            message = self._next_message()
            if message is None:
                return upstream, reply
            raw, kind, body = message
            if kind is None and struct.unpack("!I", body[:4])[0] in (SSL_REQUEST, GSSENC_REQUEST):
                reply += b"N"  # no encryption: the messages must stay readable
                continue
            if kind is None:
                self.started = True
            else:
                self._record(kind, body)
            upstream += raw

    def _next_message(self) -> tuple[bytes, bytes | None, bytes] | None:
        header = 4 if not self.started else 5
        if len(self.buffer) < header:
            return None
        kind = None if not self.started else self.buffer[:1]
        length = struct.unpack("!I", self.buffer[header - 4 : header])[0]
        end = header - 4 + length
        if len(self.buffer) < end:
            return None
        raw, self.buffer = self.buffer[:end], self.buffer[end:]
        return raw, kind, raw[header:]

    def _record(self, kind: bytes, body: bytes) -> None:
        if kind == b"Q":
            self.log.add(_cstring(body, 0)[0])
        elif kind == b"P":
            name, offset = _cstring(body, 0)
            self.prepared[name.encode()] = _cstring(body, offset)[0]
        elif kind == b"B":
            portal, offset = _cstring(body, 0)
            statement = _cstring(body, offset)[0]
            self.portals[portal.encode()] = self.prepared.get(statement.encode(), "?")
        elif kind == b"E":
            self.log.add(self.portals.get(_cstring(body, 0)[0].encode(), "?"))


def _cstring(body: bytes, offset: int) -> tuple[str, int]:
    end = body.index(b"\x00", offset)
    return body[offset:end].decode("utf-8", "replace"), end + 1


class CountingProxy:
    """Listens on 127.0.0.1 (a free port) and forwards to `upstream_host:upstream_port`."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.log = StatementLog()
        self.port = 0

    async def serve(self, ready: threading.Event, stop: asyncio.Event) -> None:
        server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        async with server:
            await stop.wait()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        parser = FrontendParser(self.log)

        async def client_to_server() -> None:
            while data := await reader.read(65536):
                upstream, reply = parser.feed(data)
                if reply:
                    writer.write(reply)
                if upstream:
                    up_writer.write(upstream)
            up_writer.close()

        async def server_to_client() -> None:
            while data := await up_reader.read(65536):
                writer.write(data)
            writer.close()

        try:
            await asyncio.gather(client_to_server(), server_to_client())
        except (ConnectionError, OSError):
            writer.close()
            up_writer.close()


@contextmanager
def counting_proxy(upstream_host: str, upstream_port: int) -> Iterator[CountingProxy]:
    """Runs a proxy on its own event loop in a thread for the duration of the block."""
    proxy = CountingProxy(upstream_host, upstream_port)
    loop = asyncio.new_event_loop()
    ready, stop = threading.Event(), asyncio.Event()
    thread = threading.Thread(target=loop.run_until_complete, args=(proxy.serve(ready, stop),))
    thread.daemon = True
    thread.start()
    ready.wait(10)
    try:
        yield proxy
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()
