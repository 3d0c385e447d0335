"""Committed comment changes as small pub/sub messages: kinds, channels and their shape.

A message carries ids and the kind of change only; each instance loads the comment once
when the message arrives (see `comments.live`). `approved` and `authorId` ride along
because a comment removed outright cannot be loaded any more, yet only those who could
see it should hear that it went. Every change is kept on its post's stream, from which
`commentEvents(after:)` replays; the stream's id of it (`sid`) and `postId` make its cursor.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from blog_graphql.comments.models import Comment

EventKind = Literal["added", "edited", "deleted", "approved", "hidden"]
# What a replaying subscriber hears when its cursor is older than what its post keeps.
RESET = "reset"
ChangeKind = EventKind | Literal["reset"]
MODERATION_CHANNEL = "comments:moderation"
# On a post's channel, beside comment changes: the post was unpublished or deleted, so
# each subscriber checks whether its viewer may still read it.
POST_HIDDEN = "postHidden"


class CommentEvents(Protocol):
    """Where services report committed comment changes (the live feed, or a test's list)."""

    async def comment_committed(self, kind: EventKind, comment: Comment) -> None: ...


class NoEvents:
    """For callers with no live subscribers to tell (seeding, scripts, service tests)."""

    async def comment_committed(self, kind: EventKind, comment: Comment) -> None:
        return None


NO_EVENTS = NoEvents()


def post_channel(post_id: int) -> str:
    return f"comments:post:{post_id}"


def post_stream(post_id: int) -> str:
    """Where the post's comment changes are kept for replay (`live.streams`)."""
    return f"comments:stream:post:{post_id}"


def channels_of(kind: EventKind, comment: Comment) -> list[str]:
    """Every change goes to the post's thread; moderators hear of what waits, and of
    comments shown, hidden or deleted while not approved."""
    channels = [post_channel(comment.post_id)]
    waiting = kind in ("added", "deleted") and not comment.is_approved
    if waiting or kind in ("approved", "hidden"):
        channels.append(MODERATION_CHANNEL)
    return channels


def message(kind: EventKind, comment: Comment) -> dict[str, Any]:
    return {
        "kind": kind,
        "id": comment.id,
        "postId": comment.post_id,
        "authorId": comment.author_id,
        "approved": comment.is_approved,
    }


def post_hidden_message(post_id: int) -> dict[str, Any]:
    return {"kind": POST_HIDDEN, "id": post_id}
