"""Login sessions: each is a family of refresh tokens that can be rotated and ended."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from blog_graphql.accounts.models import AuthSession
from blog_graphql.accounts.tokens import TokenPair, issue_token_pair, new_token_id
from blog_graphql.config import Settings
from blog_graphql.db import utcnow


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
