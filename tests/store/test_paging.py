"""The merge behind every store's event pages and trimming: correct against
a brute-force reading, and decoding only the batches it must."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator

import pytest

from sentiero_core.store import (
    Event,
    InvalidCursor,
    MemoryStore,
    StoredBatch,
    StoreLimits,
    decode_blob,
    encode_blob,
    encode_cursor,
    event_time,
    page_events,
    paging,
    parse_event_cursor,
    trim_plan,
)
from sentiero_core.testing.factories import T0, make_batch, text_mutation


def stored(seq: int, events: list[Event], window: str = "w") -> StoredBatch:
    blob, _raw = encode_blob(events)
    times = [event_time(e) for e in events]
    return StoredBatch(seq, window, min(times), max(times), len(events), blob)


def random_batches(rng: random.Random, count: int) -> list[StoredBatch]:
    """Overlapping batches with many equal timestamps, seq in arrival order."""
    batches = []
    for seq in range(1, count + 1):
        start = rng.randrange(0, 200)
        events = [
            text_mutation(T0 + start + rng.randrange(0, 40), f"{seq}.{i}")
            for i in range(rng.randrange(1, 8))
        ]
        batches.append(stored(seq, events, f"w{seq % 3}"))
    return batches


def brute_force(batches: list[StoredBatch]) -> list[Event]:
    """Every event ordered by (timestamp, batch seq, index)."""
    found = []
    for b in batches:
        for i, e in enumerate(decode_blob(b.blob)):
            found.append(((event_time(e), b.seq, i), e))
    return [e for _pos, e in sorted(found, key=lambda pe: pe[0])]


def by_start(batches: list[StoredBatch]) -> list[StoredBatch]:
    return sorted(batches, key=lambda b: (b.min_ts, b.seq))


async def read_through(batches: list[StoredBatch], limit: int) -> list[Event]:
    events: list[Event] = []
    after = None
    while True:
        candidates = [b for b in by_start(batches) if after is None or b.max_ts >= after[0]]
        page = await page_events(candidates, after, limit)
        events += page.events
        if page.next is None:
            return events
        after = parse_event_cursor(page.next)


@pytest.mark.asyncio
@pytest.mark.parametrize("seed", range(6))
async def test_pages_match_a_brute_force_merge(seed: int) -> None:
    rng = random.Random(seed)
    batches = random_batches(rng, 25)
    expected = brute_force(batches)
    for limit in (1, 3, 7, 50, 1000):
        assert await read_through(batches, limit) == expected, limit


@pytest.mark.parametrize("seed", range(6))
def test_trim_keeps_exactly_the_newest_events(seed: int) -> None:
    rng = random.Random(seed)
    batches = random_batches(rng, 25)
    everything = brute_force(batches)
    for keep in (0, 1, 10, len(everything) - 1, len(everything)):
        drop, rewrite = trim_plan(batches, keep)
        kept = [
            stored(b.seq, rewrite[b.seq], b.window_id) if b.seq in rewrite else b
            for b in batches
            if b.seq not in drop
        ]
        assert brute_force(kept) == everything[len(everything) - keep :], keep


def test_trim_with_nothing_to_drop_is_empty() -> None:
    batches = [stored(1, [text_mutation(T0, "a")])]
    plan = trim_plan(batches, 5)
    assert (plan.drop, plan.rewrite) == ([], {})
    with pytest.raises(ValueError):
        trim_plan(batches, -1)


@pytest.mark.asyncio
async def test_page_events_accepts_an_async_iterable() -> None:
    batches = [stored(1, [text_mutation(T0 + i, str(i)) for i in range(3)])]

    async def source() -> AsyncIterator[StoredBatch]:
        for b in batches:
            yield b

    page = await page_events(source(), None, 2)
    assert [e["timestamp"] for e in page.events] == [T0, T0 + 1]
    assert page.next is not None


@pytest.mark.parametrize(
    "value",
    [
        [1, 2],
        [1, 2, 3, 4],
        [1, "2", 3],
        [True, 1, 1],
        [-1, 1, 1],
        [1.5, 1, 1],
        {"a": 1},
        [2**63, 0, 0],
        [0, 2**64 - 1, 0],
    ],
)
def test_event_cursor_of_the_wrong_shape_is_invalid(value: object) -> None:
    with pytest.raises(InvalidCursor):
        parse_event_cursor(encode_cursor(value))


class DecodeCounter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, blob: bytes) -> list[Event]:
        self.calls += 1
        return decode_blob(blob)


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> Iterator[DecodeCounter]:
    """Counts batch decodes made by the paging module (the real decoder runs)."""
    counter = DecodeCounter()
    monkeypatch.setattr(paging, "decode_blob", counter)
    yield counter


async def long_session(store: MemoryStore, batches: int = 200, per_batch: int = 50) -> None:
    for b in range(batches):
        await store.append(
            make_batch(
                "long",
                "w1",
                [
                    text_mutation(T0 + (b * per_batch + i) * 10, f"{b}.{i}")
                    for i in range(per_batch)
                ],
            )
        )


@pytest.mark.asyncio
async def test_first_page_of_a_long_session_decodes_few_batches(decodes: DecodeCounter) -> None:
    store = MemoryStore()
    await long_session(store)
    decodes.calls = 0
    page = await store.read_events("long", limit=100)
    assert len(page.events) == 100
    assert decodes.calls <= 3
    decodes.calls = 0
    middle = await store.read_events("long", cursor=page.next, limit=100)
    assert middle.events[0]["data"]["texts"][0]["value"] == "2.0"
    assert decodes.calls <= 4


@pytest.mark.asyncio
async def test_appends_at_the_event_cap_decode_only_the_oldest_batches(
    decodes: DecodeCounter,
) -> None:
    store = MemoryStore(StoreLimits(max_events_per_session=5000))
    await long_session(store, batches=100)
    decodes.calls = 0
    for b in range(100, 120):
        await store.append(
            make_batch(
                "long", "w1", [text_mutation(T0 + (b * 50 + i) * 10, f"{b}.{i}") for i in range(50)]
            )
        )
    assert decodes.calls <= 2 * 20
    summary = await store.get_session("long")
    assert summary is not None
    assert (summary.event_count, summary.batch_count) == (5000, 100)
    first = await store.read_events("long", limit=1)
    assert first.events[0]["data"]["texts"][0]["value"] == "20.0"
