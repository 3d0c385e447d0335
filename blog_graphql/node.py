"""The Relay `Node` interface and the registry that lets `node(id:)` refetch any type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.types import Info

from blog_graphql.ids import parse_id

NodeFetcher = Callable[[Info[Any, Any], int], Awaitable[Any]]
_FETCHERS: dict[str, NodeFetcher] = {}


@strawberry.interface(description="An object with an opaque global id; `node(id:)` refetches it.")
class Node:
    id: strawberry.ID


def register_node(type_name: str) -> Callable[[NodeFetcher], NodeFetcher]:
    """Declare how to fetch one type by primary key, honouring the viewer's visibility."""

    def decorate(fetch: NodeFetcher) -> NodeFetcher:
        _FETCHERS[type_name] = fetch
        return fetch

    return decorate


async def resolve_node(info: Info[Any, Any], global_id: str) -> Any:
    type_name, pk = parse_id(global_id)
    fetch = _FETCHERS.get(type_name)
    return await fetch(info, pk) if fetch else None
