"""Webhook queries and mutations, for admins: translate, delegate, translate back."""

from __future__ import annotations

import strawberry

from blog_graphql.accounts.permissions import IsAdmin
from blog_graphql.context import Info
from blog_graphql.relay.ids import decode_id
from blog_graphql.relay.node import register_node
from blog_graphql.relay.pagination import Connection, build_connection, page_window
from blog_graphql.webhooks import service
from blog_graphql.webhooks.events import WebhookEvent
from blog_graphql.webhooks.types import CreatedWebhook, Webhook, WebhookDelivery


@register_node("Webhook")
async def fetch_webhook(info: Info, pk: int) -> Webhook | None:
    viewer = info.context.viewer
    if viewer is None or not viewer.is_admin:
        return None
    row = await service.find_webhook(info.context.db, pk)
    return Webhook.from_row(row) if row else None


@register_node("WebhookDelivery")
async def fetch_delivery(info: Info, pk: int) -> WebhookDelivery | None:
    viewer = info.context.viewer
    if viewer is None or not viewer.is_admin:
        return None
    row = await service.find_delivery(info.context.db, pk)
    return WebhookDelivery.from_row(row) if row else None


@strawberry.type
class WebhookQuery:
    @strawberry.field(description="Every webhook, oldest first. Admins only.",
                      permission_classes=[IsAdmin])  # fmt: skip
    async def webhooks(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Webhook]:
        window = page_window(service.ID_CURSOR, first=first, after=after, last=last, before=before)
        db = info.context.db
        rows = await service.list_webhooks(db, window)
        return build_connection(
            rows, window=window, key=lambda row: (row.id,), node=Webhook.from_row,
            count=lambda: service.count_webhooks(db),
        )  # fmt: skip


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(
        description="A webhook POSTing the given events to `url` (http or https, a public "
        "address). The answer holds its signing secret, shown only this once. Admins.",
        permission_classes=[IsAdmin],
    )
    async def create_webhook(
        self, info: Info, url: str, events: list[WebhookEvent]
    ) -> CreatedWebhook:
        row = await service.create_webhook(
            info.context.db, info.context.settings, url=url, events=events
        )
        return CreatedWebhook(webhook=Webhook.from_row(row), secret=row.secret)

    @strawberry.mutation(
        description="Change a webhook's URL, events or whether it is active. Admins.",
        permission_classes=[IsAdmin],
    )
    async def update_webhook(
        self,
        info: Info,
        id: strawberry.ID,
        url: str | None = None,
        events: list[WebhookEvent] | None = None,
        active: bool | None = None,
    ) -> Webhook:
        row = await service.update_webhook(
            info.context.db, info.context.settings, decode_id(id, "Webhook"),
            url=url, events=events, active=active,
        )  # fmt: skip
        return Webhook.from_row(row)

    @strawberry.mutation(description="Delete a webhook and its deliveries. Admins.",
                         permission_classes=[IsAdmin])  # fmt: skip
    async def delete_webhook(self, info: Info, id: strawberry.ID) -> bool:
        return await service.delete_webhook(info.context.db, decode_id(id, "Webhook"))

    @strawberry.mutation(
        description="Send a delivery's message again (the same `webhook-id`) as a new "
        "attempt, now. Admins.",
        permission_classes=[IsAdmin],
    )
    async def redeliver_webhook(self, info: Info, delivery_id: strawberry.ID) -> WebhookDelivery:
        pk = decode_id(delivery_id, "WebhookDelivery", "deliveryId")
        return WebhookDelivery.from_row(await service.redeliver(info.context.db, pk))
