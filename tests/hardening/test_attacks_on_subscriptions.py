"""Attacks with the real comment subscriptions: a flood of subscriptions on one socket,
and forged tokens in `connection_init` (the test app, for its `listening` probe)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from blog_graphql.accounts.tokens import encode_token
from blog_graphql.comments.events import post_channel
from tests.factories import auth_headers, create_post, create_user
from tests.hardening.test_attacks_on_sockets import closed_with
from tests.hardening.test_websocket import PROTOCOL, assert_still_serves, open_socket
from tests.live.comments import COMMENT_ADDED, add_comment, listening, post_id
from tests.live_server import clean_environment, live_server

REPO = Path(__file__).resolve().parents[2]
FLOOD = 120
LIMIT = 20  # WS_MAX_SUBSCRIPTIONS_PER_CONNECTION's default


@pytest.fixture
def server(database_url):
    env = clean_environment(DATABASE_URL=database_url)
    with live_server(env, cwd=REPO, command=("-m", "tests.live.serve")) as running:
        yield running


async def test_a_flood_of_subscriptions_on_one_socket_is_capped_and_the_rest_keep_working(
    server, db, settings
):
    ada, bob = await create_user(db), await create_user(db)
    post = await create_post(db, author=ada)
    socket = await open_socket(server)
    payload = {"query": COMMENT_ADDED, "variables": {"post": post_id(post)}}
    for n in range(FLOOD):
        await socket.send(json.dumps({"id": str(n), "type": "subscribe", "payload": payload}))
    refusals = [json.loads(await socket.recv()) for _ in range(FLOOD - LIMIT)]
    await listening(server, post_channel(post.id), LIMIT)
    comment_id = add_comment(server, (await auth_headers(db, settings, bob))["Authorization"],
                             post, "heard by the first twenty")  # fmt: skip
    heard = [json.loads(await socket.recv()) for _ in range(LIMIT)]
    await socket.close()
    await assert_still_serves(server)
    assert {message["type"] for message in refusals} == {"error"}
    assert {message["payload"][0]["message"] for message in refusals} == {
        "Subscription limit reached"
    }
    assert sorted(int(message["id"]) for message in refusals) == list(range(LIMIT, FLOOD))
    assert sorted(int(message["id"]) for message in heard) == list(range(LIMIT))
    assert {message["payload"]["data"]["commentAdded"]["id"] for message in heard} == {comment_id}


def unsigned(token: str) -> str:
    """The token's claims with `alg: none` and no signature."""
    _, claims, _ = token.split(".")
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    return f"{header}.{claims}."


async def test_a_forged_token_in_connection_init_is_closed_with_4403(server, db, settings):
    admin = await create_user(db, is_admin=True)
    real = (await auth_headers(db, settings, admin))["Authorization"].split()[1]
    claims = json.loads(base64.urlsafe_b64decode(real.split(".")[1] + "=="))
    other_key = settings.model_copy(update={"secret_key": "an attacker's key " * 3})
    resigned = encode_token(
        other_key, user_id=admin.id, session_id=claims["sid"], token_type="access",
        lifetime=timedelta(minutes=5),
    )  # fmt: skip
    for forged in (resigned, unsigned(real), real[:-4] + "AAAA"):
        socket = await connect(server.ws_url, subprotocols=[PROTOCOL])
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {forged}"}}
        assert await closed_with(socket, init) == 4403
    await assert_still_serves(server)
