"""The records capability of the file store (a mixin of :class:`~.store.FileStore`).

Each collection is a journal, ``records/<collection>.jsonl``: one line per
change, ``[id, record]`` for the record as it is after the change or
``[id, null]`` for its deletion, each line fsynced before the call returns.
The store holds the collections in memory (it is one process only), reads
the journals when it opens, and rewrites a journal whole (temporary file,
fsync, rename) once it holds more than twice as many lines as records.
A last line cut short by a crash was never acknowledged and is dropped.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentiero_core.store import RecordUpdate, StoreError, apply_update, matches, sort_records

#: A journal is compacted when it has more lines than this and twice its records.
COMPACT_AFTER = 1000


class FileRecords:
    directory: Path

    def _init_records(self) -> None:
        self._records_dir = self.directory / "records"
        self._collections: dict[str, dict[str, dict[str, Any]]] = {}
        self._journal_lines: dict[str, int] = {}
        self._records_lock = asyncio.Lock()

    if TYPE_CHECKING:  # provided by the store

        def _check_open(self) -> None: ...

        @staticmethod
        def _write_atomically(path: Path, data: bytes) -> None: ...

    def _load_records(self) -> None:
        """Read every journal (on the opening thread)."""
        self._collections.clear()
        self._journal_lines.clear()
        self._records_dir.mkdir(exist_ok=True)
        for path in sorted(self._records_dir.glob("*.jsonl")):
            collection = path.stem
            records: dict[str, dict[str, Any]] = {}
            lines = 0
            good = 0  # bytes of the journal made of whole lines
            data = path.read_bytes()
            for raw in data.splitlines(keepends=True):
                try:
                    key, record = json.loads(raw)
                except ValueError:
                    if raw.endswith(b"\n"):
                        raise StoreError(f"file store: damaged record journal {path}") from None
                    break  # a torn last line: never acknowledged
                if not raw.endswith(b"\n"):
                    break
                if record is None:
                    records.pop(key, None)
                else:
                    records[key] = record
                lines += 1
                good += len(raw)
            if good < len(data):
                with path.open("r+b") as f:
                    f.truncate(good)
                    os.fsync(f.fileno())
            self._collections[collection] = records
            self._journal_lines[collection] = lines
        for tmp in self._records_dir.glob("*.tmp"):
            tmp.unlink()

    def _journal(self, collection: str, changes: list[tuple[str, dict[str, Any] | None]]) -> None:
        """Append ``changes`` to the collection's journal, durably (on a thread)."""
        path = self._records_dir / f"{collection}.jsonl"
        lines = b"".join(
            json.dumps([k, r], separators=(",", ":"), allow_nan=False).encode() + b"\n"
            for k, r in changes
        )
        with path.open("ab") as f:
            f.write(lines)
            f.flush()
            os.fsync(f.fileno())
        count = self._journal_lines.get(collection, 0) + len(changes)
        live = len(self._collections.get(collection, {}))
        if count > COMPACT_AFTER and count > 2 * live:
            records = self._collections.get(collection, {})
            self._write_atomically(
                path,
                b"".join(
                    json.dumps([k, r], separators=(",", ":")).encode() + b"\n"
                    for k, r in records.items()
                ),
            )
            count = len(records)
        self._journal_lines[collection] = count

    async def _commit(
        self, collection: str, changes: list[tuple[str, dict[str, Any] | None]]
    ) -> None:
        records = self._collections.setdefault(collection, {})
        before = {k: records.get(k) for k, _ in changes}
        for key, record in changes:
            if record is None:
                records.pop(key, None)
            else:
                records[key] = record
        try:
            await asyncio.to_thread(self._journal, collection, changes)
        except (OSError, ValueError) as exc:
            for key, old in before.items():  # memory says what the disk says
                if old is None:
                    records.pop(key, None)
                else:
                    records[key] = old
            raise StoreError(f"file store: cannot write records of {collection!r}: {exc}") from exc

    async def record_upsert(
        self, collection: str, key: str, update: RecordUpdate
    ) -> dict[str, Any]:
        self._check_open()
        async with self._records_lock:
            after = apply_update(self._collections.get(collection, {}).get(key), key, update)
            await self._commit(collection, [(key, after)])
        return copy.deepcopy(after)

    async def record_compare_and_set(
        self, collection: str, key: str, expected: dict[str, Any], changes: dict[str, Any]
    ) -> bool:
        self._check_open()
        async with self._records_lock:
            record = self._collections.get(collection, {}).get(key)
            if record is None or not matches(record, expected):
                return False
            await self._commit(collection, [(key, {**record, **copy.deepcopy(changes)})])
        return True

    async def record_get(self, collection: str, key: str) -> dict[str, Any] | None:
        self._check_open()
        record = self._collections.get(collection, {}).get(key)
        return copy.deepcopy(record) if record is not None else None

    async def record_find(
        self,
        collection: str,
        where: dict[str, Any],
        order_by: str | None,
        descending: bool,
        limit: int,
        offset: int,
    ) -> Sequence[dict[str, Any]]:
        self._check_open()
        found = [r for r in self._collections.get(collection, {}).values() if matches(r, where)]
        return copy.deepcopy(sort_records(found, order_by, descending)[offset : offset + limit])

    async def record_count(self, collection: str, where: dict[str, Any]) -> int:
        self._check_open()
        return sum(1 for r in self._collections.get(collection, {}).values() if matches(r, where))

    async def record_delete(self, collection: str, where: dict[str, Any]) -> int:
        self._check_open()
        async with self._records_lock:
            records = self._collections.get(collection, {})
            gone = [k for k, r in records.items() if matches(r, where)]
            if gone:
                await self._commit(collection, [(k, None) for k in gone])
        return len(gone)
