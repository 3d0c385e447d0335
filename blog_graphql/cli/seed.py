"""A deterministic demo data set, written with bulk inserts."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from slugify import slugify
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from blog_graphql.accounts.models import User
from blog_graphql.accounts.passwords import hash_password_sync
from blog_graphql.comments.models import Comment
from blog_graphql.db.database import Database
from blog_graphql.posts.markdown import make_excerpt, render_markdown
from blog_graphql.posts.models import Post, PostTag, Tag

SEED_PASSWORD = "Password123"  # every seeded user's password, for trying the API
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
BATCH = 5000
REPLY_SHARE = 0.3
WORDS = tuple(
    """graph query python async schema resolver cursor token blog post comment tag reader
    writer editor server client cache index batch stream event socket signal pattern model
    design ship fast simple clear robust gentle quiet bright river stone cloud garden""".split()
)
TAG_NAMES = tuple(
    """Python GraphQL Databases Async Testing Design Security Performance Web DevOps
    Rust Go TypeScript Linux Cloud Data Machine-Learning APIs Tutorials Opinion""".split()
)
COLORS = ("#ef4444", "#f59e0b", "#10b981", "#3b82f6", "#8b5cf6", "#ec4899", "#14b8a6")


@dataclass(frozen=True)
class SeedSize:
    users: int
    posts: int
    comments: int
    tags: int = 50


@dataclass
class SeedReport:
    size: SeedSize
    seconds: float


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize()


def _tag_name(n: int) -> str:
    base = TAG_NAMES[n % len(TAG_NAMES)]
    return base if n < len(TAG_NAMES) else f"{base}-{n // len(TAG_NAMES) + 1}"


async def _next_id(session: AsyncSession, column: Any) -> int:
    return int(await session.scalar(select(func.coalesce(func.max(column), 0)))) + 1


async def _bulk(session: AsyncSession, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        await session.execute(insert(table), list(rows[start : start + BATCH]))


class Seeder:
    """Builds rows with explicit ids so relations need no round trip per row."""

    def __init__(self, rng: random.Random, password_hash: str) -> None:
        self.rng = rng
        self.password_hash = password_hash

    def users(self, first_id: int, count: int) -> list[dict[str, Any]]:
        return [
            {
                "id": id_,
                "username": f"user{id_}",
                "email": f"user{id_}@example.com",
                "password_hash": self.password_hash,
                "full_name": f"{self.rng.choice(WORDS).title()} {self.rng.choice(WORDS).title()}",
                "bio": _sentence(self.rng, 8),
                "is_active": True,
                "is_admin": False,
                "email_verified": True,
                "created_at": EPOCH,
                "updated_at": EPOCH,
            }
            for id_ in range(first_id, first_id + count)
        ]

    def tags(self, first_id: int, count: int) -> list[dict[str, Any]]:
        rows = []
        for id_ in range(first_id, first_id + count):
            name = _tag_name(id_ - 1)
            color = COLORS[id_ % len(COLORS)]
            rows.append({"id": id_, "name": name, "slug": slugify(name), "color": color})
        return rows

    def posts(self, first_id: int, count: int, user_ids: range) -> Iterator[dict[str, Any]]:
        for id_ in range(first_id, first_id + count):
            title = _sentence(self.rng, self.rng.randint(3, 8))
            content = "\n\n".join(_sentence(self.rng, 40) for _ in range(3))
            html = render_markdown(content)
            published = self.rng.random() < 0.9
            created = EPOCH + timedelta(minutes=id_ * 7)
            yield {
                "id": id_,
                "author_id": self.rng.choice(user_ids),
                "title": title,
                "slug": f"{slugify(title)[:200]}-{id_}",
                "excerpt": make_excerpt(html),
                "content": content,
                "content_html": html,
                "published": published,
                "published_at": created + timedelta(hours=1) if published else None,
                "feed_at": created + timedelta(hours=1) if published else created,
                "created_at": created,
                "updated_at": created,
            }

    def post_tags(self, post_ids: range, tag_ids: range) -> list[dict[str, Any]]:
        return [
            {"post_id": post_id, "tag_id": tag_id}
            for post_id in post_ids
            for tag_id in self.rng.sample(tag_ids, k=min(len(tag_ids), self.rng.randint(1, 3)))
        ]

    def comments(
        self, first_id: int, count: int, post_ids: range, user_ids: range
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        latest_on_post: dict[int, list[int]] = {}
        for id_ in range(first_id, first_id + count):
            post_id = self.rng.choice(post_ids)
            earlier = latest_on_post.setdefault(post_id, [])
            parent = (
                self.rng.choice(earlier) if earlier and self.rng.random() < REPLY_SHARE else None
            )
            created = EPOCH + timedelta(days=30, seconds=id_ * 13)
            rows.append({
                "id": id_, "post_id": post_id, "author_id": self.rng.choice(user_ids),
                "parent_id": parent, "content": _sentence(self.rng, 12), "is_approved": True,
                "created_at": created, "updated_at": created,
            })  # fmt: skip
            earlier.append(id_)
        return rows


async def seed(db: Database, size: SeedSize, random_seed: int, bcrypt_rounds: int) -> SeedReport:
    started = time.perf_counter()
    seeder = Seeder(random.Random(random_seed), hash_password_sync(SEED_PASSWORD, bcrypt_rounds))
    async with db.transaction() as session:
        user_ids = await _insert(session, User, lambda first: seeder.users(first, size.users))
        tag_ids = await _insert(session, Tag, lambda first: seeder.tags(first, size.tags))
        post_ids = await _insert(
            session, Post, lambda first: list(seeder.posts(first, size.posts, user_ids))
        )
        if tag_ids:
            await _bulk(session, PostTag, seeder.post_tags(post_ids, tag_ids))
        if post_ids:
            await _insert(
                session,
                Comment,
                lambda first: seeder.comments(first, size.comments, post_ids, user_ids),
            )
        if db.dialect == "postgresql":
            await _reset_sequences(session)
    return SeedReport(size=size, seconds=time.perf_counter() - started)


async def _insert(session: AsyncSession, model: Any, build: Any) -> range:
    first = await _next_id(session, model.id)
    rows = build(first)
    await _bulk(session, model, rows)
    return range(first, first + len(rows))


async def _reset_sequences(session: AsyncSession) -> None:
    # Explicit ids leave PostgreSQL's sequences behind; move them past the new rows.
    for table in ("users", "tags", "posts", "comments"):
        await session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        )
