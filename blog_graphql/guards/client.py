"""Who is calling: the client address, trusting X-Forwarded-For only from our own proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import Scope

from blog_graphql.config.setting_types import IPNetwork

UNKNOWN = "unknown"
STATE_KEY = "client_address"


def _is_trusted(address: str, proxies: Sequence[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(scope: Scope, proxies: Sequence[IPNetwork]) -> str:
    """The peer's address; when the peer is a trusted proxy, the last untrusted hop it names.

    Walking X-Forwarded-For from the right stops at the first address none of our proxies
    added, so a client cannot pick its own address by sending the header itself.
    """
    client = scope.get("client")
    peer = client[0] if client else UNKNOWN
    if not proxies or not _is_trusted(peer, proxies):
        return peer
    forwarded = Headers(scope=scope).getlist("x-forwarded-for")
    hops = [hop.strip() for line in forwarded for hop in line.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, proxies):
            return hop if _is_address(hop) else UNKNOWN
    return hops[0] if hops else peer


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def address_of(connection: HTTPConnection) -> str:
    """The address the request-context middleware worked out (the peer without it)."""
    return client_of(connection.scope)


def client_of(scope: Scope) -> str:
    """`address_of`, from the ASGI scope alone."""
    state = scope.get("state") or {}
    if STATE_KEY in state:
        return str(state[STATE_KEY])
    client = scope.get("client")
    return str(client[0]) if client else UNKNOWN
