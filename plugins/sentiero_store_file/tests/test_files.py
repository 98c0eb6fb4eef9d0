"""The file store on disk: the lock, the layout, and recovery after a crash."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sentiero_store_file import FileStore
from sentiero_store_file.records import encode_record, scan
from sentiero_store_file.store import MARKER, session_dirname

from sentiero_core.store import StoreError, StoreLimits, StoreUnavailable
from sentiero_core.testing import T0, make_batch, read_all, text_mutation

HOLD_THE_STORE = textwrap.dedent(
    """
    import asyncio, sys
    from sentiero_store_file import FileStore

    async def main():
        store = FileStore(sys.argv[1])
        await store.open()
        print("open", flush=True)
        sys.stdin.readline()  # hold it until told
        await store.close()

    asyncio.run(main())
    """
)


def batch(sid: str, n: int, seq: int | None = None, text: str = "x"):
    return make_batch(sid, "w1", [text_mutation(T0 + n, f"{text}{n}")], seq=seq)


async def opened(root: Path, limits: StoreLimits | None = None) -> FileStore:
    store = FileStore(root, limits)
    await store.open()
    return store


def log_of(root: Path, sid: str) -> Path:
    (log,) = (root / "sessions" / session_dirname(sid)).glob("events-*.log")
    return log


@pytest.mark.asyncio
async def test_a_second_process_is_refused_while_the_first_holds_the_directory(
    tmp_path: Path,
) -> None:
    root = tmp_path / "rec"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_STORE, str(root)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        with pytest.raises(StoreError) as refused:
            await opened(root)
        message = str(refused.value)
        assert f"{root} is in use by another process (pid {holder.pid})" in message
        assert "one process only" in message
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        assert holder.wait(30) == 0
        if holder.stdout is not None:
            holder.stdout.close()
    # once the other process let go, the directory opens
    store = await opened(root)
    await store.close()


@pytest.mark.asyncio
async def test_a_second_store_in_the_same_process_is_refused_too(tmp_path: Path) -> None:
    first = await opened(tmp_path)
    try:
        with pytest.raises(StoreError, match="in use by another process"):
            await opened(tmp_path)
    finally:
        await first.close()
    second = await opened(tmp_path)
    await second.close()
    await second.close()  # closing twice is harmless


@pytest.mark.asyncio
async def test_a_closed_store_says_so(tmp_path: Path) -> None:
    store = await opened(tmp_path)
    await store.close()
    with pytest.raises(StoreError, match="not open"):
        await store.append(batch("s1", 1))
    with pytest.raises(StoreError, match="not open"):
        await store.list_sessions()


@pytest.mark.asyncio
async def test_a_foreign_directory_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match=r"not empty and holds no sentiero-file-store\.json"):
        await opened(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


@pytest.mark.asyncio
async def test_a_newer_format_is_refused(tmp_path: Path) -> None:
    (tmp_path / MARKER).write_text(json.dumps({"format": 2}))
    with pytest.raises(StoreError, match="format 2; this version reads format 1"):
        await opened(tmp_path)


@pytest.mark.asyncio
async def test_a_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    with pytest.raises(StoreError, match="is not a directory"):
        await opened(tmp_path / "f")


@pytest.mark.asyncio
async def test_missing_directories_are_created(tmp_path: Path) -> None:
    store = await opened(tmp_path / "a" / "b")
    await store.append(batch("s1", 1))
    await store.close()
    assert (tmp_path / "a/b" / MARKER).exists()
    assert (tmp_path / "a/b/sessions" / session_dirname("s1") / "summary.json").exists()


@pytest.mark.asyncio
async def test_the_log_is_append_only(tmp_path: Path) -> None:
    store = await opened(tmp_path)
    await store.append(batch("s1", 1))
    log = log_of(tmp_path, "s1")
    before = log.read_bytes()
    await store.append(batch("s1", 2))
    after = log.read_bytes()
    await store.close()
    assert after.startswith(before) and len(after) > len(before)
    assert [r.event_count for r in scan(after)] == [1, 1]


@pytest.mark.asyncio
@pytest.mark.parametrize("cut", [1, 5, 12, -1])
async def test_a_torn_trailing_record_is_ignored_and_cut_off(tmp_path: Path, cut: int) -> None:
    store = await opened(tmp_path)
    await store.append(batch("s1", 1, seq=1))
    await store.append(batch("s1", 2, seq=2))
    await store.close()
    log = log_of(tmp_path, "s1")
    committed = log.read_bytes()
    # A third append crashed while writing its record: part of it reached
    # the disk, its summary never did.
    torn = encode_record(3, "w1", 3, T0 + 3, T0 + 3, 1, b"\x00" * 40)
    log.write_bytes(committed + torn[:cut])

    store = await opened(tmp_path)
    try:
        events = await read_all(store, "s1")
        assert [e["data"]["texts"][0]["value"] for e in events] == ["x1", "x2"]
        assert log.read_bytes() == committed  # recovered on first use
        assert await store.append(batch("s1", 2, seq=2)) is False  # still known
        assert await store.append(batch("s1", 3, seq=3)) is True  # the resend
        events = await read_all(store, "s1")
        assert len(events) == 3
        assert (await store.get_session("s1")).event_count == 3  # type: ignore[union-attr]
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_a_whole_record_without_its_summary_is_not_committed(tmp_path: Path) -> None:
    store = await opened(tmp_path)
    await store.append(batch("s1", 1, seq=1))
    await store.close()
    log = log_of(tmp_path, "s1")
    committed = log.read_bytes()
    # the crash came after the record's fsync, before the summary's rename
    ghost = encode_record(2, "w1", 2, T0 + 2, T0 + 2, 1, b"never acknowledged")
    log.write_bytes(committed + ghost)
    store = await opened(tmp_path)
    try:
        assert len(await read_all(store, "s1")) == 1
        assert await store.append(batch("s1", 2, seq=2)) is True  # the recorder resends it
        assert len(await read_all(store, "s1")) == 2
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_a_damaged_record_ends_the_readable_log(tmp_path: Path) -> None:
    store = await opened(tmp_path)
    for n in (1, 2, 3):
        await store.append(batch("s1", n))
    await store.close()
    log = log_of(tmp_path, "s1")
    data = bytearray(log.read_bytes())
    second = list(scan(bytes(data)))[1]
    data[second.offset + 2] ^= 0xFF  # a bit flipped inside the second batch's blob
    log.write_bytes(bytes(data))
    store = await opened(tmp_path)
    try:
        events = await read_all(store, "s1")
        assert [e["timestamp"] for e in events] == [T0 + 1]
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_a_first_append_that_never_committed_leaves_nothing(tmp_path: Path) -> None:
    store = await opened(tmp_path)
    await store.append(batch("kept", 1))
    await store.close()
    half = tmp_path / "sessions" / session_dirname("half")
    half.mkdir()
    (half / "events-1.log").write_bytes(encode_record(1, "w1", None, T0, T0, 1, b"x"))
    (tmp_path / "trash" / "gone").mkdir(parents=True)  # a deletion cut short
    store = await opened(tmp_path)
    try:
        assert [s.session_id for s in (await store.list_sessions()).sessions] == ["kept"]
        assert not half.exists()
        assert not (tmp_path / "trash").exists()
        assert await store.append(batch("half", 1)) is True
        assert await store.count_sessions() == 2
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_an_interrupted_trim_keeps_the_committed_log(tmp_path: Path) -> None:
    limits = StoreLimits(max_events_per_session=2)
    store = await opened(tmp_path, limits)
    for n in (1, 2, 3):
        await store.append(batch("s1", n))
    await store.close()
    log = log_of(tmp_path, "s1")
    # a later trim wrote the next generation, then crashed before its summary
    stray = log.with_name("events-99.log")
    stray.write_bytes(b"half a trim")
    store = await opened(tmp_path, limits)
    try:
        assert [e["timestamp"] for e in await read_all(store, "s1")] == [T0 + 2, T0 + 3]
        assert sorted(p.name for p in log.parent.iterdir()) == [log.name, "summary.json"]
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_a_damaged_summary_is_a_store_error_naming_it(tmp_path: Path) -> None:
    store = await opened(tmp_path)
    await store.append(batch("s1", 1))
    await store.close()
    summary = tmp_path / "sessions" / session_dirname("s1") / "summary.json"
    summary.write_text("{")
    with pytest.raises(StoreError, match=f"damaged summary {summary}"):
        await opened(tmp_path)
    # the failed open let go of the lock
    summary.unlink()
    store = await opened(tmp_path)
    await store.close()


@pytest.mark.asyncio
async def test_a_cancelled_append_still_lands_whole(tmp_path: Path) -> None:
    store = await opened(tmp_path)
    try:
        task = asyncio.ensure_future(store.append(batch("s1", 1, seq=1)))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await store.append(batch("s1", 2, seq=2))
        assert [e["timestamp"] for e in await read_all(store, "s1")] == [T0 + 1, T0 + 2]
    finally:
        await store.close()
    store = await opened(tmp_path)
    try:
        assert len(await read_all(store, "s1")) == 2
        assert os.path.getsize(log_of(tmp_path, "s1")) == (await store.stats()).stored_bytes
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_a_full_disk_fails_the_append_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await opened(tmp_path)
    try:
        await store.append(batch("s1", 1, seq=1))
        real_fsync = os.fsync

        def full(fd: int) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "fsync", full)
        with pytest.raises(StoreUnavailable, match=r"cannot append to session 's1'.*No space"):
            await store.append(batch("s1", 2, seq=2))
        with pytest.raises(StoreUnavailable):
            await store.append(batch("s2", 1, seq=1))
        monkeypatch.setattr(os, "fsync", real_fsync)
        # the failed appends were not acknowledged: their resends are stored once
        assert await store.append(batch("s1", 2, seq=2)) is True
        assert await store.append(batch("s2", 1, seq=1)) is True
        assert [e["timestamp"] for e in await read_all(store, "s1")] == [T0 + 1, T0 + 2]
    finally:
        await store.close()
    store = await opened(tmp_path)
    try:
        assert [e["timestamp"] for e in await read_all(store, "s1")] == [T0 + 1, T0 + 2]
        assert (await store.get_session("s1")).event_count == 2  # type: ignore[union-attr]
        assert await store.count_sessions() == 2
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_reads_while_trims_replace_the_log_see_whole_batches(tmp_path: Path) -> None:
    store = await opened(tmp_path, StoreLimits(max_events_per_session=4))
    try:
        await store.append(batch("s1", 0))
        seen: list[list[int]] = []

        async def reader() -> None:
            for _ in range(60):
                page = await store.read_events("s1", limit=100)
                seen.append([e["timestamp"] - T0 for e in page.events])
                await asyncio.sleep(0)

        async def writer() -> None:
            for n in range(1, 40):
                two = [text_mutation(T0 + 2 * n, "a"), text_mutation(T0 + 2 * n + 1, "b")]
                await store.append(make_batch("s1", "w1", two))

        await asyncio.gather(reader(), reader(), writer())
        assert seen
        for times in seen:
            assert times == sorted(times) and len(times) <= 4
            # never half of a two-event batch, except the oldest one trimmed mid-batch
            assert all(t + 1 in times for t in times[1:] if t % 2 == 0)
        assert [e["timestamp"] - T0 for e in await read_all(store, "s1")] == [76, 77, 78, 79]
        (log,) = (tmp_path / "sessions" / session_dirname("s1")).glob("events-*.log")
        assert log.name != "events-1.log"  # trimming replaced it
    finally:
        await store.close()
