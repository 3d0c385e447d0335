"""`INSERT ... ON CONFLICT DO NOTHING` on either database: idempotent adds of link rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite


def insert_or_ignore(table: Any, dialect: str) -> Insert:
    """An insert into `table` that leaves an existing row (by any unique key) alone; its
    `rowcount` says whether a row was added."""
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()
