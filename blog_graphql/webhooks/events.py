"""The events a webhook can ask for, and the payload each delivery carries."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any

import orjson


class WebhookEvent(Enum):
    POST_PUBLISHED = "POST_PUBLISHED"
    POST_UPDATED = "POST_UPDATED"
    POST_UNPUBLISHED = "POST_UNPUBLISHED"
    POST_DELETED = "POST_DELETED"
    COMMENT_ADDED = "COMMENT_ADDED"
    COMMENT_APPROVED = "COMMENT_APPROVED"
    COMMENT_DELETED = "COMMENT_DELETED"
    USER_REGISTERED = "USER_REGISTERED"

    @property
    def type(self) -> str:
        """The payload's `type`: `POST_PUBLISHED` is `post.published`."""
        return self.value.lower().replace("_", ".", 1)


# What the posts and comments services call their changes (`_announce`), as events.
POST_CHANGES: Mapping[str, WebhookEvent] = {
    "published": WebhookEvent.POST_PUBLISHED,
    "updated": WebhookEvent.POST_UPDATED,
    "unpublished": WebhookEvent.POST_UNPUBLISHED,
    "deleted": WebhookEvent.POST_DELETED,
}
COMMENT_CHANGES: Mapping[str, WebhookEvent] = {
    "added": WebhookEvent.COMMENT_ADDED,
    "approved": WebhookEvent.COMMENT_APPROVED,
    "deleted": WebhookEvent.COMMENT_DELETED,
}


def payload(event: WebhookEvent, at: datetime, data: Mapping[str, Any]) -> str:
    """The JSON body, `{type, timestamp, data}`, exactly as it is signed and sent."""
    body = {"type": event.type, "timestamp": at, "data": data}
    return orjson.dumps(body, option=orjson.OPT_UTC_Z).decode()
