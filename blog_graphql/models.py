"""Imports every domain's tables so that `Base.metadata` is complete (Alembic, tests)."""

from blog_graphql.accounts.models import AuthSession, LoginFailure, OneTimeToken, User
from blog_graphql.comments.models import Comment
from blog_graphql.db.database import Base
from blog_graphql.emails.models import OutboxEmail
from blog_graphql.media.models import Image, ImageVariant, PostCover, UserAvatar
from blog_graphql.posts.models import Post, PostTag, Tag

__all__ = [
    "AuthSession",
    "Base",
    "Comment",
    "Image",
    "ImageVariant",
    "LoginFailure",
    "OneTimeToken",
    "OutboxEmail",
    "Post",
    "PostCover",
    "PostTag",
    "Tag",
    "User",
    "UserAvatar",
]
