"""The per-request context: the viewer, the database and every loader, built once."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine, Hashable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry
from starlette.requests import Request
from starlette.websockets import WebSocket

from blog_graphql.accounts.loaders import load_users
from blog_graphql.accounts.models import User
from blog_graphql.bookmarks import loaders as bookmarks
from blog_graphql.comments import loaders as comments
from blog_graphql.config.settings import Settings
from blog_graphql.db.database import Database
from blog_graphql.db.keyset import AnyRow
from blog_graphql.engine.loading import BatchLoader
from blog_graphql.follows import loaders as follows
from blog_graphql.live.sockets import LiveSocket
from blog_graphql.media import loaders as media
from blog_graphql.notifications import loaders as notifications
from blog_graphql.observability import wiring as observability
from blog_graphql.posts import loaders as posts
from blog_graphql.posts import revisions
from blog_graphql.posts.models import Tag
from blog_graphql.reactions import loaders as reactions
from blog_graphql.reactions.loaders import Tally
from blog_graphql.relay.pagination import PageKey

if TYPE_CHECKING:  # the state holds domain services; a request only reads it
    from blog_graphql.state import AppState


def new_request_id() -> str:
    return uuid.uuid4().hex


K = TypeVar("K")
V = TypeVar("V")


def loader(
    db: Database, batch: Callable[[Database, Sequence[K]], Coroutine[Any, Any, list[V]]]
) -> BatchLoader[K, V]:
    """A request-scoped loader over a plain `(db, keys) -> values` function."""
    name = observability.loader_name(batch)
    return BatchLoader(observability.observed_batch(name, partial(batch, db)))


def viewer_loader(
    db: Database,
    viewer: User | None,
    batch: Callable[[Database, User | None, Sequence[K]], Coroutine[Any, Any, list[V]]],
) -> BatchLoader[K, V]:
    """A loader whose batch function applies the viewer's visibility rules in SQL."""
    name = observability.loader_name(batch)
    return BatchLoader(observability.observed_batch(name, partial(batch, db, viewer)))


Rows = Sequence[AnyRow]


