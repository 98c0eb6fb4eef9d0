"""How many ingest requests are decoded at once, and how often one client may post.

Decoding, parsing and storing a batch is where a request costs memory, so
only ``ingest_max_concurrent`` requests do it at once; the rest wait up to
``ingest_queue_timeout`` seconds for their turn and then get a 503 with
``Retry-After``. A body that inflates past ``max_batch_bytes`` can only be a
full snapshot: it needs the one *large* slot, so that at most one such body
is held at a time, and it gives back its ordinary slot while it waits.

Waiting is bounded too: a request that finds too many others already
waiting is answered at once, since a waiting request holds its body.

The optional per-client limit is a token bucket keyed by the client address
as the ingest sees it (``ingest_rate_limit`` requests a second on average,
bursts of ``ingest_rate_burst``); a client over it gets a 429 with
``Retry-After`` before its body is read.
"""

from __future__ import annotations

import asyncio
import math
import time
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from .errors import IngestError

if TYPE_CHECKING:
    from ..app import Sentiero
    from ..settings import Settings

#: What a 503 from a full queue tells the client to wait, in seconds.
BUSY_RETRY_AFTER = 1
#: Requests that may wait for a slot, per slot.
WAITING_PER_SLOT = 8
#: Clients whose buckets are remembered; the least recently seen go first
#: (a forgotten client starts again with a full bucket).
MAX_BUCKETS = 65_536


def busy() -> IngestError:
    error = IngestError(503, "too many batches at once, retry later")
    error.retry_after = BUSY_RETRY_AFTER
    error.body_unread = True
    return error


class Slots:
    """A semaphore whose waits are bounded in time and in number."""

    def __init__(self, size: int, timeout: float, max_waiting: int) -> None:
        self._free = asyncio.Semaphore(size)
        self.timeout = timeout
        self.max_waiting = max_waiting
        self.waiting = 0

    async def acquire(self) -> None:
        if not self._free.locked():
            await self._free.acquire()
            return
        if self.waiting >= self.max_waiting:
            raise busy()
        self.waiting += 1
        try:
            async with asyncio.timeout(self.timeout):
                await self._free.acquire()
        except TimeoutError:
            raise busy() from None
        finally:
            self.waiting -= 1

    def release(self) -> None:
        self._free.release()


class Turn:
    """One request's place: an ordinary slot, traded for the large one when
    its body turns out to be a snapshot's size."""

    def __init__(self, gate: Gate) -> None:
        self._gate = gate
        self._held: Slots | None = None

    async def _enter(self) -> None:
        await self._gate.ordinary.acquire()
        self._held = self._gate.ordinary

    async def take_large(self) -> None:
        """Swap the ordinary slot for the large one (waiting, bounded)."""
        if self._held is self._gate.large:
            return
        self._leave()
        await self._gate.large.acquire()
        self._held = self._gate.large

    def _leave(self) -> None:
        if self._held is not None:
            self._held.release()
            self._held = None


class Gate:
    """The slots of one app."""

    def __init__(self, settings: Settings) -> None:
        size = settings.ingest_max_concurrent
        timeout = settings.ingest_queue_timeout
        self.ordinary = Slots(size, timeout, WAITING_PER_SLOT * size)
        self.large = Slots(1, timeout, size)

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[Turn]:
        turn = Turn(self)
        await turn._enter()
        try:
            yield turn
        finally:
            turn._leave()


class RateLimiter:
    """Token buckets per client: ``rate`` tokens a second, at most ``burst``."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str, now: float | None = None) -> float:
        """Take a token for ``client``: 0 when granted, else the seconds
        until one is there."""
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            tokens -= 1.0
            wait = 0.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[client] = (tokens, now)
        if len(self._buckets) > MAX_BUCKETS:
            self._buckets.popitem(last=False)
        return wait

    def check(self, client: str | None) -> None:
        """:class:`IngestError` 429 when ``client`` is over its rate."""
        if client is None:
            return
        wait = self.take(client)
        if wait > 0:
            error = IngestError(429, "too many batches from this client, retry later")
            error.retry_after = max(1, math.ceil(wait))
            error.body_unread = True
            raise error


class Admission:
    __slots__ = ("gate", "limiter")

    def __init__(self, settings: Settings) -> None:
        self.gate = Gate(settings)
        rate = settings.ingest_rate_limit
        self.limiter = RateLimiter(rate, settings.ingest_rate_burst) if rate else None


_ADMISSIONS: weakref.WeakKeyDictionary[Sentiero, Admission] = weakref.WeakKeyDictionary()


def admission_of(state: Sentiero) -> Admission:
    """The app's admission control, made on its first ingest request (in the
    serving loop, which its semaphores belong to)."""
    admission = _ADMISSIONS.get(state)
    if admission is None:
        admission = _ADMISSIONS[state] = Admission(state.settings)
    return admission
