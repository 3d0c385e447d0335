"""A test action standing in for accounts' sign-up until it exists: a user and a welcome email.

It has the shape every real action will have: one transaction holds the change and its
outbox row, and the email is handed to the broker only after the commit.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select

from blog_graphql.accounts.models import User
from blog_graphql.db import Database
from blog_graphql.emails.models import OutboxEmail
from blog_graphql.emails.outbox import queue_email
from tests.factories import password_hash


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
