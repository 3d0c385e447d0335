"""GraphQL shapes of accounts."""

from __future__ import annotations

from datetime import datetime

import strawberry

from blog_graphql.accounts import models
from blog_graphql.context import Info
from blog_graphql.ids import encode_id
from blog_graphql.node import Node


@strawberry.type(description="A person with an account.")
class User(Node):
    pk: strawberry.Private[int]
    private_email: strawberry.Private[str]
    username: str
    full_name: str | None
    bio: str | None
    is_active: bool
    is_admin: bool
    email_verified: bool
    created_at: datetime

    @strawberry.field(description="Only to the user themself and to admins; null to others.")
    def email(self, info: Info) -> str | None:
        viewer = info.context.viewer
        if viewer is not None and (viewer.id == self.pk or viewer.is_admin):
            return self.private_email
        return None

    @classmethod
    def from_row(cls, row: models.User) -> User:
        return cls(
            id=strawberry.ID(encode_id("User", row.id)),
            pk=row.id,
            private_email=row.email,
            username=row.username,
            full_name=row.full_name,
            bio=row.bio,
            is_active=row.is_active,
            is_admin=row.is_admin,
            email_verified=row.email_verified,
            created_at=row.created_at,
        )
