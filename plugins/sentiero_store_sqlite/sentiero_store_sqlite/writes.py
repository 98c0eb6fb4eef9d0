"""Group commit: appends that arrive together share one transaction.

SQLite commits are the cost of a write (a WAL append and, at checkpoints, an
fsync), not the rows in them. Each ``submit`` queues its item and waits; a
single flusher task, started on the next turn of the event loop, takes
everything queued by then and commits it in one transaction, then goes again
for whatever arrived meanwhile. So a lone request pays for one commit, and a
burst of concurrent requests pays for a few. ``submit`` returns only once its
own item is committed, so a caller's write is durable when it returns.

If a group fails, each of its items is retried alone, so one bad batch fails
only its own request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")

CommitGroup = Callable[[list[T]], Awaitable[None]]


class WriteQueue(Generic[T]):
    def __init__(self, commit: CommitGroup[T], lock: asyncio.Lock, max_group: int = 128) -> None:
        if max_group < 1:
            raise ValueError("max_group must be at least 1")
        self._commit = commit
        self._lock = lock
        self._max_group = max_group
        self._queue: list[tuple[T, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        #: Number of transactions committed, for tests and the bench.
        self.groups_committed = 0

    async def submit(self, item: T) -> None:
        """Queue ``item`` and wait until it is committed (or failed)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((item, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="sentiero-sqlite-writes")
        await done

    async def drain(self) -> None:
        """Wait until everything queued so far is committed or failed."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.shield(self._flusher)

    async def _flush(self) -> None:
        while self._queue:
            async with self._lock:
                group = self._queue[: self._max_group]
                del self._queue[: self._max_group]
                try:
                    await self._commit_with_fallback(group)
                except BaseException as exc:
                    # Cancelled (the loop is shutting down): nothing more will
                    # be written, so no caller may be left waiting.
                    for _item, done in group + self._queue:
                        _settle(done, exc)
                    self._queue.clear()
                    raise

    async def _commit_with_fallback(self, group: list[tuple[T, asyncio.Future[None]]]) -> None:
        try:
            await self._commit([item for item, _done in group])
        except Exception as exc:
            if len(group) == 1:
                _settle(group[0][1], exc)
                return
            for one in group:
                await self._commit_with_fallback([one])
            return
        self.groups_committed += 1
        for _item, done in group:
            _settle(done, None)


def _settle(done: asyncio.Future[None], exc: BaseException | None) -> None:
    if done.done():  # the caller was cancelled; nobody is waiting
        return
    if exc is None:
        done.set_result(None)
    elif isinstance(exc, asyncio.CancelledError):
        done.cancel()
    else:
        done.set_exception(exc)
