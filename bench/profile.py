"""Where a request's CPU goes: one query run in-process under pyinstrument.

    uv run python -m bench.profile [--query q1] [--requests 200] [--lines 45]

Builds the production app (as `serve` does, rate limits off) over the benchmark's seeded
database (`python -m bench.run` seeds it), posts the query through httpx's ASGI transport,
and prints the CPU milliseconds per request (measured without the profiler; httpx's side
of each request is included) and the top of pyinstrument's profile: functions by their
own time, then the call tree.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
from typing import Any

import httpx
from pyinstrument import Profiler

from bench.database import plain_dsn
from bench.run import DEFAULT_DATABASE
from bench.workload import body, load_queries, pick_variables
from blog_graphql.app import create_app
from blog_graphql.config import Settings
from blog_graphql.logs import configure_logging

WARMUP_REQUESTS = 10


def production_settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        environment="production",
        secret_key=secrets.token_hex(32),
        rate_limit_enabled=False,
        log_level="WARNING",
        redis_url=None,
        _env_file=None,
    )


async def post_many(client: httpx.AsyncClient, payload: bytes, count: int) -> None:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    for _ in range(count):
        response = await client.post("/graphql", content=payload, headers=headers)
        answer: dict[str, Any] = response.json()
        if response.status_code != 200 or answer.get("errors"):
            raise SystemExit(f"the query failed: {str(answer)[:500]}")


async def profile(args: argparse.Namespace) -> str:
    query = load_queries([args.query])[0]
    variables = await pick_variables(plain_dsn(args.database_url))
    payload = body(query.app_document, query.variables(variables))
    settings = production_settings(args.database_url)
    configure_logging(settings)
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        await post_many(client, payload, WARMUP_REQUESTS)
        started = time.process_time()
        await post_many(client, payload, args.requests)
        cpu_ms = (time.process_time() - started) * 1000 / args.requests
        profiler = Profiler(async_mode="enabled")
        with profiler:
            await post_many(client, payload, args.requests)
    await app.state.blog.close()
    sections = [f"{args.query}: {cpu_ms:.2f} ms CPU per request over {args.requests} requests"]
    for title, flat in (("functions by own time", True), ("call tree", False)):
        text = profiler.output_text(flat=flat, unicode=False, color=False)
        sections.append(f"--- {title} ---\n" + "\n".join(text.splitlines()[: args.lines]))
    return "\n\n".join(sections)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--query", default="q1", help="q1 .. q6")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--lines", type=int, default=45, help="lines of each profile view")
    print(asyncio.run(profile(parser.parse_args())))


if __name__ == "__main__":
    main()
