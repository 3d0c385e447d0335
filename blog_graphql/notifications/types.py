"""GraphQL shapes of notifications and email preferences."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from blog_graphql.accounts.types import User
from blog_graphql.comments.types import Comment
from blog_graphql.context import Info
from blog_graphql.notifications import kinds, models
from blog_graphql.notifications.preferences import Preferences
from blog_graphql.posts.types import Post
from blog_graphql.relay.node import Node
from blog_graphql.relay.pagination import Connection


@strawberry.enum(description="What a notification is about.")
class NotificationKind(Enum):
    COMMENT_ON_YOUR_POST = strawberry.enum_value(
        kinds.COMMENT_ON_YOUR_POST, description="Someone commented on the viewer's post."
    )
    REPLY_TO_YOUR_COMMENT = strawberry.enum_value(
        kinds.REPLY_TO_YOUR_COMMENT, description="Someone replied to the viewer's comment."
    )
    NEW_POST_BY_FOLLOWED = strawberry.enum_value(
        kinds.NEW_POST_BY_FOLLOWED, description="An author the viewer follows published a post."
    )
    MENTION = strawberry.enum_value(
        kinds.MENTION,
        description="Someone mentioned the viewer (`@username`) in a comment; of one "
        "comment's mentions, the first 10 distinct users are notified.",
    )


@strawberry.type(description="Something that concerns the viewer; only ever their own.")
class Notification(Node):
    pk: strawberry.Private[int]
    actor_id: strawberry.Private[int]
    post_id: strawberry.Private[int]
    comment_id: strawberry.Private[int | None]
    kind: NotificationKind
    created_at: datetime
    read: bool

    @classmethod
    def from_row(cls, row: models.Notification) -> Notification:
        return cls(
            pk=row.id,
            actor_id=row.actor_id,
            post_id=row.post_id,
            comment_id=row.comment_id,
            kind=NotificationKind(row.kind),
            created_at=row.created_at,
            read=row.read_at is not None,
        )

    @strawberry.field(description="Who did it; null once their account is gone.")
    async def actor(self, info: Info) -> User | None:
        row = await info.context.loaders.user.load(self.actor_id)
        return User.from_row(row) if row is not None else None

    @strawberry.field(description="The post it is about; null once the viewer may not see it.")
    async def post(self, info: Info) -> Post | None:
        row = await info.context.loaders.post.load(self.post_id)
        return Post.from_row(row) if row is not None else None

    @strawberry.field(
        description="The comment it is about (not for a new post); null once the viewer may "
        "not see it."
    )
    async def comment(self, info: Info) -> Comment | None:
        if self.comment_id is None:
            return None
        row = await info.context.loaders.comment.load(self.comment_id)
        return Comment.from_row(row) if row is not None else None


NotificationConnection = Connection[Notification]


@strawberry.type(description="Which notification emails the user wants (each kind on or off).")
class EmailPreferences:
    comments_on_my_posts: bool = strawberry.field(description="Default on.")
    replies_to_me: bool = strawberry.field(description="Default on.")
    new_posts_by_followed: bool = strawberry.field(description="Default off.")
    mentions: bool = strawberry.field(description="Default on.")

    @classmethod
    def from_values(cls, values: Preferences) -> EmailPreferences:
        return cls(**values)


@strawberry.input(description="The preferences to change; those left out stay as they are.")
class EmailPreferencesInput:
    comments_on_my_posts: bool | None = None
    replies_to_me: bool | None = None
    new_posts_by_followed: bool | None = None
    mentions: bool | None = None

    def to_changes(self) -> dict[str, bool]:
        values = {
            "comments_on_my_posts": self.comments_on_my_posts,
            "replies_to_me": self.replies_to_me,
            "new_posts_by_followed": self.new_posts_by_followed,
            "mentions": self.mentions,
        }
        return {name: value for name, value in values.items() if value is not None}
