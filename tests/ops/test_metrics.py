"""`/metrics`: private by default, and counting what operators need."""

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, text, update

from blog_graphql.app import create_app
from blog_graphql.config.settings import load_settings
from blog_graphql.emails.models import ENQUEUED, OutboxEmail
from blog_graphql.emails.outbox import queue_email
from blog_graphql.observability import metrics
from blog_graphql.relay.ids import encode_id
from blog_graphql.state import AppState
from tests.conftest import graphql
from tests.factories import create_user

TOKEN = "metrics-token-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"metrics_token": TOKEN})


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scraped(body: str, name: str, **labels) -> float | None:
    for family in text_string_to_metric_families(body):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return found.value
    return None


async def test_metrics_do_not_exist_without_a_configured_token(app_state):
    app_state.settings = app_state.settings.model_copy(update={"metrics_token": None})
    transport = httpx.ASGITransport(app=create_app(state=app_state))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/metrics", headers=BEARER)).status_code == 404


async def test_metrics_need_the_token(client):
    assert (await client.get("/metrics")).status_code == 401
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer " + "x" * 24})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == 'Bearer realm="metrics"'
    response = await client.get("/metrics", headers=BEARER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")


async def test_requests_and_latency_are_counted_by_operation_and_status(client):
    labels = {"path": "/graphql", "operation": "ListTags", "method": "POST", "status": "200"}
    before = sample("blog_graphql_http_requests_total", **labels)
    latency_before = sample(
        "blog_graphql_http_request_duration_seconds_count", path="/graphql", operation="ListTags"
    )

    for _ in range(3):
        await client.post("/graphql", json={"query": "query ListTags { tags { name } }"})

    assert sample("blog_graphql_http_requests_total", **labels) == before + 3
    latency_count = sample(
        "blog_graphql_http_request_duration_seconds_count", path="/graphql", operation="ListTags"
    )
    assert latency_count == latency_before + 3
    body = (await client.get("/metrics", headers=BEARER)).text
    assert scraped(body, "blog_graphql_http_requests_total", **labels) == before + 3


async def test_errors_are_counted_by_code(client):
    before = {
        code: sample("blog_graphql_graphql_errors_total", code=code)
        for code in ("GRAPHQL_VALIDATION_FAILED", "UNAUTHENTICATED")
    }
    await client.post("/graphql", json={"query": "{ nope }"})
    await client.post("/graphql", json={"query": "{ a: nope b: nada }"})
    await client.post("/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": "x"})

    after = {code: sample("blog_graphql_graphql_errors_total", code=code) for code in before}
    assert after["GRAPHQL_VALIDATION_FAILED"] == before["GRAPHQL_VALIDATION_FAILED"] + 3
    assert after["UNAUTHENTICATED"] == before["UNAUTHENTICATED"] + 1


async def test_dataloader_batch_sizes_are_observed(client, db):
    users = [await create_user(db) for _ in range(3)]
    fields = " ".join(
        f'u{n}: node(id: "{encode_id("User", user.id)}") {{ id }}' for n, user in enumerate(users)
    )
    count_before = sample("blog_graphql_dataloader_batch_size_count", loader="users")
    sum_before = sample("blog_graphql_dataloader_batch_size_sum", loader="users")

    body = await graphql(client, f"{{ {fields} }}")

    assert len(body["data"]) == 3
    assert sample("blog_graphql_dataloader_batch_size_count", loader="users") == count_before + 1
    assert sample("blog_graphql_dataloader_batch_size_sum", loader="users") == sum_before + 3


async def test_pool_connections_in_use_are_followed(client, db, monkeypatch):
    from blog_graphql.posts import service

    seen = []

    async def list_tags_watching_the_pool(database, _viewer):
        async with database.session() as session:
            await session.execute(text("SELECT 1"))
            seen.append(sample("blog_graphql_db_pool_connections_in_use"))
        return []

    monkeypatch.setattr(service, "list_tags", list_tags_watching_the_pool)
    idle = sample("blog_graphql_db_pool_connections_in_use")

    await graphql(client, "{ tags { name } }")

    assert seen == [idle + 1]
    assert sample("blog_graphql_db_pool_connections_in_use") == idle
    assert sample("blog_graphql_db_pool_connections_open") >= 1


async def test_outbox_backlog_counts_unsent_emails_by_status(client, db):
    async with db.transaction() as session:
        for n in range(3):
            queue_email(
                session,
                template="welcome",
                to=f"u{n}@example.com",
                context={"username": f"u{n}", "token": "t"},
            )
    async with db.transaction() as session:
        first = await session.scalar(select(func.min(OutboxEmail.id)))
        await session.execute(
            update(OutboxEmail).where(OutboxEmail.id == first).values(status=ENQUEUED)
        )

    body = (await client.get("/metrics", headers=BEARER)).text

    assert scraped(body, "blog_graphql_outbox_backlog_up") == 1
    assert scraped(body, "blog_graphql_outbox_backlog", status="pending") == 2
    assert scraped(body, "blog_graphql_outbox_backlog", status="enqueued") == 1
    assert (scraped(body, "blog_graphql_outbox_oldest_age_seconds", status="pending") or -1) >= 0


async def test_metrics_still_answer_while_the_database_is_down():
    settings = load_settings(
        _env_file=None, database_url="postgresql://nobody@127.0.0.1:1/x", metrics_token=TOKEN
    )
    state = AppState.create(settings)
    transport = httpx.ASGITransport(app=create_app(state=state))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/metrics", headers=BEARER)
    finally:
        await state.close()
    assert response.status_code == 200
    assert scraped(response.text, "blog_graphql_outbox_backlog_up") == 0
    assert scraped(response.text, "blog_graphql_outbox_backlog", status="pending") is None


def test_client_chosen_operation_names_cannot_grow_labels_without_bound(monkeypatch):
    monkeypatch.setattr(metrics, "_operation_labels", set())
    monkeypatch.setattr(metrics, "MAX_OPERATION_LABELS", 2)
    assert [metrics.operation_label(n) for n in ("A", "B", "C", "A")] == ["A", "B", "other", "A"]
    assert metrics.operation_label(None) == "anonymous"
    assert metrics.operation_label("x" * 500) == "invalid"
    assert metrics.operation_label("not a name") == "invalid"
    assert metrics.path_label("/wp-admin") == "other"
