"""Batched reads of reaction counts: every subject of a request in one statement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import InstrumentedAttribute

from blog_graphql.accounts.models import User
from blog_graphql.db.database import Database
from blog_graphql.db.keyset import PARENTS, AnySelect
from blog_graphql.db.statements import VIEWER_ID, in_list, viewer_params
from blog_graphql.reactions.kinds import KINDS, Kind
from blog_graphql.reactions.models import CommentReaction, PostReaction

ReactionTable = type[PostReaction] | type[CommentReaction]


@dataclass(frozen=True)
class Tally:
    """One kind's count on one subject, and whether the viewer is among them."""

    kind: Kind
    count: int
    viewer_has_reacted: bool


def subject_of(table: ReactionTable) -> InstrumentedAttribute[int]:
    """The column naming what a row reacts to."""
    return PostReaction.post_id if table is PostReaction else CommentReaction.comment_id


async def load_post_reactions(
    db: Database, viewer: User | None, post_ids: Sequence[int]
) -> list[list[Tally]]:
    """`Post.reactions` for every post of the request at once."""
    return await tallies(db, viewer, PostReaction, post_ids)


async def load_comment_reactions(
    db: Database, viewer: User | None, comment_ids: Sequence[int]
) -> list[list[Tally]]:
    """`Comment.reactions` for every comment of the request at once."""
    return await tallies(db, viewer, CommentReaction, comment_ids)


async def tallies(
    db: Database, viewer: User | None, table: ReactionTable, ids: Sequence[int]
) -> list[list[Tally]]:
    """Each subject's count per kind (every kind listed, zeros included): one statement."""
    statement = _counts(table, viewer is not None, db.dialect)
    rows = await db.read(statement, {**viewer_params(viewer), PARENTS: sorted(set(ids))})
    found = {(row[0], row[1]): (int(row[2]), bool(row[3])) for row in rows}
    return [
        [Tally(kind, *found.get((id_, kind.value), (0, False))) for kind in KINDS] for id_ in ids
    ]


@cache
def _counts(table: ReactionTable, signed_in: bool, dialect: str) -> AnySelect:
    """Built once per table, kind of viewer and dialect (see blog_graphql.statements)."""
    subject = subject_of(table)
    mine = func.max(case((table.user_id == VIEWER_ID, 1), else_=0)) if signed_in else literal(0)
    return (
        select(subject, table.kind, func.count(), mine)
        .where(in_list(subject, PARENTS, dialect))
        .group_by(subject, table.kind)
    )
