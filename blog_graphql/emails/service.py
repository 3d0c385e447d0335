"""Operating the outbox: list emails, and re-drive the ones that failed."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from blog_graphql.db.database import Database, utcnow
from blog_graphql.emails.models import FAILED, PENDING, OutboxEmail
from blog_graphql.emails.outbox import EmailRef


class CannotRetry(Exception):
    """Only an existing, failed email can be retried; the message says which it is not."""


async def list_emails(db: Database, *, failed_only: bool, limit: int) -> list[OutboxEmail]:
    """The newest emails first (only the failed ones when asked)."""
    query = select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(limit)
    if failed_only:
        query = query.where(OutboxEmail.status == FAILED)
    async with db.session() as session:
        return list(await session.scalars(query))


async def get_email(db: Database, email_id: int) -> OutboxEmail | None:
    async with db.session() as session:
        return await session.get(OutboxEmail, email_id)


async def retry_failed(db: Database, *, email_id: int | None) -> list[EmailRef]:
    """Make failed emails (one, or all when `email_id` is None) pending and due now.

    Each gets a full set of retries again; the relay, or `outbox.hand_over`, sends it on.
    """
    async with db.transaction() as session:
        chosen = OutboxEmail.status == FAILED
        if email_id is not None:
            await _check_failed(session, email_id)
            chosen = OutboxEmail.id == email_id
        rows = await session.execute(
            update(OutboxEmail)
            .where(chosen, OutboxEmail.status == FAILED)
            .values(status=PENDING, attempts=0, sending_until=None, next_attempt_at=utcnow())
            .returning(OutboxEmail.id, OutboxEmail.idempotency_key)
            .execution_options(synchronize_session=False)
        )
        refs = sorted((EmailRef(id_, key) for id_, key in rows), key=lambda ref: ref.id)
    return refs


async def _check_failed(session: AsyncSession, email_id: int) -> None:
    email = await session.get(OutboxEmail, email_id)
    if email is None:
        raise CannotRetry(f"no email with id {email_id}")
    if email.status != FAILED:
        raise CannotRetry(f"email {email_id} is {email.status}, not failed")
