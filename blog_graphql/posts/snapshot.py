"""A post as its live subscribers see it, read once per event for all of an instance's.

One read brings the card, the body, the author's columns, the tags and the comment counts
of every kind of viewer: anonymous readers see the approved comments, admins every one,
and a signed-in reader the approved ones plus their own still waiting for a moderator
(under COMMENT_MODERATION=pre). So each subscriber's `Post` is made in memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from sqlalchemy import ColumnElement, Integer, ScalarSelect, bindparam, func, select

from blog_graphql.accounts.loaders import WITH_AUTHOR
from blog_graphql.accounts.models import User
from blog_graphql.accounts.permissions import is_owner_or_admin
from blog_graphql.comments.models import Comment
from blog_graphql.db.database import Database
from blog_graphql.db.keyset import AnyRow, AnySelect
from blog_graphql.posts.loaders import POST_BODY, POST_CARD, tag_list
from blog_graphql.posts.models import Post

POST_ID = bindparam("post_id", type_=Integer, required=True)
APPROVED, LIVE = "approved_comments", "live_comments"


@dataclass(frozen=True)
class PostSnapshot:
    row: AnyRow  # the card and body, the author's columns (`WITH_AUTHOR`), `tag_list`
    waiting_by_author: Mapping[int, int]  # comments not yet approved, by their author

    @property
    def published(self) -> bool:
        return bool(self.row.published)

    def readable_by(self, viewer: User | None) -> bool:
        """Everyone reads a published post; a draft, its author and admins."""
        return self.published or is_owner_or_admin(viewer, self.row.author_id)

    def comment_count(self, viewer: User | None) -> int:
        """`Post.commentCount` as `viewer` sees it (tombstones left out)."""
        if viewer is not None and viewer.is_admin:
            return int(getattr(self.row, LIVE))
        own = self.waiting_by_author.get(viewer.id, 0) if viewer is not None else 0
        return int(getattr(self.row, APPROVED)) + own


async def load_post_snapshot(db: Database, post_id: int) -> PostSnapshot | None:
    """The post whoever asks (subscribers are filtered afterwards); None once deleted."""
    params = {POST_ID.key: post_id}
    posts, waiting = await db.read_each([(_snapshot(db.dialect), params), (_WAITING, params)])
    if not posts:
        return None
    return PostSnapshot(row=posts[0], waiting_by_author={row[0]: row[1] for row in waiting})


def _live_comments(*conditions: ColumnElement[bool]) -> ScalarSelect[int]:
    counted = select(func.count()).select_from(Comment)
    return counted.where(
        Comment.post_id == Post.id, Comment.deleted_at.is_(None), *conditions
    ).scalar_subquery()


@cache
def _snapshot(dialect: str) -> AnySelect:
    post = select(
        *POST_CARD,
        *POST_BODY,
        _live_comments(Comment.is_approved.is_(True)).label(APPROVED),
        _live_comments().label(LIVE),
        tag_list(dialect),
    ).where(Post.id == POST_ID)
    return WITH_AUTHOR.joined(post, Post.author_id)


_WAITING = (
    select(Comment.author_id, func.count())
    .where(
        Comment.post_id == POST_ID,
        Comment.deleted_at.is_(None),
        Comment.is_approved.is_(False),
    )
    .group_by(Comment.author_id)
)
