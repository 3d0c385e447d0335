"""The environment-variable reference in README.md, rendered from `config.Settings`.

`blog-graphql settings-table` prints it; `--update README.md` rewrites the README's
copy between its markers, and a test keeps the two equal, so the docs cannot drift.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic.fields import FieldInfo

from blog_graphql.config.settings import Settings

START = "<!-- settings-table:start (generated: blog-graphql settings-table) -->"
END = "<!-- settings-table:end -->"


def settings_table() -> str:
    rows = ["| variable | default | what it does |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        rows.append(f"| `{name.upper()}` | {default_text(field)} | {description(field)} |")
    return "\n".join(rows)


def default_text(field: FieldInfo) -> str:
    extra = field.json_schema_extra
    if isinstance(extra, dict) and "doc_default" in extra:
        return str(extra["doc_default"])
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list):
        return f"`{','.join(value)}`" if value else "none"
    return f"`{value}`"


def description(field: FieldInfo) -> str:
    text = field.description or ""
    options = choices(field.annotation)
    if options:
        text += " One of " + ", ".join(f"`{option}`" for option in options) + "."
    return text.replace("|", "\\|").strip()


def choices(annotation: Any) -> list[str]:
    """The values of a `Literal[...]` type, also inside `X | None`."""
    if get_origin(annotation) is Literal:
        return [str(value) for value in get_args(annotation)]
    if get_origin(annotation) in (Union, types.UnionType):
        return [value for arg in get_args(annotation) for value in choices(arg)]
    return []


def with_table(document: str) -> str:
    """`document` with the text between the markers replaced by the current table."""
    before, start, rest = document.partition(START)
    _, end, after = rest.partition(END)
    if not start or not end:
        raise ValueError(f"the markers {START!r} and {END!r} are missing")
    return f"{before}{START}\n{settings_table()}\n{END}{after}"


def update(path: Path) -> bool:
    """Rewrite the table in `path`; whether anything changed."""
    old = path.read_text()
    new = with_table(old)
    if new != old:
        path.write_text(new)
    return new != old
