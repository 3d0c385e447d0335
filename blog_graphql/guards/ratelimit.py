"""Rate limits per client, per user and per sensitive root field, counted per operation.

Budgets live in `limits` storage: Redis when REDIS_URL is set (shared by every instance),
process memory otherwise. While Redis is unreachable each instance counts in its own
memory instead (degraded: `/readyz` and a metric say so) and tries Redis again every
few seconds, so the limits never fail open. Every operation costs one from its client
address's budget and, when signed in, one from its user's; each occurrence of a watched
root field (`login`, `addComment`, ...) costs one from that field's budget, so aliases
cannot multiply tries.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
    get_operation_ast,
)
from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import ConnectionPool
from starlette.requests import HTTPConnection
from strawberry.extensions import SchemaExtension

from blog_graphql.config.setting_types import parse_field_rate_limits, parse_rate_limit
from blog_graphql.config.settings import Settings
from blog_graphql.errors import RateLimited
from blog_graphql.guards.client import UNKNOWN, address_of
from blog_graphql.observability import metrics

logger = logging.getLogger("blog_graphql.ratelimit")
KEY_PREFIX = "blog_graphql:rate"
REDIS_TIMEOUT_SECONDS = 1.0
# While degraded, how long requests count in memory before one tries Redis again.
RETRY_REDIS_SECONDS = 5.0


@dataclass
class RateLimiter:
    """Named budgets over one storage; `check` answers the seconds to wait, or None."""

    storage: Storage
    per_client: list[RateLimitItem]
    per_user: list[RateLimitItem]
    per_field: dict[str, list[RateLimitItem]]
    pool: ConnectionPool | None = None
    strategy: MovingWindowRateLimiter = field(init=False)
    # Counts in this process's memory while `storage` is unreachable.
    fallback: MovingWindowRateLimiter = field(init=False)
    _retry_at: float | None = field(default=None, init=False)  # None: not degraded

    def __post_init__(self) -> None:
        self.strategy = MovingWindowRateLimiter(self.storage)
        self.fallback = MovingWindowRateLimiter(MemoryStorage())

    @property
    def degraded(self) -> bool:
        """Counting per instance in memory because the shared store is unreachable."""
        return self._retry_at is not None

    def retry_store_now(self) -> None:
        """The store answers again (readiness saw it): the next operation tries it."""
        if self._retry_at is not None:
            self._retry_at = 0.0

    @classmethod
    def from_settings(cls, settings: Settings, key_prefix: str = KEY_PREFIX) -> RateLimiter:
        storage: Storage
        pool = None
        if settings.redis_url:
            pool = ConnectionPool.from_url(
                settings.redis_url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
            storage = RedisStorage(
                "async+redis://",
                implementation="redispy",
                key_prefix=key_prefix,
                connection_pool=cast(Any, pool),  # passed through to redis-py
            )
        else:
            storage = MemoryStorage()
        return cls(
            storage=storage,
            per_client=parse_rate_limit(settings.rate_limit_client),
            per_user=parse_rate_limit(settings.rate_limit_user),
            per_field=parse_field_rate_limits(settings.field_rate_limits),
            pool=pool,
        )

    @property
    def watched_fields(self) -> Collection[str]:
        return self.per_field.keys()

    async def check_operation(self, client: str, user: str | None) -> int | None:
        """One operation from `client` (and `user`, when signed in)."""
        wait = await self._spend(self.per_client, ("client", client))
        if wait is None and user is not None:
            wait = await self._spend(self.per_user, ("user", user))
        return wait

    async def check_fields(self, counts: Mapping[str, int], identity: str) -> int | None:
        """`counts[name]` occurrences of each watched root field, for one identity."""
        for name, count in counts.items():
            wait = await self._spend(self.per_field.get(name, []), ("field", name, identity), count)
            if wait is not None:
                return wait
        return None

    async def _spend(
        self, items: Sequence[RateLimitItem], key: tuple[str, ...], cost: int = 1
    ) -> int | None:
        if self._retry_at is not None and time.monotonic() < self._retry_at:
            return await _spend_with(self.fallback, items, key, cost)
        try:
            wait = await _spend_with(self.strategy, items, key, cost)
        except Exception as error:  # the store is down: count in memory, never fail open
            self._degrade(error)
            return await _spend_with(self.fallback, items, key, cost)
        self._recover()
        return wait

    def _degrade(self, error: Exception) -> None:
        if self._retry_at is None:
            logger.warning(
                "rate limits: store unavailable, counting per instance in memory: %s",
                type(error).__name__,
            )
            metrics.RATE_LIMITS_DEGRADED.set(1)
        self._retry_at = time.monotonic() + RETRY_REDIS_SECONDS

    def _recover(self) -> None:
        if self._retry_at is not None:
            self._retry_at = None
            metrics.RATE_LIMITS_DEGRADED.set(0)
            logger.warning("rate limits: store available again, counting there")

    async def close(self) -> None:
        for storage in (self.storage, self.fallback.storage):
            timer = getattr(storage, "timer", None)
            if timer is not None:
                timer.cancel()  # MemoryStorage's expiry task would outlive the event loop
        if self.pool is not None:
            await self.pool.aclose()


async def _spend_with(
    strategy: MovingWindowRateLimiter,
    items: Sequence[RateLimitItem],
    key: tuple[str, ...],
    cost: int,
) -> int | None:
    """Spend `cost` from each budget in turn; the seconds to wait at the first one empty."""
    for item in items:
        if not await strategy.hit(item, *key, cost=cost):
            stats = await strategy.get_window_stats(item, *key)
            return max(1, math.ceil(stats.reset_time - time.time()))
    return None


def root_field_counts(
    document: DocumentNode, operation_name: str | None, watched: Collection[str]
) -> Counter[str]:
    """How often each watched field is asked for at the root, aliases and fragments included."""
    counts: Counter[str] = Counter()
    operation = get_operation_ast(document, operation_name)
    if operation is None or not watched:
        return counts
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    pending: list[tuple[SelectionSetNode, frozenset[str]]] = [
        (operation.selection_set, frozenset())
    ]
    while pending:
        selection_set, spread = pending.pop()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode) and selection.name.value in watched:
                counts[selection.name.value] += 1
            elif isinstance(selection, InlineFragmentNode):
                pending.append((selection.selection_set, spread))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in fragments and name not in spread:  # cycles: a validation error
                    pending.append((fragments[name].selection_set, spread | {name}))
    return counts


def viewer_key(context: object) -> str | None:
    """The signed-in user's id (`context.viewer`, a user row or an id), None when anonymous."""
    viewer = getattr(context, "viewer", None)
    if viewer is None:
        return None
    return str(getattr(viewer, "id", viewer))


def client_key(context: object) -> str:
    request = getattr(context, "request", None)
    return address_of(request) if isinstance(request, HTTPConnection) else UNKNOWN


class RateLimit(SchemaExtension):
    """Spends the budgets of each operation; refuses it with RATE_LIMITED once one is empty."""

    def __init__(self, *, limiter: RateLimiter) -> None:
        self.limiter = limiter
        self.refusal: int | None = None

    async def on_operation(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        self.refusal = await self.limiter.check_operation(client_key(context), viewer_key(context))
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        if self.refusal is not None and context.pre_execution_errors is None:
            # Set before validation: Strawberry skips it and answers this error alone.
            context.pre_execution_errors = [RateLimited(self.refusal).as_graphql_error()]
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        # Only operations that passed validation and the query limits spend field budgets.
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            counts = root_field_counts(
                document, context.operation_name, self.limiter.watched_fields
            )
            user = viewer_key(context.context)
            identity = f"user:{user}" if user else f"client:{client_key(context.context)}"
            wait = await self.limiter.check_fields(counts, identity) if counts else None
            if wait is not None:
                raise RateLimited(wait)  # Strawberry answers it as a pre-execution error
        yield
