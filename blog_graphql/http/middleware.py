"""ASGI middleware: request ids, client addresses, body size, security headers, CORS, hosts."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

import orjson
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from blog_graphql.config.setting_types import IPNetwork, parse_networks
from blog_graphql.config.settings import Settings
from blog_graphql.errors import BAD_REQUEST
from blog_graphql.guards import client
from blog_graphql.http.asgi import WatchedSend
from blog_graphql.http.failures import CatchFailures
from blog_graphql.http.slow_clients import BodyReadTimeout

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_HEADER_RAW = REQUEST_ID_HEADER.lower().encode()
# An id a proxy already gave the request is kept, if it cannot smuggle anything into logs.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,128}")
# For API answers: nothing on them may load, run or be framed.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
HSTS = "max-age=63072000; includeSubDomains"
# A cross-origin SPA's upload sends one of these (`http/uploads.py`): CORS must allow them.
UPLOAD_PREFLIGHT_HEADERS = ("GraphQL-Preflight", "Apollo-Require-Preflight")


def assign_request_id(scope: Scope) -> str:
    """The request's id: one already assigned, a proxy's if it is safe, else a new one."""
    state = scope.setdefault("state", {})
    if not state.get("request_id"):
        given = _raw_header(scope, REQUEST_ID_HEADER_RAW)
        # 128 random bits in hex, as `uuid4().hex` gave (less six fixed bits), in a sixth of
        # its time: it runs on every request.
        state["request_id"] = given if SAFE_REQUEST_ID.fullmatch(given) else os.urandom(16).hex()
    return str(state["request_id"])


def _raw_header(scope: Scope, name: bytes) -> str:
    """The first value of header `name` (lowercase, as ASGI servers give names), or "";
    what `Headers(scope=scope).get` answers, without building the mapping."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def request_id_of(connection: HTTPConnection) -> str | None:
    state = connection.scope.get("state") or {}
    value = state.get("request_id")
    return str(value) if value else None


class RequestContextMiddleware:
    """Gives every request an id and its client's address; every answer carries the id
    (`X-Request-ID`) and the headers that keep browsers safe, unless it set its own
    (a page may have its own Content-Security-Policy).

    One layer for both, adding raw header pairs: it runs on every request.
    """

    def __init__(
        self, app: ASGIApp, trusted_proxies: Sequence[IPNetwork] = (), hsts: bool = False
    ) -> None:
        self.app = app
        self.trusted_proxies = list(trusted_proxies)
        self.headers = safety_headers(hsts)
        self.header_names = frozenset(name for name, _ in self.headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = assign_request_id(scope)
        state = scope["state"]
        state[client.STATE_KEY] = client.client_address(scope, self.trusted_proxies)
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        id_header = (REQUEST_ID_HEADER_RAW, request_id.encode("latin-1"))
        defaults, default_names = self.headers, self.header_names

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                present = {name.lower() for name, _ in headers}
                if REQUEST_ID_HEADER_RAW in present:  # ours replaces one the app set
                    headers[:] = [pair for pair in headers if pair[0].lower() != id_header[0]]
                headers.append(id_header)
                if present.isdisjoint(default_names):  # the usual answer: all of them
                    headers.extend(defaults)
                else:
                    headers.extend(pair for pair in defaults if pair[0] not in present)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def safety_headers(hsts: bool) -> list[tuple[bytes, bytes]]:
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Content-Security-Policy": API_CSP,
    }
    if hsts:
        headers["Strict-Transport-Security"] = HSTS
    return [(name.lower().encode(), value.encode()) for name, value in headers.items()]


class CrossOriginMiddleware(CORSMiddleware):
    """Starlette's CORS, with a short way for the usual request that sends no Origin."""

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        if message["type"] == "http.response.start" and "origin" not in request_headers:
            headers = message.setdefault("headers", [])
            if not any(name.lower() == b"vary" for name, _ in headers):
                # What Starlette does then: caches must know the answer varies by Origin.
                headers.append((b"vary", b"Origin"))
                await send(message)
                return
        await super().send(message, send, request_headers)


class BodyTooLarge(Exception):
    pass


class BodySizeLimitMiddleware:
    """Answers 413 to a body over `max_bytes`, announced or streamed, before anyone reads it.

    An upload (a multipart POST to `/graphql`) may bring `upload_bytes` of files on top.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, upload_bytes: int = 0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_bytes = upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        if self.upload_bytes and _is_upload(scope):
            limit += self.upload_bytes
        announced = _raw_header(scope, b"content-length")
        if announced.isdigit() and int(announced) > limit:
            await self.refuse(send, limit)
            return
        received = 0
        watched = WatchedSend(send)

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge
            return message

        try:
            await self.app(scope, counting_receive, watched)
        except BodyTooLarge:
            if not watched.started:
                await self.refuse(send, limit)

    async def refuse(self, send: Send, limit: int) -> None:
        message = f"The request body is larger than {limit} bytes."
        body = orjson.dumps({"errors": [{"message": message, "extensions": {"code": BAD_REQUEST}}]})
        headers = [(b"content-type", b"application/json; charset=utf-8")]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _is_upload(scope: Scope) -> bool:
    content_type = _raw_header(scope, b"content-type").lower()
    return (
        scope["method"] == "POST"
        and scope["path"] == "/graphql"
        and content_type.startswith("multipart/form-data")
    )


def http_middleware(settings: Settings) -> list[Middleware]:
    """Outermost first: every answer, a refusal included, carries the id and the headers."""
    return [
        Middleware(
            RequestContextMiddleware,
            trusted_proxies=parse_networks(settings.trusted_proxies),
            hsts=settings.is_production,
        ),
        *host_check(settings.allowed_hosts),
        Middleware(
            CrossOriginMiddleware,
            allow_origins=settings.cors_origins,
            allow_origin_regex=settings.cors_origin_pattern,
            allow_methods=["GET", "POST"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                REQUEST_ID_HEADER,
                *UPLOAD_PREFLIGHT_HEADERS,
            ],
            expose_headers=[REQUEST_ID_HEADER, "Retry-After"],
            max_age=600,
        ),
        # Inside the headers' layers, so its JSON 500 carries them (`failures.py`).
        Middleware(CatchFailures),
        Middleware(BodyReadTimeout, seconds=settings.http_body_timeout_seconds),
        Middleware(
            BodySizeLimitMiddleware,
            max_bytes=settings.max_body_bytes,
            upload_bytes=settings.media_max_upload_bytes,
        ),
    ]


def host_check(allowed_hosts: list[str]) -> list[Middleware]:
    """Refuses other Host headers; no layer at all when any host will do."""
    if not allowed_hosts or "*" in allowed_hosts:
        return []
    return [Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)]
