"""The two ways one HTTP response streams an operation's results, and which one a client asks for.

- GraphQL over Server-Sent Events (the `graphql-sse` protocol, distinct connections mode):
  `Accept: text/event-stream`; each result is an `event: next` whose data is the
  execution result's JSON, and `event: complete` ends the operation.
- Apollo's multipart HTTP subscriptions: `Accept: multipart/mixed;subscriptionSpec=1.0`;
  each result is a part `{"payload": <result>}`, `{}` parts are heartbeats, a part
  `{"payload": null, "errors": [...]}` is a fatal transport error, and the closing
  boundary ends the operation.

Only the bytes live here; `http/streaming.py` runs the operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

EVENT_STREAM = "text/event-stream"
MULTIPART_MIXED = "multipart/mixed"
BOUNDARY = "graphql"


@dataclass(frozen=True)
class StreamFormat:
    """How results are framed in one protocol; every method returns bytes to send."""

    name: str  # the metrics label
    content_type: str
    heartbeat_seconds: float

    def opening(self) -> bytes:
        return b""

    def result(self, body: dict[str, Any]) -> bytes:
        raise NotImplementedError

    def heartbeat(self) -> bytes:
        raise NotImplementedError

    def complete(self) -> bytes:
        raise NotImplementedError

    def fatal(self, error: dict[str, Any]) -> bytes:
        """The operation ends with `error` (its session ended, its token was refused)."""
        return self.result({"errors": [error]}) + self.complete()


class ServerSentEvents(StreamFormat):
    def result(self, body: dict[str, Any]) -> bytes:
        # orjson writes no newline, which an SSE `data:` line may not hold.
        return b"event: next\ndata: " + orjson.dumps(body) + b"\n\n"

    def heartbeat(self) -> bytes:
        return b":\n\n"  # a comment: clients skip it, proxies see traffic

    def complete(self) -> bytes:
        # With an (empty) data field: browsers drop events that have none.
        return b"event: complete\ndata:\n\n"


class MultipartSubscription(StreamFormat):
    def opening(self) -> bytes:
        return b"\r\n--" + BOUNDARY.encode()

    def _part(self, body: object) -> bytes:
        return (
            b"\r\ncontent-type: application/json; charset=utf-8\r\n\r\n"
            + orjson.dumps(body)
            + b"\r\n--"
            + BOUNDARY.encode()
        )

    def result(self, body: dict[str, Any]) -> bytes:
        return self._part({"payload": body})

    def heartbeat(self) -> bytes:
        return self._part({})

    def complete(self) -> bytes:
        return b"--\r\n"

    def fatal(self, error: dict[str, Any]) -> bytes:
        """A transport-level error, which Apollo Client reports as a protocol error."""
        return self._part({"payload": None, "errors": [error]}) + self.complete()


SSE = ServerSentEvents(
    name="sse", content_type=f"{EVENT_STREAM}; charset=utf-8", heartbeat_seconds=12.0
)
# Apollo Router's header and heartbeat period, which Apollo Client expects.
MULTIPART = MultipartSubscription(
    name="multipart",
    content_type=f'{MULTIPART_MIXED};boundary="{BOUNDARY}";subscriptionSpec="1.0"',
    heartbeat_seconds=5.0,
)


def _parameters(pieces: list[str]) -> dict[str, str]:
    parameters = {}
    for piece in pieces:
        name, _, value = piece.partition("=")
        parameters[name.strip().lower()] = value.strip().strip("\"'")
    return parameters


def stream_format(accept: str | None) -> StreamFormat | None:
    """The streaming format the Accept header asks for, or None for an ordinary answer.

    SSE only when `text/event-stream` is named and no JSON type is liked better, so
    `application/json` requests never stream; multipart only with Apollo's
    `subscriptionSpec` parameter (a plain `multipart/mixed` is `@defer`'s, not served).
    """
    if not accept or ("event-stream" not in accept and "subscriptionspec" not in accept.lower()):
        return None  # the usual request, decided without parsing
    best_json, event_stream = 0.0, 0.0
    for part in accept.split(","):
        media, *pieces = (piece.strip() for piece in part.split(";"))
        parameters = _parameters(pieces)
        try:
            quality = float(parameters.get("q", "1"))
        except ValueError:
            quality = 0.0
        media = media.lower()
        if media == MULTIPART_MIXED and parameters.get("subscriptionspec", "").startswith("1.0"):
            return MULTIPART if quality > 0 else None
        if media == EVENT_STREAM:
            event_stream = quality
        elif media in ("application/json", "application/graphql-response+json"):
            best_json = max(best_json, quality)
    return SSE if event_stream > 0 and event_stream >= best_json else None
