"""Parsers for the settings that have a notation of their own: rate limits and networks."""

from __future__ import annotations

import ipaddress

from limits import RateLimitItem, parse_many

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


def check_field_rate_limits(value: str) -> str:
    parse_field_rate_limits(value)
    return value


def check_networks(values: list[str]) -> list[str]:
    parse_networks(values)
    return values
