"""Keyset pages in SQL: one page of a list, or a page per parent for many parents at once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from sqlalchemy import ColumnElement, Row, Select, SQLColumnExpression, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from blog_graphql.db import Database
from blog_graphql.pagination import CursorKey, PageKey

# SQLAlchemy 2.1 types rows and selects by their column types; these take any columns.
AnyRow: TypeAlias = Row[*tuple[Any, ...]]
AnySelect: TypeAlias = Select[*tuple[Any, ...]]

PARENT = "page_parent"
ROW_NUMBER = "page_row_number"


@dataclass(frozen=True)
class Order:
    """A total order over rows (its last column must be unique) and the keyset after a row."""

    columns: tuple[SQLColumnExpression[Any], ...]
    descending: bool

    def clauses(self) -> list[ColumnElement[Any]]:
        return [column.desc() if self.descending else column.asc() for column in self.columns]

    def after(self, key: CursorKey) -> ColumnElement[bool]:
        """Rows strictly after `key`: a row-value comparison that an index can serve."""
        row = tuple_(*self.columns)
        return row < key if self.descending else row > key


async def fetch_by_id(db: Database, query: AnySelect, ids: Sequence[int]) -> list[AnyRow | None]:
    """The rows of `query` (already narrowed to `ids`) in the order of `ids`, None for gaps."""
    async with db.session() as session:
        by_id = {row.id: row for row in await session.execute(query)}
    return [by_id.get(id_) for id_ in ids]


async def fetch_page(
    session: AsyncSession, query: AnySelect, order: Order, first: int, after: CursorKey | None
) -> Sequence[AnyRow]:
    """The first `first + 1` rows after `after` (the extra row tells there are more)."""
    if after is not None:
        query = query.where(order.after(after))
    result = await session.execute(query.order_by(*order.clauses()).limit(first + 1))
    return result.all()


async def fetch_pages(
    db: Database,
    query: AnySelect,
    *,
    parent: SQLColumnExpression[Any],
    order: Order,
    keys: Sequence[PageKey],
) -> list[Sequence[AnyRow]]:
    """Every key's page, `first + 1` rows each, numbered per parent with ROW_NUMBER.

    One statement per distinct `after` cursor: a feed asks all its posts for their first
    comments with no cursor, so it is one statement however many posts there are.
    """
    by_cursor: dict[CursorKey | None, list[PageKey]] = defaultdict(list)
    for key in keys:
        by_cursor[key.after].append(key)
    pages: dict[tuple[CursorKey | None, int], list[AnyRow]] = defaultdict(list)
    async with db.session() as session:
        for after, group in by_cursor.items():
            limit = max(key.first for key in group) + 1
            parents = sorted({key.parent for key in group})
            for row in await _numbered_rows(session, query, parent, order, parents, after, limit):
                pages[after, getattr(row, PARENT)].append(row)
    return [pages[key.after, key.parent][: key.first + 1] for key in keys]


async def _numbered_rows(
    session: AsyncSession,
    query: AnySelect,
    parent: SQLColumnExpression[Any],
    order: Order,
    parents: Sequence[int],
    after: CursorKey | None,
    limit: int,
) -> Sequence[AnyRow]:
    query = query.where(parent.in_(parents))
    if after is not None:
        query = query.where(order.after(after))
    numbered = query.add_columns(
        parent.label(PARENT),
        func.row_number().over(partition_by=parent, order_by=order.clauses()).label(ROW_NUMBER),
    ).subquery()
    row_number = numbered.c[ROW_NUMBER]
    statement = select(numbered).where(row_number <= limit).order_by(numbered.c[PARENT], row_number)
    return (await session.execute(statement)).all()


async def count_by_parent(
    db: Database,
    query: AnySelect,
    parent: SQLColumnExpression[Any],
    parents: Sequence[int],
) -> list[int]:
    """How many rows of `query` each parent has, in the order of `parents`; one statement."""
    statement = (
        query.with_only_columns(parent, func.count())
        .where(parent.in_(sorted(set(parents))))
        .group_by(parent)
    )
    async with db.session() as session:
        counts: dict[int, int] = {row[0]: row[1] for row in await session.execute(statement)}
    return [counts.get(id_, 0) for id_ in parents]
