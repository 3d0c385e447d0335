"""Query limits (API.md): depth, aliases, tokens, directives and cost, checked before execution.

The measure walks the selected operation once, through fragments and inline fragments,
against the schema, so it knows which fields are objects, which are lists and which take
`first`. Every object of the answer costs 1 (a connection, each edge and each node; scalars
and enums cost nothing), and a list multiplies what each of its items costs by its length:
the page list (`edges`, `nodes`) directly inside a paginated field is that field's `first`
long, any other list the default page size (20). It needs nothing from the domains. A page
size over 100 or outside 32 bits is BAD_USER_INPUT before any cost is worked out.
Introspection (`__schema`, `__type`) counts too, its lists at their real length
(`introspection_cost.py`).
"""

from __future__ import annotations

import re
import sys
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    is_composite_type,
    is_list_type,
)
from strawberry.extensions import SchemaExtension

from blog_graphql.config.settings import Settings
from blog_graphql.engine.schema import core_schema
from blog_graphql.errors import DomainError, InvalidInput, QueryTooComplex
from blog_graphql.guards.introspection_cost import META_FIELDS, IntrospectionCount, OverBudget
from blog_graphql.relay.pagination import MAX_PAGE_SIZE

PAGE_SIZES = ("first", "last")
# How long a list directly inside a paginated field is; None elsewhere.
Page = int | None
# Beyond this nesting of fields and fragments the walk stops: the query is far too deep.
MAX_WALK_NESTING = 200
# Counting every token of a 1 MiB flood would cost more than refusing it; stop counting here.
TOKEN_COUNT_CAP_FACTOR = 100
# GraphQL's lexical grammar; used only to report how many tokens a refused document has.
TOKEN = re.compile(
    r'"""(?:\\"""|[^"]|"(?!""))*"""'  # block string
    r'|"(?:\\.|[^"\\\n\r])*"'  # string
    r"|#[^\n\r]*"  # comment: counted, so a flood of comments is refused too
    r"|\.\.\.|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[_A-Za-z][_0-9A-Za-z]*|[!$&():=@\[\]{|}]"
)


@dataclass(frozen=True)
class QueryLimits:
    depth: int = 15
    aliases: int = 15
    tokens: int = 2000
    directives: int = 50
    cost: int = 10_000
    default_page_size: int = 20

    @classmethod
    def from_settings(cls, settings: Settings) -> QueryLimits:
        return cls(
            depth=settings.query_max_depth,
            aliases=settings.query_max_aliases,
            tokens=settings.query_max_tokens,
            directives=settings.query_max_directives,
            cost=settings.query_max_cost,
        )


@dataclass(frozen=True)
class Measure:
    """What an operation would do, before it runs."""

    depth: int = 0
    aliases: int = 0
    directives: int = 0
    cost: int = 0

    def beside(self, other: Measure) -> Measure:
        """Two selections side by side: the deeper depth, the sum of the rest."""
        return Measure(
            depth=max(self.depth, other.depth),
            aliases=self.aliases + other.aliases,
            directives=self.directives + other.directives,
            cost=self.cost + other.cost,
        )


NOTHING = Measure()


class TooDeep(Exception):
    """The document nests past anything a limit could allow."""


class BadPageSize(Exception):
    """A `first` (or `last`) no page can have: refused as BAD_USER_INPUT on that argument."""

    def __init__(self, argument: str) -> None:
        super().__init__(argument)
        self.argument = argument

    def as_invalid_input(self) -> InvalidInput:
        return InvalidInput({self.argument: f"Use a number from 0 to {MAX_PAGE_SIZE}."})


