"""Imports every domain's tables so that `Base.metadata` is complete (Alembic, tests)."""

from blog_graphql.accounts.models import AuthSession, LoginFailure, OneTimeToken, User
from blog_graphql.bookmarks.models import Bookmark
from blog_graphql.comments.models import Comment
from blog_graphql.db.database import Base
from blog_graphql.emails.models import OutboxEmail
from blog_graphql.follows.models import Follow
from blog_graphql.media.models import Image, ImageVariant, PostCover, UserAvatar
from blog_graphql.notifications.models import (
    EmailPreference,
    Notification,
    NotificationFanout,
    UsedUnsubscribeToken,
)
from blog_graphql.posts.models import Post, PostRevision, PostSearch, PostTag, PreviewLink, Tag
from blog_graphql.reactions.models import CommentReaction, PostReaction
from blog_graphql.webhooks.models import Webhook, WebhookAttempt, WebhookDelivery

__all__ = [
    "AuthSession",
    "Base",
    "Bookmark",
    "Comment",
    "CommentReaction",
    "EmailPreference",
    "Follow",
    "Image",
    "ImageVariant",
    "LoginFailure",
    "Notification",
    "NotificationFanout",
    "OneTimeToken",
    "OutboxEmail",
    "Post",
    "PostCover",
    "PostReaction",
    "PostRevision",
    "PostSearch",
    "PostTag",
    "PreviewLink",
    "Tag",
    "UsedUnsubscribeToken",
    "User",
    "UserAvatar",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
]
