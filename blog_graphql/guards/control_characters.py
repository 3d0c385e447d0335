"""API.md: a string argument holding a control character is BAD_USER_INPUT on that field.

PostgreSQL text cannot hold NUL, and no name, login or address means one. One check for
every argument and input field, inline or in variables, at any depth: `extensions.fields`
names the innermost argument or input field that holds one. Long texts (Markdown, bios)
may hold tab, line feed and carriage return (Windows line ends: CR LF); nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLSchema,
    GraphQLType,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
)
from strawberry.extensions import SchemaExtension

from blog_graphql.engine.schema import core_schema
from blog_graphql.errors import InvalidInput

# Arguments and input fields that hold multi-line text, by their GraphQL names.
LONG_TEXTS = frozenset({"content", "excerpt", "bio"})
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode's Cc: C0, DEL and C1
CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
NO_CONTROL = "Remove the control characters."
NO_CONTROL_BUT_LINES = "Remove the control characters (tabs and line breaks may stay)."
# In a document, a control character comes only from an escape or a block string.
_MAY_HIDE_CONTROL = re.compile(r'\\|"""')


def problem(name: str, text: str) -> str | None:
    """Why the string `text` of argument or input field `name` is refused, if it is."""
    if name in LONG_TEXTS:
        return NO_CONTROL_BUT_LINES if CONTROL_BUT_LINES.search(text) else None
    return NO_CONTROL if CONTROL.search(text) else None


def any_control(value: Any) -> bool:
    """Whether a JSON value holds a control character in any of its strings."""
    if isinstance(value, str):
        return CONTROL.search(value) is not None
    if isinstance(value, list):
        return any(any_control(item) for item in value)
    if isinstance(value, dict):
        return any(any_control(item) for item in value.values())
    return False


class RefuseControlCharacters(SchemaExtension):
    """Refuses an operation, before it runs, whose string arguments hold control characters."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        variables = context.variables if isinstance(context.variables, dict) else {}
        suspect = context.query is None or _MAY_HIDE_CONTROL.search(context.query)
        if document is not None and (suspect or any_control(variables)):
            operation = get_operation_ast(document, context.operation_name)
            if operation is not None:
                fields = dict(
                    bad_fields(core_schema(context.schema), document, operation, variables)
                )
                if fields:
                    raise InvalidInput(fields)  # Strawberry answers it as a pre-execution error
        yield


def bad_fields(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any],
) -> Iterator[tuple[str, str]]:
    """(field, problem) for every string in the operation's arguments that is refused."""
    walk = _Walk(schema, document, operation, variables)
    root = schema.get_root_type(operation.operation)
    if root is not None:
        yield from walk.selections(operation.selection_set, root)


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.defaults = {
            definition.variable.name.value: definition.default_value
            for definition in operation.variable_definitions or ()
        }
        self.fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self.seen: set[str] = set()  # a fragment's values are the same wherever it is spread

    def selections(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType
    ) -> Iterator[tuple[str, str]]:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield from self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                yield from self.selections(selection.selection_set, inner or parent)
            elif isinstance(selection, FragmentSpreadNode):
                yield from self.spread(selection.name.value)

    def spread(self, name: str) -> Iterator[tuple[str, str]]:
        fragment = self.fragments.get(name)
        if fragment is None or name in self.seen:
            return
        self.seen.add(name)
        inner = self.schema.get_type(fragment.type_condition.name.value)
        if inner is not None:
            yield from self.selections(fragment.selection_set, inner)

    def field(self, node: FieldNode, parent: GraphQLNamedType) -> Iterator[tuple[str, str]]:
        definition = getattr(parent, "fields", {}).get(node.name.value)
        if definition is None:  # __typename, introspection, a union's own selections
            return
        for argument in node.arguments or ():
            argument_definition = definition.args.get(argument.name.value)
            if argument_definition is not None:
                yield from self.value(argument.value, argument_definition.type, argument.name.value)
        if node.selection_set is not None:
            yield from self.selections(node.selection_set, get_named_type(definition.type))

    def value(self, node: ValueNode, type_: GraphQLType, name: str) -> Iterator[tuple[str, str]]:
        """A value written in the document."""
        nullable = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        if isinstance(node, VariableNode):
            variable = node.name.value
            if variable in self.variables:
                yield from self.given(self.variables[variable], nullable, name)
            elif (default := self.defaults.get(variable)) is not None:
                yield from self.value(default, nullable, name)
        elif isinstance(node, StringValueNode):
            if (reason := problem(name, node.value)) is not None:
                yield name, reason
        elif isinstance(node, ListValueNode):
            item_type = nullable.of_type if isinstance(nullable, GraphQLList) else nullable
            for item in node.values:
                yield from self.value(item, item_type, name)
        elif isinstance(node, ObjectValueNode) and isinstance(nullable, GraphQLInputObjectType):
            for field in node.fields:
                if (definition := nullable.fields.get(field.name.value)) is not None:
                    yield from self.value(field.value, definition.type, field.name.value)

    def given(self, value: Any, type_: GraphQLType, name: str) -> Iterator[tuple[str, str]]:
        """A value sent in `variables` (JSON)."""
        nullable = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        if isinstance(value, str):
            if (reason := problem(name, value)) is not None:
                yield name, reason
        elif isinstance(value, list):
            item_type = nullable.of_type if isinstance(nullable, GraphQLList) else nullable
            for item in value:
                yield from self.given(item, item_type, name)
        elif isinstance(value, dict) and isinstance(nullable, GraphQLInputObjectType):
            for key, item in value.items():
                if (definition := nullable.fields.get(key)) is not None:
                    yield from self.given(item, definition.type, key)
