"""The batch resolvers of the follow fields of `User` (`User.followerCount` ...)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from blog_graphql.accounts.types import User
from blog_graphql.context import Context
from blog_graphql.follows.loaders import FOLLOWER_CURSOR, follower_key
from blog_graphql.relay.pagination import Connection, nested_connections


class Person(Protocol):
    pk: int


async def follower_counts(context: Context, users: Sequence[Person]) -> list[int]:
    return await context.loaders.follower_count.load_many([user.pk for user in users])


async def following_counts(context: Context, users: Sequence[Person]) -> list[int]:
    return await context.loaders.following_count.load_many([user.pk for user in users])


async def viewer_follows(context: Context, users: Sequence[Person]) -> list[bool]:
    return await context.loaders.viewer_follows.load_many([user.pk for user in users])


async def followers_of(
    context: Context,
    users: Sequence[Person],
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[User]]:
    """`User.followers`: the latest first (`last`/`before`: from the earliest), a page per
    user, one statement for a level."""
    loaders = context.loaders
    return await nested_connections(
        loaders.followers, loaders.follower_count, parents=[user.pk for user in users],
        first=first, after=after, last=last, before=before, shape=FOLLOWER_CURSOR,
        key=follower_key, node=User.from_row,
    )  # fmt: skip
