"""`blog-graphql worker --processes 2`: job log lines carry the request id; metrics add up.

Real worker processes on the real Redis send real emails; the test plays the API that
queued them inside a request.
"""

import json
from typing import Any

import httpx

from blog_graphql.emails.models import SENT
from blog_graphql.observability.request_info import bound_request_id
from tests.conftest import requires_redis
from tests.emails.stand_in import sign_up, wait_for_statuses
from tests.emails.test_redis_worker import drained
from tests.live_server import free_port
from tests.live_worker import live_worker

pytestmark = requires_redis
TOKEN = "metrics-token-0123456789"
USERS = ("ada", "bob", "cy", "dee")


def job_lines(lines: list[str]) -> list[dict[str, Any]]:
    parsed = (json.loads(line) for line in lines if line.startswith("{"))
    return [line for line in parsed if line.get("event") == "job"]


async def test_worker_processes_log_each_job_with_its_request_and_share_metrics(
    db, smtp_server, use_redis, redis_url, worker_env, tmp_path
):
    broker = use_redis(redis_url)
    port = free_port()
    env = worker_env() | {
        "LOG_FORMAT": "json", "WORKER_HTTP_PORT": str(port), "METRICS_TOKEN": TOKEN,
    }  # fmt: skip
    with live_worker(env, tmp_path, "--processes", "2", "--threads", "2") as worker:
        for name in USERS:
            with bound_request_id(f"request-{name}-0001"):
                await sign_up(db, name)  # its email is handed over inside "the request"
        await wait_for_statuses(db, [SENT] * len(USERS))
        await drained(broker)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            health = await http.get("/healthz")
            scraped = await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        lines = job_lines(worker.lines)

    assert health.status_code == 200
    sent = 'blog_graphql_jobs_total{actor="send_email",outcome="succeeded"} 4.0'
    assert sent in scraped.text
    assert sorted(line["request_id"] for line in lines) == [f"request-{n}-0001" for n in USERS]
    assert {(line["actor"], line["outcome"], line["retries"]) for line in lines} == {
        ("send_email", "succeeded", 0)
    }
    assert len({line["message_id"] for line in lines}) == len(USERS)
    assert len({line["pid"] for line in lines}) <= 2
    assert len(smtp_server.received) == len(USERS)
