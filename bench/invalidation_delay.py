"""How long a write on one instance takes to reach another's response cache.

    uv run python -m bench.invalidation_delay [--writes 200] [--database-url URL]
                                              [--redis-url URL]

Starts two blog_graphql servers (A and B, one worker each) on one PostgreSQL database and
one Redis, as two hosts of a deployment would be, with the response cache on. For each
write, B's answer for a post page is cached first; then a reader polls B without pause
while `updatePost` renames the post on A. The delay is from A's response to the mutation
(its commit and invalidation are done by then) to the first answer from B carrying the new
title; "from request" counts from the moment the mutation was sent, an upper bound of the
time since its commit. Stale answers are counted too: those B gave to a read sent after
A's answer had arrived (the response cache promises none), and apart from them those to a
read already under way when it arrived (allowed: the read may have looked before the commit).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import time
from collections.abc import Sequence
from functools import partial

import asyncpg  # type: ignore[import-untyped]
import httpx

from bench.database import _blog_graphql, _create_database, plain_dsn
from bench.servers import Server, start_app
from bench.viewers import sign_in

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/bench_invalidation"
DEFAULT_REDIS = "redis://127.0.0.1:6379/5"
PAGE = "query Page($slug: String!) { post(slug: $slug) { title commentCount author { username } } }"
RENAME = """mutation Rename($id: ID!, $title: String!) {
  updatePost(id: $id, input: { title: $title }) { title } }"""
A_POST_AND_ITS_AUTHOR = """
SELECT p.id, p.slug, u.username FROM posts p JOIN users u ON u.id = p.author_id
WHERE p.published AND u.is_active ORDER BY p.id LIMIT 1
"""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.invalidation_delay")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--writes", type=int, default=200)
    return parser.parse_args(argv)


def prepare(url: str) -> None:
    """A small seeded database of its own: the writes change it."""
    dsn = plain_dsn(url)
    asyncio.run(_create_database(dsn))
    _blog_graphql(url, "migrate")
    if not asyncio.run(_fetch(dsn, "SELECT count(*) FROM posts"))[0]:
        _blog_graphql(url, "seed", "--users=20", "--posts=50", "--comments=200")


async def _fetch(dsn: str, sql: str) -> asyncpg.Record:
    connection = await asyncpg.connect(dsn)
    try:
        return await connection.fetchrow(sql)
    finally:
        await connection.close()


async def measure(a: Server, b: Server, token: str, post: asyncpg.Record, writes: int) -> dict:
    global_id = await _global_id(a, post["slug"])
    page = {"query": PAGE, "variables": {"slug": post["slug"]}}
    delays, from_request, stale_after, in_flight = [], [], 0, 0
    async with httpx.AsyncClient(timeout=30) as client:
        auth = {"Authorization": f"Bearer {token}"}
        for n in range(writes):
            title = f"Renamed {n} {secrets.token_hex(4)}"
            for _ in range(2):  # B's answer is now cached
                await client.post(b.url, json=page)
            sent = time.perf_counter()
            answered = asyncio.get_running_loop().create_future()
            reader = asyncio.create_task(_first_fresh(client, b.url, page, title, answered))
            variables = {"id": global_id, "title": title}
            response = await client.post(
                a.url, json={"query": RENAME, "variables": variables}, headers=auth
            )
            assert response.json()["data"]["updatePost"]["title"] == title, response.text
            done = time.perf_counter()
            answered.set_result(done)
            seen, stale, overlapping = await reader
            stale_after += stale
            in_flight += overlapping
            delays.append(max(0.0, seen - done) * 1000)
            from_request.append((seen - sent) * 1000)
    return {
        "from response": delays,
        "from request": from_request,
        "stale": stale_after,
        "in flight": in_flight,
    }


async def _first_fresh(
    client: httpx.AsyncClient, url: str, page: dict, title: str, answered: asyncio.Future
) -> tuple[float, int, int]:
    """When B first answers with `title`; how many old answers it gave to reads sent
    after A had answered, and to reads under way when A answered."""
    stale = in_flight = 0
    while True:
        sent = time.perf_counter()
        response = await client.post(url, json=page)
        now = time.perf_counter()
        if response.json()["data"]["post"]["title"] == title:
            return now, stale, in_flight
        if answered.done() and answered.result() < sent:
            stale += 1
        elif answered.done() and answered.result() < now:
            in_flight += 1


async def _global_id(server: Server, slug: str) -> str:
    query = "query($slug: String!) { post(slug: $slug) { id } }"
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(server.url, json={"query": query, "variables": {"slug": slug}})
    return str(response.json()["data"]["post"]["id"])


def summary(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return (
        f"{name:<14} p50 {statistics.median(ordered):6.2f} ms  p99 {p99:6.2f} ms  "
        f"max {ordered[-1]:6.2f} ms"
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    prepare(args.database_url)
    post = asyncio.run(_fetch(plain_dsn(args.database_url), A_POST_AND_ITS_AUTHOR))
    start = partial(start_app, redis_url=args.redis_url, secret_key=secrets.token_hex(32))
    a = start(1, args.database_url)
    try:
        b = start(1, args.database_url)
        try:
            token = sign_in(a.url, post["username"])
            results = asyncio.run(measure(a, b, token, post, args.writes))
        finally:
            b.stop()
    finally:
        a.stop()
    print(f"{args.writes} writes on A, read on B (two servers, one PostgreSQL, one Redis)")
    print(summary("from response", results["from response"]))
    print(summary("from request", results["from request"]))
    print(f"stale answers from B to reads sent after A had answered: {results['stale']}")
    print(f"old answers from B to reads under way when A answered: {results['in flight']}")


if __name__ == "__main__":
    main()
