"""The ingest limits against abuse: a snapshot's allowance apart from an
ordinary batch's, events counted while the body is inflated, a bounded
number of requests decoded at once (503 with Retry-After), and the optional
per-client rate limit (429 with Retry-After)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from sentiero_core import Settings, SettingsError
from sentiero_core.ingest.admission import Gate, RateLimiter, Slots, admission_of
from sentiero_core.ingest.decoding import BodyDecoder
from sentiero_core.ingest.envelope import count_events, count_events_so_far, starts_with_snapshot
from sentiero_core.ingest.errors import IngestError
from tests.ingest.helpers import JSON, T0, click_event, envelope, gz, meta_event, running
from tests.support.abuse import attack_body

GZ = {**JSON, "Content-Encoding": "gzip"}


def snapshot_event(chars: int) -> dict[str, Any]:
    text = {"type": 3, "textContent": "x" * chars, "id": 3}
    node = {"type": 0, "childNodes": [{"type": 2, "tagName": "pre", "childNodes": [text]}]}
    return {"type": 2, "data": {"node": node, "initialOffset": {"top": 0}}, "timestamp": T0 + 1}


def big_custom_event(chars: int) -> dict[str, Any]:
    return {"type": 5, "timestamp": T0 + 1, "data": {"tag": "big", "payload": "y" * chars}}


@pytest.mark.asyncio
async def test_a_snapshot_batch_may_pass_the_ordinary_batch_allowance() -> None:
    async with running(max_batch_bytes=50_000, max_decoded_bytes=400_000) as r:
        response = await r.post(gz(envelope([snapshot_event(200_000), meta_event()])), GZ)
        assert response.status_code == 204
        assert sorted(e["type"] for e in await r.stored_events()) == [2, 4]


@pytest.mark.asyncio
async def test_a_batch_without_a_snapshot_over_the_ordinary_allowance_is_413() -> None:
    async with running(max_batch_bytes=50_000, max_decoded_bytes=400_000) as r:
        response = await r.post(gz(envelope([big_custom_event(200_000)])), GZ)
        assert response.status_code == 413
        assert await r.error(response) == ("decoded body over 50000 bytes and not a full snapshot")
        assert response.headers["Connection"] == "close"
        # a snapshot that is not first, as the recorder never sends one
        late = envelope([meta_event(), snapshot_event(200_000)])
        assert (await r.post(gz(late), GZ)).status_code == 413
        # nor does it count when the first event of a large body only looks like one
        fake = envelope([{"data": {"pad": "z" * 200_000}, "type": 2, "timestamp": T0}])
        assert (await r.post(gz(fake), GZ)).status_code == 413
        assert await r.store.count_sessions() == 0


@pytest.mark.asyncio
async def test_many_tiny_objects_weigh_what_they_cost_once_parsed() -> None:
    """Ensure that a body of 30 KB whose 10,000 empty arrays would take
    ~600 KB parsed counts against the ordinary allowance as ~190 KB."""
    tiny = [{"type": 5, "timestamp": T0, "data": [[]] * 10_000}]
    async with running(max_batch_bytes=50_000, max_decoded_bytes=400_000) as r:
        response = await r.post(gz(envelope(tiny)), GZ)
        assert response.status_code == 413
        assert await r.error(response) == "decoded body over 50000 bytes and not a full snapshot"
        assert (await r.post(gz(envelope([big_custom_event(10_000)])), GZ)).status_code == 204
        # a snapshot may weigh up to twice the snapshot allowance
        heavy = snapshot_event(10)
        heavy["data"]["node"]["childNodes"] = [[]] * 60_000  # 180 KB, weighs 1.1 MB
        response = await r.post(gz(envelope([heavy], seq=2)), GZ)
        assert response.status_code == 413
        assert await r.error(response) == (
            "decoded body has too many JSON objects and arrays for its size"
        )


@pytest.mark.asyncio
async def test_a_snapshot_over_the_snapshot_allowance_is_413() -> None:
    async with running(max_batch_bytes=50_000, max_decoded_bytes=100_000) as r:
        response = await r.post(gz(envelope([snapshot_event(200_000)])), GZ)
        assert response.status_code == 413
        assert await r.error(response) == "decoded body over 100000 bytes"


@pytest.mark.asyncio
async def test_the_attack_body_is_refused_after_inflating_little_of_it() -> None:
    async with running() as r:
        response = await r.post(attack_body(), GZ)
        assert response.status_code == 413
        assert await r.error(response) == "events: more than 1000 events in one request"
        assert await r.store.count_sessions() == 0


def test_events_are_counted_while_inflating() -> None:
    """Ensure that a 26 MB body of small events stops the decoder within the
    first few hundred kilobytes, whatever the caps."""
    seen: list[int] = []

    def check(head: bytes) -> bool:
        seen.append(len(head))
        return count_events_so_far(head, 1_000)

    decoder = BodyDecoder(
        "gzip",
        max_raw=10**8,
        max_decoded=10**8,
        check_head=check,
        check_from=1_000,
    )
    data = attack_body()
    with pytest.raises(IngestError) as caught:
        for start in range(0, len(data), 16_384):
            decoder.feed(data[start : start + 16_384])
    assert caught.value.status == 413
    assert decoder.decoded_size < 1_000_000
    assert seen and max(seen) < 1_000_000


def test_a_snapshot_being_inflated_is_checked_once() -> None:
    calls: list[int] = []

    def check(head: bytes) -> bool:
        calls.append(len(head))
        return count_events_so_far(head, 10)

    doc = envelope([snapshot_event(10), *[click_event(T0 + i) for i in range(5)]])
    doc["events"][0]["data"]["node"]["childNodes"] = [{"type": 2, "attributes": {}}] * 5_000
    decoder = BodyDecoder(
        "identity", max_raw=10**8, max_decoded=10**8, check_head=check, check_from=10
    )
    text = orjson.dumps(doc)
    for start in range(0, len(text), 4_096):
        decoder.feed(text[start : start + 4_096])
    assert decoder.finish() == text
    assert len(calls) == 1  # its first event is not complete yet: no use looking again


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"v":1,"session_id":"a","events":[{"type":2,"data":{"node":', True),
        (b'{"events" : [ { "type" : 2 , "data"', True),
        (b'{"v":1,"events":[{"type":3,"data":{"node":', False),
        (b'{"v":1,"events":[{"data":{},"type":2}', False),
        (b'{"junk":{"a":[1,2,3', False),
        (b"[1,2,3]", False),
        (b"\xff\xfe", False),
        (b"", False),
    ],
)
def test_starts_with_snapshot(body: bytes, expected: bool) -> None:
    assert starts_with_snapshot(body) is expected


def test_count_events_refuses_past_the_limit_and_leaves_bad_json_to_the_parser() -> None:
    events = [click_event(T0 + i) for i in range(11)]
    with pytest.raises(IngestError) as caught:
        count_events(orjson.dumps(envelope(events)), 10)
    assert caught.value.status == 413
    count_events(orjson.dumps(envelope(events[:10])), 10)
    count_events(b'{"events":[{"a":{}},{"b":{}},' * 3, 2)  # not JSON: parse_json says so


async def take_all(slots: Slots) -> int:
    """Take every free slot, as busy requests would; how many were taken."""
    taken = 0
    while not slots._free.locked():
        await slots.acquire()
        taken += 1
    return taken


def give_back(slots: Slots, taken: int) -> None:
    for _ in range(taken):
        slots.release()


def test_tiers_by_size() -> None:
    gate = Gate(Settings(ingest_max_concurrent=3))
    assert gate.limits == [256 * 1024, 4 * 1024 * 1024, 2 * 16 * 1024 * 1024]
    assert [s._free._value for s in gate.slots] == [24, 3, 1]  # type: ignore[attr-defined]
    # an ordinary allowance below the small one: small bodies go straight on
    assert Gate(Settings(max_batch_bytes=50_000)).limits == [50_000, 50_000, 32 * 1024 * 1024]


@pytest.mark.asyncio
async def test_a_full_house_answers_503_with_retry_after() -> None:
    site = "https://shop.example"
    async with running(ingest_max_concurrent=1, ingest_queue_timeout=0.2, cors_origins=[site]) as r:
        gate = admission_of(r.app.extensions["sentiero"]).gate
        taken = await take_all(gate.small)
        assert taken == 8
        try:
            response = await r.post(gz(envelope()), {**GZ, "Origin": site})
            assert response.status_code == 503
            assert response.headers["Retry-After"] == "1"
            # a recorder on another origin may read it
            assert response.headers["Access-Control-Expose-Headers"] == "Retry-After"
            assert await r.error(response) == "too many batches at once, retry later"
            assert await r.store.count_sessions() == 0
        finally:
            give_back(gate.small, taken)
        assert (await r.post(gz(envelope()), GZ)).status_code == 204


@pytest.mark.asyncio
async def test_a_waiting_request_gets_its_turn() -> None:
    async with running(ingest_max_concurrent=1, ingest_queue_timeout=5) as r:
        gate = admission_of(r.app.extensions["sentiero"]).gate
        taken = await take_all(gate.small)
        waiting = asyncio.ensure_future(r.post(gz(envelope()), GZ))
        await asyncio.sleep(0.1)
        assert not waiting.done() and gate.small.waiting == 1
        give_back(gate.small, taken)
        assert (await waiting).status_code == 204


@pytest.mark.asyncio
async def test_too_many_waiting_are_refused_at_once() -> None:
    async with running(ingest_max_concurrent=1, ingest_queue_timeout=5) as r:
        gate = admission_of(r.app.extensions["sentiero"]).gate
        taken = await take_all(gate.small)
        gate.small.waiting = gate.small.max_waiting
        try:
            response = await asyncio.wait_for(r.post(gz(envelope()), GZ), 2)
            assert response.status_code == 503
        finally:
            gate.small.waiting = 0
            give_back(gate.small, taken)


@pytest.mark.asyncio
async def test_a_larger_batch_waits_for_an_ordinary_slot_small_ones_pass() -> None:
    big = envelope([big_custom_event(300_000)])
    async with running(ingest_max_concurrent=1, ingest_queue_timeout=0.3) as r:
        gate = admission_of(r.app.extensions["sentiero"]).gate
        taken = await take_all(gate.ordinary)
        try:
            waiting = asyncio.ensure_future(r.post(gz(big), GZ))
            await asyncio.sleep(0.05)
            assert (await r.post(gz(envelope(seq=2)), GZ)).status_code == 204
            response = await waiting
            assert response.status_code == 503
        finally:
            give_back(gate.ordinary, taken)
        assert (await r.post(gz({**big, "seq": 3}), GZ)).status_code == 204


@pytest.mark.asyncio
async def test_a_snapshot_waits_for_the_large_slot_without_holding_an_ordinary_one() -> None:
    async with running(
        max_batch_bytes=50_000, ingest_max_concurrent=1, ingest_queue_timeout=0.3
    ) as r:
        gate = admission_of(r.app.extensions["sentiero"]).gate
        await gate.large.acquire()
        try:
            snapshot = asyncio.ensure_future(r.post(gz(envelope([snapshot_event(200_000)])), GZ))
            await asyncio.sleep(0.05)
            # the snapshot waits for the large slot, holding no other slot
            assert gate.large.waiting == 1
            assert not gate.ordinary._free.locked() and not gate.small._free.locked()
            assert (await r.post(gz(envelope(seq=2)), GZ)).status_code == 204
            response = await snapshot
            assert response.status_code == 503 and response.headers["Retry-After"] == "1"
        finally:
            gate.large.release()
        assert (await r.post(gz(envelope([snapshot_event(200_000)], seq=3)), GZ)).status_code == 204


@pytest.mark.asyncio
async def test_rate_limit_answers_429_with_retry_after() -> None:
    def client(address: str) -> dict[str, Any]:
        return {"scope_base": {"client": (address, 40000)}}

    async with running(ingest_rate_limit=0.5, ingest_rate_burst=2) as r:
        statuses = [
            (await r.post(gz(envelope(seq=k)), GZ, **client("203.0.113.5"))) for k in range(3)
        ]
        assert [s.status_code for s in statuses] == [204, 204, 429]
        # another client is not held back
        other = await r.post(gz(envelope(seq=9)), GZ, **client("198.51.100.7"))
        assert other.status_code == 204
        assert statuses[2].headers["Retry-After"] == "2"
        assert await r.error(statuses[2]) == "too many batches from this client, retry later"
        assert statuses[2].headers["Connection"] == "close"


def test_rate_limiter_refills_per_client() -> None:
    limiter = RateLimiter(rate=2.0, burst=2)
    assert [limiter.take("a", now=0.0) for _ in range(2)] == [0.0, 0.0]
    assert limiter.take("a", now=0.0) == pytest.approx(0.5)
    assert limiter.take("b", now=0.0) == 0.0  # another client has its own bucket
    assert limiter.take("a", now=0.5) == 0.0  # one token back after 1/rate s
    assert limiter.take("a", now=0.5) > 0


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("ingest_max_concurrent", 0),
        ("max_batch_bytes", 0),
        ("ingest_queue_timeout", -1.0),
        ("ingest_rate_limit", 0.0),
        ("ingest_rate_burst", 0),
    ],
)
def test_bad_limit_settings_are_refused(option: str, value: Any) -> None:
    with pytest.raises(SettingsError, match=option):
        Settings(**{option: value})
