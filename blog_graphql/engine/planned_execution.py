"""Breadth-first execution of queries: each field resolved once per level, for every parent.

graphql-core executes depth first: for each field of each object it builds a resolve
info, calls the resolver, completes the value and, where the value is awaited, runs a
task. A feed page is about 440 objects and 2,000 fields, so that machinery costs more
than its SQL. Here a query runs level by level instead. A level is every object the
previous level returned for one selection set, and each of its fields is found for all
of them at once:

- a plain attribute field is read in a loop (`execution.plain_reads`);
- a batched field calls its batch resolver once with every parent (`batching.py`);
- any other field calls its resolver per parent, as graphql-core would.

The values of a field are then completed together: leaves coerced, lists flattened into
one level, objects passed down as the next level. Fields of one level that wait on the
database wait together, so the loaders still batch as they do under graphql-core.

Only the commonest case is planned: a query whose every value completes without error.
Anything else (an error, a null for a non-null field, a value that fails coercion, an
object Strawberry would need a cast to type) abandons the planned run, and the query runs
again on graphql-core's executor, which reports it exactly as always. A query only reads,
so running it again is safe; the request's loaders keep what they read, and the resolvers
the first run called are replayed (`RecordedOutcomes`), so the second run repeats no
statement and no resolver call. `tests/performance` compares both paths byte for byte.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from itertools import repeat
from operator import is_not
from typing import TYPE_CHECKING, Any

from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLUnionType,
    OperationType,
    Undefined,
)
from graphql.pyutils import Path

from blog_graphql.engine._compat import (
    FieldDetailsList,
    GraphQLCoreConverter,
    GroupedFieldSet,
    collect_fields,
    get_argument_values,
    to_nodes,
)

if TYPE_CHECKING:
    from blog_graphql.engine.execution import FastExecutionContext
Column = list[Any]  # one value per parent of a level
TYPENAME = "__typename"
_is_not_none = partial(is_not, None)
_is_not_undefined = partial(is_not, Undefined)


def all_present(values: list[Any]) -> bool:
    """No value is None or Undefined: two passes in C, where a generator runs in Python."""
    return all(map(_is_not_none, values)) and all(map(_is_not_undefined, values))


class Paths:
    """The response paths of a level's values, made only when asked for. Only a resolver
    called per parent needs them (for its resolve info and `RecordedOutcomes`), and most levels
    have none, so a feed page would build a few thousand Path tuples for nothing."""

    __slots__ = ("_make", "_paths")

    def __init__(self, make: Callable[[], list[Path | None]]) -> None:
        self._make: Callable[[], list[Path | None]] | None = make
        self._paths: list[Path | None] = []

    @classmethod
    def root(cls) -> Paths:
        return cls(lambda: [None])

    def all(self) -> list[Path | None]:
        if self._make is not None:
            self._paths, self._make = self._make(), None
        return self._paths

    def child(self, key: str, typename: str) -> Paths:
        """The paths of field `key` of each parent of type `typename`."""
        return Paths(lambda: [Path(path, key, typename) for path in self.all()])

    def items(self, lengths: list[int]) -> Paths:
        """The paths of every item of every list, one list of `lengths[i]` items per path."""
        return Paths(
            lambda: [
                Path(path, index, None)
                for path, length in zip(self.all(), lengths, strict=True)
                for index in range(length)
            ]
        )

    def pick(self, indexes: list[int]) -> Paths:
        return Paths(lambda: [self.all()[index] for index in indexes])


class NeedsStandardRun(Exception):
    """The planned run met something only graphql-core's executor reports."""


async def settle_all(awaitables: Iterable[Awaitable[Any]]) -> list[Any]:
    """Every awaitable's value, each run to its end even when another fails: cancelling
    one would cancel its loader's future, which the loader keeps in its cache for the
    standard run that follows."""
    values = await asyncio.gather(*awaitables, return_exceptions=True)
    for value in values:
        if isinstance(value, BaseException):
            raise value
    return values


