"""`@username` in a comment: who it mentions, and the comment as HTML with mentions linked."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

# At most this many distinct users are notified of one comment's mentions (the first
# ones written); more `@names` still link, but notify nobody.
MAX_MENTIONS = 10
# A username (accounts.validation) after `@`, not inside a word or an email address.
MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9_-]{3,50})(?![\w-])")


def mentioned_usernames(text: str, limit: int = MAX_MENTIONS) -> list[str]:
    """The distinct usernames `text` mentions, lower-cased, in order, `limit` at most."""
    found: list[str] = []
    for match in MENTION.finditer(text):
        name = match.group(1).lower()
        if name not in found:
            found.append(name)
            if len(found) == limit:
                break
    return found


def comment_html(text: str, public_url: str) -> str:
    """The comment's plain text, escaped, in one paragraph per blank-line-separated block,
    with each `@username` linked to `${PUBLIC_URL}/users/<username>`."""
    blocks = [block for block in re.split(r"\n\s*\n", text) if block.strip()]
    return "".join(f"<p>{_linked(block.strip(), public_url)}</p>" for block in blocks)


def _linked(block: str, public_url: str) -> str:
    out: list[str] = []
    position = 0
    for match in MENTION.finditer(block):
        out.append(html.escape(block[position : match.start()]))
        name = match.group(1)
        url = html.escape(f"{public_url}/users/{quote(name)}")
        out.append(f'<a href="{url}" class="mention">@{html.escape(name)}</a>')
        position = match.end()
    out.append(html.escape(block[position:]))
    return "".join(out).replace("\n", "<br>")
