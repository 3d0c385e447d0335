"""Comment notifications are written in the comment's transaction, and their emails go
through the outbox (here with a digest window of 0); live-update hooks run only after
commit."""

from typing import Any

import pytest
from sqlalchemy import func, select

from blog_graphql.comments import notifications, service
from blog_graphql.comments.events import NO_EVENTS, EventKind
from blog_graphql.comments.models import Comment
from blog_graphql.config.settings import load_settings
from blog_graphql.emails.models import OutboxEmail
from blog_graphql.notifications import digest
from blog_graphql.notifications.models import Notification
from tests.content.helpers import ADD_COMMENT, post_id
from tests.factories import create_comment, create_post, create_user


class RecordedEvents:
    """A `CommentEvents` that remembers what it heard, and of which state of the comment."""

    def __init__(self) -> None:
        self.heard: list[tuple[EventKind, int, bool, bool]] = []

    async def comment_committed(self, kind: EventKind, comment: Comment) -> None:
        self.heard.append((kind, comment.id, comment.is_approved, comment.deleted_at is not None))


DIGEST_AT_ONCE = load_settings(notification_digest_seconds=0, _env_file=None)


async def outbox(db) -> list[tuple[str, str, dict[str, Any]]]:
    """The emails queued, once every pending notification email went out (a window of 0);
    without the unsubscribe token (random), which `test_notification_emails.py` checks."""
    async with db.session() as session:
        pending = await session.scalars(
            select(Notification.recipient_id).where(Notification.email_pending_since.is_not(None))
        )
        recipients = sorted(set(pending))
    for recipient in recipients:
        await digest.send_digest(db, DIGEST_AT_ONCE, recipient)
    async with db.session() as session:
        rows = await session.scalars(select(OutboxEmail).order_by(OutboxEmail.id))
        return [(row.template, row.recipient, _no_token(row.context)) for row in rows]


def _no_token(context: dict[str, Any]) -> dict[str, Any]:
    assert context.pop("unsubscribe_token")
    return context


@pytest.fixture
async def people(db):
    return {
        name: await create_user(db, username=name, email=f"{name}@example.com")
        for name in ("ada", "bob", "cy")
    }


async def test_a_comment_on_your_post_emails_you(db, people):
    post = await create_post(db, author=people["ada"], title="My <Post>")
    await create_comment(db, post=post, author=people["bob"], content="Great   post,\n really")
    assert await outbox(db) == [
        ("comment_on_post", "ada@example.com", {
            "username": "ada", "post_title": "My <Post>", "post_slug": "my-post",
            "commenter": "bob", "comment_excerpt": "Great post, really",
        }),
    ]  # fmt: skip


async def test_commenting_on_your_own_post_sends_nothing(db, people):
    post = await create_post(db, author=people["ada"])
    await create_comment(db, post=post, author=people["ada"])
    assert await outbox(db) == []


async def test_a_reply_emails_the_parent_author_and_the_post_author(db, people):
    post = await create_post(db, author=people["ada"])
    parent = await create_comment(db, post=post, author=people["bob"])
    await outbox(db)  # ada's email about it goes out (else a digest holds both comments)
    await create_comment(db, post=post, author=people["cy"], parent=parent, content="Agreed")
    emails = (await outbox(db))[1:]
    assert sorted((template, to) for template, to, _ in emails) == [
        ("comment_on_post", "ada@example.com"),
        ("reply_to_comment", "bob@example.com"),
    ]
    reply_context = next(context for template, _, context in emails if template.startswith("r"))
    assert reply_context["replier"] == "cy" and reply_context["username"] == "bob"
    assert reply_context["comment_excerpt"] == "Agreed"


@pytest.mark.parametrize(
    ("parent_author", "replier", "expected"),
    [
        ("bob", "ada", [("reply_to_comment", "bob@example.com")]),  # the post's author replies
        ("bob", "bob", [("comment_on_post", "ada@example.com")]),  # to yourself: only ada
        ("ada", "cy", [("reply_to_comment", "ada@example.com")]),  # ada hears once
        ("ada", "ada", []),
    ],
)
async def test_one_email_per_person_and_none_to_yourself(
    db, people, parent_author, replier, expected
):
    post = await create_post(db, author=people["ada"])
    parent = await create_comment(db, post=post, author=people[parent_author])
    before = len(await outbox(db))
    await create_comment(db, post=post, author=people[replier], parent=parent)
    assert [(template, to) for template, to, _ in (await outbox(db))[before:]] == expected


