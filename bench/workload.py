"""The six queries of issue 8, their variables picked from the seeded data, and the bodies.

blog_graphql answers the documents in `bench/queries/`; PostGraphile answers the
equivalents in `bench/postgraphile/`, aliased to the same names so that `compare.py` can
set the two answers side by side.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from blog_graphql.cli.seed import WORDS

BENCH = Path(__file__).resolve().parent
APP_QUERIES = BENCH / "queries"
POSTGRAPHILE_QUERIES = BENCH / "postgraphile"
# A word of every seeded post's vocabulary: the search page ranks thousands of matches.
SEARCH_WORD = "python"
assert SEARCH_WORD in WORDS

# Among the feed's first page, the post with the most top-level comments that have
# replies: the post page then shows both levels of its threads.
BUSIEST_FEED_POST = """
WITH feed AS (
  SELECT id, slug, feed_at FROM posts WHERE published ORDER BY feed_at DESC, id DESC LIMIT 20
)
SELECT f.slug FROM feed f
ORDER BY (
  SELECT count(*) FROM comments c
  WHERE c.post_id = f.id AND c.parent_id IS NULL
    AND EXISTS (SELECT 1 FROM comments r WHERE r.parent_id = c.id)
) DESC, f.feed_at DESC, f.id DESC
LIMIT 1
"""
MOST_USED_TAG = """
SELECT t.name FROM tags t JOIN post_tags pt ON pt.tag_id = t.id
GROUP BY t.id, t.name ORDER BY count(*) DESC, t.id LIMIT 1
"""


@dataclass(frozen=True)
class Query:
    name: str  # q1 .. q6
    app_document: str
    postgraphile_document: str

    def variables(self, values: dict[str, str]) -> dict[str, str]:
        """The subset of `values` this query declares (`$slug`, `$tag`, `$search`)."""
        declared = set(re.findall(r"\$(\w+)\s*:", self.app_document))
        return {name: value for name, value in values.items() if name in declared}


def load_queries(selected: list[str] | None = None) -> list[Query]:
    queries = []
    for path in sorted(APP_QUERIES.glob("q*.graphql")):
        name = path.stem.split("_")[0]
        if selected and name not in selected:
            continue
        twin = POSTGRAPHILE_QUERIES / path.name
        queries.append(Query(name, path.read_text(), twin.read_text()))
    unknown = set(selected or ()) - {query.name for query in queries}
    if unknown:
        raise SystemExit(f"unknown queries: {', '.join(sorted(unknown))}")
    return queries


async def pick_variables(dsn: str) -> dict[str, str]:
    """Deterministic values from the seeded data (the same seed gives the same values)."""
    connection = await asyncpg.connect(dsn)
    try:
        slug = await connection.fetchval(BUSIEST_FEED_POST)
        tag = await connection.fetchval(MOST_USED_TAG)
    finally:
        await connection.close()
    return {"slug": slug, "tag": tag, "search": SEARCH_WORD}


def body(document: str, variables: dict[str, Any]) -> bytes:
    """A GraphQL-over-HTTP POST body."""
    payload: dict[str, Any] = {"query": document}
    if variables:
        payload["variables"] = variables
    return json.dumps(payload).encode()
