"""Removing sessions removes them from the files on disk, not just from queries."""

from __future__ import annotations

from pathlib import Path

import pytest
from sentiero_store_sqlite import SQLiteStore

from sentiero_core.store import SessionFilter
from sentiero_core.testing import T0, make_batch, text_mutation

SECRET = "erase-me-Qm4t"


def on_disk(path: Path) -> bytes:
    """The database's files as they are, without a checkpoint."""
    return b"".join(
        p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists()
    )


@pytest.mark.asyncio
@pytest.mark.parametrize("how", ["delete", "erase", "purge"])
async def test_an_explicit_removal_reaches_the_files_at_once(tmp_path: Path, how: str) -> None:
    path = tmp_path / "x.db"
    store = SQLiteStore(path)
    await store.open()
    try:
        await store.append(make_batch(SECRET, "w1", [text_mutation(T0, "a")], user_agent=SECRET))
        await store.append(make_batch("other", "w1", [text_mutation(T0 + 10_000, "b")]))
        assert SECRET.encode() in on_disk(path)
        if how == "delete":
            assert await store.delete_sessions([SECRET]) == 1
        elif how == "erase":
            assert await store.erase(SessionFilter(session_ids=(SECRET,))) == 1
        else:
            assert await store.purge_before(T0 + 5_000) == 1
        # No checkpoint by the test: the store emptied the WAL itself, and
        # secure_delete zeroed the freed pages of the main file.
        assert SECRET.encode() not in on_disk(path)
        assert b"other" in on_disk(path)
    finally:
        await store.close()
