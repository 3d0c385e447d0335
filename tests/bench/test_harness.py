"""The benchmark harness's own parts: wrk scripts, answers compared, the table, counting."""

from __future__ import annotations

import asyncio
import math
import os
import signal
import struct
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg  # type: ignore[import-untyped]
import pytest

from bench.compare import first_difference, normalise, same_values
from bench.database import plain_dsn
from bench.loadgen import RESULT_MARK, lua_script, lua_string, parse_wrk_output
from bench.phases import answered_in_full, forged_headers, proxied
from bench.report import Sample, SqlCount, format_table, summarise
from bench.run import parse_args, systems_for
from bench.servers import app_environment, descendants, process_cpu_seconds, tree_cpu_seconds
from bench.sqlcount import Counts, FrontendParser, StatementLog, counting_proxy
from bench.viewers import headers, parse_viewers
from bench.workload import load_queries
from blog_graphql.config.settings import Settings
from tests.conftest import TEST_DATABASE_URL, requires_postgres

APP_FEED = {
    "posts": {
        "edges": [
            {
                "node": {
                    "title": "Hello",
                    "publishedAt": "2025-01-01T01:07:00+00:00",
                    "author": {"username": "ada"},
                    "tags": [{"name": "Async"}, {"name": "Python"}],
                    "commentCount": 2,
                    "comments": {"edges": [{"node": {"content": "Nice"}}]},
                }
            }
        ]
    }
}
POSTGRAPHILE_FEED = {
    "posts": {
        "edges": [
            {
                "node": {
                    "title": "Hello",
                    "publishedAt": "2025-01-01T01:07:00.000000+00:00",
                    "author": {"username": "ada"},
                    "tags": {
                        "nodes": [
                            {"tagByTagId": {"name": "Python"}},
                            {"tagByTagId": {"name": "Async"}},
                        ]
                    },
                    "commentCount": {"totalCount": 2},
                    "comments": {"edges": [{"node": {"content": "Nice"}}]},
                }
            }
        ]
    }
}


def test_lua_string_uses_a_long_bracket_its_text_cannot_close():
    assert lua_string("/tmp/q1.json") == "[[/tmp/q1.json]]"
    assert lua_string("/tmp/a]]b.json") == "[=[/tmp/a]]b.json]=]"
    assert lua_string("/a]]b]=]c") == "[==[/a]]b]=]c]==]"


def test_lua_script_posts_the_file_and_reports_one_json_line():
    script = lua_script(Path("/tmp/bodies/q1-blog_graphql.json"))

    assert 'io.open([[/tmp/bodies/q1-blog_graphql.json]], "rb")' in script
    assert 'wrk.method = "POST"' in script
    assert 'wrk.headers["Content-Type"] = "application/json"' in script
    assert "function done(summary, latency, requests)" in script
    assert RESULT_MARK in script and "latency:percentile(99)" in script


def test_a_signed_in_script_sends_the_bearer_token():
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIzIn0.c2ln"

    script = lua_script(Path("/tmp/q1.json"), headers("signed-in", token))

    # Spaced: `wrk.headers[[[Authorization]]]` would be a call, not an index.
    assert f"wrk.headers[ [[Authorization]] ] = [[Bearer {token}]]\n" in script
    assert "Authorization" not in lua_script(Path("/tmp/q1.json"), headers("anonymous", None))


def test_viewers_are_anonymous_and_signed_in_with_a_token():
    assert headers("anonymous", None) == {}
    assert headers("signed-in", "abc") == {"Authorization": "Bearer abc"}
    with pytest.raises(ValueError, match="need a token"):
        headers("signed-in", None)
    assert parse_viewers("anonymous, signed-in") == ["anonymous", "signed-in"]
    with pytest.raises(SystemExit, match="unknown viewers"):
        parse_viewers("admin")


def test_a_forged_token_differs_only_in_its_signature():
    real = {"Authorization": "Bearer head.claims.sigQ", "X-Other": "kept"}

    forged = forged_headers(real)

    assert forged == {"Authorization": "Bearer head.claims.AigQ", "X-Other": "kept"}
    assert forged_headers({"Authorization": "Bearer h.c.Ab"})["Authorization"] == "Bearer h.c.Bb"


def test_wrk_output_is_read_from_the_result_line():
    stdout = (
        "Running 4s test @ http://127.0.0.1:8000/graphql\n"
        f'{RESULT_MARK}{{"requests": 800, "duration_us": 4000000, "socket_errors": 1, '
        '"status_errors": 0, "p50_us": 2500, "p99_us": 12000}\n'
    )

    result = parse_wrk_output(stdout)

    assert result.requests_per_second == 200
    assert (result.p50_ms, result.p99_ms) == (2.5, 12.0)
    assert (result.socket_errors, result.status_errors) == (1, 0)
    with pytest.raises(ValueError, match="no wrk result"):
        parse_wrk_output("Running 4s test\n")


