"""Helpers for the attack suites: table snapshots, one-error answers, a liveness probe."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text

from blog_graphql.db.database import Database
from blog_graphql.relay.ids import encode_id
from tests.factories import auth_headers, create_comment, create_post, create_user

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
            result = await connection.execute(text(f"SELECT * FROM {table}"))
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


@pytest.fixture
async def world(db, settings) -> dict[str, Any]:
    """Ada's post, draft, comment and pending comment; Eve, the attacker, signed in."""
    ada = await create_user(db, username="ada")
    eve = await create_user(db, username="eve")
    post = await create_post(db, author=ada, title="Public", tags=["news"])
    draft = await create_post(db, author=ada, title="Secret draft", tags=["news"], published=False)
    comment = await create_comment(db, post=post, author=ada, content="mine")
    pending = await create_comment(db, post=post, author=ada, content="held", approved=False)
    return {
        "ada": ada,
        "eve": eve,
        "post": post,
        "draft": draft,
        "eve_headers": await auth_headers(db, settings, eve),
        "ada_headers": await auth_headers(db, settings, ada),
        "ids": {
            "post": encode_id("Post", post.id),
            "draft": encode_id("Post", draft.id),
            "comment": encode_id("Comment", comment.id),
            "pending": encode_id("Comment", pending.id),
            "ada": encode_id("User", ada.id),
        },
    }


async def attack(client, db, headers, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """Run one attack; assert no row changed and the server still serves; return the body."""
    before = await snapshot(db)
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code in (200, 400), response.text
    assert await snapshot(db) == before
    await assert_still_serves(client)
    body: dict[str, Any] = response.json()
    return body
