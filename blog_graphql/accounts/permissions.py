"""Strawberry permission classes: who may resolve a field (signed in, admin, owner)."""

from __future__ import annotations

from typing import Any, Protocol

from strawberry.permission import BasePermission
from strawberry.types import Info

from blog_graphql.accounts.models import User
from blog_graphql.errors import Forbidden, Unauthenticated


class Owned(Protocol):
    """A GraphQL object that knows which user owns it (an author, the account itself)."""

    @property
    def owner_id(self) -> int: ...


def is_owner_or_admin(viewer: User | None, owner_id: int) -> bool:
    """API.md's common rule: private things show to their owner and to admins."""
    return viewer is not None and (viewer.is_admin or viewer.id == owner_id)


def _viewer(info: Info[Any, Any]) -> User | None:
    viewer: User | None = info.context.viewer
    return viewer


def signed_in_user(info: Info[Any, Any]) -> User:
    """The viewer of a resolver behind `IsAuthenticated` or `IsAdmin` (never anonymous)."""
    viewer = _viewer(info)
    if viewer is None:
        raise Unauthenticated()
    return viewer


class IsAuthenticated(BasePermission):
    """A signed-in viewer; otherwise UNAUTHENTICATED."""

    message = Unauthenticated.default_message

    def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
        return _viewer(info) is not None

    def on_unauthorized(self) -> None:
        raise Unauthenticated()


class IsAdmin(BasePermission):
    """An admin; anonymous is UNAUTHENTICATED, anyone else FORBIDDEN."""

    message = Forbidden.default_message

    def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
        viewer = _viewer(info)
        if viewer is None:
            raise Unauthenticated()
        return viewer.is_admin

    def on_unauthorized(self) -> None:
        raise Forbidden()


class IsOwnerOrAdmin(BasePermission):
    """The owner of the parent object (`source.owner_id`) or an admin; else FORBIDDEN.

    On a nullable field use `PermissionExtension([IsOwnerOrAdmin()], fail_silently=True)`
    to answer null instead, as API.md wants for private fields.
    """

    message = Forbidden.default_message

    def has_permission(self, source: Owned, info: Info[Any, Any], **kwargs: Any) -> bool:
        return is_owner_or_admin(_viewer(info), source.owner_id)

    def on_unauthorized(self) -> None:
        raise Forbidden()
