"""Fields collected once per operation and schema, kept across requests.

graphql-core collects the fields of every selection set anew for each request (fragments
merged, `@skip` and `@include` applied): about a tenth of the CPU of a post page. Where no
selection of a document carries a directive or fragment arguments, what is collected
depends only on the schema and the operation, and the document cache
(`document_cache.py`) hands a repeated query back as the same parsed operation. So such an
operation keeps its first collection: the grouped field sets are only read once collected,
so every request of it can share them.

The sub-selections are memoised, as graphql-core memoises them per request, by the
identity of the field list they were collected from. Only lists this memo handed out are
looked up: they stay alive with it, so their ids are never reused.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from blog_graphql.engine._compat import (
    CollectedFields,
    FieldDetailsList,
    FragmentDetails,
    GroupedFieldSet,
)

OPERATIONS_KEPT = 256  # as many as the document cache keeps documents


class OperationFields:
    """The collected fields of one operation on one schema."""

    __slots__ = ("_owned", "_subfields", "root")

    def __init__(self) -> None:
        self.root: GroupedFieldSet | None = None
        self._subfields: dict[tuple[GraphQLObjectType, int], CollectedFields] = {}
        self._owned: dict[int, FieldDetailsList] = {}  # every list handed out, by id

    def keep_root(self, grouped: GroupedFieldSet) -> GroupedFieldSet:
        self._own(grouped)
        self.root = grouped
        return grouped

    def subfields(
        self,
        object_type: GraphQLObjectType,
        details: FieldDetailsList,
        collect: Callable[[GraphQLObjectType, FieldDetailsList], CollectedFields],
    ) -> CollectedFields:
        """What `collect` collects, collected once for a list this memo handed out."""
        if self._owned.get(id(details)) is not details:
            return collect(object_type, details)
        key = (object_type, id(details))
        found = self._subfields.get(key)
        if found is None:
            found = self._subfields[key] = collect(object_type, details)
            self._own(found[0])
        return found

    def _own(self, grouped: GroupedFieldSet) -> None:
        for details in grouped.values():
            self._owned[id(details)] = details


class CollectedFieldsCache:
    """`OperationFields` for the operations seen last, a bounded LRU."""

    def __init__(self, size: int = OPERATIONS_KEPT) -> None:
        self.size = size
        # By the ids of the schema and operation, each kept alive by its entry.
        self._entries: OrderedDict[
            tuple[int, int], tuple[GraphQLSchema, OperationDefinitionNode, OperationFields | None]
        ] = OrderedDict()

    def of(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: Mapping[str, FragmentDetails],
    ) -> OperationFields | None:
        """The operation's memo; None where its collection depends on the variables."""
        key = (id(schema), id(operation))
        entry = self._entries.get(key)
        if entry is not None and entry[0] is schema and entry[1] is operation:
            self._entries.move_to_end(key)
            return entry[2]
        memo = OperationFields() if _fixed(operation, fragments) else None
        self._entries[key] = (schema, operation, memo)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return memo


def _fixed(operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDetails]) -> bool:
    """Whether no selection carries a directive (`@skip`, `@include`, `@defer`, ...) or
    fragment arguments: then the variables cannot change what is collected."""
    selection_sets = [operation.selection_set]
    selection_sets += [fragment.definition.selection_set for fragment in fragments.values()]
    return all(map(_fixed_selections, selection_sets))


def _fixed_selections(selection_set: SelectionSetNode | None) -> bool:
    if selection_set is None:
        return True
    for selection in selection_set.selections:
        if selection.directives or _arguments_of_spread(selection):
            return False
        if isinstance(selection, FieldNode | InlineFragmentNode) and not _fixed_selections(
            selection.selection_set
        ):
            return False
    return True


def _arguments_of_spread(selection: Any) -> bool:
    """Fragment arguments (graphql-core's experimental syntax) bind variables of their own."""
    return isinstance(selection, FragmentSpreadNode) and bool(getattr(selection, "arguments", None))
