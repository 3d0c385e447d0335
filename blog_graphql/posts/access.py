"""Who may see and change posts: the one visibility rule every read of a post goes through."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, true

from blog_graphql.accounts.models import User
from blog_graphql.errors import Forbidden, Unauthenticated
from blog_graphql.posts.models import Post


def visible_posts(viewer: User | None) -> ColumnElement[bool]:
    """Drafts only to their author and admins; published posts to everyone."""
    if viewer is None:
        return Post.published.is_(True)
    if viewer.is_admin:
        return true()
    return or_(Post.published.is_(True), Post.author_id == viewer.id)


def signed_in(viewer: User | None) -> User:
    """The viewer of a request that must be authenticated (UNAUTHENTICATED otherwise)."""
    if viewer is None:
        raise Unauthenticated()
    return viewer


def ensure_may_change(viewer: User, author_id: int) -> None:
    """Changing or deleting is for the owner or an admin; others get FORBIDDEN."""
    if viewer.id != author_id and not viewer.is_admin:
        raise Forbidden()
