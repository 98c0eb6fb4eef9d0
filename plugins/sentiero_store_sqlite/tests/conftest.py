"""Fixtures for the SQLite store's own tests: real files under tmp_path."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sentiero_store_sqlite import SQLiteStore

from sentiero_core.store import Batch, RequestMeta, digest_events

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0"

MakeBatch = Callable[..., Batch]


def _batch(
    session_id: str,
    start: int,
    count: int = 3,
    *,
    window_id: str = "w1",
    href: str | None = None,
    custom: str | None = None,
    user_agent: str | None = FIREFOX,
) -> Batch:
    """``count`` mutation events one ms apart from ``start``, optionally
    opening with a page view and closing with a custom event."""
    events: list[dict[str, Any]] = []
    if href is not None:
        events.append(
            {"type": 4, "data": {"href": href, "width": 800, "height": 600}, "timestamp": start}
        )
    events += [
        {
            "type": 3,
            "data": {"source": 0, "texts": [{"id": 1, "value": f"{session_id}:{start + i}"}]},
            "timestamp": start + i,
        }
        for i in range(count)
    ]
    if custom is not None:
        events.append(
            {
                "type": 5,
                "data": {"tag": "sentiero:custom", "payload": {"name": custom}},
                "timestamp": start + count,
            }
        )
    digest = digest_events(window_id, events, user_agent=user_agent)
    return Batch(session_id, window_id, events, RequestMeta(received_at=start), digest)


@pytest.fixture
def make_batch() -> MakeBatch:
    return _batch


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "sentiero.db"


@pytest_asyncio.fixture
async def store(db_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(db_path)
    await s.open()
    try:
        yield s
    finally:
        await s.close()
