"""Cursors of comment events: where a client resumes `commentEvents(after:)` from.

A cursor names a post and an id of the post's event stream, signed with a key derived
from SECRET_KEY, so that it is opaque and only ours: garbage, a forged position, or a
cursor of another post is refused as BAD_USER_INPUT (one of ours that is too old gets a
RESET instead). The form is versioned (`c1`) so it can change without breaking clients
that hold old ones. A new SECRET_KEY makes earlier cursors unknown: clients refetch.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from blog_graphql.errors import InvalidInput
from blog_graphql.live.streams import StreamId, parse_stream_id

VERSION = "c1"
# 64 bits of the signature: forging one needs about 2^63 tries against the live server.
SIGNATURE_CHARS = 16


class EventCursors:
    """Signs and checks cursors with a key of their own, derived from the app's secret."""

    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), b"comment-event-cursor", hashlib.sha256).digest()

    def encode(self, post_id: int, stream_id: str) -> str:
        body = f"{VERSION}:{post_id}:{stream_id}"
        token = f"{body}:{self._signature(body)}".encode()
        return base64.urlsafe_b64encode(token).decode("ascii").rstrip("=")

    def decode(self, post_id: int, cursor: str) -> StreamId:
        """The stream id of a cursor this server gave out for `post_id`."""
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
            body, _, signature = text.rpartition(":")
            version, cursor_post, stream_id = body.split(":")
            if version != VERSION or not hmac.compare_digest(signature, self._signature(body)):
                raise ValueError("not signed by us")
            if cursor_post != str(post_id):
                raise ValueError("another post's cursor")
            return parse_stream_id(stream_id)
        except ValueError:  # binascii.Error, UnicodeError and BadStreamId among them
            raise InvalidInput({"after": "Not a cursor of this post's events."}) from None

    def _signature(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()
        return digest[:SIGNATURE_CHARS]
