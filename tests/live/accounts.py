"""Session states the mutations cannot produce on demand: revoked before a test, short-lived."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from blog_graphql.accounts.models import AuthSession, User
from blog_graphql.accounts.sessions import open_session
from blog_graphql.accounts.tokens import decode_token, encode_token
from blog_graphql.config.settings import Settings
from blog_graphql.db.database import Database, utcnow


async def revoke_sessions(db: Database, user_id: int) -> None:
    """Every session of the user ends, as `logout` or `changePassword` leave them."""
    async with db.transaction() as session:
        await session.execute(
            update(AuthSession)
            .where(AuthSession.user_id == user_id)
            .values(revoked_at=utcnow(), revoked_reason="logout")
        )


async def short_lived_authorization(
    db: Database, settings: Settings, user: User, seconds: int
) -> str:
    """`Bearer <access token>` of a fresh session; the token expires in `seconds`."""
    async with db.transaction() as session:
        pair = open_session(session, settings, user_id=user.id)
    claims = decode_token(settings, pair.access_token, "access")
    token = encode_token(
        settings,
        user_id=user.id,
        session_id=claims.session_id,
        token_type="access",
        lifetime=timedelta(seconds=seconds),
    )
    return f"Bearer {token}"
