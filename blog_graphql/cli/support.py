"""What every command shares: one-line failures, argument types, the embedded database."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NoReturn, TypeVar

from blog_graphql.config.settings import Settings

T = TypeVar("T")
EXIT_USAGE = 2
EXIT_FAILURE = 1


class CommandError(Exception):
    """A failure to report as one line and a non-zero exit."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a misuse is one line on stderr instead of usage text."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def positive(value: str) -> int:
    number = non_negative(value)
    if number == 0:
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {value!r}")
    return number


def non_negative(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected a number of 0 or more, got {value!r}")
    return number


def port(value: str) -> int:
    number = positive(value)
    if number > 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, got {value!r}")
    return number


def migrate_or_fail(run: Callable[[str], T], url: str) -> T:
    try:
        return run(url)
    except OSError as error:
        raise CommandError(f"cannot reach the database: {error.strerror or error}") from None


def prepare_embedded_database(settings: Settings) -> None:
    """The embedded SQLite default needs no earlier command: migrate it on first use."""
    from blog_graphql.db import migrate

    if settings.async_database_url.startswith("sqlite"):
        migrate_or_fail(migrate.upgrade, settings.database_url)
