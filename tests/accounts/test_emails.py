"""The account emails arrive at a real SMTP server, with links whose tokens work once."""

from urllib.parse import parse_qs, urlsplit

from tests.accounts.operations import (
    REGISTER,
    REQUEST_RESET,
    RESET,
    UPDATE_ME,
    VERIFY,
    error_of,
    login,
    sign_in,
)
from tests.conftest import graphql
from tests.factories import DEFAULT_PASSWORD, auth_headers, create_user

USED = {"token": "This link is invalid, already used or expired."}


def token_in(link: str) -> str:
    [token] = parse_qs(urlsplit(link).query)["token"]
    return token


async def test_the_welcome_email_links_to_a_verification_that_works_once(
    client, db, settings, mailbox
):
    account = {"email": "ada@example.com", "username": "ada", "password": "Lovelace1815"}
    await graphql(client, REGISTER, {"input": account})

    [mail] = await mailbox.expect(1)
    assert mail.recipients == ["ada@example.com"]
    link = mail.link("/verify-email")
    assert link.startswith(f"{settings.public_url}/verify-email?token=")
    token = token_in(link)
    assert await graphql(client, VERIFY, {"token": token}) == {"data": {"verifyEmail": True}}
    assert error_of(await graphql(client, VERIFY, {"token": token}))["fields"] == USED


async def test_the_reset_email_goes_only_to_a_real_account_and_its_link_works_once(
    client, db, settings, mailbox
):
    await create_user(db, username="ada", email="ada@example.com")
    for address in ("ada@example.com", "ghost@example.com"):
        body = await graphql(client, REQUEST_RESET, {"email": address})
        assert body == {"data": {"requestPasswordReset": True}}

    [mail] = await mailbox.expect(1)  # nothing for the unknown address
    assert mail.recipients == ["ada@example.com"]
    link = mail.link("/reset-password")
    assert link.startswith(f"{settings.public_url}/reset-password?token=")
    variables = {"token": token_in(link), "new": "Brandnew123"}
    assert await graphql(client, RESET, variables) == {"data": {"resetPassword": True}}
    assert error_of(await graphql(client, RESET, variables))["fields"] == USED
    assert error_of(await login(client, "ada"))["code"] == "UNAUTHENTICATED"
    await sign_in(client, "ada", "Brandnew123")


async def test_a_new_address_gets_its_own_verification_email(client, db, settings, mailbox):
    ada = await create_user(db, username="ada")
    headers = await auth_headers(db, settings, ada)
    change = {"email": "countess@example.com", "currentPassword": DEFAULT_PASSWORD}
    await graphql(client, UPDATE_ME, {"input": change}, headers)

    mail, notice = sorted(await mailbox.expect(2), key=lambda mail: mail.subject)
    assert mail.recipients == ["countess@example.com"]
    assert (notice.recipients, notice.subject) == (
        ["ada@example.com"],
        "Your email address was changed",
    )
    token = token_in(mail.link("/verify-email"))
    assert (await graphql(client, VERIFY, {"token": token}))["data"] == {"verifyEmail": True}
    assert error_of(await graphql(client, VERIFY, {"token": token}))["fields"] == USED
