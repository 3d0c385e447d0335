"""The scheduler in real `blog-graphql serve` processes: across a restart, and racing."""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from functools import partial

import httpx
from sqlalchemy import select

from blog_graphql.db.database import Database
from blog_graphql.posts.models import Post
from tests.content.helpers import post_id
from tests.factories import auth_headers, create_post, create_user
from tests.live_server import clean_environment, live_server
from tests.waiting import eventually

PUBLISHED_LINE = "scheduled post published"
SCHEDULE = "mutation($id: ID!, $at: DateTime!) { schedulePost(id: $id, publishAt: $at) { status } }"


async def published_at(db: Database, id_: int) -> datetime | None:
    async with db.session() as session:
        post = await session.scalar(select(Post).where(Post.id == id_))
    assert post is not None
    return post.published_at if post.published else None


async def schedule(url: str, headers: dict[str, str], draft: Post, at: datetime) -> None:
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.post(
            "/graphql",
            json={"query": SCHEDULE, "variables": {"id": post_id(draft), "at": at.isoformat()}},
            headers=headers,
        )
    assert response.json() == {"data": {"schedulePost": {"status": "SCHEDULED"}}}


async def test_a_post_scheduled_before_a_restart_goes_live_once_after_it(
    db, settings, database_url, tmp_path
):
    ada = await create_user(db)
    draft = await create_post(db, author=ada, published=False)
    headers = await auth_headers(db, settings, ada)
    env = clean_environment(DATABASE_URL=database_url, SCHEDULER_POLL_SECONDS="0.5")

    with live_server(env=env, cwd=tmp_path) as first:
        at = datetime.now(UTC) + timedelta(seconds=10)
        await schedule(first.url, headers, draft, at)
    assert datetime.now(UTC) < at  # stopped before the time came
    # Down when the time comes: nobody publishes it meanwhile.
    await asyncio.sleep(max(0.0, (at - datetime.now(UTC)).total_seconds()) + 1)
    assert await published_at(db, draft.id) is None

    with live_server(env=env, cwd=tmp_path) as second:
        up = datetime.now(UTC)
        went_live = await eventually(
            lambda: published_at(db, draft.id), within=5, interval=0.1, what="publication"
        )
        await asyncio.sleep(1.5)  # a few more polls: nothing happens twice
    assert went_live - up < timedelta(seconds=5)
    assert await published_at(db, draft.id) == went_live
    assert (first.logs() + second.logs()).count(PUBLISHED_LINE) == 1


async def test_two_instances_racing_publish_each_post_once_within_five_seconds(
    db, settings, database_url, tmp_path
):
    ada = await create_user(db)
    drafts = [await create_post(db, author=ada, published=False) for _ in range(3)]
    headers = await auth_headers(db, settings, ada)
    env = clean_environment(DATABASE_URL=database_url, SCHEDULER_POLL_SECONDS="0.2")

    with ExitStack() as stack:
        servers = [stack.enter_context(live_server(env=env, cwd=tmp_path)) for _ in range(2)]
        at = datetime.now(UTC) + timedelta(seconds=4)
        for draft in drafts:
            await schedule(servers[0].url, headers, draft, at)
        for draft in drafts:
            went_live = await eventually(partial(published_at, db, draft.id), within=10)
            assert went_live - at < timedelta(seconds=5)
        await asyncio.sleep(1)  # a few more polls of both
        logs = "".join(server.logs() for server in servers)
    assert logs.count(PUBLISHED_LINE) == len(drafts)
