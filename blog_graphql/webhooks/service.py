"""Webhook use cases for admins: create, change, delete, list, and redeliver."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from functools import cache, partial

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from blog_graphql.config.settings import Settings
from blog_graphql.db.database import Database, after_commit, utcnow
from blog_graphql.db.keyset import AnyRow, Order, Pages, fetch_pages, keyset_page, page_params
from blog_graphql.errors import InvalidInput, NotFound
from blog_graphql.relay.pagination import PageKey, Window
from blog_graphql.webhooks import guard, outbox
from blog_graphql.webhooks.events import WebhookEvent
from blog_graphql.webhooks.models import PENDING, Webhook, WebhookDelivery

SECRET_BYTES = 32  # Standard Webhooks: 24 to 64 bytes
# Webhooks oldest first, their deliveries newest first; ids alone are total orders.
WEBHOOK_ORDER = Order((Webhook.id,), descending=False)
DELIVERY_ORDER = Order((WebhookDelivery.id,), descending=True)
ID_CURSOR = (int,)


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


async def list_webhooks(db: Database, window: Window) -> Sequence[Webhook]:
    """Oldest first, `size + 1` rows; a backward page nearest its cursor first."""
    query = keyset_page(
        select(Webhook), WEBHOOK_ORDER, cursor=window.cursor is not None, backward=window.backward
    )
    async with db.session() as session:
        return (await session.scalars(query, page_params(WEBHOOK_ORDER, window))).all()


async def count_webhooks(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Webhook)) or 0)


async def find_webhook(db: Database, webhook_id: int) -> Webhook | None:
    async with db.session() as session:
        return await session.get(Webhook, webhook_id)


async def find_delivery(db: Database, delivery_id: int) -> WebhookDelivery | None:
    async with db.session() as session:
        return await session.get(WebhookDelivery, delivery_id)


async def deliveries_of(db: Database, keys: Sequence[PageKey]) -> list[Sequence[AnyRow]]:
    """Each webhook's page of deliveries, newest first (`size + 1` rows; a backward page
    nearest its cursor first): one statement for every webhook asking without a cursor."""
    return await fetch_pages(db, _delivery_pages(db.dialect), {}, keys)


@cache
def _delivery_pages(dialect: str) -> Pages:
    deliveries = select(*WebhookDelivery.__table__.columns)
    return Pages(deliveries, WebhookDelivery.webhook_id, DELIVERY_ORDER, dialect)


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