async def settle_quietly(awaitables: Iterable[Awaitable[Any]]) -> None:
    """Run to their end the awaitables of a level that failed before awaiting them: an
    unawaited coroutine would be dropped half made, and its loads with it."""
    await asyncio.gather(*awaitables, return_exceptions=True)


def strawberry_class(object_type: GraphQLObjectType) -> type | None:
    definition = (object_type.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    return getattr(definition, "origin", None)


class RecordedOutcomes:
    """Resolver outcomes of a planned run, given to the standard run that follows it in
    place of calling those resolvers again. It takes the place of graphql-core's
    middleware manager, the executor's one hook around every resolver call."""

    def __init__(self) -> None:
        self.outcomes: dict[tuple[str | int, ...], Any] = {}

    def __bool__(self) -> bool:
        return bool(self.outcomes)

    def record(self, path: Path, outcome: Any) -> None:
        self.outcomes[tuple(path.as_list())] = outcome

    def get_field_resolver(self, resolve: Callable[..., Any]) -> Callable[..., Any]:
        def replayed(source: Any, info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
            outcome = self.outcomes.pop(tuple(info.path.as_list()), Undefined)
            if outcome is Undefined:
                return resolve(source, info, **arguments)
            if isinstance(outcome, Exception):
                raise outcome
            return outcome

        return replayed


class PlannedRun:
    """One query executed level by level on the executor's schema, context and variables."""

    def __init__(self, executor: FastExecutionContext) -> None:
        self.executor = executor
        self.context = executor.context_value
        self.plain = executor.plain
        self.batches = executor.batches

    async def run(self) -> dict[str, Any]:
        executor = self.executor
        root_type = executor.schema.get_root_type(OperationType.QUERY)
        if root_type is None:
            raise NeedsStandardRun
        memo = executor.collected
        grouped = memo.root if memo is not None else None
        if grouped is None:
            grouped, _defers, _forbidden = collect_fields(
                executor.schema,
                executor.fragments,
                executor.variable_values,
                root_type,
                executor.operation,
                executor.hide_suggestions,
            )
            if memo is not None:
                memo.keep_root(grouped)
        (data,) = await self.complete_level(root_type, grouped, [executor.root_value], Paths.root())
        return data

    async def complete_level(
        self,
        parent_type: GraphQLObjectType,
        grouped: GroupedFieldSet,
        parents: Sequence[Any],
        paths: Paths,
    ) -> list[dict[str, Any]]:
        """Every field of `grouped` for every parent: one result dict per parent."""
        keys: list[str] = []
        columns: list[Column] = []
        waiting: dict[int, Awaitable[Column]] = {}  # columns that wait on the database
        try:
            for key, details in grouped.items():
                column = self.field_column(parent_type, key, details, parents, paths)
                if not isinstance(column, list):
                    waiting[len(columns)] = column
                keys.append(key)
                columns.append(column if isinstance(column, list) else [])
        except Exception:
            await settle_quietly(waiting.values())
            raise
        if len(waiting) == 1:
            ((index, column),) = waiting.items()
            columns[index] = await column
        elif waiting:
            # The database waits of a level overlap, as under graphql-core.
            for index, value in zip(waiting, await settle_all(waiting.values()), strict=True):
                columns[index] = value
        if not keys:
            return [{} for _ in parents]
        return [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)]

    def field_column(
        self,
        parent_type: GraphQLObjectType,
        key: str,
        details: FieldDetailsList,
        parents: Sequence[Any],
        paths: Paths,
    ) -> Column | Awaitable[Column]:
        """The field's completed value for every parent; awaitable when it must wait."""
        name = details[0].node.name.value
        if name == TYPENAME:
            return [parent_type.name] * len(parents)
        field_def = self.executor.schema.get_field(parent_type, name)
        if field_def is None:
            raise NeedsStandardRun
        return_type = field_def.type
        plain = self.plain.get((parent_type.name, name))
        if plain is not None:
            values = plain.read_each(parents)
            if plain.identity_of_all is not None and plain.identity_of_all(values):
                return values  # str, int or bool leaves: already their output value
            return self.complete(return_type, details, values, paths.child(key, parent_type.name))
        return self.resolved_column(parent_type, field_def, key, details, parents, paths)

    async def resolved_column(
        self,
        parent_type: GraphQLObjectType,
        field_def: GraphQLField,
        key: str,
        details: FieldDetailsList,
        parents: Sequence[Any],
        paths: Paths,
    ) -> Column:
        """A field with a resolver: its batch resolver once, or the resolver per parent."""
        executor = self.executor
        node = details[0].node
        arguments = (
            get_argument_values(
                field_def,
                node,
                executor.variable_values,
                details[0].fragment_variable_values,
                executor.hide_suggestions,
            )
            if field_def.args or node.arguments
            else {}
        )
        child_paths = paths.child(key, parent_type.name)
        batch = self.batches.get((parent_type.name, node.name.value))
        if batch is not None:
            values = list(await batch(self.context, parents, **arguments))
        else:
            values = await self.resolve_each(
                field_def, parent_type, details, parents, child_paths, arguments
            )
        completed = self.complete(field_def.type, details, values, child_paths)
        return completed if isinstance(completed, list) else await completed

    async def resolve_each(
        self,
        field_def: GraphQLField,
        parent_type: GraphQLObjectType,
        details: FieldDetailsList,
        parents: Sequence[Any],
        paths: Paths,
        arguments: dict[str, Any],
    ) -> list[Any]:
        """The field's resolver, called once per parent. Each outcome, value or error, is
        kept for the standard run that may follow, which replays it instead of calling
        the resolver again: a resolver runs once per request, whatever it reads or logs."""
        executor = self.executor
        resolve = field_def.resolve or executor.field_resolver
        nodes = to_nodes(details)
        outcomes: list[Any] = []
        for parent, path in zip(parents, paths.all(), strict=True):
            assert path is not None  # a field's path: under the root
            info = executor.build_resolve_info(field_def, nodes, parent_type, path)
            try:
                outcomes.append(resolve(parent, info, **arguments))
            except Exception as error:
                outcomes.append(error)
        waiting = [index for index, value in enumerate(outcomes) if executor.is_awaitable(value)]
        if waiting:
            settled = await asyncio.gather(
                *(outcomes[index] for index in waiting), return_exceptions=True
            )
            for index, outcome in zip(waiting, settled, strict=True):
                outcomes[index] = outcome
        for path, outcome in zip(paths.all(), outcomes, strict=True):
            assert path is not None
            if not isinstance(outcome, Exception) and isinstance(outcome, BaseException):
                raise outcome  # cancelled: nothing to replay
            executor.replay.record(path, outcome)
        if any(isinstance(outcome, Exception) for outcome in outcomes):
            raise NeedsStandardRun
        return outcomes

    def complete(
        self,
        return_type: GraphQLOutputType,
        details: FieldDetailsList,
        values: list[Any],
        paths: Paths,
    ) -> Column | Awaitable[Column]:
        """`values` completed as `return_type`; NeedsStandardRun where graphql-core would report."""
        if isinstance(return_type, GraphQLNonNull):
            if not all_present(values):
                raise NeedsStandardRun
            return self.complete(return_type.of_type, details, values, paths)
        if not all_present(values):
            present = [
                index
                for index, value in enumerate(values)
                if value is not None and value is not Undefined
            ]
            completed = self.complete(
                return_type, details, [values[index] for index in present], paths.pick(present)
            )
            return self.spread(completed, present, len(values))
        if isinstance(return_type, GraphQLLeafType):
            return self.leaves(return_type, values)
        if isinstance(return_type, GraphQLList):
            return self.complete_lists(return_type, details, values, paths)
        if isinstance(return_type, GraphQLObjectType):
            return self.complete_objects(return_type, details, values, paths)
        if isinstance(return_type, GraphQLInterfaceType | GraphQLUnionType):
            return self.complete_abstract(return_type, details, values, paths)
        raise NeedsStandardRun

    @staticmethod
    def leaves(leaf_type: GraphQLLeafType, values: list[Any]) -> Column:
        """The output values of a column of leaves (the loops run in C, not Python)."""
        if any(map(isinstance, values, repeat(Exception))):
            raise NeedsStandardRun
        coerced = list(map(leaf_type.coerce_output_value, values))
        if not all_present(coerced):
            raise NeedsStandardRun
        return coerced

    def complete_lists(
        self,
        list_type: GraphQLList[Any],
        details: FieldDetailsList,
        values: list[Any],
        paths: Paths,
    ) -> Column | Awaitable[Column]:
        """Every item of every list as one level, then cut back into the lists."""
        items: list[Any] = []
        lengths: list[int] = []
        for value in values:
            if not isinstance(value, list | tuple):
                raise NeedsStandardRun  # graphql-core iterates other iterables, or reports them
            lengths.append(len(value))
            items.extend(value)
        completed = self.complete(list_type.of_type, details, items, paths.items(lengths))
        if isinstance(completed, list):
            return self.cut(completed, lengths)
        return self.cut_when_done(completed, lengths)

    async def complete_objects(
        self,
        object_type: GraphQLObjectType,
        details: FieldDetailsList,
        values: list[Any],
        paths: Paths,
    ) -> Column:
        is_type_of = object_type.is_type_of
        if is_type_of is not None:
            # An instance of the type's own class is of the type; anything else asks.
            own_class = strawberry_class(object_type)
            if not {own_class}.issuperset(map(type, values)):
                for value in values:
                    if type(value) is not own_class and is_type_of(value, None) is not True:  # type: ignore[arg-type]
                        raise NeedsStandardRun
        elif any(map(isinstance, values, repeat(Exception))):
            raise NeedsStandardRun
        grouped, _defers, _forbidden = self.executor.collect_subfields(object_type, details)
        return await self.complete_level(object_type, grouped, values, paths)

    async def complete_abstract(
        self,
        abstract_type: GraphQLInterfaceType | GraphQLUnionType,
        details: FieldDetailsList,
        values: list[Any],
        paths: Paths,
    ) -> Column:
        """Values of an interface or union, completed in groups of one object type each."""
        groups: dict[str, list[int]] = {}
        for index, value in enumerate(values):
            groups.setdefault(self.runtime_type(abstract_type, value).name, []).append(index)
        column: Column = [None] * len(values)
        for type_name, indexes in groups.items():
            object_type = self.executor.schema.get_type(type_name)
            assert isinstance(object_type, GraphQLObjectType)  # checked by runtime_type
            completed = await self.complete_objects(
                object_type, details, [values[i] for i in indexes], paths.pick(indexes)
            )
            for index, value in zip(indexes, completed, strict=True):
                column[index] = value
        return column

    def runtime_type(
        self, abstract_type: GraphQLInterfaceType | GraphQLUnionType, value: Any
    ) -> GraphQLObjectType:
        """The object type of a Strawberry object, as Strawberry's own type resolver finds
        it; NeedsStandardRun for anything else (a cast, a generic, a plain value)."""
        definition = getattr(type(value), "__strawberry_definition__", None)
        schema = self.executor.schema
        object_type = schema.get_type(definition.name) if definition is not None else None
        if (
            not isinstance(object_type, GraphQLObjectType)
            or strawberry_class(object_type) is not type(value)
            or not schema.is_sub_type(abstract_type, object_type)
        ):
            raise NeedsStandardRun
        return object_type

    @staticmethod
    def cut(items: list[Any], lengths: list[int]) -> Column:
        lists, start = [], 0
        for length in lengths:
            lists.append(items[start : start + length])
            start += length
        return lists

    async def cut_when_done(self, items: Awaitable[Column], lengths: list[int]) -> Column:
        return self.cut(await items, lengths)

    @staticmethod
    def spread(
        completed: Column | Awaitable[Column], present: list[int], size: int
    ) -> Column | Awaitable[Column]:
        """Completed values back at their places among the nulls."""

        def place(values: Column) -> Column:
            column: Column = [None] * size
            for index, value in zip(present, values, strict=True):
                column[index] = value
            return column

        if isinstance(completed, list):
            return place(completed)

        async def place_when_done() -> Column:
            return place(await completed)

        return place_when_done()
