"""Sessions you can end: refresh rotation, reuse detection, races, logout."""

import asyncio
from datetime import timedelta

from sqlalchemy import select, update

from blog_graphql.accounts.models import AuthSession, User
from blog_graphql.db.database import utcnow
from tests.accounts.operations import (
    LOGOUT,
    auth_sessions,
    bearer,
    error_of,
    is_signed_in,
    refresh,
    sign_in,
)
from tests.conftest import graphql
from tests.factories import create_user

INVALID_TOKEN = {"message": "Invalid or expired token.", "code": "UNAUTHENTICATED"}


async def test_refresh_returns_a_new_pair_and_the_old_refresh_token_dies(client, db):
    await create_user(db, username="ada")
    first = await sign_in(client, "ada")

    body = await refresh(client, first["refreshToken"])
    second = body["data"]["refreshToken"]
    assert second["user"] == {"username": "ada"} and second["tokenType"] == "Bearer"
    assert second["refreshToken"] != first["refreshToken"]
    assert await is_signed_in(client, second["accessToken"])
    [session] = await auth_sessions(db)
    assert session.refreshed_at is not None and session.revoked_at is None

    third = (await refresh(client, second["refreshToken"]))["data"]["refreshToken"]
    assert await is_signed_in(client, third["accessToken"])


async def test_reusing_a_rotated_refresh_token_ends_the_whole_session(client, db):
    await create_user(db, username="ada")
    stolen = await sign_in(client, "ada")
    rotated = (await refresh(client, stolen["refreshToken"]))["data"]["refreshToken"]
    await rotated_seconds_ago(db, 11)  # past the grace period

    assert error_of(await refresh(client, stolen["refreshToken"])) == INVALID_TOKEN

    [session] = await auth_sessions(db)
    assert session.revoked_reason == "refresh_token_reuse"
    assert not await is_signed_in(client, rotated["accessToken"])
    assert not await is_signed_in(client, stolen["accessToken"])
    assert error_of(await refresh(client, rotated["refreshToken"])) == INVALID_TOKEN


async def test_reuse_ends_only_that_session(client, db):
    await create_user(db, username="ada")
    laptop, phone = await sign_in(client, "ada"), await sign_in(client, "ada")
    await refresh(client, laptop["refreshToken"])
    await rotated_seconds_ago(db, 11)
    assert error_of(await refresh(client, laptop["refreshToken"])) == INVALID_TOKEN
    assert await is_signed_in(client, phone["accessToken"])


async def rotated_seconds_ago(db, seconds: int) -> None:
    """Every session's last rotation happened `seconds` ago."""
    async with db.transaction() as session:
        await session.execute(
            update(AuthSession).values(refreshed_at=utcnow() - timedelta(seconds=seconds))
        )


async def test_refreshes_racing_with_one_token_all_get_the_same_new_pair(client, db):
    """Two tabs refreshing together stay signed in (API.md: a 10-second grace)."""
    await create_user(db, username="ada")
    payload = await sign_in(client, "ada")

    bodies = await asyncio.gather(*(refresh(client, payload["refreshToken"]) for _ in range(4)))

    assert all("errors" not in body for body in bodies), bodies
    answers = [body["data"]["refreshToken"] for body in bodies]
    pairs = {(answer["accessToken"], answer["refreshToken"]) for answer in answers}
    assert len(pairs) == 1
    [(access, refresh_token)] = pairs
    [session] = await auth_sessions(db)
    assert session.revoked_at is None
    assert await is_signed_in(client, access)
    # The new token rotates as usual; the old one, after the grace period, is reuse.
    assert "errors" not in await refresh(client, refresh_token)
    await rotated_seconds_ago(db, 11)
    assert error_of(await refresh(client, payload["refreshToken"])) == INVALID_TOKEN
    [session] = await auth_sessions(db)
    assert session.revoked_reason == "refresh_token_reuse"


