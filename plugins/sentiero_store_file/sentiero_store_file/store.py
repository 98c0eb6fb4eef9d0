"""The file store: one directory per session, an append-only batch log each.

Layout under the store's directory::

    sentiero-file-store.json   marker: {"format": 1}
    LOCK                       flock'ed by the process using the store
    aggregates.json            the aggregates' epoch (see .aggregates)
    records/<collection>.jsonl the records' journals (see .documents)
    sessions/<hash>/summary.json
    sessions/<hash>/events-<generation>.log
    sessions/<hash>/aggregates-<epoch>.jsonl
    trash/                     sessions being deleted

``<hash>`` is a BLAKE2b hash of the session id (ids may be any text, file
names may not). ``summary.json`` holds the summary and how much of the log
it accounts for; it is replaced by an atomic rename, and that rename is the
commit point of every append: log bytes past the committed length belong
to an append that never returned, and are cut off when the session is next
loaded. Trimming by ``max_events_per_session`` writes the log anew under
the next generation, so the trimmed events leave the disk.
"""

from __future__ import annotations

import asyncio
import bisect
import errno
import fcntl
import hashlib
import heapq
import json
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sentiero_core.store import (
    Batch,
    EventPage,
    EventPosition,
    SessionFilter,
    SessionPosition,
    SessionSummary,
    Store,
    StoreCapabilities,
    StoredBatch,
    StoreError,
    StoreLimits,
    StoreStats,
    StoreUnavailable,
    compress,
    encode_blob,
    event_time,
    merge_digest,
    page_events,
    trim_plan,
)

from .aggregates import PREFIX as AGGREGATES_PREFIX
from .aggregates import FileAggregates
from .documents import FileRecords
from .records import BatchRecord, encode_record, scan

FORMAT = 1
MARKER = "sentiero-file-store.json"
LOCK = "LOCK"
SUMMARY = "summary.json"


def session_dirname(session_id: str) -> str:
    """The directory name of a session: fixed length, any id."""
    raw = session_id.encode("utf-8", "surrogatepass")
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def _log_name(generation: int) -> str:
    return f"events-{generation}.log"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class _Session:
    """What the store knows of one session besides its summary.

    ``records`` and ``delivered`` are read from the log the first time the
    session is appended to or read (``None`` until then), so opening the
    store reads summaries only.
    """

    dirname: str
    generation: int
    length: int
    next_arrival: int
    records: list[BatchRecord] | None = None
    delivered: set[tuple[str, int]] | None = field(default=None)


@dataclass
class _Written:
    """The outcome of an append's file work, applied to memory afterwards."""

    generation: int
    length: int
    records: list[BatchRecord]
    summary: SessionSummary
    old_log: Path | None  # a log replaced by trimming, unlinked once unused


