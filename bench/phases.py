"""The three phases of a run: count statements, check the answers agree, time with wrk."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.compare import same_values
from bench.database import plain_dsn
from bench.loadgen import lua_script, run_wrk
from bench.report import BASELINE, Sample, SqlCount
from bench.servers import Server
from bench.sqlcount import Counts, counting_proxy
from bench.viewers import REVALIDATING, SIGNED_IN
from bench.workload import Query, body

# Statements a request runs after its response (a pool's reset on return) land late.
SETTLE_SECONDS = 0.5


@dataclass(frozen=True)
class Request:
    """One query as one system is asked it by one viewer: the body, its extra headers
    (a signed-in viewer's Authorization), and a wrk script posting both."""

    body: bytes
    headers: dict[str, str]
    script: Path


Requests = dict[tuple[str, str, str], Request]  # (system, query name, viewer) -> request


def write_requests(
    directory: Path,
    queries: Sequence[Query],
    variables: dict[str, str],
    viewer_headers: dict[str, dict[str, str]],
) -> Requests:
    """Every system's request of every query for every viewer of `viewer_headers`."""
    directory.mkdir(parents=True, exist_ok=True)
    requests: Requests = {}
    for query in queries:
        documents = (
            ("blog_graphql", query.app_document),
            ("blog_graphql-uncached", query.app_document),
            ("postgraphile", query.postgraphile_document),
        )
        for system, document in documents:
            path = directory / f"{query.name}-{system}.json"
            path.write_bytes(body(document, query.variables(variables)))
            for viewer, headers in viewer_headers.items():
                script = directory / f"{query.name}-{system}-{viewer}.lua"
                script.write_text(lua_script(path, headers))
                requests[(system, query.name, viewer)] = Request(path.read_bytes(), headers, script)
    return requests


def add_etags(requests: Requests, servers: Sequence[Server], queries: Sequence[Query]) -> None:
    """The revalidating requests send `If-None-Match` with the ETag of the answer a
    blog_graphql server gives now (every system is sent the same header)."""
    app = next(server for server in servers if server.system != BASELINE)
    for query in queries:
        anonymous = requests.get((app.system, query.name, "anonymous"))
        key = (app.system, query.name, REVALIDATING)
        if key not in requests:
            continue
        source = anonymous or requests[key]
        etag = _response(app, replace(source, headers={})).headers.get("etag", "")
        for (system, name, viewer), request in list(requests.items()):
            if name == query.name and viewer == REVALIDATING:
                headers = {**request.headers, "If-None-Match": etag}
                body_path = request.script.with_suffix(".json")
                body_path.write_bytes(request.body)
                request.script.write_text(lua_script(body_path, headers))
                requests[(system, name, viewer)] = replace(request, headers=headers)


def answered_in_full(viewers: Sequence[str]) -> list[str]:
    """The viewers whose answers carry a body (not a 304): those the checks compare."""
    return [viewer for viewer in viewers if viewer != REVALIDATING]


def _response(server: Server, request: Request) -> httpx.Response:
    return httpx.post(
        server.url,
        content=request.body,
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            **request.headers,
        },
        timeout=30,
    )


def post(server: Server, request: Request) -> dict[str, Any]:
    answer: dict[str, Any] = _response(server, request).json()
    return answer


def proxied(url: str, port: int) -> str:
    """`url` with its host and port replaced by the local proxy's."""
    parts = urlsplit(url)
    user = parts.netloc.rpartition("@")[0]
    netloc = f"{user}@127.0.0.1:{port}" if user else f"127.0.0.1:{port}"
    return parts._replace(netloc=netloc).geturl()


@dataclass
class StatementCounts:
    per_request: dict[tuple[str, str, str], SqlCount]  # (system, query, viewer) -> count
    texts: dict[str, dict[str, int]]  # "system query viewer" -> statement text -> times per run


def count_statements(
    start: dict[str, Callable[[str], Server]],
    url: str,
    queries: Sequence[Query],
    requests: Requests,
    viewers: Sequence[str],
    repeat: int,
) -> StatementCounts:
    """Each system once more, alone, behind the counting proxy; `repeat` requests a query
    for each viewer."""
    upstream = urlsplit(plain_dsn(url))
    counts = StatementCounts({}, {})
    with counting_proxy(upstream.hostname or "127.0.0.1", upstream.port or 5432) as proxy:
        for system, starter in start.items():
            server = starter(proxied(url, proxy.port))
            try:
                for query, viewer in itertools.product(queries, viewers):
                    request = requests[(system, query.name, viewer)]
                    post(server, request)  # connections and prepared statements warm
                    time.sleep(SETTLE_SECONDS)
                    mark = proxy.log.snapshot()
                    for _ in range(repeat):
                        post(server, request)
                    time.sleep(SETTLE_SECONDS)
                    seen = Counts.of(proxy.log.since(mark))
                    counts.per_request[(system, query.name, viewer)] = SqlCount(
                        seen.statements / repeat, seen.transaction_control / repeat
                    )
                    texts = dict(seen.texts.most_common())
                    counts.texts[f"{system} {query.name} {viewer}"] = texts
            finally:
                server.stop()
    return counts


