"""The per-request context: the viewer, the database and every loader, built once."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import strawberry
from aiodataloader import DataLoader
from starlette.requests import Request
from starlette.websockets import WebSocket

from blog_graphql import observability
from blog_graphql.accounts.loaders import load_users
from blog_graphql.accounts.models import User
from blog_graphql.comments import loaders as comments
from blog_graphql.config import Settings
from blog_graphql.db import Database
from blog_graphql.keyset import AnyRow
from blog_graphql.live.sockets import LiveSocket
from blog_graphql.pagination import PageKey
from blog_graphql.posts import loaders as posts
from blog_graphql.posts.models import Tag
from blog_graphql.state import AppState

K = TypeVar("K")
V = TypeVar("V")


def loader(
    db: Database, batch: Callable[[Database, Sequence[K]], Coroutine[Any, Any, list[V]]]
) -> DataLoader[K, V]:
    """A request-scoped DataLoader over a plain `(db, keys) -> values` function."""
    name = observability.loader_name(batch)
    return DataLoader(batch_load_fn=observability.observed_batch(name, partial(batch, db)))


def viewer_loader(
    db: Database,
    viewer: User | None,
    batch: Callable[[Database, User | None, Sequence[K]], Coroutine[Any, Any, list[V]]],
) -> DataLoader[K, V]:
    """A DataLoader whose batch function applies the viewer's visibility rules in SQL."""
    name = observability.loader_name(batch)
    return DataLoader(batch_load_fn=observability.observed_batch(name, partial(batch, db, viewer)))


Rows = Sequence[AnyRow]


@dataclass
class Loaders:
    """Every loader of a request, on one screen."""

    user: DataLoader[int, User | None]
    tag: DataLoader[int, Tag | None]
    post: DataLoader[int, AnyRow | None]
    post_body: DataLoader[int, AnyRow | None]
    tags_of_post: DataLoader[int, Rows]
    posts_of_author: DataLoader[PageKey, Rows]
    post_count_of_author: DataLoader[int, int]
    posts_of_tag: DataLoader[PageKey, Rows]
    post_count_of_tag: DataLoader[int, int]
    comment: DataLoader[int, AnyRow | None]
    comments_of_post: DataLoader[PageKey, Rows]
    comment_total: DataLoader[int, int]
    comment_count: DataLoader[int, int]
    replies: DataLoader[PageKey, Rows]
    reply_count: DataLoader[int, int]

    @classmethod
    def create(cls, db: Database, viewer: User | None = None) -> Loaders:
        def seen_by_viewer(batch: Any) -> DataLoader[Any, Any]:
            return viewer_loader(db, viewer, batch)

        loaders = cls(
            user=loader(db, load_users),
            tag=loader(db, posts.load_tags),
            post=seen_by_viewer(posts.load_posts),
            post_body=loader(db, posts.load_post_bodies),
            tags_of_post=loader(db, posts.load_tags_of_posts),
            posts_of_author=seen_by_viewer(posts.load_posts_of_authors),
            post_count_of_author=seen_by_viewer(posts.count_posts_of_authors),
            posts_of_tag=seen_by_viewer(posts.load_posts_of_tags),
            post_count_of_tag=seen_by_viewer(posts.count_posts_of_tags),
            comment=seen_by_viewer(comments.load_comments),
            comments_of_post=seen_by_viewer(comments.load_comments_of_posts),
            comment_total=seen_by_viewer(comments.count_comments_of_posts),
            comment_count=seen_by_viewer(comments.count_live_comments),
            replies=seen_by_viewer(comments.load_replies),
            reply_count=seen_by_viewer(comments.count_replies),
        )
        if viewer is not None:
            loaders.user.prime(viewer.id, viewer)
        return loaders


@dataclass
class Context:
    """Who asks, and the loaders that answer as that viewer: change the viewer only
    through `use_viewer`, which rebuilds them."""

    state: AppState
    loaders: Loaders
    viewer: User | None = None
    session_id: str | None = None  # the viewer's login session, for logout and password changes
    request: Request | WebSocket | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    extra: dict[str, Any] = field(default_factory=dict)
    live: LiveSocket | None = None  # the WebSocket of a subscription
    connection_params: dict[str, Any] | None = None  # its connection_init payload

    @property
    def db(self) -> Database:
        return self.state.db

    @property
    def settings(self) -> Settings:
        return self.state.settings

    def use_viewer(self, viewer: User | None) -> None:
        """Change who is asking (a WebSocket signs in after connecting): loaders filter by
        the viewer, so they are rebuilt with it."""
        self.viewer = viewer
        self.loaders = Loaders.create(self.db, viewer)

    @classmethod
    def create(
        cls,
        state: AppState,
        *,
        viewer: User | None = None,
        request: Request | WebSocket | None = None,
    ) -> Context:
        loaders = Loaders.create(state.db, viewer)
        return cls(state=state, loaders=loaders, viewer=viewer, request=request)


__all__ = ["Context", "Info", "Loaders", "Tag", "User"]


Info = strawberry.Info[Context, None]
