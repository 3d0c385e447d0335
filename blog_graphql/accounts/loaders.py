"""Batched reads of users, one statement per batch."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from sqlalchemy import select

from blog_graphql.accounts.models import User
from blog_graphql.db.database import Database
from blog_graphql.db.keyset import AnyRow, AnySelect, JoinedColumns, by_ids, fetch_by_id
from blog_graphql.db.statements import NO_PARAMS

# What the API shows of a user: plain rows, not ORM objects (no identity map, no password
# hash), since a feed reads a hundred of them.
USER_COLUMNS = (
    User.id, User.email, User.username, User.full_name, User.bio, User.is_active,
    User.is_admin, User.email_verified, User.created_at,
)  # fmt: skip
# The same columns brought along with the rows of another table by their `author_id`, so
# a page of comments, or a post by slug, reads its authors in its own statement rather
# than through the loader after it; `User.from_author_columns` reads them. Unfiltered,
# as `load_users` is.
WITH_AUTHOR = JoinedColumns(
    "author_id", User.id, tuple(column.label(f"author_{column.key}") for column in USER_COLUMNS[1:])
)


async def load_users(db: Database, ids: Sequence[int]) -> list[AnyRow | User | None]:
    """Users by id as rows (the viewer, primed by the context, is its ORM object)."""
    rows = await fetch_by_id(db, _users_by_id(db.dialect), NO_PARAMS, ids)
    return list(rows)


@cache
def _users_by_id(dialect: str) -> AnySelect:
    """Built once per dialect (see blog_graphql.statements)."""
    return by_ids(select(*USER_COLUMNS), User.id, dialect)
