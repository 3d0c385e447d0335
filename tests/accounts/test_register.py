"""register: a checked new account, a welcome email with a one-time verification token."""

import pytest
from sqlalchemy import select

from blog_graphql.accounts.models import OneTimeToken, User
from blog_graphql.accounts.one_time_tokens import token_hash
from tests.accounts.operations import REGISTER, VERIFY, error_of, outbox, sign_in
from tests.conftest import graphql
from tests.factories import create_user

ADA = {"email": "Ada@Example.com", "username": "ada", "password": "Lovelace1815"}


async def test_register_creates_an_unverified_account_and_queues_the_welcome_email(client, db):
    body = await graphql(client, REGISTER, {"input": {**ADA, "fullName": " Ada L. ", "bio": ""}})

    user = body["data"]["register"]
    assert user | {"id": None} == {
        "id": None, "username": "ada", "email": "Ada@example.com", "fullName": "Ada L.",
        "bio": None, "emailVerified": False, "isAdmin": False, "isActive": True,
    }  # fmt: skip
    [email] = await outbox(db)
    assert (email.template, email.recipient) == ("welcome", "Ada@example.com")  # normalised
    assert set(email.context) == {"username", "token"} and email.context["username"] == "ada"
    async with db.session() as session:
        stored = await session.scalar(select(OneTimeToken))
    assert stored is not None and stored.purpose == "verify_email"
    assert stored.token_hash == token_hash(email.context["token"])  # only the hash is stored
    assert email.context["token"] not in stored.token_hash


async def test_the_welcome_token_verifies_the_email_once(client, db):
    await graphql(client, REGISTER, {"input": ADA})
    [email] = await outbox(db)
    token = email.context["token"]

    assert await graphql(client, VERIFY, {"token": token}) == {"data": {"verifyEmail": True}}
    assert error_of(await graphql(client, VERIFY, {"token": token})) == {
        "message": "Invalid input.",
        "code": "BAD_USER_INPUT",
        "fields": {"token": "This link is invalid, already used or expired."},
    }
    payload = await sign_in(client, "ada", ADA["password"])
    assert payload["user"] == {"username": "ada", "email": "Ada@example.com"}
    async with db.session() as session:
        assert await session.scalar(select(User.email_verified)) is True


async def test_every_bad_field_is_reported_at_once(client, db):
    body = await graphql(
        client,
        REGISTER,
        {"input": {"email": "not-an-email", "username": "a b", "password": "short",
                   "fullName": "x" * 201}},
    )  # fmt: skip
    error = error_of(body)
    assert error["code"] == "BAD_USER_INPUT"
    assert set(error["fields"]) == {"email", "username", "password", "fullName"}
    assert await outbox(db) == []


@pytest.mark.parametrize(
    ("password", "accepted"),
    [
        ("Aa1" + "x" * 69, True),  # exactly 72 bytes
        ("Aa1" + "x" * 70, False),  # 73 bytes: bcrypt would refuse it, we say why
        ("Aa1" + "é" * 35, False),  # 73 bytes in UTF-8, though only 38 characters
        ("Aa1é" * 2, True),  # 10 bytes, non-ASCII is fine
        ("alllowercase1", False),
        ("ALLUPPERCASE1", False),
        ("NoDigitsHere", False),
        ("Sh0rt", False),
    ],
)
async def test_password_rules_count_utf8_bytes_and_never_fail_with_a_500(
    client, db, password, accepted
):
    body = await graphql(client, REGISTER, {"input": {**ADA, "password": password}})
    if accepted:
        assert body["data"]["register"]["username"] == "ada"
    else:
        assert error_of(body)["fields"] == {
            "password": "Use 8 to 72 bytes with an upper-case letter, a lower-case letter "
            "and a digit."
        }


@pytest.mark.parametrize(
    ("taken", "fields"),
    [
        ({"email": "ADA@example.COM"}, {"email": "This email is already taken."}),
        ({"username": "ADA"}, {"username": "This username is already taken."}),
        (
            {"email": "ada@example.com", "username": "Ada"},
            {
                "email": "This email is already taken.",
                "username": "This username is already taken.",
            },
        ),
    ],
)
async def test_a_taken_email_or_username_is_a_conflict_naming_the_field(client, db, taken, fields):
    await create_user(db, username="ada", email="ada@example.com")
    body = await graphql(
        client,
        REGISTER,
        {"input": {"email": "new@example.com", "username": "newbie", "password": "Secret123"}
         | taken},
    )  # fmt: skip
    assert error_of(body) == {"message": "Already taken.", "code": "CONFLICT", "fields": fields}
    assert await outbox(db) == []


async def test_a_duplicate_costs_the_same_bcrypt_hash_as_a_new_account(client, db, bcrypt_calls):
    await graphql(client, REGISTER, {"input": ADA})
    assert bcrypt_calls.hashes == 1
    body = await graphql(client, REGISTER, {"input": ADA})
    assert error_of(body)["code"] == "CONFLICT"
    assert bcrypt_calls.hashes == 2  # the duplicate was hashed too, before it was found taken


@pytest.mark.parametrize("flag", ["isAdmin: true", "isActive: false", "emailVerified: true"])
async def test_no_input_sets_admin_active_or_verified_flags(client, db, flag):
    query = (
        'mutation { register(input: {email: "e@example.com", username: "eve", '
        f'password: "Secret123", {flag}}}) {{ id }} }}'
    )
    body = await graphql(client, query)
    assert body.get("data") is None
    name = flag.split(":")[0]
    assert f"not to include unknown field '{name}'" in body["errors"][0]["message"]
    async with db.session() as session:
        assert await session.scalar(select(User.id)) is None
