"""Passwords, tokens and secrets never reach the logs, whatever a request carries.

Requests go through the real app and the real logging pipeline at DEBUG, in both formats;
the test then searches everything written for each secret it sent.
"""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text

from blog_graphql.accounts import one_time_tokens
from blog_graphql.app import create_app
from blog_graphql.jobs import broker as jobs
from blog_graphql.jobs.workers import InProcessWorker
from blog_graphql.observability.logs import get_logger
from blog_graphql.observability.redaction import REDACTED, Redactor, redact_text
from tests.factories import auth_headers, create_user

PASSWORD = "Sup3r-Secret-Pw"
NEW_PASSWORD = "An0ther-Secret-Pw"
FORGED_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIiwic2lkIjoiYWJjIn0.c2lnbmF0dXJl"

LOGIN = """mutation Login($input: LoginInput!) {
  login(input: $input) { accessToken refreshToken }
}"""
REGISTER = """mutation Register($input: RegisterInput!) {
  register(input: $input) { id }
}"""
INLINE_LOGIN = 'mutation { login(input: {login: "ada", password: "%s"}) { accessToken } }'.replace(
    "%s", PASSWORD
)
CHANGE_PASSWORD = """mutation Change($current: String!, $new: String!) {
  changePassword(currentPassword: $current, newPassword: $new)
}"""
REFRESH = "mutation R($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }"
RESET = "mutation P($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }"
VERIFY = "mutation V($t: String!) { verifyEmail(token: $t) }"
WRONG_SHAPE = "query U($u: String!) { user(username: $u) { id } }"
ME = "{ me { username } }"
REQUEST_RESET = "mutation Q($e: String!) { requestPasswordReset(email: $e) }"


class Secrets(list[str]):
    """Every secret the client sent or received, to look for in the logs afterwards."""

    def add(self, *values: str) -> None:
        self.extend(values)


async def post(client, query, variables=None, headers=None):
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers or {}
    )
    return response.json()


async def run_account_flows(client, secrets: Secrets) -> None:
    """Register, log in (twice), refresh, change the password, then misuse tokens."""
    signup = {"email": "bo@example.com", "username": "bobby", "password": PASSWORD}
    registered = await post(client, REGISTER, {"input": signup})
    assert "id" in registered["data"]["register"], registered
    tokens = await post(client, LOGIN, {"input": {"login": "bobby", "password": PASSWORD}})
    access, refresh = (
        tokens["data"]["login"]["accessToken"],
        tokens["data"]["login"]["refreshToken"],
    )
    secrets.add(access, refresh)
    bearer = {"Authorization": f"Bearer {access}"}
    assert (await post(client, ME, headers=bearer))["data"]["me"] == {"username": "bobby"}
    rotated = (await post(client, REFRESH, {"t": refresh}))["data"]["refreshToken"]
    secrets.add(rotated["accessToken"], rotated["refreshToken"])
    changed = await post(client, CHANGE_PASSWORD, {"current": PASSWORD, "new": NEW_PASSWORD},
                         {"Authorization": f"Bearer {rotated['accessToken']}"})  # fmt: skip
    assert changed["data"] == {"changePassword": True}
    # Failures: a wrong password, a reused refresh token, bad email tokens, forged bearers.
    await post(client, INLINE_LOGIN)
    # Rotated once more, the first token is two rotations old: past any grace, refused.
    again = (await post(client, REFRESH, {"t": rotated["refreshToken"]}))["data"]["refreshToken"]
    secrets.add(again["accessToken"], again["refreshToken"])
    assert "errors" in await post(client, REFRESH, {"t": refresh})
    await post(client, RESET, {"t": "reset-token-0123456789abcdef", "p": NEW_PASSWORD})
    await post(client, VERIFY, {"t": "verify-token-0123456789abcdef"})
    await post(client, WRONG_SHAPE, {"u": {"password": PASSWORD}})  # quoted in its error
    await post(client, ME, headers={"Authorization": f"Bearer {FORGED_TOKEN}"})
    await post(client, ME, headers={"Authorization": "Basic Ym86U3VwM3ItU2VjcmV0LVB3"})
    await client.get("/graphql", params={"query": "{ me { id } }", "token": refresh})
    secrets.add("reset-token-0123456789abcdef", "verify-token-0123456789abcdef")
    secrets.add(FORGED_TOKEN, "Ym86U3VwM3ItU2VjcmV0LVB3")


@pytest.fixture
def issued_tokens(monkeypatch) -> list[str]:
    """Every one-time email token the accounts code issues during the test."""
    issued: list[str] = []
    issue = one_time_tokens.issue_token

    def recording(*args, **kwargs):
        issued.append(issue(*args, **kwargs))
        return issued[-1]

    monkeypatch.setattr(one_time_tokens, "issue_token", recording)
    return issued


