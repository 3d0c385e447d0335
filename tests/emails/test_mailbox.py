"""Development's mailbox: every email readable at /dev/mailbox and by `emails show`, links
that work, everything escaped; none of it in production."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import httpx
from sqlalchemy import select

from blog_graphql.accounts.models import User
from blog_graphql.app import create_app
from blog_graphql.config.settings import load_settings
from blog_graphql.emails import sending
from blog_graphql.emails.models import OutboxEmail
from blog_graphql.emails.outbox import queue_email
from blog_graphql.http.graphiql import PAGE_CSP
from blog_graphql.http.mailbox import EMAIL_CSP
from blog_graphql.state import AppState
from tests.accounts.operations import REGISTER, VERIFY
from tests.conftest import graphql

PRODUCTION = {"environment": "production", "secret_key": "s" * 32}
HOSTILE = {"username": '<img src=x onerror="alert(1)">', "token": "a&b<c>"}


def client_of(db, database_url: str, **values: Any) -> httpx.AsyncClient:
    settings = load_settings(database_url=database_url, _env_file=None, **values)
    app = create_app(state=AppState(settings=settings, db=db))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def queue(db, template: str, context: dict[str, Any], to: str) -> OutboxEmail:
    async with db.transaction() as session:
        return queue_email(session, template=template, to=to, context=context)


async def deliver_all(db, settings) -> None:
    """What a worker does with each queued email (here SMTP_HOST is unset: logged)."""
    async with db.session() as session:
        emails = list(await session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))
    for email in emails:
        assert await sending.deliver(db, settings, email.id, email.idempotency_key) == (
            sending.SENT_OUTCOME
        )


async def test_a_registration_email_is_listed_and_its_link_verifies_the_address(
    db, database_url, settings
):
    registration = {"email": "ada@example.com", "username": "ada", "password": "Password123"}
    async with client_of(db, database_url, public_url="http://localhost:5173") as client:
        registered = await graphql(client, REGISTER, {"input": registration})
        await deliver_all(db, settings)  # sent: production would drop the token now
        listing = await client.get("/dev/mailbox")
        [email_id] = re.findall(r'href="/dev/mailbox/(\d+)"', listing.text)
        page = await client.get(f"/dev/mailbox/{email_id}")
        frame = await client.get(f"/dev/mailbox/{email_id}/html")
        links = [unescape(link) for link in re.findall(r'<a href="([^"]+)"', page.text)]
        [verify_link] = [link for link in links if "/verify-email?" in link]
        token = verify_link.split("token=", 1)[1]
        verified = await graphql(client, VERIFY, {"token": token})
    async with db.session() as session:
        ada = await session.scalar(select(User).where(User.username == "ada"))
    assert "errors" not in registered, registered
    assert listing.status_code == 200
    assert listing.headers["content-security-policy"] == PAGE_CSP
    assert "ada@example.com" in listing.text and "sent" in listing.text
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == PAGE_CSP
    assert verify_link.startswith("http://localhost:5173/verify-email?token=")
    assert verified == {"data": {"verifyEmail": True}}
    assert ada is not None and ada.email_verified  # from the mailbox's link alone
    assert frame.headers["content-security-policy"] == EMAIL_CSP
    assert frame.headers["x-frame-options"] == "SAMEORIGIN"
    assert f'href="{verify_link.replace("&", "&amp;")}"' in frame.text


async def test_the_mailbox_lists_newest_first_and_escapes_every_value(db, database_url):
    first = await queue(db, "welcome", {"username": "first", "token": "t1"}, "one@example.com")
    hostile = await queue(db, "reset_password", HOSTILE, "two@example.com")
    async with client_of(db, database_url) as client:
        listing = await client.get("/dev/mailbox")
        page = await client.get(f"/dev/mailbox/{hostile.id}")
        frame = await client.get(f"/dev/mailbox/{hostile.id}/html")
        stylesheet = await client.get("/dev/mailbox/mailbox.css")
    ids = [int(found) for found in re.findall(r'href="/dev/mailbox/(\d+)"', listing.text)]
    assert ids == [hostile.id, first.id]
    for answer in (page, frame):
        assert "<img" not in answer.text and 'onerror="' not in answer.text
        assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in answer.text
    assert "token=a%26b%3Cc%3E" in page.text  # the token is a query value, encoded
    assert "<script" not in page.text and "style=" not in page.text  # nothing inline
    assert stylesheet.status_code == 200
    assert stylesheet.headers["content-type"].startswith("text/css")


async def test_an_unknown_email_is_404(db, database_url):
    async with client_of(db, database_url) as client:
        answers = [await client.get(f"/dev/mailbox/999{path}") for path in ("", "/html")]
    assert [answer.status_code for answer in answers] == [404, 404]


async def test_production_has_no_mailbox_and_drops_tokens_once_sent(db, database_url, settings):
    email = await queue(db, "verify_email", {"username": "ada", "token": "secret"}, "a@b.example")
    production = settings.model_copy(update=PRODUCTION)
    await sending.deliver(db, production, email.id, email.idempotency_key)
    async with client_of(db, database_url, **PRODUCTION) as client:
        answers = [
            await client.get(path)
            for path in ("/dev/mailbox", f"/dev/mailbox/{email.id}", "/dev/mailbox/mailbox.css")
        ]
    async with db.session() as session:
        kept = await session.get(OutboxEmail, email.id)
    assert [answer.status_code for answer in answers] == [404, 404, 404]
    assert kept is not None and kept.context == {"username": "ada"}


async def test_emails_show_prints_one_email_whole(db, database_url, settings, run_cli):
    context = {"username": "ada", "token": "tok-1"}
    email = await queue(db, "verify_email", context, "ada@example.com")
    env = {"DATABASE_URL": database_url, "PUBLIC_URL": "http://localhost:5173"}
    shown = await run_cli("emails", "show", str(email.id), env=env)
    unknown = await run_cli("emails", "show", "999", env=env)
    date = email.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert shown.code == 0, shown.stderr
    assert shown.stdout == (
        "From: blog_graphql <noreply@localhost>\n"
        "To: ada@example.com\n"
        "Subject: Confirm your email address\n"
        f"Date: {date}\n"
        "Status: pending\n"
        "\n"
        "Hello ada,\n"
        "\n"
        "Please confirm your email address by opening this link (it is valid for 48 hours):\n"
        "\n"
        "http://localhost:5173/verify-email?token=tok-1\n"
        "\n"
        "If you did not ask for this, you can ignore this email.\n"
    )
    assert unknown.code == 1
    assert unknown.stdout == ""
    assert unknown.stderr == "blog-graphql: error: no email with id 999\n"
