"""Sending one delivery: claim it, sign it, POST it, record the attempt and what follows."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import floor

import httpx
import standardwebhooks
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from blog_graphql.accounts.models import User
from blog_graphql.config.settings import Settings
from blog_graphql.db.database import Database, utcnow
from blog_graphql.emails import outbox as emails
from blog_graphql.webhooks.guard import PinnedTransport, Refused
from blog_graphql.webhooks.models import (
    DELIVERED,
    FAILED,
    PENDING,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)

logger = logging.getLogger("blog_graphql.webhooks")

USER_AGENT = "blog_graphql-webhooks/1"
MAX_ERROR_LENGTH = 500


@dataclass(frozen=True)
class Outcome:
    """What the actor does next: nothing, or try again in `retry_in`."""

    retry_in: timedelta | None = None


NOTHING = Outcome()


@dataclass(frozen=True)
class Claim:
    id: int
    message_id: str
    payload: str
    attempts: int
    manual: bool
    created_at: datetime
    delivered_at: datetime | None
    webhook: Webhook


@dataclass(frozen=True)
class Result:
    status: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


async def deliver(db: Database, settings: Settings, delivery_id: int) -> Outcome:
    """One attempt of a due delivery; a second message for it finds it taken or not due."""
    claim = await claim_for_sending(db, settings, delivery_id)
    if claim is None:
        return NOTHING
    if not claim.webhook.active:
        await _close_disabled(db, claim)
        return NOTHING
    sent_at = utcnow()
    result = await post(settings, claim, sent_at)
    return await record(db, settings, claim, result, sent_at)


def sending_lease(settings: Settings) -> timedelta:
    """How long a claim holds: longer than any attempt can take."""
    return timedelta(seconds=2 * settings.webhook_timeout_seconds + 60)


async def claim_for_sending(db: Database, settings: Settings, delivery_id: int) -> Claim | None:
    now = utcnow()
    async with db.transaction() as session:
        found = (
            await session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == delivery_id,
                    WebhookDelivery.status == PENDING,
                    WebhookDelivery.next_attempt_at <= now,
                    WebhookDelivery.sending_until.is_(None) | (WebhookDelivery.sending_until < now),
                )
                .values(sending_until=now + sending_lease(settings))
                .returning(
                    WebhookDelivery.webhook_id,
                    WebhookDelivery.message_id,
                    WebhookDelivery.payload,
                    WebhookDelivery.attempts,
                    WebhookDelivery.manual,
                    WebhookDelivery.created_at,
                    WebhookDelivery.delivered_at,
                )
                .execution_options(synchronize_session=False)
            )
        ).one_or_none()
        if found is None:
            logger.info("webhook delivery %s is done, not due or being sent", delivery_id)
            return None
        webhook_id, message_id, payload, attempts, manual, created_at, delivered_at = found
        webhook = await session.get_one(Webhook, webhook_id)
    return Claim(
        delivery_id, message_id, payload, attempts, manual, created_at, delivered_at, webhook
    )


async def post(settings: Settings, claim: Claim, sent_at: datetime) -> Result:
    """POST the signed message; redirects are not followed (a 3xx is a failure)."""
    signer = standardwebhooks.Webhook(claim.webhook.secret)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": claim.message_id,
        "webhook-timestamp": str(floor(sent_at.timestamp())),
        "webhook-signature": signer.sign(claim.message_id, sent_at, claim.payload),
    }
    timeout = settings.webhook_timeout_seconds
    transport = PinnedTransport(allow_private=settings.webhook_allow_private)
    started = time.monotonic()
    status, error = None, None
    try:
        async with (
            httpx.AsyncClient(
                transport=transport, timeout=timeout, follow_redirects=False
            ) as client,
            asyncio.timeout(timeout),  # the whole exchange, not each read
        ):
            request = client.build_request(
                "POST", claim.webhook.url, content=claim.payload.encode(), headers=headers
            )
            response = await client.send(request, stream=True)
            status = response.status_code
            await response.aclose()  # the body is not read: only the status counts
    except Refused as refused:
        error = f"refused: {refused}"
    except (TimeoutError, httpx.TimeoutException):
        error = f"timed out after {timeout:g} s"
    except httpx.HTTPError as failure:
        error = f"{type(failure).__name__}: {failure}"[:MAX_ERROR_LENGTH]
    if status is not None and not 200 <= status < 300:
        error = f"HTTP {status}"
    duration_ms = int((time.monotonic() - started) * 1000)
    return Result(status, error, duration_ms)


async def record(
    db: Database, settings: Settings, claim: Claim, result: Result, sent_at: datetime
) -> Outcome:
    """Log the attempt and decide what follows: done, a retry, or failed for good."""
    attempts, now = claim.attempts + 1, utcnow()
    values: dict[str, object] = {
        "attempts": attempts, "last_status": result.status, "last_error": result.error,
        "sending_until": None, "manual": False, "next_attempt_at": None,
    }  # fmt: skip
    outcome, exhausted = NOTHING, False
    schedule = settings.webhook_retry_schedule
    if result.ok:
        values |= {"status": DELIVERED, "delivered_at": now}
    elif claim.manual:  # a redelivery is one attempt: the delivery keeps its standing
        values["status"] = DELIVERED if claim.delivered_at else FAILED
    elif attempts <= len(schedule):
        delay = timedelta(seconds=schedule[attempts - 1])
        values |= {"status": PENDING, "next_attempt_at": now + delay}
        outcome = Outcome(retry_in=delay)
    else:
        values["status"], exhausted = FAILED, True
    async with db.transaction() as session:
        # First, so that a delivery deleted meanwhile (with its webhook) is left alone.
        if not await _update_delivery(session, claim.id, values):
            logger.info("webhook delivery %s was deleted during its attempt", claim.id)
            return NOTHING
        session.add(
            WebhookAttempt(
                delivery_id=claim.id,
                attempted_at=sent_at,
                status_code=result.status,
                error=result.error,
                duration_ms=result.duration_ms,
                manual=claim.manual,
            )
        )
        if result.ok:
            await _update_webhook(session, claim.webhook.id, last_success_at=now)
        elif exhausted and _no_success_since(claim):
            await _disable(session, claim, result)
    _log(claim, result, attempts, outcome)
    return outcome


def _no_success_since(claim: Claim) -> bool:
    last = claim.webhook.last_success_at
    return last is None or last < claim.created_at


async def _disable(session: AsyncSession, claim: Claim, result: Result) -> None:
    """A run of failures as long as the whole schedule: stop, and tell the admins."""
    changed = await session.execute(
        update(Webhook)
        .where(Webhook.id == claim.webhook.id, Webhook.active)
        .values(active=False)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        return
    logger.warning("webhook %s disabled after failing every attempt", claim.webhook.id)
    admins = await session.execute(
        select(User.username, User.email).where(User.is_admin, User.is_active).order_by(User.id)
    )
    for username, address in admins:
        emails.queue_email(
            session,
            template="webhook_disabled",
            to=address,
            context={
                "username": username,
                "webhook_url": claim.webhook.url,
                "attempts": claim.attempts + 1,
                "last_error": result.error or "",
            },
        )


async def _close_disabled(db: Database, claim: Claim) -> None:
    async with db.transaction() as session:
        await _update_delivery(
            session,
            claim.id,
            {
                "status": FAILED,
                "last_error": "the webhook is disabled",
                "sending_until": None,
                "next_attempt_at": None,
                "manual": False,
            },
        )


async def _update_delivery(
    session: AsyncSession, delivery_id: int, values: dict[str, object]
) -> bool:
    """Whether the delivery (still) exists."""
    changed = await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(changed.rowcount)  # type: ignore[attr-defined]


async def _update_webhook(session: AsyncSession, webhook_id: int, **values: object) -> None:
    await session.execute(
        update(Webhook)
        .where(Webhook.id == webhook_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _log(claim: Claim, result: Result, attempts: int, outcome: Outcome) -> None:
    if result.ok:
        logger.info("webhook delivery %s: HTTP %s (attempt %d)", claim.id, result.status, attempts)
    elif outcome.retry_in is not None:
        logger.warning(
            "webhook delivery %s: %s (attempt %d); retrying in %s",
            claim.id,
            result.error,
            attempts,
            outcome.retry_in,
        )
    else:
        logger.warning(
            "webhook delivery %s: %s (attempt %d); no retry", claim.id, result.error, attempts
        )
