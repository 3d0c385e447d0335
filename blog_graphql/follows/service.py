"""Following and unfollowing users; each use case owns its transaction."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from blog_graphql.accounts.models import User
from blog_graphql.db.database import Database
from blog_graphql.db.upsert import insert_or_ignore
from blog_graphql.errors import InvalidInput, NotFound
from blog_graphql.follows.models import Follow

NOT_YOURSELF = "You cannot follow yourself."


async def follow_user(db: Database, viewer: User, username: str) -> User:
    """Follow the user (nothing if followed already): NOT_FOUND if there is no such
    user, BAD_USER_INPUT on `username` for oneself."""
    try:
        async with db.transaction() as session:
            target = await _user_named(session, username)
            if target.id == viewer.id:
                raise InvalidInput({"username": NOT_YOURSELF})
            row = {"follower_id": viewer.id, "followed_id": target.id}
            await session.execute(insert_or_ignore(Follow, db.dialect).values(row))
    except IntegrityError:  # the user was deleted meanwhile
        raise NotFound() from None
    return target


async def unfollow_user(db: Database, viewer: User, username: str) -> User:
    """Stop following the user (nothing if not followed); NOT_FOUND if there is no such user."""
    async with db.transaction() as session:
        target = await _user_named(session, username)
        await session.execute(
            delete(Follow).where(Follow.follower_id == viewer.id, Follow.followed_id == target.id)
        )
    return target


async def _user_named(session: AsyncSession, username: str) -> User:
    name = username.replace("\x00", "").lower()  # PostgreSQL text cannot hold NUL
    user = await session.scalar(select(User).where(func.lower(User.username) == name))
    if user is None:
        raise NotFound()
    return user
