"""Report context in contextvars: right per thread and per asyncio task."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

# Immutable by convention: every change sets a new dict, so a task that
# copied the context never sees another task's additions.
_context: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "sentiero_reporter_context", default=MappingProxyType({})
)
# Set by the middleware: a callable that builds the request's data only when
# a report needs it, so requests that report nothing pay almost nothing.
_request: contextvars.ContextVar[Callable[[], Mapping[str, Any]] | None] = contextvars.ContextVar(
    "sentiero_reporter_request", default=None
)


def current() -> dict[str, Any]:
    return dict(_context.get())


def add(values: Mapping[str, Any]) -> None:
    _context.set({**_context.get(), **values})


def clear() -> None:
    _context.set({})


@contextmanager
def scoped(values: Mapping[str, Any]) -> Iterator[None]:
    token = _context.set({**_context.get(), **values})
    try:
        yield
    finally:
        _context.reset(token)


def request_data() -> Mapping[str, Any] | None:
    builder = _request.get()
    return builder() if builder is not None else None


def set_request(builder: Callable[[], Mapping[str, Any]] | None) -> contextvars.Token[Any]:
    return _request.set(builder)


def reset_request(token: contextvars.Token[Any]) -> None:
    _request.reset(token)
