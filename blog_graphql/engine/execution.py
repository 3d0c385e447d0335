"""A faster graphql-core executor for the many fields that only read an attribute.

Most fields of a feed (`title`, `slug`, `edges`, `node`, `username`, ...) are Strawberry
fields without a resolver: the value is `getattr(source, python_name)`. The standard path
still builds a resolve info, calls Strawberry's resolver wrapper, and walks the generic
value completion for each of them. Here such a field reads the attribute directly, and a
String, ID, Boolean or Int leaf that needs no coercion is returned as it is.

Behaviour is the standard one: anything unusual (a null for a non-null field, a value that
needs coercing or fails to, a per-field middleware) goes down graphql-core's own path,
which reports it exactly as always. `tests/performance` compares both executors byte for
byte over the project's documents.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, cast
from weakref import WeakKeyDictionary

from graphql import (
    ExecutionResult,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    OperationType,
    Undefined,
)
from graphql.pyutils import Path
from strawberry.types.field import StrawberryField

from blog_graphql.engine._compat import (
    CollectedErrors,
    CollectedFields,
    FieldDetailsList,
    GraphQLCoreConverter,
    StrawberryGraphQLCoreExecutionContext,
    is_basic_attribute_resolver,
    to_nodes,
)
from blog_graphql.engine.batching import BatchTable, batch_table
from blog_graphql.engine.collected_fields import CollectedFieldsCache
from blog_graphql.engine.metrics import PLANNED_FALLBACKS, PLANNED_QUERIES
from blog_graphql.engine.planned_execution import PlannedRun, RecordedOutcomes
from blog_graphql.engine.shared_events import (
    VIEWER_DEPENDENCE,
    counted,
    event_key,
    shared_result,
    take_delivering,
)

# Fields collected per operation, shared by the requests that send it again.
COLLECTED_FIELDS = CollectedFieldsCache()
GRAPHQL_MIN_INT, GRAPHQL_MAX_INT = -(2**31), 2**31 - 1
# A leaf whose value needs no coercion: the coerced value is the value itself.
Identity = Callable[[Any], bool]
IDENTITY: dict[str, Identity] = {
    GraphQLString.name: lambda value: type(value) is str,
    GraphQLID.name: lambda value: type(value) is str,
    GraphQLBoolean.name: lambda value: type(value) is bool,
    GraphQLInt.name: lambda value: (
        type(value) is int and GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT
    ),
}
# The same test over a whole column of values, its loops in C (`planned_execution.py`).
ColumnIdentity = Callable[[list[Any]], bool]
_STR, _BOOL, _INT = frozenset({str}), frozenset({bool}), frozenset({int})
COLUMN_IDENTITY: dict[str, ColumnIdentity] = {
    GraphQLString.name: lambda values: _STR.issuperset(map(type, values)),
    GraphQLID.name: lambda values: _STR.issuperset(map(type, values)),
    GraphQLBoolean.name: lambda values: _BOOL.issuperset(map(type, values)),
    GraphQLInt.name: lambda values: (
        _INT.issuperset(map(type, values))
        and (not values or (min(values) >= GRAPHQL_MIN_INT and max(values) <= GRAPHQL_MAX_INT))
    ),
}


@dataclass(frozen=True)
class PlainRead:
    """A field whose resolver is Strawberry's default attribute read."""

    field_def: GraphQLField
    attribute: str
    read: Callable[[Any, str], Any]
    nullable: bool
    leaf: GraphQLLeafType | None
    identity: Identity | None  # set for a String, ID, Boolean or Int leaf
    identity_of_all: ColumnIdentity | None  # `identity` of every value of a column
    read_each: Callable[[Sequence[Any]], list[Any]]  # the field of every parent of a level


PlainReads = dict[tuple[str, str], PlainRead]
_plans: WeakKeyDictionary[GraphQLSchema, PlainReads] = WeakKeyDictionary()
_batches: WeakKeyDictionary[GraphQLSchema, BatchTable] = WeakKeyDictionary()


def plain_reads(schema: GraphQLSchema) -> PlainReads:
    """Every plain attribute field of the schema, found once per schema."""
    reads = _plans.get(schema)
    if reads is None:
        reads = _plans[schema] = {
            (type_.name, name): read
            for type_ in schema.type_map.values()
            if isinstance(type_, GraphQLObjectType)
            for name, field_def in type_.fields.items()
            if (read := _plain_read(field_def)) is not None
        }
    return reads


def batches(schema: GraphQLSchema) -> BatchTable:
    """Every batched field of the schema, found once per schema."""
    table = _batches.get(schema)
    if table is None:
        table = _batches[schema] = batch_table(schema)
    return table


def _plain_read(field_def: GraphQLField) -> PlainRead | None:
    definition = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    resolve = field_def.resolve
    if not isinstance(definition, StrawberryField) or resolve is None:
        return None
    if not (definition.is_basic_field and is_basic_attribute_resolver(resolve)):
        return None
    if field_def.args:
        return None
    return_type = field_def.type
    nullable = not isinstance(return_type, GraphQLNonNull)
    named = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
    leaf = named if isinstance(named, GraphQLScalarType | GraphQLEnumType) else None
    attribute, read = definition.python_name, definition.default_resolver
    return PlainRead(
        field_def,
        attribute,
        read,
        nullable,
        leaf,
        IDENTITY.get(leaf.name) if leaf is not None else None,
        COLUMN_IDENTITY.get(leaf.name) if leaf is not None else None,
        _read_each(read, attribute),
    )


