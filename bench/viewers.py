"""Who asks: anonymous readers, or a seeded user signed in once with the login mutation.

A signed-in request carries `Authorization: Bearer <token>` to both systems. blog_graphql
checks it (its authenticated path: the token, then the session and user). PostGraphile
verifies the same token with its own JWT support (PgLazyJWTPreset, given blog_graphql's
secret, issuer and audience) and passes the claims to PostgreSQL as `jwt.claims.*`
settings; it keeps no sessions, so it looks nothing up.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg  # type: ignore[import-untyped]
import httpx

from blog_graphql.cli.seed import SEED_PASSWORD

ANONYMOUS = "anonymous"
SIGNED_IN = "signed-in"
# Anonymous, sending `If-None-Match` with the answer's ETag: a 304 from blog_graphql
# (PostGraphile ignores the header and answers in full).
REVALIDATING = "revalidating"
VIEWERS = (ANONYMOUS, SIGNED_IN, REVALIDATING)
POSTGRAPHILE_NOTE = (
    "signed-in: PostGraphile verifies the same token (PgLazyJWTPreset: signature, issuer, "
    "audience, expiry) and sets its claims as jwt.claims.*; it has no sessions to look up"
)

# A seeded user without drafts: a post's author sees its drafts in the lists, and the
# signed-in answers must still carry PostGraphile's (public) values.
USER_WITHOUT_DRAFTS = """
SELECT u.username FROM users u
WHERE u.is_active AND NOT u.is_admin
  AND EXISTS (SELECT 1 FROM posts p WHERE p.author_id = u.id)
  AND NOT EXISTS (SELECT 1 FROM posts p WHERE p.author_id = u.id AND NOT p.published)
ORDER BY u.id LIMIT 1
"""
LOGIN = """
mutation SignIn($login: String!, $password: String!) {
  login(input: {login: $login, password: $password}) { accessToken }
}
"""


def parse_viewers(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = set(names) - set(VIEWERS)
    if unknown or not names:
        raise SystemExit(f"unknown viewers {sorted(unknown)}; choose from {', '.join(VIEWERS)}")
    return names


def headers(viewer: str, token: str | None) -> dict[str, str]:
    """The headers a request of `viewer` adds to the JSON ones."""
    if viewer in (ANONYMOUS, REVALIDATING):
        return {}  # a revalidating request's If-None-Match is added per query, later
    if not token:
        raise ValueError(f"{viewer} requests need a token")
    return {"Authorization": f"Bearer {token}"}


async def pick_user(dsn: str) -> str:
    connection = await asyncpg.connect(dsn)
    try:
        username: str | None = await connection.fetchval(USER_WITHOUT_DRAFTS)
    finally:
        await connection.close()
    if username is None:
        raise SystemExit("no seeded user without drafts to sign in as")
    return username


def sign_in(graphql_url: str, username: str) -> str:
    """An access token for `username` from blog_graphql's login mutation."""
    variables = {"login": username, "password": SEED_PASSWORD}
    response = httpx.post(graphql_url, json={"query": LOGIN, "variables": variables}, timeout=30)
    answer = response.json()
    if answer.get("errors") or not answer.get("data"):
        raise SystemExit(f"signing in as {username} failed: {answer}")
    token: str = answer["data"]["login"]["accessToken"]
    return token


def needs_token(viewers: Sequence[str]) -> bool:
    return SIGNED_IN in viewers
