"""Riding out dropped connections: a restart, a replica-set election.

PyMongo already retries a failed read or write once. When the connection
drops again (a server still coming back), the store retries the whole
operation a few more times; every operation it wraps is safe to repeat
(batch inserts carry their own ids, summary folds remember recent batch
ids, deletes are idempotent). When the servers stay out of reach, the
caller gets :class:`StoreUnavailable` naming them and the cause.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pymongo.errors import (
    AutoReconnect,
    ConnectionFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
)

from sentiero_core.store import StoreUnavailable

T = TypeVar("T")

FIRST_DELAY_S = 0.1


def short_cause(exc: BaseException) -> str:
    """The driver's reason without its topology dump."""
    text = str(exc).split(", Timeout:")[0].split(", Topology Description:")[0]
    return text if len(text) <= 300 else text[:297] + "..."


def _transient(exc: PyMongoError) -> bool:
    return isinstance(exc, AutoReconnect) or exc.has_error_label("RetryableWriteError")


class Retrier:
    def __init__(self, hosts: str, attempts: int) -> None:
        self.hosts = hosts
        self.attempts = attempts

    def unavailable(self, what: str, exc: BaseException) -> StoreUnavailable:
        return StoreUnavailable(
            f"MongoDB at {self.hosts} is unreachable while {what}: {short_cause(exc)}"
        )

    async def run(self, what: str, op: Callable[[], Awaitable[T]]) -> T:
        delay = FIRST_DELAY_S
        for attempt in range(1, self.attempts + 1):
            try:
                return await op()
            except ServerSelectionTimeoutError as exc:
                # The driver already waited its whole selection timeout.
                raise self.unavailable(what, exc) from exc
            except PyMongoError as exc:
                if not _transient(exc) and not isinstance(exc, ConnectionFailure):
                    raise
                if not _transient(exc) or attempt == self.attempts:
                    raise self.unavailable(what, exc) from exc
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")
