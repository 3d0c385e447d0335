"""Before/after of the execution-path techniques: CPU per request of every bench query
run in process through the ASGI app on uvloop, with its SQL statements counted.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench uv run python -m bench.fast_cpu \
        [--query q1] [--runs 300] [--standard-executor] [--gc-default] [--gc-off] [--profile] \
        [--calls] [--viewer signed-in]

Beside `bench.profile` (one query, profiled as the production app): this one switches the
techniques off one at a time (graphql-core's standard executor, no GC freeze) and prints
the median, p10, p90 and mean of `time.process_time` per request (the mean shows the
garbage collector's pauses, the median does not). With `BENCH_SHOW_SQL=1` it prints the
statements of each query too.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import resource
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import event, text

from bench.viewers import ANONYMOUS, LOGIN, SIGNED_IN, VIEWERS, pick_user
from blog_graphql.app import create_app
from blog_graphql.cli.seed import SEED_PASSWORD
from blog_graphql.config.settings import load_settings
from blog_graphql.schema import build_schema
from blog_graphql.server.gc_tuning import tune_for_serving
from blog_graphql.state import AppState

QUERIES = Path(__file__).parent / "queries"


def load_queries() -> dict[str, Path]:
    return {path.name.split("_")[0]: path for path in sorted(QUERIES.glob("q*.graphql"))}


async def variables_for(state: AppState) -> dict[str, Any]:
    """A real slug, tag and search word from the seeded data."""
    async with state.db.session() as session:
        slug = await session.scalar(
            text("SELECT slug FROM posts WHERE published ORDER BY published_at DESC LIMIT 1")
        )
        tag = await session.scalar(text("SELECT slug FROM tags ORDER BY id LIMIT 1"))
    return {"slug": slug, "tag": tag, "search": "python"}


async def headers_of(client: httpx.AsyncClient, viewer: str) -> dict[str, str]:
    """No headers for an anonymous reader; a signed-in one's `Authorization`, from the
    login mutation run through the app as a seeded user without drafts."""
    if viewer != SIGNED_IN:
        return {}
    username = await pick_user(os.environ["DATABASE_URL"])
    variables = {"login": username, "password": SEED_PASSWORD}
    response = await client.post("/graphql", json={"query": LOGIN, "variables": variables})
    token = response.json()["data"]["login"]["accessToken"]
    return {"authorization": f"Bearer {token}"}


def quantile(values: list[float], q: float) -> float:
    return sorted(values)[int(q * (len(values) - 1))]


async def calls_per_request(once: Callable[[], Awaitable[bytes]], runs: int = 20) -> int:
    """Python function calls (and coroutine resumptions) per request, counted by cProfile:
    a figure that does not move with the other processes on a shared machine, for telling
    apart changes smaller than the timing noise."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        await once()
    profiler.disable()
    return pstats.Stats(profiler).total_calls // runs


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--query", action="append")
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--calls", action="store_true", help="also Python function calls per request (no noise)"
    )
    parser.add_argument("--gc-off", action="store_true", help="measure without the cyclic GC")
    parser.add_argument("--gc-default", action="store_true", help="without the serving GC tuning")
    parser.add_argument("--standard-executor", action="store_true", help="graphql-core's own")
    parser.add_argument("--young", type=int, help="another young-generation GC threshold")
    parser.add_argument(
        "--viewer", choices=VIEWERS, default=ANONYMOUS, help="signed-in: a seeded user's token"
    )
    args = parser.parse_args()
    settings = load_settings(rate_limit_enabled=False, database_url=os.environ["DATABASE_URL"])
    state = AppState.create(settings)
    fast = not args.standard_executor
    app = create_app(state=state, schema=build_schema(settings, None, fast_execution=fast))
    statements: list[str] = []

    def record(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        statements.append(statement)

    variables = await variables_for(state)
    if not args.gc_default:
        tune_for_serving()  # as `blog-graphql serve` does in each worker
    if args.young:
        gc.set_threshold(args.young, *gc.get_threshold()[1:])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        viewer_headers = await headers_of(client, args.viewer)
        for name, path in load_queries().items():
            if args.query and name not in args.query:
                continue
            body = orjson.dumps({"query": path.read_text(), "variables": variables})
            headers = {"content-type": "application/json", **viewer_headers}

            async def once(body: bytes = body, headers: dict[str, str] = headers) -> bytes:
                response = await client.post("/graphql", content=body, headers=headers)
                assert response.status_code == 200, response.text
                assert b'"errors"' not in response.content, response.text[:500]
                return response.content

            for _ in range(args.warmup):
                await once()
            # Counted on one request only: a statement listener sends every read through
            # SQLAlchemy's execution path (`direct_reads.py`), which is not what is measured.
            statements.clear()
            event.listen(state.db.engine.sync_engine, "before_cursor_execute", record)
            await once()
            event.remove(state.db.engine.sync_engine, "before_cursor_execute", record)
            counted = len(statements)
            if os.environ.get("BENCH_SHOW_SQL"):
                print("\n\n".join(statements))
            profiler = None
            if args.profile:
                from pyinstrument import Profiler

                profiler = Profiler(async_mode="disabled")
                profiler.start()
            if args.gc_off:
                gc.collect()
                gc.disable()
            cpu = []
            for _ in range(args.runs):
                start = time.process_time()
                await once()
                cpu.append((time.process_time() - start) * 1000)
            gc.enable()
            if profiler is not None:
                profiler.stop()
                print(profiler.output_text(unicode=False, color=False, show_all=False))
            size = len(await once())
            calls = f"  calls {await calls_per_request(once)}" if args.calls else ""
            print(
                f"{name}: cpu ms/request median {statistics.median(cpu):.2f} "
                f"p10 {quantile(cpu, 0.1):.2f} p90 {quantile(cpu, 0.9):.2f} "
                f"mean {statistics.mean(cpu):.2f}  statements {counted}  bytes {size}{calls}"
            )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MB")
    await state.close()


if __name__ == "__main__":
    import uvloop  # what uvicorn runs on (its "auto" loop) when uvicorn[standard] is installed

    uvloop.run(main())
