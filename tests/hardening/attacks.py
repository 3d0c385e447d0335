"""Helpers for the attack suites: table snapshots, one-error answers, a liveness probe."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text

from blog_graphql.db import Database

# Every table an attack could change; login_failures is left to the lockout tests, which
# assert on it themselves.
TABLES = (
    "users",
    "auth_sessions",
    "one_time_tokens",
    "posts",
    "tags",
    "post_tags",
    "comments",
    "email_outbox",
)


async def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in key order: compare before and after an attack."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    async with db.engine.connect() as connection:
        for table in TABLES:
            result = await connection.execute(text(f"SELECT * FROM {table}"))  # noqa: S608
            rows[table] = sorted((tuple(row) for row in result), key=repr)
    return rows


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    """The extensions of the only error of a body, with its message under `message`."""
    assert len(body.get("errors", [])) == 1, body
    [error] = body["errors"]
    return {"message": error["message"], **error.get("extensions", {})}


async def assert_still_serves(client: httpx.AsyncClient) -> None:
    """A normal query after the attack gets its normal answer."""
    response = await client.post("/graphql", json={"query": "{ __typename tags { name } }"})
    assert response.status_code == 200
    assert response.json()["data"]["__typename"] == "Query"
