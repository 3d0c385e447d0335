"""Strawberry's per-operation `ExecutionContext`, answering its operation's name and type once.

Both are properties that search the document's definitions, and the hooks of the schema
extensions ask for them six and two times per operation (and the type through an enum
lookup). The answers change only when the document does (parsing sets it), so they are
kept with the document they were worked out for.

A document with several operations and no `operationName` runs none of them (the GraphQL
spec's GetOperation): Strawberry would run the first.
"""

from __future__ import annotations

from graphql import DocumentNode, OperationDefinitionNode
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from blog_graphql.errors import SeveralOperations


def several_operations(document: DocumentNode | None) -> bool:
    if document is None:
        return False
    operations = (d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    return next(operations, None) is not None and next(operations, None) is not None


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
        name = None if several_operations(document) else super().operation_name
        self._named = (document, name)
        return name

    @property
    def operation_type(self) -> OperationType:
        typed, document, name = self._typed, self.graphql_document, self.operation_name
        if typed is not None and typed[0] is document and typed[1] == name:
            return typed[2]
        if name is None and several_operations(document):
            raise SeveralOperations
        kind = super().operation_type  # raises when there is no document or no such operation
        assert document is not None
        self._typed = (document, name, kind)
        return kind
