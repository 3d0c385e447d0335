"""Saving a post to one's reading list and taking it off; each owns its transaction."""

from __future__ import annotations

from sqlalchemy import Integer, delete, exists, literal, select
from sqlalchemy.exc import IntegrityError

from blog_graphql.accounts.models import User
from blog_graphql.bookmarks.models import Bookmark
from blog_graphql.db.database import Database, UTCDateTime, utcnow
from blog_graphql.db.upsert import insert_or_ignore
from blog_graphql.errors import NotFound
from blog_graphql.posts.access import visible_posts
from blog_graphql.posts.models import Post


async def bookmark_post(db: Database, viewer: User, post_id: int) -> None:
    """Save the post (nothing if saved already); NOT_FOUND if the viewer may not see it."""
    visible = exists().where(Post.id == post_id, visible_posts(viewer))
    values = select(
        literal(viewer.id, Integer), literal(post_id, Integer), literal(utcnow(), UTCDateTime)
    ).where(visible)
    statement = insert_or_ignore(Bookmark, db.dialect).from_select(
        ["user_id", "post_id", "created_at"], values
    )
    try:
        async with db.transaction() as session:  # the insert first: SQLite's write lock at once
            added = (await session.execute(statement)).rowcount  # type: ignore[attr-defined]
            if not added and not await session.scalar(select(visible)):
                raise NotFound()
    except IntegrityError:  # deleted between the check and the insert
        raise NotFound() from None


async def unbookmark_post(db: Database, viewer: User, post_id: int) -> None:
    """Take the post off the list (nothing if it is not there); NOT_FOUND if the viewer
    may not see it."""
    async with db.transaction() as session:
        await session.execute(
            delete(Bookmark).where(Bookmark.user_id == viewer.id, Bookmark.post_id == post_id)
        )
        visible = exists().where(Post.id == post_id, visible_posts(viewer))
        if not await session.scalar(select(visible)):
            raise NotFound()  # rolled back: nothing changes
