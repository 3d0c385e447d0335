"""Where post services report committed changes, and the small pub/sub messages they become.

A message carries the post's id and the kind of change only; each instance loads the post
once when the message arrives (see `posts.live`), and decides per subscriber what it may see.
"""

from __future__ import annotations

from typing import Any, Final, Literal, Protocol

# What a post service committed. "published": it went live (a first publication or a
# republication, `createPost(published: true)` included); "updated": `updatePost`.
PostChange = Literal["published", "updated", "unpublished", "deleted"]
# Changes after which some readers may no longer see the post.
HIDING: frozenset[PostChange] = frozenset({"unpublished", "deleted"})
# On a post's channel, beside the changes above: its comments changed, so each
# subscriber checks whether the comment count it sees moved (comments report it).
COMMENT_COUNT: Final = "commentCount"
# On a post's channel: its reactions changed (every reader sees the same counts).
REACTIONS: Final = "reactions"
# Every post that goes live: `postPublished`.
PUBLISHED_CHANNEL = "posts:published"


class PostEvents(Protocol):
    """Told after commit (never on rollback) of each change to a post: the live feeds
    tell its watchers, and end the subscriptions of those who may no longer read it."""

    async def post_changed(self, kind: PostChange, post_id: int) -> None: ...


class NoPostEvents:
    """For callers with no live subscribers to tell (seeding, scripts, service tests)."""

    async def post_changed(self, kind: PostChange, post_id: int) -> None:
        return None


NO_POST_EVENTS = NoPostEvents()


def post_channel(post_id: int) -> str:
    return f"posts:post:{post_id}"


def channels_of(kind: PostChange, post_id: int) -> list[str]:
    """Every change goes to the post's watchers; a publication also to the new-posts feed."""
    channels = [post_channel(post_id)]
    if kind == "published":
        channels.append(PUBLISHED_CHANNEL)
    return channels


def message(
    kind: PostChange | Literal["commentCount", "reactions"], post_id: int
) -> dict[str, Any]:
    return {"kind": kind, "id": post_id}
