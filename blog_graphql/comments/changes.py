"""A committed comment change as each subscriber receives it, live or replayed.

Who may see what is decided in memory, from the comment as it is now (loaded once per
instance for a live event, once per replay for missed ones): a comment edited and then
hidden is hidden, and one deleted since comes as its event says.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from blog_graphql.accounts.models import User
from blog_graphql.accounts.permissions import is_owner_or_admin
from blog_graphql.comments import events
from blog_graphql.comments.cursors import EventCursors
from blog_graphql.comments.models import Comment
from blog_graphql.live.pubsub import Event


@dataclass(frozen=True)
class Change:
    """One committed change as one subscriber receives it."""

    kind: events.ChangeKind
    comment_id: int  # for RESET, the post's id
    comment: Comment | None  # None: gone, or not (any more) visible to this subscriber
    author: User | None
    was_approved: bool
    author_id: int
    cursor: str  # where a subscriber that received this resumes from


def change_of(message: Event, loaded: tuple[Comment, User] | None, cursors: EventCursors) -> Change:
    """The change a stream message says, with the comment as `loaded` now."""
    comment, author = loaded if loaded is not None else (None, None)
    return Change(
        kind=message["kind"],
        comment_id=int(message["id"]),
        comment=comment,
        author=author,
        was_approved=bool(message["approved"]),
        author_id=int(message["authorId"]),
        cursor=cursors.encode(int(message["postId"]), message["sid"]),
    )


def reset(post_id: int, cursor: str) -> Change:
    """Events since the subscriber's cursor are no longer kept: it refetches the thread."""
    return Change("reset", post_id, None, None, False, 0, cursor)


def seen_by(viewer: User | None, change: Change) -> Change | None:
    """The change as `viewer` may see it, or None if it does not concern them. A comment
    they may no longer see, but may have seen, still comes as its bare id, so that
    their view never keeps a hidden or deleted comment."""
    comment = change.comment
    if change.kind == events.RESET:
        return change
    if comment is None:
        saw_it = change.was_approved or is_owner_or_admin(viewer, change.author_id)
        return change if change.kind == "deleted" and saw_it else None
    if comment.is_approved or is_owner_or_admin(viewer, comment.author_id):
        return change
    if change.kind == "hidden":
        return replace(change, comment=None, author=None)
    return None


def newly_public(change: Change | None) -> Change | None:
    """`commentAdded`: an approved comment, new or just let through by a moderator."""
    if change is None or change.kind not in ("added", "approved") or change.comment is None:
        return None
    if not change.comment.is_approved or change.comment.deleted_at is not None:
        return None
    return change
