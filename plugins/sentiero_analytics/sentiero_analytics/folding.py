"""Folding sessions after their batches, at most once per interval each.

Each batch's facts are merged at ingest (durable once ``merge_facts``
returns); folding a session reads all its facts back and sets its rows
with their version (see :mod:`.collector`). Folding after every batch made
a session of N batches cost N folds of a growing session, so a
:class:`Folder` (one per store, running while the app serves) folds a
changed session once it has had no batch for ``fold_interval`` seconds (a
visit that ended, or paused), and a session that keeps going at least
every ``fold_max_delay`` seconds: most sessions are folded once.

Nothing here is needed for exactness: every fold sets the rows of every
fact merged before it, with their version, and the store keeps the highest
version, so folds racing each other (here, in another process, on another
app server) land on the same numbers. What a process did not fold before
it stopped, the store still knows (facts newer than the fold:
``Store.unfolded_sessions``): every folder sweeps them at start-up and
every ``sweep_interval``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Iterable

from sentiero_core.store import AggregatesUnsupported, Store

from .fold import fold_session
from .settings import AnalyticsSettings

log = logging.getLogger("sentiero.analytics")

#: The contribution key the whole session's rows live under.
SESSION_KEY = "analytics"
#: Folds in flight at once: their writes share the store's transactions.
FOLDS_AT_ONCE = 16
#: Longest wait between two looks for due sessions, in seconds.
TICK_S = 1.0
#: Unfolded sessions asked of the store per query while sweeping.
SWEEP_PAGE = 500


async def fold_now(store: Store, session_id: str, settings: AnalyticsSettings) -> bool:
    """Fold the session from the facts it has now; ``False`` when there
    was nothing to fold or a fold of these facts (or newer) was there."""
    facts = await store.session_facts(session_id)
    if facts is None or facts.version == 0:
        return False
    rows = fold_session(session_id, facts.facts, settings)
    # A stale fold (an earlier version finishing last) is refused by the store.
    return await store.set_contribution(session_id, SESSION_KEY, rows, version=facts.version)


class Folder:
    """The sessions of one store waiting for their fold, and the task
    folding them."""

    def __init__(self, store: Store, settings: AnalyticsSettings) -> None:
        self.store = store
        self.settings = settings
        #: session -> [first unfolded mark, last mark] (monotonic)
        self._due: dict[str, list[float]] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._stopped = False
        self._next_sweep = 0.0  # at start-up
        self._cannot_sweep = False
        self.users = 0

    @property
    def pending(self) -> int:
        """Sessions waiting for their fold."""
        return len(self._due)

    def mark(self, session_id: str, now: float | None = None) -> None:
        """The session has facts newer than its fold: fold it once it has
        been quiet for ``fold_interval``, or ``fold_max_delay`` after its
        first unfolded batch."""
        if self._stopped:
            raise RuntimeError("this folder has stopped: fold with another, or now")
        now = time.monotonic() if now is None else now
        marks = self._due.get(session_id)
        if marks is None:
            self._due[session_id] = [now, now]
            if len(self._due) == 1:
                self._wake.set()
        else:
            marks[1] = now

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="sentiero-analytics folds"
            )

    async def stop(self) -> None:
        """Stop the task, then fold what is pending (a clean stop leaves
        nothing for the next start-up's sweep)."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        while self._due:  # marks may come while it folds
            await self._fold(self.take_due(math.inf))
        self._stopped = True

    async def flush(self) -> None:
        """Fold every pending session now, then every session the store
        holds unfolded (other processes' included): when it returns, every
        fact merged before the call is in the totals."""
        await self._fold(self.take_due(math.inf))
        await self.sweep()

    async def sweep(self) -> int:
        """Fold the sessions the store holds with facts newer than their
        fold; how many were folded."""
        if self._cannot_sweep:
            return 0
        after = None
        folded = 0
        while True:
            try:
                ids = await self.store.unfolded_sessions(SESSION_KEY, after=after, limit=SWEEP_PAGE)
            except AggregatesUnsupported as exc:
                self._cannot_sweep = True
                log.warning(
                    "%s: sessions a stopped process left unfolded stay so until their next "
                    "batch or `sentiero analytics rebuild`",
                    exc,
                )
                return folded
            for session_id in ids:
                self._due.pop(session_id, None)
            folded += await self._fold(ids)
            if len(ids) < SWEEP_PAGE:
                return folded
            after = ids[-1]

    def take_due(self, now: float) -> list[str]:
        """Remove and return the sessions due at ``now``."""
        quiet = self.settings.fold_interval
        most = max(self.settings.fold_max_delay, quiet)
        due = [
            session_id
            for session_id, (first, last) in self._due.items()
            if now >= min(last + quiet, first + most)
        ]
        for session_id in due:
            del self._due[session_id]
        return due

    async def _fold(self, session_ids: Iterable[str]) -> int:
        ids = list(session_ids)
        done = 0
        for start in range(0, len(ids), FOLDS_AT_ONCE):
            chunk = ids[start : start + FOLDS_AT_ONCE]
            results = await asyncio.gather(
                *(fold_now(self.store, sid, self.settings) for sid in chunk),
                return_exceptions=True,
            )
            for session_id, result in zip(chunk, results, strict=True):
                if isinstance(result, Exception):
                    # Its facts stay newer than its fold: the next batch or
                    # sweep tries again.
                    log.error("folding the analytics of session %s failed: %s", session_id, result)
                elif isinstance(result, BaseException):
                    raise result
                else:
                    done += 1
        return done

    async def _run(self) -> None:
        while not self._stopping:
            try:
                now = time.monotonic()
                if now >= self._next_sweep:
                    # set first: a store that fails the sweep is not asked
                    # again before the interval
                    every = self.settings.sweep_interval
                    self._next_sweep = now + every if every > 0 else math.inf
                    await self.sweep()
                # stopping is asked first: sessions taken must be folded
                while not self._stopping and (due := self.take_due(time.monotonic())):
                    await self._fold(due)
            except Exception:
                log.exception("the analytics folding task failed; it carries on")
            if self._stopping:
                return
            # Due times move with every batch: look again at most every
            # TICK_S while sessions wait (each look is one pass over them).
            waiting = (
                time.monotonic() + min(self.settings.fold_interval, TICK_S)
                if self._due
                else math.inf
            )
            delay = min(waiting, self._next_sweep) - time.monotonic()
            self._wake.clear()
            if delay > 0:
                try:
                    await asyncio.wait_for(self._wake.wait(), None if math.isinf(delay) else delay)
                except TimeoutError:
                    pass


#: The running folders, by the id of their store (a folder holds its
#: store, so the id stays its own while the folder is registered).
_folders: dict[int, Folder] = {}


def folder_of(store: Store) -> Folder | None:
    """The folder serving ``store`` in this process, if its app is serving."""
    return _folders.get(id(store))


def start_folding(store: Store, settings: AnalyticsSettings) -> Folder:
    """Start (or join) the folder of ``store``: the plugin's start-up."""
    folder = _folders.get(id(store))
    if folder is None:
        folder = _folders[id(store)] = Folder(store, settings)
        folder.start()
    folder.users += 1
    return folder


async def stop_folding(store: Store) -> None:
    """Leave the folder of ``store``, stopping it (and folding what is
    pending) when its last app stops: the plugin's shutdown."""
    folder = _folders.get(id(store))
    if folder is None:
        return
    folder.users -= 1
    if folder.users <= 0:
        del _folders[id(store)]
        await folder.stop()


async def flush(store: Store, settings: AnalyticsSettings | None = None) -> None:
    """Fold now what ``store`` holds unfolded: the pending sessions of this
    process and those any process left (tests, ``sentiero analytics
    rebuild``, a report that must be current). ``settings`` serve when no
    folder runs for the store (its own settings win otherwise)."""
    folder = folder_of(store) or Folder(store, settings or AnalyticsSettings())
    await folder.flush()
