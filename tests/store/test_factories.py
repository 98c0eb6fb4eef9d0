"""The batch builders third parties use: they must look like real ingest."""

from __future__ import annotations

import orjson

from sentiero_core.store import encode_blob
from sentiero_core.testing import T0, make_batch, realistic_events
from sentiero_core.testing.factories import CHROME_MAC, click, meta


def test_make_batch_digests_like_the_ingest_path() -> None:
    events = [meta(T0, "https://a.example/"), click(T0 + 5)]
    batch = make_batch("s1", "w1", events, user_agent=CHROME_MAC, ip="192.0.2.9")
    assert (batch.session_id, batch.window_id, batch.events) == ("s1", "w1", events)
    assert (batch.meta.received_at, batch.meta.ip, batch.meta.user_agent) == (
        T0 + 5,
        "192.0.2.9",
        CHROME_MAC,
    )
    assert batch.digest.raw_bytes == len(orjson.dumps(events))
    assert (batch.digest.first_ts, batch.digest.last_ts, batch.digest.click_count) == (
        T0,
        T0 + 5,
        1,
    )
    assert batch.digest.browser == "Chrome"
    assert make_batch("s1", "w1", events, received_at=42).meta.received_at == 42


def test_realistic_events_are_deterministic_and_ordered() -> None:
    events = realistic_events(T0, 200, seed=4)
    assert events == realistic_events(T0, 200, seed=4)
    assert events != realistic_events(T0, 200, seed=5)
    assert len(events) == 200
    assert [e["type"] for e in events[:2]] == [4, 2]
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps)


def test_realistic_events_compress_like_a_real_recording() -> None:
    """Real rrweb recordings: ~200 events and ~117 KB a minute, ~9x compressed."""
    events = realistic_events(T0, 200, seed=0)
    blob, raw = encode_blob(events)
    minutes = (events[-1]["timestamp"] - events[0]["timestamp"]) / 60_000
    assert 0.5 < minutes < 2
    assert 40_000 < raw < 200_000
    assert 5 < raw / len(blob) < 15
