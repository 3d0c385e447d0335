"""Preview links: signed tokens that let whoever holds one read a draft, for 7 days.

A token is `<random>.<HMAC of it under SECRET_KEY>`: a forged or mangled one is refused
before any database read. Only its SHA-256 is stored, so a leaked table opens nothing,
and a row can be revoked; an expired or revoked token reads as nothing at all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from blog_graphql.accounts.models import User
from blog_graphql.db.database import Database, utcnow
from blog_graphql.db.keyset import AnyRow
from blog_graphql.errors import InvalidInput
from blog_graphql.posts.loaders import POST_CARD
from blog_graphql.posts.models import Post, PreviewLink
from blog_graphql.posts.service import _post_to_change

LIFETIME = timedelta(days=7)
MAX_TOKEN_LENGTH = 200
_SIGNING_CONTEXT = b"blog_graphql.preview-link"


@dataclass(frozen=True)
class NewPreviewLink:
    token: str
    url: str
    expires_at: datetime


def _signature(secret_key: str, nonce: str) -> str:
    key = hashlib.sha256(_SIGNING_CONTEXT + secret_key.encode()).digest()
    digest = hmac.new(key, nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _sign(secret_key: str) -> str:
    nonce = secrets.token_urlsafe(32)
    return f"{nonce}.{_signature(secret_key, nonce)}"


def signed_by_us(secret_key: str, token: str) -> bool:
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        return False
    nonce, signature = token.split(".")
    return hmac.compare_digest(signature, _signature(secret_key, nonce))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_preview_link(
    db: Database, user: User, post_id: int, *, secret_key: str, public_url: str
) -> NewPreviewLink:
    """For its author or an admin, of a draft or a scheduled post."""
    token = _sign(secret_key)
    async with db.transaction() as session:
        post = await _post_to_change(session, user, post_id)
        if post.published:
            raise InvalidInput({"postId": "The post is published: share its public link."})
        now = utcnow()
        link = PreviewLink(
            post_id=post.id, created_by=user.id, token_hash=token_hash(token),
            created_at=now, expires_at=now + LIFETIME,
        )  # fmt: skip
        session.add(link)
    return NewPreviewLink(
        token=token, url=f"{public_url.rstrip('/')}/preview/{token}", expires_at=link.expires_at
    )


async def revoke_preview_links(db: Database, user: User, post_id: int) -> int:
    """Revoke every live link of the post; how many there were."""
    async with db.transaction() as session:
        await _post_to_change(session, user, post_id)
        now = utcnow()
        result = await session.execute(
            update(PreviewLink)
            .where(
                PreviewLink.post_id == post_id,
                PreviewLink.revoked_at.is_(None),
                PreviewLink.expires_at > now,
            )
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def find_previewed_post(db: Database, token: str, *, secret_key: str) -> AnyRow | None:
    """The post card of a live token; None for a forged, expired or revoked one."""
    if not signed_by_us(secret_key, token):
        return None
    statement = (
        select(*POST_CARD)
        .join(PreviewLink, PreviewLink.post_id == Post.id)
        .where(
            PreviewLink.token_hash == token_hash(token),
            PreviewLink.revoked_at.is_(None),
            PreviewLink.expires_at > utcnow(),
        )
    )
    rows = await db.read(statement, {})
    return rows[0] if rows else None