async def test_the_grace_covers_only_the_token_just_rotated(client, db):
    await create_user(db, username="ada")
    first = await sign_in(client, "ada")
    second = (await refresh(client, first["refreshToken"]))["data"]["refreshToken"]
    third = (await refresh(client, second["refreshToken"]))["data"]["refreshToken"]

    # `first` is two rotations old: reuse, however soon, and the session ends.
    assert error_of(await refresh(client, first["refreshToken"])) == INVALID_TOKEN
    [session] = await auth_sessions(db)
    assert session.revoked_reason == "refresh_token_reuse"
    assert not await is_signed_in(client, third["accessToken"])
    assert (await graphql(client, "{ __typename }")) == {"data": {"__typename": "Query"}}


async def test_an_access_token_is_not_a_refresh_token(client, db):
    await create_user(db, username="ada")
    payload = await sign_in(client, "ada")
    assert error_of(await refresh(client, payload["accessToken"])) == INVALID_TOKEN
    body = await graphql(client, "{ me { username } }", headers=bearer(payload["refreshToken"]))
    assert error_of(body) == INVALID_TOKEN


async def test_logout_ends_the_session_of_the_access_token_at_once(client, db):
    await create_user(db, username="ada")
    mine, other = await sign_in(client, "ada"), await sign_in(client, "ada")

    body = await graphql(client, LOGOUT, headers=bearer(mine["accessToken"]))
    assert body == {"data": {"logout": True}}

    assert not await is_signed_in(client, mine["accessToken"])
    assert error_of(await refresh(client, mine["refreshToken"])) == INVALID_TOKEN
    assert await is_signed_in(client, other["accessToken"])


async def test_logout_with_only_a_refresh_token_ends_its_session(client, db):
    await create_user(db, username="ada")
    payload = await sign_in(client, "ada")
    body = await graphql(client, LOGOUT, {"token": payload["refreshToken"]})
    assert body == {"data": {"logout": True}}
    assert not await is_signed_in(client, payload["accessToken"])
    async with db.session() as session:
        assert await session.scalar(select(AuthSession.revoked_reason)) == "logout"


async def test_logout_needs_a_token(client, db):
    assert error_of(await graphql(client, LOGOUT)) == {
        "message": "Authentication required.",
        "code": "UNAUTHENTICATED",
    }
    assert error_of(await graphql(client, LOGOUT, {"token": "junk"})) == INVALID_TOKEN


async def test_a_deactivated_user_cannot_refresh(client, db):
    await create_user(db, username="ada")
    payload = await sign_in(client, "ada")
    async with db.transaction() as session:
        await session.execute(update(User).values(is_active=False))
    assert error_of(await refresh(client, payload["refreshToken"])) == INVALID_TOKEN


async def test_an_expired_session_cannot_refresh_and_is_not_taken_for_reuse(client, db):
    await create_user(db, username="ada")
    payload = await sign_in(client, "ada")
    async with db.transaction() as session:
        await session.execute(
            update(AuthSession).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert error_of(await refresh(client, payload["refreshToken"])) == INVALID_TOKEN
    [session] = await auth_sessions(db)
    assert session.revoked_at is None


async def test_each_refresh_extends_the_session_by_the_refresh_lifetime(client, db):
    await create_user(db, username="ada")
    payload = await sign_in(client, "ada")
    soon = utcnow() + timedelta(hours=1)
    async with db.transaction() as session:
        await session.execute(update(AuthSession).values(expires_at=soon))
    await refresh(client, payload["refreshToken"])
    [session] = await auth_sessions(db)
    assert session.expires_at > utcnow() + timedelta(days=7) - timedelta(minutes=1)


async def test_the_session_check_is_one_statement_per_request_never_per_field(client, db, sql_log):
    await create_user(db, username="ada")
    payload = await sign_in(client, "ada")
    many_fields = "{ " + " ".join(f"m{n}: me {{ username email }}" for n in range(10)) + " }"

    sql_log.clear()
    anonymous = await graphql(client, many_fields)
    assert anonymous["data"]["m0"] is None and sql_log.statements() == []

    body = await graphql(client, many_fields, headers=bearer(payload["accessToken"]))
    assert body["data"]["m9"] == {"username": "ada", "email": "ada@example.com"}
    [check] = sql_log.statements()
    assert "auth_sessions" in check and "users" in check
