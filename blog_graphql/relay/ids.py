"""Opaque global ids (`base64("Type:pk")`, as Relay clients expect) and their decoding."""

from __future__ import annotations

import base64
import binascii

from blog_graphql.errors import InvalidInput, NotFound


def encode_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode("ascii")


def parse_id(global_id: str, field: str = "id") -> tuple[str, int]:
    """Split a global id into (type name, primary key); malformed is BAD_USER_INPUT."""
    try:
        decoded = base64.b64decode(global_id.encode("ascii"), validate=True).decode("utf-8")
        type_name, _, raw_pk = decoded.partition(":")
        pk = int(raw_pk)
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidInput({field: "Malformed id."}) from None
    # Only the form `encode_id` makes: `int` would also read `Post:+110`, `Post: 110`,
    # `Post:0110` or Arabic-Indic digits, giving one object many ids.
    if not type_name or pk <= 0 or pk >= 2**31 or encode_id(type_name, pk) != global_id:
        raise InvalidInput({field: "Malformed id."})
    return type_name, pk


def decode_id(global_id: str, expected_type: str, field: str = "id") -> int:
    """The primary key of an id that must name `expected_type`; another type is NOT_FOUND."""
    type_name, pk = parse_id(global_id, field)
    if type_name != expected_type:
        raise NotFound()
    return pk
