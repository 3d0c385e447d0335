"""Who is asking: the viewer behind an `Authorization: Bearer` header, checked once."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select

from blog_graphql.accounts.models import AuthSession, User
from blog_graphql.accounts.tokens import decode_token
from blog_graphql.config.settings import Settings
from blog_graphql.db.database import Database, utcnow
from blog_graphql.errors import Unauthenticated

BEARER = "bearer "


def bearer_token(authorization: str) -> str:
    """The token of a `Bearer <token>` header value (scheme ignoring case)."""
    if not authorization.lower().startswith(BEARER) or not authorization[len(BEARER) :].strip():
        raise Unauthenticated("Invalid or expired token.")
    return authorization[len(BEARER) :].strip()


def _session_is_live() -> tuple[ColumnElement[bool], ...]:
    """Not revoked, not expired, and its user still active."""
    return (
        AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > utcnow(),
        User.is_active.is_(True),
    )


@dataclass(frozen=True)
class Authenticated:
    """The viewer and the login session their access token belongs to."""

    user: User
    session_id: str


async def authenticate_token(db: Database, settings: Settings, token: str) -> Authenticated:
    """The active user of a live session; one indexed statement per request."""
    claims = decode_token(settings, token, "access")
    async with db.session() as session:
        user = await session.scalar(
            select(User)
            .join(AuthSession, AuthSession.user_id == User.id)
            .where(AuthSession.id == claims.session_id, User.id == claims.user_id)
            .where(*_session_is_live())
        )
    if user is None:
        raise Unauthenticated("Invalid or expired token.")
    return Authenticated(user=user, session_id=claims.session_id)


async def viewer_for_token(db: Database, settings: Settings, token: str) -> User:
    """The active user of a live session (WebSocket `connection_init`)."""
    return (await authenticate_token(db, settings, token)).user


async def authenticate_header(
    db: Database, settings: Settings, authorization: str | None
) -> Authenticated | None:
    """None when anonymous; UNAUTHENTICATED when a header is present but not valid."""
    if authorization is None:
        return None
    return await authenticate_token(db, settings, bearer_token(authorization))


async def live_session_ids(db: Database, session_ids: Collection[str]) -> set[str]:
    """Which of `session_ids` may still be used: one statement for any number of them."""
    if not session_ids:
        return set()
    async with db.session() as session:
        rows = await session.scalars(
            select(AuthSession.id)
            .join(User, User.id == AuthSession.user_id)
            .where(AuthSession.id.in_(session_ids))
            .where(*_session_is_live())
        )
        return set(rows)