def baseline_of(server: Server, servers: Sequence[Server]) -> Server | None:
    """The PostGraphile server with as many processes as `server`: what it is compared to."""
    return next(
        (
            other
            for other in servers
            if other.system == BASELINE and other.workers == server.workers
        ),
        None,
    )


def check_same_values(
    servers: Sequence[Server],
    queries: Sequence[Query],
    requests: Requests,
    viewers: Sequence[str],
) -> None:
    """Every blog_graphql server must answer what its PostGraphile answers, for every
    viewer; stop loudly if not."""
    for query, viewer in itertools.product(queries, viewers):
        for server in servers:
            baseline = baseline_of(server, servers)
            if server.system == BASELINE or baseline is None:
                continue
            expected = post(baseline, requests[(BASELINE, query.name, viewer)])
            answer = post(server, requests[(server.system, query.name, viewer)])
            difference = same_values(answer, expected)
            if difference:
                raise SystemExit(
                    f"{query.name} ({viewer}): {server.label} and {baseline.label} differ: "
                    f"{difference}"
                )
        print(f"{query.name} ({viewer}): same values from every system")


def check_tokens_verified(servers: Sequence[Server], query: Query, requests: Requests) -> None:
    """Every system must refuse a signed-in request whose token's signature is broken:
    else it is not checking the token, and its signed-in figures would flatter it."""
    for server in servers:
        signed_in = requests[(server.system, query.name, SIGNED_IN)]
        forged = replace(signed_in, headers=forged_headers(signed_in.headers))
        if not post(server, forged).get("errors"):
            raise SystemExit(f"{server.label} accepted a forged token")
    print("signed-in: every system refuses a forged token")


def forged_headers(headers: dict[str, str]) -> dict[str, str]:
    """`headers` with the bearer token's signature changed: its first character, which
    (unlike the last) carries no padding bits a decoder would ignore."""
    token = headers["Authorization"].removeprefix("Bearer ")
    signed, _, signature = token.rpartition(".")
    first = "A" if signature[0] != "A" else "B"
    return {**headers, "Authorization": f"Bearer {signed}.{first}{signature[1:]}"}


@dataclass(frozen=True)
class Plan:
    wrk: str
    concurrencies: Sequence[int]
    seconds: int
    rounds: int
    warmup_seconds: int
    viewers: Sequence[str]


def measure(
    plan: Plan, servers: Sequence[Server], queries: Sequence[Query], requests: Requests
) -> list[Sample]:
    """Rounds of (query, viewer, concurrency, system), the systems' order rotating each
    round."""
    for query, viewer in itertools.product(queries, plan.viewers):
        for server in servers:
            script = requests[(server.system, query.name, viewer)].script
            run_wrk(plan.wrk, server.url, script, max(plan.concurrencies), plan.warmup_seconds)
    samples = []
    for round_ in range(plan.rounds):
        order = [*servers[round_ % len(servers) :], *servers[: round_ % len(servers)]]
        for query, viewer in itertools.product(queries, plan.viewers):
            for concurrency in plan.concurrencies:
                for server in order:
                    run = Run(query, viewer, concurrency, round_)
                    samples.append(_timed(plan, server, run, requests))
    return samples


@dataclass(frozen=True)
class Run:
    query: Query
    viewer: str
    concurrency: int
    round: int


def _timed(plan: Plan, server: Server, run: Run, requests: Requests) -> Sample:
    query, concurrency = run.query, run.concurrency
    script = requests[(server.system, query.name, run.viewer)].script
    cpu_before = server.cpu_seconds()
    result = run_wrk(plan.wrk, server.url, script, concurrency, plan.seconds)
    cpu = server.cpu_seconds() - cpu_before
    if server.process.poll() is not None:
        raise SystemExit(f"{server.label} exited during {query.name}; see {server.log}")
    if result.status_errors:
        raise SystemExit(
            f"{server.label} {query.name} {run.viewer} c={concurrency} failed: {result}"
        )
    sample = Sample(
        system=server.system,
        workers=server.workers,
        query=query.name,
        viewer=run.viewer,
        concurrency=concurrency,
        round=run.round,
        requests_per_second=result.requests_per_second,
        p50_ms=result.p50_ms,
        p99_ms=result.p99_ms,
        cpu_ms_per_request=cpu * 1000 / result.requests if result.requests else math.nan,
        requests=result.requests,
        socket_errors=result.socket_errors,
    )
    print(
        f"round {run.round + 1} {query.name} {run.viewer:<9} c={concurrency:<3} "
        f"{server.label:<15} "
        f"{sample.requests_per_second:7.0f} req/s  p99 {sample.p99_ms:6.1f} ms  "
        f"cpu {sample.cpu_ms_per_request:5.2f} ms/req",
        flush=True,
    )
    return sample
