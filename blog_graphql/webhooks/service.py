"""Webhook use cases for admins: create, change, delete, list, and redeliver."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from functools import partial

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from blog_graphql.config.settings import Settings
from blog_graphql.db.database import Database, after_commit, utcnow
from blog_graphql.errors import InvalidInput, NotFound
from blog_graphql.webhooks import guard, outbox
from blog_graphql.webhooks.events import WebhookEvent
from blog_graphql.webhooks.models import PENDING, Webhook, WebhookDelivery

SECRET_BYTES = 32  # Standard Webhooks: 24 to 64 bytes


def new_secret() -> str:
    """`whsec_` and base64 of random bytes, as the Standard Webhooks libraries read it."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


async def create_webhook(
    db: Database, settings: Settings, *, url: str, events: Sequence[WebhookEvent]
) -> Webhook:
    """A new active webhook; its `secret` is shown to the admin once, in the answer."""
    checked = await guard.check_url(url, allow_private=settings.webhook_allow_private)
    webhook = Webhook(url=checked, secret=new_secret(), events=_checked_events(events),
                      active=True, created_at=utcnow())  # fmt: skip
    async with db.transaction() as session:
        session.add(webhook)
    return webhook


async def update_webhook(
    db: Database,
    settings: Settings,
    webhook_id: int,
    *,
    url: str | None = None,
    events: Sequence[WebhookEvent] | None = None,
    active: bool | None = None,
) -> Webhook:
    """Change what is given; the URL is checked again (and at every send)."""
    values: dict[str, object] = {}
    if url is not None:
        values["url"] = await guard.check_url(url, allow_private=settings.webhook_allow_private)
    if events is not None:
        values["events"] = _checked_events(events)
    if active is not None:
        values["active"] = active
    async with db.transaction() as session:
        webhook = await _webhook(session, webhook_id)
        for name, value in values.items():
            setattr(webhook, name, value)
    return webhook


async def delete_webhook(db: Database, webhook_id: int) -> bool:
    """Delete it with its deliveries; what is queued for it then finds nothing to send."""
    async with db.transaction() as session:
        await _webhook(session, webhook_id)
        await session.execute(delete(Webhook).where(Webhook.id == webhook_id))
    return True


async def redeliver(db: Database, delivery_id: int) -> WebhookDelivery:
    """Send the delivery's message (same `webhook-id`) again, now, as a new attempt.

    A delivery still being retried just has its next attempt brought forward; a finished
    one (delivered or failed) gets one more attempt, with no retries after it.
    """
    async with db.transaction() as session:
        delivery = await session.scalar(
            select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).with_for_update()
        )
        if delivery is None:
            raise NotFound()
        webhook = await session.get_one(Webhook, delivery.webhook_id)
        if not webhook.active:
            raise InvalidInput({"deliveryId": "The webhook is disabled: enable it first."})
        now = utcnow()
        if delivery.sending_until is not None and delivery.sending_until > now:
            raise InvalidInput({"deliveryId": "An attempt is under way; try again shortly."})
        delivery.manual = delivery.status != PENDING
        delivery.status, delivery.next_attempt_at = PENDING, now
        after_commit(session, partial(_hand_over, delivery.id))
    return delivery


async def list_webhooks(db: Database, *, first: int, after_id: int | None) -> Sequence[Webhook]:
    query = select(Webhook).order_by(Webhook.id).limit(first + 1)
    if after_id is not None:
        query = query.where(Webhook.id > after_id)
    async with db.session() as session:
        return (await session.scalars(query)).all()


async def count_webhooks(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Webhook)) or 0)


async def find_webhook(db: Database, webhook_id: int) -> Webhook | None:
    async with db.session() as session:
        return await session.get(Webhook, webhook_id)


async def find_delivery(db: Database, delivery_id: int) -> WebhookDelivery | None:
    async with db.session() as session:
        return await session.get(WebhookDelivery, delivery_id)


async def deliveries_of(
    db: Database, webhook_ids: Sequence[int], *, first: int, before_id: int | None
) -> dict[int, list[WebhookDelivery]]:
    """Each webhook's page of deliveries, newest first, `first + 1` rows, in one query."""
    if not webhook_ids:
        return {}
    position = (
        func.row_number()
        .over(partition_by=WebhookDelivery.webhook_id, order_by=WebhookDelivery.id.desc())
        .label("position")
    )
    inner = select(WebhookDelivery.id, position).where(WebhookDelivery.webhook_id.in_(webhook_ids))
    if before_id is not None:
        inner = inner.where(WebhookDelivery.id < before_id)
    numbered = inner.subquery()
    query = (
        select(WebhookDelivery)
        .join(numbered, numbered.c.id == WebhookDelivery.id)
        .where(numbered.c.position <= first + 1)
        .order_by(WebhookDelivery.webhook_id, WebhookDelivery.id.desc())
    )
    pages: dict[int, list[WebhookDelivery]] = {webhook_id: [] for webhook_id in webhook_ids}
    async with db.session() as session:
        for delivery in await session.scalars(query):
            pages[delivery.webhook_id].append(delivery)
    return pages


async def delivery_counts(db: Database, webhook_ids: Sequence[int]) -> dict[int, int]:
    query = (
        select(WebhookDelivery.webhook_id, func.count())
        .where(WebhookDelivery.webhook_id.in_(webhook_ids))
        .group_by(WebhookDelivery.webhook_id)
    )
    async with db.session() as session:
        counts = {webhook_id: int(count) for webhook_id, count in await session.execute(query)}
    return {webhook_id: counts.get(webhook_id, 0) for webhook_id in webhook_ids}


async def _hand_over(delivery_id: int) -> None:
    await outbox.enqueue_all([delivery_id])  # else the relay hands it over later


def _checked_events(events: Sequence[WebhookEvent]) -> list[str]:
    if not events:
        raise InvalidInput({"events": "Choose at least one event."})
    return sorted({event.value for event in events})


async def _webhook(session: AsyncSession, webhook_id: int) -> Webhook:
    webhook = await session.scalar(
        select(Webhook).where(Webhook.id == webhook_id).with_for_update()
    )
    if webhook is None:
        raise NotFound()
    return webhook
