"""The lockout: five failures in 15 minutes lock a login for 15 minutes, on every instance."""

import asyncio
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import select, update

from blog_graphql.accounts.lockout import REDIS_PREFIX, account_key, unknown_name_key
from blog_graphql.accounts.models import LoginFailure
from blog_graphql.app import create_app
from blog_graphql.db.database import Database, utcnow
from blog_graphql.state import AppState
from tests.accounts.operations import REQUEST_RESET, RESET, error_of, login, outbox, sign_in
from tests.conftest import TEST_REDIS_URL, graphql, requires_redis
from tests.factories import create_user

BAD_CREDENTIALS = {"message": "Invalid login or password.", "code": "UNAUTHENTICATED"}


def rate_limited(body):
    error = error_of(body)
    assert error["code"] == "RATE_LIMITED", body
    assert error["message"] == "Too many attempts; try again later."
    return error["retryAfter"]


async def fail(client, name, times):
    for _ in range(times):
        assert error_of(await login(client, name, "Wrong1234")) == BAD_CREDENTIALS


@asynccontextmanager
async def instance(settings):
    """One more app instance, with its own engine (and Redis client) over shared services."""
    state = AppState(settings=settings, db=Database.from_url(settings.database_url))
    transport = httpx.ASGITransport(app=create_app(state=state))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await state.close()


@pytest.fixture
async def second_client(settings):
    async with instance(settings) as client:
        yield client


async def test_five_failures_lock_the_account_even_for_the_right_password(client, db):
    await create_user(db, username="ada")
    await fail(client, "ada", 5)

    retry_after = rate_limited(await login(client, "ada"))
    assert 14 * 60 < retry_after <= 15 * 60


async def test_four_failures_still_let_the_right_password_in_and_clear_the_count(client, db):
    await create_user(db, username="ada")
    await fail(client, "ada", 4)
    await sign_in(client, "ada")
    await fail(client, "ada", 4)  # counting starts again from zero
    await sign_in(client, "ada")


async def test_email_and_username_count_against_one_account(client, db):
    await create_user(db, username="ada", email="ada@example.com")
    await fail(client, "ada", 3)
    await fail(client, "ADA@example.com", 2)
    rate_limited(await login(client, "ada"))
    rate_limited(await login(client, "ada@example.com"))


async def test_a_locked_account_answers_exactly_like_a_locked_unknown_name(client, db):
    await create_user(db, username="ada")
    await fail(client, "ada", 5)
    await fail(client, "ghost", 5)
    known, unknown = await login(client, "ada"), await login(client, "ghost")
    # retryAfter counts down in seconds; both locks began within the same test.
    assert abs(rate_limited(known) - rate_limited(unknown)) <= 1
    assert error_of(known) | {"retryAfter": 0} == error_of(unknown) | {"retryAfter": 0}


async def test_the_lockout_is_counted_across_two_instances_sharing_the_database(
    client, second_client, db
):
    await create_user(db, username="ada")
    await fail(client, "ada", 3)
    await fail(second_client, "ada", 2)
    rate_limited(await login(client, "ada"))
    rate_limited(await login(second_client, "ada"))


async def test_the_lock_ends_after_15_minutes_and_counting_restarts(client, db):
    ada = await create_user(db, username="ada")
    await fail(client, "ada", 5)
    rate_limited(await login(client, "ada"))
    async with db.transaction() as session:  # 15 minutes pass
        await session.execute(
            update(LoginFailure).values(locked_until=utcnow() - timedelta(seconds=1))
        )
    await fail(client, "ada", 1)
    async with db.session() as session:
        row = await session.get(LoginFailure, account_key(ada.id))
    assert row is not None and (row.failures, row.locked_until) == (1, None)
    await sign_in(client, "ada")


async def test_failures_older_than_the_window_do_not_count(client, db):
    await create_user(db, username="ada")
    await fail(client, "ada", 4)
    async with db.transaction() as session:  # the four failures are 16 minutes old
        await session.execute(
            update(LoginFailure).values(window_started_at=utcnow() - timedelta(minutes=16))
        )
    await fail(client, "ada", 4)
    await sign_in(client, "ada")


async def test_a_burst_of_parallel_guesses_gets_at_most_five_password_checks(
    client, db, bcrypt_calls
):
    await create_user(db, username="ada")

    bodies = await asyncio.gather(*(login(client, "ada", f"Guess{n}xx") for n in range(12)))

    codes = sorted(error_of(body)["code"] for body in bodies)
    assert codes == ["RATE_LIMITED"] * 7 + ["UNAUTHENTICATED"] * 5
    assert bcrypt_calls.checks == 5


async def test_unknown_names_are_counted_without_storing_them(client, db):
    await fail(client, "Secret123-typed-in-the-wrong-box", 1)
    async with db.session() as session:
        keys = list(await session.scalars(select(LoginFailure.login_key)))
    assert keys == [unknown_name_key("secret123-typed-in-the-wrong-box")]
    assert "secret" not in keys[0].lower()


async def test_a_password_reset_lifts_the_lock(client, db):
    await create_user(db, username="ada", email="ada@example.com")
    await fail(client, "ada", 5)
    await graphql(client, REQUEST_RESET, {"email": "ada@example.com"})
    [email] = await outbox(db)
    await graphql(client, RESET, {"token": email.context["token"], "new": "Brandnew123"})
    await sign_in(client, "ada", "Brandnew123")


def redis_settings(settings):
    # RATE_LIMIT_ENABLED=false turns off the request budgets, never the account lockout.
    return settings.model_copy(update={"redis_url": TEST_REDIS_URL, "rate_limit_enabled": False})


@pytest.fixture
async def redis():
    client = Redis.from_url(TEST_REDIS_URL or "")
    await client.delete(*[key async for key in client.scan_iter(REDIS_PREFIX + "*")] or ["-"])
    yield client
    await client.aclose()


@requires_redis
async def test_with_redis_the_lockout_lives_in_redis_across_instances(settings, db, redis):
    ada = await create_user(db, username="ada")
    with_redis = redis_settings(settings)
    async with instance(with_redis) as first, instance(with_redis) as second:
        await fail(first, "ada", 3)
        await fail(second, "ada", 2)
        assert 14 * 60 < rate_limited(await login(first, "ada")) <= 15 * 60
        rate_limited(await login(second, "ada"))
        assert int(await redis.get(REDIS_PREFIX + account_key(ada.id))) == 7
    async with db.session() as session:
        assert await session.scalar(select(LoginFailure.login_key)) is None


@requires_redis
async def test_with_redis_the_fifth_failure_restarts_the_clock_as_the_lock(settings, db, redis):
    ada = await create_user(db, username="ada")
    key = REDIS_PREFIX + account_key(ada.id)
    async with instance(redis_settings(settings)) as client:
        await fail(client, "ada", 4)
        await redis.pexpire(key, 60_000)  # 14 of the window's 15 minutes pass
        await fail(client, "ada", 1)
        assert 14 * 60_000 < await redis.pttl(key) <= 15 * 60_000
        rate_limited(await login(client, "ada"))
        await redis.delete(key)  # the lock runs out
        await sign_in(client, "ada")


async def test_while_redis_is_unreachable_the_database_counts_instead(settings, db):
    ada = await create_user(db, username="ada")
    redis_down = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    async with instance(redis_down) as client:
        await fail(client, "ada", 5)
        rate_limited(await login(client, "ada"))
    async with db.session() as session:
        row = await session.get(LoginFailure, account_key(ada.id))
    assert row is not None and row.failures == 6
