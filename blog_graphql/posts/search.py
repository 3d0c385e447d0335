"""Full-text search over title and content: a ranked tsvector on PostgreSQL, FTS5 on SQLite.

The search objects live in migrations 0001 and 0004 (`posts.search_vector` with a GIN index;
the `posts_fts` table kept in step by triggers). The search string is always a bound
parameter: on SQLite it is first rewritten into quoted FTS5 terms so that its syntax
characters are data, never operators the user did not mean.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    String,
    bindparam,
    false,
    func,
    literal,
    literal_column,
    table,
)
from sqlalchemy import column as sql_column

from blog_graphql.db import table_tags
from blog_graphql.db.keyset import AnySelect
from blog_graphql.errors import InvalidInput
from blog_graphql.posts.models import Post

MAX_SEARCH_LENGTH = 200
_PIECE = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+")

# PostgreSQL: the title is weighted A and the content B, so ts_rank favours titles.
_SEARCH_VECTOR: ColumnElement[Any] = literal_column("posts.search_vector")
# SQLite: bm25 is lower for better matches; the weights favour the title the same way.
_FTS = table("posts_fts", sql_column("rowid"))
_FTS_RANK = literal_column("-bm25(posts_fts, 10.0, 1.0)", Float)
table_tags.derived_table("posts_fts", "posts")  # the triggers keep it; writes go to posts


def check_search(text: str) -> str:
    text = text.replace("\x00", "").strip()  # PostgreSQL text cannot hold NUL
    if len(text) > MAX_SEARCH_LENGTH:
        raise InvalidInput({"search": f"Search for at most {MAX_SEARCH_LENGTH} characters."})
    return text


# The search, bound when a statement built once runs (`search_params` gives the values).
SEARCH_TEXT = bindparam("search_text", type_=String, required=True)
FTS_QUERY = bindparam("fts_query", type_=String, required=True)


def searched(query: AnySelect, dialect: str) -> tuple[AnySelect, ColumnElement[float]]:
    """`query` narrowed to posts matching the bound search, and their rank (higher is
    better)."""
    if dialect == "postgresql":
        tsquery = func.websearch_to_tsquery(literal_column("'english'::regconfig"), SEARCH_TEXT)
        rank = func.ts_rank(_SEARCH_VECTOR, tsquery, type_=Float)
        return query.where(_SEARCH_VECTOR.op("@@")(tsquery)), rank
    matches = literal_column("posts_fts").op("MATCH")(FTS_QUERY)
    return query.join(_FTS, _FTS.c.rowid == Post.id).where(matches), _FTS_RANK


def search_params(dialect: str, text: str) -> dict[str, str] | None:
    """The values of a `searched` statement's search; None where nothing in `text` can
    match (on SQLite, text with nothing searchable, such as only punctuation)."""
    if dialect == "postgresql":
        return {SEARCH_TEXT.key: text}
    expression = fts5_query(text)
    return {FTS_QUERY.key: expression} if expression is not None else None


def apply_search(
    query: AnySelect, dialect: str, text: str
) -> tuple[AnySelect, ColumnElement[float]]:
    """`query` narrowed to posts matching `text`, its values in the statement, and their
    rank (higher is better)."""
    params = search_params(dialect, text)
    if params is None:
        return query.where(false()), literal(0.0, Float)
    query, rank = searched(query, dialect)
    return query.params(params), rank


def fts5_query(text: str) -> str | None:
    """Web-search syntax (words, "phrases", `or`, `-excluded`) as a safe FTS5 expression.

    Every term becomes a quoted phrase of its words, so nothing the user typed is read as
    FTS5 syntax. Precedence matches PostgreSQL's websearch_to_tsquery: NOT, AND, then OR.
    """
    parts: list[str] = []
    join_with = "AND"
    for match in _PIECE.finditer(text):
        negated, phrase, bare = match.groups()
        if bare is not None and bare.lower() == "or":
            join_with = "OR" if parts else "AND"
            continue
        if bare is not None and bare.startswith("-") and len(bare) > 1:
            negated, bare = "-", bare[1:]
        words = _WORD.findall(phrase if phrase is not None else bare)
        if not words:
            continue
        term = '"' + " ".join(words) + '"'
        if negated:
            if parts:  # FTS5's NOT needs something on its left
                parts.append(f"NOT {term}")
        else:
            parts.append(f"{join_with} {term}" if parts else term)
        join_with = "AND"
    return " ".join(parts) if parts else None
