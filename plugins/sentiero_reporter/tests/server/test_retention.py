"""What the reporter keeps: a cap of occurrences per issue and an age limit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sentiero_store_sqlite
from sentiero_reporter import server as reporter_plugin
from sentiero_reporter.server import retention
from sentiero_reporter.server.issues import EVENT_COUNTS, EVENTS, ISSUES, OCCURRENCES, now_ms
from sentiero_reporter.server.keys import create_key
from sentiero_reporter.server.settings import ReporterSettings

from sentiero_core import Settings, create_app, get_plugin_manager
from sentiero_core.store import AtLeast

from .conftest import T0, error_payload


async def _post_all(app: Any, payloads: list[tuple[str, dict[str, Any]]]) -> None:
    store = app.extensions["sentiero"].store
    token, _ = await create_key(store, "shop")
    client = app.test_client()
    for kind, payload in payloads:
        response = await client.post(
            f"/sentiero/ingest/{kind}", json=payload, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 202, await response.get_data(as_text=True)


def _app(tmp_path: Path, **reporter: Any) -> Any:
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(reporter_plugin, name="reporter")
    pm.register(sentiero_store_sqlite, name="store_sqlite")
    settings = Settings(store_url=f"sqlite:///{tmp_path / 's.db'}", plugins={"reporter": reporter})
    return create_app(settings, plugin_manager=pm)


@pytest.mark.asyncio
async def test_an_issue_keeps_its_newest_occurrences_up_to_the_cap(tmp_path: Path) -> None:
    cap = 20
    app = _app(tmp_path, max_occurrences_per_issue=cap)
    async with app.test_app():
        reports = [("errors", error_payload(timestamp=T0 + i)) for i in range(120)]
        await _post_all(app, reports)
        store = app.extensions["sentiero"].store
        (issue,) = await store.find_records(ISSUES, {})
        assert issue["count"] == 120
        kept = await store.find_records(OCCURRENCES, {"issue": issue["_id"]}, limit=1000)
        # trimmed at the 100th report down to the cap, 20 more since
        assert len(kept) == cap + 20
        assert min(r["timestamp"] for r in kept) == T0 + 120 - len(kept)


@pytest.mark.asyncio
async def test_reports_older_than_the_retention_period_are_purged(tmp_path: Path) -> None:
    app = _app(tmp_path, retention_period=3600)
    async with app.test_app():
        store = app.extensions["sentiero"].store
        await _post_all(app, [("errors", error_payload()), ("events", {"name": "signup"})])
        # age the stored reports by two hours, as if they had come in then
        old = now_ms() - 7_200_000
        for collection, field in ((OCCURRENCES, "received_at"), (EVENTS, "received_at")):
            for record in await store.find_records(collection, {}):
                assert await store.compare_and_set_record(
                    collection, record["_id"], {}, {field: old}
                )
        for record in await store.find_records(EVENT_COUNTS, {}):
            await store.compare_and_set_record(EVENT_COUNTS, record["_id"], {}, {"hour": old})
        removed = await retention.purge_old(store, 3600, force=True)
        assert removed == 3
        assert await store.count_records(OCCURRENCES, {}) == 0
        assert await store.count_records(EVENTS, {}) == 0
        # the issue itself stays, with its count
        (issue,) = await store.find_records(ISSUES, {})
        assert issue["count"] == 1
        # a fresh report is kept
        await _post_all(app, [("events", {"name": "signup"})])
        assert await store.count_records(EVENTS, {"received_at": AtLeast(now_ms() - 60_000)}) == 1


def test_the_app_retention_applies_unless_the_reporter_sets_its_own() -> None:
    assert retention.retention_seconds(ReporterSettings(), 86_400) == 86_400
    assert retention.retention_seconds(ReporterSettings(retention_period=600), 86_400) == 600
    assert retention.retention_seconds(ReporterSettings(), None) is None
    with pytest.raises(ValueError, match="max_occurrences_per_issue"):
        ReporterSettings(max_occurrences_per_issue=-1)
    with pytest.raises(ValueError, match="retention_period"):
        ReporterSettings(retention_period=5)
