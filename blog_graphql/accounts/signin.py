"""Signing in and out: login behind the lockout, refresh-token rotation, logout."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from blog_graphql.accounts import sessions
from blog_graphql.accounts.lockout import LoginLockout, account_key, unknown_name_key
from blog_graphql.accounts.models import User
from blog_graphql.accounts.passwords import verify_password_or_dummy
from blog_graphql.accounts.tokens import TokenPair, decode_token
from blog_graphql.accounts.validation import normalized_email
from blog_graphql.config.settings import Settings
from blog_graphql.db.database import Database
from blog_graphql.errors import RateLimited, Unauthenticated

BAD_CREDENTIALS = "Invalid login or password."
INVALID_TOKEN = "Invalid or expired token."


@dataclass(frozen=True)
class SignedIn:
    user: User
    tokens: TokenPair


@dataclass(frozen=True)
class Client:
    """Who opened a session, for the user's own list of sessions and for operators."""

    user_agent: str | None = None
    address: str | None = None


async def find_by_login(db: Database, login: str) -> User | None:
    """The account named by `login`: an email if it has an '@' (usernames cannot)."""
    column = User.email if "@" in login else User.username
    if column is User.email:
        # Addresses are stored normalised; one that is not an address names no account.
        address = normalized_email(login)
        if address is None:
            return None
        login = address
    async with db.session() as session:
        return await session.scalar(select(User).where(func.lower(column) == func.lower(login)))


async def login(
    db: Database,
    settings: Settings,
    lockout: LoginLockout,
    *,
    login: str,
    password: str,
    client: Client,
) -> SignedIn:
    """Open a session for the right password of an active account.

    Unknown, deactivated and locked accounts take the same path and give the same
    answers as real ones: one lookup, one counted attempt, one bcrypt check.
    """
    login = login.strip()
    user = await find_by_login(db, login)
    key = account_key(user.id) if user else unknown_name_key(login)
    attempt = await lockout.attempt(key)
    if not attempt.allowed:
        raise RateLimited(attempt.retry_after)
    known_hash = user.password_hash if user else None
    matches = await verify_password_or_dummy(password, known_hash, settings.bcrypt_rounds)
    if user is None or not matches or not user.is_active:
        raise Unauthenticated(BAD_CREDENTIALS)
    await lockout.clear(key)
    async with db.transaction() as session:
        tokens = sessions.open_session(
            session, settings, user_id=user.id,
            user_agent=client.user_agent, client_address=client.address,
        )  # fmt: skip
    return SignedIn(user, tokens)


async def refresh(db: Database, settings: Settings, refresh_token: str) -> SignedIn:
    """Trade a refresh token for a new pair; the old one dies, and reusing it ends all."""
    claims = decode_token(settings, refresh_token, "refresh")
    user: User | None = None
    async with db.transaction() as session:
        tokens = await sessions.rotate_session(session, settings, claims)
        if tokens is not None:
            user = await session.get(User, claims.user_id)
        else:
            await sessions.revoke_on_reuse(session, claims)
    # Raised after the commit, so that a reuse revocation sticks.
    if tokens is None or user is None:
        raise Unauthenticated(INVALID_TOKEN)
    return SignedIn(user, tokens)


async def logout(
    db: Database,
    settings: Settings,
    *,
    viewer: User | None,
    session_id: str | None,
    refresh_token: str | None,
) -> None:
    """End the session of the access token, and that of `refresh_token` if given."""
    ending: list[tuple[str, int]] = []
    if viewer is not None and session_id is not None:
        ending.append((session_id, viewer.id))
    if refresh_token is not None:
        claims = decode_token(settings, refresh_token, "refresh")
        ending.append((claims.session_id, claims.user_id))
    if not ending:
        raise Unauthenticated()
    async with db.transaction() as session:
        for ended_id, user_id in ending:
            await sessions.end_session(session, session_id=ended_id, user_id=user_id)
