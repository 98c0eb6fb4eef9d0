"""The file store passes the shared store contract suite, unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_asyncio
from sentiero_store_file import FileStore
from sentiero_store_file.records import scan

from sentiero_core.store import StoreLimits, decompress
from sentiero_core.testing import StoreContract, reachable_data


def disk_contents(root: Path) -> list[bytes | str]:
    """Every file under ``root``: its name, its bytes, and each log record's
    header and events decompressed."""
    found: list[bytes | str] = []
    for path in sorted(root.rglob("*")):
        found.append(str(path.relative_to(root)))
        if not path.is_file():
            continue
        data = path.read_bytes()
        found.append(data)
        if path.suffix == ".log":
            for record in scan(data):
                found.append(data[record.start : record.offset])
                found.append(decompress(data[record.offset : record.offset + record.size]))
    return found


class TestFileStore(StoreContract):
    @pytest_asyncio.fixture
    async def store(self, tmp_path: Path, store_limits: StoreLimits):
        s = FileStore(tmp_path / "recordings", limits=store_limits)
        await s.open()
        yield s
        await s.close()

    @pytest.fixture
    def reopen_store(self, store: FileStore, store_limits: StoreLimits):
        async def reopen() -> FileStore:
            # One process, one open store per directory: the first lets go.
            await store.close()
            s = FileStore(store.directory, limits=store_limits)
            await s.open()
            return s

        return reopen

    @pytest.fixture
    def raw_storage(self, store: FileStore):
        async def everything() -> list[bytes | str]:
            # what is on disk, and what the store holds in memory
            return disk_contents(store.directory) + reachable_data(store)

        return everything
