"""GraphQL documents and small helpers of the notification tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from blog_graphql.follows.models import Follow
from blog_graphql.notifications.models import Notification

NOTIFICATIONS = """
query($first: Int, $after: String, $unreadOnly: Boolean) {
  notifications(first: $first, after: $after, unreadOnly: $unreadOnly) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id kind read createdAt actor { username } post { title }
      comment { content contentHtml } } }
  }
  unreadNotificationCount
}
"""
MARK_READ = "mutation($ids: [ID!], $all: Boolean) { markNotificationsRead(ids: $ids, all: $all) }"
PREFERENCES_FIELDS = "commentsOnMyPosts repliesToMe newPostsByFollowed mentions"
UPDATE_PREFERENCES = (
    "mutation($input: EmailPreferencesInput!) { updateEmailPreferences(input: $input) "
    f"{{ {PREFERENCES_FIELDS} }} }}"
)
UNSUBSCRIBE = "mutation($token: String!) { unsubscribe(token: $token) }"
USER_PREFERENCES = (
    f"query($u: String!) {{ user(username: $u) {{ emailPreferences {{ {PREFERENCES_FIELDS} }} }} }}"
)


def nodes(body: dict[str, Any]) -> list[dict[str, Any]]:
    assert "errors" not in body, body
    return [edge["node"] for edge in body["data"]["notifications"]["edges"]]


async def notifications_of(db, user) -> list[tuple[str, int, int | None]]:
    """(kind, post id, comment id) of each notification of `user`, oldest first."""
    async with db.session() as session:
        rows = await session.scalars(
            select(Notification)
            .where(Notification.recipient_id == user.id)
            .order_by(Notification.id)
        )
        return [(row.kind, row.post_id, row.comment_id) for row in rows]


async def all_notifications(db) -> int:
    async with db.session() as session:
        return len((await session.scalars(select(Notification.id))).all())


async def follow(db, follower, followed) -> None:
    async with db.transaction() as session:
        session.add(Follow(follower_id=follower.id, followed_id=followed.id))
