"""What plugins hand the core to add pages: routes and navigation panels."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

View = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Route:
    """A route under the mount. ``rule`` uses Quart's syntax, relative to the
    mount (``"/sessions/<session_id>"``). Non-public routes need the
    dashboard's ``auth_callback`` to allow the request, and a CSRF token for
    methods other than GET, HEAD and OPTIONS."""

    rule: str
    view: View
    methods: tuple[str, ...] = ("GET",)
    public: bool = False
    name: str | None = None
    csrf: bool = True


@dataclass(frozen=True)
class Panel:
    """An entry in the dashboard's navigation bar; ``path`` is relative to
    the mount (``"/analytics"``)."""

    name: str
    title: str
    path: str
    order: int = 100
