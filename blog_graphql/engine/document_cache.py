"""Parsed and validated documents kept per schema, so a repeated operation skips both steps.

Clients send the same few documents over and over; parsing and validating the feed
query costs more CPU than executing half of it. Only successes are kept: a document
that fails to parse or validate is worked out again each time (its errors are then
fresh objects, and an attacker's junk never fills the cache).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator
from dataclasses import dataclass

from graphql import DocumentNode
from strawberry.extensions import SchemaExtension

DEFAULT_SIZE = 256


@dataclass
class CachedDocument:
    document: DocumentNode
    valid: bool = False  # passed this schema's validation rules


class DocumentCache:
    """A bounded LRU of documents by query text and parse options; one per schema (its
    validation rules are the same for every operation)."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, CachedDocument] = OrderedDict()

    def get(self, key: Hashable) -> CachedDocument | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: Hashable, document: DocumentNode) -> CachedDocument:
        entry = self._entries[key] = CachedDocument(document)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return entry


class CacheDocuments(SchemaExtension):
    """Comes after the query limits in the extension list: they set the parse options
    (the token cap) before this looks up, and refuse before this skips validation."""

    def __init__(self, *, cache: DocumentCache) -> None:
        self.cache = cache
        self.entry: CachedDocument | None = None

    def _key(self) -> Hashable:
        context = self.execution_context
        return (context.query, tuple(sorted(context.parse_options.items())))

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None and context.graphql_document is None:
            self.entry = self.cache.get(self._key())
            if self.entry is not None:
                context.graphql_document = self.entry.document  # Strawberry skips parsing
        yield
        document = context.graphql_document
        if self.entry is None and document is not None and context.query is not None:
            self.entry = self.cache.put(self._key(), document)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        entry = self.entry
        if entry is None or entry.document is not context.graphql_document:
            yield
            return
        # An empty list where a guard left None (none refused it this time) makes
        # Strawberry skip validation.
        if entry.valid and context.pre_execution_errors is None:
            context.pre_execution_errors = []
        yield
        if context.pre_execution_errors == []:
            entry.valid = True
