"""What a comment that became visible tells others: notifications (with their emails,
digested and subject to each recipient's preferences) to the post's author, the author of
the comment it answers, and the users it mentions. Made in the comment's own transaction
by the notifications domain (`notifications.creating`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from blog_graphql.comments.models import Comment
from blog_graphql.notifications import creating


async def queue_comment_notices(session: AsyncSession, comment: Comment) -> None:
    """At most one notification per person per comment, never to its own author, and
    none twice (a comment approved, hidden and approved again is announced once)."""
    await creating.on_comment_visible(session, comment)
