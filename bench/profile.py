"""Where a request's CPU goes: one query run in-process under pyinstrument.

    uv run python -m bench.profile [--query q1] [--requests 200] [--lines 45] [--direct]
                                   [--redis-url URL] [--access-log]

Builds the production app (as `serve` does, rate limits off) over the benchmark's seeded
database (`python -m bench.run` seeds it), posts the query through httpx's ASGI transport,
and prints the CPU milliseconds per request (measured without the profiler; httpx's side
of each request is included) and the top of pyinstrument's profile: functions by their
own time, then the call tree. `--direct` calls the ASGI app itself with a prepared scope
instead, so the figures are the server's alone (what uvicorn adds is not in either).
An anonymous query is a response cache hit after the warm-up: `--redis-url` profiles the
hits of a deployment with Redis (each checked against the shared table versions), and
`--access-log` writes the JSON line per request that production writes (to stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import httpx
import orjson
from prometheus_client import REGISTRY
from pyinstrument import Profiler

from bench.database import plain_dsn
from bench.run import DEFAULT_DATABASE
from bench.workload import body, load_queries, pick_variables
from blog_graphql.app import create_app
from blog_graphql.config.settings import Settings
from blog_graphql.observability.logs import configure_logging

Poster = Callable[[bytes, int], Awaitable[None]]

WARMUP_REQUESTS = 10


def production_settings(
    database_url: str, redis_url: str | None = None, access_log: bool = False
) -> Settings:
    return Settings(
        database_url=database_url,
        environment="production",
        secret_key=secrets.token_hex(32),
        rate_limit_enabled=False,
        log_level="INFO" if access_log else "WARNING",
        log_format="json",
        redis_url=redis_url,
        pubsub_prefix=f"bench-profile-{secrets.token_hex(4)}:",  # no other process's writes
        _env_file=None,
    )


async def post_many(client: httpx.AsyncClient, payload: bytes, count: int) -> None:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    for _ in range(count):
        response = await client.post("/graphql", content=payload, headers=headers)
        check_answer(response.status_code, response.json())


def check_answer(status: int, answer: dict[str, Any]) -> None:
    if status != 200 or answer.get("errors"):
        raise SystemExit(f"the query failed: {str(answer)[:500]}")


REQUEST_HEADERS = [
    (b"host", b"127.0.0.1"),
    (b"content-type", b"application/json"),
    (b"accept", b"application/json"),
]


async def post_direct(app: Any, payload: bytes) -> None:
    """One request straight into the ASGI app, as uvicorn would make it."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/graphql", "raw_path": b"/graphql", "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000),
        "headers": [*REQUEST_HEADERS, (b"content-length", str(len(payload)).encode())],
    }  # fmt: skip
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": payload, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    check_answer(sent[0]["status"], orjson.loads(b"".join(m.get("body", b"") for m in sent[1:])))


def direct_poster(app: Any) -> Poster:
    """Posts with no client in between: the CPU figures are the app's alone."""

    async def post(payload: bytes, count: int) -> None:
        for _ in range(count):
            await post_direct(app, payload)

    return post


async def profile(args: argparse.Namespace) -> str:
    query = load_queries([args.query])[0]
    variables = await pick_variables(plain_dsn(args.database_url))
    payload = body(query.app_document, query.variables(variables))
    settings = production_settings(args.database_url, args.redis_url, args.access_log)
    configure_logging(settings)
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        post: Poster = direct_poster(app) if args.direct else partial(post_many, client)
        await post(payload, WARMUP_REQUESTS)
        counted = cache_outcomes()
        started = time.process_time()
        await post(payload, args.requests)
        cpu_ms = (time.process_time() - started) * 1000 / args.requests
        outcomes = {k: v - counted.get(k, 0) for k, v in cache_outcomes().items()}
        profiler = Profiler(async_mode="enabled")
        with profiler:
            await post(payload, args.requests)
    await app.state.blog.close()
    sections = [
        f"{args.query}: {cpu_ms:.2f} ms CPU per request over {args.requests} requests",
        f"response cache: {', '.join(f'{k} {v:.0f}' for k, v in outcomes.items() if v)}",
    ]
    for title, flat in (("functions by own time", True), ("call tree", False)):
        text = profiler.output_text(flat=flat, unicode=False, color=False)
        sections.append(f"--- {title} ---\n" + "\n".join(text.splitlines()[: args.lines]))
    return "\n\n".join(sections)


def cache_outcomes() -> dict[str, float]:
    """The response cache's counters so far, by outcome (hit_local, hit_shared, miss...)."""
    return {
        sample.labels["outcome"]: sample.value
        for metric in REGISTRY.collect()
        if metric.name == "blog_graphql_response_cache"
        for sample in metric.samples
        if sample.name.endswith("_total")
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--query", default="q1", help="q1 .. q6")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--lines", type=int, default=45, help="lines of each profile view")
    parser.add_argument("--direct", action="store_true", help="call the ASGI app, no httpx")
    parser.add_argument("--redis-url", help="REDIS_URL of the app (default: none)")
    parser.add_argument("--access-log", action="store_true", help="log each request at INFO")
    print(asyncio.run(profile(parser.parse_args())))


if __name__ == "__main__":
    main()
