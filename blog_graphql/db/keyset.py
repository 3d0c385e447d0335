"""Keyset pages in SQL: one page of a list, or a page per parent for many parents at once;
and rows by id, and counts per parent, with statements built once (see blog_graphql.statements)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeAlias

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    SQLColumnExpression,
    Subquery,
    bindparam,
    func,
    select,
    tuple_,
)
from sqlalchemy.orm import InstrumentedAttribute

from blog_graphql.db.database import AnyRow as AnyRow  # where the loaders and types take it from
from blog_graphql.db.database import Database
from blog_graphql.db.statements import in_list
from blog_graphql.relay.pagination import CursorKey, PageKey, Window

# SQLAlchemy 2.1 types selects by their column types; this takes any columns.
AnySelect: TypeAlias = Select[*tuple[Any, ...]]

PARENT = "page_parent"
ROW_NUMBER = "page_row_number"
# Names of the bind parameters of the statements below, which are built once.
IDS = "ids"
PARENTS = "parents"
LIMIT = "page_limit"
AFTER = "after"


@dataclass(frozen=True)
class Order:
    """A total order over rows (its last column must be unique) and the keyset after a row."""

    columns: tuple[SQLColumnExpression[Any], ...]
    descending: bool

    def clauses(self) -> list[ColumnElement[Any]]:
        return [column.desc() if self.descending else column.asc() for column in self.columns]

    def after_cursor(self) -> ColumnElement[bool]:
        """Rows strictly after the cursor bound by `cursor_params`, in a statement built once."""
        row = tuple_(*self.columns)
        key = tuple_(
            *(
                bindparam(f"{AFTER}_{index}", type_=type_, required=True)
                for index, type_ in enumerate(row.type.types)  # each column's own type
            )
        )
        return row < key if self.descending else row > key

    def reversed(self) -> Order:
        """The same order the other way round: a backward page (`last`/`before`) is the
        forward page after its cursor in it."""
        return Order(self.columns, not self.descending)

    def cursor_params(self, key: CursorKey) -> dict[str, Any]:
        return {f"{AFTER}_{index}": value for index, value in enumerate(key)}


def keyset_page(query: AnySelect, order: Order, *, cursor: bool, backward: bool) -> AnySelect:
    """One page of `query` in `order`, the first or the one after a cursor, `page_params`
    bound: a statement a caller may build once per (cursor, backward). A backward page
    (`last`/`before`) reads `order` reversed, its rows nearest the cursor first, as
    `build_connection` takes them."""
    if backward:
        order = order.reversed()
    if cursor:
        query = query.where(order.after_cursor())
    return query.order_by(*order.clauses()).limit(bindparam(LIMIT, type_=Integer, required=True))


def page_params(order: Order, window: Window) -> dict[str, Any]:
    """The parameters of the `keyset_page` `window` asks for: `size + 1` rows (the extra
    one means "more") and the cursor's values."""
    params: dict[str, Any] = {LIMIT: window.size + 1}
    if window.cursor is not None:
        params |= order.cursor_params(window.cursor)
    return params


def by_ids(query: AnySelect, column: SQLColumnExpression[int], dialect: str) -> AnySelect:
    """`query` narrowed to the ids `fetch_by_id` binds."""
    return query.where(in_list(column, IDS, dialect))


async def fetch_by_id(
    db: Database, statement: AnySelect, params: Mapping[str, Any], ids: Sequence[int]
) -> list[AnyRow | None]:
    """The rows of a `by_ids` statement in the order of `ids`, None for gaps."""
    rows = await db.read(statement, {**params, IDS: list(ids)})
    by_id = {row.id: row for row in rows}
    return [by_id.get(id_) for id_ in ids]


@dataclass(frozen=True)
class JoinedColumns:
    """Columns of another table brought along with each row of a query by that table's
    primary key, held in the row's column `key`: a page joins them only to the rows it
    keeps. An outer join: a row whose other row is missing comes with nulls."""

    key: str
    primary_key: InstrumentedAttribute[Any]
    columns: tuple[SQLColumnExpression[Any], ...]  # labeled apart from the page's columns

    def joined(self, query: AnySelect, key: SQLColumnExpression[Any]) -> AnySelect:
        """`query` with the columns, by the key `key` of its rows."""
        table = self.primary_key.table
        return query.add_columns(*self.columns).outerjoin(table, self.primary_key == key)


