"""Refresh tokens are decoded as strictly as access tokens: every forgery is UNAUTHENTICATED."""

from collections.abc import Callable
from datetime import timedelta
from functools import partial

import jwt
import pytest

from blog_graphql.accounts.tokens import encode_token
from blog_graphql.config.settings import Settings
from tests.accounts.operations import auth_sessions, error_of, refresh, sign_in
from tests.factories import create_user

INVALID_TOKEN = {"message": "Invalid or expired token.", "code": "UNAUTHENTICATED"}


def claims_of(token):
    return jwt.decode(token, options={"verify_signature": False})


def resign(settings, claims, **changes):
    payload = {key: value for key, value in {**claims, **changes}.items() if value is not None}
    return jwt.encode(payload, settings.secret_key, algorithm="HS256")


def without(claim, settings, token):
    return resign(settings, claims_of(token), **{claim: None})


FORGERIES: dict[str, Callable[[Settings, str], str]] = {
    "alg-none": lambda s, t: jwt.encode(claims_of(t), key="", algorithm="none"),
    "hs512": lambda s, t: jwt.encode(claims_of(t), s.secret_key + "x" * 40, algorithm="HS512"),
    "wrong-key": lambda s, t: jwt.encode(claims_of(t), "another-secret-" * 3, algorithm="HS256"),
    "tampered-payload": lambda s, t: ".".join(
        [t.split(".")[0], jwt.utils.base64url_encode(b'{"sub":"2"}').decode(), t.split(".")[2]]
    ),
    "truncated": lambda s, t: t[:-10],
    "wrong-issuer": lambda s, t: resign(s, claims_of(t), iss="someone-else"),
    "wrong-audience": lambda s, t: resign(s, claims_of(t), aud="another-api"),
    "expired": lambda s, t: resign(s, claims_of(t), exp=claims_of(t)["iat"] - 60),
    "non-numeric-subject": lambda s, t: resign(s, claims_of(t), sub="ada"),
    "other-user-same-session": lambda s, t: resign(s, claims_of(t), sub="999"),
    "unknown-session": lambda s, t: resign(s, claims_of(t), sid="f" * 32),
    "unknown-jti": lambda s, t: resign(s, claims_of(t), jti="0" * 32),
    **{
        f"no-{claim}": partial(without, claim)
        for claim in ("iss", "aud", "sub", "exp", "iat", "jti", "sid", "typ")
    },
}


# Signed with our own key, a refresh token of the session whose id is not the current one
# can only be an old, rotated token: it is treated as reuse and ends the session.
TAKEN_FOR_REUSE = {"unknown-jti"}


@pytest.mark.parametrize("name", FORGERIES)
async def test_a_forged_refresh_token_is_unauthenticated(client, db, settings, name):
    await create_user(db, username="ada")
    payload = await sign_in(client, "ada")
    forged = FORGERIES[name](settings, payload["refreshToken"])
    assert error_of(await refresh(client, forged)) == INVALID_TOKEN

    body = await refresh(client, payload["refreshToken"])
    [session] = await auth_sessions(db)
    if name in TAKEN_FOR_REUSE:
        assert error_of(body) == INVALID_TOKEN
        assert session.revoked_reason == "refresh_token_reuse"
    else:
        assert body["data"]["refreshToken"]["user"] == {"username": "ada"}
        assert session.revoked_at is None


async def test_a_refresh_token_signed_with_another_key_fails(client, db, settings):
    ada = await create_user(db, username="ada")
    await sign_in(client, "ada")
    [session] = await auth_sessions(db)
    token = encode_token(
        settings.model_copy(update={"secret_key": "k" * 40}),
        user_id=ada.id, session_id=session.id, token_type="refresh",
        lifetime=timedelta(minutes=5), jti=session.refresh_jti,
    )  # fmt: skip
    assert error_of(await refresh(client, token)) == INVALID_TOKEN
