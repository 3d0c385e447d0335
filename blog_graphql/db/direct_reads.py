"""Reads run straight on asyncpg: the loaders' statements without SQLAlchemy's execution path.

A loader's statement is built once and run on every request with new parameters. Through
`Connection.execute` each run costs SQLAlchemy about as much CPU as asyncpg spends on the
wire: a compiled-cache lookup, an execution context, seven event dispatches, a cursor
result. On PostgreSQL, a statement run a second time is compiled here once instead (its
SQL, its parameters in order, a row type) and run on the pooled connection's asyncpg
driver. SQLAlchemy still owns the pool (checkout, checkin and their events); only the
execution is direct, awaited on asyncpg as any coroutine is, with no greenlet around it.

Between reads a few connections stay checked out, kept for the next read (`IDLE_KEPT`): a
checkout and checkin cost about as much CPU as a small read itself. The pool lends the
rest to everyone else as before, and `release` checks the kept ones back in.

A statement qualifies only where running it directly changes nothing: positional
parameters with no expansion at run time, and no result column that SQLAlchemy would
convert. Anyone watching statements through SQLAlchemy's `before_cursor_execute` (the
tracing of statements, a test's statement log) sees every read, as those runs keep to
SQLAlchemy's path.
"""

from __future__ import annotations

from asyncio import CancelledError
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, cast
from weakref import WeakKeyDictionary

from asyncpg import PostgresError  # type: ignore[import-untyped]
from sqlalchemy import Executable, Select
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.pool import Pool, PoolProxiedConnection, QueuePool
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine

from blog_graphql.engine._compat import greenlet_spawn, has_statement_listeners

if TYPE_CHECKING:
    from blog_graphql.db.database import AnyRow
IDLE_KEPT = 4  # connections kept checked out between reads, at most a quarter of the pool
Processor = Callable[[Any], Any]
Reads = Sequence[tuple[Executable, Mapping[str, Any]]]


@dataclass(frozen=True, slots=True)
class DirectRead:
    """A statement compiled for asyncpg: run with `values(params)` in order."""

    sql: str
    compiled: SQLCompiler
    names: tuple[str, ...]  # the parameters, in the order of $1, $2...
    processors: tuple[tuple[int, Processor], ...]  # parameters converted before binding
    make_row: Callable[[Any], AnyRow]  # a named tuple of the columns: read like SQLAlchemy's

    def values(self, params: Mapping[str, Any]) -> list[Any]:
        bound = self.compiled.construct_params(params)  # checks required ones, adds literals
        values = [bound[name] for name in self.names]
        for index, process in self.processors:
            values[index] = process(values[index])
        return values


