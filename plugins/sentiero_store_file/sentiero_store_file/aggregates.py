"""The aggregates capability of the file store (a mixin of :class:`~.store.FileStore`).

Each session keeps its contributions and facts in a journal beside its
batch log, ``sessions/<hash>/aggregates-<epoch>.jsonl``: one line per
change, ``["c", key, version, rows]`` for a contribution set (replacing
the key's) and ``["f", version, facts]`` for facts merged, written at the
journal's committed length and fsynced before the call returns. A last
line cut short by a crash was never acknowledged and is dropped. Once a
journal would grow past twice its size when last written whole (plus
:data:`COMPACT_SLACK`), the change is written as the journal anew instead
(temporary file, fsync, rename): one line per contribution and one with
every fact.

Totals are never written: they are the sum of the contributions, added
up when the store opens and kept in memory, so no crash can leave them
disagreeing with the contributions. Removing a session removes its
directory, journal included, and subtracts its contributions in the same
step. :meth:`aggregates_clear` moves to the next epoch (``aggregates.json``
at the top, replaced atomically): journals of older epochs are no longer
read, and are deleted at once, or at the next open when a crash came first.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentiero_core.store import (
    AggregateRow,
    SessionFacts,
    SessionSummary,
    StoreError,
    is_zero_total,
    latest_rows,
    row_delta,
    rows_from_json,
    rows_to_json,
)

#: The file at the top of the store naming the current epoch.
EPOCH_FILE = "aggregates.json"
#: What every aggregates journal's name starts with (the batch log leaves them be).
PREFIX = "aggregates-"
#: Bytes a journal may grow by beyond twice its last rewrite before the next.
COMPACT_SLACK = 64 * 1024

Dims = tuple[str, ...]
Contributions = dict[str, tuple[int, list[AggregateRow]]]


@dataclass
class _Journal:
    size: int  # committed bytes
    base: int  # bytes when last written whole


def _line(entry: list[Any]) -> bytes:
    # ensure_ascii keeps lone surrogates writable; NaN is no JSON
    return json.dumps(entry, separators=(",", ":"), allow_nan=False).encode("ascii") + b"\n"


def _dims_match(dims: Dims, where: Mapping[int, str]) -> bool:
    return all((dims[p] if p < len(dims) else "") == v for p, v in where.items())


class FileAggregates:
    directory: Path
    _sessions_dir: Path
    _summaries: dict[str, SessionSummary]

    if TYPE_CHECKING:  # provided by the store

        def _check_open(self) -> None: ...

        def _disk_errors(self, doing: str) -> AbstractContextManager[None]: ...

        def _dirname(self, session_id: str) -> str: ...

        @staticmethod
        def _write_atomically(path: Path, data: bytes) -> None: ...

    def _init_aggregates(self) -> None:
        self._agg_lock = asyncio.Lock()
        self._agg_epoch = 1
        #: ``aggregates.json`` exists: written before the first journal, so
        #: a store without it has none, and opening it looks for none.
        self._agg_marked = False
        self._agg_reset()

    def _agg_reset(self) -> None:
        # name -> (day, dims) -> [count, total]: reads look up one name
        self._agg_totals: dict[str, dict[tuple[int, Dims], list[Any]]] = {}
        self._agg_contributions: dict[str, Contributions] = {}
        self._agg_facts: dict[str, SessionFacts] = {}
        self._agg_journals: dict[str, _Journal] = {}

    def _agg_name(self) -> str:
        return f"{PREFIX}{self._agg_epoch}.jsonl"

    def _agg_path(self, dirname: str) -> Path:
        return self._sessions_dir / dirname / self._agg_name()

    # -- opening -----------------------------------------------------------------

    def _load_aggregates(self, dirnames: Mapping[str, str]) -> None:
        """Read every session's journal and add up the totals (on the
        opening thread); ``dirnames`` maps each session to its directory."""
        self._agg_reset()
        marker = self.directory / EPOCH_FILE
        try:
            data = json.loads(marker.read_bytes())
            self._agg_epoch = int(data["epoch"])
            swept = bool(data["swept"])
        except FileNotFoundError:
            self._agg_epoch, self._agg_marked = 1, False
            return
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"file store: damaged {marker}: {exc}") from exc
        self._agg_marked = True
        if not swept:  # a clear a crash interrupted: finish it
            self._agg_sweep(dirnames.values())
            self._write_epoch(swept=True)
        for sid, dirname in dirnames.items():
            path = self._agg_path(dirname)
            try:
                raw = path.read_bytes()
            except FileNotFoundError:
                continue
            self._agg_replay(sid, path, raw)
        for contributions in self._agg_contributions.values():
            for _version, rows in contributions.values():
                self._agg_add(rows)

    def _agg_replay(self, sid: str, path: Path, data: bytes) -> None:
        contributions: Contributions = {}
        facts: dict[str, Any] = {}
        version = 0
        good = 0  # bytes of the journal made of whole, readable lines
        lines = data.splitlines(keepends=True)
        for i, raw in enumerate(lines):
            try:
                if not raw.endswith(b"\n"):
                    raise ValueError("no end of line")
                entry = json.loads(raw)
                if entry[0] == "c":
                    _kind, key, v, rows = entry
                    contributions[str(key)] = (int(v), rows_from_json(rows))
                elif entry[0] == "f":
                    _kind, v, merged = entry
                    facts.update(merged)
                    version = int(v)
                else:
                    raise ValueError(f"unknown entry {entry[0]!r}")
            except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
                if i == len(lines) - 1:
                    break  # a torn last line: never acknowledged
                raise StoreError(f"file store: damaged aggregates journal {path}: {exc}") from exc
            good += len(raw)
        if good < len(data):
            with path.open("r+b") as f:
                f.truncate(good)
                os.fsync(f.fileno())
        if contributions:
            self._agg_contributions[sid] = contributions
        if version:
            self._agg_facts[sid] = SessionFacts(facts, version)
        self._agg_journals[sid] = _Journal(good, good)

    def _agg_sweep(self, dirnames: Iterable[str]) -> None:
        """Delete the journals of other epochs than the current one."""
        current = self._agg_name()
        for dirname in dirnames:
            folder = self._sessions_dir / dirname
            try:
                entries = list(os.scandir(folder))
            except FileNotFoundError:
                continue
            for entry in entries:
                if entry.name.startswith(PREFIX) and entry.name != current:
                    Path(entry.path).unlink(missing_ok=True)

    def _write_epoch(self, swept: bool) -> None:
        document = {"epoch": self._agg_epoch, "swept": swept}
        self._write_atomically(self.directory / EPOCH_FILE, json.dumps(document).encode())
        self._agg_marked = True

    # -- in memory -------------------------------------------------------------

    def _agg_add(self, rows: Sequence[AggregateRow]) -> None:
        for r in rows:
            by_key = self._agg_totals.setdefault(r.name, {})
            slot = by_key.setdefault((r.day, r.dims), [0, 0.0])
            slot[0] += r.count
            slot[1] += r.total
            if is_zero_total(slot[0], slot[1]):
                del by_key[(r.day, r.dims)]
                if not by_key:
                    del self._agg_totals[r.name]

    def _agg_drop(self, session_id: str) -> None:
        """Subtract the session's contributions and forget its facts, once
        its directory is gone (the caller holds ``_agg_lock``)."""
        for _version, rows in self._agg_contributions.pop(session_id, {}).values():
            self._agg_add(row_delta(rows, []))
        self._agg_facts.pop(session_id, None)
        self._agg_journals.pop(session_id, None)

    # -- writing ---------------------------------------------------------------

    def _agg_write(
        self, path: Path, line: bytes, whole: bytes | None, journal: _Journal | None
    ) -> _Journal:
        """Append ``line`` at the committed length, or write the journal
        anew as ``whole``, durably (on a thread); the journal's new sizes."""
        if whole is not None:
            self._write_atomically(path, whole)
            return _Journal(len(whole), len(whole))
        size = journal.size if journal is not None else 0
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            # at the committed length: bytes an earlier failed write left go
            done = 0
            while done < len(line):
                done += os.pwrite(fd, line[done:], size + done)
            os.ftruncate(fd, size + len(line))
            os.fsync(fd)
        except OSError:
            # not acknowledged: a reopen must not read it (best effort, the
            # next write lands at the committed length anyway)
            try:
                os.ftruncate(fd, size)
            except OSError:
                pass
            raise
        finally:
            os.close(fd)
        if journal is None:  # a new file: its name must be durable too
            fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        return _Journal(size + len(line), journal.base if journal is not None else 0)

    async def _agg_commit(
        self,
        sid: str,
        line: bytes,
        contributions: Contributions,
        facts: SessionFacts | None,
    ) -> None:
        """Make the session's aggregates ``contributions`` and ``facts``,
        one change from what they are, described by ``line``: durably, then
        in memory. The caller holds ``_agg_lock`` and has seen the session."""
        journal = self._agg_journals.get(sid)
        whole = None
        if journal is not None and journal.size + len(line) > 2 * journal.base + COMPACT_SLACK:
            entries = [["c", k, v, rows_to_json(rows)] for k, (v, rows) in contributions.items()]
            if facts is not None:
                entries.append(["f", facts.version, facts.facts])
            whole = b"".join(_line(e) for e in entries)
        path = self._agg_path(self._dirname(sid))
        with self._disk_errors(f"write the aggregates of session {sid!r}"):
            if not self._agg_marked:
                await asyncio.to_thread(self._write_epoch, True)
            written = await asyncio.to_thread(self._agg_write, path, line, whole, journal)
        self._agg_journals[sid] = written
        if contributions:
            self._agg_contributions[sid] = contributions
        if facts is not None:
            self._agg_facts[sid] = facts

    async def _agg_merge(self, sid: str, facts: dict[str, Any]) -> SessionFacts | None:
        async with self._agg_lock:
            if sid not in self._summaries:
                return None
            old = self._agg_facts.get(sid)
            version = (old.version if old is not None else 0) + 1
            try:
                line = _line(["f", version, facts])
            except (ValueError, TypeError) as exc:
                raise ValueError(f"facts must be JSON values with finite numbers: {exc}") from None
            merged = dict(old.facts) if old is not None else {}
            # what the journal holds, so memory reads as a reopened store would
            merged.update(json.loads(line)[2])
            stored = SessionFacts(merged, version)
            await self._agg_commit(sid, line, self._agg_contributions.get(sid, {}), stored)
            return stored

    # -- the primitives ----------------------------------------------------------

    async def aggregates_merge_facts(
        self, session_id: str, facts: dict[str, Any]
    ) -> SessionFacts | None:
        self._check_open()
        # Shielded: once the journal changes, memory must follow.
        stored = await asyncio.shield(self._agg_merge(session_id, facts))
        # merges replace the stored dict, never change it in place
        return None if stored is None else SessionFacts(dict(stored.facts), stored.version)

    async def aggregates_add_facts(self, session_id: str, facts: dict[str, Any]) -> bool:
        self._check_open()
        return await asyncio.shield(self._agg_merge(session_id, facts)) is not None

    async def aggregates_facts(self, session_id: str) -> SessionFacts | None:
        self._check_open()
        if session_id not in self._summaries:
            return None
        stored = self._agg_facts.get(session_id)
        if stored is None:
            return SessionFacts({}, 0)
        return SessionFacts(dict(stored.facts), stored.version)

    async def aggregates_unfolded(self, key: str, after: str | None, limit: int) -> list[str]:
        self._check_open()
        found = sorted(
            sid
            for sid, facts in self._agg_facts.items()
            if (after is None or sid > after)
            and self._agg_contributions.get(sid, {}).get(key, (0, []))[0] < facts.version
        )
        return found[:limit]

    async def aggregates_set(
        self, session_id: str, key: str, version: int, rows: list[AggregateRow]
    ) -> bool:
        self._check_open()
        return await asyncio.shield(self._agg_set(session_id, key, version, rows))

    async def _agg_set(self, sid: str, key: str, version: int, rows: list[AggregateRow]) -> bool:
        async with self._agg_lock:
            if sid not in self._summaries:
                return False
            mine = self._agg_contributions.get(sid, {})
            old_version, old_rows = mine.get(key, (0, []))
            if old_version >= version:
                return False
            line = _line(["c", key, version, rows_to_json(rows)])
            new = {**mine, key: (version, list(rows))}
            await self._agg_commit(sid, line, new, self._agg_facts.get(sid))
            self._agg_add(row_delta(old_rows, rows))
            return True

    async def aggregates_fetch(
        self, names: list[str], day_from: int, day_to: int, where: dict[int, str]
    ) -> list[AggregateRow]:
        self._check_open()
        out = []
        for name in dict.fromkeys(names):
            for (day, dims), (count, total) in self._agg_totals.get(name, {}).items():
                if day_from <= day <= day_to and _dims_match(dims, where):
                    out.append(AggregateRow(name, day, dims, int(count), total))
        return out

    async def aggregates_latest(
        self,
        name: str,
        day_from: int,
        day_to: int,
        where: Mapping[int, frozenset[str]],
        group_by: tuple[int, ...],
        limit: int,
        groups: frozenset[Dims] | None,
    ) -> dict[Dims, list[AggregateRow]]:
        # One pass over the name's totals, not the generic day-by-day reads.
        rows = await self.aggregates_fetch([name], day_from, day_to, {})
        return latest_rows(rows, where, group_by, limit, groups)

    async def aggregates_clear(self) -> None:
        self._check_open()
        await asyncio.shield(self._agg_clear())

    async def _agg_clear(self) -> None:
        async with self._agg_lock:
            self._check_open()  # closed meanwhile: the directory may be another's now
            dirnames = [self._dirname(sid) for sid in self._agg_journals]
            self._agg_epoch += 1
            try:
                with self._disk_errors("clear the aggregates"):
                    await asyncio.to_thread(self._write_epoch, False)
            except BaseException:
                self._agg_epoch -= 1
                raise
            # The new epoch is on disk: the old journals are no longer read.
            self._agg_reset()
            with self._disk_errors("clear the aggregates"):
                await asyncio.to_thread(self._agg_sweep, dirnames)
                await asyncio.to_thread(self._write_epoch, True)
