"""A ``sqlite3`` connection that lives on a thread of its own.

A ``sqlite3`` connection may only be used from the thread that opened it,
and its calls block. So each connection gets one dedicated thread, opened
there and used only there; the event loop hands it work through a queue and
awaits a future that the thread settles through the loop.

Each hand-over is a round trip (a queue put, a wake-up of the thread, then a
write to the loop's self-pipe and a wake-up of the loop, the two threads
taking the GIL from each other in between), and those hops, not SQLite, were
most of what an append cost when a transaction took one per statement. So
the unit of work is a whole function: :meth:`Connection.run` runs
``work(connection)`` start to finish on the thread, and a transaction (its
statements and the batches' compression) is one hop.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Sequence
from queue import SimpleQueue
from typing import Any, TypeVar

T = TypeVar("T")

# (the caller's future, or None when nobody waits; the function to run)
_Call = tuple[asyncio.Future[Any] | None, Callable[[], Any]]


class Connection:
    """One ``sqlite3`` connection, its thread, and the queue between them.

    Make one with :meth:`open`; calls run one at a time in the order they
    were made. :meth:`close` waits for the calls already queued, closes the
    connection and ends the thread.
    """

    def __init__(self, name: str) -> None:
        self._calls: SimpleQueue[_Call | None] = SimpleQueue()
        # Set, used and closed on the thread only.
        self._db: sqlite3.Connection | None = None
        self._closed = False
        # The thread holds the queue, not this object: a connection dropped
        # without close() is collected, and __del__ ends its thread.
        self._thread = threading.Thread(target=_serve, args=(self._calls,), name=name, daemon=True)

    def __del__(self) -> None:
        if not self._closed:
            # closed on its own thread, as sqlite3 requires
            if self._db is not None:
                self._calls.put((None, self._db.close))
            self._stop()

    @classmethod
    async def open(cls, connect: Callable[[], sqlite3.Connection], name: str) -> Connection:
        """A connection made by ``connect()``, called on its new thread;
        whatever ``connect`` raises, the thread has ended."""
        self = cls(name)
        self._thread.start()

        def opening() -> None:
            self._db = connect()

        try:
            await self._call(opening)
        except BaseException:
            self._stop()
            raise
        return self

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work(connection)`` on the connection's thread; its result.

        ``work`` must not keep the connection or hand it to another thread.
        If the caller is cancelled, ``work`` still runs to its end (SQLite
        cannot be interrupted half-way through a statement); its result is
        dropped.
        """
        return await self._call(lambda: work(self._connection()))

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> None:
        await self.run(lambda db: db.execute(sql, parameters).close())

    async def execute_fetchall(self, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
        return await self.run(lambda db: db.execute(sql, parameters).fetchall())

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        """Close once the calls already queued have run; later calls fail."""
        if self._closed:
            return
        self._closed = True

        def closing() -> None:
            if self._db is not None:
                self._db.close()

        try:
            await self._call(closing, after_close=True)
        finally:
            self._stop()

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:  # open() sets it before any other call
            raise sqlite3.ProgrammingError("the connection is not open")
        return self._db

    def _call(self, fn: Callable[[], T], *, after_close: bool = False) -> asyncio.Future[T]:
        if self._closed and not after_close:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._calls.put((future, fn))
        return future

    def _stop(self) -> None:
        self._closed = True
        self._calls.put(None)


def _serve(calls: SimpleQueue[_Call | None]) -> None:
    while (call := calls.get()) is not None:
        _run_one(*call)
        del call  # nothing of a finished call outlives it


def _run_one(future: asyncio.Future[Any] | None, fn: Callable[[], Any]) -> None:
    try:
        result = fn()
    except BaseException as exc:
        if future is not None:
            _settle_soon(future, None, exc)
    else:
        if future is not None:
            _settle_soon(future, result, None)


def _settle_soon(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    try:
        future.get_loop().call_soon_threadsafe(_settle, future, result, exc)
    except RuntimeError:  # the loop is closed: nobody is waiting any more
        pass


def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.done():  # the caller was cancelled
        return
    if exc is None:
        future.set_result(result)
    else:
        future.set_exception(exc)
