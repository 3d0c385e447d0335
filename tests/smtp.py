"""A real SMTP server (aiosmtpd) for tests: it keeps what it receives and refuses on demand.

Fixtures (registered in `tests/conftest.py`):
- `smtp_server`: the server alone; point settings at it with `smtp_server.settings(settings)`.
- `mailbox`: the server plus an in-process worker that sends the app's emails to it, for
  tests that run an action and then assert on the mails it caused.

    async def test_welcome(client, mailbox):
        ...                                   # run the action through `client`
        [mail] = await mailbox.expect(1)      # runs every queued job, then counts
        assert mail.recipients == ["ada@example.com"]
        assert mail.link("/verify-email").startswith("http://127.0.0.1:8000/verify-email?")
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from blog_graphql.config.settings import Settings
from blog_graphql.db.database import Database
from blog_graphql.jobs import broker as jobs
from blog_graphql.jobs.workers import InProcessWorker

TRANSIENT_REPLY = "451 4.7.1 Greylisted, please try again later"
PERMANENT_REPLY = "550 5.1.1 No such mailbox here"
WAIT_SECONDS = 30.0
URL = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class ReceivedEmail:
    """One email as the server took it: the envelope and the parsed message."""

    sender: str
    recipients: list[str]
    message: EmailMessage
    tls: bool
    login: str | None

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        return self._body("plain")

    @property
    def html(self) -> str:
        return self._body("html")

    def link(self, path: str) -> str:
        """The first link in the text body whose path starts with `path`."""
        for url in URL.findall(self.text):
            if re.match(r"https?://[^/]+" + re.escape(path), url):
                return str(url)
        raise AssertionError(f"no {path} link in:\n{self.text}")

    def _body(self, subtype: str) -> str:
        part = self.message.get_body((subtype,))
        if part is None:
            raise AssertionError(f"the email has no text/{subtype} part")
        return str(cast(EmailMessage, part).get_content())


@dataclass
class Hold:
    """Keeps the next email's DATA waiting, so a test can act while a send is in flight."""

    started: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def wait_until_started(self, timeout: float = WAIT_SECONDS) -> None:
        if not self.started.wait(timeout):
            raise AssertionError("no email reached the server")

    def release(self) -> None:
        self.released.set()


class SmtpServer:
    """An aiosmtpd server on a free port, with switches to refuse or hold mail."""

    def __init__(self, **controller_options: Any) -> None:
        self.received: list[ReceivedEmail] = []
        self._arrived = threading.Condition()
        self.recipient_attempts = 0  # RCPT commands seen, refused ones included
        self._refusals: deque[str] = deque()
        self._permanent: str | None = None
        self._hold: Hold | None = None
        self._controller = _AnyPortController(self, hostname="127.0.0.1", **controller_options)

    @property
    def port(self) -> int:
        return int(self._controller.port)

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._hold:
            self._hold.release()
        self._controller.stop()

    def settings(self, settings: Settings, **changes: Any) -> Settings:
        """`settings` sending to this server (and quick retries, for tests)."""
        values = {"smtp_host": "127.0.0.1", "smtp_port": self.port}
        return settings.model_copy(
            update={"email_retry_backoff_seconds": 0.05, **values, **changes}
        )

    def refuse_transiently(self, times: int = 1, reply: str = TRANSIENT_REPLY) -> None:
        """Refuse the next `times` recipients with a 4xx reply, then accept again."""
        self._refusals.extend([reply] * times)

    def refuse_permanently(self, reply: str = PERMANENT_REPLY) -> None:
        """Refuse every recipient with a 5xx reply until `accept()`."""
        self._permanent = reply

    def accept(self) -> None:
        self._refusals.clear()
        self._permanent = None

    def hold(self) -> Hold:
        self._hold = Hold()
        return self._hold

    async def wait_for(self, count: int) -> list[ReceivedEmail]:
        """Wait until `count` emails arrived (for senders in other processes)."""
        return await asyncio.to_thread(self._wait_for, count)

    def _wait_for(self, count: int) -> list[ReceivedEmail]:
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self.received) >= count, WAIT_SECONDS)
        assert arrived, f"{len(self.received)} of {count} emails arrived"
        return list(self.received)

    # aiosmtpd handler hooks -----------------------------------------------------------

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        self.recipient_attempts += 1
        if self._permanent:
            return self._permanent
        if self._refusals:
            return self._refusals.popleft()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        hold, self._hold = self._hold, None
        if hold:
            hold.started.set()
            await asyncio.to_thread(hold.released.wait, WAIT_SECONDS)
        auth = session.auth_data
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        email = ReceivedEmail(
            sender=envelope.mail_from,
            recipients=list(envelope.rcpt_tos),
            message=message,
            tls=session.ssl is not None,
            login=auth.login.decode() if isinstance(auth, LoginPassword) else None,
        )
        with self._arrived:
            self.received.append(email)
            self._arrived.notify_all()
        return "250 2.0.0 Message accepted for delivery"


class _AnyPortController(Controller):
    """Binds port 0 and learns the port the system chose (no race for a "free" port)."""

    def __init__(self, handler: Any, **options: Any) -> None:
        super().__init__(handler, port=0, **options)

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def password_authenticator(users: dict[str, str]) -> Any:
    """An aiosmtpd authenticator accepting exactly `users` (login -> password)."""

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any):
        ok = isinstance(data, LoginPassword) and users.get(data.login.decode()) == (
            data.password.decode()
        )
        # handled=False: aiosmtpd itself replies 535 to a refused login.
        return AuthResult(success=ok, handled=False, auth_data=data)

    return authenticate


@dataclass
class Mailbox:
    """The test's SMTP server and the in-process worker that sends the app's emails to it."""

    server: SmtpServer
    worker: InProcessWorker
    settings: Settings

    @property
    def received(self) -> list[ReceivedEmail]:
        return self.server.received

    async def drain(self) -> None:
        """Run every queued job (retries included) to its end."""
        await asyncio.to_thread(self.worker.drain)

    async def expect(self, count: int) -> list[ReceivedEmail]:
        """Run every queued job, then assert that exactly `count` emails arrived."""
        await self.drain()
        assert len(self.received) == count, [mail.subject for mail in self.received]
        return list(self.received)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
async def mailbox(
    settings: Settings, db: Database, smtp_server: SmtpServer
) -> AsyncIterator[Mailbox]:
    """Emails of this test's app go, through a real worker, to `smtp_server`.

    It takes `db` so that the worker stops before the database is emptied.
    """
    # The worker's relay passes once at start; later passes are the test's to run
    # (`relay_due_emails`), so that a test decides when overdue rows are handed over.
    worker_settings = smtp_server.settings(settings, outbox_relay_interval_seconds=3600)
    worker = await asyncio.to_thread(jobs.start_in_process, worker_settings, poll_ms=50)
    yield Mailbox(server=smtp_server, worker=worker, settings=worker_settings)
    await asyncio.to_thread(worker.stop)