class Loaders:
    """Every loader of a request, on one screen; each is built when first used (most
    requests use a few or none, and a loader costs as much to build as a small query)."""

    def __init__(self, db: Database, viewer: User | None = None) -> None:
        self.db = db
        self.viewer = viewer

    @classmethod
    def create(cls, db: Database, viewer: User | None = None) -> Loaders:
        return cls(db, viewer)

    def _seen_by_viewer(self, batch: Any) -> BatchLoader[Any, Any]:
        return viewer_loader(self.db, self.viewer, batch)

    @cached_property
    def user(self) -> BatchLoader[int, AnyRow | User | None]:
        users: BatchLoader[int, AnyRow | User | None] = loader(self.db, load_users)
        if self.viewer is not None:
            users.prime(self.viewer.id, self.viewer)
        return users

    @cached_property
    def tag(self) -> BatchLoader[int, Tag | None]:
        return loader(self.db, posts.load_tags)

    @cached_property
    def post(self) -> BatchLoader[int, AnyRow | None]:
        return self._seen_by_viewer(posts.load_posts)

    @cached_property
    def post_body(self) -> BatchLoader[int, AnyRow | None]:
        return loader(self.db, posts.load_post_bodies)

    @cached_property
    def tags_of_post(self) -> BatchLoader[int, Rows]:
        return loader(self.db, posts.load_tags_of_posts)

    @cached_property
    def posts_of_author(self) -> BatchLoader[PageKey, Rows]:
        return self._seen_by_viewer(posts.load_posts_of_authors)

    @cached_property
    def post_count_of_author(self) -> BatchLoader[int, int]:
        return self._seen_by_viewer(posts.count_posts_of_authors)

    @cached_property
    def posts_of_tag(self) -> BatchLoader[PageKey, Rows]:
        return self._seen_by_viewer(posts.load_posts_of_tags)

    @cached_property
    def post_count_of_tag(self) -> BatchLoader[int, int]:
        return self._seen_by_viewer(posts.count_posts_of_tags)

    @cached_property
    def revision(self) -> BatchLoader[int, AnyRow | None]:
        return self._seen_by_viewer(revisions.load_revisions)

    @cached_property
    def revisions_of_post(self) -> BatchLoader[PageKey, Rows]:
        return self._seen_by_viewer(revisions.load_revisions_of_posts)

    @cached_property
    def revision_count_of_post(self) -> BatchLoader[int, int]:
        return self._seen_by_viewer(revisions.count_revisions_of_posts)

    @cached_property
    def image(self) -> BatchLoader[int, media.ImageRecord | None]:
        return loader(self.db, media.load_images)

    @cached_property
    def cover_of_post(self) -> BatchLoader[int, media.ImageRecord | None]:
        return loader(self.db, media.load_covers_of_posts)

    @cached_property
    def avatar_of_user(self) -> BatchLoader[int, media.ImageRecord | None]:
        return loader(self.db, media.load_avatars_of_users)

    @cached_property
    def comment(self) -> BatchLoader[int, AnyRow | None]:
        return self._seen_by_viewer(comments.load_comments)

    @cached_property
    def comments_of_post(self) -> BatchLoader[PageKey, Rows]:
        return self._seen_by_viewer(comments.load_comments_of_posts)

    @cached_property
    def comment_total(self) -> BatchLoader[int, int]:
        return self._seen_by_viewer(comments.count_comments_of_posts)

    @cached_property
    def comment_count(self) -> BatchLoader[int, int]:
        return self._seen_by_viewer(comments.count_live_comments)

    @cached_property
    def replies(self) -> BatchLoader[PageKey, Rows]:
        return self._seen_by_viewer(comments.load_replies)

    @cached_property
    def notification(self) -> BatchLoader[int, Any]:
        return self._seen_by_viewer(notifications.load_notifications)

    @cached_property
    def reply_count(self) -> BatchLoader[int, int]:
        return self._seen_by_viewer(comments.count_replies)

    @cached_property
    def post_reactions(self) -> BatchLoader[int, list[Tally]]:
        return self._seen_by_viewer(reactions.load_post_reactions)

    @cached_property
    def comment_reactions(self) -> BatchLoader[int, list[Tally]]:
        return self._seen_by_viewer(reactions.load_comment_reactions)

    @cached_property
    def bookmarked(self) -> BatchLoader[int, bool]:
        return self._seen_by_viewer(bookmarks.load_bookmarked)

    @cached_property
    def bookmarks(self) -> BatchLoader[PageKey, Rows]:
        return self._seen_by_viewer(bookmarks.load_bookmark_pages)

    @cached_property
    def bookmark_count(self) -> BatchLoader[int, int]:
        return self._seen_by_viewer(bookmarks.count_bookmarks)

    @cached_property
    def follower_count(self) -> BatchLoader[int, int]:
        return loader(self.db, follows.count_followers)

    @cached_property
    def following_count(self) -> BatchLoader[int, int]:
        return loader(self.db, follows.count_following)

    @cached_property
    def viewer_follows(self) -> BatchLoader[int, bool]:
        return self._seen_by_viewer(follows.load_viewer_follows)

    @cached_property
    def followers(self) -> BatchLoader[PageKey, Rows]:
        return loader(self.db, follows.load_followers)


@dataclass
class Context:
    """Who asks, and the loaders that answer as that viewer: change the viewer only
    through `use_viewer`, which rebuilds them."""

    state: AppState
    loaders: Loaders
    viewer: User | None = None
    session_id: str | None = None  # the viewer's login session, for logout and password changes
    request: Request | WebSocket | None = None
    request_id: str = field(default_factory=new_request_id)
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

    def viewer_key(self) -> Hashable:
        """Who reads, as far as any answer can tell: sockets with equal keys get equal
        answers to a live event (`engine/shared_events.py`)."""
        viewer = self.viewer
        return None if viewer is None else (viewer.id, viewer.is_admin)

    def next_event(self) -> None:
        """A subscription resolves each event with empty loaders: a socket lives for
        hours, so no stale rows and no cache growing all that time."""
        self.loaders = Loaders.create(self.db, self.viewer)

    @classmethod
    def create(
        cls,
        state: AppState,
        *,
        viewer: User | None = None,
        request: Request | WebSocket | None = None,
        request_id: str | None = None,
    ) -> Context:
        """`request_id`: the one the request already has (else a new one)."""
        return cls(
            state=state,
            loaders=Loaders.create(state.db, viewer),
            viewer=viewer,
            request=request,
            request_id=request_id or new_request_id(),
        )


__all__ = ["Context", "Info", "Loaders", "Tag", "User"]


Info = strawberry.Info[Context, None]
