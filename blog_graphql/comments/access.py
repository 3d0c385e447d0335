"""Who may see and change comments: the one visibility rule every read of a comment uses."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_, select, true

from blog_graphql.accounts.models import User
from blog_graphql.comments.models import Comment
from blog_graphql.posts import access as posts_access
from blog_graphql.posts.models import Post


def visible_comments(viewer: User | None) -> ColumnElement[bool]:
    """Unapproved comments only to their author and admins; comments of a draft only to
    those who may see the draft (the post rule, applied to the comment's post)."""
    if viewer is not None and viewer.is_admin:
        return true()
    # A correlated scalar subquery, not EXISTS: PostgreSQL would turn EXISTS into a hash
    # join over every visible post, where this probes the primary key once per comment.
    on_visible_post = (
        select(posts_access.visible_posts(viewer))
        .where(Post.id == Comment.post_id)
        .scalar_subquery()
        .is_(True)
    )
    approved = Comment.is_approved.is_(True)
    if viewer is None:
        return and_(approved, on_visible_post)
    return and_(or_(approved, Comment.author_id == viewer.id), on_visible_post)