def test_postgraphile_shapes_normalise_to_the_app_shape():
    assert normalise(POSTGRAPHILE_FEED) == normalise(APP_FEED)
    assert same_values({"data": APP_FEED}, {"data": POSTGRAPHILE_FEED}) is None


def test_a_different_value_is_reported_with_its_path():
    changed = {"posts": {"edges": [{"node": {**APP_FEED["posts"]["edges"][0]["node"]}}]}}
    changed["posts"]["edges"][0]["node"]["commentCount"] = 3

    difference = same_values({"data": changed}, {"data": POSTGRAPHILE_FEED})

    assert difference == "data.posts[0].commentCount: 3 != 2"


def test_order_matters_except_for_a_posts_tags():
    a, b = {"title": "A", "tags": []}, {"title": "B", "tags": []}
    newest_first = {"posts": {"edges": [{"node": a}, {"node": b}]}}
    oldest_first = {"posts": {"nodes": [b, a]}}

    assert first_difference(normalise(newest_first), normalise(oldest_first)) == (
        "data.posts[0].title: 'A' != 'B'"
    )
    # The tag list itself (Q4) is ordered by the server: its order is compared.
    tag_list = normalise({"tags": [{"name": "B"}, {"name": "A"}]})
    assert first_difference(
        tag_list, normalise({"tags": {"nodes": [{"name": "A"}, {"name": "B"}]}})
    )


def test_missing_items_and_errors_are_differences():
    one = {"tags": [{"name": "A"}]}
    assert first_difference(normalise(one), normalise({"tags": []})) == "data.tags: 1 items != 0"
    failed = {"errors": [{"message": "boom"}], "data": None}
    assert "blog_graphql answered" in (same_values(failed, {"data": one}) or "")


def test_timestamps_compare_as_moments():
    assert normalise("2025-01-01T02:07:00+01:00") == normalise("2025-01-01T01:07:00.000000+00:00")
    assert normalise("2025-01-01 is not a timestamp") == "2025-01-01 is not a timestamp"


def sample(
    system: str,
    workers: int,
    rps: float,
    round_: int = 0,
    requests: int = 100,
    cpu_ms: float = 3.0,
    viewer: str = "anonymous",
) -> Sample:
    return Sample(system, workers, "q1", viewer, 32, round_, rps, 2.0, 9.0, cpu_ms, requests, 0)


def test_summary_takes_medians_and_ratios_to_postgraphile():
    samples = [
        *(sample("postgraphile", 2, rps, n) for n, rps in enumerate((100, 300, 200))),
        *(sample("blog_graphql", 2, rps, n) for n, rps in enumerate((50, 150, 90))),
    ]

    rows = summarise(
        samples, {("blog_graphql", "q1", "anonymous"): SqlCount(6, 2)}, {("blog_graphql", 2): 150}
    )

    postgraphile, app = rows
    assert (postgraphile.system, postgraphile.requests_per_second, postgraphile.ratio) == (
        "postgraphile", 200, 1.0,
    )  # fmt: skip
    assert (app.requests_per_second, app.ratio, app.peak_rss_mb) == (90, 0.45, 150)
    assert app.sql == SqlCount(6, 2)


def test_ratios_pair_runs_with_the_same_process_count_and_viewer():
    samples = [
        sample("postgraphile", 1, 100, cpu_ms=2.0),
        sample("postgraphile", 2, 400, cpu_ms=4.0),
        sample("blog_graphql", 1, 50, cpu_ms=5.0),
        sample("blog_graphql", 2, 100, cpu_ms=5.0),
        sample("postgraphile", 2, 500, cpu_ms=1.0, viewer="signed-in"),
        sample("blog_graphql", 2, 250, cpu_ms=3.0, viewer="signed-in"),
        sample("blog_graphql", 1, 80, cpu_ms=3.0, viewer="signed-in"),  # no postgraphile/1
    ]

    rows = {(r.system, r.workers, r.viewer): r for r in summarise(samples, {}, {})}
    ratios = {key: (row.ratio, row.cpu_ratio) for key, row in rows.items()}

    assert ratios["blog_graphql", 1, "anonymous"] == (0.5, 2.5)
    assert ratios["blog_graphql", 2, "anonymous"] == (0.25, 1.25)
    assert ratios["blog_graphql", 2, "signed-in"] == (0.5, 3.0)
    assert ratios["blog_graphql", 1, "signed-in"] == (None, None)
    assert rows["postgraphile", 2, "anonymous"].cpu_ratio == 1.0
    # Each pair side by side: PostGraphile first, anonymous before signed-in.
    order = [(r.viewer, r.workers, r.system) for r in summarise(samples, {}, {})]
    assert order == [
        ("anonymous", 1, "postgraphile"), ("anonymous", 1, "blog_graphql"),
        ("anonymous", 2, "postgraphile"), ("anonymous", 2, "blog_graphql"),
        ("signed-in", 1, "blog_graphql"),
        ("signed-in", 2, "postgraphile"), ("signed-in", 2, "blog_graphql"),
    ]  # fmt: skip


