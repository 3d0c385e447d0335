"""Which fields of a document may answer differently for different viewers.

A subscription event is executed once for every subscriber whose answer must be the same
(`shared_events.py`). Whether the viewer is part of that "same" depends on what the
document selects: a field without a resolver reads the event's own object, and so does a
resolver marked `same_for_every_viewer`; any other resolver may read the viewer (an
email shown to its owner, rows the viewer's visibility rules filter), so a document that
selects one is shared only between sockets of the same viewer. Unsure means "depends".
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
)
from strawberry.types.field import StrawberryField

from blog_graphql.engine._compat import GraphQLCoreConverter, is_basic_attribute_resolver

Resolver = TypeVar("Resolver", bound=Callable[..., Any])
_SAME_FOR_EVERY_VIEWER = "__same_for_every_viewer__"
KEPT_OPERATIONS = 1024  # subscription documents remembered; each is looked at once


def same_for_every_viewer(resolver: Resolver) -> Resolver:
    """Mark a resolver whose answer never depends on who asks (it reads no viewer and no
    loader that filters by one), so live events selecting it can be shared by viewers."""
    setattr(resolver, _SAME_FOR_EVERY_VIEWER, True)
    return resolver


def depends_on_viewer(field_def: GraphQLField) -> bool:
    definition = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField):
        return True
    if definition.is_subscription:  # executing an event, it returns the event itself
        return False
    if definition.permission_classes or definition.extensions:
        return True
    if definition.is_basic_field:
        return field_def.resolve is None or not is_basic_attribute_resolver(field_def.resolve)
    resolver = definition.base_resolver
    return resolver is None or not getattr(resolver.wrapped_func, _SAME_FOR_EVERY_VIEWER, False)


class ViewerDependence:
    """`selects_viewer_fields(schema, operation, fragments)`, worked out once per document."""

    def __init__(self) -> None:
        # By id, with the node kept alive in the value, so an id is never another node's.
        self._known: OrderedDict[int, tuple[OperationDefinitionNode, bool]] = OrderedDict()

    def of(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
    ) -> bool:
        known = self._known.get(id(operation))
        if known is not None and known[0] is operation:
            return known[1]
        root = schema.subscription_type
        answer = root is None or _selects(schema, [root], operation.selection_set, fragments, ())
        self._known[id(operation)] = (operation, answer)
        if len(self._known) > KEPT_OPERATIONS:
            self._known.popitem(last=False)
        return answer


def _selects(
    schema: GraphQLSchema,
    parents: list[GraphQLObjectType],
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    spread: tuple[str, ...],
) -> bool:
    """Whether any field of `selection_set` on any of the `parents` types (or below it)
    depends on the viewer. Directives are ignored: a skipped field still counts."""
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if _field_selects(schema, parents, selection, fragments, spread):
                return True
            continue
        inner_spread = spread
        condition: NamedTypeNode | None
        if isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in spread:
                return fragment is None  # unknown: unsure; a cycle: seen already
            condition, inner = fragment.type_condition, fragment.selection_set
            inner_spread = (*spread, name)
        elif isinstance(selection, InlineFragmentNode):
            condition, inner = selection.type_condition, selection.selection_set
        else:
            return True
        narrowed = parents if condition is None else _narrow(schema, parents, condition.name.value)
        if _selects(schema, narrowed, inner, fragments, inner_spread):
            return True
    return False


def _field_selects(
    schema: GraphQLSchema,
    parents: list[GraphQLObjectType],
    node: FieldNode,
    fragments: dict[str, FragmentDefinitionNode],
    spread: tuple[str, ...],
) -> bool:
    name = node.name.value
    if name == "__typename":
        return False
    for parent in parents:
        field_def = parent.fields.get(name)
        if field_def is None:
            if name.startswith("__"):
                return True  # introspection: not worth the bother
            continue
        if depends_on_viewer(field_def):
            return True
        if node.selection_set is not None:
            children = _object_types(schema, get_named_type(field_def.type))
            if _selects(schema, children, node.selection_set, fragments, spread):
                return True
    return False


def _object_types(schema: GraphQLSchema, named: Any) -> list[GraphQLObjectType]:
    if isinstance(named, GraphQLObjectType):
        return [named]
    if isinstance(named, GraphQLAbstractType):
        return list(schema.get_possible_types(named))
    return []


def _narrow(
    schema: GraphQLSchema, parents: Iterable[GraphQLObjectType], type_name: str
) -> list[GraphQLObjectType]:
    allowed = {type_.name for type_ in _object_types(schema, schema.get_type(type_name))}
    return [parent for parent in parents if parent.name in allowed]
