"""One structured line per request: what ran, for whom, how it ended, under which request id."""

import io

from blog_graphql.config.settings import load_settings
from blog_graphql.observability.logs import (
    build_formatter,
    configure_logging,
    get_logger,
    remove_handler,
)
from tests.conftest import graphql
from tests.factories import auth_headers, create_user


async def test_a_request_logs_one_json_line_with_operation_user_status_and_client(
    client, db, settings, capture_logs
):
    ada = await create_user(db, username="ada")
    headers = await auth_headers(db, settings, ada)
    logs = capture_logs()

    response = await client.post(
        "/graphql",
        json={"query": "query WhoAmI { me { username } }", "operationName": "WhoAmI"},
        headers={**headers, "X-Request-ID": "request-42"},
    )

    assert response.json() == {"data": {"me": {"username": "ada"}}}
    [line] = logs.events("request")
    assert line["method"] == "POST"
    assert line["path"] == "/graphql"
    assert line["operation"] == "WhoAmI"
    assert line["status"] == 200
    assert line["user_id"] == ada.id
    assert line["request_id"] == "request-42"
    assert line["client"] == "127.0.0.1"
    assert line["errors"] is None
    assert line["level"] == "info"
    assert line["logger"] == "blog_graphql.access"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["timestamp"].endswith("Z")


async def test_a_new_request_id_is_made_when_the_callers_is_missing_or_malformed(
    client, capture_logs
):
    logs = capture_logs()
    await client.post("/graphql", json={"query": "{ tags { name } }"})
    await client.post(
        "/graphql",
        json={"query": "{ tags { name } }"},
        headers={"X-Request-ID": 'x" injected="1'},
    )

    first, second = (line["request_id"] for line in logs.events("request"))
    assert len(first) == 32 and len(second) == 32 and first != second


async def test_error_codes_and_anonymous_operations_are_logged(client, capture_logs):
    logs = capture_logs()
    await client.post("/graphql", json={"query": "{ nope }"})
    await client.post("/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": "x"})

    invalid, unauthenticated = logs.events("request")
    assert invalid["operation"] is None
    assert invalid["errors"] == ["GRAPHQL_VALIDATION_FAILED"]
    assert unauthenticated["errors"] == ["UNAUTHENTICATED"]
    assert unauthenticated["user_id"] is None


async def test_probes_are_logged_only_at_debug(client, capture_logs):
    logs = capture_logs()
    assert (await client.get("/healthz")).status_code == 200
    assert logs.events("request") == []

    logs = capture_logs(log_level="DEBUG")
    await client.get("/healthz")
    [line] = logs.events("request")
    assert (line["path"], line["level"]) == ("/healthz", "debug")


async def test_lines_logged_while_handling_a_request_carry_its_request_id(
    client, capture_logs, monkeypatch
):
    from blog_graphql.posts import service

    async def failing_list_tags(_db, _viewer):
        get_logger("blog_graphql.test").warning("about to fail")
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "list_tags", failing_list_tags)
    logs = capture_logs()

    body = await graphql(client, "{ tags { name } }")

    extensions = body["errors"][0]["extensions"]
    assert extensions["code"] == "INTERNAL_SERVER_ERROR"
    # Only the request's own loggers: on the session's event loop, a background task of
    # another test's app (a Redis channel retrying, say) may log meanwhile.
    loggers = ("blog_graphql.test", "blog_graphql.errors", "blog_graphql.access")
    warning, error, request = (line for line in logs.lines() if line["logger"] in loggers)
    assert warning["event"] == "about to fail"
    assert error["logger"] == "blog_graphql.errors" and "RuntimeError: boom" in error["exception"]
    assert request["errors"] == ["INTERNAL_SERVER_ERROR"]
    assert warning["request_id"] == error["request_id"] == request["request_id"]
    assert request["request_id"] == extensions["requestId"]  # what the client can quote


def test_development_lines_are_readable_and_coloured_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    settings = load_settings(_env_file=None)
    handler = configure_logging(settings, stream)
    try:
        get_logger("blog_graphql.access").info("request", method="GET", status=200)
    finally:
        remove_handler(handler)

    line = stream.getvalue()
    assert not line.startswith("{")
    assert "request" in line and "status" in line
    assert "\x1b[" in line  # ANSI colours


def test_production_defaults_to_json_and_plain_pipes_get_no_colours():
    production = load_settings(_env_file=None, environment="production", secret_key="s" * 40)
    development = load_settings(_env_file=None)
    assert production.log_format_resolved == "json"
    assert development.log_format_resolved == "console"
    assert load_settings(_env_file=None, log_format="json").log_format_resolved == "json"

    stream = io.StringIO()
    formatter = build_formatter(development, stream)
    assert "\x1b[" not in formatter.format(_record("hello"))


def _record(message):
    import logging

    return logging.LogRecord("x", logging.INFO, __file__, 1, message, None, None)
