"""The batch resolvers of `User.bookmarks` and `Post.viewerHasBookmarked`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from blog_graphql.bookmarks.loaders import BOOKMARK_CURSOR, bookmark_key
from blog_graphql.context import Context
from blog_graphql.posts.types import Post
from blog_graphql.relay.pagination import (
    Connection,
    PageInfo,
    decode_cursor,
    nested_connections,
    page_size,
)


class Owner(Protocol):
    pk: int


async def bookmarks_of(
    context: Context, users: Sequence[Owner], first: int | None, after: str | None
) -> list[Connection[Post]]:
    """`User.bookmarks`: the viewer's own list; anyone else's reads as an empty list (a
    reading list is private: to others it does not exist, as API.md's visibility asks)."""
    page_size(first), decode_cursor(after, BOOKMARK_CURSOR)  # bad arguments fail for anyone
    viewer = context.viewer
    own = [user.pk for user in users if viewer is not None and user.pk == viewer.id]
    loaders = context.loaders
    pages = await nested_connections(
        loaders.bookmarks, loaders.bookmark_count, parents=own,
        first=first, after=after, shape=BOOKMARK_CURSOR, key=bookmark_key, node=Post.from_card,
    )  # fmt: skip
    by_owner = dict(zip(own, pages, strict=True))
    return [by_owner.get(user.pk) or _nothing(after) for user in users]


def _nothing(after: str | None) -> Connection[Post]:
    async def zero() -> int:
        return 0

    info = PageInfo(has_next_page=False, has_previous_page=after is not None)
    return Connection(edges=[], page_info=info, count=zero)
