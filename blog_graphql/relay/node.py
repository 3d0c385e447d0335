"""The Relay `Node` interface and the registry that lets `node(id:)` refetch any type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import strawberry
from strawberry.types import Info

from blog_graphql.engine import batched, same_for_every_viewer
from blog_graphql.relay.ids import encode_id, parse_id

NodeFetcher = Callable[[Info[Any, Any], int], Awaitable[Any]]
_FETCHERS: dict[str, NodeFetcher] = {}


def global_id(node: Node) -> strawberry.ID:
    """`base64("Type:pk")`; each Node type's class is named as its GraphQL type."""
    return strawberry.ID(encode_id(type(node).__name__, node.pk))


async def global_ids(_context: object, nodes: Sequence[Node]) -> list[strawberry.ID]:
    return [global_id(node) for node in nodes]


@strawberry.interface(description="An object with an opaque global id; `node(id:)` refetches it.")
class Node:
    pk: strawberry.Private[int]

    # A resolver, not a stored value: made only where asked for (a feed of 300 objects
    # shows none).
    @strawberry.field
    @same_for_every_viewer
    @batched(global_ids)
    def id(self) -> strawberry.ID:
        return global_id(self)


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
