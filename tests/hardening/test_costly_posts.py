"""A single legal-size post must not stall the instance or the database.

90 KB of `![` cost markdown-it seconds on the event loop (every `/healthz` waited), and
100 KB of `a_a_a_…` cost PostgreSQL's text-search parser minutes in one INSERT and again
on each rename. Against a real `serve`, each payload is created and renamed within a few
seconds while `/healthz`, probed all along, keeps answering in under 300 ms.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from blog_graphql.posts.models import Post
from tests.factories import auth_headers, create_user
from tests.live_server import LiveServer, clean_environment, live_server

CREATE = """mutation($input: CreatePostInput!) {
  createPost(input: $input) { id title slug published }
}"""
RETITLE = """mutation($id: ID!, $title: String!) {
  updatePost(id: $id, input: {title: $title}) { title }
}"""
SEARCH = """query($search: String!) {
  posts(filter: {search: $search}) { edges { node { title } } }
}"""
WRITE_SECONDS = 15.0  # "a few seconds" on a loaded CI machine; before the fix: minutes
HEALTHZ_SECONDS = 0.3
PAYLOADS = {
    "image brackets": "![" * 45_000,  # 90 KB: quadratic in markdown-it's link labels
    "underscored run": "a_" * 49_996,  # ~100 KB (the limit with the needle): quadratic in
    # PostgreSQL's text-search parser
}


@dataclass
class HealthProbe:
    """Polls `/healthz` on its own thread until stopped, keeping every latency."""

    server: LiveServer
    latencies: list[float] = field(default_factory=list)
    stopped: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(base_url=self.server.url, timeout=30) as http:
            while not self.stopped.is_set():
                started = time.perf_counter()
                assert http.get("/healthz").status_code == 200
                self.latencies.append(time.perf_counter() - started)
                self.stopped.wait(0.02)


async def timed(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any]
) -> tuple[Any, float]:
    started = time.perf_counter()
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    return response.json(), time.perf_counter() - started


@pytest.mark.parametrize("content", PAYLOADS.values(), ids=PAYLOADS.keys())
async def test_a_costly_post_is_written_and_renamed_quickly_while_healthz_answers(
    db, settings, database_url, tmp_path: Path, content: str
):
    ada = await create_user(db, username="ada")
    headers = await auth_headers(db, settings, ada)
    env = clean_environment(DATABASE_URL=database_url, RATE_LIMIT_ENABLED="false")
    with live_server(env=env, cwd=tmp_path) as server:
        probe = HealthProbe(server)
        prober = threading.Thread(target=probe.run)
        prober.start()
        try:
            async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=300) as http:
                post = {"title": "Heavy", "content": f"needle {content}", "published": True}
                created, create_seconds = await timed(http, CREATE, {"input": post})
                assert "errors" not in created, created
                post_id = created["data"]["createPost"]["id"]
                renamed, rename_seconds = await timed(
                    http, RETITLE, {"id": post_id, "title": "Renamed"}
                )
                found = await http.post(
                    "/graphql", json={"query": SEARCH, "variables": {"search": "needle"}}
                )
        finally:
            probe.stopped.set()
            await asyncio.to_thread(prober.join)

    assert created == {
        "data": {
            "createPost": {"id": post_id, "title": "Heavy", "slug": "heavy", "published": True}
        }
    }
    assert renamed == {"data": {"updatePost": {"title": "Renamed"}}}
    assert found.json() == {"data": {"posts": {"edges": [{"node": {"title": "Renamed"}}]}}}
    assert create_seconds < WRITE_SECONDS and rename_seconds < WRITE_SECONDS
    assert len(probe.latencies) > 3 and max(probe.latencies) < HEALTHZ_SECONDS, probe.latencies
    async with db.session() as session:
        [stored] = (await session.scalars(select(Post))).all()
    assert (stored.title, stored.content) == ("Renamed", f"needle {content}")