@dataclass(frozen=True)
class Pages:
    """The statements of `fetch_pages`: the rows of `query` of many parents, numbered per
    parent with ROW_NUMBER in `order`, the first few of each (with the columns `along`
    brings). Two of them, without and after a cursor, each built once: a loader keeps its
    `Pages` per audience and dialect."""

    query: AnySelect
    parent: SQLColumnExpression[Any]
    order: Order
    dialect: str
    along: JoinedColumns | None = None
    # Columns worked out for the rows a page keeps only (correlated subqueries, say), from
    # the numbered rows: not for every row of every parent before the pages are cut.
    adding: Callable[[Subquery], Sequence[ColumnElement[Any]]] | None = None

    @cached_property
    def first(self) -> AnySelect:
        return self._numbered(self.query, self.order)

    @cached_property
    def after(self) -> AnySelect:
        return self._numbered(self.query.where(self.order.after_cursor()), self.order)

    @cached_property
    def last(self) -> AnySelect:
        return self._numbered(self.query, self.order.reversed())

    @cached_property
    def before(self) -> AnySelect:
        order = self.order.reversed()
        return self._numbered(self.query.where(order.after_cursor()), order)

    def statement(self, cursor: bool, backward: bool) -> AnySelect:
        if backward:
            return self.before if cursor else self.last
        return self.after if cursor else self.first

    def _numbered(self, query: AnySelect, order: Order) -> AnySelect:
        numbered = (
            query.where(in_list(self.parent, PARENTS, self.dialect))
            .add_columns(
                self.parent.label(PARENT),
                func.row_number()
                .over(partition_by=self.parent, order_by=order.clauses())
                .label(ROW_NUMBER),
            )
            .subquery()
        )
        row_number = numbered.c[ROW_NUMBER]
        limit = bindparam(LIMIT, type_=Integer, required=True)
        page = select(numbered).where(row_number <= limit)
        if self.adding is not None:
            page = page.add_columns(*self.adding(numbered))
        if self.along is not None:
            page = self.along.joined(page, numbered.c[self.along.key])
        return page.order_by(numbered.c[PARENT], row_number)


_Batch: TypeAlias = tuple[CursorKey | None, bool]  # keys read in one statement: cursor, backward


async def fetch_pages(
    db: Database, pages: Pages, params: Mapping[str, Any], keys: Sequence[PageKey]
) -> list[Sequence[AnyRow]]:
    """Every key's page, `first + 1` rows each; a backward key's (`PageKey.backward`)
    nearest its cursor first, as `build_connection` takes them.

    One statement per distinct cursor and direction: a feed asks all its posts for their
    first comments with no cursor, so it is one statement however many posts there are.
    """
    by_cursor: dict[_Batch, list[PageKey]] = defaultdict(list)
    for key in keys:
        by_cursor[key.after, key.backward].append(key)
    cursors = list(by_cursor)
    reads = [_page_read(pages, params, *batch, by_cursor[batch]) for batch in cursors]
    found: dict[tuple[_Batch, int], list[AnyRow]] = defaultdict(list)
    for batch, rows in zip(cursors, await db.read_each(reads), strict=True):
        for row in rows:
            found[batch, getattr(row, PARENT)].append(row)
    return [found[(key.after, key.backward), key.parent][: key.first + 1] for key in keys]


def _page_read(
    pages: Pages,
    params: Mapping[str, Any],
    after: CursorKey | None,
    backward: bool,
    keys: list[PageKey],
) -> tuple[AnySelect, dict[str, Any]]:
    """The statement and parameters of the pages of `keys`, which share the cursor `after`
    and the direction."""
    bound = {
        **params,
        PARENTS: sorted({key.parent for key in keys}),
        LIMIT: max(key.first for key in keys) + 1,
    }
    statement = pages.statement(after is not None, backward)
    if after is None:
        return statement, bound
    return statement, bound | pages.order.cursor_params(after)


def counts_by(query: AnySelect, parent: SQLColumnExpression[Any], dialect: str) -> AnySelect:
    """How many rows of `query` each parent bound by `count_by_parent` has."""
    return (
        query.with_only_columns(parent, func.count())
        .where(in_list(parent, PARENTS, dialect))
        .group_by(parent)
    )


async def count_by_parent(
    db: Database, statement: AnySelect, params: Mapping[str, Any], parents: Sequence[int]
) -> list[int]:
    """The counts of a `counts_by` statement in the order of `parents`; one statement."""
    rows = await db.read(statement, {**params, PARENTS: sorted(set(parents))})
    counts: dict[int, int] = {row[0]: row[1] for row in rows}
    return [counts.get(id_, 0) for id_ in parents]
