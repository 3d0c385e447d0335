"""Scrubs passwords, tokens and secrets from log events before they are written.

Two nets: any field whose name sounds secret is replaced whole, and text (messages,
tracebacks, library lines) is searched for bearer tokens, JWTs, `password=...`-style pairs,
credentials in URLs and the configured secret values themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from structlog.typing import EventDict, WrappedLogger

REDACTED = "[REDACTED]"
SENSITIVE_NAME = re.compile(
    r"pass(word|wd|phrase)?|secret|token|authori[sz]ation|cookie|api[_-]?key|credential",
    re.IGNORECASE,
)
# Keys that look sensitive by name but only ever hold harmless values.
HARMLESS_NAMES = frozenset({"token_type", "tokentype"})
_SECRET_WORD = r"(?:pass(?:word|wd|phrase)?|secret|token|api[_-]?key|authori[sz]ation)\w*"
TEXT_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # `Authorization: Bearer abc`, `bearer abc`, `Basic dXNlcjpwYXNz`
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]+"), rf"\1\2{REDACTED}"),
    # A JWT anywhere (three base64url parts, the first an encoded JSON object).
    (re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),
    # `password=x`, `"newPassword": "x"`, `'token': 'x'` (reprs, query strings, JSON)
    (
        re.compile(
            rf"(?i)({_SECRET_WORD}['\"]?\s*[:=]\s*)(['\"]?)(?!(?:bearer|basic)\s)[^'\"\s,;&}}\]]+"
        ),
        rf"\1\2{REDACTED}",
    ),
    # `scheme://user:password@host`
    (re.compile(r"(://[^:/@\s]*:)[^@/\s]+@"), rf"\1{REDACTED}@"),
)


# Text none of the patterns can match: no spaces, `:`, `=` or quotes, and no JWT start.
# Most values of a line (paths, ids, addresses, names) are such; checking that is one match.
_PLAIN = re.compile(r"[A-Za-z0-9._/-]*")


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    if _PLAIN.fullmatch(text) and "eyJ" not in text:
        return text
    for pattern, replacement in TEXT_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def is_sensitive_name(name: object) -> bool:
    return isinstance(name, str) and _is_sensitive_name(name)


@lru_cache(maxsize=1024)  # the keys of log events are a small set, met on every line
def _is_sensitive_name(name: str) -> bool:
    return name.lower() not in HARMLESS_NAMES and SENSITIVE_NAME.search(name) is not None


_SCALARS = frozenset({str, int, float, bool})


class Redactor:
    """A structlog processor; the last one before rendering."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret containing another is removed whole.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def __call__(self, _logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
        return {key: self.clean(key, value) for key, value in event_dict.items()}

    def clean(self, key: object, value: Any) -> Any:
        if value is None:
            return None
        if is_sensitive_name(key):
            return REDACTED
        if type(value) in _SCALARS:  # most values of a line: checked first, and cheaply
            return redact_text(value, self.secrets) if type(value) is str else value
        if isinstance(value, str):
            return redact_text(value, self.secrets)
        if isinstance(value, dict):
            return {k: self.clean(k, v) for k, v in value.items()}
        if isinstance(value, list | tuple | set):
            return [self.clean(None, item) for item in value]
        if isinstance(value, int | float | bool) or value is None:
            return value
        return redact_text(str(value), self.secrets)
