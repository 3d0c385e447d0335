"""Browser safety: security headers, CORS, trusted hosts, and a GraphiQL page that loads only us."""

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from blog_graphql.accounts.models import AuthSession
from blog_graphql.config.settings import ConfigError, load_settings
from blog_graphql.http import graphiql
from tests.accounts.operations import LOGIN, ME, REFRESH
from tests.factories import DEFAULT_PASSWORD, create_user

PRODUCTION = {"environment": "production", "secret_key": "s" * 32}
SELF_ONLY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


async def test_api_answers_carry_security_headers_and_hsts_only_in_production(client_with):
    async with client_with() as client:
        development = await client.post("/graphql", json={"query": "{ __typename }"})
    async with client_with(**PRODUCTION) as client:
        production = await client.post("/graphql", json={"query": "{ __typename }"})
    for response in (development, production):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "strict-transport-security" not in development.headers
    assert production.headers["strict-transport-security"].startswith("max-age=63072000")


async def test_every_answer_has_each_header_once_and_varies_by_origin(client):
    given_id = "proxy-given-id-123"
    plain = await client.post("/graphql", json={"query": "{ __typename }"})
    cross = await client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"origin": "https://elsewhere.example", "x-request-id": given_id},
    )
    for response in (plain, cross):
        [vary] = response.headers.get_list("vary")  # one header, so caches keep answers apart
        assert "Origin" in [name.strip() for name in vary.split(",")]
        for name in ("x-request-id", "x-content-type-options", "content-security-policy"):
            assert len(response.headers.get_list(name)) == 1, name
    assert cross.headers["x-request-id"] == given_id


async def test_cors_answers_only_the_configured_origins(client_with):
    preflight = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
    }
    async with client_with(cors_origins="https://app.example") as client:
        allowed = await client.options(
            "/graphql", headers={"origin": "https://app.example", **preflight}
        )
        foreign = await client.options(
            "/graphql", headers={"origin": "https://evil.example", **preflight}
        )
        simple = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"origin": "https://evil.example"}
        )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert foreign.status_code == 400
    assert "access-control-allow-origin" not in foreign.headers
    assert "access-control-allow-origin" not in simple.headers  # its page cannot read it


PREFLIGHT = {
    "access-control-request-method": "POST",
    "access-control-request-headers": "content-type",
}
LOOPBACK_PAGES = [
    "http://localhost:5173",
    "https://localhost:8443",
    "http://127.0.0.1:3000",
    "http://[::1]:5173",
    "http://localhost",
]
NOT_LOOPBACK = [
    "http://localhost.evil.example:5173",
    "http://127.0.0.2:5173",
    "https://app.example",
]


async def preflight_from(client, origin: str):
    return await client.options("/graphql", headers={"origin": origin, **PREFLIGHT})


async def test_development_allows_loopback_pages_by_default_and_nothing_else(client_with):
    async with client_with() as client:
        allowed = [await preflight_from(client, origin) for origin in LOOPBACK_PAGES]
        refused = [await preflight_from(client, origin) for origin in NOT_LOOPBACK]
        answer = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"origin": LOOPBACK_PAGES[0]}
        )
    for origin, response in zip(LOOPBACK_PAGES, allowed, strict=True):
        assert response.status_code == 200, origin
        assert response.headers["access-control-allow-origin"] == origin
    for response in refused:
        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers
    assert answer.json() == {"data": {"__typename": "Query"}}
    assert answer.headers["access-control-allow-origin"] == LOOPBACK_PAGES[0]


async def test_production_and_a_configured_list_allow_no_loopback_page(client_with):
    async with client_with(**PRODUCTION) as client:
        production = await preflight_from(client, "http://localhost:5173")
    async with client_with(cors_origins="https://app.example") as client:
        listed = await preflight_from(client, "http://localhost:5173")
        configured = await preflight_from(client, "https://app.example")
    assert production.status_code == 400
    assert listed.status_code == 400  # a configured list replaces the default
    assert configured.status_code == 200


async def test_a_host_outside_allowed_hosts_is_refused(client_with):
    async with client_with(base_url="http://evil.example", allowed_hosts="api.example") as client:
        refused = await client.post("/graphql", json={"query": "{ __typename }"})
    async with client_with(base_url="http://api.example", allowed_hosts="api.example") as client:
        served = await client.post("/graphql", json={"query": "{ __typename }"})
    assert refused.status_code == 400
    assert served.json() == {"data": {"__typename": "Query"}}


