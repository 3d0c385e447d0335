"""What the app learns about one request while handling it, shared through the ASGI scope.

The access-log middleware puts a `RequestInfo` in the scope before anything else runs; the
GraphQL layer fills in the operation name, the viewer and the error codes, and the
middleware writes them in the request's one log line. `current_request_id()` lets code that
queues work (jobs, emails) carry the id of the request that caused it.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Any

SCOPE_KEY = "blog_graphql.request_info"

_current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


@dataclass
class RequestInfo:
    request_id: str
    operation: str | None = None
    # "query", "mutation" or "subscription" once the operation started executing.
    operation_type: str | None = None
    user_id: int | None = None
    error_codes: list[str] = field(default_factory=list)


def attach(scope: MutableMapping[str, Any], info: RequestInfo) -> None:
    scope[SCOPE_KEY] = info


def of(scope: MutableMapping[str, Any]) -> RequestInfo | None:
    """The request's info, or None outside the middleware (a bare app in a unit test)."""
    info = scope.get(SCOPE_KEY)
    return info if isinstance(info, RequestInfo) else None


def current_request_id() -> str | None:
    """The id of the request this code runs for, if any."""
    return _current_request_id.get()


@contextmanager
def bound_request_id(request_id: str | None) -> Iterator[None]:
    """Make `request_id` current for the code inside (a request, or a job it queued)."""
    token = bind_request_id(request_id)
    try:
        yield
    finally:
        unbind_request_id(token)


def bind_request_id(request_id: str | None) -> Token[str | None]:
    """`bound_request_id`'s first half; pass what it returns to `unbind_request_id`."""
    return _current_request_id.set(request_id)


def unbind_request_id(token: Token[str | None]) -> None:
    _current_request_id.reset(token)
