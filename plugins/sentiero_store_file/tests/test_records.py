"""The file store's record journals: durable, compacted, and a torn last line dropped."""

from __future__ import annotations

from pathlib import Path

import pytest
from sentiero_store_file import FileStore
from sentiero_store_file.documents import COMPACT_AFTER

from sentiero_core.store import RecordUpdate, StoreError


@pytest.mark.asyncio
async def test_a_torn_last_line_is_dropped_and_the_rest_is_read(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "r")
    await store.open()
    await store.update_record("issues", "a", RecordUpdate(inc={"count": 1}))
    await store.update_record("issues", "a", RecordUpdate(inc={"count": 1}))
    await store.close()
    journal = tmp_path / "r" / "records" / "issues.jsonl"
    whole = journal.read_bytes()
    # a crash while the third change was written: half a line, never acknowledged
    journal.write_bytes(whole + b'["a",{"_id":"a","cou')
    store = FileStore(tmp_path / "r")
    await store.open()
    try:
        assert await store.get_record("issues", "a") == {"_id": "a", "count": 2}
        assert journal.read_bytes() == whole  # cut back to what was acknowledged
        await store.update_record("issues", "a", RecordUpdate(inc={"count": 1}))
        assert (await store.get_record("issues", "a") or {})["count"] == 3
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_a_damaged_journal_stops_opening_with_its_name(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "r")
    await store.open()
    await store.update_record("issues", "a", RecordUpdate(inc={"count": 1}))
    await store.update_record("issues", "b", RecordUpdate(inc={"count": 1}))
    await store.close()
    journal = tmp_path / "r" / "records" / "issues.jsonl"
    journal.write_bytes(b"garbage\n" + journal.read_bytes())
    with pytest.raises(StoreError, match=r"damaged record journal .*issues\.jsonl"):
        await FileStore(tmp_path / "r").open()


@pytest.mark.asyncio
async def test_journals_are_compacted_and_keep_every_record(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "r")
    await store.open()
    for i in range(COMPACT_AFTER + 50):
        await store.update_record("counts", f"k{i % 10}", RecordUpdate(inc={"n": 1}))
    await store.delete_records("counts", {"_id": "k9"})
    await store.close()
    journal = tmp_path / "r" / "records" / "counts.jsonl"
    assert len(journal.read_bytes().splitlines()) < COMPACT_AFTER // 2
    store = FileStore(tmp_path / "r")
    await store.open()
    try:
        found = {r["_id"]: r["n"] for r in await store.find_records("counts", limit=100)}
        assert found == {f"k{i}": 105 for i in range(9)}
    finally:
        await store.close()
