"""The transactional outbox: queue an email inside the action's own transaction."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from blog_graphql.db import after_commit
from blog_graphql.emails.models import OutboxEmail


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
    """
    email = OutboxEmail(
        idempotency_key=idempotency_key or uuid.uuid4().hex,
        template=template,
        recipient=to,
        context=context,
    )
    session.add(email)
    after_commit(session, _hand_over_after_commit(email))
    return email


def _hand_over_after_commit(email: OutboxEmail) -> Any:
    async def hand_over() -> None:
        # The jobs issue replaces this with the broker hand-off; until then the relay
        # (or nothing) picks pending rows up.
        return None

    return hand_over
