"""Imports every domain's tables so that `Base.metadata` is complete (Alembic, tests)."""

from blog_graphql.accounts.models import AuthSession, LoginFailure, OneTimeToken, User
from blog_graphql.comments.models import Comment
from blog_graphql.db.database import Base
from blog_graphql.emails.models import OutboxEmail
from blog_graphql.posts.models import Post, PostSearch, PostTag, Tag

__all__ = [
    "AuthSession",
    "Base",
    "Comment",
    "LoginFailure",
    "OneTimeToken",
    "OutboxEmail",
    "Post",
    "PostSearch",
    "PostTag",
    "Tag",
    "User",
]
