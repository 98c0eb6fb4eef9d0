"""Contract: concurrency, odd and large payloads, isolation, stats, durability."""

from __future__ import annotations

import asyncio
import random
import string
from collections.abc import Awaitable, Callable

import pytest

from ..store import SessionFilter, Store
from .catalog import CATALOG_ORDER, catalog_batches
from .factories import T0, make_batch, meta, realistic_events, text_mutation, track
from .helpers import append_all, labels, list_all, listed_ids, read_all, reference_summaries

#: Strings that trip encoders: emoji and ZWJ sequences, right-to-left scripts,
#: combining marks, astral planes, separators JSON leaves raw, control
#: characters (NUL excluded: several databases refuse it in text).
ODD_STRINGS = [
    "emoji 😀 👩‍👩‍👧‍👦 🏳️‍🌈 🇮🇹",
    "مرحبا بالعالم",
    "שלום עולם",
    "e\u0301 n\u0303 a\u030a",
    "漢字かなカナ한국어",
    "\U0001d518\U0001d52b\U0001d526 astral \U0010fffd",
    "zero\u200bwidth\u200djoin\ufeffbom",
    "line\u2028para\u2029sep",
    "ctl\x01\x07\x1b\x1f\x7f\x85",
    'quote " backslash \\ slash / <script>&amp;</script>',
    "'; DROP TABLE sessions; --",
    "$where: {'$gt': ''} .dotted.key",
]

ONE_MB = 1024 * 1024

ReopenStore = Callable[[], Awaitable[Store]]  # see store_contract.ReopenStore


