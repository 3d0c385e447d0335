"""Fields resolved for every parent at once.

A batched field has a batch resolver, `batch(context, parents, **arguments)`, that returns
one value per parent. The planned executor (`planned_execution.py`) calls it once per
level with every parent the level holds; graphql-core's executor calls the field's
resolver once per parent, and the resolver asks the batch resolver for a batch of one (the
loaders still gather the parents of one tick into one statement). The batch resolver is
the one definition of what the field means; the resolver only adapts it:

    @strawberry.field
    @batched(authors_of)
    async def author(self, info: Info) -> User:
        return await one(authors_of, info, self)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from graphql import GraphQLField, GraphQLObjectType, GraphQLSchema
from strawberry.types.field import StrawberryField

from blog_graphql.engine._compat import GraphQLCoreConverter

if TYPE_CHECKING:
    from blog_graphql.context import Info
Batch = Callable[..., Awaitable[Sequence[Any]]]
Resolver = TypeVar("Resolver", bound=Callable[..., Any])
Value = TypeVar("Value")
Parent = TypeVar("Parent")
Key = TypeVar("Key")
_BATCH = "__batch__"


def batched(batch: Batch) -> Callable[[Resolver], Resolver]:
    """Mark a resolver as the one-parent form of `batch`."""

    def mark(resolver: Resolver) -> Resolver:
        setattr(resolver, _BATCH, batch)
        return resolver

    return mark


async def one(
    batch: Callable[..., Awaitable[Sequence[Value]]], info: Info, parent: Any, **arguments: Any
) -> Value:
    """The field's value for one parent: a batch of one."""
    (value,) = await batch(info.context, [parent], **arguments)
    return value


async def preloaded_or_loaded(
    parents: Sequence[Parent],
    known: Callable[[Parent], Value | None],
    key: Callable[[Parent], Key],
    load: Callable[[list[Key]], Awaitable[Sequence[Value]]],
) -> list[Value]:
    """Each parent's value: the one it came with (read in the statement that read it),
    else loaded, those missing in one `load` of their keys."""
    values = list(map(known, parents))
    to_load = [key(parent) for parent, value in zip(parents, values, strict=True) if value is None]
    loaded = iter(await load(to_load) if to_load else [])
    return [value if value is not None else next(loaded) for value in values]


def batch_of(field_def: GraphQLField) -> Batch | None:
    """The field's batch resolver, where calling it is exactly calling the resolver: no
    permission classes or field extensions, and arguments named alike in GraphQL and
    Python (the batch resolver takes them by their GraphQL names)."""
    definition = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or definition.base_resolver is None:
        return None
    batch: Batch | None = getattr(definition.base_resolver.wrapped_func, _BATCH, None)
    if batch is None or definition.extensions or definition.permission_classes:
        return None
    python_names = {argument.python_name for argument in definition.arguments}
    if set(field_def.args) != python_names:
        return None
    return batch


BatchTable = dict[tuple[str, str], Batch]


def batch_table(schema: GraphQLSchema) -> BatchTable:
    """Every batched field of the schema, by (type name, field name)."""
    return {
        (type_.name, name): batch
        for type_ in schema.type_map.values()
        if isinstance(type_, GraphQLObjectType)
        for name, field_def in type_.fields.items()
        if (batch := batch_of(field_def)) is not None
    }
