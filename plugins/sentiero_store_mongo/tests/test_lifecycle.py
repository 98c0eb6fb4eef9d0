"""Erasure and purge end to end on MongoDB: through the Python API and the
``sentiero erase`` / ``sentiero purge`` commands, then every collection
read directly."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

import bson
import pytest

from sentiero_core import Settings, get_plugin_manager, hookimpl, open_sentiero
from sentiero_core.store import decode_blob
from sentiero_core.testing import T0, identify, make_batch, meta, text_mutation

pytestmark = pytest.mark.mongo


def _marker(session_id: str) -> str:
    return f"mk-{session_id[::-1]}-qz"


async def _fill(store: Any, sessions: dict[str, tuple[str, int]]) -> None:
    for session_id, (user_id, at) in sessions.items():
        m = _marker(session_id)
        await store.append(
            make_batch(
                session_id,
                "w1",
                [meta(at, f"https://shop.example/?{m}"), identify(at + 1, user_id, {"n": m})],
                seq=1,
            )
        )
        await store.append(make_batch(session_id, "w1", [text_mutation(at + 2, m)], seq=2))


async def _contents(raw_db: Any) -> bytes:
    chunks: list[bytes] = []
    for name in await raw_db.list_collection_names():
        async for doc in raw_db[name].find({}):
            chunks.append(bson.encode(doc))
            if isinstance(doc.get("blob"), bytes):
                chunks.append(repr(decode_blob(bytes(doc["blob"]))).encode())
    return b"\n".join(chunks)


def _found(contents: bytes, *needles: str) -> list[str]:
    return [n for n in needles if n.encode() in contents]


class Removed:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    @hookimpl
    def sessions_removed(self, session_ids: list[str], reason: str) -> None:
        self.calls.append((reason, sorted(session_ids)))


@pytest.mark.asyncio
async def test_erase_and_purge_from_python_leave_no_document(
    database_url: str, raw_db: Any
) -> None:
    removed = Removed()
    pm = get_plugin_manager()
    pm.register(removed, name="removed")
    records: list[dict[str, Any]] = []
    settings = Settings(store_url=database_url, audit_log=records.append)
    async with open_sentiero(settings, plugin_manager=pm) as sentiero:
        await _fill(
            sentiero.store,
            {
                "mg-erase-1": ("u-mongo", T0),
                "mg-erase-2": ("u-mongo", T0 + 5),
                "mg-keep": ("u-x", T0),
            },
        )
        before = await _contents(raw_db)
        assert _found(before, "mg-erase-1", _marker("mg-erase-2"), "u-mongo") == [
            "mg-erase-1",
            _marker("mg-erase-2"),
            "u-mongo",
        ]
        assert await sentiero.erase_where(user_id="u-mongo") == 2
        assert await sentiero.erase_sessions("mg-keep") == 1
    after = await _contents(raw_db)
    needles = ["mg-erase-1", "mg-erase-2", "mg-keep", "u-mongo", _marker("mg-erase-1")]
    assert _found(after, *needles) == []
    assert removed.calls == [("erased", ["mg-erase-1", "mg-erase-2"]), ("erased", ["mg-keep"])]
    assert [r["count"] for r in records if r["action"] == "sessions_erased"] == [2, 1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTIERO_")}
    return subprocess.run(
        [sys.executable, "-m", "sentiero_core.cli", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        timeout=120,
    )


@pytest.mark.asyncio
async def test_erase_and_purge_from_the_command_line(database_url: str, raw_db: Any) -> None:
    async with open_sentiero(Settings(store_url=database_url)) as sentiero:
        await _fill(
            sentiero.store,
            {
                **{f"mg-cli-{i:03d}": ("u-cli", T0 + i) for i in range(30)},
                "mg-old": ("u-old", 1_000_000_000_000),
            },
        )
    erased = await asyncio.to_thread(
        _run, "erase", "--store", database_url, "--user-id", "u-cli", "--yes"
    )
    assert erased.returncode == 0, erased.stderr
    assert "30 sessions erased." in erased.stdout
    purged = await asyncio.to_thread(
        _run, "purge", "--store", database_url, "--older-than", "3650d", "--yes"
    )
    assert purged.returncode == 0, purged.stderr
    assert "1 session purged." in purged.stdout
    after = await _contents(raw_db)
    assert _found(after, "mg-cli-000", "mg-cli-029", _marker("mg-cli-007"), "u-cli", "mg-old") == []
    for name in await raw_db.list_collection_names():
        assert await raw_db[name].count_documents({}) == 0, name
