"""The transactional outbox: queue an email inside the action's own transaction."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from blog_graphql.db.database import Database, after_commit, utcnow
from blog_graphql.emails import templates
from blog_graphql.emails.models import ENQUEUED, PENDING, UNFINISHED, OutboxEmail
from blog_graphql.jobs import broker as jobs
from blog_graphql.observability.request_info import bound_request_id, current_request_id

logger = logging.getLogger("blog_graphql.emails")

# A committed row is handed over at once, after commit. Should that never happen (the
# process died in between), the relay takes the row once it is this old.
HANDOVER_GRACE = timedelta(seconds=30)
# A handed-over row that no worker confirmed within this time is handed over again.
CONFIRM_TIMEOUT = timedelta(minutes=10)


@dataclass(frozen=True)
class EmailRef:
    """What a message carries: the row, and the key that makes sending it idempotent."""

    id: int
    idempotency_key: str
    request_id: str | None = None  # of the request that queued it, for the job's log line


def queue_email(
    session: AsyncSession,
    *,
    template: str,
    to: str,
    context: dict[str, Any],
    idempotency_key: str | None = None,
) -> OutboxEmail:
    """Write the email in the caller's transaction; it is handed to the broker after commit.

    `template` names one of the package's email templates; `context` holds what the
    template needs (JSON-serialisable: ids, names, and the raw one-time token for links).
    A wrong template or a missing key raises `templates.TemplateError` here, not later.
    """
    templates.check_context(template, context)
    email = OutboxEmail(
        idempotency_key=idempotency_key or uuid.uuid4().hex,
        template=template,
        recipient=to,
        context=context,
        status=PENDING,
        attempts=0,
        next_attempt_at=utcnow() + HANDOVER_GRACE,
        request_id=current_request_id(),
    )
    session.add(email)
    after_commit(session, partial(_hand_over_committed, session, email))
    return email


async def count_recent(
    session: AsyncSession, *, to: str, templates: Sequence[str], since: datetime
) -> int:
    """How many emails of `templates` were queued for `to` (ignoring case) since `since`."""
    count = await session.scalar(
        select(func.count())
        .select_from(OutboxEmail)
        .where(
            func.lower(OutboxEmail.recipient) == to.lower(),
            OutboxEmail.created_at >= since,
            OutboxEmail.template.in_(templates),
        )
    )
    return int(count or 0)


async def _hand_over_committed(session: AsyncSession, email: OutboxEmail) -> None:
    ref = EmailRef(email.id, email.idempotency_key, email.request_id)
    handed, left = await enqueue_all([ref])
    await record_handover(session, handed=handed, left=left, now=utcnow())
    await session.commit()


async def hand_over(db: Database, refs: Sequence[EmailRef], *, now: datetime) -> int:
    """Give `refs` to the broker and record it; return how many were handed over."""
    handed, left = await enqueue_all(refs)
    async with db.transaction() as session:
        await record_handover(session, handed=handed, left=left, now=now)
    return len(handed)


async def enqueue_all(refs: Sequence[EmailRef]) -> tuple[list[int], list[int]]:
    """Give each email to the broker; return the ids handed over and the ids left over.

    The first failure ends the run: the broker is likely down, and the relay tries again.
    """
    for position, ref in enumerate(refs):
        if not await _enqueue(ref):
            return [ref.id for ref in refs[:position]], [ref.id for ref in refs[position:]]
    return [ref.id for ref in refs], []


async def _enqueue(ref: EmailRef) -> bool:
    # Imported here: actor modules load only after the process has chosen its broker.
    from blog_graphql.emails.actors import send_email

    try:
        # The relay hands rows over outside any request: the row remembers which one.
        with bound_request_id(ref.request_id):
            await jobs.enqueue(send_email.message(ref.id, ref.idempotency_key))
    except jobs.NoWorker as reason:
        logger.info("email %s waits for the outbox relay: %s", ref.id, reason)
        return False
    except Exception as error:  # any broker failure: the row waits for the relay
        logger.warning("could not hand email %s to the broker: %s", ref.id, error)
        return False
    return True


async def record_handover(
    session: AsyncSession, *, handed: Sequence[int], left: Sequence[int], now: datetime
) -> None:
    """Mark handed-over rows enqueued (awaiting confirmation); make the rest due at once."""
    # A row a worker is sending right now (or already finished) keeps the worker's word.
    open_rows = (OutboxEmail.status.in_(UNFINISHED), OutboxEmail.sending_until.is_(None))
    if handed:
        await session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id.in_(handed), *open_rows)
            .values(status=ENQUEUED, enqueued_at=now, next_attempt_at=now + CONFIRM_TIMEOUT)
            .execution_options(synchronize_session=False)
        )
    if left:
        await session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id.in_(left), *open_rows)
            .values(next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
