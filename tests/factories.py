"""Small factories for test data, with sensible defaults."""

from __future__ import annotations

import itertools
from functools import lru_cache

from blog_graphql.accounts.models import User
from blog_graphql.accounts.passwords import hash_password_sync
from blog_graphql.accounts.sessions import open_session
from blog_graphql.config import Settings
from blog_graphql.db import Database
from blog_graphql.posts.models import Tag

DEFAULT_PASSWORD = "Secret123"
_sequence = itertools.count(1)


@lru_cache(maxsize=8)
def password_hash(password: str) -> str:
    return hash_password_sync(password, 4)


async def create_user(
    db: Database,
    *,
    username: str | None = None,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    is_admin: bool = False,
    is_active: bool = True,
    email_verified: bool = True,
    full_name: str | None = None,
) -> User:
    n = next(_sequence)
    username = username or f"user{n}"
    user = User(
        username=username,
        email=email or f"{username.lower()}@example.com",
        password_hash=password_hash(password),
        is_admin=is_admin,
        is_active=is_active,
        email_verified=email_verified,
        full_name=full_name,
    )
    async with db.transaction() as session:
        session.add(user)
    return user


async def create_tag(
    db: Database, *, name: str, slug: str | None = None, color: str = "#3b82f6"
) -> Tag:
    tag = Tag(name=name, slug=slug or name.lower(), color=color)
    async with db.transaction() as session:
        session.add(tag)
    return tag


async def auth_headers(db: Database, settings: Settings, user: User) -> dict[str, str]:
    """An `Authorization` header for a fresh login session of `user`."""
    async with db.transaction() as session:
        pair = open_session(session, settings, user_id=user.id)
    return {"Authorization": f"Bearer {pair.access_token}"}