async def test_inactive_authors_get_no_email(db, people):
    gone = await create_user(db, is_active=False)
    post = await create_post(db, author=gone)
    await create_comment(db, post=post, author=people["bob"])
    assert await outbox(db) == []


async def test_a_rolled_back_comment_leaves_no_email_and_no_event(db, people, monkeypatch):
    post = await create_post(db, author=people["ada"])
    events = RecordedEvents()
    real_notices = notifications.queue_comment_notices

    async def notices_then_fail(session, comment):
        await real_notices(session, comment)
        # The notification is written in this very transaction.
        assert await session.scalar(select(func.count()).select_from(Notification)) == 1
        raise RuntimeError("the database went away")

    monkeypatch.setattr(notifications, "queue_comment_notices", notices_then_fail)
    with pytest.raises(RuntimeError):
        await create_comment(db, post=post, author=people["bob"], events=events)
    assert await outbox(db) == [] and events.heard == []
    async with db.session() as session:
        assert (await session.scalars(select(Comment))).all() == []


async def test_pre_moderated_comments_are_announced_once_on_first_approval(db, people):
    admin = await create_user(db, is_admin=True)
    post = await create_post(db, author=people["ada"])
    comment = await create_comment(db, post=post, author=people["bob"], approved=False)
    assert await outbox(db) == []
    for approved in (True, False, True):
        await service.moderate_comment(db, admin, comment.id, approved=approved, events=NO_EVENTS)
    assert [(template, to) for template, to, _ in await outbox(db)] == [
        ("comment_on_post", "ada@example.com")
    ]


async def test_the_live_update_hook_hears_each_committed_change(db, people):
    events = RecordedEvents()
    admin = await create_user(db, is_admin=True)
    post = await create_post(db, author=people["ada"])
    bob, ada = people["bob"], people["ada"]
    parent = await create_comment(db, post=post, author=bob, events=events)
    reply = await create_comment(
        db, post=post, author=ada, parent=parent, approved=False, events=events
    )
    await service.update_comment(db, bob, parent.id, "edited", events=events)
    await service.moderate_comment(db, admin, reply.id, approved=True, events=events)
    await service.moderate_comment(db, admin, reply.id, approved=False, events=events)
    await service.delete_comment(db, bob, parent.id, events=events)  # a tombstone: has a reply
    await service.delete_comment(db, ada, reply.id, events=events)  # the reply, then the tombstone
    assert events.heard == [
        ("added", parent.id, True, False),
        ("added", reply.id, False, False),
        ("edited", parent.id, True, False),
        ("approved", reply.id, True, False),
        ("hidden", reply.id, False, False),
        ("deleted", parent.id, True, True),
        ("deleted", reply.id, False, False),
        ("deleted", parent.id, True, True),
    ]


async def test_comment_and_reply_emails_arrive_over_smtp(call, db, mailbox, people):
    post = await create_post(db, author=people["ada"], title="Tides")
    body = await call(ADD_COMMENT, add(post, "Lovely <b>read</b>"), user=people["bob"])
    parent_id = body["data"]["addComment"]["id"]
    reply = {"input": {"postId": post_id(post), "content": "Agreed", "parentId": parent_id}}
    await call(ADD_COMMENT, reply, user=people["ada"])

    mails = sorted(await mailbox.expect(2), key=lambda mail: mail.recipients)
    to_ada, to_bob = mails
    assert to_ada.recipients == ["ada@example.com"]
    assert to_ada.subject == 'bob commented on "Tides"'
    assert "Lovely <b>read</b>" in to_ada.text and "<b>read</b>" not in to_ada.html
    assert to_bob.recipients == ["bob@example.com"] and "ada" in to_bob.subject
    assert "Agreed" in to_bob.text


def add(post, content):
    return {"input": {"postId": post_id(post), "content": content}}
