"""An outbox email as its recipient reads it, for the development mailbox and `emails show`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from blog_graphql.config.settings import Settings
from blog_graphql.emails import templates
from blog_graphql.emails.models import OutboxEmail


@dataclass(frozen=True)
class Preview:
    id: int
    status: str
    created_at: datetime
    headers: list[tuple[str, str]]
    subject: str
    # None when the body cannot be rebuilt: production drops one-time tokens once sent.
    rendered: templates.RenderedEmail | None


def preview(settings: Settings, email: OutboxEmail) -> Preview:
    """Rendered as `deliver` renders it, with links under PUBLIC_URL."""
    try:
        rendered = templates.render(email.template, email.context, public_url=settings.public_url)
    except templates.TemplateError:
        rendered = None
    subject = rendered.subject if rendered else f"({email.template}: body no longer stored)"
    headers = [
        ("From", settings.emails_from),
        ("To", email.recipient),
        ("Subject", subject),
        ("Date", email.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")),
    ]
    return Preview(email.id, email.status, email.created_at, headers, subject, rendered)


def as_text(item: Preview) -> str:
    """Headers, a blank line, the text body: the email whole, as a terminal shows it."""
    lines = [f"{name}: {value}" for name, value in item.headers]
    lines.append(f"Status: {item.status}")
    body = item.rendered.text if item.rendered else "(the body was not kept once sent)\n"
    return "\n".join(lines) + "\n\n" + body
