"""Reaction mutations: translate, delegate, translate back."""

from __future__ import annotations

import strawberry

from blog_graphql.accounts.permissions import IsAuthenticated, signed_in_user
from blog_graphql.context import Info
from blog_graphql.errors import NotFound
from blog_graphql.reactions import service
from blog_graphql.reactions.types import ReactionCount, ReactionKind, counts
from blog_graphql.relay.ids import parse_id

SUBJECT = "subjectId"


def _subject(subject_id: strawberry.ID) -> service.Subject:
    """A post's or a comment's id; any other type is NOT_FOUND, malformed BAD_USER_INPUT."""
    type_name, pk = parse_id(subject_id, SUBJECT)
    if type_name == "Post":
        return service.Subject("Post", pk)
    if type_name == "Comment":
        return service.Subject("Comment", pk)
    raise NotFound()


@strawberry.type
class ReactionMutation:
    @strawberry.mutation(
        description="React to a post or a comment the viewer may see; reacting again with "
        "the same kind changes nothing. Returns the subject's counts of every kind.",
        permission_classes=[IsAuthenticated],
    )
    async def react(
        self, info: Info, subject_id: strawberry.ID, kind: ReactionKind
    ) -> list[ReactionCount]:
        tallies = await service.react(
            info.context.db,
            signed_in_user(info),
            _subject(subject_id),
            kind.kind,
            on_post_reactions=info.context.state.post_feed.reactions_changed,
        )
        return counts(tallies)

    @strawberry.mutation(
        description="Take the viewer's reaction of that kind back (nothing if there is none).",
        permission_classes=[IsAuthenticated],
    )
    async def unreact(
        self, info: Info, subject_id: strawberry.ID, kind: ReactionKind
    ) -> list[ReactionCount]:
        tallies = await service.unreact(
            info.context.db,
            signed_in_user(info),
            _subject(subject_id),
            kind.kind,
            on_post_reactions=info.context.state.post_feed.reactions_changed,
        )
        return counts(tallies)
