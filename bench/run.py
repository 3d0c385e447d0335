"""blog_graphql beside PostGraphile 5 on the same seeded PostgreSQL database.

    uv run python -m bench.run [--quick] [--duration S] [--repeats N] [--queries q1,q4]
                               [--processes 1,2] [--viewer anonymous,signed-in,revalidating]
                               [--response-cache on,off]

Seeds the database once, installs PostGraphile (and Node 22) into ~/.cache/blog_graphql-bench,
counts SQL statements per request behind a counting proxy, checks that every system
returns the same values, then times each query with wrk for each viewer at each
concurrency, the systems interleaved and rotated over the rounds; prints medians, with
req/s and CPU per request as ratios to PostGraphile run in as many processes as
blog_graphql has workers, and writes them as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import time
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from bench import database, phases, report, tools, viewers
from bench.servers import UNCACHED_APP, Server, start_app, start_postgraphile
from bench.workload import load_queries, pick_variables

PROCESS_COUNTS = (1, 2)
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
    parser.add_argument(
        "--processes",
        default=",".join(map(str, PROCESS_COUNTS)),
        help="blog_graphql workers, and as many PostGraphile processes, e.g. 1,2",
    )
    parser.add_argument(
        "--viewer",
        default=",".join(viewers.VIEWERS),
        help="anonymous, signed-in (Authorization: Bearer of a seeded user), or both",
    )
    parser.add_argument(
        "--response-cache",
        default="on,off",
        help="blog_graphql with its response cache on (blog_graphql), off "
        "(blog_graphql-uncached), or both",
    )
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
    modes = {mode.strip() for mode in args.response_cache.split(",") if mode.strip()}
    if not modes or modes - {"on", "off"}:
        parser.error("--response-cache takes on, off or on,off")
    args.systems = systems_for(_integers(args.processes, parser), modes)
    args.viewer = viewers.parse_viewers(args.viewer)
    return args


def systems_for(
    process_counts: Sequence[int], cache_modes: Collection[str] = ("on",)
) -> list[tuple[str, int]]:
    """Each process count's systems: blog_graphql with N workers (its response cache on,
    off, or both as two servers), PostGraphile in N processes."""
    if not process_counts or any(count < 1 for count in process_counts):
        raise SystemExit("--processes takes counts of 1 or more, e.g. 1,2")
    apps = [
        name
        for mode, name in (("on", "blog_graphql"), ("off", UNCACHED_APP))
        if mode in cache_modes
    ]
    return [
        (system, count)
        for count in dict.fromkeys(process_counts)
        for system in (*apps, report.BASELINE)
    ]


def _integers(text: str, parser: argparse.ArgumentParser) -> list[int]:
    try:
        return [int(value) for value in text.split(",") if value.strip()]
    except ValueError:
        parser.error(f"not a list of numbers: {text!r}")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started = datetime.now(UTC)
    wrk = tools.ensure_wrk()
    install = tools.install_postgraphile()
    database.prepare(args.database_url)
    dsn = database.plain_dsn(args.database_url)
    variables = asyncio.run(pick_variables(dsn))
    queries = load_queries([q for q in args.queries.split(",") if q] or None)
    print(f"variables: {variables}")

    # One secret for every server of the run: one login's token works on each blog_graphql,
    # and PostGraphile verifies the same token.
    secret = secrets.token_hex(32)
    app = partial(start_app, redis_url=args.redis_url, secret_key=secret)
    postgraphile = partial(start_postgraphile, install, jwt_secret=secret)
    signed_in_as = asyncio.run(viewers.pick_user(dsn)) if viewers.needs_token(args.viewer) else ""
    token = _sign_in(app, args.database_url, signed_in_as) if signed_in_as else None
    viewer_headers = {viewer: viewers.headers(viewer, token) for viewer in args.viewer}
    requests = phases.write_requests(tools.CACHE / "requests", queries, variables, viewer_headers)
    if token:
        print(f"signed-in requests as {signed_in_as} (Authorization: Bearer, to both systems)")

    systems = {system for system, _ in args.systems}
    starters: dict[str, Callable[[str], Server]] = {
        "blog_graphql": partial(app, 1),
        UNCACHED_APP: partial(app, 1, response_cache=False),
        "postgraphile": partial(postgraphile, 1),
    }
    starters = {system: start for system, start in starters.items() if system in systems}
    in_full = phases.answered_in_full(args.viewer)
    counts = phases.count_statements(
        starters, args.database_url, queries, requests, in_full, args.count_requests
    )
    servers = _start(args.systems, app, postgraphile, args.database_url)
    try:
        phases.check_same_values(servers, queries, requests, in_full)
        phases.add_etags(requests, servers, queries)
        if token:
            phases.check_tokens_verified(servers, queries[0], requests)
        plan = phases.Plan(
            wrk,
            _concurrencies(args.concurrency),
            args.duration,
            args.repeats,
            args.warmup,
            args.viewer,
        )
        samples = phases.measure(plan, servers, queries, requests)
        peak_rss = {(s.system, s.workers): s.peak_rss_mb() for s in servers}
    finally:
        for server in servers:
            server.stop()

    rows = report.summarise(samples, counts.per_request, peak_rss)
    print()
    print(report.format_table(rows))
    print(NOTES + (f"\n{viewers.POSTGRAPHILE_NOTE}." if token else ""))
    output = args.output or tools.CACHE / "results" / f"{started:%Y%m%dT%H%M%SZ}.json"
    report.write_json(
        output,
        rows,
        samples,
        started=started.isoformat(),
        finished=datetime.now(UTC).isoformat(),
        settings={k: str(v) for k, v in vars(args).items()},
        variables=variables,
        signed_in_as=signed_in_as or None,
        notes=NOTES,
        machine={"cpus": os.cpu_count(), "loadavg": os.getloadavg()},
        commit=_git_head(),
        postgraphile=tools.POSTGRAPHILE_VERSION,
        statements=counts.texts,
    )
    print(f"\nresults: {output}")


NOTES = (
    "procs: blog_graphql's uvicorn workers, PostGraphile's node:cluster workers; CPU sums "
    "every process of each (supervisor or primary included).\n"
    "vs PG: over PostGraphile with as many processes (same query, viewer, concurrency); "
    "cpu vs PG above 1 means blog_graphql spends more CPU per request.\n"
    "blog_graphql: ENVIRONMENT=production, JSON access log at INFO (a line per request), "
    "rate limits off. PostGraphile 5 writes no per-request log line.\n"
    "blog_graphql: its response cache on (the default); blog_graphql-uncached: "
    "RESPONSE_CACHE_ENABLED=false, every query executed. revalidating: anonymous with "
    "If-None-Match: the answer's ETag (blog_graphql answers 304; PostGraphile in full)."
)


def _sign_in(app: Callable[..., Server], database_url: str, username: str) -> str:
    """A token from the login mutation of a blog_graphql started for it alone."""
    server = app(1, database_url)
    try:
        return viewers.sign_in(server.url, username)
    finally:
        server.stop()


def _start(
    systems: Sequence[tuple[str, int]],
    app: Callable[..., Server],
    postgraphile: Callable[..., Server],
    url: str,
) -> list[Server]:
    servers: list[Server] = []
    try:
        for system, processes in systems:
            if system == report.BASELINE:
                servers.append(postgraphile(processes, url))
            else:
                servers.append(app(processes, url, response_cache=system != UNCACHED_APP))
    except BaseException:
        for server in servers:
            server.stop()
        raise
    time.sleep(1)  # let the second workers finish starting
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
