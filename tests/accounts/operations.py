"""GraphQL operations and small helpers shared by the account tests."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from blog_graphql.accounts.models import AuthSession
from blog_graphql.db.database import Database
from blog_graphql.emails.models import OutboxEmail
from tests.conftest import graphql
from tests.factories import DEFAULT_PASSWORD

REGISTER = """mutation($input: RegisterInput!) {
  register(input: $input) { id username email fullName bio emailVerified isAdmin isActive }
}"""
LOGIN = """mutation($login: String!, $password: String!) {
  login(input: {login: $login, password: $password}) {
    accessToken refreshToken tokenType expiresIn user { username email }
  }
}"""
REFRESH = """mutation($token: String!) {
  refreshToken(refreshToken: $token) {
    accessToken refreshToken tokenType expiresIn user { username }
  }
}"""
LOGOUT = "mutation($token: String) { logout(refreshToken: $token) }"
ME = "{ me { username email emailVerified } }"
UPDATE_ME = """mutation($input: UpdateMeInput!) {
  updateMe(input: $input) { username email fullName bio emailVerified }
}"""
CHANGE_PASSWORD = """mutation($current: String!, $new: String!) {
  changePassword(currentPassword: $current, newPassword: $new)
}"""
REQUEST_RESET = "mutation($email: String!) { requestPasswordReset(email: $email) }"
RESET = (
    "mutation($token: String!, $new: String!) { resetPassword(token: $token, newPassword: $new) }"
)
VERIFY = "mutation($token: String!) { verifyEmail(token: $token) }"


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def error_of(body: dict[str, Any]) -> dict[str, Any]:
    """The single error of a failed operation: its message and extensions."""
    assert body.get("data") is None, body
    [error] = body["errors"]
    return {"message": error["message"], **error["extensions"]}


async def login(
    client: httpx.AsyncClient, name: str, password: str = DEFAULT_PASSWORD
) -> dict[str, Any]:
    return await graphql(client, LOGIN, {"login": name, "password": password})


async def sign_in(
    client: httpx.AsyncClient, name: str, password: str = DEFAULT_PASSWORD
) -> dict[str, Any]:
    """The AuthPayload of a login that must succeed."""
    body = await login(client, name, password)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["login"]
    return payload


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> dict[str, Any]:
    return await graphql(client, REFRESH, {"token": refresh_token})


async def is_signed_in(client: httpx.AsyncClient, access_token: str) -> bool:
    """Whether the access token still identifies someone (and not UNAUTHENTICATED)."""
    body = await graphql(client, ME, headers=bearer(access_token))
    if "errors" in body:
        assert error_of(body)["code"] == "UNAUTHENTICATED", body
        return False
    return body["data"]["me"] is not None


async def outbox(db: Database) -> list[OutboxEmail]:
    async with db.session() as session:
        return list(await session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


async def auth_sessions(db: Database) -> list[AuthSession]:
    async with db.session() as session:
        return list(await session.scalars(select(AuthSession).order_by(AuthSession.created_at)))
