"""HTTP caching of anonymous query answers: the cache key, ETag, If-None-Match and 304.

Only an answer any client may be given is cached, by us or anyone on the way: a request
without `Authorization`, an operation that ran as a query, and an answer with no error
at all (an error may be passing: a rate limit, a failure; nothing in it is worth keeping).
Such an answer carries a strong ETag (a hash of its bytes) and `Cache-Control: public,
max-age=0, must-revalidate`: caches keep it but ask each time, and `If-None-Match` with
its ETag is answered 304 - from the response cache, without executing, when it holds
the answer. Everything else keeps `no-store` (see `endpoint.no_store_if_private`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from blog_graphql.http.response_cache import Answer
from blog_graphql.observability.metrics import RESPONSE_CACHE

CACHE_CONTROL = "public, max-age=0, must-revalidate"
# What else changes the answer: the media type it is sent as, and whether it is anyone's.
VARY = "Accept, Authorization"


def is_anonymous(request: Request) -> bool:
    return "authorization" not in request.headers


def cache_key(
    query: str, operation_name: str | None, variables: Mapping[str, Any] | None, media: str
) -> str:
    """The document's text, the operation, the variables in canonical JSON, the media type."""
    digest = hashlib.sha256()
    for part in (media, operation_name or "", query):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    digest.update(orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS))
    return digest.hexdigest()


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def answer_for(body: bytes, tables: frozenset[str], operation: str | None = None) -> Answer:
    return Answer(body, etag_of(body), frozenset(tables), operation)


def none_match(request: Request, etag: str) -> bool:
    """False when If-None-Match names `etag` or is `*` (RFC 9110 13.1.2: weak comparison,
    so `W/"x"` matches `"x"`): the client's copy is current."""
    header = request.headers.get("if-none-match")
    if header is None:
        return True
    if header.strip() == "*":
        return False
    wanted = _opaque(etag)
    return all(_opaque(tag) != wanted for tag in header.split(","))


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def cacheable_headers(response: Response, etag: str) -> Response:
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Vary"] = VARY
    return response


def answered(request: Request, answer: Answer, media: str) -> Response:
    """The answer, or 304 when the client already holds it."""
    if not none_match(request, answer.etag):
        RESPONSE_CACHE.labels("not_modified").inc()
        return cacheable_headers(Response(status_code=304), answer.etag)
    response = Response(answer.body, media_type=f"{media}; charset=utf-8")
    return cacheable_headers(response, answer.etag)
