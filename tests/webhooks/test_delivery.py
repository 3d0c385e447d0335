"""Sending: signed after commit, retried on the schedule, logged, redelivered, disabled."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import standardwebhooks

from blog_graphql.accounts import service as accounts
from blog_graphql.db.database import utcnow
from blog_graphql.jobs import workers
from blog_graphql.posts import service as posts_service
from blog_graphql.relay.ids import encode_id
from blog_graphql.webhooks.models import DELIVERED, FAILED
from tests.conftest import graphql
from tests.content.helpers import DELETE_POST, PUBLISH_POST, error_code
from tests.factories import auth_headers, create_post, create_user
from tests.webhooks.helpers import REDELIVER, attempts, create_webhook, deliveries, listed


async def test_a_publication_is_posted_signed_and_retried_after_a_500(
    client, db, settings, mailbox, receiver
):
    admin_user = await create_user(db, username="root", is_admin=True)
    admin = await auth_headers(db, settings, admin_user)
    _, secret = await create_webhook(client, admin, receiver.url("localhost"), ["POST_PUBLISHED"])
    draft = await create_post(db, author=admin_user, title="Hello hooks", published=False)
    receiver.answer(500)

    published = await graphql(client, PUBLISH_POST, {"id": encode_id("Post", draft.id)}, admin)
    assert "errors" not in published, published
    await mailbox.drain()

    first, second = receiver.wait_for(2)
    assert first.body == second.body and first.headers["webhook-id"] == second.headers["webhook-id"]
    # The receiver checks the signature with the Standard Webhooks library itself.
    payload = standardwebhooks.Webhook(secret).verify(second.body, second.headers)
    assert payload["type"] == "post.published"
    assert payload["data"]["id"] == encode_id("Post", draft.id)
    assert payload["data"]["title"] == "Hello hooks"
    assert payload["data"]["published"] is True
    assert payload["data"]["slug"] == published["data"]["publishPost"]["slug"]  # as committed
    assert payload["data"]["author"] == {"id": encode_id("User", admin_user.id), "username": "root"}
    assert payload["timestamp"].endswith("Z")
    # The address was resolved and pinned, the name kept for the Host header.
    assert second.headers["host"] == f"localhost:{receiver.port}"
    [hook] = await listed(client, admin)
    [delivery] = [edge["node"] for edge in hook["deliveries"]["edges"]]
    assert delivery["event"] == "POST_PUBLISHED"
    assert (delivery["attempts"], delivery["lastStatus"], delivery["lastError"]) == (2, 200, None)
    assert delivery["deliveredAt"] is not None and delivery["nextAttemptAt"] is None
    logged = await attempts(db)
    assert [(a.status_code, a.error) for a in logged] == [(500, "HTTP 500"), (200, None)]


async def test_a_hanging_receiver_times_out_and_is_retried_while_others_are_served(
    client, db, settings, mailbox, receiver, second_receiver
):
    admin_user = await create_user(db, is_admin=True)
    admin = await auth_headers(db, settings, admin_user)
    await create_webhook(client, admin, receiver.url(), ["POST_PUBLISHED"])
    await create_webhook(client, admin, second_receiver.url(), ["POST_PUBLISHED"])
    draft = await create_post(db, author=admin_user, published=False)
    receiver.answer("hang")

    published = await graphql(client, PUBLISH_POST, {"id": encode_id("Post", draft.id)}, admin)
    answered_at = utcnow()
    assert "errors" not in published

    # The other webhook's message arrives while the first receiver still hangs.
    await asyncio.to_thread(receiver.hanging.wait, 30)
    await asyncio.to_thread(second_receiver.wait_for, 1)
    assert receiver.hanging.is_set()
    await mailbox.drain()

    assert len(receiver.wait_for(2)) == 2  # timed out, then retried and answered
    hung, _served, retried = sorted(await attempts(db), key=lambda a: (a.delivery_id, a.id))
    assert hung.status_code is None and hung.error == "timed out after 1 s"
    # The mutation had answered before the attempt gave up: it did not wait for it.
    assert answered_at < hung.attempted_at + timedelta(milliseconds=hung.duration_ms)
    assert retried.status_code == 200
    assert all(row.status == DELIVERED for row in await deliveries(db))


async def test_a_redelivery_sends_the_same_message_again_as_a_new_attempt(
    client, db, settings, mailbox, receiver
):
    admin_user = await create_user(db, is_admin=True)
    admin = await auth_headers(db, settings, admin_user)
    _, secret = await create_webhook(client, admin, receiver.url(), ["POST_PUBLISHED"])
    await create_post(db, author=admin_user)
    await mailbox.drain()
    [delivery] = await deliveries(db)

    body = await graphql(
        client, REDELIVER, {"id": encode_id("WebhookDelivery", delivery.id)}, admin
    )
    assert body["data"]["redeliverWebhook"]["event"] == "POST_PUBLISHED"
    await mailbox.drain()

    original, again = receiver.wait_for(2)
    assert again.headers["webhook-id"] == original.headers["webhook-id"] == delivery.message_id
    assert again.body == original.body
    standardwebhooks.Webhook(secret).verify(again.body, again.headers)
    [row] = await deliveries(db)
    assert (row.attempts, row.status, row.last_status) == (2, DELIVERED, 200)
    assert [a.manual for a in await attempts(db)] == [False, True]


async def test_a_delivery_failing_its_whole_schedule_disables_the_webhook_and_tells_admins(
    client, db, settings, mailbox, receiver
):
    admin_user = await create_user(db, username="root", is_admin=True)
    await create_user(db, username="bob")  # not an admin: not told
    admin = await auth_headers(db, settings, admin_user)
    hook_id, _ = await create_webhook(client, admin, receiver.url(), ["POST_PUBLISHED"])
    receiver.answer(500, 500, 503)  # the first attempt and both retries of [0, 1]

    await create_post(db, author=admin_user)
    await mailbox.drain()  # the webhook's attempts; the email they queued goes next
    [mail] = await mailbox.expect(1)

    assert len(receiver.received) == 3
    assert mail.recipients == ["root@example.com"]
    assert mail.subject == "A webhook was disabled after failing for too long"
    assert receiver.url() in mail.text and "HTTP 503" in mail.text
    [hook] = await listed(client, admin)
    assert hook["id"] == hook_id and hook["active"] is False
    [row] = await deliveries(db)
    assert (row.status, row.attempts, row.last_status) == (FAILED, 3, 503)
    # Disabled: later events are not sent to it.
    await create_post(db, author=admin_user)
    await mailbox.drain()
    assert len(receiver.received) == 3 and len(await deliveries(db)) == 1
    again = await graphql(client, REDELIVER, {"id": encode_id("WebhookDelivery", row.id)}, admin)
    assert error_code(again) == "BAD_USER_INPUT"


async def test_a_rolled_back_publication_sends_nothing(
    client, db, settings, mailbox, receiver, monkeypatch
):
    admin_user = await create_user(db, is_admin=True)
    admin = await auth_headers(db, settings, admin_user)
    await create_webhook(client, admin, receiver.url(), ["POST_PUBLISHED"])
    draft = await create_post(db, author=admin_user, published=False)

    async def fail(*_args: object) -> str:
        raise RuntimeError("the database went away")

    # Fails after the publication was announced, inside the same transaction.
    monkeypatch.setattr(posts_service, "_public_slug", fail)
    body = await graphql(client, PUBLISH_POST, {"id": encode_id("Post", draft.id)}, admin)
    assert error_code(body) == "INTERNAL_SERVER_ERROR"
    await mailbox.drain()
    assert (await deliveries(db), receiver.received) == ([], [])

    monkeypatch.undo()
    await graphql(client, PUBLISH_POST, {"id": encode_id("Post", draft.id)}, admin)
    await mailbox.drain()
    assert len(receiver.wait_for(1)) == 1


async def test_the_send_time_check_refuses_a_name_that_now_resolves_privately(
    client, db, settings, mailbox, receiver, monkeypatch
):
    """DNS rebinding: the name passed when created; at the send it resolves to 127.0.0.1."""
    admin_user = await create_user(db, is_admin=True)
    admin = await auth_headers(db, settings, admin_user)
    await create_webhook(client, admin, receiver.url("localhost"), ["POST_PUBLISHED"])
    # The worker's settings from now on, as if the name had changed since.
    monkeypatch.setattr(workers.current_runtime().settings, "webhook_allow_private", False)

    await create_post(db, author=admin_user)
    await mailbox.drain()

    assert receiver.received == []
    row, *_ = await deliveries(db)
    assert (
        row.last_error == "refused: localhost resolves to a private, loopback or link-local address"
    )
    assert row.attempts == 3 and row.status == FAILED


async def test_comment_and_registration_events_carry_their_subject(
    client, db, settings, mailbox, receiver
):
    admin_user = await create_user(db, username="root", is_admin=True)
    admin = await auth_headers(db, settings, admin_user)
    events = ["COMMENT_ADDED", "COMMENT_DELETED", "USER_REGISTERED", "POST_DELETED"]
    _, secret = await create_webhook(client, admin, receiver.url(), events)
    post = await create_post(db, author=admin_user)

    register = """mutation { register(input: {email: "ada@example.com", username: "ada",
      password: "Passw0rd!x"}) { id } }"""
    user_id = (await graphql(client, register))["data"]["register"]["id"]
    ada_user = await accounts.find_user_by_username(db, "ada")
    assert ada_user is not None
    ada = await auth_headers(db, settings, ada_user)
    add = "mutation($input: AddCommentInput!) { addComment(input: $input) { id } }"
    added = await graphql(
        client, add, {"input": {"postId": encode_id("Post", post.id), "content": "Hi"}}, ada
    )
    comment_id = added["data"]["addComment"]["id"]
    await graphql(client, "mutation($id: ID!) { deleteComment(id: $id) }", {"id": comment_id}, ada)
    await graphql(client, DELETE_POST, {"id": encode_id("Post", post.id)}, admin)
    await mailbox.drain()

    signer = standardwebhooks.Webhook(secret)
    payloads = [signer.verify(request.body, request.headers) for request in receiver.wait_for(4)]
    by_type = {payload["type"]: payload["data"] for payload in payloads}
    assert set(by_type) == {"user.registered", "comment.added", "comment.deleted", "post.deleted"}
    assert by_type["post.deleted"]["id"] == encode_id("Post", post.id)
    assert by_type["post.deleted"]["title"] == post.title  # as it was last
    assert by_type["user.registered"]["id"] == user_id
    assert by_type["user.registered"]["username"] == "ada"
    assert by_type["comment.added"]["id"] == comment_id
    assert by_type["comment.added"]["content"] == "Hi"
    assert by_type["comment.added"]["postId"] == encode_id("Post", post.id)
    assert by_type["comment.added"]["authorId"] == user_id
    assert by_type["comment.deleted"]["id"] == comment_id
    assert json.loads(receiver.received[0].body)["timestamp"]


async def test_a_webhook_deleted_during_an_attempt_leaves_nothing_behind(
    client, db, settings, mailbox, receiver
):
    admin_user = await create_user(db, is_admin=True)
    admin = await auth_headers(db, settings, admin_user)
    hook_id, _ = await create_webhook(client, admin, receiver.url(), ["POST_PUBLISHED"])
    receiver.answer("hang")

    await create_post(db, author=admin_user)
    await asyncio.to_thread(receiver.hanging.wait, 30)
    deleted = await graphql(
        client, "mutation($id: ID!) { deleteWebhook(id: $id) }", {"id": hook_id}, admin
    )
    assert deleted["data"] == {"deleteWebhook": True}
    await mailbox.drain()

    assert (await deliveries(db), await attempts(db)) == ([], [])
    assert len(receiver.received) == 1
