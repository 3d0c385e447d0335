"""Statements built once per shape and run with parameters: the loaders' hot reads.

Building a SELECT and then its cache key cost SQLAlchemy more than running it. A
statement whose varying parts are bind parameters (the viewer's id, the list of ids) is
the same object on every request: its cache key is memoised on it and its compiled form
comes from the engine's cache. What still varies is the viewer's kind, which changes the
visibility clause (an anonymous reader, a signed-in one, an admin), and the database, which
changes how a list of ids is bound; so each statement is built once per `Audience` and
dialect, by a builder cached with `functools.cache`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType
from typing import Any, Protocol, TypeAlias

from sqlalchemy import BindParameter, ColumnElement, Integer, SQLColumnExpression, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY


class Viewer(Protocol):
    """What a statement needs of whoever reads: an accounts `User` is one."""

    @property
    def id(self) -> int: ...

    @property
    def is_admin(self) -> bool: ...


class Audience(Enum):
    """What the visibility rules need to know of a viewer, besides its id."""

    ANONYMOUS = "anonymous"
    MEMBER = "member"  # signed in, not an admin: sees its own drafts and comments
    ADMIN = "admin"


def audience_of(viewer: Viewer | None) -> Audience:
    if viewer is None:
        return Audience.ANONYMOUS
    return Audience.ADMIN if viewer.is_admin else Audience.MEMBER


# The signed-in viewer's id in a statement built for `Audience.MEMBER`; required, so a
# statement run without it fails instead of showing another viewer's drafts.
VIEWER_ID: BindParameter[int] = bindparam("viewer_id", type_=Integer, required=True)
# A viewer's id in a rule: the parameter above in a statement built once, or the id itself
# in one built for a single request.
ViewerId: TypeAlias = int | BindParameter[int]

NO_PARAMS: Mapping[str, Any] = MappingProxyType({})  # shared, so never to be changed


def viewer_params(viewer: Viewer | None) -> Mapping[str, Any]:
    """The parameters a statement built for `audience_of(viewer)` runs with."""
    return {VIEWER_ID.key: viewer.id} if viewer is not None else NO_PARAMS


def in_list(column: SQLColumnExpression[Any], name: str, dialect: str) -> ColumnElement[bool]:
    """`column` is one of the ints bound as `name` (a list).

    PostgreSQL gets one array parameter, `= ANY($1::INTEGER[])`: the statement's text stays
    the same whatever the list's length, so asyncpg prepares it once, and SQLAlchemy renders
    no placeholder per element. SQLite has no arrays: an expanding IN there.
    """
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(Integer), required=True))
    return column.in_(bindparam(name, expanding=True, required=True))
