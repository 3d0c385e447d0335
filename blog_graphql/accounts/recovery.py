"""Proving who you are by email: verify an address, reset or change a password."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from blog_graphql.accounts import mail_cap, one_time_tokens, sessions
from blog_graphql.accounts.lockout import LoginLockout, account_key
from blog_graphql.accounts.models import User
from blog_graphql.accounts.one_time_tokens import RESET_PASSWORD, VERIFY_EMAIL
from blog_graphql.accounts.passwords import (
    WRONG_PASSWORD,
    hash_password,
    password_problem,
    verify_password,
)
from blog_graphql.accounts.service import queue_verification
from blog_graphql.accounts.validation import INVALID_EMAIL, normalized_email, raise_problems
from blog_graphql.db.database import Database
from blog_graphql.emails import outbox
from blog_graphql.errors import InvalidInput


async def change_password(
    db: Database,
    *,
    user: User,
    session_id: str | None,
    current_password: str,
    new_password: str,
    bcrypt_rounds: int,
) -> None:
    """Replace a known password; every session but the one asking ends."""
    matches = await verify_password(current_password, user.password_hash)
    raise_problems(
        {
            "currentPassword": None if matches else WRONG_PASSWORD,
            "newPassword": password_problem(new_password),
        }
    )
    password_hash = await hash_password(new_password, bcrypt_rounds)
    async with db.transaction() as session:
        await _set_password(
            session, user.id, password_hash, reason=sessions.PASSWORD_CHANGED, keep=session_id
        )


async def request_password_reset(db: Database, *, email: str) -> None:
    """Email a reset link to an active account with this address; nothing otherwise.

    The caller answers `true` either way, also when the address had its share of
    account emails this hour. Only an address that is not one is BAD_USER_INPUT. The
    email itself is sent by the worker from the outbox, so the request never waits on
    SMTP for a real account.
    """
    address = normalized_email(email)
    if address is None:
        raise InvalidInput({"email": INVALID_EMAIL})
    async with db.transaction() as session:
        user = await session.scalar(
            select(User).where(
                func.lower(User.email) == func.lower(address), User.is_active.is_(True)
            )
        )
        if user is None or not await mail_cap.may_email(session, user.email):
            return
        token = one_time_tokens.issue_token(session, user_id=user.id, purpose=RESET_PASSWORD)
        outbox.queue_email(
            session,
            template="reset_password",
            to=user.email,
            context={"username": user.username, "token": token},
        )


async def reset_password(
    db: Database,
    lockout: LoginLockout,
    *,
    token: str,
    new_password: str,
    session_id: str | None,
    bcrypt_rounds: int,
) -> None:
    """Set a new password with an emailed token; the account's other sessions end.

    The token proves the address, so the email counts as verified, and the lockout
    of the account is lifted.
    """
    raise_problems({"newPassword": password_problem(new_password)})
    password_hash = await hash_password(new_password, bcrypt_rounds)
    async with db.transaction() as session:
        user_id = await one_time_tokens.consume_token(session, token, RESET_PASSWORD)
        await _set_password(
            session, user_id, password_hash, reason=sessions.PASSWORD_RESET, keep=session_id,
            email_verified=True,
        )  # fmt: skip
    await lockout.clear(account_key(user_id))


async def verify_email(db: Database, *, token: str) -> None:
    """Mark the address the token was sent to as verified."""
    async with db.transaction() as session:
        user_id = await one_time_tokens.consume_token(session, token, VERIFY_EMAIL)
        await session.execute(update(User).where(User.id == user_id).values(email_verified=True))
        await one_time_tokens.discard_tokens(session, user_id=user_id, purpose=VERIFY_EMAIL)


async def request_email_verification(db: Database, *, user: User) -> None:
    """Send a new verification link (the first expires after 48 hours)."""
    if user.email_verified:
        return
    async with db.transaction() as session:
        await queue_verification(session, user, template="verify_email")


async def _set_password(
    session: AsyncSession,
    user_id: int,
    password_hash: str,
    *,
    reason: str,
    keep: str | None,
    email_verified: bool | None = None,
) -> None:
    """Store the hash, end every other session and void outstanding reset links."""
    values: dict[str, object] = {"password_hash": password_hash}
    if email_verified is not None:
        values["email_verified"] = email_verified
    await session.execute(update(User).where(User.id == user_id).values(**values))
    await sessions.end_user_sessions(session, user_id=user_id, reason=reason, keep=keep)
    await one_time_tokens.discard_tokens(session, user_id=user_id, purpose=RESET_PASSWORD)
