"""Small helpers shared by the core and plugins."""

from __future__ import annotations

import inspect
import time
from typing import Any


async def await_me_maybe(value: Any) -> Any:
    """Resolve a hook result that may be a value, a callable or an awaitable."""
    if callable(value):
        value = value()
    if inspect.isawaitable(value):
        value = await value
    return value


def now_ms() -> int:
    return int(time.time() * 1000)
