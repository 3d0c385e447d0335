"""me and updateMe: the viewer's own account; email shows only to its owner and admins."""

import pytest
from sqlalchemy import select

from blog_graphql.accounts.models import User
from blog_graphql.relay.ids import encode_id
from tests.accounts.operations import ME, UPDATE_ME, VERIFY, error_of, outbox
from tests.conftest import graphql
from tests.factories import DEFAULT_PASSWORD, auth_headers, create_user


async def update_me(client, headers, **changes):
    return await graphql(client, UPDATE_ME, {"input": changes}, headers=headers)


async def test_update_me_changes_only_the_fields_given(client, db, settings):
    ada = await create_user(db, username="ada", full_name="Ada")
    headers = await auth_headers(db, settings, ada)

    body = await update_me(client, headers, bio="  Countess  ")
    assert body["data"]["updateMe"] == {
        "username": "ada", "email": "ada@example.com", "fullName": "Ada",
        "bio": "Countess", "emailVerified": True,
    }  # fmt: skip
    body = await update_me(client, headers, fullName=None, bio="")
    assert body["data"]["updateMe"]["fullName"] is None
    assert body["data"]["updateMe"]["bio"] is None
    assert await outbox(db) == []


async def test_an_empty_update_changes_nothing(client, db, settings):
    ada = await create_user(db, username="ada", full_name="Ada")
    body = await update_me(client, await auth_headers(db, settings, ada))
    assert body["data"]["updateMe"]["fullName"] == "Ada"


async def test_a_new_email_must_be_verified_again_with_a_fresh_link(client, db, settings):
    ada = await create_user(db, username="ada")
    headers = await auth_headers(db, settings, ada)

    body = await update_me(
        client, headers, email="countess@example.com", currentPassword=DEFAULT_PASSWORD
    )
    assert body["data"]["updateMe"]["emailVerified"] is False
    email, notice = await outbox(db)
    assert (email.template, email.recipient) == ("verify_email", "countess@example.com")
    assert email.context["username"] == "ada"
    assert (notice.template, notice.recipient) == ("email_changed", "ada@example.com")

    assert await graphql(client, VERIFY, {"token": email.context["token"]}) == {
        "data": {"verifyEmail": True}
    }
    me = (await graphql(client, ME, headers=headers))["data"]["me"]
    assert me == {"username": "ada", "email": "countess@example.com", "emailVerified": True}
    assert error_of(await graphql(client, VERIFY, {"token": email.context["token"]}))["fields"]


async def test_changing_email_again_voids_the_earlier_link(client, db, settings):
    ada = await create_user(db, username="ada")
    headers = await auth_headers(db, settings, ada)
    await update_me(client, headers, email="first@example.com", currentPassword=DEFAULT_PASSWORD)
    await update_me(client, headers, email="second@example.com", currentPassword=DEFAULT_PASSWORD)
    first, _, second, _ = await outbox(db)  # each change also tells the old address
    # The first link must not verify the second address.
    stale = await graphql(client, VERIFY, {"token": first.context["token"]})
    assert error_of(stale)["code"] == "BAD_USER_INPUT"
    assert (await graphql(client, VERIFY, {"token": second.context["token"]}))["data"]


async def test_a_change_of_case_only_keeps_the_email_verified(client, db, settings):
    ada = await create_user(db, username="ada")
    body = await update_me(client, await auth_headers(db, settings, ada), email="ADA@example.com")
    assert body["data"]["updateMe"]["email"] == "ADA@example.com"
    assert body["data"]["updateMe"]["emailVerified"] is True
    assert await outbox(db) == []


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"email": "nope"}, {"email": "Enter a valid email address."}),
        ({"email": None}, {"email": "Enter a valid email address."}),
        # Refused before the resolver: a control character in any string (API.md "Errors").
        ({"email": "a@b.c\r\nBcc: x@y.z"}, {"email": "Remove the control characters."}),
        ({"fullName": "x" * 201}, {"fullName": "Use at most 200 characters."}),
        ({"bio": "x" * 5001, "email": ""}, {
            "bio": "Use at most 5000 characters.", "email": "Enter a valid email address.",
        }),
    ],
)  # fmt: skip
async def test_bad_profile_input_names_each_field(client, db, settings, changes, fields):
    ada = await create_user(db, username="ada")
    body = await update_me(client, await auth_headers(db, settings, ada), **changes)
    assert error_of(body) == {
        "message": "Invalid input.",
        "code": "BAD_USER_INPUT",
        "fields": fields,
    }


