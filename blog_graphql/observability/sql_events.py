"""SQLAlchemy event listeners attached once per engine (metrics and tracing share the rule)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


def listen_once(engine: AsyncEngine, listeners: dict[str, Callable[..., Any]]) -> None:
    """Attach engine or pool event listeners, unless this engine already has them."""
    target = engine.sync_engine
    if all(event.contains(target, name, fn) for name, fn in listeners.items()):
        return
    for name, fn in listeners.items():
        event.listen(target, name, fn)