def compile_direct(statement: Executable, dialect: Dialect) -> DirectRead | None:
    """`statement` compiled to run on asyncpg, or None where only SQLAlchemy runs it right."""
    if not isinstance(statement, Select):
        return None
    compiled = statement.compile(dialect=dialect)
    if (
        not compiled.positional
        or compiled.literal_execute_params
        or compiled.post_compile_params
        or compiled.schema_translate_map
    ):
        return None
    columns = list(statement.selected_columns)
    if any(_converted(column.type, dialect) for column in columns):
        return None
    names = tuple(compiled.positiontup or ())
    processors = tuple(
        (index, process)
        for index, name in enumerate(names)
        if (process := compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
    )
    keys = [str(key) for key in statement.selected_columns.keys()]  # noqa: SIM118
    # Rows read by name and by position, as SQLAlchemy's are (a namedtuple is a C tuple).
    row = namedtuple("Row", keys, rename=True)  # type: ignore[misc]
    make_row = cast("Callable[[Any], AnyRow]", partial(tuple.__new__, row))  # `_make`, in C
    return DirectRead(compiled.string, compiled, names, processors, make_row)


# Statements seen once, by any database: kept only as long as the statement lives.
_SEEN: WeakKeyDictionary[Executable, bool] = WeakKeyDictionary()


def _converted(column_type: TypeEngine[Any], dialect: Dialect) -> bool:
    """Whether SQLAlchemy converts what the driver reads of a column of this type."""
    try:
        return column_type.dialect_impl(dialect).result_processor(dialect, None) is not None
    except Exception:  # it decides by the driver's type code, known only from a cursor
        return True


class DirectReads:
    """Compiled statements by statement object, for a PostgreSQL engine's pool."""

    def __init__(self, pool: Pool, dialect: Dialect, watched: Callable[[], bool]) -> None:
        self.pool = pool
        self.dialect = dialect
        self.watched = watched  # whether SQLAlchemy statement events have listeners
        self._compiled: WeakKeyDictionary[Executable, DirectRead | None] = WeakKeyDictionary()
        self.runs = 0  # statements run directly: for tests and benchmarks to see the path taken
        self._idle: list[PoolProxiedConnection] = []  # checked out, kept for the next read
        size = pool.size() if isinstance(pool, QueuePool) else 0
        self.keep = min(IDLE_KEPT, size // 4)

    @property
    def kept(self) -> int:
        """How many connections are checked out and waiting for the next read."""
        return len(self._idle)

    def plan(
        self, reads: Sequence[tuple[Executable, Mapping[str, Any]]]
    ) -> list[DirectRead] | None:
        """Every read compiled for asyncpg, or None to run them all through SQLAlchemy."""
        if self.watched():
            return None
        planned = []
        for statement, _params in reads:
            direct = self._direct(statement)
            if direct is None:
                return None
            planned.append(direct)
        return planned

    def _direct(self, statement: Executable) -> DirectRead | None:
        # A statement built for one request is seen once: compiling it here would cost
        # more than SQLAlchemy's cache. One seen again is built once per shape: compile.
        try:
            return self._compiled[statement]
        except KeyError:
            pass
        if statement not in _SEEN:
            _SEEN[statement] = True
            return None
        direct = self._compiled[statement] = compile_direct(statement, self.dialect)
        return direct

    async def run(self, planned: list[DirectRead], reads: Reads) -> list[Sequence[AnyRow]]:
        """The rows of each read, one after the other on one pooled connection."""
        # A checkout may have to open a connection: SQLAlchemy awaits that in its greenlet.
        connection = self._idle.pop() if self._idle else await greenlet_spawn(self.pool.connect)
        try:
            driver = connection.driver_connection
            assert driver is not None
            results: list[Sequence[AnyRow]] = []
            self.runs += len(planned)
            for direct, (_statement, params) in zip(planned, reads, strict=True):
                records = await driver.fetch(direct.sql, *direct.values(params))
                results.append(list(map(direct.make_row, records)))
        except PostgresError:
            await self._put_back(connection)  # the server refused a statement: still usable
            raise
        except CancelledError:
            _give_up(connection)  # cancelled mid-statement: its state is unknown
            raise
        except BaseException:
            _give_up(connection)  # broken: those kept are likely broken too
            self._give_up_kept()
            raise
        await self._put_back(connection)
        return results

    async def _put_back(self, connection: PoolProxiedConnection) -> None:
        driver = connection.driver_connection
        if driver is None or driver.is_closed():
            _give_up(connection)
        elif len(self._idle) < self.keep:
            self._idle.append(connection)
        else:
            # A checkin may close the connection (beyond the pool's size): in the greenlet.
            await greenlet_spawn(connection.close)

    def _give_up_kept(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            _give_up(connection)

    async def release(self) -> None:
        """Check the connections kept for reads back in: before the pool is disposed."""
        idle, self._idle = self._idle, []
        for connection in idle:
            await greenlet_spawn(connection.close)


def _give_up(connection: PoolProxiedConnection) -> None:
    """Close the connection and hand its place back to the pool, at once: outside
    SQLAlchemy's greenlet, invalidating terminates the driver's connection without waiting."""
    connection.invalidate()
    connection.close()


def statements_watched(engine: Engine) -> Callable[[], bool]:
    """Whether anyone listens to the statements `engine` runs."""
    return lambda: has_statement_listeners(engine)
