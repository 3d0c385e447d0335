"""Passwords, tokens and secrets never reach the logs, whatever a request carries.

Requests go through the real app and the real logging pipeline at DEBUG, in both formats;
the test then searches everything written for each secret it sent.
"""

import httpx
import pytest
from sqlalchemy import text

from blog_graphql.app import create_app
from blog_graphql.logs import get_logger
from blog_graphql.redaction import REDACTED, Redactor, redact_text
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


async def send_requests_carrying_secrets(client, headers, refresh_token):
    """Register, log in, refresh, change a password, and misuse tokens and variables."""
    login = {"login": "ada", "password": PASSWORD}
    register = {"email": "bo@example.com", "username": "bo", "password": PASSWORD}
    operations = [
        (REGISTER, {"input": register}, {}),
        (LOGIN, {"input": login}, {}),
        (
            INLINE_LOGIN,
            {},
            {},
        ),
        (CHANGE_PASSWORD, {"current": PASSWORD, "new": NEW_PASSWORD}, headers),
        (
            "mutation R($t: String!) { refreshToken(refreshToken: $t) { accessToken } }",
            {"t": refresh_token},
            {},
        ),
        # A variable of the wrong shape: graphql-core quotes the value in its error message.
        ("query U($u: String!) { user(username: $u) { id } }", {"u": {"password": PASSWORD}}, {}),
        ("{ me { username } }", {}, headers),
        ("{ me { username } }", {}, {"Authorization": f"Bearer {FORGED_TOKEN}"}),
        ("{ me { username } }", {}, {"Authorization": "Basic YWRhOlN1cDNyLVNlY3JldC1Qdw=="}),
    ]
    for query, variables, extra_headers in operations:
        await client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=extra_headers
        )
    await client.get("/graphql", params={"query": "{ me { id } }", "token": refresh_token})


@pytest.mark.parametrize("log_format", ["json", "console"])
async def test_requests_carrying_passwords_and_tokens_leave_none_in_the_logs(
    client, db, settings, capture_logs, log_format
):
    ada = await create_user(db, username="ada", password=PASSWORD)
    headers = await auth_headers(db, settings, ada)
    access_token = headers["Authorization"].removeprefix("Bearer ")
    refresh_token = access_token[::-1]  # any token-shaped secret the client sends
    logs = capture_logs(log_format=log_format, log_level="DEBUG")

    await send_requests_carrying_secrets(client, headers, refresh_token)

    assert len([line for line in logs.text.splitlines() if "/graphql" in line]) >= 10
    for secret in (
        PASSWORD,
        NEW_PASSWORD,
        access_token,
        refresh_token,
        FORGED_TOKEN,
        "YWRhOlN1cDNyLVNlY3JldC1Qdw==",
        settings.secret_key,
    ):
        assert secret not in logs.text


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
    assert "hidden due to hide_parameters" in logs.text
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
