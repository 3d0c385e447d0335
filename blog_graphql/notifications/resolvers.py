"""Notification queries, mutations and the `notificationAdded` subscription: translate,
delegate, translate back."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from functools import partial

import strawberry

from blog_graphql.accounts.permissions import IsAuthenticated, signed_in_user
from blog_graphql.context import Info
from blog_graphql.notifications import delivery, preferences, service
from blog_graphql.notifications.types import (
    EmailPreferences,
    EmailPreferencesInput,
    Notification,
    NotificationConnection,
)
from blog_graphql.relay.ids import parse_id
from blog_graphql.relay.node import register_node
from blog_graphql.relay.pagination import build_connection, page_window


@register_node("Notification")
async def fetch_notification(info: Info, pk: int) -> Notification | None:
    row = await info.context.loaders.notification.load(pk)
    return Notification.from_row(row) if row is not None else None


@strawberry.type
class NotificationQuery:
    @strawberry.field(
        description="The viewer's notifications, newest first; `unreadOnly` leaves out "
        "those marked read.",
        permission_classes=[IsAuthenticated],
    )
    async def notifications(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        unread_only: bool | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> NotificationConnection:
        window = page_window(
            service.NOTIFICATION_CURSOR, first=first, after=after, last=last, before=before
        )
        viewer, db = signed_in_user(info), info.context.db
        rows = await service.list_notifications(
            db, viewer, window=window, unread_only=bool(unread_only)
        )
        return build_connection(
            rows,
            window=window,
            key=lambda row: (row.id,),
            node=Notification.from_row,
            count=partial(service.count_notifications, db, viewer, bool(unread_only)),
        )

    @strawberry.field(
        description="How many of the viewer's notifications are unread.",
        permission_classes=[IsAuthenticated],
    )
    async def unread_notification_count(self, info: Info) -> int:
        return await service.unread_count(info.context.db, signed_in_user(info))


@strawberry.type
class NotificationMutation:
    @strawberry.mutation(
        description="Mark the viewer's notifications read: those of `ids` (100 at most), or "
        "`all: true`. Returns how many changed; ids that are not the viewer's unread "
        "notifications change nothing.",
        permission_classes=[IsAuthenticated],
    )
    async def mark_notifications_read(
        self, info: Info, ids: list[strawberry.ID] | None = None, all: bool | None = None
    ) -> int:
        pks = None if ids is None else _notification_pks(ids)
        return await service.mark_read(
            info.context.db, signed_in_user(info), ids=pks, all_=bool(all)
        )

    @strawberry.mutation(
        description="Change which notification emails the viewer gets.",
        permission_classes=[IsAuthenticated],
    )
    async def update_email_preferences(
        self, info: Info, input: EmailPreferencesInput
    ) -> EmailPreferences:
        values = await preferences.update_preferences(
            info.context.db, signed_in_user(info), input.to_changes()
        )
        return EmailPreferences.from_values(values)

    @strawberry.mutation(
        description="Turn off the email kind(s) of the notification email whose link "
        "(`${PUBLIC_URL}/unsubscribe?token=…`) carried `token`; no sign-in needed. A "
        "forged or already used token is BAD_USER_INPUT on `token`."
    )
    async def unsubscribe(self, info: Info, token: str) -> bool:
        settings = info.context.state.settings
        await preferences.unsubscribe(info.context.db, settings.secret_key, token)
        return True


def _notification_pks(ids: list[strawberry.ID]) -> list[int]:
    """Primary keys of the ids that name notifications; other types match nothing."""
    pks = []
    for global_id in ids:
        type_name, pk = parse_id(global_id, "ids")
        if type_name == "Notification":
            pks.append(pk)
    return pks


@strawberry.type
class NotificationSubscription:
    @strawberry.subscription(
        description="Each new notification of the viewer, as it is made, on any server "
        "instance. Signed-in only.",
        permission_classes=[IsAuthenticated],
    )
    async def notification_added(self, info: Info) -> AsyncGenerator[Notification, None]:
        viewer = signed_in_user(info)
        hub = info.context.state.live
        async with hub.subscribe(info.context.live, delivery.channel(viewer.id)) as events:
            async for event in events:
                info.context.next_event()
                row = await info.context.loaders.notification.load(int(event["id"]))
                if row is not None:
                    yield Notification.from_row(row)
