"""Single-use tokens for email links: random, stored only as SHA-256 hashes, expiring."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Literal

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from blog_graphql.accounts.models import OneTimeToken
from blog_graphql.db.database import utcnow
from blog_graphql.errors import InvalidInput

Purpose = Literal["verify_email", "reset_password"]
VERIFY_EMAIL: Purpose = "verify_email"
RESET_PASSWORD: Purpose = "reset_password"
LIFETIMES: dict[Purpose, timedelta] = {
    VERIFY_EMAIL: timedelta(hours=48),
    RESET_PASSWORD: timedelta(hours=1),
}
BAD_TOKEN = "This link is invalid, already used or expired."


def token_hash(token: str) -> str:
    # A fast hash is enough: the token carries 256 random bits, nothing to brute-force.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: AsyncSession, *, user_id: int, purpose: Purpose) -> str:
    """Store a new token's hash in the caller's transaction; return the token itself."""
    token = secrets.token_urlsafe(32)
    session.add(
        OneTimeToken(
            user_id=user_id,
            purpose=purpose,
            token_hash=token_hash(token),
            expires_at=utcnow() + LIFETIMES[purpose],
        )
    )
    return token


async def consume_token(session: AsyncSession, token: str, purpose: Purpose) -> int:
    """Mark a live token used and return its user id; BAD_USER_INPUT on `token` otherwise.

    One conditional UPDATE, so two requests racing with the same token cannot both win.
    """
    now = utcnow()
    user_id = await session.scalar(
        update(OneTimeToken)
        .where(
            OneTimeToken.token_hash == token_hash(token),
            OneTimeToken.purpose == purpose,
            OneTimeToken.used_at.is_(None),
            OneTimeToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(OneTimeToken.user_id)
        .execution_options(synchronize_session=False)
    )
    if user_id is None:
        raise InvalidInput({"token": BAD_TOKEN})
    return user_id


async def discard_tokens(session: AsyncSession, *, user_id: int, purpose: Purpose) -> None:
    """Forget a user's unused tokens of one kind (a new email or password outdates them)."""
    await session.execute(
        delete(OneTimeToken).where(
            OneTimeToken.user_id == user_id,
            OneTimeToken.purpose == purpose,
            OneTimeToken.used_at.is_(None),
        )
    )
