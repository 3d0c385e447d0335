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

from blog_graphql.accounts.loaders import load_users
from blog_graphql.accounts.models import User
from blog_graphql.config import Settings
from blog_graphql.db import Database
from blog_graphql.posts.loaders import load_tags
from blog_graphql.posts.models import Tag
from blog_graphql.state import AppState

K = TypeVar("K")
V = TypeVar("V")


def loader(
    db: Database, batch: Callable[[Database, Sequence[K]], Coroutine[Any, Any, list[V]]]
) -> DataLoader[K, V]:
    """A request-scoped DataLoader over a plain `(db, keys) -> values` function."""
    return DataLoader(batch_load_fn=partial(batch, db))


@dataclass
class Loaders:
    """Every loader of a request, on one screen."""

    user: DataLoader[int, User | None]
    tag: DataLoader[int, Tag | None]

    @classmethod
    def create(cls, db: Database) -> Loaders:
        return cls(user=loader(db, load_users), tag=loader(db, load_tags))


@dataclass
class Context:
    state: AppState
    loaders: Loaders
    viewer: User | None = None
    session_id: str | None = None  # the viewer's login session, for logout and password changes
    request: Request | WebSocket | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def db(self) -> Database:
        return self.state.db

    @property
    def settings(self) -> Settings:
        return self.state.settings

    @classmethod
    def create(
        cls,
        state: AppState,
        *,
        viewer: User | None = None,
        request: Request | WebSocket | None = None,
    ) -> Context:
        return cls(state=state, loaders=Loaders.create(state.db), viewer=viewer, request=request)


__all__ = ["Context", "Info", "Loaders", "Tag", "User"]


Info = strawberry.Info[Context, None]
