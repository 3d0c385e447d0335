"""Email templates kept in the package: a subject, a text body and an HTML body per email."""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import cache
from importlib import resources
from string import Template
from typing import Any
from urllib.parse import quote, urlencode

# Every template and the context keys its caller must give (plain JSON values).
REQUIRED_KEYS: dict[str, frozenset[str]] = {
    "welcome": frozenset({"username", "token"}),
    "verify_email": frozenset({"username", "token"}),
    "reset_password": frozenset({"username", "token"}),
    "email_changed": frozenset({"username"}),  # to the old address, after the change
    # Notification emails carry a one-click unsubscribe token (`notifications.digest`).
    "comment_on_post": frozenset(
        {"username", "post_title", "post_slug", "commenter", "comment_excerpt", "unsubscribe_token"}
    ),
    "reply_to_comment": frozenset(
        {"username", "post_title", "post_slug", "replier", "comment_excerpt", "unsubscribe_token"}
    ),
    # To each admin, when a webhook failed every attempt of a delivery (webhooks/sending.py).
    "webhook_disabled": frozenset({"username", "webhook_url", "attempts", "last_error"}),
    "notification_digest": frozenset({"username", "headline", "summary", "unsubscribe_token"}),
}


class TemplateError(ValueError):
    """An unknown template, or a context that lacks what the template needs."""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def check_context(template: str, context: dict[str, Any]) -> None:
    """Raise TemplateError unless `template` exists and `context` has every key it needs."""
    if template not in REQUIRED_KEYS:
        raise TemplateError(f"unknown email template {template!r}")
    missing = REQUIRED_KEYS[template] - context.keys()
    if missing:
        raise TemplateError(f"email template {template!r} needs {', '.join(sorted(missing))}")


def render(template: str, context: dict[str, Any], *, public_url: str) -> RenderedEmail:
    """The subject and both bodies of `template`, with links under `public_url`."""
    check_context(template, context)
    values = {key: str(value) for key, value in context.items()} | links(context, public_url)
    subject_line, text_body = _source(f"{template}.txt").split("\n", 1)
    # A header must be one line: user-given titles and names may hold newlines.
    subject = " ".join(Template(subject_line).substitute(values).split())
    escaped = {key: html.escape(value) for key, value in values.items()}
    content = Template(_source(f"{template}.html")).substitute(escaped)
    page = Template(_source("_layout.html")).substitute(
        escaped, subject=html.escape(subject), content=content
    )
    return RenderedEmail(
        subject=subject, text=Template(text_body.lstrip("\n")).substitute(values), html=page
    )


def links(context: dict[str, Any], public_url: str) -> dict[str, str]:
    """The absolute links a template may show, built as API.md says."""
    found = {"site_url": f"{public_url}/"}
    if "token" in context:
        token = urlencode({"token": context["token"]})
        found["verify_url"] = f"{public_url}/verify-email?{token}"
        found["reset_url"] = f"{public_url}/reset-password?{token}"
    if "unsubscribe_token" in context:
        token = urlencode({"token": context["unsubscribe_token"]})
        found["unsubscribe_url"] = f"{public_url}/unsubscribe?{token}"
    if "post_slug" in context:
        found["post_url"] = f"{public_url}/posts/{quote(str(context['post_slug']))}"
    return found


@cache
def _source(name: str) -> str:
    return (resources.files("blog_graphql.emails") / "templates" / name).read_text("utf-8")
