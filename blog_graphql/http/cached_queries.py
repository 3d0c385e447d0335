"""Anonymous queries answered from the response cache, and their answers kept in it.

The endpoint asks `lookup` before executing (a hit is the whole answer, or a 304) and
hands `answered` every answer without errors; only one that ran as a query for an
anonymous request gets an ETag, and is stored when a response cache is configured. A hit
still spends the client's per-operation rate-limit budget, so the cache does not lift
the limit; per-field budgets, meant for costly fields, are not spent on a hit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from graphql import OperationType
from starlette.requests import Request
from starlette.responses import Response

from blog_graphql.db.table_tags import PROCESS_STATE
from blog_graphql.http.conditional import answer_for, answered, cache_key, is_anonymous
from blog_graphql.http.protocol import GraphQLParams
from blog_graphql.http.response_cache import ResponseCache, Snapshot
from blog_graphql.observability import request_info

Admit = Callable[[Request], Awaitable[int | None]]  # None, or the seconds to wait


@dataclass(frozen=True, slots=True)
class Lookup:
    key: str | None = None  # None: not a request the response cache may answer
    snapshot: Snapshot | None = None
    response: Response | None = None


NOT_CACHED = Lookup()


class CachedQueries:
    def __init__(self, cache: ResponseCache | None, admit: Admit) -> None:
        self.cache = cache
        self.admit = admit

    async def lookup(
        self, request: Request, params: GraphQLParams, query: str, media: str
    ) -> Lookup:
        if self.cache is None or not is_anonymous(request):
            return NOT_CACHED
        key = cache_key(query, params.operation_name, params.variables, media)
        answer, snapshot = await self.cache.lookup(key)
        if answer is None or await self.admit(request) is not None:
            return Lookup(key, snapshot)  # a limited client runs it, to be refused as always
        ran_as_query(request, answer.operation)
        return Lookup(key, snapshot, answered(request, answer, media))

    async def answered(
        self, request: Request, lookup: Lookup, response: Response, tables: frozenset[str]
    ) -> Response:
        """`response` (an answer without errors), cacheable if it ran as an anonymous query."""
        info = request_info.of(request.scope)
        query = info is not None and info.operation_type == OperationType.QUERY.value
        if not query or response.status_code != 200 or not is_anonymous(request):
            return response
        if PROCESS_STATE in tables:
            return response
        assert info is not None  # it ran as a query
        answer = answer_for(bytes(response.body), tables, info.operation)
        if self.cache is not None and lookup.key is not None and lookup.snapshot is not None:
            await self.cache.store(lookup.key, answer, lookup.snapshot)
        media = response.media_type or "application/json"
        return answered(request, answer, media.split(";")[0])


def ran_as_query(request: Request, operation_name: str | None) -> None:
    """What the access log and `no_store_if_private` learn from an executed query."""
    info = request_info.of(request.scope)
    if info is not None:
        info.operation_type = OperationType.QUERY.value
        info.operation = operation_name