class FileStore(FileAggregates, FileRecords, Store):
    """Sessions as directories of append-only files under ``directory``.

    Safe for one process: :meth:`open` takes an exclusive ``flock`` on the
    directory's ``LOCK`` file, held until :meth:`close`, and a second store
    on the same directory (in this process or another) is refused with
    :class:`StoreError`. Within the process it is safe under concurrent
    calls from one event loop.
    """

    name = "file"
    capabilities = StoreCapabilities(
        persistent=True, max_compression_ratio=0.25, records=True, aggregates=True
    )

    def __init__(self, directory: str | os.PathLike[str], limits: StoreLimits | None = None):
        super().__init__(limits)
        self.directory = Path(directory).absolute()
        self._sessions_dir = self.directory / "sessions"
        self._trash = self.directory / "trash"
        self._lock_fd: int | None = None
        self._lock = asyncio.Lock()
        self._summaries: dict[str, SessionSummary] = {}
        self._state: dict[str, _Session] = {}
        # (started_at, session_id) of every session, ascending: listings walk
        # it backwards from their cursor instead of sorting every summary.
        self._order: list[SessionPosition] = []
        self._init_records()
        self._init_aggregates()

    # -- opening and closing -------------------------------------------------

    async def open(self) -> None:
        if self._lock_fd is not None:
            return
        self._lock_fd = await asyncio.to_thread(self._take_directory)
        try:
            loaded = await asyncio.to_thread(self._load_summaries)
            await asyncio.to_thread(self._load_records)
            dirnames = {sid: state.dirname for sid, (_summary, state) in loaded.items()}
            await asyncio.to_thread(self._load_aggregates, dirnames)
        except BaseException:
            self._release()
            raise
        for sid, (summary, state) in loaded.items():
            self._summaries[sid] = summary
            self._state[sid] = state
        self._order = sorted((s.started_at, sid) for sid, s in self._summaries.items())

    async def close(self) -> None:
        if self._lock_fd is None:
            return
        async with self._lock:  # appends in flight finish first
            await self.settle_removal_reports()
            async with self._agg_lock:  # and aggregate writes
                self._release()
                self._summaries.clear()
                self._state.clear()
                self._order.clear()
                self._collections.clear()
                self._agg_reset()

    def _release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor drops the flock
            self._lock_fd = None

    def _take_directory(self) -> int:
        root = self.directory
        if root.exists() and not root.is_dir():
            raise StoreError(f"file store: {root} exists and is not a directory")
        marker = root / MARKER
        try:
            root.mkdir(parents=True, exist_ok=True)
            if marker.exists():
                fmt = json.loads(marker.read_text()).get("format")
                if fmt != FORMAT:
                    raise StoreError(
                        f"file store: {root} has format {fmt!r}; this version reads "
                        f"format {FORMAT} (upgrade sentiero-store-file)"
                    )
            elif any(root.iterdir()):
                raise StoreError(
                    f"file store: {root} is not empty and holds no {MARKER}; "
                    "refusing to write into a directory that is not a Sentiero file store"
                )
            fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except (OSError, ValueError) as exc:
            raise StoreError(f"file store: cannot open {root}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise StoreError(
                    f"file store: {root} is in use by another process (pid {holder}); "
                    "the file store is safe for one process only: stop that process, or "
                    "give this one another directory (several processes: use SQLite or MongoDB)"
                ) from None
            raise StoreError(f"file store: cannot lock {root / LOCK}: {exc}") from exc
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        if not marker.exists():
            self._write_atomically(marker, json.dumps({"format": FORMAT}).encode())
        self._sessions_dir.mkdir(exist_ok=True)
        return fd

    def _load_summaries(self) -> dict[str, tuple[SessionSummary, _Session]]:
        if self._trash.exists():  # deletions a crash interrupted: finish them
            shutil.rmtree(self._trash)
        loaded: dict[str, tuple[SessionSummary, _Session]] = {}
        with os.scandir(self._sessions_dir) as entries:
            for entry in entries:
                path = Path(entry.path)
                try:
                    text = (path / SUMMARY).read_bytes()
                except FileNotFoundError:
                    # a first append that never committed: nothing was acknowledged
                    shutil.rmtree(path)
                    continue
                try:
                    data = json.loads(text)
                    summary = SessionSummary.from_dict(data["summary"])
                    state = _Session(
                        dirname=entry.name,
                        generation=int(data["log"]),
                        length=int(data["length"]),
                        next_arrival=int(data["next_arrival"]),
                    )
                except (ValueError, KeyError, TypeError) as exc:
                    raise StoreError(
                        f"file store: damaged summary {path / SUMMARY}: {exc}"
                    ) from exc
                loaded[summary.session_id] = (summary, state)
        return loaded

    @contextmanager
    def _disk_errors(self, doing: str) -> Iterator[None]:
        """An ``OSError`` as the store error the core knows: a full disk may
        clear (the recorder retries on 503), anything else will not."""
        try:
            yield
        except OSError as exc:
            message = f"file store: cannot {doing} in {self.directory}: {exc}"
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StoreUnavailable(message) from exc
            raise StoreError(message) from exc

    def _dirname(self, session_id: str) -> str:
        return self._state[session_id].dirname

    def _check_open(self) -> None:
        if self._lock_fd is None:
            raise StoreError("file store: not open (call open() first)")

    # -- files -----------------------------------------------------------------

    @staticmethod
    def _write_atomically(path: Path, data: bytes) -> None:
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)

    def _write_summary(
        self, path: Path, summary: SessionSummary, state: _Written, nxt: int
    ) -> None:
        document = {
            "format": FORMAT,
            "summary": summary.to_dict(),
            "log": state.generation,
            "length": state.length,
            "next_arrival": nxt,
        }
        self._write_atomically(path / SUMMARY, json.dumps(document).encode("ascii"))

    def _read_log(self, state: _Session) -> None:
        """Fill ``state.records`` from the committed part of its log.

        Bytes past the committed length, or past the last intact record
        (a torn write), are cut off; other generations' logs (a trim a
        crash interrupted) and temporary files are removed.
        """
        path = self._sessions_dir / state.dirname
        log = path / _log_name(state.generation)
        try:
            data = log.read_bytes()
        except FileNotFoundError:
            data = b""
        records = list(scan(data[: state.length]))
        good = records[-1].end if records else 0
        if len(data) != good:
            with open(log, "ab") as f:
                f.truncate(good)
                os.fsync(f.fileno())
        state.length = good
        for leftover in path.iterdir():
            # the aggregates journal is written under another lock: not ours to clean
            if leftover.name not in (SUMMARY, log.name) and not leftover.name.startswith(
                AGGREGATES_PREFIX
            ):
                leftover.unlink()
        state.records = records
        state.delivered = {(r.window_id, r.seq) for r in records if r.seq is not None}

    async def _loaded(self, session_id: str) -> _Session | None:
        state = self._state.get(session_id)
        if state is None or state.records is not None:
            return state
        async with self._lock:
            state = self._state.get(session_id)
            if state is not None and state.records is None:
                await asyncio.to_thread(self._read_log, state)
            return state

    # -- appending -------------------------------------------------------------

    async def append(self, batch: Batch) -> bool:
        self._check_open()
        # Shielded: once the files change, memory must follow even if the
        # caller is cancelled, or the next append would write over this one.
        stored, evicted = await asyncio.shield(self._append(batch))
        # Listeners may read the store: report outside the lock.
        await self.report_evicted(evicted)
        return stored

    async def _append(self, batch: Batch) -> tuple[bool, list[str]]:
        sid = batch.session_id
        async with self._lock:
            self._check_open()
            state = self._state.get(sid)
            if state is not None and state.records is None:
                await asyncio.to_thread(self._read_log, state)
            if state is not None and batch.seq is not None:
                assert state.delivered is not None
                if (batch.window_id, batch.seq) in state.delivered:
                    return False, []
            old = self._summaries.get(sid)
            base = SessionSummary.from_dict(old.to_dict()) if old is not None else None
            summary = merge_digest(base, sid, batch.digest)
            if state is None:
                fresh = _Session(session_dirname(sid), 1, 0, 1, [], set())
                with self._disk_errors(f"append to session {sid!r}"):
                    written = await asyncio.to_thread(
                        self._write_batch, fresh, batch, summary, True
                    )
                state = fresh
                self._state[sid] = state
            else:
                with self._disk_errors(f"append to session {sid!r}"):
                    written = await asyncio.to_thread(
                        self._write_batch, state, batch, summary, False
                    )
            # The append is durable: bring memory in line.
            state.generation = written.generation
            state.length = written.length
            state.records = written.records
            state.next_arrival += 1
            assert state.delivered is not None
            if batch.seq is not None:
                state.delivered.add((batch.window_id, batch.seq))
            if written.old_log is not None:
                # readers that took the old log hold it open; new ones see the new
                kept = {(r.window_id, r.seq) for r in written.records if r.seq is not None}
                state.delivered &= kept
                written.old_log.unlink(missing_ok=True)
            self._set_summary(sid, written.summary)
            return True, await self._evict()

    def _write_batch(
        self, state: _Session, batch: Batch, summary: SessionSummary, first: bool
    ) -> _Written:
        path = self._sessions_dir / state.dirname
        if first:
            if path.exists():  # a first append that never committed
                shutil.rmtree(path)
            path.mkdir()
        if batch.events_json is not None:
            blob = compress(batch.events_json)
        else:
            blob, _raw = encode_blob(batch.events)
        times = [event_time(e) for e in batch.events]
        record = encode_record(
            state.next_arrival,
            batch.window_id,
            batch.seq,
            min(times, default=0),
            max(times, default=0),
            len(batch.events),
            blob,
        )
        records = list(state.records or [])
        log = path / _log_name(state.generation)
        with open(log, "r+b" if log.exists() else "wb") as f:
            # at the committed length: bytes an earlier failed append left go
            f.seek(state.length)
            f.write(record)
            f.truncate()
            f.flush()
            os.fsync(f.fileno())
        records += scan_one(record, state.length)
        written = _Written(state.generation, state.length + len(record), records, summary, None)
        keep = self.limits.max_events_per_session
        if keep is not None and sum(r.event_count for r in records) > keep:
            written = self._trim(path, log, state.generation, records, summary, keep)
        self._write_summary(path, summary, written, state.next_arrival + 1)
        if first:
            _fsync_dir(self._sessions_dir)
        return written

    def _trim(
        self,
        path: Path,
        log: Path,
        generation: int,
        records: list[BatchRecord],
        summary: SessionSummary,
        keep: int,
    ) -> _Written:
        """Write the session's log anew with only its newest ``keep`` events."""
        data = log.read_bytes()
        by_arrival = {r.arrival: r for r in records}

        def rows() -> Iterator[StoredBatch]:
            for r in sorted(records, key=lambda r: (r.min_ts, r.arrival)):
                blob = data[r.offset : r.offset + r.size]
                yield StoredBatch(r.arrival, r.window_id, r.min_ts, r.max_ts, r.event_count, blob)

        drop, rewrite = trim_plan(rows(), keep)
        doomed = set(drop)
        out = bytearray()
        for r in records:  # file order is arrival order
            if r.arrival in doomed:
                continue
            if r.arrival in rewrite:
                events = rewrite[r.arrival]
                times = [event_time(e) for e in events]
                blob, _raw = encode_blob(events)
                out += encode_record(
                    r.arrival, r.window_id, r.seq, min(times), max(times), len(events), blob
                )
            else:
                out += data[r.start : r.end]
        kept = list(scan(bytes(out)))
        assert [r.arrival for r in kept] == [
            r.arrival for r in records if r.arrival not in doomed
        ], "trimmed log does not read back"
        new_log = path / _log_name(generation + 1)
        with open(new_log, "wb") as f:
            f.write(out)
            f.flush()
            os.fsync(f.fileno())
        summary.event_count = sum(r.event_count for r in kept)
        summary.batch_count = len(kept)
        del by_arrival
        return _Written(generation + 1, len(out), kept, summary, log)

    def _set_summary(self, sid: str, summary: SessionSummary) -> None:
        old = self._summaries.get(sid)
        if old is not None and old.started_at != summary.started_at:
            self._order.remove((old.started_at, sid))
            old = None
        if old is None:
            bisect.insort(self._order, (summary.started_at, sid))
        self._summaries[sid] = summary

    async def _evict(self) -> list[str]:
        most = self.limits.max_sessions
        if most is None or len(self._summaries) <= most:
            return []
        # usually one session over: a linear pass, not a sort of them all
        oldest = heapq.nsmallest(
            len(self._summaries) - most,
            self._summaries.values(),
            key=lambda s: (s.ended_at, s.session_id),
        )
        doomed = [s.session_id for s in oldest]
        return await self._remove(doomed)

    # -- removing --------------------------------------------------------------

    async def _remove(self, session_ids: Sequence[str]) -> list[str]:
        """Remove the sessions that exist (the caller holds the lock)."""
        doomed = [sid for sid in session_ids if sid in self._summaries]
        if not doomed:
            return []
        names = [self._state[sid].dirname for sid in doomed]
        # No aggregate write comes between the directories going and the
        # totals losing their contributions.
        async with self._agg_lock:
            with self._disk_errors(f"remove {len(names)} session(s)"):
                await asyncio.shield(asyncio.to_thread(self._delete_dirs, names))
            for sid in doomed:
                summary = self._summaries.pop(sid)
                self._state.pop(sid)
                self._order.remove((summary.started_at, sid))
                self._agg_drop(sid)
        return doomed

    def _delete_dirs(self, names: list[str]) -> None:
        # A rename is atomic: once a session's directory is in trash/ it is
        # gone for any later open, which also finishes the rmtree.
        self._trash.mkdir(exist_ok=True)
        moved = []
        for name in names:
            target = self._trash / f"{name}-{uuid.uuid4().hex}"
            os.rename(self._sessions_dir / name, target)
            moved.append(target)
        _fsync_dir(self._sessions_dir)
        for target in moved:
            shutil.rmtree(target)

    async def remove_sessions(self, session_ids: list[str]) -> list[str]:
        self._check_open()
        async with self._lock:
            return await self._remove(session_ids)

    async def erase_matching(self, filter: SessionFilter) -> list[str]:
        self._check_open()
        async with self._lock:
            doomed = [sid for sid, s in self._summaries.items() if filter.matches(s)]
            return await self._remove(doomed)

    async def purge_idle(self, before: int) -> list[str]:
        self._check_open()
        async with self._lock:
            doomed = [sid for sid, s in self._summaries.items() if s.ended_at < before]
            return await self._remove(doomed)

    # -- reading ---------------------------------------------------------------

    async def fetch_sessions(
        self, filter: SessionFilter | None, after: SessionPosition | None, count: int
    ) -> Sequence[SessionSummary]:
        self._check_open()
        end = len(self._order) if after is None else bisect.bisect_left(self._order, after)
        found: list[SessionSummary] = []
        for i in range(end - 1, -1, -1):
            summary = self._summaries[self._order[i][1]]
            if filter is None or filter.matches(summary):
                found.append(SessionSummary.from_dict(summary.to_dict()))
                if len(found) >= count:
                    break
        return found

    async def get_session(self, session_id: str) -> SessionSummary | None:
        self._check_open()
        s = self._summaries.get(session_id)
        return SessionSummary.from_dict(s.to_dict()) if s is not None else None

    async def fetch_events(
        self, session_id: str, after: EventPosition | None, limit: int, window_id: str | None
    ) -> EventPage:
        self._check_open()
        state = await self._loaded(session_id)
        if state is None or state.records is None:
            return EventPage(events=[], next=None)
        # The records and the log they describe are taken together, with no
        # await between: a trim replacing the log cannot come in between.
        records = sorted(
            (r for r in state.records if window_id is None or r.window_id == window_id),
            key=lambda r: (r.min_ts, r.arrival),
        )
        if after is not None:
            records = [r for r in records if r.max_ts >= after[0]]
        log = self._sessions_dir / state.dirname / _log_name(state.generation)
        try:
            fd = os.open(log, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return EventPage(events=[], next=None)  # removed meanwhile
        try:

            def rows() -> Iterator[StoredBatch]:
                for r in records:
                    blob = os.pread(fd, r.size, r.offset)
                    yield StoredBatch(
                        r.arrival, r.window_id, r.min_ts, r.max_ts, r.event_count, blob
                    )

            return await page_events(rows(), after, limit)
        finally:
            os.close(fd)

    async def count_matching(self, filter: SessionFilter | None) -> int:
        self._check_open()
        if filter is None:
            return len(self._summaries)
        return sum(1 for s in self._summaries.values() if filter.matches(s))

    async def stats(self) -> StoreStats:
        self._check_open()
        summaries = self._summaries.values()
        return StoreStats(
            sessions=len(self._summaries),
            events=sum(s.event_count for s in summaries),
            batches=sum(s.batch_count for s in summaries),
            raw_bytes=sum(s.raw_bytes for s in summaries),
            stored_bytes=sum(state.length for state in self._state.values()),
        )


def scan_one(record: bytes, start: int) -> list[BatchRecord]:
    """The record just written at ``start``, as :func:`scan` reads it."""
    (found,) = scan(record)
    shift = start
    return [
        BatchRecord(
            found.arrival,
            found.window_id,
            found.seq,
            found.min_ts,
            found.max_ts,
            found.event_count,
            found.start + shift,
            found.offset + shift,
            found.size,
            found.end + shift,
        )
    ]
