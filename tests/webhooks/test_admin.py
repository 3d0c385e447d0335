"""Managing webhooks: admins only, the secret shown once, and the SSRF guard on `url`."""

from __future__ import annotations

import httpx
import pytest
import standardwebhooks

from blog_graphql.app import create_app
from blog_graphql.relay.ids import encode_id
from blog_graphql.state import AppState
from tests.conftest import graphql
from tests.content.helpers import error_code, error_fields
from tests.factories import auth_headers, create_user
from tests.webhooks.helpers import CREATE, DELETE, UPDATE, WEBHOOKS, create_webhook, listed

PUBLIC_URL = "http://93.184.215.14/hooks"  # a public address literal: nothing to resolve


@pytest.fixture
def public_only(settings):
    """The production default: private destinations refused."""
    return settings.model_copy(update={"webhook_allow_private": False})


async def test_only_admins_manage_or_list_webhooks(client, db, settings):
    admin = await create_user(db, username="root", is_admin=True)
    ada = await create_user(db, username="ada")
    hook_id, _ = await create_webhook(
        client, await auth_headers(db, settings, admin), PUBLIC_URL, ["POST_PUBLISHED"]
    )
    user = await auth_headers(db, settings, ada)
    variables = {"url": PUBLIC_URL, "events": ["POST_PUBLISHED"]}

    assert error_code(await graphql(client, CREATE, variables, user)) == "FORBIDDEN"
    assert error_code(await graphql(client, WEBHOOKS, headers=user)) == "FORBIDDEN"
    assert error_code(await graphql(client, UPDATE, {"id": hook_id, "active": False}, user)) == (
        "FORBIDDEN"
    )
    assert error_code(await graphql(client, DELETE, {"id": hook_id}, user)) == "FORBIDDEN"
    assert error_code(await graphql(client, CREATE, variables)) == "UNAUTHENTICATED"
    refetch = "query($id: ID!) { node(id: $id) { id ... on Webhook { url } } }"
    assert (await graphql(client, refetch, {"id": hook_id}, user))["data"]["node"] is None
    as_admin = await graphql(
        client, refetch, {"id": hook_id}, await auth_headers(db, settings, admin)
    )
    assert as_admin["data"]["node"] == {"id": hook_id, "url": PUBLIC_URL}


async def test_the_secret_is_shown_once_and_signs_as_standard_webhooks_reads_it(
    client, db, settings
):
    admin = await auth_headers(db, settings, await create_user(db, is_admin=True))

    body = await graphql(
        client, CREATE, {"url": PUBLIC_URL, "events": ["POST_PUBLISHED", "USER_REGISTERED"]}, admin
    )

    created = body["data"]["createWebhook"]
    assert created["secret"].startswith("whsec_")
    standardwebhooks.Webhook(created["secret"])  # a secret the library accepts
    assert created["webhook"]["events"] == ["POST_PUBLISHED", "USER_REGISTERED"]
    assert created["webhook"]["active"] is True
    [hook] = await listed(client, admin)
    assert hook["url"] == PUBLIC_URL and "secret" not in hook
    assert hook["deliveries"] == {"totalCount": 0, "edges": []}


async def test_admins_change_disable_and_delete_a_webhook(client, db, settings):
    admin = await auth_headers(db, settings, await create_user(db, is_admin=True))
    hook_id, _ = await create_webhook(client, admin, PUBLIC_URL, ["POST_PUBLISHED"])

    changed = await graphql(
        client, UPDATE, {"id": hook_id, "events": ["COMMENT_ADDED"], "active": False}, admin
    )
    assert changed["data"]["updateWebhook"] == {
        "id": hook_id, "url": PUBLIC_URL, "events": ["COMMENT_ADDED"], "active": False,
    }  # fmt: skip
    assert (await graphql(client, DELETE, {"id": hook_id}, admin))["data"] == {
        "deleteWebhook": True
    }
    assert await listed(client, admin) == []
    assert error_code(await graphql(client, DELETE, {"id": hook_id}, admin)) == "NOT_FOUND"
    missing = encode_id("WebhookDelivery", 999)
    redeliver = "mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id } }"
    assert error_code(await graphql(client, redeliver, {"id": missing}, admin)) == "NOT_FOUND"


async def test_a_webhook_needs_at_least_one_event(client, db, settings):
    admin = await auth_headers(db, settings, await create_user(db, is_admin=True))

    body = await graphql(client, CREATE, {"url": PUBLIC_URL, "events": []}, admin)

    assert set(error_fields(body)) == {"events"}


@pytest.mark.parametrize(
    "url",
    [
        "ftp://93.184.215.14/hooks",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http://",
        "http://127.0.0.1/hooks",
        "http://127.0.0.1:8000/hooks",
        "http://10.1.2.3/hooks",
        "http://192.168.0.10/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://0.0.0.0/hooks",
        "http://localhost/hooks",
        "https://localhost:8443/hooks",
        "http://no-such-host.invalid/hooks",
        "http://93.184.215.14/with space",
    ],
)
async def test_a_url_that_is_not_http_or_not_public_is_bad_user_input_on_url(db, public_only, url):
    app = create_app(state=AppState(settings=public_only, db=db))
    admin = await auth_headers(db, public_only, await create_user(db, is_admin=True))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        created = await graphql(client, CREATE, {"url": url, "events": ["POST_PUBLISHED"]}, admin)
        assert set(error_fields(created)) == {"url"}
        hook_id, _ = await create_webhook(client, admin, PUBLIC_URL, ["POST_PUBLISHED"])
        updated = await graphql(client, UPDATE, {"id": hook_id, "url": url}, admin)
        assert set(error_fields(updated)) == {"url"}
        [hook] = await listed(client, admin)
    assert hook["url"] == PUBLIC_URL


async def test_private_destinations_are_allowed_when_the_flag_says_so(client, db, settings):
    assert settings.webhook_allow_private
    admin = await auth_headers(db, settings, await create_user(db, is_admin=True))

    body = await graphql(
        client, CREATE, {"url": "http://localhost:9/x", "events": ["POST_PUBLISHED"]}, admin
    )

    assert body["data"]["createWebhook"]["webhook"]["url"] == "http://localhost:9/x"
    ftp = await graphql(
        client, CREATE, {"url": "ftp://localhost/x", "events": ["POST_PUBLISHED"]}, admin
    )
    assert set(error_fields(ftp)) == {"url"}
