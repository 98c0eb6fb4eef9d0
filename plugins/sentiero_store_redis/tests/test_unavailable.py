"""Redis going away: StoreUnavailable from the store, 503 from ingest, and
recovery once the server is back."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from sentiero_store_redis import RedisSettings, RedisStore

from sentiero_core import Settings, create_app, get_plugin_manager
from sentiero_core.store import StoreUnavailable
from sentiero_core.testing import T0, make_batch, text_mutation

pytestmark = pytest.mark.asyncio

FAST = RedisSettings(key_prefix="down:", connect_timeout_ms=500, socket_timeout_ms=1_000)


def _envelope(seq: int) -> bytes:
    return orjson.dumps(
        {
            "session_id": "session-0001",
            "window_id": "window-0001",
            "seq": seq,
            "events": [{"type": 3, "timestamp": T0 + seq, "data": {"source": 2, "type": 2}}],
        }
    )


async def test_nothing_listening_fails_open_with_store_unavailable_naming_the_server(
    unused_port: int,
) -> None:
    port = unused_port
    store = RedisStore(f"redis://:hunter2@127.0.0.1:{port}/0", settings=FAST)
    with pytest.raises(StoreUnavailable, match=f"127.0.0.1:{port}") as caught:
        await store.open()
    assert "hunter2" not in str(caught.value)
    await store.close()


async def test_redis_going_away_mid_ingest_answers_503_then_recovers(redis_server: Any) -> None:
    server = redis_server
    app = create_app(
        Settings(
            store_url=server.url,
            plugins={"store_redis": {"connect_timeout_ms": 500, "socket_timeout_ms": 1000}},
        ),
        plugin_manager=get_plugin_manager(environ={"SENTIERO_LOAD_PLUGINS": "store_redis"}),
    )
    headers = {"Content-Type": "application/json"}
    async with app.test_app() as test_app:
        client = test_app.test_client()
        first = await client.post("/sentiero/events", data=_envelope(1), headers=headers)
        assert first.status_code == 204
        server.stop()
        down = await client.post("/sentiero/events", data=_envelope(2), headers=headers)
        assert down.status_code == 503
        assert int(down.headers["Retry-After"]) > 0  # the recorder sends it again later
        assert "unavailable" in (await down.get_data(as_text=True)).lower()
        store = app.extensions["sentiero"].store
        with pytest.raises(StoreUnavailable):
            await store.list_sessions()
        with pytest.raises(StoreUnavailable):
            await store.delete_sessions(["session-0001"])


async def test_a_restarted_server_is_used_again_without_reopening(redis_server: Any) -> None:
    server = redis_server
    store = RedisStore(server.url, settings=FAST)
    await store.open()
    try:
        assert await store.append(make_batch("s", "w", [text_mutation(T0, "a")], seq=1))
        server.stop()
        with pytest.raises(StoreUnavailable):
            await store.append(make_batch("s", "w", [text_mutation(T0 + 1, "b")], seq=2))
        server.start()  # empty: the test server keeps nothing on disk
        assert await store.append(make_batch("s", "w", [text_mutation(T0 + 2, "c")], seq=3))
        assert [s.session_id for s in (await store.list_sessions()).sessions] == ["s"]
    finally:
        await store.close()
