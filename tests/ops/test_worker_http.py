"""The worker's HTTP side: a health check for containers and job metrics behind the token."""

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from blog_graphql.http.worker_http import WorkerHTTP
from blog_graphql.observability import metrics
from tests.live_server import free_port

TOKEN = "metrics-token-0123456789"


@contextmanager
def worker_http(token: str | None) -> Iterator[str]:
    port = free_port()
    server = WorkerHTTP("127.0.0.1", port, token).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def test_health_answers_and_metrics_need_the_token():
    metrics.job_finished("worker_http_ops", "succeeded", 0.25)
    with worker_http(TOKEN) as url:
        health = httpx.get(f"{url}/healthz")
        anonymous = httpx.get(f"{url}/metrics")
        scraped = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        unknown = httpx.get(f"{url}/other")

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert anonymous.status_code == 401
    assert scraped.status_code == 200
    assert 'blog_graphql_jobs_total{actor="worker_http_ops",outcome="succeeded"}' in scraped.text
    assert unknown.status_code == 404


def test_without_a_token_there_are_no_metrics():
    with worker_http(None) as url:
        response = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404
