"""GraphQL over HTTP requests, read strictly: media types, methods and parameters.

Anything that is not a well-formed GraphQL-over-HTTP request becomes a `RequestRefused`
with its HTTP status and a clear message, never an exception further down.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from starlette.datastructures import QueryParams
from starlette.requests import ClientDisconnect, Request

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"


class RequestRefused(Exception):
    """Not a GraphQL request we serve; `status` is the HTTP answer."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True)
class GraphQLParams:
    query: str | None  # None only for a persisted document (see http/persisted.py)
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] | None = None
    document_id: str | None = None
    files: tuple[Any, ...] = ()  # uploaded files (`http/uploads.py`), closed after the request


def _media_ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        media, *parameters = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media:
            ranges.append((media.lower(), quality))
    return ranges


def _quality(offer: str, ranges: list[tuple[str, float]]) -> float:
    """The quality of the most specific range matching `offer` (RFC 9110, 12.5.1)."""
    kind = offer.split("/")[0]
    for candidate in (offer, f"{kind}/*", "*/*"):
        for media, quality in ranges:
            if media == candidate:
                return quality
    return 0.0


@lru_cache(maxsize=256)  # clients send a handful of Accept headers, on every request
def negotiate(accept: str | None) -> str:
    """The response media type for an Accept header; none at all means `application/json`.

    The spec's type when it is asked for by name (and liked no less than JSON); plain JSON
    for wildcards, which is what older clients sending `*/*` understand.
    """
    if not accept or not accept.strip():
        return JSON
    ranges = _media_ranges(accept)
    preferred, legacy = _quality(GRAPHQL_RESPONSE_JSON, ranges), _quality(JSON, ranges)
    if preferred <= 0 and legacy <= 0:
        raise RequestRefused(406, f"Not acceptable: answers are {JSON} or {GRAPHQL_RESPONSE_JSON}.")
    named = any(media == GRAPHQL_RESPONSE_JSON for media, _ in ranges)
    if legacy <= 0 or (named and preferred >= legacy):
        return GRAPHQL_RESPONSE_JSON
    return JSON


def authorization_of(request: Request) -> str | None:
    """The request's one `Authorization` header. Two are refused, never one picked: a proxy
    or a client that adds its own would otherwise decide who the request runs as."""
    values = request.headers.getlist("authorization")
    if len(values) > 1:
        raise RequestRefused(400, "Send one Authorization header, not several.")
    return values[0] if values else None


def wants_html(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


async def read_params(request: Request) -> GraphQLParams:
    if request.method == "GET":
        return _from_query_string(request.query_params)
    return _from_body(await _json_body(request))


async def _json_body(request: Request) -> object:
    # Only JSON: a browser can send text/plain, forms and multipart across origins without
    # a preflight, so accepting them would let any page post operations (CSRF).
    media, _, parameters = request.headers.get("content-type", "").partition(";")
    if media.strip().lower() != JSON:
        raise RequestRefused(415, f"Unsupported content type: send {JSON}.")
    if "charset" in parameters.lower() and "utf-8" not in parameters.lower():
        raise RequestRefused(415, "Unsupported charset: send UTF-8.")
    body = await read_body(request)
    if not body.strip():
        raise RequestRefused(400, "The request body is empty: send a JSON object with a query.")
    try:
        return orjson.loads(body)  # also refuses invalid UTF-8 and nesting past 1024 levels
    except orjson.JSONDecodeError as error:
        raise RequestRefused(400, f"The request body is not valid JSON: {error.msg}.") from None


async def read_body(request: Request) -> bytes:
    """The whole body, read as `Request.body` reads it but without its async generator
    and `aclosing` (a dozen Python calls on every POST). Only this module reads bodies."""
    chunks = []
    while True:
        message = await request.receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)
        elif message["type"] == "http.disconnect":
            raise ClientDisconnect


def _from_body(data: object) -> GraphQLParams:
    if isinstance(data, list):
        raise RequestRefused(400, "Batched operations are not supported: send one object.")
    if not isinstance(data, dict):
        raise RequestRefused(400, "The request body must be a JSON object with a query.")
    return _params(data)


def params_of(data: dict[str, Any], files: tuple[Any, ...]) -> GraphQLParams:
    """The parameters of a decoded request body that came with uploaded files."""
    params = _params(data)
    return GraphQLParams(
        query=params.query,
        variables=params.variables,
        operation_name=params.operation_name,
        extensions=params.extensions,
        document_id=params.document_id,
        files=files,
    )


def _from_query_string(params: QueryParams) -> GraphQLParams:
    data: dict[str, Any] = dict(params)
    for name in ("variables", "extensions"):
        if data.get(name):
            data[name] = _decode_parameter(name, data[name])
        else:
            data.pop(name, None)
    return _params(data)


def _decode_parameter(name: str, text: str) -> object:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise RequestRefused(400, f"The {name} parameter is not valid JSON.") from None


def _params(data: dict[str, Any]) -> GraphQLParams:
    query = data.get("query")
    _expect(query, str, "query", "a string")
    _expect(data.get("variables"), dict, "variables", "an object")
    _expect(data.get("operationName"), str, "operationName", "a string")
    _expect(data.get("extensions"), dict, "extensions", "an object")
    _expect(data.get("documentId"), str, "documentId", "a string")
    extensions = data.get("extensions")
    persisted = data.get("documentId") is not None or "persistedQuery" in (extensions or {})
    if query is None and not persisted:
        raise RequestRefused(400, "The query parameter is missing.")
    return GraphQLParams(
        query=query,
        variables=data.get("variables"),
        operation_name=data.get("operationName"),
        extensions=extensions,
        document_id=data.get("documentId"),
    )


def _expect(value: object, kind: type, name: str, description: str) -> None:
    if value is not None and not isinstance(value, kind):
        raise RequestRefused(400, f"The {name} parameter must be {description} or null.")
