"""Email addresses as an attack surface: lists and display names, account takeover
through updateMe, and mail bombing through resets and email changes."""

from __future__ import annotations

import asyncio
import unicodedata
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from blog_graphql.accounts.models import User
from blog_graphql.config.settings import Settings, load_settings
from blog_graphql.db.database import utcnow
from blog_graphql.emails.models import OutboxEmail
from tests.accounts.operations import (
    ME,
    REGISTER,
    REQUEST_RESET,
    UPDATE_ME,
    error_of,
    outbox,
    sign_in,
)
from tests.conftest import graphql
from tests.factories import DEFAULT_PASSWORD, auth_headers, create_user

INVALID = {"message": "Invalid input.", "code": "BAD_USER_INPUT"}
BAD_EMAIL = {**INVALID, "fields": {"email": "Enter a valid email address."}}
NOT_ONE_ADDRESS = [
    "postmaster,attacker@evil.example",  # a list: two recipients
    "X<victim@corp.com>",  # a display name: delivered to the victim
    "victim@corp.com, x@evil.example",
    "vic\u200btim@corp.com",  # zero-width space
    "victim@corp\u202e.com",  # right-to-left override
]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test app, behind a proxy that names each client in `X-Forwarded-For`."""
    return load_settings(
        database_url=settings.database_url, bcrypt_rounds=settings.bcrypt_rounds,
        redis_url=None, smtp_host=None, trusted_proxies="127.0.0.1", _env_file=None,
    )  # fmt: skip


async def users(db) -> list[tuple[str, str]]:
    async with db.session() as session:
        rows = await session.execute(select(User.username, User.email).order_by(User.id))
        return [tuple(row) for row in rows]


@pytest.mark.parametrize("email", NOT_ONE_ADDRESS)
async def test_register_takes_exactly_one_plain_address(client, db, mailbox, email):
    account = {"email": email, "username": "mallory", "password": "Mallory123"}

    body = await graphql(client, REGISTER, {"input": account})

    assert error_of(body) == BAD_EMAIL
    assert await users(db) == []
    await mailbox.expect(0)
    ok = await graphql(client, REGISTER, {"input": {**account, "email": "m@example.com"}})
    assert ok["data"]["register"]["email"] == "m@example.com"


@pytest.mark.parametrize("email", NOT_ONE_ADDRESS[:2])
async def test_update_me_and_reset_take_exactly_one_plain_address(
    client, db, settings, mailbox, email
):
    await create_user(db, username="victim", email="victim@corp.com")
    ada = await create_user(db, username="ada")
    change = {"email": email, "currentPassword": DEFAULT_PASSWORD}
    headers = await auth_headers(db, settings, ada)

    assert error_of(await graphql(client, UPDATE_ME, {"input": change}, headers)) == BAD_EMAIL
    assert error_of(await graphql(client, REQUEST_RESET, {"email": email})) == BAD_EMAIL

    assert await users(db) == [("victim", "victim@corp.com"), ("ada", "ada@example.com")]
    assert await outbox(db) == []
    await mailbox.expect(0)


async def test_two_spellings_of_one_mailbox_make_one_account(client, db):
    composed = "\u00e9lan@Example.COM"
    decomposed = unicodedata.normalize("NFD", composed)
    first = {"email": composed, "username": "elan", "password": "Lovelace1815"}
    body = await graphql(client, REGISTER, {"input": first})
    assert body["data"]["register"]["email"] == "\u00e9lan@example.com"

    second = {"email": decomposed, "username": "elan2", "password": "Lovelace1815"}
    assert error_of(await graphql(client, REGISTER, {"input": second})) == {
        "message": "Already taken.",
        "code": "CONFLICT",
        "fields": {"email": "This email is already taken."},
    }
    assert await users(db) == [("elan", "\u00e9lan@example.com")]
    payload = await sign_in(client, decomposed.replace("Example", "EXAMPLE"), "Lovelace1815")
    assert payload["user"]["username"] == "elan"


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        (None, "Enter your current password to change your email address."),
        ("Wrong1234", "The current password is not correct."),
    ],
)
async def test_a_stolen_access_token_alone_cannot_change_the_email(
    client, db, settings, mailbox, password, problem
):
    ada = await create_user(db, username="ada")
    stolen = await auth_headers(db, settings, ada)
    change = {"email": "mallory@evil.example", "currentPassword": password, "bio": "pwned"}

    body = await graphql(client, UPDATE_ME, {"input": change}, stolen)

    assert error_of(body) == {**INVALID, "fields": {"currentPassword": problem}}
    me = (await graphql(client, ME, headers=stolen))["data"]["me"]
    assert me == {"username": "ada", "email": "ada@example.com", "emailVerified": True}
    async with db.session() as session:
        assert await session.scalar(select(User.bio)) is None
    await graphql(client, REQUEST_RESET, {"email": "mallory@evil.example"})
    await mailbox.expect(0)


async def test_an_email_change_with_the_password_tells_the_old_address(
    client, db, settings, mailbox
):
    ada = await create_user(db, username="ada")
    headers = await auth_headers(db, settings, ada)
    change = {"email": "countess@example.com", "currentPassword": DEFAULT_PASSWORD}

    body = await graphql(client, UPDATE_ME, {"input": change}, headers)

    assert body["data"]["updateMe"]["email"] == "countess@example.com"
    by_recipient = {tuple(mail.recipients): mail for mail in await mailbox.expect(2)}
    notice = by_recipient[("ada@example.com",)]
    assert notice.subject == "Your email address was changed"
    assert "someone knows your password" in notice.text
    assert by_recipient[("countess@example.com",)].subject == "Confirm your email address"


async def test_reset_requests_from_many_clients_send_one_address_three_emails_an_hour(
    client, db, mailbox
):
    await create_user(db, username="victim", email="victim@corp.com")
    requests = [
        graphql(client, REQUEST_RESET, {"email": "victim@corp.com"}, {"X-Forwarded-For": ip})
        for ip in (f"203.0.113.{n}" for n in range(30))  # 30 clients, under their own limits
    ]

    answers = await asyncio.gather(*requests)

    assert answers == [{"data": {"requestPasswordReset": True}}] * 30  # capped silently
    assert [mail.recipients for mail in await mailbox.expect(3)] == [["victim@corp.com"]] * 3
    await _an_hour_passes(db)
    assert await graphql(client, REQUEST_RESET, {"email": "VICTIM@corp.com"}) == {
        "data": {"requestPasswordReset": True}
    }
    await mailbox.expect(4)


async def test_email_changes_cannot_bomb_a_third_party(client, db, settings, mailbox):
    mallory = await create_user(db, username="mallory", email="mallory@evil.example")
    headers = await auth_headers(db, settings, mallory)
    addresses = ["victim@corp.com", "mallory@evil.example"] * 8

    for address in addresses[:15]:
        change = {"email": address, "currentPassword": DEFAULT_PASSWORD}
        body = await graphql(client, UPDATE_ME, {"input": change}, headers)
        assert body["data"]["updateMe"]["email"] == address  # the change itself goes through

    mails = await mailbox.expect(6)  # verification links and notices, three per address
    to_victim = [mail for mail in mails if mail.recipients == ["victim@corp.com"]]
    assert len(to_victim) == 3
    assert len(await outbox(db)) == 6


async def _an_hour_passes(db) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(OutboxEmail).values(created_at=utcnow() - timedelta(minutes=61))
        )
