"""The batch resolvers of `User.bookmarks` and `Post.viewerHasBookmarked`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from blog_graphql.bookmarks.loaders import BOOKMARK_CURSOR, bookmark_key
from blog_graphql.context import Context
from blog_graphql.posts.types import Post
from blog_graphql.relay.pagination import (
    Connection,
    Window,
    build_connection,
    nested_connections,
    page_window,
)


class Owner(Protocol):
    pk: int


async def bookmarks_of(
    context: Context,
    users: Sequence[Owner],
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[Post]]:
    """`User.bookmarks`: the viewer's own list; anyone else's reads as an empty list (a
    reading list is private: to others it does not exist, as API.md's visibility asks)."""
    # Bad arguments fail for anyone.
    window = page_window(BOOKMARK_CURSOR, first=first, after=after, last=last, before=before)
    viewer = context.viewer
    own = [user.pk for user in users if viewer is not None and user.pk == viewer.id]
    loaders = context.loaders
    pages = await nested_connections(
        loaders.bookmarks, loaders.bookmark_count, parents=own, first=first, after=after,
        last=last, before=before, shape=BOOKMARK_CURSOR, key=bookmark_key, node=Post.from_card,
    )  # fmt: skip
    by_owner = dict(zip(own, pages, strict=True))
    return [by_owner.get(user.pk) or _nothing(window) for user in users]


def _nothing(window: Window) -> Connection[Post]:
    async def zero() -> int:
        return 0

    return build_connection([], window=window, key=bookmark_key, node=Post.from_card, count=zero)
