"""GraphQL shapes of presence."""

from __future__ import annotations

import strawberry

from blog_graphql.accounts.types import User
from blog_graphql.presence.rooms import PresenceState


@strawberry.type(description="Who is on a post's thread now.")
class ThreadPresence:
    readers: int = strawberry.field(
        description="Distinct viewers with the thread open: a signed-in user once however "
        "many tabs, each anonymous connection once."
    )
    typing: list[User] = strawberry.field(
        description="Signed-in users writing a comment now (see `setTyping`), by id."
    )

    @classmethod
    def from_state(cls, state: PresenceState) -> ThreadPresence:
        return cls(readers=state.readers, typing=[User.from_row(row) for row in state.typing])