def test_each_process_count_runs_blog_graphql_beside_as_many_postgraphile_processes():
    assert systems_for([1, 2]) == [
        ("blog_graphql", 1), ("postgraphile", 1), ("blog_graphql", 2), ("postgraphile", 2),
    ]  # fmt: skip
    assert systems_for([2, 2]) == [("blog_graphql", 2), ("postgraphile", 2)]
    with pytest.raises(SystemExit, match="1 or more"):
        systems_for([0])
    args = parse_args(["--processes", "2", "--viewer", "signed-in", "--response-cache", "on"])
    assert (args.systems, args.viewer) == (
        [("blog_graphql", 2), ("postgraphile", 2)],
        ["signed-in"],
    )
    defaults = parse_args([])
    assert [count for _, count in defaults.systems] == [1, 1, 1, 2, 2, 2]
    assert defaults.viewer == ["anonymous", "signed-in", "revalidating"]


def test_the_response_cache_is_a_dimension_of_its_own():
    assert systems_for([2], {"on", "off"}) == [
        ("blog_graphql", 2), ("blog_graphql-uncached", 2), ("postgraphile", 2),
    ]  # fmt: skip
    assert parse_args(["--processes", "1", "--response-cache", "off"]).systems == [
        ("blog_graphql-uncached", 1), ("postgraphile", 1),
    ]  # fmt: skip
    with pytest.raises(SystemExit):
        parse_args(["--response-cache", "sometimes"])
    assert answered_in_full(["anonymous", "revalidating"]) == ["anonymous"]


