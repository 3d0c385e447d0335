"""Who may see and change posts: the one visibility rule every read of a post goes through."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, true

from blog_graphql.accounts.models import User
from blog_graphql.errors import Forbidden
from blog_graphql.permissions import is_owner_or_admin
from blog_graphql.posts.models import Post


def visible_posts(viewer: User | None) -> ColumnElement[bool]:
    """Drafts only to their author and admins; published posts to everyone."""
    if viewer is None:
        return Post.published.is_(True)
    if viewer.is_admin:
        return true()
    return or_(Post.published.is_(True), Post.author_id == viewer.id)


def ensure_may_change(viewer: User, author_id: int) -> None:
    """Changing or deleting is for the owner or an admin; others get FORBIDDEN."""
    if not is_owner_or_admin(viewer, author_id):
        raise Forbidden()
