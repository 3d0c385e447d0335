"""GraphQL documents and small helpers for the webhook tests."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from blog_graphql.db.database import Database
from blog_graphql.webhooks.models import WebhookAttempt, WebhookDelivery
from tests.conftest import graphql

CREATE = """mutation($url: String!, $events: [WebhookEvent!]!) {
  createWebhook(url: $url, events: $events) { secret webhook { id url events active } } }"""
UPDATE = """mutation($id: ID!, $url: String, $events: [WebhookEvent!], $active: Boolean) {
  updateWebhook(id: $id, url: $url, events: $events, active: $active) { id url events active } }"""
DELETE = "mutation($id: ID!) { deleteWebhook(id: $id) }"
REDELIVER = """mutation($id: ID!) { redeliverWebhook(deliveryId: $id) {
  id event attempts lastStatus deliveredAt } }"""
WEBHOOKS = """{ webhooks { totalCount edges { node { id url events active
  deliveries(first: 10) { totalCount edges { node {
    id event createdAt attempts lastStatus lastError deliveredAt nextAttemptAt } } } } } } }"""


async def create_webhook(
    client: httpx.AsyncClient, headers: dict[str, str], url: str, events: list[str]
) -> tuple[str, str]:
    """(the webhook's id, its secret)"""
    body = await graphql(client, CREATE, {"url": url, "events": events}, headers)
    created = body["data"]["createWebhook"]
    return created["webhook"]["id"], created["secret"]


async def listed(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    body = await graphql(client, WEBHOOKS, headers=headers)
    assert "errors" not in body, body
    return [edge["node"] for edge in body["data"]["webhooks"]["edges"]]


async def deliveries(db: Database) -> list[WebhookDelivery]:
    async with db.session() as session:
        return list(await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


async def attempts(db: Database) -> list[WebhookAttempt]:
    async with db.session() as session:
        return list(await session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id)))
