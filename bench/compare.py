"""Do both systems return the same values? Their answers, normalised to one shape.

PostGraphile's documents alias their fields to blog_graphql's names, so what differs is
shape: connections (`edges { node }`, `nodes`), counts as `{ totalCount }`, the
post-tag link row (`tagByTagId`) and timestamp formatting. A post's tags are compared as a
set (sorted by name): PostGraphile cannot order a join table by the joined row's name.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

LINK_FIELDS = ("tagByTagId",)
SET_FIELDS = ("tags",)  # below the root: a post's tags; Q4's root `tags` keeps its order


def normalise(value: Any, depth: int = 0) -> Any:
    if isinstance(value, list):
        return [normalise(item, depth + 1) for item in value]
    if isinstance(value, str):
        return _timestamp(value)
    if not isinstance(value, dict):
        return value
    keys = set(value)
    if keys == {"edges"}:
        return [normalise(edge["node"], depth + 1) for edge in value["edges"]]
    if keys == {"nodes"}:
        return normalise(value["nodes"], depth)
    if keys == {"totalCount"}:
        return value["totalCount"]
    if len(keys) == 1 and keys <= set(LINK_FIELDS):
        return normalise(value[keys.pop()], depth)
    result = {key: normalise(item, depth + 1) for key, item in value.items()}
    if depth > 0:
        for key in SET_FIELDS:
            if isinstance(result.get(key), list):
                result[key] = sorted(result[key], key=lambda tag: tag["name"])
    return result


def _timestamp(text: str) -> str:
    """ISO 8601 timestamps as one canonical UTC form; other text unchanged."""
    if len(text) < 19 or text[4] != "-" or text[10] != "T":
        return text
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    return moment.isoformat() if moment.tzinfo is None else moment.astimezone(UTC).isoformat()


def first_difference(left: Any, right: Any, path: str = "data") -> str | None:
    """Where two normalised answers first differ, or None when they are equal."""
    if isinstance(left, dict) and isinstance(right, dict):
        if set(left) != set(right):
            return f"{path}: fields {sorted(left)} != {sorted(right)}"
        for key in left:
            found = first_difference(left[key], right[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            return f"{path}: {len(left)} items != {len(right)}"
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            found = first_difference(a, b, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if left == right else f"{path}: {left!r} != {right!r}"


def same_values(app_answer: dict[str, Any], postgraphile_answer: dict[str, Any]) -> str | None:
    """None when both answers carry data with the same values; else what differs."""
    for name, answer in (("blog_graphql", app_answer), ("postgraphile", postgraphile_answer)):
        if answer.get("errors") or not answer.get("data"):
            return f"{name} answered {str(answer)[:300]}"
    return first_difference(normalise(app_answer["data"]), normalise(postgraphile_answer["data"]))
