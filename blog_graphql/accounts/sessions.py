"""Login sessions: each is a family of refresh tokens that can be rotated and ended."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Update, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from blog_graphql.accounts.models import AuthSession, User
from blog_graphql.accounts.tokens import (
    Claims,
    TokenPair,
    issue_token_pair,
    new_token_id,
    successor_jti,
)
from blog_graphql.config.settings import Settings
from blog_graphql.db.database import utcnow

# Why a session ended, kept in `auth_sessions.revoked_reason` for operators.
LOGOUT = "logout"
REUSE = "refresh_token_reuse"
PASSWORD_CHANGED = "password_changed"
PASSWORD_RESET = "password_reset"
DEACTIVATED = "deactivated"
# A rotated refresh token presented again this soon gets the pair that replaced it (two
# tabs refreshing together stay signed in); later, it is reuse and ends the session.
REFRESH_GRACE = timedelta(seconds=10)


def open_session(
    session: AsyncSession,
    settings: Settings,
    *,
    user_id: int,
    user_agent: str | None = None,
    client_address: str | None = None,
) -> TokenPair:
    """Start a session in the caller's transaction and return its first token pair."""
    auth_session = AuthSession(
        id=secrets.token_hex(16),
        user_id=user_id,
        refresh_jti=new_token_id(),
        expires_at=utcnow() + timedelta(days=settings.refresh_token_expire_days),
        user_agent=(user_agent or "")[:300] or None,
        client_address=client_address,
    )
    session.add(auth_session)
    return issue_token_pair(
        settings,
        user_id=user_id,
        session_id=auth_session.id,
        refresh_jti=auth_session.refresh_jti,
    )


async def rotate_session(
    session: AsyncSession, settings: Settings, claims: Claims
) -> TokenPair | None:
    """Swap the session's refresh token id for a new one, or None if `claims` may not.

    One conditional UPDATE: of two refreshes racing with the same token, only the
    first matches `refresh_jti`; the database serialises them on the row. The second
    then finds the token's successor in place, rotated within `REFRESH_GRACE`, and
    gets the same pair.
    """
    now, new_jti = utcnow(), successor_jti(settings, claims.jti)
    rotated = await affected_rows(
        session,
        update(AuthSession)
        .where(_live_session(claims, now), AuthSession.refresh_jti == claims.jti)
        .values(
            refresh_jti=new_jti,
            refreshed_at=now,
            expires_at=now + timedelta(days=settings.refresh_token_expire_days),
        ),
    )
    if rotated == 1:
        return _pair(settings, claims, new_jti, now)
    rotated_at = await session.scalar(
        select(AuthSession.refreshed_at).where(
            _live_session(claims, now),
            AuthSession.refresh_jti == new_jti,
            AuthSession.refreshed_at > now - REFRESH_GRACE,
        )
    )
    return _pair(settings, claims, new_jti, rotated_at) if rotated_at is not None else None


def _live_session(claims: Claims, now: datetime) -> ColumnElement[bool]:
    return and_(
        AuthSession.id == claims.session_id,
        AuthSession.user_id == claims.user_id,
        AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > now,
        AuthSession.user_id.in_(select(User.id).where(User.is_active.is_(True))),
    )


def _pair(settings: Settings, claims: Claims, refresh_jti: str, issued_at: datetime) -> TokenPair:
    return issue_token_pair(
        settings,
        user_id=claims.user_id,
        session_id=claims.session_id,
        refresh_jti=refresh_jti,
        issued_at=issued_at,
    )


async def revoke_on_reuse(session: AsyncSession, claims: Claims) -> bool:
    """An already-rotated refresh token came back: end its whole session (OAuth BCP)."""
    reused = await affected_rows(
        session,
        _revoke(REUSE).where(
            AuthSession.id == claims.session_id,
            AuthSession.user_id == claims.user_id,
            AuthSession.refresh_jti != claims.jti,
        ),
    )
    return reused == 1


async def end_session(session: AsyncSession, *, session_id: str, user_id: int) -> None:
    await session.execute(
        _revoke(LOGOUT).where(AuthSession.id == session_id, AuthSession.user_id == user_id)
    )


async def end_user_sessions(
    session: AsyncSession, *, user_id: int, reason: str, keep: str | None = None
) -> None:
    """End every live session of a user, except `keep` (the one asking, if any)."""
    statement = _revoke(reason).where(AuthSession.user_id == user_id)
    if keep is not None:
        statement = statement.where(AuthSession.id != keep)
    await session.execute(statement)


def _revoke(reason: str) -> Update:
    return (
        update(AuthSession)
        .where(AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
        .execution_options(synchronize_session=False)
    )


async def affected_rows(session: AsyncSession, statement: Update) -> int:
    """Run an UPDATE without ORM synchronisation and say how many rows it changed."""
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return int(cast(CursorResult[Any], result).rowcount)
