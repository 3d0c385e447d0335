"""The scheduler in `blog-graphql worker` processes: posts go live, and every serving
instance's cache hears of it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
import redis
from sqlalchemy import select

from blog_graphql.db.database import utcnow
from blog_graphql.posts import scheduling
from blog_graphql.posts.models import Post
from tests.conftest import TEST_REDIS_URL, requires_redis
from tests.factories import create_post, create_user
from tests.live_server import clean_environment, live_server
from tests.live_worker import live_worker
from tests.waiting import eventually

pytestmark = requires_redis
POSTS = "{ posts { edges { node { title status } } } }"


@pytest.fixture
def redis_url() -> Iterator[str]:
    assert TEST_REDIS_URL
    client = redis.Redis.from_url(TEST_REDIS_URL)
    client.flushdb()
    yield TEST_REDIS_URL
    client.flushdb()
    client.close()


async def test_a_worker_publishes_a_scheduled_post_and_serving_caches_follow(
    db, database_url, redis_url, tmp_path
):
    ada = await create_user(db)
    draft = await create_post(db, author=ada, title="From the worker", published=False)
    env = clean_environment(
        DATABASE_URL=database_url, REDIS_URL=redis_url, SCHEDULER_POLL_SECONDS="0.2"
    )
    # This instance leaves scheduling to the worker, so only the worker can publish.
    serve_env = {**env, "SCHEDULER_ENABLED": "false"}

    with (
        live_server(env=serve_env, cwd=tmp_path) as server,
        live_worker(env, tmp_path, "--processes", "2", "--threads", "1") as worker,
    ):
        async with httpx.AsyncClient(base_url=server.url) as client:
            before = await client.get("/graphql", params={"query": POSTS})
        assert before.json() == {"data": {"posts": {"edges": []}}}  # now cached
        at = utcnow() + timedelta(seconds=2)
        await scheduling.schedule_post(db, ada, draft.id, at)

        async def published() -> bool:
            async with db.session() as session:
                return bool(await session.scalar(select(Post.published).where(Post.id == draft.id)))

        await eventually(published, within=10, interval=0.1, what="publication")
        assert utcnow() - at < timedelta(seconds=5)
        async with httpx.AsyncClient(base_url=server.url) as client:
            after = await client.get("/graphql", params={"query": POSTS})
        assert after.json() == {
            "data": {
                "posts": {"edges": [{"node": {"title": "From the worker", "status": "PUBLISHED"}}]}
            }
        }
    assert "\n".join(worker.lines).count("scheduled post published") == 1
    assert "scheduled post published" not in server.logs()