@dataclass
class _Walk:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]
    operation: OperationDefinitionNode
    page_size: int
    introspection: IntrospectionCount
    # A fragment measures the same wherever it is spread (inside the same page size), so
    # each is walked once: a "fragment bomb" that spreads fragments into fragments costs
    # us nothing.
    # (Inside introspection a fragment's cost is counted elsewhere: it is kept apart.)
    done: dict[tuple[str, Page, bool], Measure] = field(default_factory=dict)
    walking: set[tuple[str, Page, bool]] = field(default_factory=set)
    nesting: int = 0
    read_variables: bool = False  # the measure holds for these variables' values only
    # Inside `__schema` / `__type`: only depth, aliases and directives are walked here.
    introspecting: bool = False

    def selections(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None, page: Page
    ) -> Measure:
        """`page`: the length of a list directly inside, when inside a paginated field."""
        total = NOTHING
        for selection in selection_set.selections if selection_set else ():
            total = total.beside(Measure(directives=len(selection.directives or ())))
            if isinstance(selection, FieldNode):
                total = total.beside(self.field(selection, parent, page))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.named_type(condition.name.value) if condition else parent
                total = total.beside(self.nested(selection.selection_set, inner, page))
            elif isinstance(selection, FragmentSpreadNode):
                total = total.beside(self.fragment(selection.name.value, page))
        return total

    def nested(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None, page: Page
    ) -> Measure:
        self.nesting += 1
        if self.nesting > MAX_WALK_NESTING:
            raise TooDeep
        try:
            return self.selections(selection_set, parent, page)
        finally:
            self.nesting -= 1

    def field(self, node: FieldNode, parent: GraphQLNamedType | None, page: Page) -> Measure:
        aliases = 1 if node.alias else 0
        name = node.name.value
        if name in META_FIELDS and not self.introspecting:
            return self.meta_field(node, aliases)
        definition = self.field_definition(parent, name)
        field_type = definition.type if definition else None
        size = self.page_size_argument(node, definition)
        listed = field_type is not None and is_list_type(get_nullable_type(field_type))
        child_type = get_named_type(field_type) if field_type else None
        # A connection (a paginated object): the page list inside it is `size` long.
        inner = self.nested(node.selection_set, child_type, size if not listed else None)
        if self.introspecting:
            return Measure(1 + inner.depth, aliases + inner.aliases, inner.directives)
        own = 1 if child_type is not None and is_composite_type(child_type) else 0
        length = 1
        if listed:
            length = size if size is not None else page if page is not None else self.page_size
        return Measure(
            depth=1 + inner.depth,
            aliases=aliases + inner.aliases,
            directives=inner.directives,
            cost=length * (own + inner.cost),
        )

    def meta_field(self, node: FieldNode, aliases: int) -> Measure:
        """`__schema` or `__type`: its shape walked here, its objects counted exactly."""
        self.introspecting = True
        try:
            meta_type = get_named_type(META_FIELDS[node.name.value].type)
            inner = self.nested(node.selection_set, meta_type, None)
        finally:
            self.introspecting = False
        return Measure(
            depth=1 + inner.depth,
            aliases=aliases + inner.aliases,
            directives=inner.directives,
            cost=self.introspection.meta_field(node),
        )

    def fragment(self, name: str, page: Page) -> Measure:
        key = (name, page, self.introspecting)
        definition = self.fragments.get(name)
        if key in self.done:
            return self.done[key]
        if definition is None or key in self.walking:
            return NOTHING  # unknown fragments and cycles are validation errors
        self.walking.add(key)
        try:
            parent = self.named_type(definition.type_condition.name.value)
            measure = self.nested(definition.selection_set, parent, page)
        finally:
            self.walking.discard(key)
        measure = measure.beside(Measure(directives=len(definition.directives or ())))
        self.done[key] = measure
        return measure

    def named_type(self, name: str) -> GraphQLNamedType | None:
        return self.schema.get_type(name)

    def field_definition(self, parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
        fields = getattr(parent, "fields", None)
        return fields.get(name) if fields else None

    def page_size_argument(self, node: FieldNode, definition: GraphQLField | None) -> int | None:
        """The page size a paginated field returns: its `first`, else the default.

        Raises BadPageSize for one no page can have (over 100, negative, past 32 bits).
        """
        if definition is None or not any(name in definition.args for name in PAGE_SIZES):
            return None
        for argument in node.arguments or ():
            name = argument.name.value
            if name in PAGE_SIZES and name in definition.args:
                size = self.int_value(argument.value)
                if not 0 <= size <= MAX_PAGE_SIZE:
                    raise BadPageSize(name)
                return size
        return self.page_size

    def int_value(self, value: Any) -> int:
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode):
            self.read_variables = True
            given = self.variables.get(value.name.value)
            if isinstance(given, int) and not isinstance(given, bool):
                return given
            return self.variable_default(value.name.value)
        return self.page_size  # null or a wrong type: validation will say so

    def variable_default(self, name: str) -> int:
        for definition in self.operation.variable_definitions or ():
            default = definition.default_value
            if definition.variable.name.value == name and isinstance(default, IntValueNode):
                return int(default.value)
        return self.page_size


ROOT_TYPES = {
    OperationType.QUERY: "query_type",
    OperationType.MUTATION: "mutation_type",
    OperationType.SUBSCRIPTION: "subscription_type",
}


def measure_operation(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None = None,
    page_size: int = 20,
    budget: int | None = None,
) -> Measure:
    """Depth, aliases, directives and cost of `operation`.

    Raises TooDeep past any sense, BadPageSize for a page no one may ask for, and OverBudget
    as soon as introspection alone would answer more than `budget` objects.
    """
    measure, _read = _measure(schema, document, operation, variables, page_size, budget)
    return measure