async def test_the_graphiql_page_loads_only_files_this_server_has(client):
    page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.headers["content-security-policy"] == SELF_ONLY
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert urls and all(url.startswith("/graphiql/") for url in urls)
    assert "<script>" not in page.text and "style=" not in page.text  # nothing inline
    for url in urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url


def test_the_vendored_stylesheet_inlines_nothing_and_names_files_that_exist():
    vendor = Path(graphiql.__file__).parent / "graphiql" / "vendor"
    stylesheet = (vendor / "graphiql.min.css").read_text()
    assert "data:" not in stylesheet and "http" not in stylesheet
    for name in set(re.findall(r"url\(([^)]+)\)", stylesheet)):
        assert (vendor / name.strip("'\"")).is_file(), name
    assert (vendor / "NOTICE").is_file() and (vendor / "LICENSE.graphiql").is_file()


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"rate_limit_client": "ten a minute"}, "RATE_LIMIT_CLIENT"),
        ({"rate_limit_fields": "login"}, "RATE_LIMIT_FIELDS"),
        ({"trusted_proxies": "10.0.0.0/8,proxy"}, "TRUSTED_PROXIES"),
        ({"query_max_depth": "0"}, "QUERY_MAX_DEPTH"),
        ({"max_body_bytes": "12"}, "MAX_BODY_BYTES"),
        ({"cors_origins": "localhost:5173"}, "CORS_ORIGINS"),
        ({"cors_origins": "https://app.example/path"}, "CORS_ORIGINS"),
        ({"redis_url": "notaurl"}, "REDIS_URL"),
        ({"public_url": "app.example"}, "PUBLIC_URL"),
        ({"emails_from": "nobody"}, "EMAILS_FROM"),
        ({"port": "70000"}, "PORT"),
    ],
)
def test_a_bad_hardening_setting_names_its_variable(values, variable):
    with pytest.raises(ConfigError, match=f"^{variable}:"):
        load_settings(_env_file=None, **values)


async def test_tokens_private_answers_and_mutations_are_never_stored(client, db):
    """RFC 6749 5.1 and API.md: login, refresh, every request with `Authorization` and every
    mutation answer `Cache-Control: no-store`; an anonymous query is left to HTTP caching."""
    await create_user(db, username="ada", password=DEFAULT_PASSWORD)
    credentials = {"login": "ada", "password": DEFAULT_PASSWORD}
    signed_in = await client.post("/graphql", json={"query": LOGIN, "variables": credentials})
    tokens = signed_in.json()["data"]["login"]
    refreshed = await client.post(
        "/graphql", json={"query": REFRESH, "variables": {"token": tokens["refreshToken"]}}
    )
    authorization = {
        "Authorization": f"Bearer {refreshed.json()['data']['refreshToken']['accessToken']}"
    }
    mine = await client.post("/graphql", json={"query": ME}, headers=authorization)
    mine_by_get = await client.get("/graphql", params={"query": ME}, headers=authorization)
    bad_token = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Authorization": "Bearer x"}
    )
    refused_mutation = await client.post("/graphql", json={"query": "mutation { nothing }"})
    failed_login = await client.post(
        "/graphql", json={"query": LOGIN, "variables": {**credentials, "password": "Wrong1234"}}
    )
    anonymous = await client.post("/graphql", json={"query": "{ tags { name } }"})
    anonymous_get = await client.get("/graphql", params={"query": "{ tags { name } }"})

    stored = [signed_in, refreshed, mine, mine_by_get, bad_token, refused_mutation, failed_login]
    assert [response.headers.get("cache-control") for response in stored] == ["no-store"] * 7
    assert mine.json() == {
        "data": {"me": {"username": "ada", "email": "ada@example.com", "emailVerified": True}}
    }
    assert bad_token.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    for response in (anonymous, anonymous_get):
        assert response.json() == {"data": {"tags": []}}
        assert "no-store" not in response.headers.get("cache-control", "")
    async with db.session() as session:  # one login, one session: nothing else was written
        assert await session.scalar(select(func.count()).select_from(AuthSession)) == 1
