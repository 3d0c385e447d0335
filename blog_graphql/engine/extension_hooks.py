"""Strawberry's schema-extension hooks, planned once per extension set instead of per step.

For each of an operation's four steps (operation, parsing, validation, execution), and for
each result a subscription streams, Strawberry inspects every extension's hook, wraps it in
a new `contextlib.contextmanager` (with `functools.wraps`) and enters it on an exit stack:
about 360 Python calls and a third of the CPU of a `{ __typename }` request. Which hooks
the extension classes have never changes, so here that is worked out once per list of
classes. When none of a step's hooks is async (the usual case) their generators are driven
directly, as `contextlib.contextmanager` would drive them; an exception on the way out
hands them to a real exit stack, so errors go through the hooks exactly as before. A step
with an async hook runs on Strawberry's own manager.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncIterator, Callable, Generator, Sequence
from dataclasses import dataclass
from functools import cache
from types import MethodType, TracebackType
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from blog_graphql.engine._compat import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    SchemaExtensionsRunner,
    ValidationContextManager,
    WrappedHook,
    await_maybe,
    implements_resolve,
)

HookGenerator = Callable[..., Generator[None, None, None]]  # (extension, *arguments)
ExtensionTypes = tuple[type[SchemaExtension], ...]


@dataclass(frozen=True)
class ClassHook:
    """One extension class's hook for one step, not yet bound to an instance."""

    position: int  # of the extension in the schema's list
    manager: Callable[[SchemaExtension], Any]  # instance -> (async) context manager
    generator: HookGenerator | None  # a sync hook, as a generator function
    is_async: bool


def class_hook(extension_type: type[SchemaExtension], name: str, position: int) -> ClassHook | None:
    """None when the class keeps `SchemaExtension`'s do-nothing hook; the kinds of hook
    are Strawberry's (`ExtensionContextManagerBase.get_hook`)."""
    hook = getattr(extension_type, name)
    if hook is getattr(SchemaExtension, name):
        return None
    if inspect.isasyncgenfunction(hook):
        return ClassHook(position, contextlib.asynccontextmanager(hook), None, is_async=True)
    if inspect.iscoroutinefunction(hook):
        return ClassHook(position, _after_coroutine(hook), None, is_async=True)
    if not callable(hook):
        raise ValueError(f"Hook {name} on {extension_type} must be callable, got {hook!r}")
    generator = hook if inspect.isgeneratorfunction(hook) else _after_call(hook)
    return ClassHook(position, contextlib.contextmanager(generator), generator, is_async=False)


def _after_call(hook: Callable[..., Any]) -> HookGenerator:
    def around(extension: SchemaExtension, *arguments: Any) -> Generator[None, None, None]:
        hook(extension, *arguments)
        yield

    return around


def _after_coroutine(hook: Callable[..., Any]) -> Callable[..., Any]:
    @contextlib.asynccontextmanager
    async def around(extension: SchemaExtension, *arguments: Any) -> AsyncIterator[None]:
        await hook(extension, *arguments)
        yield

    return around


@dataclass(frozen=True)
class StepPlan:
    hooks: tuple[ClassHook, ...]
    is_async: bool  # one of the hooks is: Strawberry's own manager runs the step


@cache
def step_plan(extension_types: ExtensionTypes, name: str) -> StepPlan:
    found = (class_hook(kind, name, position) for position, kind in enumerate(extension_types))
    hooks = tuple(hook for hook in found if hook is not None)
    return StepPlan(hooks, is_async=any(hook.is_async for hook in hooks))


def _adopt(generator: Generator[None, None, None]) -> Generator[None, None, None]:
    return generator


# Wraps a generator already past its `yield` in the context manager that would have entered it.
_entered_manager = contextlib.contextmanager(_adopt)


