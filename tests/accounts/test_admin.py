"""Admins list every account and switch accounts on and off; deactivation ends sessions."""

import pytest

from blog_graphql.relay.ids import encode_id
from tests.accounts.operations import auth_sessions, error_of, is_signed_in, login, sign_in
from tests.conftest import graphql
from tests.factories import auth_headers, create_user

USERS = """query($first: Int, $after: String) {
  users(first: $first, after: $after) {
    totalCount edges { cursor node { username email } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""
SET_ACTIVE = """mutation($id: ID!, $active: Boolean!) {
  setUserActive(id: $id, active: $active) { username isActive }
}"""


async def test_admins_page_through_every_user_with_their_emails(client, db, settings):
    root = await create_user(db, username="root", is_admin=True)
    for name in ("ada", "bob", "cy"):
        await create_user(db, username=name, is_active=name != "bob")
    headers = await auth_headers(db, settings, root)

    first = (await graphql(client, USERS, {"first": 3}, headers=headers))["data"]["users"]
    assert first["totalCount"] == 4
    assert [edge["node"]["username"] for edge in first["edges"]] == ["root", "ada", "bob"]
    assert first["edges"][1]["node"]["email"] == "ada@example.com"
    assert first["pageInfo"]["hasNextPage"] is True

    after = first["pageInfo"]["endCursor"]
    rest = (await graphql(client, USERS, {"after": after}, headers=headers))["data"]["users"]
    assert [edge["node"]["username"] for edge in rest["edges"]] == ["cy"]
    assert rest["pageInfo"]["hasNextPage"] is False
    assert rest["pageInfo"]["hasPreviousPage"] is True


async def test_users_costs_a_constant_number_of_statements(client, db, settings, sql_log):
    root = await create_user(db, username="root", is_admin=True)
    for n in range(30):
        await create_user(db, username=f"u{n}")
    headers = await auth_headers(db, settings, root)
    sql_log.clear()
    body = await graphql(client, USERS, {"first": 25}, headers=headers)
    assert len(body["data"]["users"]["edges"]) == 25
    assert len(sql_log.statements()) == 3  # the session check, the page, the count


@pytest.mark.parametrize(
    ("variables", "fields"),
    [({"first": 101}, {"first": "Use a number from 0 to 100."}),
     ({"after": "garbage"}, {"after": "Malformed cursor."})],
)  # fmt: skip
async def test_bad_page_arguments_are_bad_user_input(client, db, settings, variables, fields):
    root = await create_user(db, username="root", is_admin=True)
    body = await graphql(client, USERS, variables, headers=await auth_headers(db, settings, root))
    assert error_of(body) == {
        "message": "Invalid input.",
        "code": "BAD_USER_INPUT",
        "fields": fields,
    }


async def test_users_is_forbidden_to_others_and_needs_a_sign_in(client, db, settings):
    ada = await create_user(db, username="ada")
    assert error_of(
        await graphql(client, USERS, headers=await auth_headers(db, settings, ada))
    ) == {
        "message": "You are not allowed to do this.",
        "code": "FORBIDDEN",
    }
    assert error_of(await graphql(client, USERS)) == {
        "message": "Authentication required.",
        "code": "UNAUTHENTICATED",
    }


async def test_deactivation_ends_every_session_at_once_and_reactivation_allows_login(
    client, db, settings
):
    root = await create_user(db, username="root", is_admin=True)
    ada = await create_user(db, username="ada")
    one, two = await sign_in(client, "ada"), await sign_in(client, "ada")
    headers = await auth_headers(db, settings, root)
    ada_id = encode_id("User", ada.id)

    body = await graphql(client, SET_ACTIVE, {"id": ada_id, "active": False}, headers=headers)

    assert body == {"data": {"setUserActive": {"username": "ada", "isActive": False}}}
    assert not await is_signed_in(client, one["accessToken"])
    assert not await is_signed_in(client, two["accessToken"])
    assert {s.revoked_reason for s in await auth_sessions(db) if s.user_id == ada.id} == {
        "deactivated"
    }
    assert error_of(await login(client, "ada"))["code"] == "UNAUTHENTICATED"

    body = await graphql(client, SET_ACTIVE, {"id": ada_id, "active": True}, headers=headers)
    assert body["data"]["setUserActive"]["isActive"] is True
    assert not await is_signed_in(client, one["accessToken"])  # ended sessions stay ended
    await sign_in(client, "ada")


async def test_set_user_active_errors(client, db, settings):
    root = await create_user(db, username="root", is_admin=True)
    ada = await create_user(db, username="ada")
    as_root = await auth_headers(db, settings, root)
    as_ada = await auth_headers(db, settings, ada)

    async def set_active(global_id, active, headers):
        variables = {"id": global_id, "active": active}
        return error_of(await graphql(client, SET_ACTIVE, variables, headers=headers))

    assert (await set_active(encode_id("User", root.id), False, as_root))["code"] == "FORBIDDEN"
    assert (await set_active(encode_id("User", 999), False, as_root))["code"] == "NOT_FOUND"
    assert (await set_active(encode_id("Tag", ada.id), False, as_root))["code"] == "NOT_FOUND"
    assert (await set_active("garbage", False, as_root))["fields"] == {"id": "Malformed id."}
    assert (await set_active(encode_id("User", root.id), False, as_ada))["code"] == "FORBIDDEN"
    assert (await set_active(encode_id("User", ada.id), False, None))["code"] == ("UNAUTHENTICATED")
    assert await is_signed_in(client, as_root["Authorization"].removeprefix("Bearer "))
