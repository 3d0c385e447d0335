"""The access log: one structured line and one metrics sample per HTTP request.

A pure ASGI middleware (no response buffering, no extra task, so the request id stays bound
for everything the request runs). The GraphQL layer tells it, through `RequestInfo` in the
scope, which operation ran, for which user, and with which error codes. Query strings,
headers and bodies are never logged: they carry tokens and passwords.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from blog_graphql.guards.client import client_of
from blog_graphql.http.middleware import assign_request_id
from blog_graphql.observability import metrics, request_info
from blog_graphql.observability.logs import get_logger
from blog_graphql.observability.request_info import RequestInfo

logger = get_logger("blog_graphql.access")
_enabled = logging.getLogger("blog_graphql.access")  # its level, asked before building a line
# Probes and scrapes arrive every few seconds; they are logged only at DEBUG.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


@dataclass
class _Outcome:
    status: int = 500  # what the client sees if the app fails before it answers
    accepted: bool = False  # a WebSocket handshake that succeeded


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        info = RequestInfo(request_id=assign_request_id(scope))
        request_info.attach(scope, info)
        outcome = _Outcome()
        started = time.perf_counter()

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                outcome.status = message["status"]
            elif message["type"] == "websocket.accept":
                outcome.accepted = True
                metrics.WEBSOCKETS_OPEN.inc()
            await send(message)

        # `bound_request_id` without its context manager's calls: this runs on every request.
        token = request_info.bind_request_id(info.request_id)
        try:
            await self.app(scope, receive, watch)
        except Exception:
            # Logged here, where the request id and operation are still known.
            _record(scope, info, outcome, time.perf_counter() - started, failed=True)
            raise
        else:
            _record(scope, info, outcome, time.perf_counter() - started)
        finally:
            if outcome.accepted:
                metrics.WEBSOCKETS_OPEN.dec()
            request_info.unbind_request_id(token)


def _record(
    scope: Scope, info: RequestInfo, outcome: _Outcome, seconds: float, failed: bool = False
) -> None:
    path: str = scope.get("path", "")
    is_websocket = scope["type"] == "websocket"
    method = "WEBSOCKET" if is_websocket else scope.get("method", "")
    status = 101 if is_websocket and outcome.accepted else outcome.status
    if not is_websocket:
        metrics.observe_request(
            path=path, operation=info.operation, method=method, status=status, seconds=seconds
        )
    level = logging.DEBUG if path in QUIET_PATHS and status < 500 else logging.INFO
    level = logging.ERROR if failed else level
    if not _enabled.isEnabledFor(level):
        return  # nothing of the line is built when it would be dropped
    logger.log(
        level,
        "websocket" if is_websocket else "request",
        method=method,
        path=path,
        operation=info.operation,
        status=status,
        duration_ms=round(seconds * 1000, 2),
        user_id=info.user_id,
        request_id=info.request_id,
        client=client_of(scope),  # behind TRUSTED_PROXIES: the real client
        errors=info.error_codes or None,
        **({"exc_info": True} if failed else {}),
    )