class SyncHooks:
    """One step's hooks, all sync: each generator is advanced to its `yield` on the way in
    and run to its end on the way out, newest first, as `contextmanager` and an exit stack
    would. A hook failing on its way in leaves the ones before it entered, as Strawberry's
    manager does; any exception on the way out goes through a real exit stack."""

    __slots__ = ("arguments", "entered", "extensions", "hooks")

    def __init__(
        self,
        hooks: Sequence[ClassHook],
        extensions: list[SchemaExtension],
        arguments: tuple[Any, ...] = (),
    ) -> None:
        self.hooks = hooks
        self.extensions = extensions
        self.arguments = arguments  # after the extension: a stream result's hook gets it
        self.entered: list[Generator[None, None, None]] = []

    def __enter__(self) -> None:
        extensions, arguments = self.extensions, self.arguments
        for hook in self.hooks:
            generator = hook.generator(extensions[hook.position], *arguments)  # type: ignore[misc]
            try:
                next(generator)
            except StopIteration:
                raise RuntimeError("generator didn't yield") from None
            self.entered.append(generator)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if exc_type is not None:
            return self._unwind(exc_type, exc_value, traceback)
        entered = self.entered
        while entered:
            generator = entered.pop()
            try:
                next(generator)
            except StopIteration:
                continue
            except BaseException as error:
                return self._raise_through(error)
            generator.close()
            return self._raise_through(RuntimeError("generator didn't stop"))
        return False

    def _raise_through(self, error: BaseException) -> bool:
        """`error` came out of a hook on a clean exit: the hooks entered before it see it."""
        if self._unwind(type(error), error, error.__traceback__):
            return False
        raise error

    def _unwind(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        stack = contextlib.ExitStack()
        for generator in self.entered:
            stack.push(_entered_manager(generator))
        self.entered = []
        return bool(stack.__exit__(exc_type, exc_value, traceback))

    async def __aenter__(self) -> None:
        self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        return self.__exit__(exc_type, exc_value, traceback)


class _PlannedHooks(ExtensionContextManagerBase):
    """Strawberry's manager for one step (a step with an async hook), over planned hooks."""

    __slots__ = ()

    def __init__(self, hooks: Sequence[ClassHook], extensions: list[SchemaExtension]) -> None:
        self.hooks = [
            WrappedHook(
                extensions[hook.position],
                MethodType(hook.manager, extensions[hook.position]),
                hook.is_async,
            )
            for hook in hooks
        ]


class _Operation(_PlannedHooks, OperationContextManager):
    __slots__ = ()


class _Parsing(_PlannedHooks, ParsingContextManager):
    __slots__ = ()


class _Validation(_PlannedHooks, ValidationContextManager):
    __slots__ = ()


class _Executing(_PlannedHooks, ExecutingContextManager):
    __slots__ = ()


@cache
def with_results(extension_types: ExtensionTypes) -> tuple[int, ...]:
    """Positions of the extensions whose class has its own `get_results`."""
    default = SchemaExtension.get_results
    return tuple(i for i, kind in enumerate(extension_types) if kind.get_results is not default)


@cache
def any_resolves(extension_types: ExtensionTypes) -> bool:
    """One of the classes wraps every field (a `resolve` hook): a per-field middleware."""
    return any(map(implements_resolve, extension_types))


class PlannedHooksRunner(SchemaExtensionsRunner):
    """Strawberry's runner, with each step's hooks planned once per list of classes."""

    def __init__(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> None:
        super().__init__(execution_context, extensions)
        self.types: ExtensionTypes = tuple(map(type, self.extensions))

    def _step(self, manager: type[_PlannedHooks]) -> Any:
        plan = step_plan(self.types, manager.HOOK_NAME)
        if plan.is_async:
            return manager(plan.hooks, self.extensions)
        return SyncHooks(plan.hooks, self.extensions)

    def operation(self) -> OperationContextManager:
        return self._step(_Operation)  # type: ignore[no-any-return]

    def validation(self) -> ValidationContextManager:
        return self._step(_Validation)  # type: ignore[no-any-return]

    def parsing(self) -> ParsingContextManager:
        return self._step(_Parsing)  # type: ignore[no-any-return]

    def executing(self) -> ExecutingContextManager:
        return self._step(_Executing)  # type: ignore[no-any-return]

    def on_stream_result(self, result: Any) -> Any:
        """Run for every subscription event of every subscriber, so planned like the rest;
        an async hook goes through Strawberry's own manager."""
        plan = step_plan(self.types, SchemaExtension.on_stream_result.__name__)
        if plan.is_async:
            return super().on_stream_result(result)
        return SyncHooks(plan.hooks, self.extensions, (result,))

    async def get_extensions_results(self, ctx: ExecutionContext) -> dict[str, Any]:
        # As Strawberry's, without awaiting the `{}` of every extension that has no results.
        data: dict[str, Any] = {}
        for position in with_results(self.types):
            data.update(await await_maybe(self.extensions[position].get_results()))
        data.update(ctx.extensions_results)
        return data
