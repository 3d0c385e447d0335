"""Full-text search over title and content: a ranked tsvector on PostgreSQL, FTS5 on SQLite.

Search as you type: the last word also matches as the start of a word (`'word':*` in a
tsquery, `"word" *` in FTS5), both after stemming (`english` and `porter`).

The search objects live in migrations 0001, 0004 and 0010: `posts_fts` (SQLite) and
`post_search` (both), tables kept in step with posts by triggers; on PostgreSQL
`post_search.search_vector` (a copy of `posts.search_vector`) with a GIN index. Searches
read `post_search`, the narrow rows of the posts (`on_search_rows`), so ranking every match
scans a few MB rather than the posts' bodies. The search string is always a bound
parameter: on SQLite it is first rewritten into quoted FTS5 terms so that its syntax
characters are data, never operators the user did not mean.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast

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
from sqlalchemy.sql import TableClause
from sqlalchemy.sql.visitors import replacement_traverse

from blog_graphql.db import table_tags
from blog_graphql.db.keyset import AnySelect
from blog_graphql.errors import InvalidInput
from blog_graphql.posts.models import Post, PostSearch

MAX_SEARCH_LENGTH = 200
_PIECE = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+")

# PostgreSQL: the title is weighted A and the content B, so ts_rank favours titles.
_SEARCH_VECTOR: ColumnElement[Any] = literal_column("post_search.search_vector")
# SQLite: bm25 is lower for better matches; the weights favour the title the same way.
_FTS = table("posts_fts", sql_column("rowid"))
_FTS_RANK = literal_column("-bm25(posts_fts, 10.0, 1.0)", Float)
table_tags.derived_table("posts_fts", "posts")  # the triggers keep it; writes go to posts
table_tags.derived_table("post_search", "posts")  # the same

_POSTS = Post.__table__
_SEARCH_ROWS = PostSearch.__table__
_POSTS_NAME = "posts"


def check_search(text: str) -> str:
    text = text.replace("\x00", "").strip()  # PostgreSQL text cannot hold NUL
    if len(text) > MAX_SEARCH_LENGTH:
        raise InvalidInput({"search": f"Search for at most {MAX_SEARCH_LENGTH} characters."})
    return text


# The search, bound when a statement built once runs (`search_params` gives the values).
SEARCH_TEXT = bindparam("search_text", type_=String, required=True)
FTS_QUERY = bindparam("fts_query", type_=String, required=True)


def on_search_rows(query: AnySelect) -> AnySelect:
    """`query`, a statement over posts that reads only what `post_search` holds (ids,
    authors, published, feed times: visibility, filters, the order), over `post_search`
    instead. Every search statement goes through it: `searched` ranks `post_search` rows."""

    def narrow(element: Any, **_: Any) -> Any:
        if isinstance(element, TableClause) and element.name == _POSTS_NAME:
            return _SEARCH_ROWS  # `posts`, or the ORM's annotated copy of it
        if getattr(element, "table", None) is _POSTS and hasattr(element, "name"):
            return _SEARCH_ROWS.c[element.name]  # a KeyError: a column post_search lacks
        return None

    return cast(AnySelect, replacement_traverse(query, {}, narrow))


def searched(query: AnySelect, dialect: str) -> tuple[AnySelect, ColumnElement[float]]:
    """`query` narrowed to posts matching the bound search, and their rank (higher is
    better). The result reads `post_search`: pass it, once built (cursor and order
    included), through `on_search_rows`."""
    if dialect == "postgresql":
        tsquery = func.to_tsquery(literal_column("'english'::regconfig"), SEARCH_TEXT)
        rank = func.ts_rank(_SEARCH_VECTOR, tsquery, type_=Float)
        return query.where(_SEARCH_VECTOR.op("@@")(tsquery)), rank
    matches = literal_column("posts_fts").op("MATCH")(FTS_QUERY)
    return query.join(_FTS, _FTS.c.rowid == Post.id).where(matches), _FTS_RANK


def search_params(dialect: str, text: str) -> dict[str, str] | None:
    """The values of a `searched` statement's search; None where nothing in `text` can
    match (on SQLite, text with nothing searchable, such as only punctuation)."""
    if dialect == "postgresql":
        tsquery = tsquery_text(text)
        return {SEARCH_TEXT.key: tsquery} if tsquery is not None else None
    expression = fts5_query(text)
    return {FTS_QUERY.key: expression} if expression is not None else None


def apply_search(
    query: AnySelect, dialect: str, text: str
) -> tuple[AnySelect, ColumnElement[float]]:
    """`query` narrowed to posts matching `text`, its values in the statement, and their
    rank (higher is better). Like `searched`'s, the result goes through `on_search_rows`."""
    params = search_params(dialect, text)
    if params is None:
        return query.where(false()), literal(0.0, Float)
    query, rank = searched(query, dialect)
    return query.params(params), rank