def _measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
    page_size: int,
    budget: int | None,
) -> tuple[Measure, bool]:
    """The measure, and whether it read a variable (then it holds for those values only)."""
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    variables = variables or {}
    introspection = IntrospectionCount(schema, fragments, variables, budget or sys.maxsize)
    walk = _Walk(schema, fragments, variables, operation, page_size, introspection)
    root = getattr(schema, ROOT_TYPES[operation.operation])
    measure = walk.selections(operation.selection_set, root, page=None)
    own_directives = len(operation.directives or ()) + sum(
        len(definition.directives or ()) for definition in operation.variable_definitions or ()
    )
    read_variables = walk.read_variables or introspection.read_variables
    return measure.beside(Measure(directives=own_directives)), read_variables


class MeasureCache:
    """Measures of the operations of documents kept by the document cache, so a repeated
    operation is not walked again (the feed query's walk is some 200 Python calls).

    Keyed by the document's identity, since a cached document is the same object on every
    request; the entry holds the document, so its id is not reused while the entry lives.
    Only measures that read no variable are kept: the others depend on the values sent.
    """

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[int, str | None], tuple[DocumentNode, Measure]] = (
            OrderedDict()
        )

    def get(self, document: DocumentNode, operation_name: str | None) -> Measure | None:
        key = (id(document), operation_name)
        entry = self._entries.get(key)
        if entry is None or entry[0] is not document:
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, document: DocumentNode, operation_name: str | None, measure: Measure) -> None:
        self._entries[(id(document), operation_name)] = (document, measure)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)


def count_tokens(source: str, cap: int) -> int:
    """Lexical tokens and comments in `source`, counting no further than `cap`."""
    return sum(1 for _ in islice(TOKEN.finditer(source), cap))


def excesses(limits: QueryLimits, measure: Measure) -> list[DomainError]:
    checks = (
        ("depth", limits.depth, measure.depth),
        ("aliases", limits.aliases, measure.aliases),
        ("directives", limits.directives, measure.directives),
        ("cost", limits.cost, measure.cost),
    )
    return [QueryTooComplex(rule, limit, value) for rule, limit, value in checks if value > limit]


class QueryLimiter(SchemaExtension):
    """Refuses an operation over a limit before validation and execution (HTTP and WebSocket)."""

    def __init__(self, *, limits: QueryLimits, measures: MeasureCache | None = None) -> None:
        self.limits = limits
        self.measures = measures or MeasureCache(size=0)  # built alone, it keeps nothing

    def on_parse(self) -> Iterator[None]:
        # graphql-core stops lexing past this many tokens (comments included), so a flood
        # costs at most the limit; the option is deprecated but is the one that counts both.
        self.execution_context.parse_options["max_tokens"] = self.limits.tokens
        yield
        context = self.execution_context
        if context.graphql_document is None and context.pre_execution_errors and context.query:
            self._refuse_token_flood(context.pre_execution_errors, context.query)

    def _refuse_token_flood(self, errors: list[GraphQLError], source: str) -> None:
        limit = self.limits.tokens
        measured = count_tokens(source, limit * TOKEN_COUNT_CAP_FACTOR)
        if measured > limit:
            refusal = QueryTooComplex("tokens", limit, measured)
            # Strawberry already holds this error object: rewrite it rather than replace it.
            errors[0].message = refusal.message
            errors[0].extensions = refusal.extensions

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.pre_execution_errors is None and context.graphql_document is not None:
            refusals = self._check(context.graphql_document)
            if refusals:
                # Set before validation runs: Strawberry then skips it and answers these.
                context.pre_execution_errors = [error.as_graphql_error() for error in refusals]
        yield

    def _check(self, document: DocumentNode) -> list[DomainError]:
        context = self.execution_context
        measure = self.measures.get(document, context.operation_name)
        if measure is None:
            try:
                measure = self._measure(document)
            except TooDeep:
                return [QueryTooComplex("depth", self.limits.depth, MAX_WALK_NESTING)]
            except BadPageSize as bad:
                return [bad.as_invalid_input()]
            except OverBudget as over:
                return [QueryTooComplex("cost", self.limits.cost, over.counted)]
            if measure is None:
                return []
        return excesses(self.limits, measure)

    def _measure(self, document: DocumentNode) -> Measure | None:
        """None when the document has no operation of that name (validation says so)."""
        context = self.execution_context
        operation = get_operation_ast(document, context.operation_name)
        if operation is None:
            return None
        variables = context.variables if isinstance(context.variables, dict) else {}
        schema = core_schema(context.schema)
        page_size = self.limits.default_page_size
        budget = self.limits.cost
        measure, read_variables = _measure(
            schema, document, operation, variables, page_size, budget
        )
        if not read_variables:
            self.measures.put(document, context.operation_name, measure)
        return measure
