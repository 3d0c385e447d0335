"""Parsers for the settings that have a notation of their own: rate limits, networks,
URLs and addresses, persisted-document manifests."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from limits import RateLimitItem, parse_many
from redis.connection import parse_url as parse_redis_url
from strawberry.http.websocket_origin import normalize_allowed_origins

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_rate_limit(value: str) -> list[RateLimitItem]:
    """`10/minute` or several at once, `10/minute;100/hour` (the `limits` notation)."""
    try:
        return parse_many(value)
    except ValueError:
        raise ValueError(f"expected a rate such as 10/minute, got {value!r}") from None


def parse_field_rate_limits(value: str) -> dict[str, list[RateLimitItem]]:
    """`login=10/minute,register=5/hour;20/day`: budgets by root field name."""
    budgets: dict[str, list[RateLimitItem]] = {}
    for entry in filter(None, (part.strip() for part in value.split(","))):
        field, separator, rate = entry.partition("=")
        if not separator or not field.strip().isidentifier():
            raise ValueError(f"expected field=rate such as login=10/minute, got {entry!r}")
        budgets[field.strip()] = parse_rate_limit(rate.strip())
    return budgets


def parse_networks(values: list[str]) -> list[IPNetwork]:
    """Addresses or CIDR networks, such as `10.0.0.0/8` or `::1`."""
    try:
        return [ipaddress.ip_network(value, strict=False) for value in values]
    except ValueError as error:
        raise ValueError(f"expected IP addresses or networks: {error}") from None


def check_rate_limit(value: str) -> str:
    parse_rate_limit(value)
    return value


def check_field_rate_limits(value: str | None) -> str | None:
    if value is not None:
        parse_field_rate_limits(value)
    return value


def check_networks(values: list[str]) -> list[str]:
    parse_networks(values)
    return values


def check_origins(values: list[str]) -> list[str]:
    """Browser origins, `scheme://host[:port]` as the `Origin` header says them, or `*`."""
    for value in values:
        try:
            normalize_allowed_origins([value])
        except ValueError:
            raise ValueError(
                f"expected origins such as http://localhost:5173 (scheme, host, optional "
                f"port, no path), got {value!r}"
            ) from None
    return values


def check_redis_url(value: str | None) -> str | None:
    if value is None:
        return value
    try:
        parse_redis_url(value)  # type: ignore[no-untyped-call]
    except ValueError:
        # The URL itself is not repeated: it may hold a password.
        raise ValueError(
            "expected redis://host:port/db, rediss://host:port/db or unix:///path"
        ) from None
    return value


def check_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
    return value


def check_email_address(value: str) -> str:
    """`Name <user@host>` or `user@host`."""
    address = parseaddr(value)[1]
    if "@" not in address.strip("@"):
        raise ValueError(f"expected an address such as Blog <noreply@example.com>, got {value!r}")
    return value


SHA256_PREFIX = "sha256:"
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def document_hash(document: str) -> str:
    """The lowercase hex SHA-256 of a document's UTF-8 text (APQ and codegen alike)."""
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def bare_sha256(document_id: str) -> str | None:
    """The hex digest in `sha256:<hex>` or bare `<hex>`; None for anything else."""
    digest = document_id.removeprefix(SHA256_PREFIX).lower()
    return digest if _SHA256_HEX.fullmatch(digest) else None


def parse_trusted_documents(path: str) -> dict[str, str]:
    """A GraphQL Codegen persisted-documents manifest, `{"sha256:<hex>": "<document>"}`
    (keys without the prefix too), as documents by bare hex digest. Every key must be
    the SHA-256 of its document: a manifest from another build is refused, not served."""
    try:
        manifest = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror or error}") from None
    except ValueError as error:  # bad JSON or bad UTF-8
        raise ValueError(f"{path} is not a JSON manifest: {error}") from None
    if not isinstance(manifest, dict):
        raise ValueError(f"{path} must hold a JSON object of documents by hash")
    documents: dict[str, str] = {}
    for key, document in manifest.items():
        digest = bare_sha256(key)
        if digest is None:
            raise ValueError(f"{path}: {key!r} is not a sha256:<hex> document id")
        if not isinstance(document, str) or document_hash(document) != digest:
            raise ValueError(f"{path}: the document under {key!r} does not have that hash")
        documents[digest] = document
    return documents


def check_trusted_documents(path: str | None) -> str | None:
    if path is not None:
        parse_trusted_documents(path)
    return path