def _read_each(
    read: Callable[[Any, str], Any], attribute: str
) -> Callable[[Sequence[Any]], list[Any]]:
    if read is getattr:  # Strawberry's default: an attrgetter mapped runs in C
        get = attrgetter(attribute)
        return lambda parents: list(map(get, parents))
    return lambda parents: [read(parent, attribute) for parent in parents]


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, with a short path for plain attribute fields, and queries
    planned level by level (`planned_execution.py`) where nothing needs the long way."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        middleware = self.middleware_manager
        # A per-field middleware must see every field: then everything takes the long way.
        self.standard_only = bool(middleware and middleware.middlewares)
        self.plain = {} if self.standard_only else plain_reads(self.schema)
        self.batches = {} if self.standard_only else batches(self.schema)
        self.replay = RecordedOutcomes()
        planned = not self.standard_only and self.operation.operation is OperationType.QUERY
        self.collected = (
            COLLECTED_FIELDS.of(self.schema, self.operation, self.fragments) if planned else None
        )

    def collect_subfields(
        self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> CollectedFields:
        if self.collected is None:
            return super().collect_subfields(return_type, field_details_list)
        return self.collected.subfields(return_type, field_details_list, super().collect_subfields)

    def build_per_event_executor(self, payload: Any) -> Any:
        """As graphql-core's (a copy sharing the validated arguments, the payload as its
        root value, errors of its own) without `copy.copy`'s generic protocol: this runs
        for every subscriber of every event."""
        executor = object.__new__(type(self))
        executor.__dict__.update(self.__dict__)
        executor.root_value = payload
        executor.collected_errors = CollectedErrors()
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        if self.operation.operation is OperationType.SUBSCRIPTION:
            return self.execute_event(serially)
        if (
            self.standard_only
            or serially
            or self.operation.operation is not OperationType.QUERY
            or self.abort_signal is not None
        ):
            return super().execute_operation(serially)
        return self.execute_planned()

    async def execute_event(self, serially: bool | None) -> ExecutionResult:
        """A subscription event (the root value is its payload), executed once for every
        subscriber of this instance who would get the same answer (`shared_events.py`)."""

        async def run() -> ExecutionResult:
            result = super(FastExecutionContext, self).execute_operation(serially)
            done = await result if self.is_awaitable(result) else result
            return cast(ExecutionResult, done)  # a subscription event: never incremental

        scope = take_delivering()
        if scope is None:
            return await counted(run)
        key = event_key(
            self.operation,
            getattr(self.variable_values, "coerced", self.variable_values),
            self.root_value,
            self.context_value,
            VIEWER_DEPENDENCE.of(self.schema, self.operation, self.fragment_definitions),
            scope,
        )
        if key is None:
            return await counted(run)
        return await shared_result(scope, key, self.root_value, run)

    async def execute_planned(self) -> Any:
        """The planned run's result, or graphql-core's where the planned run gives up."""
        try:
            data: dict[str, Any] | None = await PlannedRun(self).run()
        except Exception:  # an error or anything unusual: the standard run reports it
            data = None
        if data is not None and not self.collected_errors.errors:
            PLANNED_QUERIES.inc()
            return self.build_response(data)
        PLANNED_FALLBACKS.inc()
        self.collected_errors = CollectedErrors()
        if self.replay:
            self.middleware_manager = self.replay  # type: ignore[assignment]
        result = super().execute_operation()
        return await result if self.is_awaitable(result) else result

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        plain = self.plain.get((parent_type.name, field_details_list[0].node.name.value))
        if plain is not None:
            try:
                value = plain.read(source, plain.attribute)
            except Exception:  # the standard path reports it the standard way
                value = Undefined
            # The commonest case first: a str, int or bool is neither null nor awaitable.
            if plain.identity is not None and plain.identity(value):
                return value
            if value is None:
                if plain.nullable:
                    return None
            elif value is not Undefined and not self.is_awaitable(value):
                if plain.leaf is not None:
                    coerced = self.coerce_leaf(plain.leaf, value)
                    if coerced is not Undefined:
                        return coerced
                else:
                    return self.complete_plain(
                        plain, parent_type, field_details_list, path, position_context, value
                    )
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    @staticmethod
    def coerce_leaf(leaf: GraphQLLeafType, value: Any) -> Any:
        """The leaf's output value, or Undefined where the standard path must report why."""
        try:
            coerced = leaf.coerce_output_value(value)
        except Exception:
            return Undefined
        return Undefined if coerced is None else coerced

    def complete_plain(
        self,
        plain: PlainRead,
        parent_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
        value: Any,
    ) -> Any:
        """`execute_field` after its resolver call, for a value read without one."""
        return_type = plain.field_def.type
        info = self.build_resolve_info(
            plain.field_def, to_nodes(field_details_list), parent_type, path
        )
        try:
            completed = self.complete_value(
                return_type, field_details_list, info, path, value, position_context
            )
            if self.is_awaitable(completed):
                return self.await_completed(completed, return_type, field_details_list, path)
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        return completed

    async def await_completed(
        self,
        completed: Awaitable[Any],
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
