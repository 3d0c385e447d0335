"""The engine's seam to library internals: present on the locked versions, used nowhere else,
and a missing one falls back to Strawberry's stock executor with the same answers."""

from __future__ import annotations

import ast
import logging
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import sqlalchemy
from prometheus_client import REGISTRY

from blog_graphql.accounts.models import User
from blog_graphql.app import create_app
from blog_graphql.engine import _compat
from blog_graphql.engine import schema as engine_schema
from blog_graphql.engine.execution import FastExecutionContext
from blog_graphql.schema import build_schema
from tests.conftest import graphql
from tests.factories import create_post, create_user

PACKAGE = Path(__file__).parents[2] / "blog_graphql"
SEAM = PACKAGE / "engine" / "_compat.py"
# Modules of the three libraries that are not their documented API.
INTERNAL_MODULES = (
    "strawberry.schema.schema",
    "strawberry.schema.schema_converter",
    "strawberry.extensions.context",
    "strawberry.extensions.runner",
    "strawberry.utils",
    "graphql.execution.collect_fields",
    "graphql.execution.executor",
    "graphql.execution.values",
    "sqlalchemy.util",
)
LIBRARIES = ("strawberry", "graphql", "sqlalchemy")
PRIVATE_ATTRIBUTES = ("_schema", "_implements_resolve", "_is_default", "_get_basic_result")


def test_the_locked_libraries_have_every_seam_the_engine_uses():
    assert _compat.missing_seams() == []
    assert engine_schema.fast_path_available()


def internal_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith(INTERNAL_MODULES):
                found.append(f"from {node.module} import ...")
            elif node.module.startswith(LIBRARIES):
                found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith(INTERNAL_MODULES)]
        elif isinstance(node, ast.Attribute) and node.attr in PRIVATE_ATTRIBUTES:
            found.append(f".{node.attr}")
        elif isinstance(node, ast.Constant) and node.value in PRIVATE_ATTRIBUTES:
            found.append(repr(node.value))
    return found


def test_library_internals_are_reached_only_through_the_seam():
    offenders = {
        str(path.relative_to(PACKAGE)): uses
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != SEAM and (uses := internal_uses(path))
    }
    assert offenders == {}
    assert internal_uses(SEAM)  # the check itself sees what the seam does


def fast_path_gauge() -> float | None:
    return REGISTRY.get_sample_value("blog_graphql_engine_fast_path")


@pytest.fixture
def seam_gone(monkeypatch):
    """As if an upgrade of Strawberry had renamed a private method the engine overrides."""
    monkeypatch.setattr(
        engine_schema,
        "missing_seams",
        lambda: ["strawberry.Schema._get_middleware_manager is gone"],
    )
    engine_schema.fast_path_available.cache_clear()
    yield
    monkeypatch.undo()
    engine_schema.fast_path_available.cache_clear()
    assert engine_schema.fast_path_available()  # the gauge as the real libraries set it


async def test_a_missing_seam_serves_on_the_stock_executor_with_the_same_answers(
    app_state, db, seam_gone, caplog
):
    ada = await create_user(db, username="ada")
    await create_post(db, author=ada, title="Hello", tags=["python"])
    query = "{ posts(first: 5) { totalCount edges { node { title author { username } tags { name } } } } }"  # noqa: E501
    with caplog.at_level(logging.WARNING, logger="blog_graphql.engine"):
        stock = build_schema(app_state.settings, app_state.rate_limiter)
        build_schema(app_state.settings, app_state.rate_limiter)  # warns once, not per schema
    assert stock.execution_context_class is not FastExecutionContext
    assert type(stock) is engine_schema.QuietSchema
    warnings = [r.getMessage() for r in caplog.records if r.name == "blog_graphql.engine"]
    assert len(warnings) == 1 and "_get_middleware_manager is gone" in warnings[0]
    assert fast_path_gauge() == 0

    transport = httpx.ASGITransport(app=create_app(state=app_state, schema=stock))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answer = await graphql(client, query)
    ada_, python = {"username": "ada"}, {"name": "python"}
    assert answer == {
        "data": {
            "posts": {
                "totalCount": 1,
                "edges": [{"node": {"title": "Hello", "author": ada_, "tags": [python]}}],
            }
        }
    }


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "stock"])
@pytest.mark.parametrize("directive", ["@defer", "@stream(initialCount: 1)"])
async def test_incremental_delivery_is_refused_not_silently_dropped(app_state, fast, directive):
    schema = build_schema(app_state.settings, app_state.rate_limiter, fast_execution=fast)
    deferred = "... on Query @defer { tags { name } }"
    target = deferred if directive == "@defer" else f"tags {directive} {{ name }}"
    transport = httpx.ASGITransport(app=create_app(state=app_state, schema=schema))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        body = await graphql(client, f"{{ {target} }}")
    assert "data" not in body or body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert directive.split("(")[0] in body["errors"][0]["message"]


def test_fast_engine_false_serves_every_operation_on_the_stock_executor(settings):
    assert type(build_schema(settings)) is engine_schema.EngineSchema
    stock = build_schema(settings.model_copy(update={"fast_engine": False}))
    assert type(stock) is engine_schema.SpecSchema
    assert stock.execution_context_class is not FastExecutionContext


LOADED_IN_A_FRESH_PROCESS = """
import sqlalchemy
from blog_graphql.accounts.models import User
from blog_graphql.engine._compat import loaded_instance
user = loaded_instance(User, [("id", 7), ("username", "ada"), ("is_admin", False)])
state = sqlalchemy.inspect(user)
print(type(user).__name__, user.id, user.username, user.is_admin, state.modified, state.transient)
"""


def test_a_loaded_instance_is_built_as_sqlalchemy_loads_one_even_before_any_query():
    """The viewer of a signed-in request (`accounts/authentication.py`) may be the first ORM
    object a worker builds: the mappers get configured then, and its values are loaded state
    (no changes to flush), without the constructor's events."""
    assert hasattr(sqlalchemy.inspect(User).class_manager, "new_instance")
    run = subprocess.run([sys.executable, "-c", LOADED_IN_A_FRESH_PROCESS],
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert run.stdout.split() == ["User", "7", "ada", "False", "False", "True"]
