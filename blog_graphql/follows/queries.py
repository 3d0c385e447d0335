"""The following feed: published posts by the authors the viewer follows, newest first."""

from __future__ import annotations

from functools import cache

from sqlalchemy import func, select

from blog_graphql.accounts.loaders import WITH_AUTHOR
from blog_graphql.accounts.models import User
from blog_graphql.comments.access import comments_visible_to
from blog_graphql.db.database import Database
from blog_graphql.db.keyset import AnyRow, AnySelect, keyset_page, page_params
from blog_graphql.db.statements import VIEWER_ID, Audience, audience_of, viewer_params
from blog_graphql.follows.models import Follow
from blog_graphql.posts.access import visible_posts
from blog_graphql.posts.loaders import FEED_ORDER, card_parts, cards_visible_to
from blog_graphql.posts.models import Post
from blog_graphql.relay.pagination import Window


def _followed() -> AnySelect:
    return select(Follow.followed_id).where(Follow.follower_id == VIEWER_ID)


async def following_feed(db: Database, viewer: User, window: Window) -> list[AnyRow]:
    """A page (`size + 1` rows) of published posts by followed authors, each with its
    author's columns, comment count and tags, in one statement."""
    params = {**viewer_params(viewer), **page_params(FEED_ORDER, window)}
    statement = _feed_page(
        audience_of(viewer), db.dialect, window.cursor is not None, window.backward
    )
    return list(await db.read(statement, params))


async def count_following_feed(db: Database, viewer: User) -> int:
    query = (
        select(func.count())
        .select_from(Post)
        .where(visible_posts(viewer), Post.published.is_(True), Post.author_id.in_(_followed()))
    )
    async with db.session() as session:
        return int(await session.scalar(query, viewer_params(viewer)) or 0)


@cache
def _feed_page(audience: Audience, dialect: str, after: bool, backward: bool) -> AnySelect:
    """Built once per audience, dialect, cursor and direction (see blog_graphql.statements)."""
    query = cards_visible_to(audience).where(
        Post.published.is_(True), Post.author_id.in_(_followed())
    )
    page = keyset_page(query, FEED_ORDER, cursor=after, backward=backward)
    page = page.add_columns(*card_parts(comments_visible_to(audience), dialect))
    return WITH_AUTHOR.joined(page, Post.author_id)
