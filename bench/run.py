"""blog_graphql beside PostGraphile 5 on the same seeded PostgreSQL database.

    uv run python -m bench.run [--quick] [--duration S] [--repeats N] [--queries q1,q4]
                               [--systems blog_graphql/1,blog_graphql/2,postgraphile]

Seeds the database once, installs PostGraphile (and Node 22) into ~/.cache/blog_graphql-bench,
counts SQL statements per request behind a counting proxy, checks that every system
returns the same values, then times each query with wrk at each concurrency, the systems
interleaved and rotated over the rounds; prints medians and writes them as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from bench import database, phases, report, tools
from bench.servers import Server, start_app, start_postgraphile
from bench.workload import load_queries, pick_variables

SYSTEMS = ("blog_graphql/1", "blog_graphql/2", "postgraphile")
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/5"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE)
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS),
        help="blog_graphql's REDIS_URL (serve --workers 2 needs one)",
    )
    parser.add_argument("--duration", type=int, default=4, help="seconds per timed run")
    parser.add_argument("--repeats", type=int, default=3, help="rounds over every system")
    parser.add_argument("--warmup", type=int, default=1, help="seconds per query and system")
    parser.add_argument("--concurrency", default="1,32")
    parser.add_argument("--queries", default="", help="e.g. q1,q4 (default: all six)")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument(
        "--count-requests",
        type=int,
        default=10,
        help="requests per query in the statement-counting phase",
    )
    parser.add_argument("--quick", action="store_true", help="a short smoke run (1 s, 1 round)")
    parser.add_argument("--output", type=Path, help="JSON results (default: in the cache)")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.repeats, args.warmup = 1, 1, 1
    args.systems = _listed(args.systems, SYSTEMS)
    if "postgraphile" not in args.systems:
        parser.error("--systems must include postgraphile: it is what the others compare to")
    return args


def _listed(text: str, known: Sequence[str]) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = set(names) - set(known)
    if unknown:
        raise SystemExit(f"unknown systems {sorted(unknown)}; choose from {', '.join(known)}")
    return names


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started = datetime.now(UTC)
    wrk = tools.ensure_wrk()
    install = tools.install_postgraphile()
    database.prepare(args.database_url)
    variables = asyncio.run(pick_variables(database.plain_dsn(args.database_url)))
    queries = load_queries([q for q in args.queries.split(",") if q] or None)
    requests = phases.write_requests(tools.CACHE / "requests", queries, variables)
    print(f"variables: {variables}")

    app = partial(start_app, redis_url=args.redis_url)
    starters: dict[str, Callable[[str], Server]] = {
        "blog_graphql": partial(app, 1),
        "postgraphile": partial(start_postgraphile, install),
    }
    counts = phases.count_statements(
        starters, args.database_url, queries, requests, args.count_requests
    )
    servers = _start(args.systems, args.database_url, args.redis_url, install)
    try:
        phases.check_same_values(servers, queries, requests)
        plan = phases.Plan(
            wrk, _concurrencies(args.concurrency), args.duration, args.repeats, args.warmup
        )
        samples = phases.measure(plan, servers, queries, requests)
        peak_rss = {(s.system, s.workers): s.peak_rss_mb() for s in servers}
    finally:
        for server in servers:
            server.stop()

    rows = report.summarise(samples, counts.per_request, peak_rss)
    print()
    print(report.format_table(rows))
    output = args.output or tools.CACHE / "results" / f"{started:%Y%m%dT%H%M%SZ}.json"
    report.write_json(
        output,
        rows,
        samples,
        started=started.isoformat(),
        finished=datetime.now(UTC).isoformat(),
        settings={k: str(v) for k, v in vars(args).items()},
        variables=variables,
        machine={"cpus": os.cpu_count(), "loadavg": os.getloadavg()},
        commit=_git_head(),
        postgraphile=tools.POSTGRAPHILE_VERSION,
        statements=counts.texts,
    )
    print(f"\nresults: {output}")


def _start(systems: Sequence[str], url: str, redis_url: str, install: Path) -> list[Server]:
    servers: list[Server] = []
    try:
        for name in systems:
            if name == "postgraphile":
                servers.append(start_postgraphile(install, url))
            else:
                servers.append(start_app(int(name.split("/")[1]), url, redis_url))
    except BaseException:
        for server in servers:
            server.stop()
        raise
    time.sleep(1)  # let uvicorn's second worker finish starting
    return servers


def _concurrencies(text: str) -> list[int]:
    return [int(value) for value in text.split(",") if value.strip()]


def _git_head() -> str:
    completed = subprocess.run(
        ["git", "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent,
    )
    return completed.stdout.strip()


if __name__ == "__main__":
    main()
