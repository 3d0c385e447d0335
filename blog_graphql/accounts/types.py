"""GraphQL shapes of accounts: users, the sign-in payload and the account inputs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from blog_graphql.accounts import models
from blog_graphql.accounts.permissions import is_owner_or_admin
from blog_graphql.accounts.signin import SignedIn
from blog_graphql.context import Context, Info
from blog_graphql.db.keyset import AnyRow
from blog_graphql.engine import batched, one
from blog_graphql.relay.node import Node
from blog_graphql.relay.pagination import Connection

if TYPE_CHECKING:
    from blog_graphql.media.types import Image
    from blog_graphql.notifications.types import EmailPreferences
    from blog_graphql.posts.types import Post


async def posts_of(
    context: Context,
    users: Sequence[User],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[Post]]:
    """The batch resolver of `User.posts` (`batching.py`)."""
    # Posts depend on accounts, not the reverse: this backward edge imports late.
    from blog_graphql.posts.types import posts_of_authors

    return await posts_of_authors(context, [user.pk for user in users], first, after, last, before)


async def follower_counts(context: Context, users: Sequence[User]) -> list[int]:
    from blog_graphql.follows import types as follows  # follows depend on accounts

    return await follows.follower_counts(context, users)


async def following_counts(context: Context, users: Sequence[User]) -> list[int]:
    from blog_graphql.follows import types as follows

    return await follows.following_counts(context, users)


async def viewer_follows(context: Context, users: Sequence[User]) -> list[bool]:
    from blog_graphql.follows import types as follows

    return await follows.viewer_follows(context, users)


async def followers_of(
    context: Context,
    users: Sequence[User],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[User]]:
    from blog_graphql.follows import types as follows

    return await follows.followers_of(context, users, first, after, last, before)


async def bookmarks_of(
    context: Context,
    users: Sequence[User],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[Post]]:
    from blog_graphql.bookmarks import types as bookmarks  # bookmarks depend on accounts

    return await bookmarks.bookmarks_of(context, users, first, after, last, before)


async def avatars_of(context: Context, users: Sequence[User]) -> list[Image | None]:
    """The batch resolver of `User.avatar`: one statement for every user of the request."""
    # Media builds on accounts (an image's owner): this backward edge imports late.
    from blog_graphql.media.types import images_of

    records = await context.loaders.avatar_of_user.load_many([user.pk for user in users])
    return images_of(context, records)


@strawberry.type(description="A person with an account.")
class User(Node):
    pk: strawberry.Private[int]
    private_email: strawberry.Private[str]
    # True where the answer goes to the account holder themself (register, login).
    email_shown: strawberry.Private[bool]
    username: str
    full_name: str | None
    bio: str | None
    is_active: bool
    is_admin: bool
    email_verified: bool
    created_at: datetime

    @strawberry.field(description="Only to the user themself and to admins; null to others.")
    def email(self, info: Info) -> str | None:
        if self.email_shown or is_owner_or_admin(info.context.viewer, self.pk):
            return self.private_email
        return None

    @strawberry.field(description="Which notification emails they get; only to the user themself.")
    async def email_preferences(
        self, info: Info
    ) -> Annotated[EmailPreferences, strawberry.lazy("blog_graphql.notifications.types")] | None:
        viewer = info.context.viewer
        if viewer is None or viewer.id != self.pk:
            return None
        # Notifications depend on accounts, not the reverse: this backward edge imports late.
        from blog_graphql.notifications.preferences import get_preferences
        from blog_graphql.notifications.types import EmailPreferences

        return EmailPreferences.from_values(await get_preferences(info.context.db, self.pk))

    @strawberry.field(description="Their posts, newest first; drafts only to them and admins.")
    @batched(posts_of)
    async def posts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Post, strawberry.lazy("blog_graphql.posts.types")]]:
        return await one(posts_of, info, self, first=first, after=after, last=last, before=before)

    @strawberry.field(description="How many users follow them.")
    @batched(follower_counts)
    async def follower_count(self, info: Info) -> int:
        return await one(follower_counts, info, self)

    @strawberry.field(description="How many users they follow.")
    @batched(following_counts)
    async def following_count(self, info: Info) -> int:
        return await one(following_counts, info, self)

    @strawberry.field(description="Whether the viewer follows them; false when signed out.")
    @batched(viewer_follows)
    async def viewer_is_following(self, info: Info) -> bool:
        return await one(viewer_follows, info, self)

    @strawberry.field(description="Who follows them, the latest first.")
    @batched(followers_of)
    async def followers(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[User]:
        return await one(
            followers_of, info, self, first=first, after=after, last=last, before=before
        )

    @strawberry.field(
        description="Their saved posts, the latest saved first (posts they may no longer "
        "read left out). Only to the user themself: to anyone else an empty list."
    )
    @batched(bookmarks_of)
    async def bookmarks(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Post, strawberry.lazy("blog_graphql.posts.types")]]:
        return await one(
            bookmarks_of, info, self, first=first, after=after, last=last, before=before
        )

    @strawberry.field(description="Set with `updateMe(input: {avatarImageId})`.")
    @batched(avatars_of)
    async def avatar(
        self, info: Info
    ) -> Annotated[Image, strawberry.lazy("blog_graphql.media.types")] | None:
        return await one(avatars_of, info, self)

    @classmethod
    def from_row(cls, row: models.User | AnyRow, *, email_shown: bool = False) -> User:
        return cls._from_fields(_row_fields(row), email_shown)

    @classmethod
    def from_author_columns(cls, row: AnyRow) -> User | None:
        """From the columns `accounts.loaders.WITH_AUTHOR` brought along with a row; None
        where they are null (no such user)."""
        if row.author_username is None:
            return None
        return cls._from_fields(_author_fields(row), False)

    @classmethod
    def _from_fields(cls, fields: tuple[Any, ...], email_shown: bool) -> User:
        pk, email, username, full_name, bio, is_active, is_admin, email_verified, created = fields
        return cls(
            pk=pk,
            private_email=email,
            email_shown=email_shown,
            username=username,
            full_name=full_name,
            bio=bio,
            is_active=is_active,
            is_admin=is_admin,
            email_verified=email_verified,
            created_at=created,
        )


# What `User.from_row` reads of a row, in the order of `_from_fields`; a row that brought
# a user along (`accounts.loaders.WITH_AUTHOR`) has the same columns as `author_<name>`.
_FIELDS = ("id", "email", "username", "full_name", "bio", "is_active", "is_admin",
           "email_verified", "created_at")  # fmt: skip
_row_fields = attrgetter(*_FIELDS)
_author_fields = attrgetter(*(f"author_{name}" for name in _FIELDS))


@strawberry.type(description="The tokens of a new or refreshed session, and its user.")
class AuthPayload:
    access_token: str = strawberry.field(
        description="Send as `Authorization: Bearer <accessToken>`; lives `expiresIn` seconds."
    )
    refresh_token: str = strawberry.field(
        description="Trade it once with `refreshToken` for a new pair; it then dies."
    )
    token_type: str = strawberry.field(description="Always `Bearer`.")
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")
    user: User

    @classmethod
    def from_result(cls, signed_in: SignedIn) -> AuthPayload:
        return cls(
            access_token=signed_in.tokens.access_token,
            refresh_token=signed_in.tokens.refresh_token,
            token_type="Bearer",
            expires_in=signed_in.tokens.expires_in,
            user=User.from_row(signed_in.user, email_shown=True),
        )


@strawberry.input(description="A new account; `password` follows API.md's rules.")
class RegisterInput:
    email: str
    username: str = strawberry.field(description="3 to 50 of A-Z a-z 0-9 _ -.")
    password: str = strawberry.field(
        description="8 to 72 bytes with an upper-case letter, a lower-case letter and a digit."
    )
    full_name: str | None = None
    bio: str | None = None


@strawberry.input(description="Credentials; `login` is an email address or a username.")
class LoginInput:
    login: str
    password: str


@strawberry.input(description="Profile changes; a field left out stays as it is.")
class UpdateMeInput:
    email: strawberry.Maybe[str | None] = strawberry.field(
        description="A new address needs `currentPassword` and is unverified until its "
        "emailed link is followed; the old address is told."
    )
    full_name: strawberry.Maybe[str | None] = strawberry.field(description="null clears it.")
    bio: strawberry.Maybe[str | None] = strawberry.field(description="null clears it.")
    current_password: str | None = strawberry.field(
        default=strawberry.UNSET, description="Your password: required when `email` changes."
    )
    avatar_image_id: strawberry.Maybe[strawberry.ID | None] = strawberry.field(
        description="One of your images (`uploadImage`) as your avatar; null removes it."
    )

    def changes(self) -> dict[str, str | None]:
        """Only the fields the client sent, by their GraphQL names."""
        given = {"email": self.email, "fullName": self.full_name, "bio": self.bio}
        return {name: value.value for name, value in given.items() if value is not None}
