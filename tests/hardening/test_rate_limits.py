"""Rate limits: per client, per user and per sensitive root field, counted per operation."""

import asyncio
import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from blog_graphql.accounts.models import LoginFailure
from blog_graphql.config.setting_types import parse_networks
from blog_graphql.config.settings import load_settings
from blog_graphql.guards.client import client_address
from blog_graphql.guards.ratelimit import RateLimiter, root_field_counts
from tests.accounts.operations import REGISTER
from tests.conftest import TEST_REDIS_URL, graphql, requires_redis
from tests.factories import auth_headers, create_user
from tests.tcp_proxy import tcp_proxy

TAGS = "{ tags { name } }"
LOGIN = (
    "mutation($login: String!) "
    '{ login(input: {login: $login, password: "Wrong1234"}) { tokenType } }'
)


def assert_rate_limited(response: httpx.Response) -> None:
    body = response.json()
    assert response.status_code == 429
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 1 <= error["extensions"]["retryAfter"] <= 60
    assert response.headers["retry-after"] == str(error["extensions"]["retryAfter"])


async def run(
    client: httpx.AsyncClient, query: str = TAGS, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await client.post("/graphql", json={"query": query}, headers=headers)


async def test_a_client_over_its_budget_is_refused_before_anything_runs(client_with, sql_log):
    async with client_with(rate_limit_client="3/minute") as client:
        answers = [await run(client) for _ in range(3)]
        sql_log.clear()
        refused = await run(client)
    assert [answer.json() for answer in answers] == [{"data": {"tags": []}}] * 3
    assert_rate_limited(refused)
    assert sql_log.statements() == []


async def test_aliases_of_a_watched_root_field_each_spend_its_budget(client_with, sql_log):
    aliased = "{ a: tags { name } b: tags { name } c: tags { name } }"
    async with client_with(rate_limit_fields="tags=2/minute") as client:
        refused = await run(client, aliased)
        two = await run(client, "{ a: tags { name } b: tags { name } }")
        third = await run(client, TAGS)
    assert_rate_limited(refused)
    assert two.json() == {"data": {"a": [], "b": []}}
    assert_rate_limited(third)
    assert len(sql_log.statements()) == 2  # only the two tags of the operation that fit


async def test_fragments_cannot_hide_a_watched_root_field(client_with):
    hidden = "{ ...F ... on Query { tags { slug } } } fragment F on Query { tags { name } }"
    async with client_with(rate_limit_fields="tags=1/minute") as client:
        assert_rate_limited(await run(client, hidden))


def test_root_field_counts_follow_fragments_and_ignore_nested_fields():
    from graphql import parse

    document = parse("""mutation M { a: login b: login ...F x { login } }
        fragment F on Mutation { c: login ...G } fragment G on Mutation { register ...F }""")
    counts = root_field_counts(document, "M", {"login", "register"})
    assert counts == {"login": 3, "register": 1}


async def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(client_with):
    spoofed = [{"x-forwarded-for": f"203.0.113.{n}"} for n in range(3)]
    async with client_with(rate_limit_client="2/minute") as client:
        answers = [await run(client, headers=headers) for headers in spoofed]
    assert [answer.status_code for answer in answers] == [200, 200, 429]

    async with client_with(rate_limit_client="2/minute", trusted_proxies="127.0.0.1") as client:
        answers = [await run(client, headers=headers) for headers in spoofed]
    assert [answer.status_code for answer in answers] == [200, 200, 200]


def test_the_client_is_the_last_address_no_trusted_proxy_added():
    proxies = parse_networks(["10.0.0.0/8"])

    def scope(peer: str, forwarded: str) -> dict[str, Any]:
        headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
        return {"type": "http", "client": (peer, 1), "headers": headers}

    assert client_address(scope("10.0.0.5", "6.6.6.6, 198.51.100.7, 10.0.0.9"), proxies) == (
        "198.51.100.7"
    )
    assert client_address(scope("198.51.100.7", "6.6.6.6"), proxies) == "198.51.100.7"
    assert client_address(scope("10.0.0.5", ""), proxies) == "10.0.0.5"
    assert client_address(scope("10.0.0.5", "not-an-ip"), proxies) == "unknown"
    assert client_address(scope("10.0.0.5", "6.6.6.6"), []) == "10.0.0.5"


async def test_rate_limit_enabled_false_turns_the_budgets_off(client_with):
    settings = {"rate_limit_enabled": False, "rate_limit_client": "1/minute"}
    async with client_with(**settings, rate_limit_fields="tags=1/minute") as client:
        answers = [await run(client) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200] * 4


async def test_a_signed_in_user_is_limited_wherever_they_connect_from(client_with, db, settings):
    ada = await create_user(db)
    signed_in = await auth_headers(db, settings, ada)  # the same development SECRET_KEY
    budgets = {"rate_limit_user": "2/minute", "trusted_proxies": "127.0.0.1"}
    async with client_with(**budgets) as client:
        addresses = [f"198.51.100.{n}" for n in range(4)]
        answers = [
            await run(client, headers={**signed_in, "x-forwarded-for": address})
            for address in addresses[:3]
        ]
        anonymous = await run(client, headers={"x-forwarded-for": addresses[3]})
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert_rate_limited(answers[2])
    assert anonymous.status_code == 200


async def test_a_signed_in_user_has_one_budget_across_addresses(settings):
    limiter = RateLimiter.from_settings(
        load_settings(_env_file=None, rate_limit_user="2/minute", rate_limit_client="100/minute")
    )
    waits = [await limiter.check_operation(f"198.51.100.{n}", "42") for n in range(3)]
    other_user = await limiter.check_operation("198.51.100.9", "43")
    await limiter.close()
    assert waits[:2] == [None, None]
    assert waits[2] is not None and 1 <= waits[2] <= 60
    assert other_user is None


@requires_redis
async def test_instances_sharing_redis_share_one_budget(client_with):
    shared = {
        "redis_url": TEST_REDIS_URL,
        "rate_limit_client": "2/minute",
        "key_prefix": f"test-{uuid.uuid4().hex}",
    }
    async with client_with(**shared) as first, client_with(**shared) as second:
        answers = [await run(first), await run(second), await run(first)]
    assert [answer.status_code for answer in answers] == [200, 200, 429]


CLOSED_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


async def test_an_unreachable_budget_store_still_refuses_counting_in_memory(client_with, db):
    """22 logins from one client while Redis is unreachable: the login budget (20 a
    minute, production's) refuses the last two as it would with Redis, and `/readyz` says so."""
    budgets = {"rate_limit_fields": "login=20/minute"}
    async with client_with(redis_url=CLOSED_REDIS, **budgets) as client:
        answers = [
            await client.post(
                "/graphql", json={"query": LOGIN, "variables": {"login": f"nobody{n}"}}
            )
            for n in range(22)
        ]
        ready = await client.get("/readyz")
        still_answers = await run(client)
    codes = [answer.json()["errors"][0]["extensions"]["code"] for answer in answers]
    assert codes == ["UNAUTHENTICATED"] * 20 + ["RATE_LIMITED"] * 2
    assert_rate_limited(answers[-1])
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "down": ["redis"], "degraded": ["rate_limits"]}
    assert still_answers.json() == {"data": {"tags": []}}
    async with db.session() as session:  # refused attempts counted nothing in the lockout
        assert await session.scalar(select(func.count()).select_from(LoginFailure)) == 20


