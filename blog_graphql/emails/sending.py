"""Delivering one outbox email: claim it, render it, send it, record what happened."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Any, Literal
from urllib.parse import urlencode

from sqlalchemy import update

from blog_graphql.config.settings import Settings
from blog_graphql.db.database import Database, utcnow
from blog_graphql.emails import smtp, templates
from blog_graphql.emails.models import ENQUEUED, FAILED, SENT, UNFINISHED, OutboxEmail
from blog_graphql.emails.outbox import CONFIRM_TIMEOUT

logger = logging.getLogger("blog_graphql.emails")

MAX_BACKOFF = timedelta(minutes=30)
# Context keys that must not outlive the sending in production (one-time tokens are stored
# hashed). Development keeps them: its mailbox (`/dev/mailbox`) shows each email whole.
SECRET_KEYS = frozenset({"token", "unsubscribe_token"})


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt came to; the actor turns it into Dramatiq's terms."""

    kind: Literal["sent", "skipped", "retry", "failed"]
    reason: str | None = None
    retry_in: timedelta | None = None


SENT_OUTCOME = Outcome("sent")
SKIPPED = Outcome("skipped")


@dataclass(frozen=True)
class Claim:
    id: int
    idempotency_key: str
    template: str
    recipient: str
    context: dict[str, Any]
    attempts: int


async def deliver(db: Database, settings: Settings, email_id: int, idempotency_key: str) -> Outcome:
    """Send the email once: a second delivery of the same message finds it taken or done."""
    claim = await claim_for_sending(db, settings, email_id, idempotency_key)
    if claim is None:
        return SKIPPED
    try:
        message = compose(settings, claim)
    except ValueError as error:  # the row cannot become an email: retrying cannot help
        return await _give_up(db, claim, f"cannot build the email: {error}")
    try:
        await smtp.send(settings, message)
    except smtp.PermanentDeliveryError as error:
        return await _give_up(db, claim, error.reason)
    except smtp.TransientDeliveryError as error:
        return await _retry_later(db, settings, claim, error.reason)
    except Exception as error:
        if claim.attempts > settings.email_max_retries:
            return await _give_up(db, claim, f"gave up after {claim.attempts} attempts: {error!r}")
        await _release(db, claim)
        raise
    kept = _scrubbed(claim.context) if settings.is_production else claim.context
    await _record(db, claim, status=SENT, sent_at=utcnow(), context=kept)
    if not settings.smtp_host and not settings.is_production:
        logger.info("email %s: read it whole at /dev/mailbox/%s", claim.id, claim.id)
    return SENT_OUTCOME


def compose(settings: Settings, claim: Claim) -> EmailMessage:
    rendered = templates.render(claim.template, claim.context, public_url=settings.public_url)
    message = smtp.build_message(
        settings, to=claim.recipient, rendered=rendered, idempotency_key=claim.idempotency_key
    )
    if "unsubscribe_token" in claim.context:
        # RFC 8058 one-click: the mail client POSTs `List-Unsubscribe=One-Click` to the
        # API itself (`notifications.http`); the header holds that one HTTPS URI only.
        token = urlencode({"token": claim.context["unsubscribe_token"]})
        message["List-Unsubscribe"] = f"<{settings.api_url}/email/unsubscribe?{token}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message


def sending_lease(settings: Settings) -> timedelta:
    """How long a claim holds: longer than a send can take with every call timing out."""
    return max(timedelta(minutes=5), timedelta(seconds=12 * settings.smtp_timeout_seconds))


def retry_delay(settings: Settings, attempts: int) -> timedelta:
    """Exponential backoff: the base delay after the first attempt, doubling, capped."""
    delay = timedelta(seconds=settings.email_retry_backoff_seconds * 2 ** (attempts - 1))
    return min(delay, MAX_BACKOFF)


async def claim_for_sending(
    db: Database, settings: Settings, email_id: int, idempotency_key: str
) -> Claim | None:
    """Take the row for one attempt, unless it is done or another worker is sending it."""
    now = utcnow()
    lease = sending_lease(settings)
    async with db.transaction() as session:
        row = await session.execute(
            update(OutboxEmail)
            .where(
                OutboxEmail.id == email_id,
                OutboxEmail.idempotency_key == idempotency_key,
                OutboxEmail.status.in_(UNFINISHED),
                (OutboxEmail.sending_until.is_(None)) | (OutboxEmail.sending_until < now),
            )
            .values(
                status=ENQUEUED,
                attempts=OutboxEmail.attempts + 1,
                sending_until=now + lease,
                next_attempt_at=now + lease + CONFIRM_TIMEOUT,
            )
            .returning(
                OutboxEmail.template,
                OutboxEmail.recipient,
                OutboxEmail.context,
                OutboxEmail.attempts,
            )
            .execution_options(synchronize_session=False)
        )
        found = row.one_or_none()
    if found is None:
        logger.info("email %s is sent, failed or being sent: nothing to do", email_id)
        return None
    template, recipient, context, attempts = found
    return Claim(email_id, idempotency_key, template, recipient, dict(context), attempts)


async def _retry_later(db: Database, settings: Settings, claim: Claim, reason: str) -> Outcome:
    if claim.attempts > settings.email_max_retries:
        return await _give_up(db, claim, f"gave up after {claim.attempts} attempts: {reason}")
    delay = retry_delay(settings, claim.attempts)
    await _record(db, claim, last_error=reason, next_attempt_at=utcnow() + delay + CONFIRM_TIMEOUT)
    logger.warning("email %s: %s; retrying in %s", claim.id, reason, delay)
    return Outcome("retry", reason=reason, retry_in=delay)


async def _give_up(db: Database, claim: Claim, reason: str) -> Outcome:
    await _record(db, claim, status=FAILED, last_error=reason, next_attempt_at=None)
    logger.error("email %s failed for good: %s", claim.id, reason)
    return Outcome("failed", reason=reason)


async def _release(db: Database, claim: Claim) -> None:
    # An unexpected error (a bug, the database): let the message's own retry claim it again.
    try:
        await _record(db, claim)
    except Exception:
        logger.exception("email %s: could not release the claim", claim.id)


async def _record(db: Database, claim: Claim, **values: object) -> None:
    """End this attempt's claim on the row, with the outcome's changes."""
    async with db.transaction() as session:
        await session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == claim.id)
            .values(sending_until=None, **values)
            .execution_options(synchronize_session=False)
        )


def _scrubbed(context: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in context.items() if key not in SECRET_KEYS}
