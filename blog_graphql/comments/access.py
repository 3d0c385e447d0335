"""Who may see and change comments: the one visibility rule every read of a comment uses."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_, select, true

from blog_graphql.accounts.models import User
from blog_graphql.comments.models import Comment
from blog_graphql.db.statements import VIEWER_ID, Audience, ViewerId, audience_of
from blog_graphql.posts import access as posts_access
from blog_graphql.posts.models import Post


def visible_comments(viewer: User | None) -> ColumnElement[bool]:
    """Unapproved comments only to their author and admins; comments of a draft only to
    those who may see the draft (the post rule, applied to the comment's post)."""
    viewer_id = viewer.id if viewer is not None else VIEWER_ID
    return comments_visible_to(audience_of(viewer), viewer_id)


def comments_visible_to(audience: Audience, viewer_id: ViewerId = VIEWER_ID) -> ColumnElement[bool]:
    """The rule for a kind of viewer; a member's id is `VIEWER_ID` in a statement built
    once for every member (see blog_graphql.statements)."""
    if audience is Audience.ADMIN:
        return true()
    # A correlated scalar subquery, not EXISTS: PostgreSQL would turn EXISTS into a hash
    # join over every visible post, where this probes the primary key once per comment.
    on_visible_post = (
        select(posts_access.posts_visible_to(audience, viewer_id))
        .where(Post.id == Comment.post_id)
        .scalar_subquery()
        .is_(True)
    )
    approved = Comment.is_approved.is_(True)
    if audience is Audience.ANONYMOUS:
        return and_(approved, on_visible_post)
    return and_(or_(approved, Comment.author_id == viewer_id), on_visible_post)
