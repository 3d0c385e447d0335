"""URL slugs: transliterated from any script, unique by appending `-2`, `-3`, ..."""

from __future__ import annotations

from itertools import count

from slugify import slugify
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

CANDIDATES_PER_QUERY = 20


def base_slug(text: str, *, max_length: int) -> str:
    """`Crème brûlée!` -> `creme-brulee`; empty when `text` has no letter or digit."""
    return str(slugify(text, max_length=max_length, word_boundary=True))


def _candidates(base: str, start: int) -> list[str]:
    return [base if n == 1 else f"{base}-{n}" for n in range(start, start + CANDIDATES_PER_QUERY)]


async def unique_slug(
    session: AsyncSession,
    column: InstrumentedAttribute[str],
    base: str,
    *,
    others: ColumnElement[bool] | None = None,
) -> str:
    """The first of `base`, `base-2`, `base-3`, ... that no row (among `others`) uses.

    Each query asks for a batch of exact candidates, so it is served by the unique index
    whatever the collation. On PostgreSQL, writers choosing a slug from one base take
    turns (a transaction-scoped advisory lock), so twenty posts of one title written at
    once each get the next free slug instead of racing for the same one. SQLite writes
    one transaction at a time anyway. Should a writer still lose a race (a slug from
    another base), the unique constraint fails the transaction and the caller retries it.
    """
    await _take_turns(session, column, base)
    for start in count(1, CANDIDATES_PER_QUERY):
        candidates = _candidates(base, start)
        query = select(column).where(column.in_(candidates))
        if others is not None:
            query = query.where(others)
        taken = set(await session.scalars(query))
        free = [slug for slug in candidates if slug not in taken]
        if free:
            return free[0]
    raise AssertionError("unreachable")  # pragma: no cover


async def _take_turns(session: AsyncSession, column: InstrumentedAttribute[str], base: str) -> None:
    """Wait for other transactions choosing a slug of `column` from `base` to end."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    name = f"{column.class_.__tablename__}.{column.key}"
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtext(name), func.hashtext(base)))
    )
