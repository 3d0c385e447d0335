"""JWT access and refresh tokens (PyJWT): issued with every claim, decoded strictly."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import jwt

from blog_graphql.config.settings import Settings
from blog_graphql.db.database import utcnow
from blog_graphql.errors import Unauthenticated

ALGORITHM = "HS256"
ISSUER = "blog_graphql"
AUDIENCE = "blog_graphql:api"
REQUIRED_CLAIMS = ["iss", "aud", "sub", "exp", "iat", "jti", "sid", "typ"]
TokenType = Literal["access", "refresh"]


@dataclass(frozen=True)
class Claims:
    user_id: int
    session_id: str
    jti: str
    token_type: TokenType
    expires_at: datetime


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int  # seconds the access token lives


def new_token_id() -> str:
    return secrets.token_hex(16)


def successor_jti(settings: Settings, refresh_jti: str) -> str:
    """The id of the refresh token that replaces `refresh_jti` when it is rotated: derived
    (with the secret key, so nobody else can), so that the rotation can be told again
    to a second tab that presents the old token within the grace period."""
    digest = hmac.new(settings.secret_key.encode(), b"refresh:" + refresh_jti.encode(), "sha256")
    return digest.hexdigest()[:32]


def _access_jti(refresh_jti: str) -> str:
    """The pair's access token id follows from its refresh token's: a pair issued again
    is the same pair, byte for byte."""
    return hashlib.sha256(b"access:" + refresh_jti.encode()).hexdigest()[:32]


def encode_token(
    settings: Settings,
    *,
    user_id: int,
    session_id: str,
    token_type: TokenType,
    lifetime: timedelta,
    jti: str | None = None,
    issued_at: datetime | None = None,
) -> str:
    now = issued_at or utcnow()
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user_id),
        "iat": now,
        "exp": now + lifetime,
        "jti": jti or new_token_id(),
        "sid": session_id,
        "typ": token_type,
    }
    return jwt.encode(payload, settings.secret_key, algorithm=ALGORITHM)


def issue_token_pair(
    settings: Settings,
    *,
    user_id: int,
    session_id: str,
    refresh_jti: str,
    issued_at: datetime | None = None,
) -> TokenPair:
    """A fresh access token and the refresh token whose id the session now expects; given
    the same `issued_at`, the same pair again."""
    issued_at = issued_at or utcnow()
    access_lifetime = timedelta(minutes=settings.access_token_expire_minutes)
    access = encode_token(
        settings, user_id=user_id, session_id=session_id, token_type="access",
        lifetime=access_lifetime, jti=_access_jti(refresh_jti), issued_at=issued_at,
    )  # fmt: skip
    refresh = encode_token(
        settings, user_id=user_id, session_id=session_id, token_type="refresh",
        lifetime=timedelta(days=settings.refresh_token_expire_days), jti=refresh_jti,
        issued_at=issued_at,
    )  # fmt: skip
    return TokenPair(access, refresh, int(access_lifetime.total_seconds()))


def decode_token(settings: Settings, token: str, expected_type: TokenType) -> Claims:
    """Verify signature, algorithm, issuer, audience, expiry, every claim and the type."""
    try:
        payload = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": REQUIRED_CLAIMS},
        )
        claims = Claims(
            user_id=int(payload["sub"]),
            session_id=str(payload["sid"]),
            jti=str(payload["jti"]),
            token_type=payload["typ"],
            expires_at=datetime.fromtimestamp(int(payload["exp"]), tz=utcnow().tzinfo),
        )
    except (jwt.InvalidTokenError, ValueError, TypeError):
        raise Unauthenticated("Invalid or expired token.") from None
    if claims.token_type != expected_type:
        raise Unauthenticated("Invalid or expired token.")
    return claims


# Access tokens verified before, kept by their exact text: a client sends the same token on
# every request until it expires (minutes), and PyJWT's checks cost more than the rest of a
# small request. Only what a token says is kept, never whether its session is live: the
# caller reads that from the database every time, so a revoked session fails at once.
VERIFIED_KEPT = 4096


class VerifiedAccessTokens:
    """`decode_token(settings, token, "access")`, once per token and secret key: a token
    verified before is answered again until its expiry (PyJWT's rule: valid while now <
    exp), and one that fails is never kept, so it fails the same way every time."""

    def __init__(self, kept: int = VERIFIED_KEPT) -> None:
        self.kept = kept
        self._claims: dict[tuple[str, str], tuple[Claims, float]] = {}

    def __len__(self) -> int:
        return len(self._claims)

    def claims(self, settings: Settings, token: str) -> Claims:
        key = (settings.secret_key, token)
        known = self._claims.get(key)
        if known is not None:
            if time.time() < known[1]:
                return known[0]
            del self._claims[key]  # expired: decoding it again raises the usual error
        claims = decode_token(settings, token, "access")
        if len(self._claims) >= self.kept:
            del self._claims[next(iter(self._claims))]  # the oldest: most likely expired
        self._claims[key] = (claims, claims.expires_at.timestamp())
        return claims


verified_access_tokens = VerifiedAccessTokens()
