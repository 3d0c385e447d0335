"""Small factories for test data, with sensible defaults."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from functools import lru_cache

from blog_graphql.accounts.models import User
from blog_graphql.accounts.passwords import hash_password_sync
from blog_graphql.accounts.sessions import open_session
from blog_graphql.comments import service as comments_service
from blog_graphql.comments.events import NO_EVENTS, CommentEvents
from blog_graphql.comments.models import Comment
from blog_graphql.config.settings import Settings
from blog_graphql.db.database import Database
from blog_graphql.posts import service as posts_service
from blog_graphql.posts.models import Post, Tag
from blog_graphql.posts.service import NewPost

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


async def create_post(
    db: Database,
    *,
    author: User,
    title: str | None = None,
    content: str = "Some *Markdown* content.",
    tags: Sequence[str] = (),
    published: bool = True,
    excerpt: str | None = None,
) -> Post:
    """A post written through the service, so slug, HTML, excerpt and tags are real."""
    new = NewPost(
        title=title or f"Post {next(_sequence)}",
        content=content,
        excerpt=excerpt,
        tags=tags,
        published=published,
    )
    return await posts_service.create_post(db, author, new)


async def create_comment(
    db: Database,
    *,
    post: Post,
    author: User,
    content: str = "Nice post.",
    parent: Comment | None = None,
    approved: bool = True,
    events: CommentEvents = NO_EVENTS,
) -> Comment:
    """A comment written through the service; `approved=False` waits for a moderator."""
    return await comments_service.add_comment(
        db,
        author,
        post_id=post.id,
        content=content,
        parent_id=parent.id if parent else None,
        moderation="post" if approved else "pre",
        events=events,
    )