class RobustnessContract:
    """Tests of concurrency, payloads, isolation, stats and durability."""

    @pytest.mark.asyncio
    async def test_concurrent_appends_to_one_session_lose_nothing(self, store: Store) -> None:
        """Ensure that 200 batches appended at once to one session are all
        kept: every event readable in order, every batch counted."""
        batches = []
        for b in range(200):
            window = f"w{b % 4}"
            batches.append(
                make_batch(
                    "busy",
                    window,
                    [text_mutation(T0 + (b * 5 + i) * 3, f"{b}.{i}") for i in range(5)],
                )
            )
        random.Random(7).shuffle(batches)
        await asyncio.gather(*(store.append(batch) for batch in batches))
        events = await read_all(store, "busy", limit=97)
        assert len(events) == 1000
        assert labels(events) == [f"{b}.{i}" for b in range(200) for i in range(5)]
        s = await store.get_session("busy")
        assert s is not None
        assert (s.event_count, s.batch_count) == (1000, 200)
        assert (s.started_at, s.ended_at) == (T0, T0 + 999 * 3)
        assert sorted(s.windows) == ["w0", "w1", "w2", "w3"]
        assert s.raw_bytes == sum(b.digest.raw_bytes for b in batches)
        stats = await store.stats()
        assert (stats.sessions, stats.events, stats.batches) == (1, 1000, 200)

    @pytest.mark.asyncio
    async def test_concurrent_first_appends_create_each_session_once(self, store: Store) -> None:
        """Ensure that many sessions created at the same moment, several
        batches each, end up as exactly one summary per session."""
        batches = [
            make_batch(f"s{n:02d}", f"w{k}", [text_mutation(T0 + n * 10 + k, f"{n}.{k}")])
            for n in range(30)
            for k in range(3)
        ]
        await asyncio.gather(*(store.append(batch) for batch in batches))
        ids = await listed_ids(store, limit=7)
        assert ids == [f"s{n:02d}" for n in reversed(range(30))]
        assert await store.count_sessions() == 30
        for summary in await list_all(store):
            assert (summary.event_count, summary.batch_count) == (3, 3), summary.session_id

    @pytest.mark.asyncio
    async def test_reads_during_appends_see_whole_batches(self, store: Store) -> None:
        """Ensure that reading and listing while appends run never fails and
        never shows part of a batch."""
        batches = [
            make_batch("s1", "w1", [text_mutation(T0 + b * 10 + i, f"{b}.{i}") for i in range(4)])
            for b in range(40)
        ]

        async def reader() -> None:
            for _ in range(20):
                count = len(await read_all(store, "s1", limit=9))
                assert count % 4 == 0, count
                await store.list_sessions()
                await asyncio.sleep(0)

        await asyncio.gather(reader(), *(store.append(b) for b in batches), reader())
        assert len(await read_all(store, "s1")) == 160

    @pytest.mark.asyncio
    async def test_unicode_round_trips(self, store: Store) -> None:
        """Ensure that odd Unicode in events, URLs, user ids and custom event
        names comes back unchanged and is searchable."""
        events = [text_mutation(T0 + i, text) for i, text in enumerate(ODD_STRINGS)]
        events.append(
            {
                "type": 5,
                "timestamp": T0 + 50,
                "data": {"tag": "x", "payload": {text: text for text in ODD_STRINGS}},
            }
        )
        events.append(meta(T0 + 60, "https://example.test/ünïcödé/😀?q=مرحبا"))
        events.append(track(T0 + 70, "clicked 🛒 « achat »"))
        await store.append(make_batch("uni-😀-session", "wïndow-1", events))
        assert await read_all(store, "uni-😀-session") == events
        assert await read_all(store, "uni-😀-session", window_id="wïndow-1") == events
        s = await store.get_session("uni-😀-session")
        assert s is not None
        assert s.pages == ["https://example.test/ünïcödé/😀?q=مرحبا"]
        assert s.windows == ["wïndow-1"]
        assert s.custom_events == ["clicked 🛒 « achat »"]
        assert await listed_ids(store, SessionFilter(url_contains="ünïcödé/😀")) == [
            "uni-😀-session"
        ]
        assert await store.count_sessions(SessionFilter(custom_event="clicked 🛒 « achat »")) == 1
        assert await store.count_sessions(SessionFilter(session_ids=("uni-😀-session",))) == 1

    @pytest.mark.asyncio
    async def test_one_megabyte_event_round_trips(self, store: Store) -> None:
        """Ensure that a single event over 1 MB is stored and read back intact."""
        rng = random.Random(3)
        blob = "".join(rng.choices(string.ascii_letters + string.digits, k=ONE_MB))
        big = {
            "type": 2,
            "timestamp": T0 + 1,
            "data": {
                "node": {
                    "type": 0,
                    "id": 1,
                    "childNodes": [{"type": 3, "id": 2, "textContent": blob}],
                }
            },
        }
        events = [meta(T0, "https://example.test/"), big, text_mutation(T0 + 2, "after")]
        await store.append(make_batch("big", "w1", events))
        assert await read_all(store, "big") == events
        page = await store.read_events("big", limit=1)
        assert page.events == events[:1]
        page = await store.read_events("big", cursor=page.next, limit=1)
        assert page.events == [big]
        stats = await store.stats()
        assert stats.raw_bytes > ONE_MB

    @pytest.mark.asyncio
    async def test_sessions_are_isolated(self, store: Store) -> None:
        """Ensure that sessions sharing window ids and timestamps never see each
        other's events, and deleting one leaves the other whole."""
        a = [text_mutation(T0 + i, f"a{i}") for i in range(6)]
        b = [text_mutation(T0 + i, f"b{i}") for i in range(4)]
        await store.append(make_batch("A", "w1", a[:3]))
        await store.append(make_batch("B", "w1", b))
        await store.append(make_batch("A", "w1", a[3:]))
        assert labels(await read_all(store, "A", limit=4)) == [f"a{i}" for i in range(6)]
        assert labels(await read_all(store, "B", limit=4)) == [f"b{i}" for i in range(4)]
        assert labels(await read_all(store, "B", window_id="w1")) == [f"b{i}" for i in range(4)]
        got_b = await store.get_session("B")
        assert got_b is not None
        assert (got_b.event_count, got_b.batch_count) == (4, 1)
        await store.delete_sessions(["A"])
        assert labels(await read_all(store, "B")) == [f"b{i}" for i in range(4)]
        after = await store.get_session("B")
        assert after is not None
        assert after.to_dict() == got_b.to_dict()

    @pytest.mark.asyncio
    async def test_session_ids_are_exact_not_prefixes(self, store: Store) -> None:
        """Ensure that ids sharing a prefix or differing in case are distinct."""
        for sid in ("abc", "abcd", "ABC", "ab"):
            await store.append(make_batch(sid, "w1", [text_mutation(T0, sid)]))
        for sid in ("abc", "abcd", "ABC", "ab"):
            assert labels(await read_all(store, sid)) == [sid]
        assert await store.delete_sessions(["abc"]) == 1
        assert sorted(await listed_ids(store)) == sorted(["abcd", "ABC", "ab"])

    @pytest.mark.asyncio
    async def test_stats_count_events_batches_and_bytes(self, store: Store) -> None:
        """Ensure that stats report sessions, events, batches and raw bytes
        exactly, and stored bytes that shrink when a session goes (how much
        a store compresses is its declared capability, tested on its own)."""
        empty = await store.stats()
        assert (empty.sessions, empty.events, empty.batches, empty.raw_bytes) == (0, 0, 0, 0)
        batches = [
            make_batch("r1", "w1", realistic_events(T0, 200, seed=1)),
            make_batch("r1", "w1", realistic_events(T0 + 60_000, 150, seed=2)),
            make_batch("r2", "w1", realistic_events(T0, 100, seed=3)),
        ]
        await append_all(store, batches)
        stats = await store.stats()
        assert (stats.sessions, stats.events, stats.batches) == (2, 450, 3)
        assert stats.raw_bytes == sum(b.digest.raw_bytes for b in batches)
        assert stats.stored_bytes > 0
        assert stats.compression_ratio == stats.stored_bytes / stats.raw_bytes
        await store.delete_sessions(["r2"])
        after = await store.stats()
        assert (after.sessions, after.events, after.batches) == (1, 350, 2)
        assert after.raw_bytes == batches[0].digest.raw_bytes + batches[1].digest.raw_bytes
        assert after.stored_bytes < stats.stored_bytes

    @pytest.mark.asyncio
    async def test_appended_batch_is_not_shared_with_the_caller(self, store: Store) -> None:
        """Ensure that changing an event list after appending it, or an event
        after reading it, does not change what the store holds."""
        events = [text_mutation(T0 + i, str(i)) for i in range(3)]
        await store.append(make_batch("s1", "w1", events))
        events[0]["data"]["texts"][0]["value"] = "changed"
        events.append(text_mutation(T0 + 9, "extra"))
        read = await read_all(store, "s1")
        assert labels(read) == ["0", "1", "2"]
        read[1]["timestamp"] = 0
        assert labels(await read_all(store, "s1")) == ["0", "1", "2"]

    @pytest.mark.asyncio
    async def test_data_survives_reopening(self, store: Store, reopen_store: ReopenStore) -> None:
        """Ensure that a persistent store opened again over the same data finds
        the same sessions, summaries and events (needs the ``reopen_store``
        fixture; skipped without it unless the store declares itself persistent)."""
        batches = catalog_batches()
        await append_all(store, batches)
        await store.append(make_batch("sess-a", "w2", realistic_events(T0 + 40, 50, seed=9)))
        expected_events = await read_all(store, "sess-a")
        again = await reopen_store()
        try:
            assert await listed_ids(again) == CATALOG_ORDER
            assert await read_all(again, "sess-a", limit=7) == expected_events
            reference = reference_summaries(
                [*batches, make_batch("sess-a", "w2", realistic_events(T0 + 40, 50, seed=9))]
            )
            for sid, summary in reference.items():
                got = await again.get_session(sid)
                assert got is not None and got.to_dict() == summary.to_dict(), sid
            assert (await again.stats()).batches == len(batches) + 1
        finally:
            await again.close()
