"""Sending one outbox email over real SMTP: bodies, TLS, login, and every kind of failure."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from blog_graphql.db.database import utcnow
from blog_graphql.emails import sending
from blog_graphql.emails.models import ENQUEUED, FAILED, SENT, OutboxEmail
from blog_graphql.emails.outbox import queue_email
from tests.emails.stand_in import only_row
from tests.smtp import PERMANENT_REPLY, TRANSIENT_REPLY, SmtpServer, password_authenticator

COMMENT = {
    "username": "ada",
    "post_title": "Tabs & <Spaces>",
    "post_slug": "tabs-and-spaces",
    "commenter": "bob",
    "comment_excerpt": "I disagree <strongly>.",
    "unsubscribe_token": "a.b+c",
}


async def queued(
    db, template: str = "welcome", context: dict[str, Any] | None = None
) -> OutboxEmail:
    async with db.transaction() as session:
        email = queue_email(
            session,
            template=template,
            to="ada@example.com",
            context=context or {"username": "ada", "token": "tok"},
        )
    return email


async def deliver(db, settings, email: OutboxEmail) -> sending.Outcome:
    return await sending.deliver(db, settings, email.id, email.idempotency_key)


async def test_an_email_goes_out_with_text_and_html_bodies(db, settings, smtp_server):
    email = await queued(db, "comment_on_post", COMMENT)

    outcome = await deliver(db, smtp_server.settings(settings), email)

    assert outcome == sending.SENT_OUTCOME
    [mail] = smtp_server.received
    assert mail.recipients == ["ada@example.com"]
    assert mail.sender == "noreply@localhost"
    assert mail.subject == 'bob commented on "Tabs & <Spaces>"'
    assert "I disagree <strongly>." in mail.text
    assert "I disagree &lt;strongly&gt;." in mail.html
    assert mail.link("/posts/") == "http://127.0.0.1:8000/posts/tabs-and-spaces"
    assert mail.message["Message-ID"].endswith(".outbox@localhost>")
    # RFC 8058 one-click unsubscribe, answered by the API (API_PUBLIC_URL: the serve address).
    assert mail.message["List-Unsubscribe"] == (
        "<http://127.0.0.1:8000/email/unsubscribe?token=a.b%2Bc>"
    )
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert not mail.tls and mail.login is None


async def test_a_second_delivery_of_the_same_email_sends_nothing(db, settings, smtp_server):
    email = await queued(db)
    mail_settings = smtp_server.settings(settings)

    first = await deliver(db, mail_settings, email)
    second = await deliver(db, mail_settings, email)

    assert (first, second) == (sending.SENT_OUTCOME, sending.SKIPPED)
    assert len(smtp_server.received) == 1


async def test_a_delivery_while_another_is_sending_sends_nothing(db, settings, smtp_server):
    email = await queued(db)
    mail_settings = smtp_server.settings(settings)
    hold = smtp_server.hold()

    first = asyncio.create_task(deliver(db, mail_settings, email))
    await asyncio.to_thread(hold.wait_until_started)  # the first is mid-send
    second = await deliver(db, mail_settings, email)
    hold.release()

    assert (await first, second) == (sending.SENT_OUTCOME, sending.SKIPPED)
    assert len(smtp_server.received) == 1


async def test_the_claim_of_a_worker_that_died_mid_send_expires(db, settings, smtp_server):
    email = await queued(db)
    async with db.transaction() as session:  # claimed, then the worker vanished
        await session.execute(
            update(OutboxEmail).values(sending_until=utcnow() - timedelta(seconds=1))
        )

    assert await deliver(db, smtp_server.settings(settings), email) == sending.SENT_OUTCOME
    assert len(smtp_server.received) == 1


async def test_a_4xx_reply_asks_for_a_retry_with_backoff(db, settings, smtp_server):
    smtp_server.refuse_transiently()
    email = await queued(db)
    mail_settings = smtp_server.settings(settings, email_retry_backoff_seconds=15)

    outcome = await deliver(db, mail_settings, email)

    assert outcome == sending.Outcome("retry", TRANSIENT_REPLY, timedelta(seconds=15))
    row = await only_row(db)
    assert (row.status, row.attempts, row.last_error) == (ENQUEUED, 1, TRANSIENT_REPLY)
    assert row.sending_until is None  # the next delivery may claim it
    assert await deliver(db, mail_settings, email) == sending.SENT_OUTCOME
    assert len(smtp_server.received) == 1


def test_the_backoff_doubles_up_to_thirty_minutes(settings):
    delays = [sending.retry_delay(settings, attempt) for attempt in range(1, 12)]
    assert [delay.total_seconds() for delay in delays] == [
        15, 30, 60, 120, 240, 480, 960, 1800, 1800, 1800, 1800,
    ]  # fmt: skip


async def test_a_5xx_reply_fails_the_email_for_good(db, settings, smtp_server):
    smtp_server.refuse_permanently()
    email = await queued(db)

    outcome = await deliver(db, smtp_server.settings(settings), email)

    assert outcome == sending.Outcome("failed", PERMANENT_REPLY)
    row = await only_row(db)
    assert (row.status, row.last_error, row.next_attempt_at) == (FAILED, PERMANENT_REPLY, None)
    assert row.context["token"] == "tok"  # kept: `emails retry` may send it again


async def test_a_refused_connection_is_transient(db, settings):
    email = await queued(db)
    closed = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": unused_port()})

    outcome = await deliver(db, closed, email)

    assert outcome.kind == "retry"
    assert outcome.reason is not None and outcome.reason.startswith("ConnectionRefusedError")


async def test_a_server_that_never_answers_times_out_and_is_transient(db, settings):
    email = await queued(db)
    with silent_server() as port:
        silent = settings.model_copy(
            update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_timeout_seconds": 0.2}
        )
        outcome = await deliver(db, silent, email)

    assert outcome.kind == "retry"
    assert outcome.reason == "server disconnected: Connection unexpectedly closed: timed out"


async def test_without_smtp_host_the_whole_email_is_logged(db, settings, caplog):
    email = await queued(db, "reset_password", {"username": "ada", "token": "r3s3t"})

    with caplog.at_level(logging.INFO, logger="blog_graphql.emails"):
        outcome = await deliver(db, settings, email)

    assert outcome == sending.SENT_OUTCOME
    [record] = [r for r in caplog.records if "logged instead of sent" in r.getMessage()]
    logged = record.getMessage()
    assert "To: ada@example.com" in logged
    assert "Subject: Reset your password" in logged
    assert "http://127.0.0.1:8000/reset-password?token=r3s3t" in logged
    assert '<a href="http://127.0.0.1:8000/reset-password?token=r3s3t">' in logged
    assert (await only_row(db)).status == SENT


# --- STARTTLS and login -----------------------------------------------------------------


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (trusted through SSL_CERT_FILE)."""
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_server(certificate, monkeypatch) -> Iterator[SmtpServer]:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    server = SmtpServer(
        tls_context=context,
        require_starttls=True,
        authenticator=password_authenticator({"mailer": "s3cret"}),
    ).start()
    yield server
    server.stop()


