"""GraphQL shapes of reactions, and the batch resolvers of `Post.reactions` and
`Comment.reactions`."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Protocol

import strawberry

from blog_graphql.context import Context
from blog_graphql.reactions.kinds import Kind
from blog_graphql.reactions.loaders import Tally


@strawberry.enum(description="How a reader reacts to a post or a comment.")
class ReactionKind(Enum):
    LIKE = "LIKE"
    CLAP = "CLAP"
    INSIGHTFUL = "INSIGHTFUL"

    @property
    def kind(self) -> Kind:
        return Kind(self.value)


@strawberry.type(description="How many reacted with one kind, and whether the viewer did.")
class ReactionCount:
    kind: ReactionKind
    count: int
    viewer_has_reacted: bool = strawberry.field(description="Always false when signed out.")

    @classmethod
    def from_tally(cls, tally: Tally) -> ReactionCount:
        return cls(
            kind=ReactionKind(tally.kind.value),
            count=tally.count,
            viewer_has_reacted=tally.viewer_has_reacted,
        )


def counts(tallies: Sequence[Tally]) -> list[ReactionCount]:
    return [ReactionCount.from_tally(tally) for tally in tallies]


class Subject(Protocol):
    pk: int


async def post_reactions(context: Context, posts: Sequence[Subject]) -> list[list[ReactionCount]]:
    """`Post.reactions` of every post of a level: one statement."""
    found = await context.loaders.post_reactions.load_many([post.pk for post in posts])
    return [counts(tallies) for tallies in found]


async def comment_reactions(
    context: Context, comments: Sequence[Subject]
) -> list[list[ReactionCount]]:
    """`Comment.reactions` of every comment of a level: one statement."""
    found = await context.loaders.comment_reactions.load_many([c.pk for c in comments])
    return [counts(tallies) for tallies in found]
