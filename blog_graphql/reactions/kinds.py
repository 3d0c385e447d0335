"""The kinds of reaction, in the order every answer lists them."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    LIKE = "LIKE"
    CLAP = "CLAP"
    INSIGHTFUL = "INSIGHTFUL"


KINDS: tuple[Kind, ...] = tuple(Kind)
