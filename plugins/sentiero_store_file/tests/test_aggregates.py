"""The file store's aggregates on disk: contributions and facts journaled
per session, totals added up from them at open, a torn last line dropped,
removal and clearing durable, journals compacted."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from sentiero_store_file import FileStore
from sentiero_store_file.aggregates import COMPACT_SLACK, EPOCH_FILE
from sentiero_store_file.store import session_dirname

from sentiero_core.store import (
    AggregateRow,
    SessionFacts,
    StoreError,
    StoreLimits,
    StoreUnavailable,
    Tally,
)
from sentiero_core.testing import T0, make_batch, meta

pytestmark = pytest.mark.asyncio

DAY = T0 // 86_400_000


async def opened(root: Path, limits: StoreLimits | None = None) -> FileStore:
    store = FileStore(root, limits)
    await store.open()
    return store


async def session(store: FileStore, sid: str, start: int = T0) -> None:
    batch = make_batch(sid, "w1", [meta(start, f"https://shop.example/{sid}")], seq=1)
    assert await store.append(batch)


def rows(page: str, clicks: int, ms: float = 0.0) -> list[AggregateRow]:
    return [
        AggregateRow("views", DAY, (page, "desktop"), 1, ms),
        AggregateRow("clicks", DAY, (page,), clicks, 0.0),
    ]


def journal_of(root: Path, sid: str, epoch: int = 1) -> Path:
    return root / "sessions" / session_dirname(sid) / f"aggregates-{epoch}.jsonl"


async def totals(store: FileStore, name: str) -> dict[tuple[str, ...], Tally]:
    return await store.aggregate(name, DAY - 1, DAY + 1, group_by=(0,))


async def test_totals_contributions_and_facts_outlive_the_store(tmp_path: Path) -> None:
    store = await opened(tmp_path)
    try:
        for sid in ("a", "b", "c"):
            await session(store, sid)
        await store.set_contribution("a", "fold", rows("/home", 2, 1500), version=1)
        await store.set_contribution("a", "fold", rows("/cart", 3, 700), version=2)
        await store.set_contribution("a", "extra", rows("/home", 1, 10.25))
        await store.set_contribution("b", "fold", rows("/home", 5, 0.5))
        await store.merge_facts("a", {"pv|w1|1": ["https://x/", 1280], "end": 7})
        b = await store.merge_facts("b", {"k\udc80": "lone surrogate"})
        await store.merge_facts("c", {"x": {"y": [1, 2.5, None]}})
        await store.merge_facts("c", {"x": True})
        before = {n: await totals(store, n) for n in ("views", "clicks")}
        unfolded = await store.unfolded_sessions("fold")
    finally:
        await store.close()
    assert b is not None
    assert before["clicks"] == {("/cart",): Tally(3, 0.0), ("/home",): Tally(6, 0.0)}
    assert unfolded == ["c"]  # a and b were folded at their facts version or later

    store = await opened(tmp_path)
    try:
        assert {n: await totals(store, n) for n in ("views", "clicks")} == before
        assert await store.unfolded_sessions("fold") == unfolded
        assert await store.session_facts("a") == SessionFacts(
            {"pv|w1|1": ["https://x/", 1280], "end": 7}, 1
        )
        assert await store.session_facts("b") == b
        assert await store.session_facts("c") == SessionFacts({"x": True}, 2)
        # the versions came back too: stale folds are still refused, newer ones replace
        assert not await store.set_contribution("a", "fold", rows("/x", 1), version=2)
        assert await store.set_contribution("a", "fold", rows("/home", 1), version=3)
        assert await totals(store, "clicks") == {("/home",): Tally(7, 0.0)}
        merged = await store.merge_facts("c", {"z": 1})
        assert merged == SessionFacts({"x": True, "z": 1}, 3)
    finally:
        await store.close()


@pytest.mark.parametrize("cut", [1, 9, -1], ids=["one byte", "mid-line", "no newline"])
async def test_a_torn_last_line_is_dropped_and_totals_follow_the_contributions(
    tmp_path: Path, cut: int
) -> None:
    store = await opened(tmp_path)
    try:
        await session(store, "a")
        await session(store, "b")
        await store.set_contribution("a", "fold", rows("/home", 2), version=1)
        await store.set_contribution("b", "fold", rows("/home", 4), version=1)
        await store.merge_facts("a", {"f": 1})
        journal = journal_of(tmp_path, "a")
        acknowledged = journal.read_bytes()
        await store.set_contribution("a", "fold", rows("/cart", 9), version=2)
        whole = journal.read_bytes()
    finally:
        await store.close()
    # a crash while the last change was written: part of its line, never acknowledged
    journal.write_bytes(whole[: len(acknowledged) + cut] if cut > 0 else whole[:-1])

    store = await opened(tmp_path)
    try:
        assert journal.read_bytes() == acknowledged  # cut back to what was acknowledged
        # the totals are those of the contributions that survived, not of the torn change
        assert await totals(store, "clicks") == {("/home",): Tally(6, 0.0)}
        assert await store.session_facts("a") == SessionFacts({"f": 1}, 1)
        assert await store.set_contribution("a", "fold", rows("/cart", 9), version=2)
        assert await totals(store, "clicks") == {
            ("/home",): Tally(4, 0.0),
            ("/cart",): Tally(9, 0.0),
        }
    finally:
        await store.close()
    store = await opened(tmp_path)
    try:
        assert await totals(store, "clicks") == {
            ("/home",): Tally(4, 0.0),
            ("/cart",): Tally(9, 0.0),
        }
    finally:
        await store.close()


async def test_a_damaged_journal_line_stops_opening_with_its_name(tmp_path: Path) -> None:
    store = await opened(tmp_path)
    try:
        await session(store, "a")
        await store.set_contribution("a", "k", rows("/home", 1))
        await store.merge_facts("a", {"f": 1})
    finally:
        await store.close()
    journal = journal_of(tmp_path, "a")
    journal.write_bytes(b'["c","k",1,"not rows"]\n' + journal.read_bytes())
    with pytest.raises(StoreError, match=r"damaged aggregates journal .*aggregates-1\.jsonl"):
        await FileStore(tmp_path).open()


@pytest.mark.parametrize("how", ["delete", "evict"])
async def test_a_removed_session_leaves_the_totals_for_good(tmp_path: Path, how: str) -> None:
    limits = StoreLimits(max_sessions=2) if how == "evict" else None
    store = await opened(tmp_path, limits)
    try:
        await session(store, "gone", start=T0)
        await session(store, "kept", start=T0 + 60_000)
        await store.set_contribution("gone", "fold", rows("/home", 2, 100))
        await store.set_contribution("gone", "more", rows("/only-gone", 1, 5))
        await store.merge_facts("gone", {"f": 1})
        await store.set_contribution("kept", "fold", rows("/home", 3, 40))
        if how == "delete":
            assert await store.delete_sessions(["gone"]) == 1
        else:
            await session(store, "newer", start=T0 + 120_000)  # one over: the oldest goes
        expected = {("/home",): Tally(3, 0.0)}
        assert await totals(store, "clicks") == expected
        assert await store.unfolded_sessions("fold") == []
    finally:
        await store.close()
    assert not journal_of(tmp_path, "gone").parent.exists()
    store = await opened(tmp_path, limits)
    try:
        assert await totals(store, "clicks") == expected
        assert await totals(store, "views") == {("/home",): Tally(1, 40.0)}
        # back under the same id, it starts from nothing
        await session(store, "gone", start=T0 + 180_000)
        assert await store.session_facts("gone") == SessionFacts({}, 0)
        assert await store.set_contribution("gone", "fold", rows("/home", 1), version=1)
    finally:
        await store.close()


async def test_journals_are_compacted_and_read_back_whole(tmp_path: Path) -> None:
    store = await opened(tmp_path)
    big = [AggregateRow("links", DAY, (f"/page/{i}", "x" * 40), 1, float(i)) for i in range(300)]
    try:
        await session(store, "a")
        for version in range(1, 41):
            await store.set_contribution("a", "fold", big[: 200 + version], version=version)
            await store.merge_facts("a", {f"f{version}": "v" * 100})
        written = journal_of(tmp_path, "a").stat().st_size
        line = len(json.dumps([["links", DAY, ["/page/0", "x" * 40], 1, 0.0]] * 240))
        unfolded = await store.unfolded_sessions("fold")
    finally:
        await store.close()
    # forty contributions of ~240 rows were written: the journal holds a few at most
    assert written < 4 * line + COMPACT_SLACK
    store = await opened(tmp_path)
    try:
        links = await store.aggregate("links", DAY, DAY, group_by=(0,))
        assert links == {(r.dims[0],): Tally(1, r.total) for r in big[:240]}
        facts = await store.session_facts("a")
        assert facts == SessionFacts({f"f{v}": "v" * 100 for v in range(1, 41)}, 40)
        assert await store.unfolded_sessions("fold") == unfolded == []
    finally:
        await store.close()


async def test_clearing_is_durable_and_a_crash_midway_is_finished(tmp_path: Path) -> None:
    store = await opened(tmp_path)
    try:
        await session(store, "a")
        await session(store, "b")
        await store.set_contribution("a", "k", rows("/home", 1))
        await store.merge_facts("b", {"f": 1})
        old = [journal_of(tmp_path, "a").read_bytes(), journal_of(tmp_path, "b").read_bytes()]
        await store.clear_aggregates()
        assert not journal_of(tmp_path, "a").exists()
        assert await store.set_contribution("a", "k", rows("/cart", 2))
    finally:
        await store.close()
    store = await opened(tmp_path)
    try:
        assert await totals(store, "clicks") == {("/cart",): Tally(2, 0.0)}
        assert await store.session_facts("b") == SessionFacts({}, 0)
    finally:
        await store.close()
    # a crash after the next epoch was written, before the old journals were deleted
    journal_of(tmp_path, "a", 1).write_bytes(old[0])
    journal_of(tmp_path, "b", 1).write_bytes(old[1])
    (tmp_path / EPOCH_FILE).write_text(json.dumps({"epoch": 2, "swept": False}))
    store = await opened(tmp_path)
    try:
        assert await totals(store, "clicks") == {("/cart",): Tally(2, 0.0)}
        assert await store.session_facts("b") == SessionFacts({}, 0)
        assert not journal_of(tmp_path, "a", 1).exists()
        assert not journal_of(tmp_path, "b", 1).exists()
        assert json.loads((tmp_path / EPOCH_FILE).read_text())["swept"] is True
    finally:
        await store.close()


async def test_a_trim_or_a_log_read_leaves_the_journal_alone(tmp_path: Path) -> None:
    store = await opened(tmp_path, StoreLimits(max_events_per_session=1))
    try:
        await session(store, "a")
        await store.set_contribution("a", "k", rows("/home", 1))
        batch = make_batch("a", "w1", [meta(T0 + 5, "https://shop.example/next")], seq=2)
        assert await store.append(batch)  # trimmed: the log is written anew
    finally:
        await store.close()
    store = await opened(tmp_path)
    try:
        await store.fetch_events("a", None, 10, None)  # the log's first read cleans up
        assert journal_of(tmp_path, "a").exists()
        assert await totals(store, "clicks") == {("/home",): Tally(1, 0.0)}
    finally:
        await store.close()


async def test_a_full_disk_fails_the_write_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await opened(tmp_path)
    try:
        await session(store, "a")
        await store.set_contribution("a", "k", rows("/home", 1), version=1)
        real_fsync = os.fsync

        def full(fd: int) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "fsync", full)
        with pytest.raises(StoreUnavailable, match=r"aggregates of session 'a'.*No space"):
            await store.set_contribution("a", "k", rows("/cart", 5), version=2)
        with pytest.raises(StoreUnavailable):
            await store.merge_facts("a", {"f": 1})
        monkeypatch.setattr(os, "fsync", real_fsync)
        # nothing of the failed writes counts
        assert await totals(store, "clicks") == {("/home",): Tally(1, 0.0)}
        assert await store.session_facts("a") == SessionFacts({}, 0)
    finally:
        await store.close()
    store = await opened(tmp_path)
    try:
        assert await totals(store, "clicks") == {("/home",): Tally(1, 0.0)}
        assert await store.session_facts("a") == SessionFacts({}, 0)
        assert await store.set_contribution("a", "k", rows("/cart", 5), version=2)
        assert await totals(store, "clicks") == {("/cart",): Tally(5, 0.0)}
    finally:
        await store.close()


async def test_facts_that_are_no_json_are_refused_naming_why(tmp_path: Path) -> None:
    store = await opened(tmp_path)
    try:
        await session(store, "a")
        with pytest.raises(ValueError, match="finite numbers"):
            await store.merge_facts("a", {"f": float("nan")})
        assert await store.session_facts("a") == SessionFacts({}, 0)
    finally:
        await store.close()


async def test_removals_racing_contributions_leave_exact_totals(tmp_path: Path) -> None:
    store = await opened(tmp_path)
    sids = [f"s{i}" for i in range(8)]
    try:
        for sid in sids:
            await session(store, sid)
        calls = [
            store.set_contribution(sid, f"k{n}", rows("/home", 1)) for sid in sids for n in range(4)
        ]
        calls += [store.merge_facts(sid, {"f": 1}) for sid in sids]
        calls.insert(9, store.delete_sessions(sids[:4]))
        await asyncio.gather(*calls)
        # what is left: the contributions of the sessions kept, whatever the order
        kept = 4 * len(sids[4:])
        for sid in sids[4:]:
            assert await store.session_facts(sid) == SessionFacts({"f": 1}, 1)
        assert await totals(store, "clicks") == {("/home",): Tally(kept, 0.0)}
        for sid in sids[:4]:
            assert await store.session_facts(sid) is None
    finally:
        await store.close()
    store = await opened(tmp_path)
    try:
        assert await totals(store, "clicks") == {("/home",): Tally(kept, 0.0)}
    finally:
        await store.close()
    with pytest.raises(StoreError, match="not open"):
        await store.clear_aggregates()
    with pytest.raises(StoreError, match="not open"):
        await store.set_contribution("s4", "k9", rows("/home", 1))


async def test_the_epoch_file_comes_before_the_first_journal(tmp_path: Path) -> None:
    """Without ``aggregates.json`` an open looks for no journal, so the
    first aggregates write makes it, and reopening still reads them."""
    store = await opened(tmp_path)
    try:
        await session(store, "s1")
        assert not (tmp_path / EPOCH_FILE).exists()
        assert await store.set_contribution("s1", "k", rows("/a", 2), version=1)
        assert json.loads((tmp_path / EPOCH_FILE).read_text()) == {"epoch": 1, "swept": True}
        assert journal_of(tmp_path, "s1").exists()
    finally:
        await store.close()
    store = await opened(tmp_path)
    try:
        assert (await totals(store, "clicks"))[("/a",)].count == 2
    finally:
        await store.close()
