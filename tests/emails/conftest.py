"""Fixtures for the email and job tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

import pytest

from blog_graphql.cli.main import main
from blog_graphql.config.settings import get_settings


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(monkeypatch, capsys, tmp_path) -> Callable[..., CliResult]:
    """Run `blog-graphql ARGS` in this process with the variables given; capture its output.

    The same `main()` as the installed command, without a new interpreter per call.
    """
    monkeypatch.chdir(tmp_path)  # no stray `.env`; the embedded default lands here

    def run(*args: str, **env: str) -> CliResult:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        try:
            main(list(args))
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        finally:
            get_settings.cache_clear()
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


@pytest.fixture
def run_cli(cli) -> Callable[..., Awaitable[CliResult]]:
    """`cli` for async tests: in a thread, since the command runs its own event loop."""

    async def run(*args: str, env: dict[str, str]) -> CliResult:
        return await asyncio.to_thread(partial(cli, *args, **env))

    return run
