"""Which tables a request read and a transaction wrote: the response cache's tags.

A cached answer is tagged with every table its statements read, recorded where every read
passes (`Database.read_each` and the ORM read sessions), so a nested field or a new read
path tags itself without anyone remembering to. A transaction records every table it
writes (ORM flushes and DML statements alike, plus the tables a deleted row's foreign
keys cascade into) and, once committed, hands the set to the write observers: the
response cache invalidates exactly the answers that read one of them.

Tables are the unit on purpose: they are exact for every statement the code can build,
where per-row tags would need each list's membership rules repeated here. A statement
whose tables cannot be known (raw SQL text) is tagged EVERYTHING.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from sqlalchemy import Executable, MetaData, Table, event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.sql import TableClause
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.util import find_tables

EVERYTHING = "*"  # a statement we cannot see into: depends on, or changes, any table
# An answer that read this process's memory rather than the database: no write can tell
# when it changes, so it is never cached.
PROCESS_STATE = "!"
_WRITTEN = "written_tables"
_reads: ContextVar[set[str] | None] = ContextVar("table_reads", default=None)


@contextmanager
def recording_reads() -> Iterator[set[str]]:
    """Collect the tables every read in this context (and its tasks) touches."""
    tables: set[str] = set()
    token = _reads.set(tables)
    try:
        yield tables
    finally:
        _reads.reset(token)


def record_read(statement: Executable) -> None:
    tables = _reads.get()
    if tables is not None:
        for name in tables_of(statement):
            tables.add(_derived.get(name, name))


def record_process_state_read() -> None:
    """For a resolver answering from this process's memory (hub counters, say), not from
    the database: the request's answer is then never cached."""
    tables = _reads.get()
    if tables is not None:
        tables.add(PROCESS_STATE)


_derived: dict[str, str] = {}


def derived_table(name: str, source: str) -> None:
    """Reads of `name` (an index the database keeps from `source` by triggers, such as a
    full-text table) depend on `source`, whose writes are the ones we see."""
    _derived[name] = source


@lru_cache(maxsize=1024)
def _tables_of_cached(statement: Executable) -> frozenset[str]:
    return _find(statement)


def tables_of(statement: Executable) -> frozenset[str]:
    """The tables `statement` reads or writes; EVERYTHING when it cannot be known."""
    try:
        return _tables_of_cached(statement)
    except TypeError:  # an unhashable statement: rare, worked out each time
        return _find(statement)


def _find(statement: Executable) -> frozenset[str]:
    if isinstance(statement, UpdateBase):
        target = getattr(statement, "table", None)
        return (
            frozenset({str(target.name)})
            if isinstance(target, TableClause)
            else frozenset({EVERYTHING})
        )
    try:
        found = find_tables(statement, include_aliases=True, include_joins=True)  # type: ignore[arg-type]
    except Exception:
        return frozenset({EVERYTHING})
    # plain str: a Table's name is a `quoted_name`, which JSON encoders refuse as a key
    names = {str(table.name) for table in found if isinstance(table, TableClause)}
    if not names and not hasattr(statement, "selected_columns"):
        return frozenset({EVERYTHING})  # text(): we cannot tell what it reads
    return frozenset(names)


def written_by(session: Session) -> frozenset[str]:
    return frozenset(session.info.get(_WRITTEN, ()))


def _note_written(session: Session, tables: set[str] | frozenset[str]) -> None:
    written: set[str] = session.info.setdefault(_WRITTEN, set())
    for name in tables:
        written.add(name)
        written.update(cascades_from(name))


def _on_execute(state: ORMExecuteState) -> None:
    if state.is_select:
        record_read(state.statement)
    elif state.is_insert or state.is_update or state.is_delete:
        _note_written(state.session, tables_of(state.statement))
    else:  # raw text: it may read or write anything
        record_read(state.statement)
        _note_written(state.session, {EVERYTHING})


def _on_flush(session: Session, _flush: UOWTransaction) -> None:
    touched = (*session.new, *session.dirty, *session.deleted)
    _note_written(session, {table for row in touched for table in _tables_of_row(row)})


def _tables_of_row(row: Any) -> frozenset[str]:
    table = getattr(row, "__table__", None)
    return frozenset({str(table.name) if isinstance(table, Table) else EVERYTHING})


_metadata: list[MetaData] = []


def use_metadata(metadata: MetaData) -> None:
    """The tables whose foreign keys `cascades_from` follows (`Base.metadata`)."""
    if metadata not in _metadata:
        _metadata.append(metadata)
        _cascades.cache_clear()


def cascades_from(table: str) -> frozenset[str]:
    """The tables a delete (or key update) in `table` reaches through `ON DELETE` / `ON
    UPDATE` foreign keys, transitively: deleting a post deletes its comments and tag links
    in the database itself, so those tables are written too."""
    return _cascades(sum(len(m.tables) for m in _metadata)).get(table, frozenset())


@lru_cache(maxsize=4)
def _cascades(_table_count: int) -> dict[str, frozenset[str]]:  # again once tables are added
    direct: dict[str, set[str]] = {}
    for metadata in _metadata:
        for table in metadata.tables.values():
            for key in table.foreign_keys:
                if key.ondelete or key.onupdate:
                    direct.setdefault(key.column.table.name, set()).add(table.name)
    return {name: frozenset(_reachable(direct, name)) for name in direct}


def _reachable(direct: dict[str, set[str]], name: str) -> set[str]:
    seen: set[str] = set()
    pending = [name]
    while pending:
        for child in direct.get(pending.pop(), ()):
            if child not in seen:
                seen.add(child)
                pending.append(child)
    return seen


class TrackedSession(Session):
    """The session class of `Database`: records reads and writes as described above."""


event.listen(TrackedSession, "do_orm_execute", _on_execute)
event.listen(TrackedSession, "after_flush", _on_flush)
