"""A signed-in request verifies its token's signature once per token, never its session:
the session and its user are read on every request, on every instance."""

import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from blog_graphql.accounts.models import AuthSession, User
from blog_graphql.accounts.tokens import VerifiedAccessTokens, encode_token
from blog_graphql.app import create_app
from blog_graphql.db.database import Database, utcnow
from blog_graphql.errors import Unauthenticated
from blog_graphql.state import AppState
from tests.conftest import graphql
from tests.factories import DEFAULT_PASSWORD, auth_headers, create_user

ME = "{ me { username } }"
UNAUTHENTICATED = {
    "errors": [{"message": "Invalid or expired token.", "extensions": {"code": "UNAUTHENTICATED"}}]
}


def access_token(settings, lifetime=timedelta(minutes=5)):
    return encode_token(settings, user_id=1, session_id="s" * 32, token_type="access",
                        lifetime=lifetime)  # fmt: skip


def test_a_verified_token_is_answered_again_until_it_expires(settings):
    verified = VerifiedAccessTokens()
    token = access_token(settings, lifetime=timedelta(seconds=1))
    claims = verified.claims(settings, token)
    assert verified.claims(settings, token) is claims  # kept: not decoded again
    while time.time() < claims.expires_at.timestamp():
        time.sleep(0.05)
    with pytest.raises(Unauthenticated):
        verified.claims(settings, token)
    assert len(verified) == 0


def test_a_token_that_fails_is_never_kept(settings):
    verified = VerifiedAccessTokens()
    refresh = encode_token(settings, user_id=1, session_id="s" * 32, token_type="refresh",
                           lifetime=timedelta(minutes=5))  # fmt: skip
    for token in ("not-a-jwt", access_token(settings)[:-4] + "AAAA", refresh):
        for _ in range(2):
            with pytest.raises(Unauthenticated):
                verified.claims(settings, token)
    assert len(verified) == 0


def test_a_token_is_kept_for_its_secret_key_only(settings):
    verified = VerifiedAccessTokens()
    token = access_token(settings)
    verified.claims(settings, token)
    other_key = settings.model_copy(update={"secret_key": "another-secret-" * 4})
    with pytest.raises(Unauthenticated):
        verified.claims(other_key, token)


def test_at_most_the_newest_tokens_are_kept(settings):
    verified = VerifiedAccessTokens(kept=2)
    tokens = [access_token(settings, lifetime=timedelta(minutes=5 + n)) for n in range(3)]
    for token in tokens:
        verified.claims(settings, token)
    assert len(verified) == 2


@pytest.fixture
async def second_instance(settings):
    """Another app over the same database, with its own engine and pool."""
    db = Database.from_url(settings.database_url)
    app = create_app(state=AppState(settings=settings, db=db))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    await db.dispose()


async def test_a_revoked_session_fails_at_once_on_every_instance(
    client, second_instance, db, settings
):
    ada = await create_user(db, username="ada")
    headers = await auth_headers(db, settings, ada)
    for instance in (client, second_instance):
        for _ in range(2):  # the token verified and kept, the check run directly
            assert (await graphql(instance, ME, headers=headers))["data"]["me"] == {
                "username": "ada"
            }
    logout = await graphql(client, "mutation { logout }", headers=headers)
    assert logout == {"data": {"logout": True}}
    for instance in (second_instance, client):
        assert await graphql(instance, ME, headers=headers) == UNAUTHENTICATED


async def test_a_deactivated_user_or_expired_session_fails_at_once_on_every_instance(
    client, second_instance, db, settings
):
    ada = await create_user(db, username="ada")
    headers = await auth_headers(db, settings, ada)
    for instance in (client, second_instance):
        for _ in range(2):
            assert (await graphql(instance, ME, headers=headers))["data"]["me"] is not None
    async with db.transaction() as session:
        await session.execute(update(User).values(is_active=False))
    for instance in (client, second_instance):
        assert await graphql(instance, ME, headers=headers) == UNAUTHENTICATED
    async with db.transaction() as session:
        await session.execute(update(User).values(is_active=True))
        sid = await session.scalar(select(AuthSession.id))
        await session.execute(
            update(AuthSession).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert sid is not None
    for instance in (client, second_instance):
        assert await graphql(instance, ME, headers=headers) == UNAUTHENTICATED


async def test_the_viewer_is_the_whole_user(client, db, settings):
    """Services read any column of the viewer: a password change reads its hash."""
    ada = await create_user(db, username="ada")
    headers = await auth_headers(db, settings, ada)
    change = """mutation Change($current: String!) {
        changePassword(currentPassword: $current, newPassword: "Another long password 1") }"""
    for _ in range(2):  # the first check through SQLAlchemy, the next one direct on PostgreSQL
        wrong = await graphql(client, change, {"current": "not the password"}, headers)
        assert wrong["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", wrong
    right = await graphql(client, change, {"current": DEFAULT_PASSWORD}, headers)
    assert right == {"data": {"changePassword": True}}
