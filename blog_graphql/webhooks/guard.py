"""The SSRF guard: webhook URLs must be http(s) and reach only public addresses.

Checked twice: when an admin gives the URL (a clear BAD_USER_INPUT on `url`), and at
every send on the address the name resolves to then, which is the address connected to
(`PinnedTransport`): a name that resolved to a public address at creation and to
127.0.0.1 later (DNS rebinding) is refused at the send.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

import httpx

from blog_graphql.errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_URL_LENGTH = 2000


class Refused(Exception):
    """The destination is not allowed (or cannot be resolved); the message says why."""


def is_public(address: IPAddress) -> bool:
    """Global unicast only: private, loopback, link-local, shared, reserved and multicast
    ranges are not (an IPv4 address mapped into IPv6 counts as the IPv4 address)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


async def resolve(host: str, port: int, *, allow_private: bool) -> list[IPAddress]:
    """Every address `host` resolves to; Refused unless all of them are allowed."""
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        found = [literal]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except (OSError, UnicodeError) as error:
            raise Refused(f"{host} does not resolve") from error
        found = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
        if not found:
            raise Refused(f"{host} does not resolve")
    if not allow_private and not all(map(is_public, found)):
        raise Refused(f"{host} resolves to a private, loopback or link-local address")
    return found


async def check_url(url: str, *, allow_private: bool) -> str:
    """The URL, stripped, if a webhook may be sent there; else BAD_USER_INPUT on `url`."""
    url = url.strip()
    problem = _shape_problem(url)
    if problem is None:
        parts = urlsplit(url)
        assert parts.hostname is not None  # `_shape_problem` checked
        try:
            await resolve(
                parts.hostname, _port(parts.scheme, parts.port), allow_private=allow_private
            )
        except Refused as refused:
            problem = f"Use a public destination: {refused}."
    if problem is not None:
        raise InvalidInput({"url": problem})
    return url


def _shape_problem(url: str) -> str | None:
    if len(url) > MAX_URL_LENGTH or any(ord(char) < 33 or ord(char) == 127 for char in url):
        return f"Use an http(s) URL of at most {MAX_URL_LENGTH} characters, without spaces."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        return "Use a well-formed http(s) URL."
    if parts.scheme not in ("http", "https"):
        return "Use an http:// or https:// URL."
    if not parts.hostname:
        return "The URL needs a host."
    return None


def _port(scheme: str, port: int | None) -> int:
    return port if port is not None else (443 if scheme == "https" else 80)


class PinnedTransport(httpx.AsyncBaseTransport):
    """Resolves the host once, checks the addresses, and connects to the checked one.

    The request keeps its `Host` header and, over TLS, the name for SNI and certificate
    checks; only the address connected to is fixed, so a second lookup cannot differ.
    """

    def __init__(self, *, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._inner = httpx.AsyncHTTPTransport(retries=0)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        addresses = await resolve(
            url.host, _port(url.scheme, url.port), allow_private=self._allow_private
        )
        request.url = url.copy_with(host=str(addresses[0]))
        if url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": url.host}
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
