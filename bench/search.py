"""Timings of `posts(filter: {search})` with `totalCount`: the page and the count, as the
resolver reads them, on the database at DATABASE_URL (seed it first:
`blog-graphql seed --users 200 --posts 10000 --comments 20000`).

    DATABASE_URL=sqlite:////tmp/seed.db python bench/search.py [--repeat 20] [--explain]

Prints, per search, the median and the slowest wall-clock ms of `--repeat` runs (after
one warm-up) of the first page (20 posts), of its `totalCount`, and of both as the
resolver reads them, with the median CPU ms of this process for both (where SQLite runs:
unlike wall time, not inflated by other work on a busy machine); with `--explain`, each
statement's plan (EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

from sqlalchemy import text

from blog_graphql.db.database import Database
from blog_graphql.posts import queries

SEARCHES = (
    "python",  # a word nearly every seeded post holds
    "graph query",  # two words
    "pyth",  # a prefix, as typed
    "cursor or river",
    '"simple clear"',  # a phrase
    "python -cloud",
    "zzzz",  # nothing matches
)


async def _time(run: object, repeat: int) -> tuple[float, float, float]:
    """Median and slowest wall-clock ms, and median CPU ms of this process (where SQLite
    runs: unlike wall time, not inflated by other work on a busy machine)."""
    assert callable(run)
    await run()  # warm-up: statement caches, pages in memory
    runs, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        await run()
        runs.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return statistics.median(runs), max(runs), statistics.median(cpu)


async def _explain(db: Database, search: str) -> None:
    post_filter = queries.PostFilter(search=search)
    statements = []
    engine = db.engine.sync_engine

    def keep(_conn: object, _cursor: object, statement: str, params: object, *_: object) -> None:
        statements.append((statement, params))

    from sqlalchemy import event

    event.listen(engine, "before_cursor_execute", keep)
    try:
        await queries.list_posts(db, None, post_filter, queries.PageArguments(first=20))
        await queries.count_posts(db, None, post_filter)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    prefix = "EXPLAIN QUERY PLAN " if db.dialect == "sqlite" else "EXPLAIN (ANALYZE, COSTS OFF) "
    async with db.engine.connect() as connection:
        for statement, params in statements:
            print("   ", " ".join(statement.split())[:300])
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            if db.dialect == "sqlite":
                cursor = await driver.execute(prefix + statement, params)
                for row in await cursor.fetchall():
                    print("      ", row[-1])
            else:
                for row in await driver.fetch(prefix + statement, *params):
                    print("      ", row[0])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "sqlite:///./blog.db")
    db = Database.from_url(url)
    try:
        async with db.session() as session:
            posts = (await session.execute(text("SELECT count(*) FROM posts"))).scalar()
        print(f"{db.dialect}: {posts} posts; median / slowest of {args.repeat} runs, in ms")
        print(f"  {'search':<18} {'page':>14} {'totalCount':>14} {'both':>14} {'cpu':>6}  matches")
        for search in SEARCHES:
            post_filter = queries.PostFilter(search=search)

            async def page(post_filter: queries.PostFilter = post_filter) -> None:
                await queries.list_posts(db, None, post_filter, queries.PageArguments(first=20))

            async def count(post_filter: queries.PostFilter = post_filter) -> None:
                await queries.count_posts(db, None, post_filter)

            async def both(post_filter: queries.PostFilter = post_filter) -> None:
                paging = queries.PageArguments(first=20)  # what `posts { totalCount }` reads
                listed = await queries.list_posts(db, None, post_filter, paging)
                await listed.count()

            timings = [await _time(run, args.repeat) for run in (page, count, both)]
            matches = await queries.count_posts(db, None, post_filter)
            cells = " ".join(f"{median:6.1f} /{slowest:6.1f}" for median, slowest, _ in timings)
            print(f"  {search:<18} {cells} {timings[2][2]:6.1f}  {matches}")
            if args.explain:
                await _explain(db, search)
    finally:
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
