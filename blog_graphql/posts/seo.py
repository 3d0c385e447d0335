"""A post's SEO fields: what authors may set, and what readers get where they set nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

MAX_SEO_TITLE = 200
MAX_SEO_DESCRIPTION = 500
MAX_URL = 2048
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Unset:
    """An input that was not given: the stored value stays."""


UNSET: Final = Unset()
SeoValue = str | None | Unset  # None (or blank): back to the fallback


@dataclass(frozen=True)
class SeoChanges:
    """`seoTitle`, `seoDescription` and `canonicalUrl` of a create or update input."""

    title: SeoValue = UNSET
    description: SeoValue = UNSET
    canonical_url: SeoValue = UNSET

    def _given(self) -> list[tuple[str, str, str | None, int]]:
        given = (
            ("seoTitle", "seo_title", self.title, MAX_SEO_TITLE),
            ("seoDescription", "seo_description", self.description, MAX_SEO_DESCRIPTION),
            ("canonicalUrl", "canonical_url", self.canonical_url, MAX_URL),
        )
        return [
            (field, column, _clean(value), limit)
            for field, column, value, limit in given
            if not isinstance(value, Unset)
        ]

    def problems(self) -> dict[str, str]:
        """Each bad field by its input name (BAD_USER_INPUT)."""
        problems: dict[str, str] = {}
        for field, _column, value, limit in self._given():
            if value is None:
                continue
            if _CONTROL.search(value):
                problems[field] = "Remove the control characters."
            elif len(value) > limit:
                problems[field] = f"Use at most {limit:,} characters."
            elif field == "canonicalUrl" and not _is_web_url(value):
                problems[field] = "Use an absolute http(s) URL."
        return problems

    def apply(self, post: Any) -> None:
        """Set what was given on the post row (checked by `problems` first)."""
        for _field, column, value, _limit in self._given():
            setattr(post, column, value)


NO_SEO_CHANGES: Final = SeoChanges()


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split()) if "\x00" not in value else value
    return value or None


def _is_web_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in value


def seo_fields(
    *,
    seo_title: str | None,
    seo_description: str | None,
    canonical_url: str | None,
    title: str,
    excerpt: str | None,
    slug: str,
    published: bool,
    public_url: str,
) -> tuple[str, str | None, str | None]:
    """What `Post.seo` shows: the stored values, else the title, the excerpt, and for a
    published post its public page (`${PUBLIC_URL}/posts/{slug}`); a draft has no
    canonical URL of its own (its slug is not public yet)."""
    canonical = canonical_url
    if canonical is None and published:
        canonical = f"{public_url.rstrip('/')}/posts/{slug}"
    return seo_title or title, seo_description or excerpt, canonical
