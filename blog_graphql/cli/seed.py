"""A deterministic demo data set, written with bulk inserts, into a new or a used database.

In a used one it reuses the tags it would create and gives a seeded user whose name or
email someone already has the first free `-2`, `-3`... variant.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
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
    tags_reused: int = 0


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

    def tags(self, first_id: int, names: Sequence[str]) -> list[dict[str, Any]]:
        rows = []
        for id_, name in enumerate(names, start=first_id):
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

    def post_tags(self, post_ids: range, tag_ids: Sequence[int]) -> list[dict[str, Any]]:
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
        users = seeder.users(await _next_id(session, User.id), size.users)
        user_ids = await _insert_rows(session, User, await _untaken_users(session, users))
        tag_ids, tags_reused = await _tags(session, seeder, size.tags)
        posts = list(seeder.posts(await _next_id(session, Post.id), size.posts, user_ids))
        for post, slug in zip(
            posts, await _untaken(session, Post.slug, _slugs(posts)), strict=True
        ):
            post["slug"] = slug
        post_ids = await _insert_rows(session, Post, posts)
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
        # Fresh statistics for the planner: PostgreSQL may run without autovacuum, and a
        # table it believes empty gets plans that crawl once it holds thousands of rows.
        await session.execute(text("ANALYZE"))
    return SeedReport(size=size, seconds=time.perf_counter() - started, tags_reused=tags_reused)


async def _insert(session: AsyncSession, model: Any, build: Any) -> range:
    first = await _next_id(session, model.id)
    return await _insert_rows(session, model, build(first))


async def _insert_rows(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> range:
    """Rows whose ids run on from the table's highest (as the builders number them)."""
    await _bulk(session, model, rows)
    first = rows[0]["id"] if rows else 1
    return range(first, first + len(rows))


async def _tags(session: AsyncSession, seeder: Seeder, count: int) -> tuple[list[int], int]:
    """The ids of the `count` seed tags, in order: existing ones reused (same name, any case,
    or same slug), the others created; and how many were reused."""
    names = [_tag_name(n) for n in range(count)]
    existing: dict[str, int] = {}
    for start in range(0, len(names), BATCH):
        batch = names[start : start + BATCH]
        lowered, slugs = [name.lower() for name in batch], [slugify(name) for name in batch]
        found = await session.execute(
            select(Tag.id, func.lower(Tag.name), Tag.slug).where(
                func.lower(Tag.name).in_(lowered) | Tag.slug.in_(slugs)
            )
        )
        for id_, name, slug in found:
            existing[name] = existing[slug] = id_
    known = [existing.get(name.lower(), existing.get(slugify(name))) for name in names]
    new_names = [name for name, id_ in zip(names, known, strict=True) if id_ is None]
    created = iter(await _insert(session, Tag, lambda first: seeder.tags(first, new_names)))
    ids = [id_ if id_ is not None else next(created) for id_ in known]
    return ids, len(names) - len(new_names)


async def _untaken_users(session: AsyncSession, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    usernames = await _untaken(session, User.username, [row["username"] for row in rows])
    emails = await _untaken(
        session, User.email, [row["email"] for row in rows], variant=_email_variant
    )
    for row, username, email in zip(rows, usernames, emails, strict=True):
        row["username"], row["email"] = username, email
    return rows


def _slugs(posts: list[dict[str, Any]]) -> list[str]:
    return [post["slug"] for post in posts]


def _name_variant(name: str, number: int) -> str:
    return f"{name}-{number}"


def _email_variant(email: str, number: int) -> str:
    local, _, domain = email.partition("@")
    return f"{local}-{number}@{domain}"


async def _untaken(
    session: AsyncSession,
    column: Any,
    wanted: list[str],
    variant: Callable[[str, int], str] = _name_variant,
) -> list[str]:
    """`wanted`, each value the table already has (in any case) replaced by its first
    variant nobody has. A new database has none of them: one query per batch."""
    taken = await _taken(session, column, wanted)
    chosen = []
    for value in wanted:
        candidate, number = value, 1
        while candidate.lower() in taken:
            number += 1
            candidate = variant(value, number)
            taken |= await _taken(session, column, [candidate])
        taken.add(candidate.lower())
        chosen.append(candidate)
    return chosen


async def _taken(session: AsyncSession, column: Any, values: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(values), BATCH):
        lowered = [value.lower() for value in values[start : start + BATCH]]
        found.update(
            await session.scalars(select(func.lower(column)).where(func.lower(column).in_(lowered)))
        )
    return found


async def _reset_sequences(session: AsyncSession) -> None:
    # Explicit ids leave PostgreSQL's sequences behind; move them past the new rows.
    for table in ("users", "tags", "posts", "comments"):
        await session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        )
