"""URL slugs: transliterated from any script, unique by appending `-2`, `-3`, ..."""

from __future__ import annotations

from itertools import count

from slugify import slugify
from sqlalchemy import ColumnElement, select
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
    whatever the collation. A concurrent writer may still take the same slug first; the
    unique constraint then fails the transaction and the caller retries it.
    """
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
