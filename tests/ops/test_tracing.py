"""OpenTelemetry spans: per operation, per awaited resolver, per loader batch, per SQL statement."""

import httpx
import pytest

from blog_graphql.app import create_app
from blog_graphql.config.settings import ConfigError, load_settings
from blog_graphql.observability import tracing
from blog_graphql.relay.ids import encode_id
from tests.factories import create_tag, create_user

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN_ID = "00f067aa0ba902b7"


@pytest.fixture
async def traced(exporter, app_state):
    """A client of an app built while tracing is on (SQL spans are installed at build)."""
    transport = httpx.ASGITransport(app=create_app(state=app_state))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
    # The engine outlives this test (on PostgreSQL, the session's): later tests read
    # without statement spans, so on the direct path, as production without tracing does.
    tracing.untrace_statements(app_state.db.engine)


def by_name(exporter):
    return {span.name: span for span in exporter.get_finished_spans()}


def children(exporter, parent):
    return [
        span
        for span in exporter.get_finished_spans()
        if span.parent is not None and span.parent.span_id == parent.context.span_id
    ]


async def test_an_operation_has_a_span_with_its_resolvers_and_statements_below(
    traced, exporter, db
):
    await create_tag(db, name="python")
    exporter.clear()

    response = await traced.post("/graphql", json={"query": "query Topics { tags { name } }"})

    assert response.json() == {"data": {"tags": [{"name": "python"}]}}
    spans = by_name(exporter)
    operation, resolver = spans["query Topics"], spans["resolve Query.tags"]
    assert operation.parent is None
    assert operation.attributes["graphql.operation.name"] == "Topics"
    assert operation.attributes["graphql.operation.type"] == "query"
    assert children(exporter, operation) == [resolver]
    [statement] = children(exporter, resolver)
    assert statement.name == "SELECT"
    assert "FROM tags" in statement.attributes["db.query.text"]
    assert statement.attributes["db.system.name"] == db.dialect
    assert {span.context.trace_id for span in exporter.get_finished_spans()} == {
        operation.context.trace_id
    }


async def test_a_loader_batch_has_one_span_with_its_size(traced, exporter, db):
    ada, bob = await create_user(db, username="ada"), await create_user(db, username="bob")
    ids = [encode_id("User", user.id) for user in (ada, bob)]
    query = f'{{ a: node(id: "{ids[0]}") {{ id }} b: node(id: "{ids[1]}") {{ id }} }}'
    exporter.clear()

    await traced.post("/graphql", json={"query": query})

    [batch] = [s for s in exporter.get_finished_spans() if s.name == "dataloader users"]
    assert batch.attributes["dataloader.batch_size"] == 2
    assert [span.name for span in children(exporter, batch)] == ["SELECT"]
    resolvers = [s for s in exporter.get_finished_spans() if s.name == "resolve Query.node"]
    assert len(resolvers) == 2


async def test_cheap_fields_get_no_span(traced, exporter, db):
    await create_user(db, username="ada")
    exporter.clear()

    await traced.post("/graphql", json={"query": '{ user(username: "ada") { username bio } }'})

    names = {span.name for span in exporter.get_finished_spans()}
    assert "resolve Query.user" in names
    assert not any(name.startswith("resolve User.") for name in names)


async def test_a_callers_traceparent_is_continued(traced, exporter):
    traceparent = f"00-{TRACE_ID}-{PARENT_SPAN_ID}-01"

    await traced.post(
        "/graphql", json={"query": "{ tags { name } }"}, headers={"traceparent": traceparent}
    )

    operation = by_name(exporter)["query"]
    assert format(operation.context.trace_id, "032x") == TRACE_ID
    assert format(operation.parent.span_id, "016x") == PARENT_SPAN_ID


async def test_spans_carry_no_variables_arguments_or_sql_parameters(traced, exporter, db):
    await create_user(db, username="ada")
    secret = "Sup3r-Secret-Pw"

    await traced.post(
        "/graphql",
        json={
            "query": "query Find($name: String!) { user(username: $name) { id } }",
            "variables": {"name": secret},
        },
    )

    assert by_name(exporter)["resolve Query.user"]
    for span in exporter.get_finished_spans():
        assert secret not in span.name
        assert all(secret not in str(value) for value in span.attributes.values())


async def test_no_spans_while_tracing_is_off(exporter, app_state):
    tracing.use_provider(None)
    transport = httpx.ASGITransport(app=create_app(state=app_state))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/graphql", json={"query": "{ tags { name } }"})
    assert response.json() == {"data": {"tags": []}}
    assert exporter.get_finished_spans() == ()


def test_a_trace_crosses_a_queue_through_a_carrier(exporter):
    with tracing.span("request"):
        carrier = tracing.inject()
    assert "traceparent" in carrier

    job_span = tracing.start_job_span("job send_email", carrier, **{"messaging.message.id": "m1"})
    tracing.end_job_span(job_span, "succeeded", None)

    job, request = by_name(exporter)["job send_email"], by_name(exporter)["request"]
    assert job.context.trace_id == request.context.trace_id
    assert job.parent.span_id == request.context.span_id
    assert job.attributes["messaging.message.id"] == "m1"
    assert job.attributes["job.outcome"] == "succeeded"


def test_asking_for_tracing_without_the_extra_is_one_clear_error(monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    settings = load_settings(_env_file=None, tracing_exporter="otlp")
    with pytest.raises(ConfigError, match="TRACING_EXPORTER: install the tracing extra"):
        tracing.check_tracing(settings)


async def test_the_email_job_a_mutation_queued_joins_the_mutations_trace(traced, exporter, mailbox):
    signup = {"email": "ada@example.com", "username": "ada", "password": "Secret123"}
    mutation = "mutation Register($input: RegisterInput!) { register(input: $input) { id } }"

    response = await traced.post(
        "/graphql", json={"query": mutation, "variables": {"input": signup}}
    )
    await mailbox.expect(1)

    assert "id" in response.json()["data"]["register"]
    spans = by_name(exporter)
    operation, job = spans["mutation Register"], spans["job send_email"]
    assert job.context.trace_id == operation.context.trace_id
    assert job.attributes["job.outcome"] == "succeeded"
