"""changePassword, requestPasswordReset and resetPassword; both changes end other sessions."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from blog_graphql.accounts.models import OneTimeToken
from blog_graphql.db.database import utcnow
from tests.accounts.operations import (
    CHANGE_PASSWORD,
    REGISTER,
    REQUEST_RESET,
    RESET,
    VERIFY,
    bearer,
    error_of,
    is_signed_in,
    login,
    outbox,
    sign_in,
)
from tests.conftest import graphql
from tests.factories import create_user

RULES = "Use 8 to 72 bytes with an upper-case letter, a lower-case letter and a digit."
BAD_TOKEN = {
    "message": "Invalid input.",
    "code": "BAD_USER_INPUT",
    "fields": {"token": "This link is invalid, already used or expired."},
}


async def change(client, access_token, current, new):
    variables = {"current": current, "new": new}
    return await graphql(client, CHANGE_PASSWORD, variables, headers=bearer(access_token))


async def reset_link(client, db, email="ada@example.com"):
    """Request a reset and return the token of the email it queued."""
    assert await graphql(client, REQUEST_RESET, {"email": email}) == {
        "data": {"requestPasswordReset": True}
    }
    emails = await outbox(db)
    assert emails[-1].template == "reset_password"
    return emails[-1].context["token"]


async def test_change_password_keeps_this_session_and_ends_every_other(client, db):
    await create_user(db, username="ada")
    here, elsewhere = await sign_in(client, "ada"), await sign_in(client, "ada")

    body = await change(client, here["accessToken"], "Secret123", "Brandnew123")

    assert body == {"data": {"changePassword": True}}
    assert await is_signed_in(client, here["accessToken"])
    assert not await is_signed_in(client, elsewhere["accessToken"])
    assert "errors" in await graphql(
        client, "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }",
        {"t": elsewhere["refreshToken"]},
    )  # fmt: skip
    assert error_of(await login(client, "ada", "Secret123"))["code"] == "UNAUTHENTICATED"
    await sign_in(client, "ada", "Brandnew123")


@pytest.mark.parametrize(
    ("current", "new", "fields"),
    [
        ("Wrong1234", "Brandnew123", {"currentPassword": "The current password is not correct."}),
        ("Secret123", "weak", {"newPassword": RULES}),
        ("Secret123", "Aa1" + "x" * 70, {"newPassword": RULES}),
        ("Aa1" + "x" * 90, "weak", {
            "currentPassword": "The current password is not correct.", "newPassword": RULES,
        }),
    ],
)  # fmt: skip
async def test_change_password_names_the_bad_field(client, db, current, new, fields):
    await create_user(db, username="ada")
    here, elsewhere = await sign_in(client, "ada"), await sign_in(client, "ada")
    body = await change(client, here["accessToken"], current, new)
    assert error_of(body) == {
        "message": "Invalid input.",
        "code": "BAD_USER_INPUT",
        "fields": fields,
    }
    assert await is_signed_in(client, elsewhere["accessToken"])
    await sign_in(client, "ada")


async def test_change_password_needs_a_signed_in_viewer(client, db):
    body = await graphql(client, CHANGE_PASSWORD, {"current": "Secret123", "new": "Brandnew123"})
    assert error_of(body)["code"] == "UNAUTHENTICATED"


async def test_a_reset_link_sets_the_password_once_and_ends_every_session(client, db):
    await create_user(db, username="ada", email="ada@example.com")
    sessions = [await sign_in(client, "ada"), await sign_in(client, "ada")]
    token = await reset_link(client, db, "ADA@example.com")
    [email] = await outbox(db)
    assert email.recipient == "ada@example.com"
    assert email.context == {"username": "ada", "token": token}

    assert await graphql(client, RESET, {"token": token, "new": "Brandnew123"}) == {
        "data": {"resetPassword": True}
    }
    for payload in sessions:
        assert not await is_signed_in(client, payload["accessToken"])
    await sign_in(client, "ada", "Brandnew123")
    assert error_of(await graphql(client, RESET, {"token": token, "new": "Other1234"})) == (
        BAD_TOKEN
    )
    await sign_in(client, "ada", "Brandnew123")


async def test_a_reset_while_signed_in_keeps_the_session_asking(client, db):
    await create_user(db, username="ada")
    here, elsewhere = await sign_in(client, "ada"), await sign_in(client, "ada")
    token = await reset_link(client, db)
    body = await graphql(
        client, RESET, {"token": token, "new": "Brandnew123"}, headers=bearer(here["accessToken"])
    )
    assert body == {"data": {"resetPassword": True}}
    assert await is_signed_in(client, here["accessToken"])
    assert not await is_signed_in(client, elsewhere["accessToken"])


async def test_a_weak_new_password_does_not_use_up_the_link(client, db):
    await create_user(db, username="ada")
    token = await reset_link(client, db)
    body = await graphql(client, RESET, {"token": token, "new": "weak"})
    assert error_of(body)["fields"] == {"newPassword": RULES}
    assert (await graphql(client, RESET, {"token": token, "new": "Brandnew123"}))["data"]


async def test_using_one_reset_link_voids_the_others(client, db):
    await create_user(db, username="ada")
    first, second = await reset_link(client, db), await reset_link(client, db)
    assert first != second
    assert (await graphql(client, RESET, {"token": second, "new": "Brandnew123"}))["data"]
    assert error_of(await graphql(client, RESET, {"token": first, "new": "Other1234"})) == (
        BAD_TOKEN
    )


async def test_a_password_change_voids_outstanding_reset_links(client, db):
    await create_user(db, username="ada")
    token = await reset_link(client, db)
    here = await sign_in(client, "ada")
    await change(client, here["accessToken"], "Secret123", "Brandnew123")
    assert error_of(await graphql(client, RESET, {"token": token, "new": "Other1234"})) == (
        BAD_TOKEN
    )


async def test_a_reset_link_expires_after_an_hour(client, db):
    await create_user(db, username="ada")
    token = await reset_link(client, db)
    async with db.transaction() as session:
        await session.execute(update(OneTimeToken).values(expires_at=utcnow() - timedelta(1)))
    assert error_of(await graphql(client, RESET, {"token": token, "new": "Brandnew123"})) == (
        BAD_TOKEN
    )


async def test_the_reset_link_lives_one_hour_and_the_verify_link_48(client, db):
    variables = {"input": {"email": "ada@example.com", "username": "ada", "password": "Secret123"}}
    await graphql(client, REGISTER, variables)
    await reset_link(client, db)
    async with db.session() as session:
        tokens = list(await session.scalars(select(OneTimeToken)))
    lifetimes = {token.purpose: token.expires_at - token.created_at for token in tokens}
    assert {purpose: round(span.total_seconds()) for purpose, span in lifetimes.items()} == {
        "verify_email": 48 * 3600,
        "reset_password": 3600,
    }


@pytest.mark.parametrize("token", ["", "junk", "x" * 5000])
async def test_a_made_up_token_is_bad_user_input(client, db, token):
    assert error_of(await graphql(client, RESET, {"token": token, "new": "Brandnew123"})) == (
        BAD_TOKEN
    )
    assert error_of(await graphql(client, VERIFY, {"token": token})) == BAD_TOKEN


async def test_a_token_only_works_for_its_own_purpose(client, db):
    await create_user(db, username="ada", email_verified=False)
    token = await reset_link(client, db)
    assert error_of(await graphql(client, VERIFY, {"token": token})) == BAD_TOKEN
    assert (await graphql(client, RESET, {"token": token, "new": "Brandnew123"}))["data"]


async def test_a_reset_proves_the_address_so_it_counts_as_verified(client, db):
    await create_user(db, username="ada", email_verified=False)
    token = await reset_link(client, db)
    await graphql(client, RESET, {"token": token, "new": "Brandnew123"})
    payload = await sign_in(client, "ada", "Brandnew123")
    me = await graphql(client, "{ me { emailVerified } }", headers=bearer(payload["accessToken"]))
    assert me == {"data": {"me": {"emailVerified": True}}}
