"""Sending reports: on a background thread through a bounded queue, or inline."""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

from .transports import Transport

logger = logging.getLogger("sentiero_reporter")


@dataclass
class DeliveryStats:
    """What happened to the reports handed to delivery so far."""

    sent: int = 0
    failed: int = 0
    dropped: int = 0
    queued: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "dropped": self.dropped,
            "queued": self.queued,
        }


_STOP = object()


class Delivery:
    """Hands reports to a transport; never raises to its caller.

    In async mode a daemon thread drains a queue of at most ``max_queue``
    reports; a report that finds the queue full is dropped and counted.
    """

    def __init__(self, transport: Transport, async_delivery: bool, max_queue: int) -> None:
        self.transport = transport
        self.async_delivery = async_delivery
        self.stats = DeliveryStats()
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_queue)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._closed = False
        _live.add(self)

    def submit(self, kind: str, payload: dict[str, Any]) -> None:
        if not self.async_delivery:
            self._send(kind, payload)
            return
        if self._closed:
            self.stats.dropped += 1
            return
        self._ensure_worker()
        try:
            self._queue.put_nowait((kind, payload))
        except queue.Full:
            with self._lock:
                self.stats.dropped += 1
            if self.stats.dropped in (1, 10, 100) or self.stats.dropped % 1000 == 0:
                logger.warning(
                    "sentiero reporter queue full: %d report(s) dropped so far",
                    self.stats.dropped,
                )
            return
        with self._lock:
            self.stats.queued += 1

    def _send(self, kind: str, payload: dict[str, Any]) -> None:
        try:
            self.transport.post(kind, payload)
        except BaseException as exc:
            with self._lock:
                self.stats.failed += 1
            logger.warning("sentiero reporter could not deliver a report (%s): %s", kind, exc)
            if isinstance(exc, KeyboardInterrupt | SystemExit) and not self.async_delivery:
                raise
        else:
            with self._lock:
                self.stats.sent += 1

    def _ensure_worker(self) -> None:
        # After a fork the parent's thread does not exist in the child.
        if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            if self._pid != os.getpid():
                self._pid = os.getpid()
                self._queue = queue.Queue(maxsize=self._queue.maxsize)
            self._thread = threading.Thread(target=self._run, name="sentiero-reporter", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    return
                kind, payload = item
                with self._lock:
                    self.stats.queued -= 1
                self._send(kind, payload)
            finally:
                self._queue.task_done()

    def flush(self, timeout: float) -> bool:
        """Waits until the queue is empty, at most ``timeout`` seconds; True if it is."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() >= deadline or self._thread is None:
                return False
            if not self._thread.is_alive():
                return False
            time.sleep(0.005)
        return True

    def close(self, timeout: float) -> bool:
        """Flushes within ``timeout`` and stops the worker; later reports are dropped."""
        done = self.flush(timeout)
        self._closed = True
        if self._thread is not None and self._thread.is_alive():
            try:
                self._queue.put_nowait(_STOP)
            except queue.Full:
                pass
        return done


_live: weakref.WeakSet[Delivery] = weakref.WeakSet()
_exit_timeout = [2.0]


def set_exit_timeout(seconds: float) -> None:
    _exit_timeout[0] = seconds


@atexit.register
def _flush_at_exit() -> None:
    # One bound for all of them: exit never waits longer than flush_timeout.
    deadline = time.monotonic() + _exit_timeout[0]
    for delivery in list(_live):
        try:
            delivery.close(max(0.0, deadline - time.monotonic()))
        except Exception:
            pass