def degraded_gauge() -> float | None:
    return REGISTRY.get_sample_value("blog_graphql_rate_limits_degraded")


@requires_redis
async def test_limits_fall_back_to_memory_while_redis_is_away_and_return_to_it(client_with):
    assert TEST_REDIS_URL
    target = urlsplit(TEST_REDIS_URL)
    prefix = f"test-{uuid.uuid4().hex}"
    with tcp_proxy(target.hostname or "", target.port or 6379) as redis:
        budgets = {"rate_limit_client": "3/minute", "key_prefix": prefix}
        async with client_with(redis_url=redis.url(TEST_REDIS_URL), **budgets) as client:
            in_redis = [(await run(client)).status_code for _ in range(2)]
            redis.down()
            in_memory = [(await run(client)).status_code for _ in range(4)]
            while_down = ((await client.get("/readyz")).json(), degraded_gauge())
            redis.up()
            ready_again = await eventually_ready(client)
            back_in_redis = [(await run(client)).status_code for _ in range(2)]
            after = ((await client.get("/readyz")).json(), degraded_gauge())
    assert in_redis == [200, 200]
    assert in_memory == [200, 200, 200, 429]  # a fresh per-instance budget, still enforced
    assert while_down == (
        {"status": "unavailable", "down": ["redis"], "degraded": ["rate_limits"]},
        1.0,
    )
    assert ready_again
    # Redis's own count again: it had 2 of 3 (the memory's budget was spent).
    assert back_in_redis == [200, 429]
    assert after == ({"status": "ok"}, 0.0)


async def eventually_ready(client: httpx.AsyncClient, attempts: int = 100) -> bool:
    for _ in range(attempts):
        if (await client.get("/readyz")).status_code == 200:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_a_field_budget_is_kept_per_signed_in_identity(settings):
    production = {"environment": "production", "secret_key": "s" * 32}
    limiter = RateLimiter.from_settings(load_settings(_env_file=None, **production))
    login_tries = [
        await limiter.check_fields({"login": 5}, "client:198.51.100.1") for _ in range(5)
    ]
    elsewhere = await limiter.check_fields({"login": 5}, "client:198.51.100.2")
    await limiter.close()
    assert login_tries[:4] == [None] * 4  # production's default budget: 20 logins a minute
    assert login_tries[4] is not None
    assert elsewhere is None


async def test_the_graphql_helper_still_sees_plain_results(client):
    assert await graphql(client, "{ __typename }") == {"data": {"__typename": "Query"}}


def registration(number: int, valid: bool) -> dict[str, Any]:
    password = "Password123" if valid else "short"  # an invalid attempt spends budget too
    details = {"email": f"dev{number}@example.com", "username": f"dev{number}"}
    return {"query": REGISTER, "variables": {"input": {**details, "password": password}}}


async def test_development_lets_one_address_register_25_times_production_20(client_with):
    tries = [registration(number, valid=number % 2 == 0) for number in range(25)]
    async with client_with() as client:
        development = [await client.post("/graphql", json=body) for body in tries]
    async with client_with(environment="production", secret_key="s" * 32) as client:
        production = [await client.post("/graphql", json=body) for body in tries[:21]]
    codes = [[error["extensions"]["code"] for error in answer.json().get("errors", [])]
             for answer in development]  # fmt: skip
    assert codes == [[] if number % 2 == 0 else ["BAD_USER_INPUT"] for number in range(25)]
    assert [answer.status_code for answer in production[:20]] == [200] * 20
    refused = production[20]
    assert refused.status_code == 429
    [error] = refused.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 60 < error["extensions"]["retryAfter"] <= 3600  # register=20/hour
