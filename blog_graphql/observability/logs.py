"""Logging: one structlog pipeline for our lines and every library's, JSON or coloured console.

structlog renders both our own events and the standard-library records of uvicorn,
SQLAlchemy, Alembic and Dramatiq through the same processors, so every line has the same
shape, carries the current request id, and passes through `redact` before it is written.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable
from typing import IO, Any

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from blog_graphql.config.settings import Settings
from blog_graphql.observability.redaction import Redactor
from blog_graphql.observability.request_info import current_request_id

# Quiet or silenced library loggers, and why.
LIBRARY_LEVELS = {
    "sqlalchemy.engine": logging.WARNING,  # statements (with parameters) only when asked
    "uvicorn.access": logging.CRITICAL,  # replaced by our access log, which knows more
    "uvicorn.error": logging.INFO,
    "alembic.runtime.plugins": logging.WARNING,  # a line per plugin at every start
    # Strawberry logs every GraphQL error, client mistakes included, with their messages
    # (which may quote variable values). Unexpected errors are logged by
    # `errors.mask` with their traceback; expected ones are the client's business.
    "strawberry.execution": logging.CRITICAL,
}
_HANDLER_MARK = "_blog_graphql_handler"


def add_request_id(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    request_id = current_request_id()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


def add_process_id(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    # Tells apart the workers of `serve --workers N`, which share one output.
    event_dict["pid"] = os.getpid()
    return event_dict


def _dumps(value: Any, default: Any = None) -> str:
    return orjson.dumps(value, default=default).decode()


def _drop_empty(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    # JSON keeps a fixed shape for log queries; a person reading lines wants less noise.
    return {key: value for key, value in event_dict.items() if value is not None}


def _renderers(settings: Settings, stream: IO[str]) -> list[Processor]:
    if settings.log_format_resolved == "json":
        return [structlog.processors.JSONRenderer(serializer=_dumps)]
    console = structlog.dev.ConsoleRenderer(
        colors=stream.isatty(), exception_formatter=structlog.dev.plain_traceback
    )
    return [_drop_empty, console]


def secret_values(settings: Settings) -> Iterable[str]:
    """Configured secrets, scrubbed wherever they would appear verbatim."""
    values = (settings.secret_key, settings.smtp_password, settings.metrics_token)
    return [value for value in values if value]


def build_formatter(settings: Settings, stream: IO[str]) -> structlog.stdlib.ProcessorFormatter:
    shared: list[Processor] = [
        add_request_id,
        add_process_id,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # Tracebacks become plain text (never with local variables) before redaction.
            structlog.processors.format_exc_info,
            Redactor(secret_values(settings)),
            *_renderers(settings, stream),
        ],
    )


def configure_logging(settings: Settings, stream: IO[str] | None = None) -> logging.Handler:
    """Route every logger through our pipeline to `stream` (stdout); safe to call again."""
    stream = stream or sys.stdout
    handler = logging.StreamHandler(stream)
    handler.setFormatter(build_formatter(settings, stream))
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    _skip_unused_record_fields()
    for name, level in LIBRARY_LEVELS.items():
        logging.getLogger(name).setLevel(level)
    return handler


def _skip_unused_record_fields() -> None:
    """Our lines never show the caller's file and line, nor thread or process names (`pid`
    is ours), so the standard library need not work them out for every record."""
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def _route_structlog_through_logging() -> None:
    """Our events become standard-library records: one set of handlers and levels for all."""
    structlog.configure(
        processors=[
            add_request_id,
            add_process_id,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


_route_structlog_through_logging()


def remove_handler(handler: logging.Handler) -> None:
    logging.getLogger().removeHandler(handler)


def get_logger(name: str) -> Any:
    """A structlog logger; its events go through the pipeline above once configured."""
    return structlog.stdlib.get_logger(name)
