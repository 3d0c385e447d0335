"""The three phases of a run: count statements, check the answers agree, time with wrk."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.compare import same_values
from bench.database import plain_dsn
from bench.loadgen import lua_script, run_wrk
from bench.report import Sample, SqlCount
from bench.servers import Server
from bench.sqlcount import Counts, counting_proxy
from bench.workload import Query, body

# Statements a request runs after its response (a pool's reset on return) land late.
SETTLE_SECONDS = 0.5


@dataclass(frozen=True)
class Request:
    """One query as one system is asked it: the body, and a wrk script posting it."""

    body: bytes
    script: Path


Requests = dict[tuple[str, str], Request]  # (system, query name) -> request


def write_requests(
    directory: Path, queries: Sequence[Query], variables: dict[str, str]
) -> Requests:
    directory.mkdir(parents=True, exist_ok=True)
    requests: Requests = {}
    for query in queries:
        documents = (
            ("blog_graphql", query.app_document),
            ("postgraphile", query.postgraphile_document),
        )
        for system, document in documents:
            path = directory / f"{query.name}-{system}.json"
            path.write_bytes(body(document, query.variables(variables)))
            script = path.with_suffix(".lua")
            script.write_text(lua_script(path))
            requests[(system, query.name)] = Request(path.read_bytes(), script)
    return requests


def post(server: Server, request: Request) -> dict[str, Any]:
    response = httpx.post(
        server.url,
        content=request.body,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        timeout=30,
    )
    answer: dict[str, Any] = response.json()
    return answer


def proxied(url: str, port: int) -> str:
    """`url` with its host and port replaced by the local proxy's."""
    parts = urlsplit(url)
    user = parts.netloc.rpartition("@")[0]
    netloc = f"{user}@127.0.0.1:{port}" if user else f"127.0.0.1:{port}"
    return parts._replace(netloc=netloc).geturl()


@dataclass
class StatementCounts:
    per_request: dict[tuple[str, str], SqlCount]
    texts: dict[str, dict[str, int]]  # "system query" -> statement text -> times per run


def count_statements(
    start: dict[str, Callable[[str], Server]],
    url: str,
    queries: Sequence[Query],
    requests: Requests,
    repeat: int,
) -> StatementCounts:
    """Each system once more, alone, behind the counting proxy; `repeat` requests a query."""
    upstream = urlsplit(plain_dsn(url))
    counts = StatementCounts({}, {})
    with counting_proxy(upstream.hostname or "127.0.0.1", upstream.port or 5432) as proxy:
        for system, starter in start.items():
            server = starter(proxied(url, proxy.port))
            try:
                for query in queries:
                    request = requests[(system, query.name)]
                    post(server, request)  # connections and prepared statements warm
                    time.sleep(SETTLE_SECONDS)
                    mark = proxy.log.snapshot()
                    for _ in range(repeat):
                        post(server, request)
                    time.sleep(SETTLE_SECONDS)
                    seen = Counts.of(proxy.log.since(mark))
                    counts.per_request[(system, query.name)] = SqlCount(
                        seen.statements / repeat, seen.transaction_control / repeat
                    )
                    counts.texts[f"{system} {query.name}"] = dict(seen.texts.most_common())
            finally:
                server.stop()
    return counts


def check_same_values(
    servers: Sequence[Server], queries: Sequence[Query], requests: Requests
) -> None:
    """Every blog_graphql server must answer what PostGraphile answers; stop loudly if not."""
    baseline = next(server for server in servers if server.system == "postgraphile")
    for query in queries:
        expected = post(baseline, requests[("postgraphile", query.name)])
        for server in servers:
            if server is baseline:
                continue
            answer = post(server, requests[(server.system, query.name)])
            difference = same_values(answer, expected)
            if difference:
                raise SystemExit(
                    f"{query.name}: {server.label} and postgraphile differ: {difference}"
                )
        print(f"{query.name}: same values from every system")


@dataclass(frozen=True)
class Plan:
    wrk: str
    concurrencies: Sequence[int]
    seconds: int
    rounds: int
    warmup_seconds: int


def measure(
    plan: Plan, servers: Sequence[Server], queries: Sequence[Query], requests: Requests
) -> list[Sample]:
    """Rounds of (query, concurrency, system), the systems' order rotating each round."""
    for query in queries:
        for server in servers:
            script = requests[(server.system, query.name)].script
            run_wrk(plan.wrk, server.url, script, max(plan.concurrencies), plan.warmup_seconds)
    samples = []
    for round_ in range(plan.rounds):
        order = [*servers[round_ % len(servers) :], *servers[: round_ % len(servers)]]
        for query in queries:
            for concurrency in plan.concurrencies:
                for server in order:
                    samples.append(_timed(plan, server, query, concurrency, round_, requests))
    return samples


def _timed(
    plan: Plan, server: Server, query: Query, concurrency: int, round_: int, requests: Requests
) -> Sample:
    script = requests[(server.system, query.name)].script
    cpu_before = server.cpu_seconds()
    result = run_wrk(plan.wrk, server.url, script, concurrency, plan.seconds)
    cpu = server.cpu_seconds() - cpu_before
    if server.process.poll() is not None:
        raise SystemExit(f"{server.label} exited during {query.name}; see {server.log}")
    if result.status_errors:
        raise SystemExit(f"{server.label} {query.name} c={concurrency} failed: {result}")
    sample = Sample(
        system=server.system,
        workers=server.workers,
        query=query.name,
        concurrency=concurrency,
        round=round_,
        requests_per_second=result.requests_per_second,
        p50_ms=result.p50_ms,
        p99_ms=result.p99_ms,
        cpu_ms_per_request=cpu * 1000 / result.requests if result.requests else math.nan,
        requests=result.requests,
        socket_errors=result.socket_errors,
    )
    print(
        f"round {round_ + 1} {query.name} c={concurrency:<2} {server.label:<15} "
        f"{sample.requests_per_second:7.0f} req/s  p99 {sample.p99_ms:6.1f} ms  "
        f"cpu {sample.cpu_ms_per_request:5.2f} ms/req",
        flush=True,
    )
    return sample
