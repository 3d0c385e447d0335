"""The outbox through the in-process worker: an action's email arrives once, after commit."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from dramatiq.middleware import Middleware

from blog_graphql.db.database import utcnow
from blog_graphql.emails.actors import send_email
from blog_graphql.emails.models import ENQUEUED, FAILED, PENDING, SENT, OutboxEmail
from blog_graphql.emails.outbox import CONFIRM_TIMEOUT, HANDOVER_GRACE, queue_email
from blog_graphql.emails.relay import relay_due_emails
from blog_graphql.emails.templates import TemplateError
from blog_graphql.jobs import broker as jobs
from tests.emails.stand_in import ActionFailed, add_unsent_row, only_row, outbox_rows, sign_up
from tests.smtp import TRANSIENT_REPLY


async def test_an_actions_email_arrives_once_after_commit(db, mailbox):
    token = await sign_up(db, "ada")

    [mail] = await mailbox.expect(1)
    assert mail.recipients == ["ada@example.com"]
    assert mail.subject == "Welcome to blog_graphql, ada"
    assert mail.link("/verify-email") == f"http://127.0.0.1:8000/verify-email?token={token}"
    assert f'href="http://127.0.0.1:8000/verify-email?token={token}"' in mail.html
    row = await only_row(db)
    assert (row.status, row.attempts, row.sent_at is not None) == (SENT, 1, True)
    # Development keeps the raw token for /dev/mailbox; production drops it once sent
    # (test_mailbox.py::test_production_has_no_mailbox_and_drops_tokens_once_sent).
    assert row.context == {"username": "ada", "token": token}


class EnqueueRecorder(Middleware):
    def __init__(self) -> None:
        self.messages: list[tuple[str, tuple[object, ...]]] = []

    def after_enqueue(self, broker, message, delay) -> None:
        self.messages.append((message.actor_name, tuple(message.args)))


async def test_the_broker_hears_of_an_email_only_after_its_action_commits(db, mailbox):
    recorder = EnqueueRecorder()
    jobs.broker().add_middleware(recorder)

    with pytest.raises(ActionFailed):
        await sign_up(db, "bob", fail_after_queueing=True)
    assert (recorder.messages, await outbox_rows(db)) == ([], [])

    await sign_up(db, "bob")
    row = await only_row(db)
    assert recorder.messages == [("send_email", (row.id, row.idempotency_key))]
    assert row.status == ENQUEUED
    await mailbox.expect(1)


async def test_without_redis_or_a_worker_here_the_email_waits_for_serves_relay(
    db, settings, smtp_server
):
    jobs.configure(settings, fresh=True)  # a command's process: no Redis, no worker

    await sign_up(db, "bob")

    row = await only_row(db)
    assert row.status == PENDING
    assert row.next_attempt_at is not None and row.next_attempt_at <= utcnow()
    worker = await asyncio.to_thread(
        jobs.start_in_process, smtp_server.settings(settings), poll_ms=50
    )  # `serve`, whose relay runs at start
    try:
        await smtp_server.wait_for(1)
    finally:
        await asyncio.to_thread(worker.stop)
    assert (await only_row(db)).status == SENT


async def test_a_message_delivered_twice_sends_one_email(db, mailbox):
    await sign_up(db, "cy")
    row = await only_row(db)

    # A redelivery: the broker hands the same message over again.
    await jobs.enqueue(send_email.message(row.id, row.idempotency_key))
    await jobs.enqueue(send_email.message(row.id, row.idempotency_key))

    await mailbox.expect(1)
    assert (await only_row(db)).attempts == 1


async def test_a_message_with_a_wrong_idempotency_key_sends_nothing(db, mailbox):
    await sign_up(db, "dee")
    await mailbox.expect(1)
    row = await only_row(db)

    await jobs.enqueue(send_email.message(row.id, "not-the-key"))

    await mailbox.expect(1)


async def test_a_transient_refusal_is_retried_and_the_email_arrives_once(db, mailbox):
    mailbox.server.refuse_transiently(times=2)

    await sign_up(db, "eve")

    [mail] = await mailbox.expect(1)
    assert mail.recipients == ["eve@example.com"]
    assert mailbox.server.recipient_attempts == 3
    row = await only_row(db)
    assert (row.status, row.attempts) == (SENT, 3)
    assert row.last_error is not None and row.last_error.startswith("451 4.7.1")


async def test_a_permanent_refusal_fails_the_row_and_dead_letters_the_message(db, mailbox):
    mailbox.server.refuse_permanently()

    await sign_up(db, "fay")

    await mailbox.expect(0)
    assert mailbox.server.recipient_attempts == 1  # not retried
    row = await only_row(db)
    assert (row.status, row.attempts) == (FAILED, 1)
    assert row.last_error == "550 5.1.1 No such mailbox here"
    [dead] = jobs.broker().dead_letters  # type: ignore[attr-defined]
    assert tuple(dead.args) == (row.id, row.idempotency_key)


async def test_retries_end_after_the_limit_with_the_row_failed(db, settings, smtp_server):
    worker_settings = smtp_server.settings(settings, email_max_retries=2)
    worker = await asyncio.to_thread(jobs.start_in_process, worker_settings, poll_ms=50)
    try:
        smtp_server.refuse_transiently(times=10)
        await sign_up(db, "gus")
        await asyncio.to_thread(worker.drain)
    finally:
        await asyncio.to_thread(worker.stop)

    assert smtp_server.received == []
    assert smtp_server.recipient_attempts == 3  # the first attempt and two retries
    row = await only_row(db)
    assert row.status == FAILED
    assert row.last_error == f"gave up after 3 attempts: {TRANSIENT_REPLY}"
    assert len(jobs.broker().dead_letters) == 1  # type: ignore[attr-defined]


async def test_queue_email_refuses_an_unknown_template_or_a_missing_key(db):
    async with db.transaction() as session:
        with pytest.raises(TemplateError, match="unknown email template 'welcom'"):
            queue_email(session, template="welcom", to="a@example.com", context={})
        with pytest.raises(TemplateError, match="needs token"):
            queue_email(session, template="welcome", to="a@example.com", context={"username": "a"})
    assert await outbox_rows(db) == []


# --- the relay ---------------------------------------------------------------------------


async def test_the_relay_hands_over_a_row_that_missed_its_hand_over(db, mailbox):
    now = utcnow()
    await add_unsent_row(db, status=PENDING, next_attempt_at=now + HANDOVER_GRACE)

    assert await relay_due_emails(db, now=now) == 0  # still within the grace period
    assert await relay_due_emails(db, now=now + HANDOVER_GRACE) == 1
    assert await relay_due_emails(db, now=now + HANDOVER_GRACE) == 0  # taken

    [mail] = await mailbox.expect(1)
    assert mail.link("/reset-password") == "http://127.0.0.1:8000/reset-password?token=t0k3n"
    assert (await only_row(db)).status == SENT


async def test_the_relay_hands_over_again_what_was_not_confirmed_in_time(db, mailbox):
    # Handed over, then lost with the in-memory queue (a restart): nobody confirmed it.
    now = utcnow()
    await add_unsent_row(db, status=ENQUEUED, next_attempt_at=now + CONFIRM_TIMEOUT)

    assert await relay_due_emails(db, now=now + CONFIRM_TIMEOUT - timedelta(seconds=1)) == 0
    assert await relay_due_emails(db, now=now + CONFIRM_TIMEOUT) == 1

    await mailbox.expect(1)
    later = utcnow() + 10 * CONFIRM_TIMEOUT
    assert await relay_due_emails(db, now=later) == 0  # sent rows are never relayed


async def test_a_relay_pass_costs_two_statements_however_many_rows_are_due(db, mailbox, sql_log):
    now = utcnow()
    async with db.transaction() as session:
        session.add_all(
            OutboxEmail(
                idempotency_key=f"key-{n}",
                template="verify_email",
                recipient=f"user{n}@example.com",
                context={"username": f"user{n}", "token": f"token{n}"},
                next_attempt_at=now,
            )
            for n in range(25)
        )
    sql_log.clear()

    assert await relay_due_emails(db, now=now) == 25

    assert len(sql_log.statements()) == 2  # claim the due rows, record the hand-over
    mails = await mailbox.expect(25)
    assert sorted(mail.recipients[0] for mail in mails) == sorted(
        f"user{n}@example.com" for n in range(25)
    )
