"""login: by email or username, a session per login, one answer for every kind of failure."""

import jwt
import pytest

from blog_graphql.accounts.tokens import AUDIENCE, ISSUER
from tests.accounts.operations import auth_sessions, error_of, is_signed_in, login, sign_in
from tests.factories import create_user

BAD_CREDENTIALS = {
    "message": "Invalid login or password.",
    "code": "UNAUTHENTICATED",
}


@pytest.mark.parametrize("name", ["ada", "ADA", "ada@example.com", "Ada@Example.COM", " ada "])
async def test_login_by_username_or_email_ignoring_case(client, db, name):
    await create_user(db, username="Ada", email="ada@example.com")
    payload = await sign_in(client, name)
    assert payload["user"] == {"username": "Ada", "email": "ada@example.com"}
    assert payload["tokenType"] == "Bearer"
    assert payload["expiresIn"] == 30 * 60
    assert await is_signed_in(client, payload["accessToken"])


async def test_the_tokens_carry_every_claim_and_one_session(client, db, settings):
    ada = await create_user(db, username="ada")
    payload = await sign_in(client, "ada")

    [session] = await auth_sessions(db)
    access = jwt.decode(
        payload["accessToken"], settings.secret_key, algorithms=["HS256"], audience=AUDIENCE
    )
    refresh = jwt.decode(
        payload["refreshToken"], settings.secret_key, algorithms=["HS256"], audience=AUDIENCE
    )
    assert set(access) == {"iss", "aud", "sub", "exp", "iat", "jti", "sid", "typ"}
    assert (access["iss"], access["sub"], access["sid"], access["typ"]) == (
        ISSUER, str(ada.id), session.id, "access",
    )  # fmt: skip
    assert access["exp"] - access["iat"] == 30 * 60
    assert (refresh["sid"], refresh["typ"], refresh["jti"]) == (
        session.id, "refresh", session.refresh_jti,
    )  # fmt: skip
    assert refresh["exp"] - refresh["iat"] == 7 * 24 * 3600
    assert session.user_id == ada.id and session.revoked_at is None


async def test_each_login_opens_its_own_session(client, db):
    await create_user(db, username="ada")
    first, second = await sign_in(client, "ada"), await sign_in(client, "ada")
    sessions = await auth_sessions(db)
    assert len({s.id for s in sessions}) == 2
    assert first["refreshToken"] != second["refreshToken"]
    assert sessions[0].user_agent == "python-httpx/" + __import__("httpx").__version__


@pytest.mark.parametrize(
    ("name", "password"),
    [
        ("ada", "Wrong1234"),
        ("nobody", "Secret123"),
        ("nobody@example.com", "Secret123"),
        ("ada", ""),
        ("", ""),
        ("ada", "Aa1" + "x" * 100),  # over bcrypt's 72 bytes: a wrong password, not a 500
        ("x" * 5000, "Secret123"),
    ],
)
async def test_every_failed_login_is_the_same_unauthenticated_answer(client, db, name, password):
    await create_user(db, username="ada")
    assert error_of(await login(client, name, password)) == BAD_CREDENTIALS
    assert await auth_sessions(db) == []


async def test_a_deactivated_account_cannot_log_in_even_with_its_password(client, db):
    await create_user(db, username="ada", is_active=False)
    assert error_of(await login(client, "ada")) == BAD_CREDENTIALS


async def test_login_does_not_need_a_verified_email(client, db):
    await create_user(db, username="ada", email_verified=False)
    assert (await sign_in(client, "ada"))["user"]["username"] == "ada"
