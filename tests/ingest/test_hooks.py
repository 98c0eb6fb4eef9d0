"""The hooks the ingest path calls: collect_batch, after_batch_stored,
redaction_rules (the meta-test wants one ``test_hook_<name>`` each)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pluggy
import pytest

from sentiero_core import Batch, Event, RedactionContext, SessionSummary, Settings, hookimpl
from tests.ingest.helpers import SESSION, body, envelope, plugin_manager, running


@pytest.fixture
def pm() -> Iterator[pluggy.PluginManager]:
    yield plugin_manager()


def registered(pm: pluggy.PluginManager, plugin: Any, name: str) -> Any:
    """Register ``plugin`` for one test; the caller unregisters in finally."""
    pm.register(plugin, name=name)
    return plugin


@pytest.mark.asyncio
async def test_hook_collect_batch(pm: pluggy.PluginManager) -> None:
    seen: list[tuple[Batch, SessionSummary | None, Any, Settings]] = []

    class Collector:
        @hookimpl
        def collect_batch(
            self, batch: Batch, summary: SessionSummary | None, store: Any, settings: Settings
        ) -> Any:
            async def collect() -> None:
                seen.append((batch, summary, store, settings))

            return collect()

    registered(pm, Collector(), "collector")
    try:
        async with running(pm) as r:
            assert (await r.post(body(envelope()))).status_code == 204
            await r.post(body(envelope(seq=2)))
            assert len(seen) == 2
            batch, summary, store, settings = seen[1]
            assert batch.session_id == SESSION and len(batch.events) == 2
            assert batch.digest.event_count == 2 and batch.digest.raw_bytes > 0
            # the summary is read after the append: both batches are in it
            assert summary is not None and summary.batch_count == 2
            assert store is r.store and settings is r.app.extensions["sentiero"].settings
    finally:
        pm.unregister(name="collector")


@pytest.mark.asyncio
async def test_hook_after_batch_stored(pm: pluggy.PluginManager) -> None:
    order: list[str] = []

    class Collector:
        @hookimpl
        def collect_batch(self, batch: Batch) -> None:
            order.append("collect")

    class Listener:
        @hookimpl
        def after_batch_stored(self, batch: Batch, settings: Settings) -> None:
            order.append(f"stored {batch.session_id} {len(batch.events)}")

    registered(pm, Collector(), "collector")
    registered(pm, Listener(), "listener")
    try:
        async with running(pm) as r:
            await r.post(body(envelope()))
            assert order == ["collect", f"stored {SESSION} 2"]
            await r.post(b"not json")
            assert len(order) == 2  # refused batches notify nobody
    finally:
        pm.unregister(name="collector")
        pm.unregister(name="listener")


@pytest.mark.asyncio
async def test_hook_redaction_rules(pm: pluggy.PluginManager) -> None:
    seen_context: list[dict[str, Any]] = []

    def drop_mouse_moves(events: list[Event], context: RedactionContext) -> list[Event]:
        seen_context.append({**vars(context), "href": events[0]["data"]["href"]})
        return [e for e in events if e["type"] != 3]

    def shout(events: list[Event], context: RedactionContext) -> None:
        for e in events:
            e.setdefault("data", {})["seen_by"] = "shout"

    class Rules:
        @hookimpl
        def redaction_rules(self, settings: Settings) -> list[Any]:
            return [drop_mouse_moves, shout]

    registered(pm, Rules(), "rules")
    try:
        async with running(pm) as r:
            doc = envelope()
            doc["events"][0]["data"]["href"] = "https://a.example/?email=jo@x.io"
            assert (await r.post(body(doc))).status_code == 204
            stored = await r.stored_events()
            # the plugin's rules ran in order, after the built-in one
            assert [e["type"] for e in stored] == [4]
            assert stored[0]["data"]["seen_by"] == "shout"
            assert stored[0]["data"]["href"] == "https://a.example/?email=[redacted]"
            context = seen_context[0]
            assert context["href"] == "https://a.example/?email=[redacted]"  # built-in ran first
            assert (context["session_id"], context["settings"].mount_path) == (SESSION, "/sentiero")
    finally:
        pm.unregister(name="rules")