async def test_smtp_tls_sends_over_starttls_and_logs_in(db, settings, tls_server):
    email = await queued(db)
    secure = tls_server.settings(
        settings, smtp_tls=True, smtp_user="mailer", smtp_password="s3cret"
    )

    assert await deliver(db, secure, email) == sending.SENT_OUTCOME

    [mail] = tls_server.received
    assert mail.tls and mail.login == "mailer"


async def test_a_wrong_password_fails_for_good(db, settings, tls_server):
    email = await queued(db)
    wrong = tls_server.settings(settings, smtp_tls=True, smtp_user="mailer", smtp_password="no")

    outcome = await deliver(db, wrong, email)

    assert outcome.kind == "failed"
    assert outcome.reason is not None and outcome.reason.startswith("535")
    assert tls_server.received == []


async def test_smtp_tls_refuses_to_send_in_clear_to_a_server_without_starttls(
    db, settings, smtp_server
):
    email = await queued(db)

    outcome = await deliver(db, smtp_server.settings(settings, smtp_tls=True), email)

    assert outcome.kind == "failed"
    assert outcome.reason == "SMTPNotSupportedError: STARTTLS extension not supported by server."
    assert smtp_server.received == []


async def test_an_untrusted_certificate_fails_for_good(db, settings, tls_server, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE")
    email = await queued(db)

    outcome = await deliver(db, tls_server.settings(settings, smtp_tls=True), email)

    assert outcome.kind == "failed"
    assert outcome.reason is not None and "CERTIFICATE_VERIFY_FAILED" in outcome.reason


# --- helpers ----------------------------------------------------------------------------


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class silent_server:
    """Accepts connections and never says a word: every read times out."""

    def __enter__(self) -> int:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        return int(self.sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self.sock.close()
