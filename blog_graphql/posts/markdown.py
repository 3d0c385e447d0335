"""Markdown to safe HTML: markdown-it-py renders, nh3 (Rust's ammonia) sanitises."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from html import unescape

import nh3
from markdown_it import MarkdownIt

EXCERPT_LENGTH = 300
WORDS_PER_MINUTE = 230
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table",
    "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "code": {"class"},
    "th": {"align"},
    "td": {"align"},
}
ALLOWED_SCHEMES = {"http", "https", "mailto"}
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
# markdown-it is pure Python and some legal inputs cost it seconds (90 KB of `![` scans
# for a closing `]` from every bracket). Rendering runs on these threads, never on the
# event loop; two at most, so a burst of such posts cannot keep the loop from the GIL.
_RENDERERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="markdown")


@lru_cache(maxsize=1)
def _renderer() -> MarkdownIt:
    # Raw HTML in Markdown is allowed through the parser and then cleaned by nh3.
    return MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table")


def render_markdown(content: str) -> str:
    """Sanitised HTML for `content`: no script/style, no event handlers, safe links only."""
    html = _renderer().render(content)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="nofollow noopener noreferrer",
    )


async def render_markdown_off_loop(content: str) -> str:
    """`render_markdown` on a rendering thread: the event loop goes on serving meanwhile."""
    return await asyncio.get_running_loop().run_in_executor(_RENDERERS, render_markdown, content)


def plain_text(html: str) -> str:
    """The text of sanitised HTML, tags dropped and entities decoded."""
    return _SPACE.sub(" ", unescape(_TAG.sub(" ", html))).strip()


def reading_minutes(html: str) -> int:
    """Minutes to read the rendered text: its words / 230, rounded, at least 1."""
    words = len(plain_text(html).split())
    return max(1, (words + WORDS_PER_MINUTE // 2) // WORDS_PER_MINUTE)


def make_excerpt(html: str, length: int = EXCERPT_LENGTH) -> str:
    """About the first `length` characters of plain text, cut at a word boundary."""
    return shorten(plain_text(html), length)


def shorten(text: str, length: int) -> str:
    """`text` with its whitespace collapsed, cut at a word boundary near `length`."""
    text = _SPACE.sub(" ", text).strip()
    if len(text) <= length:
        return text
    cut = text[:length].rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:") + "…"
