"""The viewer comes from a Bearer access token of a live session, checked once per request."""

from datetime import timedelta

import jwt
import pytest
from sqlalchemy import select, update

from blog_graphql.accounts.models import AuthSession, User
from blog_graphql.accounts.tokens import encode_token
from blog_graphql.db.database import utcnow
from tests.conftest import graphql
from tests.factories import auth_headers, create_user

ME = "{ me { username email } }"
UNAUTHENTICATED = {
    "errors": [{"message": "Invalid or expired token.", "extensions": {"code": "UNAUTHENTICATED"}}]
}


async def test_me_is_the_token_holder_with_their_email(client, db, settings):
    ada = await create_user(db, username="ada")
    body = await graphql(client, ME, headers=await auth_headers(db, settings, ada))
    assert body == {"data": {"me": {"username": "ada", "email": "ada@example.com"}}}


async def test_no_header_is_anonymous(client):
    assert await graphql(client, ME) == {"data": {"me": None}}


async def test_the_session_check_costs_one_statement_per_request(client, db, settings, sql_log):
    ada = await create_user(db, username="ada")
    headers = await auth_headers(db, settings, ada)
    query = '{ me { username } user(username: "ada") { username } }'
    sql_log.clear()
    assert (await graphql(client, query, headers=headers))["data"]["me"] == {"username": "ada"}
    assert len(sql_log.statements()) == 2  # the session check, then user(username:)


def forged(settings, user_id, **overrides):
    claims = {"user_id": user_id, "session_id": "x" * 32, "token_type": "access",
              "lifetime": timedelta(minutes=5)}  # fmt: skip
    claims.update(overrides)
    return encode_token(settings, **claims)


@pytest.mark.parametrize(
    "make_header",
    [
        lambda s, u, ok: "Bearer not-a-jwt",
        lambda s, u, ok: "Basic dXNlcjpwYXNz",
        lambda s, u, ok: "Bearer ",
        lambda s, u, ok: f"Bearer {ok[:-4]}AAAA",  # tampered signature
        lambda s, u, ok: (
            "Bearer "
            + jwt.encode(
                {**jwt.decode(ok, options={"verify_signature": False})}, key="", algorithm="none"
            )
        ),
        lambda s, u, ok: (
            "Bearer "
            + jwt.encode(
                jwt.decode(ok, options={"verify_signature": False}), "k" * 64, algorithm="HS512"
            )
        ),
        lambda s, u, ok: (
            "Bearer "
            + jwt.encode(
                jwt.decode(ok, options={"verify_signature": False}),
                "wrong-key-" * 4,
                algorithm="HS256",
            )
        ),
        lambda s, u, ok: (
            "Bearer "
            + jwt.encode(
                {
                    k: v
                    for k, v in jwt.decode(ok, options={"verify_signature": False}).items()
                    if k != "sid"
                },
                s.secret_key,
                algorithm="HS256",
            )
        ),
    ],
    ids=["garbage", "basic", "empty", "tampered", "alg-none", "hs512", "wrong-key", "no-sid"],
)
async def test_a_present_but_invalid_header_fails_the_whole_request(
    client, db, settings, make_header
):
    ada = await create_user(db)
    valid = (await auth_headers(db, settings, ada))["Authorization"].removeprefix("Bearer ")
    body = await graphql(
        client, ME, headers={"Authorization": make_header(settings, ada.id, valid)}
    )
    assert body == UNAUTHENTICATED


async def test_expired_refresh_typed_and_revoked_tokens_are_refused(client, db, settings):
    ada = await create_user(db)
    headers = await auth_headers(db, settings, ada)
    assert (await graphql(client, ME, headers=headers))["data"]["me"] is not None

    async with db.session() as session:
        sid = await session.scalar(select(AuthSession.id))
    expired = forged(settings, ada.id, session_id=sid, lifetime=timedelta(seconds=-5))
    as_refresh = forged(settings, ada.id, session_id=sid, token_type="refresh")
    for token in (expired, as_refresh):
        assert await graphql(client, ME, headers={"Authorization": f"Bearer {token}"}) == (
            UNAUTHENTICATED
        )

    async with db.transaction() as session:
        await session.execute(update(AuthSession).values(revoked_at=utcnow()))
    assert await graphql(client, ME, headers=headers) == UNAUTHENTICATED


async def test_a_deactivated_user_is_refused_at_once(client, db, settings):
    ada = await create_user(db)
    headers = await auth_headers(db, settings, ada)
    async with db.transaction() as session:
        await session.execute(update(User).values(is_active=False))
    assert await graphql(client, ME, headers=headers) == UNAUTHENTICATED


async def test_graphql_response_json_clients_get_401(client, db):
    response = await client.post(
        "/graphql",
        json={"query": ME},
        headers={"Authorization": "Bearer junk", "Accept": "application/graphql-response+json"},
    )
    assert response.status_code == 401
    assert response.json() == UNAUTHENTICATED
