"""Who may see and change posts: the one visibility rule every read of a post goes through."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, true

from blog_graphql.accounts.models import User
from blog_graphql.accounts.permissions import is_owner_or_admin
from blog_graphql.db.statements import VIEWER_ID, Audience, ViewerId, audience_of
from blog_graphql.errors import Forbidden
from blog_graphql.posts.models import Post


def visible_posts(viewer: User | None) -> ColumnElement[bool]:
    """Drafts only to their author and admins; published posts to everyone."""
    return posts_visible_to(audience_of(viewer), viewer.id if viewer is not None else VIEWER_ID)


def posts_visible_to(audience: Audience, viewer_id: ViewerId = VIEWER_ID) -> ColumnElement[bool]:
    """The rule for a kind of viewer; a member's id is `VIEWER_ID` in a statement built
    once for every member (see blog_graphql.statements)."""
    if audience is Audience.ANONYMOUS:
        return Post.published.is_(True)
    if audience is Audience.ADMIN:
        return true()
    return or_(Post.published.is_(True), Post.author_id == viewer_id)


def ensure_may_change(viewer: User, author_id: int) -> None:
    """Changing or deleting is for the owner or an admin; others get FORBIDDEN."""
    if not is_owner_or_admin(viewer, author_id):
        raise Forbidden()
