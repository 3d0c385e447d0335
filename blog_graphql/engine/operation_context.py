"""Strawberry's per-operation `ExecutionContext`, answering its operation's name and type once.

Both are properties that search the document's definitions, and the hooks of the schema
extensions ask for them six and two times per operation (and the type through an enum
lookup). The answers change only when the document does (parsing sets it), so they are
kept with the document they were worked out for.
"""

from __future__ import annotations

from graphql import DocumentNode
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType


class OperationContext(ExecutionContext):
    _named: tuple[DocumentNode | None, str | None] | None = None
    _typed: tuple[DocumentNode, str | None, OperationType] | None = None

    @property
    def operation_name(self) -> str | None:
        provided: str | None = self._provided_operation_name
        if provided is not None:
            return provided
        named, document = self._named, self.graphql_document
        if named is not None and named[0] is document:
            return named[1]
        name = super().operation_name
        self._named = (document, name)
        return name

    @property
    def operation_type(self) -> OperationType:
        typed, document, name = self._typed, self.graphql_document, self.operation_name
        if typed is not None and typed[0] is document and typed[1] == name:
            return typed[2]
        kind = super().operation_type  # raises when there is no document or no such operation
        assert document is not None
        self._typed = (document, name, kind)
        return kind