@pytest.fixture
async def email_logger(settings, db) -> AsyncIterator[InProcessWorker]:
    """A worker in this process with SMTP_HOST unset: each email is logged whole."""
    worker = await asyncio.to_thread(jobs.start_in_process, settings, poll_ms=50)
    yield worker
    await asyncio.to_thread(worker.stop)


@pytest.mark.parametrize("log_format", ["json", "console"])
async def test_account_flows_with_passwords_and_tokens_leave_none_in_the_logs(
    client, settings, capture_logs, email_logger, issued_tokens, log_format
):
    logs = capture_logs(log_format=log_format, log_level="DEBUG")
    secrets = Secrets([PASSWORD, NEW_PASSWORD, settings.secret_key])

    await run_account_flows(client, secrets)
    await post(client, REQUEST_RESET, {"e": "bo@example.com"})
    await asyncio.to_thread(email_logger.drain)
    secrets.add(*issued_tokens)  # the welcome and reset emails' one-time links

    assert len([line for line in logs.text.splitlines() if "/graphql" in line]) >= 12
    assert logs.text.count("logged instead of sent") >= 2  # welcome and reset, links and all
    assert len(secrets) >= 12
    leaked = [secret for secret in secrets if secret in logs.text]
    assert leaked == []


async def test_a_failing_request_logs_its_traceback_but_not_its_sql_parameters(
    db, settings, app_state, capture_logs
):
    ada = await create_user(db, username="ada", password=PASSWORD)
    headers = await auth_headers(db, settings, ada)
    session_id = await db_scalar(db, "SELECT id FROM auth_sessions")
    # The session check now fails inside SQL; the traceback quotes its statement.
    await db_execute(db, "ALTER TABLE auth_sessions RENAME TO auth_sessions_gone")
    logs = capture_logs()
    transport = httpx.ASGITransport(app=create_app(state=app_state), raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.post(
                "/graphql", json={"query": "{ me { id } }"}, headers=headers
            )
    finally:
        await db_execute(db, "ALTER TABLE auth_sessions_gone RENAME TO auth_sessions")

    assert response.status_code == 500
    assert "auth_sessions" in logs.text  # the traceback is there, for operators
    # SQLAlchemy hides a failed statement's parameters; on PostgreSQL the session check runs
    # straight on asyncpg, whose error quotes no parameter at all: either way none is logged.
    assert session_id not in logs.text
    assert headers["Authorization"].removeprefix("Bearer ") not in logs.text


def test_configured_secrets_and_secret_fields_are_redacted_in_any_logger(settings, capture_logs):
    configured = {"smtp_password": "smtp-pw-0123456789", "metrics_token": "m" * 24}
    logs = capture_logs(**configured)

    get_logger("blog_graphql.test").info(
        "connecting", url="postgresql://app:db-pw-1@db/blog", password="p", nested={"token": "t"}
    )
    import logging

    logging.getLogger("some.library").warning("login with %s then %s", *configured.values())

    [ours, theirs] = logs.lines()
    assert ours["url"] == f"postgresql://app:{REDACTED}@db/blog"
    assert ours["password"] == REDACTED and ours["nested"] == {"token": REDACTED}
    assert theirs["event"] == f"login with {REDACTED} then {REDACTED}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc.def-ghi", f"Authorization: Bearer {REDACTED}"),
        (
            "got {'password': 'hunter2', 'login': 'ada'}",
            f"got {{'password': '{REDACTED}', 'login': 'ada'}}",
        ),
        ('{"newPassword": "x1", "id": 3}', f'{{"newPassword": "{REDACTED}", "id": 3}}'),
        ("/reset?token=abc123&next=/", f"/reset?token={REDACTED}&next=/"),
        (f"jwt {FORGED_TOKEN} end", f"jwt {REDACTED} end"),
        ("redis://:pw@host:6379/0", f"redis://:{REDACTED}@host:6379/0"),
        ("redis://host:6379/0", "redis://host:6379/0"),
        ("plain words stay", "plain words stay"),
    ],
)
def test_redact_text(text, expected):
    assert redact_text(text) == expected


def test_token_type_is_not_a_secret_but_access_token_is():
    cleaned = Redactor()(None, "info", {"token_type": "bearer", "access_token": "a", "n": 1})
    assert cleaned == {"token_type": "bearer", "access_token": REDACTED, "n": 1}


async def db_scalar(db, sql):
    async with db.session() as session:
        return await session.scalar(text(sql))


async def db_execute(db, sql):
    async with db.transaction() as session:
        await session.execute(text(sql))
