"""Persisted documents: Automatic Persisted Queries and a manifest of trusted documents.

APQ (Apollo's protocol): `extensions.persistedQuery = {version: 1, sha256Hash}`. A hash
alone runs the document registered under it, or answers PERSISTED_QUERY_NOT_FOUND so the
client resends it with its query; a query with its hash is checked, run and, once it has
parsed and validated, kept - in Redis for every instance when REDIS_URL is set (24 hours,
renewed on use), else in a bounded in-process LRU. Trusted documents come from the
TRUSTED_DOCUMENTS manifest and are asked for by `documentId`; with
TRUSTED_DOCUMENTS_ONLY nothing else runs. Either way the request then carries the
document's exact text, so the engine's document cache skips parsing and validation.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import ConnectionPool, Redis
from redis.exceptions import RedisError

from blog_graphql.config.setting_types import bare_sha256, document_hash, parse_trusted_documents
from blog_graphql.config.settings import Settings
from blog_graphql.errors import (
    BAD_REQUEST,
    PERSISTED_QUERY_NOT_FOUND,
    PERSISTED_QUERY_NOT_FOUND_MESSAGE,
)

logger = logging.getLogger("blog_graphql.persisted")

APQ_VERSION = 1
TTL_SECONDS = 24 * 60 * 60
# A registered document is at most this long (the feed query is ~2 KiB); longer ones
# still run, they are just not kept.
MAX_DOCUMENT_BYTES = 64 * 1024
MEMORY_BUDGET_BYTES = 8 * 1024 * 1024
ONLY_TRUSTED = "Only trusted documents run here: send the documentId of a document in the manifest."


class PersistedDocumentError(Exception):
    """A persisted request that cannot run; `code` is its `extensions.code`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def formatted(self) -> dict[str, object]:
        return {"message": self.message, "extensions": {"code": self.code}}


def bad_request(message: str) -> PersistedDocumentError:
    return PersistedDocumentError(BAD_REQUEST, message)


def not_found() -> PersistedDocumentError:
    return PersistedDocumentError(PERSISTED_QUERY_NOT_FOUND, PERSISTED_QUERY_NOT_FOUND_MESSAGE)


@dataclass(frozen=True)
class Resolved:
    """The document to run; `register` is the APQ hash to keep it under once it validates."""

    query: str
    register: str | None = None


class DocumentStore(Protocol):
    async def get(self, digest: str) -> str | None: ...

    async def put(self, digest: str, document: str) -> None: ...


class MemoryStore:
    """An LRU of documents by hash, bounded by their total size."""

    def __init__(self, budget_bytes: int = MEMORY_BUDGET_BYTES) -> None:
        self.budget_bytes = budget_bytes
        self.used_bytes = 0
        self._documents: OrderedDict[str, str] = OrderedDict()

    async def get(self, digest: str) -> str | None:
        document = self._documents.get(digest)
        if document is not None:
            self._documents.move_to_end(digest)
        return document

    async def put(self, digest: str, document: str) -> None:
        if digest in self._documents:
            self._documents.move_to_end(digest)
            return
        self._documents[digest] = document
        self.used_bytes += len(document)
        while self.used_bytes > self.budget_bytes:
            _, evicted = self._documents.popitem(last=False)
            self.used_bytes -= len(evicted)


class RedisStore:
    """Documents in Redis, shared by every instance; while Redis is down, in memory (a
    hash-only request then may miss, and the client resends its query: nothing breaks)."""

    def __init__(self, redis: Redis, prefix: str, fallback: MemoryStore) -> None:
        self.redis = redis
        self.prefix = prefix
        self.fallback = fallback
        self._down = False

    async def get(self, digest: str) -> str | None:
        try:
            value = await self.redis.getex(self.prefix + digest, ex=TTL_SECONDS)
        except RedisError as error:
            self._outage(error)
            return await self.fallback.get(digest)
        self._down = False
        return value.decode("utf-8") if isinstance(value, bytes) else value

    async def put(self, digest: str, document: str) -> None:
        try:
            await self.redis.set(self.prefix + digest, document, ex=TTL_SECONDS)
        except RedisError as error:
            self._outage(error)
            await self.fallback.put(digest, document)
            return
        self._down = False

    def _outage(self, error: RedisError) -> None:
        if not self._down:  # once per outage, not once per request
            logger.warning("persisted queries: Redis unavailable, kept in memory: %r", error)
        self._down = True


class PersistedDocuments:
    """Turns a request's `documentId` or `extensions.persistedQuery` into the text to run."""

    def __init__(
        self, store: DocumentStore, trusted: Mapping[str, str], trusted_only: bool = False
    ) -> None:
        self.store = store
        self.trusted = trusted
        self.trusted_only = trusted_only

    @classmethod
    def from_settings(
        cls, settings: Settings, redis_pool: ConnectionPool | None
    ) -> PersistedDocuments:
        """Over the app's one Redis pool (the rate limiter's, which closes it), if any."""
        store: DocumentStore = MemoryStore()
        if redis_pool is not None:
            redis = Redis(connection_pool=redis_pool)
            store = RedisStore(redis, f"{settings.pubsub_prefix}apq:", MemoryStore())
        trusted = {}
        if settings.trusted_documents is not None:
            trusted = parse_trusted_documents(settings.trusted_documents)
        return cls(store, trusted, settings.trusted_documents_only)

    async def resolve(
        self, query: str | None, extensions: Mapping[str, object] | None, document_id: object
    ) -> Resolved:
        if document_id is not None:
            return self._trusted_document(query, document_id)
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is not None:
            return await self._automatic(query, persisted)
        if self.trusted_only:
            raise bad_request(ONLY_TRUSTED)
        if query is None:
            raise bad_request("The query parameter is missing.")
        return Resolved(query)

    async def register(self, resolved: Resolved) -> None:
        """Keep an APQ registration, once its document parsed and validated."""
        if resolved.register and len(resolved.query.encode("utf-8")) <= MAX_DOCUMENT_BYTES:
            await self.store.put(resolved.register, resolved.query)

    def _trusted_document(self, query: str | None, document_id: object) -> Resolved:
        if not isinstance(document_id, str):
            raise bad_request("The documentId parameter must be a string.")
        if query is not None:
            raise bad_request("Send a documentId or a query, not both.")
        digest = bare_sha256(document_id)
        document = self.trusted.get(digest) if digest else None
        if document is None:
            raise not_found()
        return Resolved(document)

    async def _automatic(self, query: str | None, persisted: object) -> Resolved:
        if not isinstance(persisted, Mapping) or persisted.get("version") != APQ_VERSION:
            raise bad_request("Unsupported persisted query version: send version 1.")
        sha256 = persisted.get("sha256Hash")
        digest = bare_sha256(sha256) if isinstance(sha256, str) else None
        if digest is None or (isinstance(sha256, str) and sha256.startswith("sha256:")):
            raise bad_request("The persistedQuery sha256Hash must be 64 hexadecimal digits.")
        if query is None:
            return Resolved(await self._document_by_hash(digest))
        if self.trusted_only:
            raise bad_request(ONLY_TRUSTED)
        if document_hash(query) != digest:
            raise bad_request("provided sha does not match query")
        return Resolved(query, register=digest)

    async def _document_by_hash(self, digest: str) -> str:
        # A trusted document is also found by its hash alone: Apollo's persisted query
        # lists send manifest ids this way.
        document = self.trusted.get(digest)
        if document is None and not self.trusted_only:
            document = await self.store.get(digest)
        if document is None:
            raise not_found()
        return document
