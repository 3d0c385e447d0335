"""Schema-extension hooks run by `PlannedHooksRunner` exactly as by Strawberry's own runner:
the same hooks, in the same order, seeing the same exceptions, with the same results."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from blog_graphql.engine.extension_hooks import PlannedHooksRunner


class Boom(Exception):
    pass


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"

    @strawberry.field
    def fails(self) -> str:
        raise Boom("resolver")


def recording(name: str, log: list[str], fail: dict[str, str]) -> type[SchemaExtension]:
    """An extension logging each hook's entry and exit (and the exception it saw);
    `fail` says which hook raises, on the way in ("in") or out ("out")."""

    def hook(step: str) -> Any:
        def run(self: SchemaExtension) -> Iterator[None]:
            log.append(f"{name}.{step} in")
            if fail.get(f"{name}.{step}") == "in":
                raise Boom(f"{name}.{step} in")
            try:
                yield
            except Exception as error:
                log.append(f"{name}.{step} saw {error!r}")
                if fail.get(f"{name}.{step}") == "swallow":
                    return
                raise
            log.append(f"{name}.{step} out")
            if fail.get(f"{name}.{step}") == "out":
                raise Boom(f"{name}.{step} out")

        return run

    return type(
        name,
        (SchemaExtension,),
        {
            "on_operation": hook("operation"),
            "on_parse": hook("parse"),
            "on_validate": hook("validate"),
            "on_execute": hook("execute"),
        },
    )


def async_recording(log: list[str]) -> type[SchemaExtension]:
    class AsyncHooks(SchemaExtension):
        async def on_validate(self) -> AsyncIterator[None]:
            log.append("async.validate in")
            yield
            log.append("async.validate out")

        def on_execute(self) -> None:  # type: ignore[override]  # a plain function
            log.append("plain.execute")

        def get_results(self) -> dict[str, Any]:
            return {"seen": len(log)}

    return AsyncHooks


class PlannedSchema(strawberry.Schema):
    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> PlannedHooksRunner:
        return PlannedHooksRunner(execution_context=execution_context, extensions=extensions)


async def run(
    schema_class: type[strawberry.Schema], query: str, fail: dict[str, str], with_async: bool
) -> Any:
    log: list[str] = []
    extensions = [recording("A", log, fail), recording("B", log, fail)]
    if with_async:  # its validation step runs on Strawberry's manager, the others do not
        extensions.insert(1, async_recording(log))
    schema = schema_class(query=Query, extensions=extensions)
    try:
        result = await schema.execute(query)
    except Exception as error:  # compared, whatever it is
        return log, repr(error)
    errors = [(error.message, error.path) for error in result.errors or ()]
    return log, result.data, errors, result.extensions


CASES = [
    ("{ hello }", {}),
    ("{ fails }", {}),
    ("{ nope }", {}),  # a validation error
    ("{ hello", {}),  # a syntax error
    ("{ hello }", {"B.execute": "in"}),  # refused on the way into execution
    ("{ hello }", {"A.parse": "in"}),
    ("{ hello }", {"B.operation": "out"}),  # A's operation hook sees B's failure
    ("{ hello }", {"B.validate": "out", "A.validate": "swallow"}),
    ("{ hello }", {"B.execute": "out", "A.execute": "swallow"}),
    ("{ hello }", {"A.operation": "out"}),
]


@pytest.mark.parametrize("with_async", [False, True])
@pytest.mark.parametrize(("query", "fail"), CASES)
async def test_hooks_run_as_strawberry_runs_them(
    query: str, fail: dict[str, str], with_async: bool
) -> None:
    expected = await run(strawberry.Schema, query, fail, with_async)
    assert await run(PlannedSchema, query, fail, with_async) == expected
