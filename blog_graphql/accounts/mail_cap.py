"""API.md's cap on account emails: at most 3 to one address per hour, whoever asks."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from blog_graphql.db.database import utcnow
from blog_graphql.emails import outbox
from blog_graphql.emails.models import OutboxEmail

logger = logging.getLogger("blog_graphql.accounts")

# Emails anyone can make us send to an address: the verification link (in the welcome
# email too), the reset link, and the notice to an address that stopped being an account's.
CAPPED_TEMPLATES = ("welcome", "verify_email", "reset_password", "email_changed")
MAX_PER_ADDRESS = 3
WINDOW = timedelta(hours=1)


async def may_email(session: AsyncSession, address: str) -> bool:
    """Whether `address` may be sent one more capped email now; False is silent.

    Counted from the email outbox in the caller's transaction: the outbox is in the
    database every instance shares, and survives restarts, where an in-memory count
    would not. The address is locked until that transaction ends, so racing requests
    cannot both take its last email.
    """
    await _lock_address(session, address)
    sent = await outbox.count_recent(
        session, to=address, templates=CAPPED_TEMPLATES, since=utcnow() - WINDOW
    )
    if sent >= MAX_PER_ADDRESS:
        logger.info("an account email was not sent: the address had %d this hour", sent)
        return False
    return True


async def _lock_address(session: AsyncSession, address: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        key = func.hashtextextended(address.lower(), 0)
        await session.execute(select(func.pg_advisory_xact_lock(key)))
        return
    # SQLite has one writer at a time: a write, even of no row, takes that lock now
    # rather than at commit, so the count below sees every competitor's email.
    await session.execute(
        update(OutboxEmail)
        .where(text("0 = 1"))
        .values(id=OutboxEmail.id)
        .execution_options(synchronize_session=False)
    )
