"""The one seam to library internals: every private or undocumented part of Strawberry,
graphql-core and SQLAlchemy that the engine and the direct reads lean on.

Written and checked against strawberry-graphql 0.341, graphql-core 3.3 and SQLAlchemy 2.1;
`pyproject.toml` bounds those three to the same minor versions. Nothing else in the package
imports these names from the libraries: a newer release that moves one breaks here, in one
place, and `missing_seams()` says which. The app then builds its schema on the stock
executor (correct and slower), logs one warning and sets the `engine_fast_path` gauge to 0;
`tests/engine/test_seams.py` fails CI when that would happen on the locked versions.

Every import below is guarded: a name that a release removed leaves a stand-in, so that the
engine's modules still import and the stock path can run.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import graphql
import sqlalchemy
import strawberry

__all__ = [  # the libraries' internals, handed on; then this module's own helpers
    "CollectedErrors",
    "CollectedFields",
    "ExecutingContextManager",
    "ExtensionContextManagerBase",
    "FieldDetailsList",
    "FragmentDetails",
    "GraphQLCoreConverter",
    "GroupedFieldSet",
    "OperationContextManager",
    "ParsingContextManager",
    "SchemaExtensionsRunner",
    "StrawberryGraphQLCoreExecutionContext",
    "ValidationContextManager",
    "WrappedHook",
    "await_maybe",
    "collect_fields",
    "core_schema",
    "get_argument_values",
    "greenlet_spawn",
    "has_statement_listeners",
    "implements_resolve",
    "is_basic_attribute_resolver",
    "loaded_instance",
    "missing_seams",
    "to_nodes",
]
T = TypeVar("T")
CHECKED_AGAINST = {"strawberry-graphql": "0.341", "graphql-core": "3.3", "sqlalchemy": "2.1"}
_problems: list[str] = []

if TYPE_CHECKING:
    from graphql.execution.collect_fields import (
        CollectedFields,
        FieldDetailsList,
        FragmentDetails,
        GroupedFieldSet,
        collect_fields,
    )
    from graphql.execution.executor import CollectedErrors, to_nodes
    from graphql.execution.values import get_argument_values
    from sqlalchemy.util import greenlet_spawn
    from strawberry.extensions.context import (
        ExecutingContextManager,
        ExtensionContextManagerBase,
        OperationContextManager,
        ParsingContextManager,
        ValidationContextManager,
        WrappedHook,
    )
    from strawberry.extensions.runner import SchemaExtensionsRunner
    from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
    from strawberry.schema.schema_converter import GraphQLCoreConverter
    from strawberry.utils.await_maybe import await_maybe
else:
    try:  # graphql-core 3.3's execution internals (3.2 had other names and shapes)
        from graphql.execution.collect_fields import (
            CollectedFields,
            FieldDetailsList,
            FragmentDetails,
            GroupedFieldSet,
            collect_fields,
        )
        from graphql.execution.executor import CollectedErrors, to_nodes
        from graphql.execution.values import get_argument_values
    except ImportError as error:
        _problems.append(f"graphql-core execution internals: {error}")
        CollectedFields = FieldDetailsList = FragmentDetails = GroupedFieldSet = Any
        collect_fields = to_nodes = get_argument_values = None
        CollectedErrors = list

    try:  # Strawberry's executor class, schema converter and extension runner
        from strawberry.extensions.context import (
            ExecutingContextManager,
            ExtensionContextManagerBase,
            OperationContextManager,
            ParsingContextManager,
            ValidationContextManager,
            WrappedHook,
        )
        from strawberry.extensions.runner import SchemaExtensionsRunner
        from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
        from strawberry.schema.schema_converter import GraphQLCoreConverter
        from strawberry.utils.await_maybe import await_maybe
    except ImportError as error:
        _problems.append(f"Strawberry internals: {error}")
        StrawberryGraphQLCoreExecutionContext = graphql.ExecutionContext
        GraphQLCoreConverter = SchemaExtensionsRunner = ExtensionContextManagerBase = object
        ExecutingContextManager = OperationContextManager = object
        ParsingContextManager = ValidationContextManager = WrappedHook = object
        await_maybe = None

    try:  # runs a sync function inside SQLAlchemy's greenlet, from async code
        from sqlalchemy.util import greenlet_spawn
    except ImportError as error:
        _problems.append(f"SQLAlchemy's greenlet_spawn: {error}")
        greenlet_spawn = None


# --- Strawberry --------------------------------------------------------------------------

BASIC_RESOLVER_NAME = "_get_basic_result"  # the converter's resolver of a resolver-less field


def is_basic_attribute_resolver(resolve: Callable[..., Any]) -> bool:
    """Strawberry's own resolver of a plain field: it only reads the attribute.

    The converter marks it `_is_default`, and names it `_get_basic_result`; a resolver-less
    field with extensions or permissions is also `_is_default` but not basic, hence both.
    """
    return bool(getattr(resolve, "_is_default", False)) and (
        getattr(resolve, "__name__", None) == BASIC_RESOLVER_NAME
    )


def core_schema(schema: strawberry.Schema) -> graphql.GraphQLSchema:
    """The graphql-core schema under a Strawberry schema (`Schema._schema`)."""
    return schema._schema


def implements_resolve(extension_type: type[Any]) -> bool:
    """The extension class wraps every field resolver (Strawberry's `_implements_resolve`)."""
    return bool(extension_type._implements_resolve())


SCHEMA_HOOKS = {  # Strawberry's private methods our schema class overrides, with their params
    "_create_execution_context": (
        "query",
        "allowed_operation_types",
        "variable_values",
        "context_value",
        "root_value",
        "operation_name",
        "operation_extensions",
    ),
    "_get_middleware_manager": ("extensions",),
}


# --- SQLAlchemy --------------------------------------------------------------------------


def has_statement_listeners(engine: sqlalchemy.Engine) -> bool:
    """Someone listens to `before_cursor_execute` on `engine` (tracing, tests' SQL logs)."""
    return bool(engine.dispatch.before_cursor_execute)


def loaded_instance(mapped: type[T], values: Iterable[tuple[str, Any]]) -> T:
    """An object of the mapped class `mapped` holding `values` as loaded, unchanged state,
    built as SQLAlchemy's own loading builds one (`ClassManager.new_instance`, then the
    instance's `__dict__`): the constructor fires an attribute event per column, ten times
    the CPU. Through the constructor if a release drops `new_instance`."""
    mapper = sqlalchemy.inspect(mapped)
    if not mapper.configured:  # the constructor would configure them: the first object
        sqlalchemy.orm.configure_mappers()
    new_instance = getattr(mapper.class_manager, "new_instance", None)
    if new_instance is None:
        return mapped(**dict(values))
    instance: T = new_instance()
    instance.__dict__.update(values)
    return instance


# --- the self-check ----------------------------------------------------------------------

EXECUTOR_METHODS = {  # graphql-core ExecutionContext methods the fast executor overrides/calls
    "execute_operation": ("serially",),
    "execute_field": ("parent_type", "source", "field_details_list", "path", "position_context"),
    "collect_subfields": ("return_type", "field_details_list"),
    "complete_value": (
        "return_type",
        "field_details_list",
        "info",
        "path",
        "result",
        "position_context",
    ),
    "build_resolve_info": ("field_def", "field_nodes", "parent_type", "path"),
    "handle_field_error": ("raw_error", "return_type", "field_details_list", "path"),
    "build_response": ("data",),
}


EXECUTOR_ATTRIBUTES = {"collected_errors", "abort_signal", "is_awaitable", "middleware_manager"}


def missing_seams() -> list[str]:
    """What this installation lacks of the seams above; empty when the fast paths can run."""
    problems = list(_problems)
    if problems:
        return problems
    problems += _missing_parameters(strawberry.Schema, SCHEMA_HOOKS)
    problems += _missing_parameters(StrawberryGraphQLCoreExecutionContext, EXECUTOR_METHODS)
    declared = {
        name
        for kind in StrawberryGraphQLCoreExecutionContext.__mro__
        for name in getattr(kind, "__annotations__", {})
    }
    for name in EXECUTOR_ATTRIBUTES - declared:
        problems.append(f"graphql-core's ExecutionContext lacks `{name}`")
    if not hasattr(strawberry.extensions.SchemaExtension, "_implements_resolve"):
        problems.append("Strawberry's SchemaExtension lacks `_implements_resolve`")
    if not hasattr(GraphQLCoreConverter, "DEFINITION_BACKREF"):
        problems.append("Strawberry's GraphQLCoreConverter lacks `DEFINITION_BACKREF`")
    problems += _missing_basic_resolver()
    if not hasattr(sqlalchemy.Engine, "dispatch"):
        problems.append("SQLAlchemy's Engine lacks `dispatch`")
    return problems


def _missing_parameters(owner: type[Any], methods: dict[str, tuple[str, ...]]) -> list[str]:
    problems = []
    for name, wanted in methods.items():
        method = getattr(owner, name, None)
        if method is None:
            problems.append(f"{owner.__qualname__}.{name} is gone")
            continue
        have = inspect.signature(method).parameters
        if lost := [param for param in wanted if param not in have]:
            problems.append(f"{owner.__qualname__}.{name} lost {', '.join(lost)}")
    return problems


@strawberry.type
class Probe:
    name: str


@strawberry.type
class ProbeQuery:
    probe: Probe


def _missing_basic_resolver() -> list[str]:
    """Build a one-field schema and look at the resolver Strawberry gives its plain field."""
    probe_type = core_schema(strawberry.Schema(query=ProbeQuery)).get_type("Probe")
    field = probe_type.fields["name"]  # type: ignore[union-attr]
    if field.resolve is None or not is_basic_attribute_resolver(field.resolve):
        return ["Strawberry's resolver of a plain field is no longer `_get_basic_result`"]
    return []
