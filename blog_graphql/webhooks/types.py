"""GraphQL shapes of webhooks: the endpoint, its deliveries, and the secret shown once."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from functools import partial

import strawberry

from blog_graphql.context import Context, Info
from blog_graphql.db.database import Database
from blog_graphql.db.keyset import AnyRow
from blog_graphql.engine import batched, one
from blog_graphql.relay.node import Node
from blog_graphql.relay.pagination import Connection, PageKey, build_connection, page_window
from blog_graphql.webhooks import models, service
from blog_graphql.webhooks.events import WebhookEvent

strawberry.enum(WebhookEvent, description="What a webhook can be told of.")


@strawberry.type(description="One event's message to one webhook, and how sending it went.")
class WebhookDelivery(Node):
    pk: strawberry.Private[int]
    event: WebhookEvent
    created_at: datetime
    attempts: int = strawberry.field(description="POSTs made so far, redeliveries included.")
    last_status: int | None = strawberry.field(
        description="The HTTP status of the last attempt; null if it got no answer."
    )
    last_error: str | None = strawberry.field(
        description="Why the last attempt failed (a status, a timeout, a refused address)."
    )
    delivered_at: datetime | None = strawberry.field(
        description="When an attempt last got a 2xx answer."
    )
    next_attempt_at: datetime | None = strawberry.field(
        description="When the next attempt is due; null when none is."
    )

    @classmethod
    def from_row(cls, row: models.WebhookDelivery | AnyRow) -> WebhookDelivery:
        return cls(
            pk=row.id,
            event=WebhookEvent(row.event),
            created_at=row.created_at,
            attempts=row.attempts,
            last_status=row.last_status,
            last_error=row.last_error,
            delivered_at=row.delivered_at,
            next_attempt_at=row.next_attempt_at,
        )


def _key(row: AnyRow) -> tuple[int]:
    return (row.id,)


class _Counts:
    """The delivery counts of a batch of webhooks: one query, when the first is asked."""

    def __init__(self, db: Database, webhook_ids: Sequence[int]) -> None:
        self._db, self._ids = db, list(webhook_ids)
        self._counts: asyncio.Future[dict[int, int]] | None = None

    async def of(self, webhook_id: int) -> int:
        if self._counts is None:
            self._counts = asyncio.ensure_future(service.delivery_counts(self._db, self._ids))
        return (await self._counts)[webhook_id]


async def deliveries_of(
    context: Context,
    webhooks: Sequence[Webhook],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[WebhookDelivery]]:
    """The batch resolver of `Webhook.deliveries`: every webhook's page in one query."""
    window = page_window(service.ID_CURSOR, first=first, after=after, last=last, before=before)
    ids = [webhook.pk for webhook in webhooks]
    keys = [PageKey(id_, window.size, window.cursor, window.backward) for id_ in ids]
    pages = await service.deliveries_of(context.db, keys) if keys else []
    counts = _Counts(context.db, ids)
    return [
        build_connection(
            rows,
            window=window,
            key=_key,
            node=WebhookDelivery.from_row,
            count=partial(counts.of, webhook_id),
        )
        for webhook_id, rows in zip(ids, pages, strict=True)
    ]


@strawberry.type(description="An endpoint told of the events it asked for. Admins only.")
class Webhook(Node):
    pk: strawberry.Private[int]
    url: str
    events: list[WebhookEvent]
    active: bool = strawberry.field(
        description="False once disabled, by an admin or after a long run of failures."
    )
    created_at: datetime

    @strawberry.field(description="Its deliveries, newest first.")
    @batched(deliveries_of)
    async def deliveries(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[WebhookDelivery]:
        return await one(
            deliveries_of, info, self, first=first, after=after, last=last, before=before
        )

    @classmethod
    def from_row(cls, row: models.Webhook) -> Webhook:
        return cls(
            pk=row.id,
            url=row.url,
            events=[WebhookEvent(name) for name in row.events],
            active=row.active,
            created_at=row.created_at,
        )


@strawberry.type(description="A new webhook and its signing secret, which is shown only here.")
class CreatedWebhook:
    webhook: Webhook
    secret: str = strawberry.field(
        description="`whsec_` and base64: verify signatures with a Standard Webhooks library."
    )
