"""A read that starts on any instance after another instance answered a write is fresh.

Two instances with their own database pools share one database and Redis, as two servers
do. The writer has raised the Redis versions of what it wrote before its response is
sent, and every hit of the reader's in-process store checks them, so the reader needs no
pub/sub message in time: here its messages are even held back, as a slow link would.
"""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from tests.caching import world as w
from tests.caching.conftest import Factory, listening
from tests.conftest import requires_redis

ROUNDS = 50
PAGE = "query Page($slug: String!) { post(slug: $slug) { title commentCount } }"
FEED = "query Feed { posts(first: 5) { edges { node { title } } } }"


def local_hits() -> float:
    return (
        REGISTRY.get_sample_value("blog_graphql_response_cache_total", {"outcome": "hit_local"})
        or 0.0
    )


@requires_redis
@pytest.mark.parametrize("messages", ["held back", "delivered"])
async def test_a_read_on_b_right_after_a_write_on_a_is_fresh(
    make_instance: Factory, db, settings, messages: str
):
    writer = await listening(make_instance(redis=True))
    reader = await listening(make_instance(redis=True))
    assert reader.cache is not None and reader.cache.channel is not None
    held: list[bytes] = []
    heard = reader.cache.channel.on_message
    if messages == "held back":
        reader.cache.channel.on_message = held.append
    world = await w.World.create(db, settings)
    await w.create_post(writer, world, "ada", 1, tags=["python"], published=True)
    slug, post_id = world.slugs[1], world.posts[1]
    stale: list[tuple[int, str]] = []
    for n in range(ROUNDS):
        for query, variables in ((PAGE, {"slug": slug}), (FEED, {})):
            await reader.data(query, variables)  # cached on B (or already)
        title = f"Renamed {n}"
        await w.run(writer, "ada", world, w.UPDATE, id=post_id, input={"title": title})
        for query, variables in ((PAGE, {"slug": slug}), (FEED, {})):
            text = (await reader.post(query, variables)).text  # at once: no waiting
            if title not in text:
                stale.append((n, text))
        hits = local_hits()
        assert title in (await reader.post(PAGE, {"slug": slug})).text
        assert local_hits() == hits + 1  # unchanged since: B's own store still answers
    assert not stale, f"{len(stale)} stale reads on B, first: {stale[0]}"
    for data in held:  # late messages change nothing
        heard(data)
    assert title in (await reader.post(PAGE, {"slug": slug})).text