@dataclass(frozen=True)
class Term:
    """One term of a search: words that must follow each other (a phrase), joined to the
    terms before it by AND or OR, or excluded; `prefix`: its last word is still being
    typed, so it also matches as the start of a word."""

    words: tuple[str, ...]
    join_with: str = "AND"  # "AND" or "OR"; the first term's is ignored
    negated: bool = False
    prefix: bool = False


def parse_search(text: str) -> list[Term]:
    """Web-search syntax (words, "phrases", `or`, `-excluded`) as terms.

    Only the words of what the user typed are kept (`\\w+`), so nothing is ever read as
    either database's query syntax. The last term, when it is a word or a phrase still
    open (no closing quote) and not excluded, is a prefix: search as you type.
    """
    terms: list[Term] = []
    join_with = "AND"
    pieces = list(_PIECE.finditer(text))
    for index, match in enumerate(pieces):
        negated, phrase, bare = match.groups()
        if bare is not None and bare.lower() == "or":
            join_with = "OR" if terms else "AND"
            continue
        if bare is not None and bare.startswith("-") and len(bare) > 1:
            negated, bare = "-", bare[1:]
        words = _WORD.findall(phrase if phrase is not None else bare)
        if not words:
            continue
        quoted = match.group(0).lstrip("-")
        closed = phrase is not None and len(quoted) > 1 and quoted.endswith('"')
        prefix = index == len(pieces) - 1 and not negated and not closed
        terms.append(Term(tuple(words), join_with, bool(negated), prefix))
        join_with = "AND"
    return terms


def fts5_query(text: str) -> str | None:
    """The search as a safe FTS5 expression: every term a quoted phrase of its words, a
    prefix one followed by `*`. Precedence matches PostgreSQL's tsquery: NOT, AND, then OR.
    None where nothing can match."""
    parts: list[str] = []
    for term in parse_search(text):
        phrase = '"' + " ".join(term.words) + '"' + (" *" if term.prefix else "")
        if term.negated:
            if parts:  # FTS5's NOT needs something on its left
                parts.append(f"NOT {phrase}")
        else:
            parts.append(f"{term.join_with} {phrase}" if parts else phrase)
    return " ".join(parts) if parts else None


def tsquery_text(text: str) -> str | None:
    """The search as the text of a PostgreSQL `to_tsquery`, as `websearch_to_tsquery`
    would read it, but for the prefix term (`'word':*`). Every word is quoted; a phrase
    is one quoted string (its stop words keep their distance), its prefix word apart
    (`'hello' <-> 'wor':*`). None where nothing can match."""
    parts: list[str] = []
    for term in parse_search(text):
        if term.prefix:
            *head, last = term.words
            phrase = f"'{last}':*"
            if head:
                phrase = f"'{' '.join(head)}' <-> {phrase}"
        else:
            phrase = "'" + " ".join(term.words) + "'"
        phrase = f"!({phrase})" if term.negated else f"({phrase})"
        parts.append(f"{'|' if term.join_with == 'OR' else '&'} {phrase}" if parts else phrase)
    return " ".join(parts) if parts else None
