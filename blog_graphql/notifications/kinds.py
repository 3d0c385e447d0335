"""The kinds of notification, and which email preference governs each."""

from __future__ import annotations

COMMENT_ON_YOUR_POST = "COMMENT_ON_YOUR_POST"
REPLY_TO_YOUR_COMMENT = "REPLY_TO_YOUR_COMMENT"
NEW_POST_BY_FOLLOWED = "NEW_POST_BY_FOLLOWED"
MENTION = "MENTION"

# The `EmailPreference` column (and `EmailPreferences` field) that allows each kind's email.
PREFERENCE = {
    COMMENT_ON_YOUR_POST: "comments_on_my_posts",
    REPLY_TO_YOUR_COMMENT: "replies_to_me",
    NEW_POST_BY_FOLLOWED: "new_posts_by_followed",
    MENTION: "mentions",
}
DEFAULTS = {
    "comments_on_my_posts": True,
    "replies_to_me": True,
    "new_posts_by_followed": False,
    "mentions": True,
}


def comment_subject(comment_id: int) -> str:
    return f"comment:{comment_id}"


def post_subject(post_id: int) -> str:
    return f"post:{post_id}"
