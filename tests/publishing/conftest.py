"""Fixtures for the publishing tests: GraphQL calls as a given user."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.conftest import graphql
from tests.factories import auth_headers

Call = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def call(client, db, settings) -> Call:
    """`await call(query, variables, user=someone)`: the decoded body, anonymous by default."""

    async def run(query: str, variables: dict[str, Any] | None = None, *, user=None):
        headers = await auth_headers(db, settings, user) if user is not None else None
        return await graphql(client, query, variables, headers)

    return run
