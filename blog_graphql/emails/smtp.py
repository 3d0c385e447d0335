"""One email over SMTP (or into the log when SMTP_HOST is unset), failures sorted by kind."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from blog_graphql.config.settings import Settings
from blog_graphql.emails.templates import RenderedEmail

logger = logging.getLogger("blog_graphql.emails")


class DeliveryError(Exception):
    """The server did not take the email; `reason` says why, in one line."""

    permanent = False

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransientDeliveryError(DeliveryError):
    """Worth retrying: refused connection, timeout, a 4xx reply."""


class PermanentDeliveryError(DeliveryError):
    """Retrying cannot help: a 5xx reply (a refused recipient), a TLS setup the server lacks."""

    permanent = True


def build_message(
    settings: Settings, *, to: str, rendered: RenderedEmail, idempotency_key: str
) -> EmailMessage:
    """A multipart text + HTML email; raises ValueError when it cannot be built."""
    message = EmailMessage()
    message["From"] = settings.emails_from
    message["To"] = to
    message["Subject"] = rendered.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    # The same email keeps the same Message-ID on every attempt, so that a receiving
    # system that sees it twice (a crash right after the server took it) can tell.
    message["Message-ID"] = message_id(settings, idempotency_key)
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


def message_id(settings: Settings, idempotency_key: str) -> str:
    domain = parseaddr(settings.emails_from)[1].rpartition("@")[2] or "localhost"
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"<{digest}.outbox@{domain}>"


async def send(settings: Settings, message: EmailMessage) -> None:
    """Send `message`, or log it whole when SMTP_HOST is unset; raise DeliveryError."""
    if not settings.smtp_host:
        logger.info("SMTP_HOST is unset; logged instead of sent:\n%s", readable(message))
        return
    await asyncio.to_thread(_send_blocking, settings, message)


def _send_blocking(settings: Settings, message: EmailMessage) -> None:
    try:
        with _connected(settings) as client:
            client.ehlo()
            if settings.smtp_tls:
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if settings.smtp_user:
                client.login(settings.smtp_user, settings.smtp_password or "")
            client.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        raise classify(error) from error


@contextmanager
def _connected(settings: Settings) -> Iterator[smtplib.SMTP]:
    # `timeout` bounds every network call on the socket: connect, each command, the data.
    # The host goes to the constructor: STARTTLS checks the certificate against it.
    client = smtplib.SMTP(
        settings.smtp_host or "", settings.smtp_port, timeout=settings.smtp_timeout_seconds
    )
    try:
        yield client
    finally:
        _quit_quietly(client)


def _quit_quietly(client: smtplib.SMTP) -> None:
    # The email is already taken (or refused); a failing QUIT changes nothing about that.
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def classify(error: BaseException) -> DeliveryError:
    """Sort an SMTP or network failure into transient or permanent, with a one-line reason."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(error.recipients.values()))
        return _by_code(code, text)
    if isinstance(error, smtplib.SMTPResponseException):
        return _by_code(error.smtp_code, error.smtp_error)
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return TransientDeliveryError(f"server disconnected: {error}")
    if isinstance(error, ssl.SSLCertVerificationError | smtplib.SMTPException):
        # A certificate we cannot trust, no STARTTLS, no usable AUTH: configuration.
        return PermanentDeliveryError(f"{type(error).__name__}: {error}")
    return TransientDeliveryError(f"{type(error).__name__}: {error}")


def _by_code(code: int, text: bytes | str) -> DeliveryError:
    detail = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    reason = " ".join(f"{code} {detail}".split())
    return PermanentDeliveryError(reason) if 500 <= code < 600 else TransientDeliveryError(reason)


def readable(message: EmailMessage) -> str:
    """The whole email as a person reads it: headers, the text body, then the HTML body."""
    names = ("From", "To", "Subject", "Message-ID")
    headers = "\n".join(f"{name}: {message[name]}" for name in names)
    parts = {part.get_content_type(): part.get_content() for part in message.iter_parts()}
    return f"{headers}\n\n{parts.get('text/plain', '')}\n--- HTML ---\n{parts.get('text/html', '')}"
