"""Tags by name: matched ignoring case, created on first use with a slug and a colour."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from blog_graphql.errors import InvalidInput
from blog_graphql.posts.models import Tag
from blog_graphql.posts.slugs import base_slug, unique_slug

MAX_TAGS_PER_POST = 10
MAX_TAG_NAME_LENGTH = 50
TAG_SLUG_LENGTH = 50
# Readable on light and dark backgrounds; a tag keeps the colour its slug hashes to.
PALETTE = (
    "#ef4444", "#f97316", "#f59e0b", "#84cc16", "#10b981", "#14b8a6",
    "#06b6d4", "#3b82f6", "#6366f1", "#8b5cf6", "#d946ef", "#ec4899",
)  # fmt: skip


def tag_color(slug: str) -> str:
    return PALETTE[zlib.crc32(slug.encode()) % len(PALETTE)]


def clean_tag_names(names: Sequence[str]) -> list[str]:
    """Trimmed names, the first spelling of each kept; BAD_USER_INPUT on `tags` if unusable."""
    distinct: dict[str, str] = {}
    for raw in names:
        name = " ".join(raw.replace("\x00", "").split())
        if not name or len(name) > MAX_TAG_NAME_LENGTH:
            raise InvalidInput({"tags": f"Tag names have 1 to {MAX_TAG_NAME_LENGTH} characters."})
        if not base_slug(name, max_length=TAG_SLUG_LENGTH):
            raise InvalidInput({"tags": f"Tag {name!r} needs a letter or a digit."})
        distinct.setdefault(name.casefold(), name)
    if len(distinct) > MAX_TAGS_PER_POST:
        raise InvalidInput({"tags": f"A post has at most {MAX_TAGS_PER_POST} tags."})
    return list(distinct.values())


async def tags_named(session: AsyncSession, names: Sequence[str]) -> list[Tag]:
    """The tags called `names` (ignoring case), creating the missing ones, in input order.

    Names are matched by the database's own `lower()`, which its unique index compares:
    Python's casefold disagrees with it on some letters (PostgreSQL lowers `İstanbul` to
    `istanbul`, Python to `i̇stanbul`), and a tag missed that way would be created twice.
    """
    if not names:
        return []
    keys: Sequence[str] = (await session.execute(select(*map(func.lower, names)))).one()
    rows = await session.execute(
        select(Tag, func.lower(Tag.name)).where(func.lower(Tag.name).in_(set(keys)))
    )
    by_key: dict[str, Tag] = {key: tag for tag, key in rows}
    tags: list[Tag] = []
    for name, key in zip(names, keys, strict=True):
        if key not in by_key:
            by_key[key] = await _new_tag(session, name)
        if by_key[key] not in tags:  # two spellings the database holds for one
            tags.append(by_key[key])
    return tags


async def _new_tag(session: AsyncSession, name: str) -> Tag:
    slug = await unique_slug(session, Tag.slug, base_slug(name, max_length=TAG_SLUG_LENGTH))
    tag = Tag(name=name, slug=slug, color=tag_color(slug))
    session.add(tag)
    await session.flush()  # so that the next new tag sees this slug as taken
    return tag
