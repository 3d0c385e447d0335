"""Who is asking: the viewer behind an `Authorization: Bearer` header, checked once."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import BindParameter, ColumnElement, Select, bindparam, select

from blog_graphql.accounts.models import AuthSession, User
from blog_graphql.accounts.tokens import verified_access_tokens
from blog_graphql.config.settings import Settings
from blog_graphql.db.database import Database, UTCDateTime, loaded, utcnow
from blog_graphql.errors import Unauthenticated

BEARER = "bearer "


def bearer_token(authorization: str) -> str:
    """The token of a `Bearer <token>` header value (scheme ignoring case)."""
    if not authorization.lower().startswith(BEARER) or not authorization[len(BEARER) :].strip():
        raise Unauthenticated("Invalid or expired token.")
    return authorization[len(BEARER) :].strip()


def _session_is_live(
    now: datetime | BindParameter[datetime] | None = None,
) -> tuple[ColumnElement[bool], ...]:
    """Not revoked, not expired (at `now`), and its user still active."""
    return (
        AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > (utcnow() if now is None else now),
        User.is_active.is_(True),
    )


# Every column of the user: a viewer is a whole `User` (a password change reads its hash).
VIEWER_COLUMNS = tuple(User.__table__.columns)
VIEWER_KEYS = tuple(column.key for column in VIEWER_COLUMNS)


@cache
def _viewer_of_live_session() -> Select[tuple[object, ...]]:
    """The check every signed-in request runs, built once with its values as parameters:
    so the database layer runs it as it runs the loaders' reads (`db/direct_reads.py`),
    rather than through an ORM session, which cost more than the rest of a small request."""
    now = bindparam("now", type_=UTCDateTime(), required=True)
    return (
        select(*VIEWER_COLUMNS)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(
            AuthSession.id == bindparam("session_id", required=True),
            User.id == bindparam("user_id", required=True),
        )
        .where(*_session_is_live(now))
    )


@dataclass(frozen=True)
class Authenticated:
    """The viewer and the login session their access token belongs to."""

    user: User
    session_id: str


async def authenticate_token(db: Database, settings: Settings, token: str) -> Authenticated:
    """The active user of a live session; one indexed statement per request."""
    claims = verified_access_tokens.claims(settings, token)
    params = {"session_id": claims.session_id, "user_id": claims.user_id, "now": utcnow()}
    rows = await db.read(_viewer_of_live_session(), params)
    if not rows:
        raise Unauthenticated("Invalid or expired token.")
    user = loaded(User, VIEWER_KEYS, rows[0])
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
