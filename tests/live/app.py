"""A test-only app: the real one plus operations that drive and observe live tests.

`listening(channel)` says how many subscribers of a channel will hear what is published
from now on, so a test knows when a comment can no longer be missed. `echo` publishes
arbitrary events through the same hub, broker, socket registry and connection rules as
the comment subscriptions, for the tests of the hub itself (floods, huge events); it
yields "ready" once its subscription is in place. `unencodable` answers what no JSON
encoder takes, for the tests of the last net (`blog_graphql/http/failures.py`).
`liveExecutions` counts the subscription events executed, for the tests of sharing them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator
from typing import cast

import strawberry
from prometheus_client import REGISTRY
from starlette.applications import Starlette
from strawberry.scalars import JSON
from strawberry.tools import merge_types

from blog_graphql.app import create_app
from blog_graphql.config.settings import get_settings
from blog_graphql.context import Info
from blog_graphql.db.database import after_commit
from blog_graphql.db.table_tags import record_process_state_read
from blog_graphql.guards.extensions import hardened_schema
from blog_graphql.posts.models import Tag
from blog_graphql.schema import Mutation, Query, Subscription
from blog_graphql.server.gc_tuning import tune_for_serving
from blog_graphql.state import AppState

READY = "ready"


class RolledBack(Exception):
    """Raised inside the transaction to undo it."""


@strawberry.type
class EchoSubscription:
    @strawberry.subscription
    async def echo(self, info: Info, channel: str) -> AsyncGenerator[str, None]:
        live = info.context.state.live
        async with live.subscribe(info.context.live, f"echo:{channel}") as events:
            yield READY
            async for event in events:
                yield str(event["text"])

    @strawberry.subscription
    async def unencodable(self) -> AsyncGenerator[JSON, None]:
        """One event no JSON encoder takes (past 64 bits), then the end."""
        yield cast(JSON, 2**70)

    @strawberry.subscription
    async def viewer(self, info: Info) -> AsyncGenerator[str | None, None]:
        """The connection's viewer, then silence until the socket ends."""
        yield info.context.viewer.username if info.context.viewer else None
        await asyncio.Future()


@strawberry.type
class ListeningQuery:
    @strawberry.field
    def listening(self, info: Info, channel: str) -> int:
        record_process_state_read()  # a counter in memory: never a cached answer
        return info.context.state.live.pubsub.listening(channel)

    @strawberry.field
    def unencodable(self) -> JSON:
        """A value no JSON encoder takes (past 64 bits): a failure after execution."""
        return cast(JSON, 2**70)

    @strawberry.field
    def live_executions(self) -> int:
        """Subscription events this server executed so far (shared ones once)."""
        record_process_state_read()  # a counter in memory: never a cached answer
        return int(REGISTRY.get_sample_value("blog_graphql_live_executions_total") or 0)


@strawberry.type
class EchoMutation:
    @strawberry.mutation
    async def echo(
        self,
        info: Info,
        channel: str,
        text: str,
        count: int = 1,
        repeat: int = 1,
        rollback: bool = False,
    ) -> int:
        """Publish `count` events of `text * repeat` after a transaction that writes a tag
        (or rolls back)."""
        pubsub = info.context.state.live.pubsub

        async def publish() -> None:
            for _ in range(count):
                await pubsub.publish(f"echo:{channel}", {"text": text * repeat})

        try:
            async with info.context.db.transaction() as session:
                name = f"echo-{uuid.uuid4().hex}"
                session.add(Tag(name=name, slug=name, color="#000000"))
                after_commit(session, publish)
                if rollback:
                    raise RolledBack
        except RolledBack:
            return 0
        return count


def create_test_app() -> Starlette:
    """The app `serve` builds, with the test operations beside the real ones."""
    state = AppState.create(get_settings())
    schema = hardened_schema(
        state.settings,
        state.rate_limiter,
        query=merge_types("Query", (Query, ListeningQuery)),
        mutation=merge_types("Mutation", (Mutation, EchoMutation)),
        subscription=merge_types("Subscription", (Subscription, EchoSubscription)),
    )
    app = create_app(state=state, schema=schema)
    tune_for_serving()  # as `blog-graphql serve` does
    return app
