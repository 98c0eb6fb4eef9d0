"""``sentiero analytics rebuild`` recomputes exactly what ingest produced."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from sentiero_analytics.rebuild import rebuild
from sentiero_store_sqlite import SQLiteStore

from sentiero_core import SEGMENTS
from sentiero_core.store import AggregateRow, Store

from .test_exactness import deliver, workload

NAMES = [
    "sessions",
    "active",
    "pageviews",
    "page_sessions",
    "entries",
    "exits",
    "bounces",
    "scroll",
    "clicks",
    "targets",
    "element_clicks",
    "rage",
    "dead",
    "frustration_links",
    "errors",
    "error_sessions",
    "error_links",
    "vitals",
    "custom",
    "forms",
    "form_starts",
    "form_submits",
    "form_abandons",
    "paths",
    "users",
]


async def everything(store: Store) -> list[AggregateRow]:
    extra = [f"sessions@{s}" for s in SEGMENTS]
    rows = await store.aggregate_rows([*NAMES, *(n + "@all" for n in NAMES), *extra], 0, 100_000)
    return sorted(rows, key=lambda r: (r.name, r.day, r.dims))


@pytest.mark.asyncio
async def test_rebuild_equals_ingest(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "a.db")
    await store.open()
    try:
        for batch in workload(seed=4):
            await deliver(store, batch)
        ingested = await everything(store)
        assert len(ingested) > 50
        seen: list[tuple[int, int]] = []
        assert await rebuild(store, progress=lambda d, t: seen.append((d, t))) == 8
        assert seen[-1] == (8, 8)
        assert await everything(store) == ingested
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_the_cli_rebuilds_with_a_progress_bar(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    store = SQLiteStore(db)
    await store.open()
    for batch in workload(seed=6, sessions=3):
        await deliver(store, batch)
    ingested = await everything(store)
    await store.clear_aggregates()
    assert await everything(store) == []
    await store.close()

    run = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "sentiero_core.cli",
            "analytics",
            "rebuild",
            "--store",
            f"sqlite:///{db}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    err = run.stderr
    assert "3/3 sessions" in err and "[####" in err
    assert "rebuilt the aggregates of 3 sessions" in err

    store = SQLiteStore(db)
    await store.open()
    try:
        assert await everything(store) == ingested
    finally:
        await store.close()
