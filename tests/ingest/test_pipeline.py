"""The path to the store: fail-closed redaction, collector isolation,
store failures."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import orjson
import pluggy
import pytest

from sentiero_core import (
    Batch,
    Event,
    RedactionContext,
    Settings,
    StoreUnavailable,
    create_app,
    hookimpl,
)
from sentiero_core.store import MemoryStore
from tests.ingest.helpers import (
    JSON,
    SESSION,
    body,
    click_event,
    envelope,
    plugin_manager,
    running,
)


@pytest.fixture
def pm() -> Iterator[pluggy.PluginManager]:
    yield plugin_manager()


class Rules:
    def __init__(self, *rules: Any) -> None:
        self.rules = list(rules)

    @hookimpl
    def redaction_rules(self, settings: Settings) -> list[Any]:
        return self.rules


def exploding_rule(events: list[Event], context: RedactionContext) -> None:
    if any(e.get("data", {}).get("boom") for e in events):
        raise ValueError("cannot parse this")


@pytest.mark.asyncio
async def test_raising_rule_drops_the_batch_and_keeps_earlier_data(
    pm: pluggy.PluginManager, caplog: pytest.LogCaptureFixture
) -> None:
    pm.register(Rules(exploding_rule), name="exploding")
    try:
        async with running(pm) as r:
            assert (await r.post(body(envelope()))).status_code == 204
            before = await r.stored_events()
            bad = click_event(1_700_000_000_500)
            bad["data"]["boom"] = True
            with caplog.at_level(logging.ERROR, logger="sentiero.ingest"):
                response = await r.post(body(envelope([bad], seq=2)))
            assert response.status_code == 422
            assert await r.error(response) == "redaction failed"
            assert "exploding_rule" in caplog.text and "ValueError" in caplog.text
            assert await r.stored_events() == before
            summary = await r.store.get_session(SESSION)
            assert summary is not None and summary.batch_count == 1
    finally:
        pm.unregister(name="exploding")


@pytest.mark.asyncio
@pytest.mark.parametrize("result", ["text", {"events": []}, [1, 2], ({},)])
async def test_rule_returning_something_else_fails_closed(
    pm: pluggy.PluginManager, result: Any
) -> None:
    pm.register(Rules(lambda events, context: result), name="odd")
    try:
        async with running(pm) as r:
            response = await r.post(body(envelope()))
            assert response.status_code == 422
            assert await r.store.count_sessions() == 0
    finally:
        pm.unregister(name="odd")


@pytest.mark.asyncio
async def test_rule_emptying_the_batch_stores_nothing(pm: pluggy.PluginManager) -> None:
    pm.register(Rules(lambda events, context: []), name="empty")
    try:
        async with running(pm) as r:
            assert (await r.post(body(envelope()))).status_code == 204
            assert await r.store.count_sessions() == 0
    finally:
        pm.unregister(name="empty")


@pytest.mark.asyncio
async def test_rule_adding_unserializable_values_fails_closed(pm: pluggy.PluginManager) -> None:
    def add_object(events: list[Event], context: RedactionContext) -> None:
        events[0]["data"]["obj"] = object()

    pm.register(Rules(add_object), name="unserializable")
    try:
        async with running(pm) as r:
            assert (await r.post(body(envelope()))).status_code == 422
            assert await r.store.count_sessions() == 0
    finally:
        pm.unregister(name="unserializable")


@pytest.mark.asyncio
async def test_failing_collectors_are_logged_and_isolated(
    pm: pluggy.PluginManager, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []

    class SyncFailure:
        @hookimpl
        def collect_batch(self, batch: Batch) -> None:
            raise RuntimeError("sync collector broke")

    class AsyncFailure:
        @hookimpl
        def collect_batch(self, batch: Batch) -> Any:
            async def run() -> None:
                raise RuntimeError("async collector broke")

            return run()

    class Healthy:
        @hookimpl
        def collect_batch(self, batch: Batch) -> None:
            calls.append("healthy")

        @hookimpl
        def after_batch_stored(self, batch: Batch) -> None:
            calls.append("notified")

    for name, plugin in (
        ("sync-fail", SyncFailure()),
        ("async-fail", AsyncFailure()),
        ("healthy", Healthy()),
    ):
        pm.register(plugin, name=name)
    try:
        async with running(pm) as r:
            with caplog.at_level(logging.ERROR, logger="sentiero.ingest"):
                response = await r.post(body(envelope()))
            assert response.status_code == 204
            assert calls == ["healthy", "notified"]
            assert "sync collector broke" in caplog.text
            assert "async collector broke" in caplog.text
            assert await r.store.count_sessions() == 1
    finally:
        for name in ("sync-fail", "async-fail", "healthy"):
            pm.unregister(name=name)


class UnavailableStore(MemoryStore):
    """A store whose backend is down: what the recorder should retry."""

    async def append(self, batch: Batch) -> None:
        raise StoreUnavailable("connection refused")


class BrokenStore(MemoryStore):
    async def append(self, batch: Batch) -> None:
        raise KeyError("bug")


@pytest.mark.asyncio
@pytest.mark.parametrize(("store", "status"), [(UnavailableStore(), 503), (BrokenStore(), 500)])
async def test_store_failures_are_5xx_so_the_recorder_retries(
    store: MemoryStore, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(Settings(), store=store, plugin_manager=plugin_manager())
    async with app.test_app() as test_app:
        with caplog.at_level(logging.ERROR, logger="sentiero.ingest"):
            response = await test_app.test_client().post(
                "/sentiero/events", data=body(envelope()), headers=JSON
            )
        assert response.status_code == status
        assert "error" in (await response.get_json())


class RecordingStore(MemoryStore):
    """Keeps every batch the pipeline hands over."""

    def __init__(self) -> None:
        super().__init__()
        self.appended: list[Batch] = []

    async def append(self, batch: Batch) -> bool | None:
        self.appended.append(batch)
        return await super().append(batch)


async def _appended(pm: pluggy.PluginManager, events: list[dict[str, Any]]) -> Batch:
    store = RecordingStore()
    app = create_app(Settings(), store=store, plugin_manager=pm)
    async with app.test_app() as test_app:
        response = await test_app.test_client().post(
            "/sentiero/events", data=body(envelope(events)), headers=JSON
        )
        assert response.status_code == 204
    (batch,) = store.appended
    return batch


def _with_email() -> list[dict[str, Any]]:
    return [{"type": 5, "timestamp": 1_700_000_000_000, "data": {"text": "mail ann@example.org"}}]


@pytest.mark.asyncio
async def test_the_batch_carries_the_json_of_its_redacted_events(
    pm: pluggy.PluginManager,
) -> None:
    """Ensure that the text a store may keep as it is matches the events it
    stands for, whether the built-in rule changed them or not."""
    for events in ([click_event()], _with_email()):
        batch = await _appended(pm, events)
        assert batch.events_json == orjson.dumps(batch.events)
    assert b"ann@example.org" not in orjson.dumps(batch.events)


class DropText:
    """A screening rule: drops ``data.text`` when the text mentions "secret"."""

    def __init__(self, *, screen: bool | None = None) -> None:
        self.answer = screen
        self.screened: list[bytes] = []
        self.calls = 0

    def screen(self, events_json: bytes, context: RedactionContext) -> bool:
        self.screened.append(events_json)
        return b"secret" in events_json if self.answer is None else self.answer

    def __call__(self, events: list[Event], context: RedactionContext) -> None:
        self.calls += 1
        for event in events:
            event["data"].pop("text", None)


@pytest.mark.asyncio
async def test_a_rule_that_is_called_never_gets_pre_redaction_text_stored(
    pm: pluggy.PluginManager,
) -> None:
    """Ensure that a rule which was called cannot have its in-place edits
    lost: whatever it says, the store gets text written after it ran."""
    rule = DropText(screen=True)
    pm.register(Rules(rule), name="mistaken")
    try:
        batch = await _appended(pm, [{"type": 5, "timestamp": 1, "data": {"text": "secret"}}])
        assert rule.calls == 1
        assert batch.events == [{"type": 5, "timestamp": 1, "data": {}}]
        assert batch.events_json == orjson.dumps(batch.events)
        assert b"secret" not in batch.events_json
    finally:
        pm.unregister(name="mistaken")


@pytest.mark.asyncio
async def test_any_rule_may_screen_itself_out_and_keep_the_text(
    pm: pluggy.PluginManager,
) -> None:
    """Ensure that a plugin's rule, not only the built-in one, can declare
    from the JSON text that it has nothing to do: it is not called and the
    text it screened is what the store gets, not written again."""
    rule = DropText()
    pm.register(Rules(rule), name="screening")
    try:
        batch = await _appended(pm, [click_event()])
        assert rule.calls == 0
        (screened,) = rule.screened
        assert batch.events_json is screened
        batch = await _appended(pm, [{"type": 5, "timestamp": 1, "data": {"text": "secret"}}])
        assert rule.calls == 1
        assert batch.events_json == b'[{"type":5,"timestamp":1,"data":{}}]'
    finally:
        pm.unregister(name="screening")


@pytest.mark.asyncio
async def test_a_screen_is_not_asked_once_an_earlier_rule_ran(pm: pluggy.PluginManager) -> None:
    """Ensure that a screen never judges text that no longer stands for the
    events: after a rule has run, later rules are simply called."""
    first, second = DropText(screen=True), DropText(screen=False)
    pm.register(Rules(first, second), name="two")
    try:
        await _appended(pm, [{"type": 5, "timestamp": 1, "data": {"text": "x"}}])
        assert (first.calls, second.calls, second.screened) == (1, 1, [])
    finally:
        pm.unregister(name="two")


@pytest.mark.asyncio
async def test_json_written_after_a_changing_rule_is_trusted(pm: pluggy.PluginManager) -> None:
    def drop_text(events: list[Event], context: RedactionContext) -> None:
        for event in events:
            event["data"].pop("text", None)

    pm.register(Rules(drop_text), name="dropping")
    try:
        batch = await _appended(pm, [{"type": 5, "timestamp": 1, "data": {"text": "secret"}}])
        assert batch.events_json == b'[{"type":5,"timestamp":1,"data":{}}]'
    finally:
        pm.unregister(name="dropping")
