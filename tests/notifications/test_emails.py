"""Notification emails: preferences per kind, a digest per window, RFC 8058 one-click
unsubscribe answered by the API, and the SPA's `unsubscribe(token)`; over real SMTP."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from blog_graphql.jobs import broker as jobs
from blog_graphql.notifications import preferences
from tests.content.helpers import error_fields
from tests.factories import create_comment, create_post, create_user
from tests.notifications.helpers import (
    PREFERENCES_FIELDS,
    UNSUBSCRIBE,
    UPDATE_PREFERENCES,
    USER_PREFERENCES,
)
from tests.smtp import Mailbox

DEFAULTS = {
    "commentsOnMyPosts": True,
    "repliesToMe": True,
    "newPostsByFollowed": False,
    "mentions": True,
}


def one_click_url(mail) -> str:
    header = str(mail.message["List-Unsubscribe"])
    [url] = re.findall(r"<([^>]+)>", header)
    return str(url)


def token_of(url: str) -> str:
    return str(parse_qs(urlsplit(url).query)["token"][0])


async def test_preferences_default_and_are_shown_only_to_the_user_themself(call, db, people):
    ada, bob = people["ada"], people["bob"]
    admin = await create_user(db, is_admin=True)
    mine = await call(USER_PREFERENCES, {"u": "ada"}, user=ada)
    assert mine == {"data": {"user": {"emailPreferences": DEFAULTS}}}
    for viewer in (bob, admin, None):
        body = await call(USER_PREFERENCES, {"u": "ada"}, user=viewer)
        assert body == {"data": {"user": {"emailPreferences": None}}}

    body = await call(UPDATE_PREFERENCES, {"input": {"mentions": False}}, user=ada)
    assert body["data"]["updateEmailPreferences"] == DEFAULTS | {"mentions": False}
    body = await call(UPDATE_PREFERENCES, {"input": {"newPostsByFollowed": True}}, user=ada)
    changed = DEFAULTS | {"mentions": False, "newPostsByFollowed": True}
    assert body["data"]["updateEmailPreferences"] == changed
    me = await call(f"{{ me {{ emailPreferences {{ {PREFERENCES_FIELDS} }} }} }}", user=ada)
    assert me["data"]["me"]["emailPreferences"] == changed


@pytest.fixture
async def digesting_mailbox(settings, db, smtp_server):
    """`mailbox` whose worker gathers notification emails for 2 seconds."""
    worker_settings = smtp_server.settings(
        settings, outbox_relay_interval_seconds=3600, notification_digest_seconds=2.0
    )
    worker = await asyncio.to_thread(jobs.start_in_process, worker_settings, poll_ms=50)
    yield Mailbox(server=smtp_server, worker=worker, settings=worker_settings)
    await asyncio.to_thread(worker.stop)


async def test_several_notifications_within_the_window_become_one_email(
    db, people, digesting_mailbox
):
    ada, bob, cy = people["ada"], people["bob"], people["cy"]
    mailbox = digesting_mailbox
    post = await create_post(db, author=ada, title="Tides")
    await create_comment(db, post=post, author=bob, content="first")
    await create_comment(db, post=post, author=cy, content="second, @ada")
    await create_comment(db, post=post, author=bob, content="third")

    [mail] = await mailbox.expect(1)

    assert mail.recipients == ["ada@example.com"]
    assert mail.subject == "3 new notifications"
    for line in (
        'bob commented on your post "Tides": first',
        'cyd mentioned you on "Tides": second, @ada',  # a mention wins
        'bob commented on your post "Tides": third',
    ):
        assert line in mail.text
    assert "http://127.0.0.1:8000/posts/tides" in mail.text
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = one_click_url(mail)
    assert url.startswith("http://127.0.0.1:8000/email/unsubscribe?token=")
    assert token_of(mail.link("/unsubscribe")) == token_of(url)  # the SPA's page, same token


async def test_one_click_unsubscribe_turns_the_kind_off_once(client, call, db, people, mailbox):
    ada, bob = people["ada"], people["bob"]
    post = await create_post(db, author=ada, title="Tides")
    await create_comment(db, post=post, author=bob, content="first")
    [mail] = await mailbox.expect(1)
    assert mail.subject == 'bob commented on "Tides"'
    url = urlsplit(one_click_url(mail))
    path = f"{url.path}?{url.query}"

    scanned = await client.get(path)  # a link scanner's GET changes nothing
    assert scanned.status_code == 303
    assert scanned.headers["location"] == mail.link("/unsubscribe")
    clicked = await client.post(
        path,
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert clicked.status_code == 200
    again = await client.post(path, content="List-Unsubscribe=One-Click")
    assert again.status_code == 400

    prefs = await call(USER_PREFERENCES, {"u": "ada"}, user=ada)
    assert prefs["data"]["user"]["emailPreferences"] == DEFAULTS | {"commentsOnMyPosts": False}
    await create_comment(db, post=post, author=bob, content="second")
    await mailbox.expect(1)  # no new email: the kind is off (the notification is made)
    count = await call("{ unreadNotificationCount }", user=ada)
    assert count == {"data": {"unreadNotificationCount": 2}}


async def test_the_spa_link_unsubscribes_once_and_forged_tokens_are_refused(
    call, db, people, mailbox, settings
):
    ada, bob, cy = people["ada"], people["bob"], people["cy"]
    post = await create_post(db, author=bob)
    parent = await create_comment(db, post=post, author=ada)
    await mailbox.drain()
    await create_comment(db, post=post, author=cy, parent=parent, content="yes")
    mails = await mailbox.expect(3)  # to bob (his post, twice) and to ada (the reply)
    [to_ada] = [mail for mail in mails if mail.recipients == ["ada@example.com"]]
    token = token_of(to_ada.link("/unsubscribe"))

    assert await call(UNSUBSCRIBE, {"token": token}) == {"data": {"unsubscribe": True}}
    assert "token" in error_fields(await call(UNSUBSCRIBE, {"token": token}))  # reused
    prefs = await call(USER_PREFERENCES, {"u": "ada"}, user=ada)
    assert prefs["data"]["user"]["emailPreferences"] == DEFAULTS | {"repliesToMe": False}

    forged = [
        "not a token",
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        preferences.unsubscribe_token("another-secret-" * 3, ada.id, ["MENTION"]),
        preferences.unsubscribe_token(settings.secret_key, 999_999, ["MENTION"]),
        preferences.unsubscribe_token(settings.secret_key, ada.id, ["NOPE"]),
    ]
    for bad in forged:
        assert "token" in error_fields(await call(UNSUBSCRIBE, {"token": bad})), bad
    prefs = await call(USER_PREFERENCES, {"u": "ada"}, user=ada)
    assert prefs["data"]["user"]["emailPreferences"]["mentions"] is True


@pytest.mark.parametrize(
    ("preference", "expected"),
    [("commentsOnMyPosts", ["bob@example.com"]), ("repliesToMe", ["ada@example.com"])],
)
async def test_preferences_apply_to_the_comment_emails(
    call, db, people, mailbox, preference, expected
):
    ada, bob, cy = people["ada"], people["bob"], people["cy"]
    for user in (ada, bob):
        await call(UPDATE_PREFERENCES, {"input": {preference: False}}, user=user)
    post = await create_post(db, author=ada)
    parent = await create_comment(db, post=post, author=bob)
    await mailbox.drain()
    mailbox.received.clear()
    await create_comment(db, post=post, author=cy, parent=parent)
    mails = await mailbox.expect(1)
    assert [mail.recipients[0] for mail in mails] == expected
