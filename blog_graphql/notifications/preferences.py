"""Email preferences per kind, and the signed one-click unsubscribe tokens that turn one off."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence

import jwt
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from blog_graphql.accounts.models import User
from blog_graphql.db.database import Database
from blog_graphql.errors import InvalidInput
from blog_graphql.notifications.kinds import DEFAULTS, PREFERENCE
from blog_graphql.notifications.models import EmailPreference, UsedUnsubscribeToken

TOKEN_AUDIENCE = "blog_graphql:unsubscribe"
TOKEN_ALGORITHM = "HS256"
BAD_TOKEN = "This unsubscribe link is not valid, or was already used."

Preferences = dict[str, bool]


async def preferences_of(session: AsyncSession, user_ids: Iterable[int]) -> dict[int, Preferences]:
    """Each user's preferences, the defaults where they never changed any."""
    ids = set(user_ids)
    rows = await session.scalars(select(EmailPreference).where(EmailPreference.user_id.in_(ids)))
    found = {row.user_id: {name: bool(getattr(row, name)) for name in DEFAULTS} for row in rows}
    return {user_id: found.get(user_id, dict(DEFAULTS)) for user_id in ids}


def allows(preferences: Preferences, kind: str) -> bool:
    return preferences[PREFERENCE[kind]]


async def get_preferences(db: Database, user_id: int) -> Preferences:
    async with db.session() as session:
        return (await preferences_of(session, [user_id]))[user_id]


async def update_preferences(db: Database, user: User, changes: Mapping[str, bool]) -> Preferences:
    """Change the preferences given; the others stay."""
    async with db.transaction() as session:
        return await _apply(session, user.id, changes)


async def _apply(session: AsyncSession, user_id: int, changes: Mapping[str, bool]) -> Preferences:
    row = await session.get(EmailPreference, user_id, with_for_update=True)
    if row is None:
        row = EmailPreference(user_id=user_id, **DEFAULTS)
        session.add(row)
    for name, value in changes.items():
        setattr(row, name, value)
    await session.flush()
    return {name: bool(getattr(row, name)) for name in DEFAULTS}


def unsubscribe_token(secret: str, user_id: int, kinds: Sequence[str]) -> str:
    """A signed token bound to the user and the kinds of one email; good for one use."""
    claims = {
        "aud": TOKEN_AUDIENCE,
        "sub": str(user_id),
        "kinds": sorted(set(kinds)),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret, algorithm=TOKEN_ALGORITHM)


def _claims(secret: str, token: str) -> tuple[int, list[str], str]:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[TOKEN_ALGORITHM],
            audience=TOKEN_AUDIENCE,
            options={"require": ["aud", "sub", "jti"]},
        )
        user_id, kinds, token_id = int(claims["sub"]), claims["kinds"], str(claims["jti"])
    except (jwt.InvalidTokenError, KeyError, TypeError, ValueError):
        raise InvalidInput({"token": BAD_TOKEN}) from None
    if not isinstance(kinds, list) or not kinds or not set(kinds) <= PREFERENCE.keys():
        raise InvalidInput({"token": BAD_TOKEN})
    if len(token_id) != 32:
        raise InvalidInput({"token": BAD_TOKEN})
    return user_id, kinds, token_id


async def unsubscribe(db: Database, secret: str, token: str) -> list[str]:
    """Turn off the emails of the token's kinds; return those kinds. A forged, reused or
    orphaned (user deleted) token is BAD_USER_INPUT on `token`."""
    user_id, kinds, token_id = _claims(secret, token)
    try:
        async with db.transaction() as session:
            if await session.get(UsedUnsubscribeToken, token_id) is not None:
                raise InvalidInput({"token": BAD_TOKEN})
            if await session.get(User, user_id) is None:
                raise InvalidInput({"token": BAD_TOKEN})
            session.add(UsedUnsubscribeToken(token_id=token_id, user_id=user_id))
            await _apply(session, user_id, {PREFERENCE[kind]: False for kind in kinds})
    except IntegrityError:  # the same token used twice at once, or its user just deleted
        raise InvalidInput({"token": BAD_TOKEN}) from None
    return kinds
