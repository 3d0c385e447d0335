"""Account queries and mutations: translate, delegate to the service, translate back."""

from __future__ import annotations

from typing import cast

import strawberry

from blog_graphql.accounts import recovery, service, signin
from blog_graphql.accounts.permissions import IsAdmin, IsAuthenticated, signed_in_user
from blog_graphql.accounts.types import AuthPayload, LoginInput, RegisterInput, UpdateMeInput, User
from blog_graphql.context import Info
from blog_graphql.relay.ids import decode_id
from blog_graphql.relay.node import register_node
from blog_graphql.relay.pagination import Connection, build_connection, page_window


@register_node("User")
async def fetch_user(info: Info, pk: int) -> User | None:
    row = await info.context.loaders.user.load(pk)
    return User.from_row(row) if row else None


def client_of(info: Info) -> signin.Client:
    request = info.context.request
    if request is None:
        return signin.Client()
    address = request.client.host if request.client else None
    return signin.Client(user_agent=request.headers.get("user-agent"), address=address)


@strawberry.type
class AccountQuery:
    @strawberry.field(description="A user by username, ignoring case; null when there is none.")
    async def user(self, info: Info, username: str) -> User | None:
        row = await service.find_user_by_username(info.context.db, username)
        return User.from_row(row) if row else None

    @strawberry.field(description="The signed-in user; null when anonymous.")
    def me(self, info: Info) -> User | None:
        viewer = info.context.viewer
        return User.from_row(viewer) if viewer else None

    @strawberry.field(description="Every account, oldest first. Admins only.",
                      permission_classes=[IsAdmin])  # fmt: skip
    async def users(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[User]:
        window = page_window((int,), first=first, after=after, last=last, before=before)
        after_id = cast(int, window.cursor[0]) if window.cursor else None  # shape (int,) checked
        db = info.context.db
        rows = await service.list_users(
            db, first=window.size, after_id=after_id, backward=window.backward
        )
        return build_connection(
            rows, window=window, key=lambda row: (row.id,), node=User.from_row,
            count=lambda: service.count_users(db),
        )  # fmt: skip


@strawberry.type
class AccountMutation:
    @strawberry.mutation(
        description="Create an account; a welcome email carries the link to verify the address."
    )
    async def register(self, info: Info, input: RegisterInput) -> User:
        row = await service.create_user(
            info.context.db, email=input.email, username=input.username,
            password=input.password, full_name=input.full_name, bio=input.bio,
            bcrypt_rounds=info.context.settings.bcrypt_rounds, welcome=True,
        )  # fmt: skip
        return User.from_row(row, email_shown=True)

    @strawberry.mutation(
        description="Sign in with an email or username; five failures lock it for 15 minutes."
    )
    async def login(self, info: Info, input: LoginInput) -> AuthPayload:
        state = info.context.state
        signed_in = await signin.login(
            state.db, state.settings, state.lockout, login=input.login,
            password=input.password, client=client_of(info),
        )  # fmt: skip
        return AuthPayload.from_result(signed_in)

    @strawberry.mutation(description="A new token pair; the old refresh token dies.")
    async def refresh_token(self, info: Info, refresh_token: str) -> AuthPayload:
        signed_in = await signin.refresh(info.context.db, info.context.settings, refresh_token)
        return AuthPayload.from_result(signed_in)

    @strawberry.mutation(
        description="End this session (the access token's and/or the refresh token's)."
    )
    async def logout(self, info: Info, refresh_token: str | None = None) -> bool:
        context = info.context
        await signin.logout(
            context.db, context.settings, viewer=context.viewer,
            session_id=context.session_id, refresh_token=refresh_token,
        )  # fmt: skip
        return True

    @strawberry.mutation(description="Change your profile.", permission_classes=[IsAuthenticated])
    async def update_me(self, info: Info, input: UpdateMeInput) -> User:
        avatar = input.avatar_image_id  # not given: kept; given: an image, or null to remove it
        given = avatar.value if avatar is not None else None
        row = await service.update_profile(
            info.context.db, user=signed_in_user(info), changes=input.changes(),
            current_password=input.current_password or None,
            set_avatar=avatar is not None,
            avatar_image_id=decode_id(given, "Image", "avatarImageId") if given else None,
        )  # fmt: skip
        return User.from_row(row)

    @strawberry.mutation(
        description="Change your password; your other sessions end.",
        permission_classes=[IsAuthenticated],
    )
    async def change_password(self, info: Info, current_password: str, new_password: str) -> bool:
        await recovery.change_password(
            info.context.db, user=signed_in_user(info), session_id=info.context.session_id,
            current_password=current_password, new_password=new_password,
            bcrypt_rounds=info.context.settings.bcrypt_rounds,
        )  # fmt: skip
        return True

    @strawberry.mutation(
        description="Email a reset link if an account has this address. Always true."
    )
    async def request_password_reset(self, info: Info, email: str) -> bool:
        await recovery.request_password_reset(info.context.db, email=email)
        return True

    @strawberry.mutation(
        description="Set a new password with the emailed token; all other sessions end."
    )
    async def reset_password(self, info: Info, token: str, new_password: str) -> bool:
        state = info.context.state
        await recovery.reset_password(
            state.db, state.lockout, token=token, new_password=new_password,
            session_id=info.context.session_id, bcrypt_rounds=state.settings.bcrypt_rounds,
        )  # fmt: skip
        return True

    @strawberry.mutation(description="Confirm an email address with the emailed token.")
    async def verify_email(self, info: Info, token: str) -> bool:
        await recovery.verify_email(info.context.db, token=token)
        return True

    @strawberry.mutation(
        description="Email a new verification link, unless the address is verified.",
        permission_classes=[IsAuthenticated],
    )
    async def request_email_verification(self, info: Info) -> bool:
        await recovery.request_email_verification(info.context.db, user=signed_in_user(info))
        return True

    @strawberry.mutation(
        description="Activate or deactivate an account; deactivation ends its sessions. Admins.",
        permission_classes=[IsAdmin],
    )
    async def set_user_active(self, info: Info, id: strawberry.ID, active: bool) -> User:
        user_id = decode_id(id, "User")
        row = await service.set_user_active(
            info.context.db, admin=signed_in_user(info), user_id=user_id, active=active
        )
        return User.from_row(row)
