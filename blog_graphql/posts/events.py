"""Where post services report a committed change that may hide a post from its readers."""

from __future__ import annotations

from typing import Protocol


class PostEvents(Protocol):
    """Told after commit when a post was unpublished or deleted (the live feed ends the
    subscriptions of those who may no longer read it)."""

    async def post_hidden(self, post_id: int) -> None: ...


class NoPostEvents:
    """For callers with no live subscribers to tell (seeding, scripts, service tests)."""

    async def post_hidden(self, post_id: int) -> None:
        return None


NO_POST_EVENTS = NoPostEvents()
