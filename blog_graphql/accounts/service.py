"""Account use cases: registration, profile and administration; each owns its transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from blog_graphql.accounts import mail_cap, one_time_tokens, sessions
from blog_graphql.accounts.models import User
from blog_graphql.accounts.passwords import WRONG_PASSWORD, hash_password, verify_password
from blog_graphql.accounts.validation import (
    INVALID_EMAIL,
    MAX_BIO_LENGTH,
    MAX_FULL_NAME_LENGTH,
    check_new_account,
    clean_text,
    normalized_email,
    raise_problems,
    text_problem,
)
from blog_graphql.db.database import Database
from blog_graphql.emails import outbox
from blog_graphql.errors import Conflict, Forbidden, InvalidInput, NotFound
from blog_graphql.media import service as media
from blog_graphql.webhooks import outbox as webhooks

EMAIL_TAKEN = "This email is already taken."
USERNAME_TAKEN = "This username is already taken."
PASSWORD_NEEDED = "Enter your current password to change your email address."


async def find_user_by_username(db: Database, username: str) -> User | None:
    async with db.session() as session:
        return await session.scalar(
            select(User).where(func.lower(User.username) == username.lower())
        )


async def create_user(
    db: Database,
    *,
    email: str,
    username: str,
    password: str,
    bcrypt_rounds: int,
    full_name: str | None = None,
    bio: str | None = None,
    is_admin: bool = False,
    welcome: bool = False,
) -> User:
    """Check, hash and insert an account; a taken email or username is CONFLICT.

    With `welcome` (registration), a welcome email carries the verification link.
    """
    # Stored in email-validator's normal form; a bad address stays as given, for the check.
    email, username = normalized_email(email) or email, username.strip()
    full_name, bio = clean_text(full_name), clean_text(bio)
    check_new_account(email, username, password, full_name, bio)
    # Hash before the duplicate check: a taken name answers CONFLICT (API.md says so)
    # but costs the same time as a new account, so timing tells no more than the answer.
    password_hash = await hash_password(password, bcrypt_rounds)
    user = User(
        email=email, username=username, password_hash=password_hash, full_name=full_name,
        bio=bio, is_admin=is_admin, email_verified=is_admin,
    )  # fmt: skip
    try:
        async with db.transaction() as session:
            session.add(user)
            await session.flush()
            if welcome:
                await queue_verification(session, user, template="welcome")
                webhooks.on_user_registered(session, user)
    except IntegrityError:  # the unique indexes decide, also between racing requests
        raise Conflict(await _taken_fields(db, email, username)) from None
    return user


async def queue_verification(session: AsyncSession, user: User, *, template: str) -> None:
    """A fresh verification token, emailed to the user's address after commit (unless the
    address had its share of account emails this hour: then, silently, nothing)."""
    if not await mail_cap.may_email(session, user.email):
        return
    token = one_time_tokens.issue_token(
        session, user_id=user.id, purpose=one_time_tokens.VERIFY_EMAIL
    )
    outbox.queue_email(
        session,
        template=template,
        to=user.email,
        context={"username": user.username, "token": token},
    )


async def _taken_fields(db: Database, email: str, username: str) -> dict[str, str]:
    async with db.session() as session:
        emails = await session.scalar(
            select(func.count()).where(func.lower(User.email) == func.lower(email))
        )
        usernames = await session.scalar(
            select(func.count()).where(func.lower(User.username) == func.lower(username))
        )
    fields = {"email": EMAIL_TAKEN} if emails else {}
    return fields | ({"username": USERNAME_TAKEN} if usernames or not fields else {})


async def update_profile(
    db: Database,
    *,
    user: User,
    changes: Mapping[str, str | None],
    current_password: str | None = None,
    set_avatar: bool = False,
    avatar_image_id: int | None = None,
) -> User:
    """Change email, full name or bio (only the keys given), and the avatar when
    `set_avatar` (to `avatar_image_id`, one of the user's images, or none): all or nothing.

    A new email needs the current password (a stolen access token alone must not move
    the account, and its password resets, to another mailbox); it is re-verified, and
    the old address is told.
    """
    values = _checked_profile(changes)
    if not values and not set_avatar:
        return user
    new_email = values.get("email")
    email_changed = isinstance(new_email, str) and new_email.lower() != user.email.lower()
    if email_changed:
        await _check_current_password(user, current_password)
        values["email_verified"] = False
    try:
        async with db.transaction() as session:
            updated = await _update_user(session, user.id, values) if values else user
            if email_changed:
                await _queue_email_change(session, updated, old_address=user.email)
            if set_avatar:
                await media.use_as_avatar(session, user=user, image_id=avatar_image_id)
    except IntegrityError:
        raise Conflict({"email": EMAIL_TAKEN}) from None
    return updated


async def _check_current_password(user: User, current_password: str | None) -> None:
    if current_password is None:
        raise InvalidInput({"currentPassword": PASSWORD_NEEDED})
    if not await verify_password(current_password, user.password_hash):
        raise InvalidInput({"currentPassword": WRONG_PASSWORD})


async def _queue_email_change(session: AsyncSession, user: User, *, old_address: str) -> None:
    """A verification link to the new address, and a notice to the old one."""
    await one_time_tokens.discard_tokens(
        session, user_id=user.id, purpose=one_time_tokens.VERIFY_EMAIL
    )
    await queue_verification(session, user, template="verify_email")
    if await mail_cap.may_email(session, old_address):
        outbox.queue_email(
            session, template="email_changed", to=old_address, context={"username": user.username}
        )


PROFILE_TEXT = (("fullName", "full_name", MAX_FULL_NAME_LENGTH), ("bio", "bio", MAX_BIO_LENGTH))


def _checked_profile(changes: Mapping[str, str | None]) -> dict[str, object]:
    """Column values for the given keys; BAD_USER_INPUT naming every bad field."""
    values: dict[str, object] = {}
    problems: dict[str, str | None] = {}
    if "email" in changes:
        email = normalized_email(changes["email"])
        values["email"], problems["email"] = email, None if email else INVALID_EMAIL
    for field, column, limit in PROFILE_TEXT:
        if field in changes:
            text = clean_text(changes[field])
            values[column], problems[field] = text, text_problem(text, limit)
    raise_problems(problems)
    return values


async def _update_user(session: AsyncSession, user_id: int, values: Mapping[str, object]) -> User:
    """One UPDATE ... RETURNING: write first, so SQLite never upgrades a read lock."""
    user = await session.scalar(
        update(User)
        .where(User.id == user_id)
        .values(**values)
        .returning(User)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    if user is None:
        raise NotFound()
    return user


async def list_users(
    db: Database, *, first: int, after_id: int | None, backward: bool = False
) -> Sequence[User]:
    """A page of users by id, with one extra row to tell whether more follow; backward
    (`last`/`before`): those before `after_id`, nearest first."""
    if backward:
        query = select(User).order_by(User.id.desc()).limit(first + 1)
        if after_id is not None:
            query = query.where(User.id < after_id)
    else:
        query = select(User).order_by(User.id).limit(first + 1)
        if after_id is not None:
            query = query.where(User.id > after_id)
    async with db.session() as session:
        return (await session.scalars(query)).all()


async def count_users(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def set_user_active(db: Database, *, admin: User, user_id: int, active: bool) -> User:
    """Activate or deactivate an account; deactivation ends all its sessions at once."""
    if user_id == admin.id and not active:
        raise Forbidden("You cannot deactivate your own account.")
    async with db.transaction() as session:
        user = await _update_user(session, user_id, {"is_active": active})
        if not active:
            await sessions.end_user_sessions(session, user_id=user_id, reason=sessions.DEACTIVATED)
    return user
