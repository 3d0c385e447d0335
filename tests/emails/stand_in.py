"""A test action standing in for accounts' sign-up until it exists, and outbox helpers.

`sign_up` has the shape every real action will have: one transaction holds the change and
its outbox row, and the email is handed to the broker only after the commit.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import datetime

from sqlalchemy import select

from blog_graphql.accounts.models import User
from blog_graphql.db.database import Database
from blog_graphql.emails.models import OutboxEmail
from blog_graphql.emails.outbox import queue_email
from tests.factories import password_hash

WAIT_SECONDS = 30.0
POLL_SECONDS = 0.05


class ActionFailed(Exception):
    """The stand-in action failed after queueing its email."""


async def sign_up(db: Database, username: str, *, fail_after_queueing: bool = False) -> str:
    """Create `username` and queue its welcome email; return the one-time token it carries."""
    token = secrets.token_urlsafe(24)
    async with db.transaction() as session:
        user = User(
            username=username,
            email=f"{username}@example.com",
            password_hash=password_hash("Secret123"),
        )
        session.add(user)
        await session.flush()
        queue_email(
            session,
            template="welcome",
            to=user.email,
            context={"username": username, "token": token},
            idempotency_key=f"welcome:{user.id}",
        )
        if fail_after_queueing:
            raise ActionFailed(username)
    return token


async def outbox_rows(db: Database) -> list[OutboxEmail]:
    async with db.session() as session:
        return list(await session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


async def only_row(db: Database) -> OutboxEmail:
    rows = await outbox_rows(db)
    assert len(rows) == 1, rows
    return rows[0]


async def add_unsent_row(db: Database, *, status: str, next_attempt_at: datetime) -> OutboxEmail:
    """A committed row whose hand-over never happened (the process died right after commit)."""
    async with db.transaction() as session:
        row = OutboxEmail(
            idempotency_key=f"key-{status}",
            template="reset_password",
            recipient="hal@example.com",
            context={"username": "hal", "token": "t0k3n"},
            status=status,
            attempts=0,
            next_attempt_at=next_attempt_at,
        )
        session.add(row)
    return row


async def statuses(db: Database) -> list[str]:
    return [row.status for row in await outbox_rows(db)]


async def wait_for_statuses(db: Database, expected: list[str]) -> None:
    """Poll the outbox (another process changes it) until its statuses are `expected`."""
    for _ in range(int(WAIT_SECONDS / POLL_SECONDS)):
        if await statuses(db) == expected:
            return
        await asyncio.sleep(POLL_SECONDS)
    found = await statuses(db)
    assert found == expected