async def test_someone_elses_email_is_a_conflict(client, db, settings):
    await create_user(db, username="bob", email="bob@example.com")
    ada = await create_user(db, username="ada")
    headers = await auth_headers(db, settings, ada)
    body = await update_me(
        client, headers, email="BOB@example.com", currentPassword=DEFAULT_PASSWORD
    )
    assert error_of(body) == {
        "message": "Already taken.",
        "code": "CONFLICT",
        "fields": {"email": "This email is already taken."},
    }
    assert await outbox(db) == []


async def test_update_me_needs_a_signed_in_viewer(client, db):
    assert error_of(await update_me(client, None, bio="hi")) == {
        "message": "Authentication required.",
        "code": "UNAUTHENTICATED",
    }


@pytest.mark.parametrize("flag", ["isAdmin: true", "isActive: false", "emailVerified: true"])
async def test_update_me_cannot_grant_flags(client, db, settings, flag):
    ada = await create_user(db, username="ada", email_verified=False)
    query = f"mutation {{ updateMe(input: {{{flag}}}) {{ isAdmin }} }}"
    body = await graphql(client, query, headers=await auth_headers(db, settings, ada))
    assert "unknown field" in body["errors"][0]["message"]
    async with db.session() as session:
        row = await session.scalar(select(User))
    assert row is not None
    assert (row.is_admin, row.is_active, row.email_verified) == (False, True, False)


async def test_email_shows_to_its_owner_and_admins_and_is_null_to_others(client, db, settings):
    ada = await create_user(db, username="ada")
    bob = await create_user(db, username="bob")
    root = await create_user(db, username="root", is_admin=True)
    query = "query($id: ID!) { node(id: $id) { ... on User { email } } }"
    variables = {"id": encode_id("User", ada.id)}
    seen = {}
    for name, viewer in {"ada": ada, "bob": bob, "root": root, "anonymous": None}.items():
        headers = await auth_headers(db, settings, viewer) if viewer else None
        body = await graphql(client, query, variables, headers=headers)
        seen[name] = body["data"]["node"]["email"]
    assert seen == {
        "ada": "ada@example.com", "bob": None, "root": "ada@example.com", "anonymous": None,
    }  # fmt: skip


REQUEST_VERIFICATION = "mutation { requestEmailVerification }"


async def test_an_unverified_user_can_ask_for_a_new_verification_link(client, db, settings):
    ada = await create_user(db, username="ada", email_verified=False)
    headers = await auth_headers(db, settings, ada)
    body = await graphql(client, REQUEST_VERIFICATION, headers=headers)
    assert body == {"data": {"requestEmailVerification": True}}
    [email] = await outbox(db)
    assert (email.template, email.recipient) == ("verify_email", "ada@example.com")
    assert (await graphql(client, VERIFY, {"token": email.context["token"]}))["data"]
    assert (await graphql(client, ME, headers=headers))["data"]["me"]["emailVerified"] is True


async def test_a_verified_user_gets_no_new_link(client, db, settings):
    ada = await create_user(db, username="ada", email_verified=True)
    body = await graphql(
        client, REQUEST_VERIFICATION, headers=await auth_headers(db, settings, ada)
    )
    assert body == {"data": {"requestEmailVerification": True}}
    assert await outbox(db) == []
    assert error_of(await graphql(client, REQUEST_VERIFICATION))["code"] == "UNAUTHENTICATED"
