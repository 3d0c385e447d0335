"""The exact cost of an introspection selection: the objects its answer would hold.

Introspection counts like any query (API.md), but its lists are not pages: their length is
fixed by the schema and known before anything runs. Counting them at the default page size
would refuse GraphiQL's own schema query (some 90,000 objects at 20 per list) while the real
answer holds a few thousand; so the answer's objects are counted exactly, with graphql-core's
own introspection resolvers over our schema. A selection is counted once per schema object
(a fragment spread on every type costs one walk per type), and the count stops as soon as it
passes `budget`: a flood of aliased `__schema` fields costs no more than the limit to refuse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    BooleanValueNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

META_FIELDS = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}


class OverBudget(Exception):
    """The answer holds more objects than the budget: `counted` so far."""

    def __init__(self, counted: int) -> None:
        super().__init__(counted)
        self.counted = counted


@dataclass(frozen=True)
class _ResolveInfo:
    """What graphql-core's introspection resolvers read of their `info`."""

    schema: GraphQLSchema


@dataclass
class IntrospectionCount:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]
    budget: int
    counted: int = 0
    read_variables: bool = False
    # Keyed by the selection set and the schema object it is read on (types, fields'
    # type references): both live as long as the walk, so their ids are not reused.
    _done: dict[tuple[int, int], int] = field(default_factory=dict)
    _holds: list[object] = field(default_factory=list)
    _walking: set[str] = field(default_factory=set)  # fragments being counted (cycles)

    def meta_field(self, node: FieldNode) -> int:
        """Objects in the answer to `__schema` or `__type` (on the root type)."""
        definition = META_FIELDS[node.name.value]
        return self._field(definition, node, None)

    def _field(self, definition: GraphQLField, node: FieldNode, source: object) -> int:
        named = get_named_type(definition.type)
        if not is_composite_type(named):
            return 0
        resolve = definition.resolve
        try:
            value = resolve(source, _ResolveInfo(self.schema), **self._arguments(definition, node))  # type: ignore[misc]
        except Exception:  # arguments of the wrong type: validation refuses the document
            return 0
        if value is None:
            return 0
        listed = is_list_type(get_nullable_type(definition.type))
        items = list(value) if listed else [value]
        total = 0
        for item in items:
            self._spend(1)
            total += 1 + self._selections(node.selection_set, named, item)
        return total

    def _selections(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType, source: object
    ) -> int:
        if selection_set is None:
            return 0
        key = (id(selection_set), id(source))
        if key in self._done:
            known = self._done[key]
            self._spend(known)
            return known
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                fields = getattr(parent, "fields", {})
                definition = fields.get(selection.name.value)
                if definition is not None:
                    total += self._field(definition, selection, source)
            elif isinstance(selection, InlineFragmentNode):
                total += self._selections(selection.selection_set, parent, source)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(selection.name.value, parent, source)
        self._done[key] = total
        self._holds.append(source)  # keeps `id(source)` from being reused meanwhile
        return total

    def _fragment(self, name: str, parent: GraphQLNamedType, source: object) -> int:
        fragment = self.fragments.get(name)
        if fragment is None or name in self._walking:
            return 0  # unknown fragments and cycles are validation errors
        self._walking.add(name)
        try:
            return self._selections(fragment.selection_set, parent, source)
        finally:
            self._walking.discard(name)

    def _spend(self, objects: int) -> None:
        self.counted += objects
        if self.counted > self.budget:
            raise OverBudget(self.counted)

    def _arguments(self, definition: GraphQLField, node: FieldNode) -> dict[str, Any]:
        """`includeDeprecated` and `__type(name:)`, the only arguments introspection takes."""
        return {
            argument.name.value: self._value(argument.value)
            for argument in node.arguments or ()
            if argument.name.value in definition.args
        }

    def _value(self, value: ValueNode) -> Any:
        if isinstance(value, VariableNode):
            self.read_variables = True
            return self.variables.get(value.name.value)
        if isinstance(value, BooleanValueNode | StringValueNode):
            return value.value
        return None  # anything else fails validation