def test_blog_graphql_runs_with_production_settings_and_its_access_log(monkeypatch):
    env = app_environment("postgresql://h/bench", "redis://h/5", "k" * 64)
    for name in ("ENVIRONMENT", "LOG_FORMAT", "LOG_LEVEL", "RATE_LIMIT_ENABLED"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.setenv("SECRET_KEY", env["SECRET_KEY"])
    monkeypatch.setenv("ACCESS_TOKEN_EXPIRE_MINUTES", env["ACCESS_TOKEN_EXPIRE_MINUTES"])
    monkeypatch.setenv("DATABASE_POOL_SIZE", env["DATABASE_POOL_SIZE"])

    settings = Settings()

    assert settings.is_production and settings.log_format_resolved == "json"
    assert settings.log_level == "INFO"  # the access log writes its line per request at INFO
    assert settings.rate_limit_enabled is False
    assert settings.access_token_expire_minutes >= 24 * 60  # one login outlives the run
    assert settings.database_pool_size == 10  # as PostGraphile's pool, and all fit in 100


def test_descendants_walk_the_whole_tree_from_the_parent_map():
    # primary 10 with workers 11 and 12; 12 started 13; 20 is another tree.
    parents = {10: 1, 11: 10, 12: 10, 13: 12, 20: 1, 21: 20}

    assert sorted(descendants(parents, 10)) == [10, 11, 12, 13]
    assert descendants(parents, 13) == [13]


BUSY_CHILD = """
import subprocess, sys
code = (
    "import sys, time\\n"
    "end = time.process_time() + 0.3\\n"
    "while time.process_time() < end: pass\\n"
    "print('burnt', flush=True)\\n"
    "time.sleep(60)"
)
subprocess.run([sys.executable, "-c", code])
"""


def test_tree_cpu_sums_the_childrens_cpu_with_the_parents():
    """A parent that only waits, like node:cluster's primary, and a child that works."""
    with subprocess.Popen(
        [sys.executable, "-c", BUSY_CHILD],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as parent:
        try:
            assert parent.stdout is not None and parent.stdout.readline() == "burnt\n"
            own, tree = process_cpu_seconds(parent.pid), tree_cpu_seconds(parent.pid)
        finally:
            os.killpg(parent.pid, signal.SIGKILL)

    assert tree >= own + 0.29  # the child's 0.3 s of CPU, on top of its parent's


def test_a_run_with_no_finished_request_has_no_latency():
    rows = summarise([sample("postgraphile", 1, 0, requests=0)], {}, {})

    assert rows[0].requests_per_second == 0 and math.isnan(rows[0].p99_ms)
    assert format_table(rows).splitlines()[2].split()[6:8] == ["-", "-"]


def test_table_has_one_aligned_line_per_row():
    rows = summarise(
        [sample("postgraphile", 1, 200), sample("blog_graphql", 1, 50)],
        {("blog_graphql", "q1", "anonymous"): SqlCount(6, 2.5)},
        {("postgraphile", 1): 264.4},
    )

    lines = format_table(rows).splitlines()

    assert lines[0].split() == [
        "system", "procs", "query", "viewer", "conc", "req/s", "p50", "ms", "p99", "ms",
        "sql/req", "tx/req", "cpu", "ms/req", "peak", "RSS", "MB", "req/s", "vs", "PG",
        "cpu", "vs", "PG",
    ]  # fmt: skip
    assert set(lines[1]) == {"-", " "}
    assert lines[2].split() == [
        "postgraphile", "1", "q1", "anonymous", "32", "200", "2.0", "9.0", "-", "-", "3.00",
        "264", "1.00", "1.00",
    ]  # fmt: skip
    assert lines[3].split() == [
        "blog_graphql", "1", "q1", "anonymous", "32", "50", "2.0", "9.0", "6", "2.50", "3.00",
        "-", "0.25", "1.00",
    ]  # fmt: skip
    assert len({len(line) for line in lines}) == 1


def message(kind: bytes, *fields: bytes) -> bytes:
    body = b"".join(fields)
    return kind + struct.pack("!I", len(body) + 4) + body


def test_the_parser_counts_simple_and_extended_statements():
    log = StatementLog()
    parser = FrontendParser(log)
    ssl_request = struct.pack("!II", 8, 80877103)
    startup = struct.pack("!II", 17, 196608) + b"user\x00pg\x00\x00"
    stream = (
        message(b"Q", b"BEGIN\x00")
        + message(b"P", b"s1\x00", b"SELECT  $1\x00", b"\x00\x00")
        + message(b"B", b"\x00", b"s1\x00", b"\x00\x00\x00\x00\x00\x00")
        + message(b"E", b"\x00", b"\x00\x00\x00\x00")
        + message(b"S")
        + message(b"Q", b"COMMIT\x00")
    )

    assert parser.feed(ssl_request) == (b"", b"N")
    forwarded = b""
    for byte in startup + stream:  # messages split anywhere still parse
        forwarded += parser.feed(bytes([byte]))[0]

    assert forwarded == startup + stream
    counts = Counts.of(log.since(0))
    assert (counts.statements, counts.transaction_control) == (1, 2)
    assert counts.texts["SELECT $1"] == 1


def test_proxied_urls_keep_user_database_and_scheme():
    url = "postgresql+asyncpg://postgres:pw@db.example:6543/bench"
    assert proxied(url, 7000) == "postgresql+asyncpg://postgres:pw@127.0.0.1:7000/bench"
    assert plain_dsn(url) == "postgresql://postgres:pw@db.example:6543/bench"


def test_each_query_takes_only_the_variables_it_declares():
    queries = {query.name: query for query in load_queries()}
    values = {"slug": "s", "tag": "t", "search": "w"}

    assert sorted(queries) == ["q1", "q2", "q3", "q4", "q5", "q6"]
    assert queries["q1"].variables(values) == {}
    assert queries["q2"].variables(values) == {"slug": "s"}
    assert queries["q6"].variables(values) == {"search": "w"}


@requires_postgres
def test_the_proxy_counts_what_a_real_client_runs():
    upstream = plain_dsn(str(TEST_DATABASE_URL))

    async def run(url: str) -> None:
        connection = await asyncpg.connect(url)
        try:
            async with connection.transaction():
                assert await connection.fetchval("SELECT $1::int + 1", 41) == 42
            await connection.execute("SELECT 1")
        finally:
            await connection.close()

    parts = urlsplit(upstream)
    with counting_proxy(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
        asyncio.run(run(proxied(upstream, proxy.port)))
        counts = Counts.of(proxy.log.since(0))

    assert counts.texts["SELECT $1::int + 1"] == 1
    assert counts.texts["SELECT 1"] == 1
    assert counts.transaction_control == 2  # BEGIN, COMMIT
