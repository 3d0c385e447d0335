"""Relay connections with keyset cursors: page sizes, opaque cursors, and the page shape."""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

import orjson
import strawberry

from blog_graphql.engine import batched
from blog_graphql.errors import InvalidInput

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

T = TypeVar("T")
Row = TypeVar("Row")
CursorValue = int | float | str | datetime
CursorKey = tuple[CursorValue, ...]


class PageKey(NamedTuple):
    """One parent's page: what a nested connection field asks its loader for. A named
    tuple, not a dataclass: loaders hash hundreds of keys a request, and a tuple hashes
    in C where a frozen dataclass calls its generated `__hash__`."""

    parent: int
    first: int
    after: CursorKey | None = None
    backward: bool = False  # `last`/`before`: `first` is then the size, `after` the cursor


async def start_cursors(_context: object, infos: Sequence[PageInfo]) -> list[str | None]:
    return [info.start_cursor() for info in infos]


async def end_cursors(_context: object, infos: Sequence[PageInfo]) -> list[str | None]:
    return [info.end_cursor() for info in infos]


@strawberry.type(description="Where a page stands in the whole list.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_key: strawberry.Private[CursorKey | None] = None
    end_key: strawberry.Private[CursorKey | None] = None

    # Resolvers, as `Edge.cursor` is: a cursor is made only where one is asked for.
    @strawberry.field()
    @batched(start_cursors)
    def start_cursor(self) -> str | None:
        return encode_cursor(self.start_key) if self.start_key is not None else None

    @strawberry.field()
    @batched(end_cursors)
    def end_cursor(self) -> str | None:
        return encode_cursor(self.end_key) if self.end_key is not None else None


async def cursors_of(_context: object, edges: Sequence[Edge[Any]]) -> list[str]:
    return [edge.cursor() for edge in edges]


@strawberry.type
class Edge(Generic[T]):
    key: strawberry.Private[CursorKey]

    # A resolver, not a stored value: made only where asked for (a feed's 120 edges
    # rarely are).
    @strawberry.field(description="Pass as `after` to get the items after this one.")
    @batched(cursors_of)
    def cursor(self) -> str:
        return encode_cursor(self.key)

    node: T


async def total_counts(_context: object, connections: Sequence[Connection[Any]]) -> list[int]:
    """`totalCount` of many connections: their counts are loader loads, batched together."""
    return list(await asyncio.gather(*(connection.count() for connection in connections)))


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many items the whole list holds for this viewer.")
    @batched(total_counts)
    async def total_count(self) -> int:
        return await self.count()


def page_size(first: int | None, argument: str = "first") -> int:
    """`first` defaults to 20; above 100 or below 0 is BAD_USER_INPUT."""
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise InvalidInput({argument: f"Use a number from 0 to {MAX_PAGE_SIZE}."})
    return first


class Window(NamedTuple):
    """Which page of a list a connection field asks for: `size` rows after `cursor`
    (forward: `first`/`after`), or before it, counted from the end (`last`/`before`).

    A backward page is read as a forward page in the reversed order (`Order.reversed`):
    the rows just before the cursor, nearest first, then turned round (`build_connection`).
    """

    size: int
    cursor: CursorKey | None = None
    backward: bool = False


def page_window(
    shape: Sequence[type],
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Window:
    """The page asked for, checked: `last` or `before` pages backwards; mixing a
    direction's arguments with the other's is BAD_USER_INPUT (`last` with `first`, or
    `before` with `after`); `last` is at most 100 as `first` is."""
    if last is not None and first is not None:
        raise InvalidInput({"last": "Use either first or last, not both."})
    if before is not None and after is not None:
        raise InvalidInput({"before": "Use either after or before, not both."})
    if last is None and before is None:
        return Window(page_size(first), decode_cursor(after, shape))
    if first is not None:
        raise InvalidInput({"first": "Use last with before."})
    if after is not None:
        raise InvalidInput({"after": "Use after with first, before with last."})
    return Window(page_size(last, "last"), decode_cursor(before, shape, "before"), backward=True)


def encode_cursor(key: CursorKey) -> str:
    values = [value.isoformat() if isinstance(value, datetime) else value for value in key]
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode("ascii")


def decode_cursor(
    cursor: str | None, shape: Sequence[type], argument: str = "after"
) -> CursorKey | None:
    """The sort key inside `cursor`, checked against `shape`; malformed is BAD_USER_INPUT
    on `argument`."""
    if cursor is None:
        return None
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
        if not isinstance(values, list) or len(values) != len(shape):
            raise ValueError("wrong length")
        return tuple(_coerce(value, kind) for value, kind in zip(values, shape, strict=True))
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError, UnicodeError):
        raise InvalidInput({argument: "Malformed cursor."}) from None


def _coerce(value: object, kind: type) -> CursorValue:
    if kind is datetime and isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive timestamp")
        return parsed
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is str and isinstance(value, str):
        return value
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise ValueError("unexpected cursor value")


def build_connection(
    rows: Sequence[Row],
    *,
    first: int | None = None,
    after: str | None = None,
    window: Window | None = None,
    key: Callable[[Row], CursorKey],
    node: Callable[[Row], T],
    count: Callable[[], Awaitable[int]],
) -> Connection[T]:
    """A page from `rows` fetched with `LIMIT size + 1` (the extra row means "more"): a
    forward page of `first` rows after `after`, or the page `window` asks for, whose rows
    come nearest the cursor first when it pages backwards."""
    if window is None:
        window = Window(first if first is not None else DEFAULT_PAGE_SIZE)
        from_cursor = after is not None
    else:
        from_cursor = window.cursor is not None
    size = window.size
    kept = rows[:size]
    if window.backward:
        kept = kept[::-1]
    edges = [Edge(key=key(row), node=node(row)) for row in kept]
    more = len(rows) > size
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=from_cursor if window.backward else more,
            has_previous_page=more if window.backward else from_cursor,
            start_key=edges[0].key if edges else None,
            end_key=edges[-1].key if edges else None,
        ),
        count=count,
    )


class PageLoader(Protocol):
    """A loader of nested pages (`load_<things>_of_<parents>`) and one of their counts."""

    def load(self, key: Any) -> Awaitable[Any]: ...

    def load_many(self, keys: Sequence[Any]) -> Awaitable[list[Any]]: ...


async def nested_connections(
    pages: PageLoader,
    counts: PageLoader,
    *,
    parents: Sequence[int],
    first: int | None,
    after: str | None,
    shape: Sequence[type],
    key: Callable[[Any], CursorKey],
    node: Callable[[Any], T],
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[T]]:
    """A connection field under each parent object, one page per parent, batched by the
    loaders with every other parent asking in the same tick; backwards with `last`/`before`
    (the page loaders read `PageKey.backward` pages with `fetch_pages`)."""
    window = page_window(shape, first=first, after=after, last=last, before=before)
    keys = [PageKey(parent, window.size, window.cursor, window.backward) for parent in parents]
    rows_of = await pages.load_many(keys)
    return [
        build_connection(
            rows, window=window, key=key, node=node, count=partial(counts.load, parent)
        )
        for parent, rows in zip(parents, rows_of, strict=True)
    ]
