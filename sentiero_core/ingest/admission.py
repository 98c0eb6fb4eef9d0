"""How many ingest requests are decoded at once, and how often one client may post.

Decoding, parsing and storing a batch is where a request costs memory, so
only a bounded number of requests do it at once, by the size their body
has reached while it is inflated:

- up to ``SMALL_BYTES`` (what almost every batch is): ``SMALL_PER_SLOT``
  times ``ingest_max_concurrent`` requests;
- up to ``max_batch_bytes``: ``ingest_max_concurrent`` requests;
- past that (only a full snapshot may be): one request.

A request starts in the first tier and trades its slot for one of the next
tier when its body outgrows the tier (the decoder holds meanwhile). Waiting
for a slot lasts up to ``ingest_queue_timeout`` seconds, after which the
answer is a 503 with ``Retry-After``; a request that finds too many others
already waiting is answered at once, since a waiting request holds its body.

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
#: The decoded size up to which a body counts as small...
SMALL_BYTES = 256 * 1024
#: ... and how many small bodies take the room of one larger.
SMALL_PER_SLOT = 8
#: A snapshot's weight (its bytes, and 16 per JSON object and array) may be
#: this many times ``max_decoded_bytes``: real ones weigh 1.5-2 times their
#: bytes, and a body of tiny objects would weigh ten times its bytes.
SNAPSHOT_WEIGHT = 2
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
    """One request's place: a slot of the tier its body's size is in."""

    def __init__(self, gate: Gate) -> None:
        self._gate = gate
        self.tier = -1

    @property
    def hold_at(self) -> int:
        """The weight at which the body outgrows the tier."""
        return self._gate.limits[self.tier]

    @property
    def large_tier(self) -> int:
        return self._gate.large_tier

    @property
    def batch_limit(self) -> int:
        """The largest weight of a body that is not a full snapshot."""
        return self._gate.limits[-2]

    def next_tier(self, size: int) -> int:
        """The tier a body of ``size`` decoded bytes belongs to next."""
        tier = self.tier + 1
        while tier < len(self._gate.limits) - 1 and self._gate.limits[tier] < size:
            tier += 1
        return tier

    async def move(self, tier: int) -> None:
        """Give up this tier's slot and wait (bounded) for one of ``tier``."""
        self._leave()
        await self._gate.slots[tier].acquire()
        self.tier = tier

    def _leave(self) -> None:
        if self.tier >= 0:
            self._gate.slots[self.tier].release()
            self.tier = -1


class Gate:
    """The slots of one app, by tier."""

    def __init__(self, settings: Settings) -> None:
        size = settings.ingest_max_concurrent
        timeout = settings.ingest_queue_timeout
        batch = min(settings.max_batch_bytes, settings.max_decoded_bytes)
        self.small = Slots(SMALL_PER_SLOT * size, timeout, WAITING_PER_SLOT * SMALL_PER_SLOT * size)
        self.ordinary = Slots(size, timeout, WAITING_PER_SLOT * size)
        self.large = Slots(1, timeout, size)
        self.slots = [self.small, self.ordinary, self.large]
        self.limits = [min(SMALL_BYTES, batch), batch, SNAPSHOT_WEIGHT * settings.max_decoded_bytes]

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[Turn]:
        turn = Turn(self)
        await turn.move(0)
        try:
            yield turn
        finally:
            turn._leave()

    @property
    def large_tier(self) -> int:
        return len(self.slots) - 1


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
