"""The contract suite itself: it catches buggy stores, explains a missing
fixture, and runs the same in pytest-asyncio's strict and auto modes.

Each case writes a third party's test module into a temporary project and
runs pytest on it in a subprocess, exactly as an outside user would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

HEADER = """
from __future__ import annotations

from dataclasses import replace

import pytest
import pytest_asyncio

from sentiero_core.store import (
    EventPage,
    MemoryStore,
    SessionPage,
    StoreCapabilities,
    StoreLimits,
    decode_blob,
    decode_cursor,
    encode_cursor,
)
from sentiero_core.testing import StoreContract, reachable_data
"""

FIXTURE = """
    @pytest_asyncio.fixture
    async def store(self, store_limits: StoreLimits):
        s = {cls}(limits=store_limits)
        await s.open()
        yield s
        await s.close()
"""

GHOST_STORE = '''
class GhostStore(MemoryStore):
    """Bug: deleting forgets a session everywhere except in listings."""

    def __init__(self, limits=None):
        super().__init__(limits)
        self._ghosts = {}

    async def delete_sessions(self, session_ids):
        for sid in session_ids:
            summary = await self.get_session(sid)
            if summary is not None:
                self._ghosts[sid] = summary
        return await super().delete_sessions(session_ids)

    async def list_sessions(self, filter=None, cursor=None, limit=50):
        page = await super().list_sessions(filter, cursor, limit)
        if page.next is not None:
            return page
        ghosts = [g for g in self._ghosts.values() if filter is None or filter.matches(g)]
        return SessionPage(sessions=page.sessions + ghosts, next=None)
'''

ARRIVAL_ORDER_STORE = '''
class ArrivalOrderStore(MemoryStore):
    """Bug: trusts batches to arrive in time order and concatenates them."""

    async def read_events(self, session_id, cursor=None, limit=1000, window_id=None):
        if limit < 1:
            raise ValueError("limit must be at least 1")
        batches = sorted(self._batches.get(session_id, []), key=lambda b: b.seq)
        events = [
            e for b in batches if window_id is None or b.window_id == window_id
            for e in decode_blob(b.blob)
        ]
        start = decode_cursor(cursor)[0] if cursor is not None else 0
        end = start + limit
        nxt = encode_cursor([end]) if end < len(events) else None
        return EventPage(events=events[start:end], next=nxt)
'''

REPEATING_STORE = '''
class RepeatingStore(MemoryStore):
    """Bug: stores every delivery of a batch, repeats included."""

    async def append(self, batch):
        return await super().append(replace(batch, seq=None))
'''


TRASH_STORE = '''
class TrashStore(MemoryStore):
    """Bug: removing a session moves its batches to a trash, never emptied."""

    def __init__(self, limits=None):
        super().__init__(limits)
        self._trash = []

    def _drop(self, session_id):
        self._trash.append(self._batches.get(session_id, []))
        return super()._drop(session_id)
'''

RAW_STORAGE = """
    @pytest.fixture
    def raw_storage(self, store):
        async def everything():
            return reachable_data(store)

        return everything
"""

PERSISTENT_STORE = '''
class ClaimsToPersist(MemoryStore):
    """Bug: declares itself persistent, and the test module has no reopen_store."""

    capabilities = StoreCapabilities(persistent=True)
'''

UNCOMPRESSED_STORE = '''
class UncompressedStore(MemoryStore):
    """Correct: counts its batches as plain JSON and promises no compression."""

    capabilities = StoreCapabilities()

    async def stats(self):
        stats = await super().stats()
        return replace(stats, stored_bytes=stats.raw_bytes)
'''

OVERPROMISING_STORE = '''
class Overpromising(MemoryStore):
    """Bug: promises a compression ratio it does not reach."""

    capabilities = StoreCapabilities(max_compression_ratio=0.01)
'''


def run_suite(
    project: Path, module: str, *, mode: str = "strict", args: tuple[str, ...] = ()
) -> tuple[int, str]:
    """Run pytest on ``module`` in a fresh project directory; (exit code, output)."""
    project.mkdir(parents=True, exist_ok=True)
    (project / "pytest.ini").write_text(
        textwrap.dedent(f"""
            [pytest]
            asyncio_mode = {mode}
            asyncio_default_fixture_loop_scope = function
            filterwarnings = error
        """)
    )
    (project / "test_third_party.py").write_text(module)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rfE",
            "-p",
            "no:cacheprovider",
            "test_third_party.py",
            *args,
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


def counts(output: str) -> dict[str, int]:
    """{"passed": n, "failed": n, ...} from pytest's last summary line."""
    return {
        word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|skipped|errors?)", output)
    }


def failed_tests(output: str) -> set[str]:
    return set(re.findall(r"^FAILED \S+::(test_\w+)", output, re.MULTILINE))


def test_suite_fails_a_store_that_lists_deleted_sessions(tmp_path: Path) -> None:
    module = (
        HEADER
        + GHOST_STORE
        + "\n\nclass TestGhostStore(StoreContract):"
        + FIXTURE.format(cls="GhostStore")
    )
    code, output = run_suite(tmp_path, module)
    assert code == 1, output
    failed = failed_tests(output)
    assert "test_deleted_session_is_gone_everywhere" in failed, output
    assert "test_session_cursor_survives_deleting_its_session" in failed, output
    # The suite's asserts are rewritten: the failure shows the compared values.
    assert re.search(r"AssertionError: .*\n.*assert .* not in \[", output), output
    assert counts(output)["passed"] > 80, output


def test_suite_fails_a_store_returning_events_out_of_order(tmp_path: Path) -> None:
    module = (
        HEADER
        + ARRIVAL_ORDER_STORE
        + "\n\nclass TestArrivalStore(StoreContract):"
        + (FIXTURE.format(cls="ArrivalOrderStore"))
    )
    code, output = run_suite(tmp_path, module)
    assert code == 1, output
    failed = failed_tests(output)
    assert {
        "test_batches_out_of_time_order_read_in_timestamp_order",
        "test_overlapping_windows_interleave_by_timestamp",
        "test_events_out_of_order_within_a_batch_are_sorted",
    } <= failed, output
    assert counts(output)["passed"] > 80, output


def test_suite_fails_a_store_that_stores_repeated_batches(tmp_path: Path) -> None:
    module = (
        HEADER
        + REPEATING_STORE
        + "\n\nclass TestRepeatingStore(StoreContract):"
        + FIXTURE.format(cls="RepeatingStore")
    )
    code, output = run_suite(tmp_path, module, args=("-k", "seq or repeat"))
    assert code == 1, output
    failed = failed_tests(output)
    assert {
        "test_repeated_seq_is_stored_once",
        "test_concurrent_repeats_are_stored_once",
        "test_repeat_of_a_trimmed_session_changes_nothing",
    } <= failed, output
    assert "test_batches_without_seq_are_never_repeats" not in failed, output


@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_suite_passes_the_memory_store_in_each_asyncio_mode(tmp_path: Path, mode: str) -> None:
    module = (
        HEADER
        + "\n\nclass TestMemory(StoreContract):"
        + FIXTURE.format(cls="MemoryStore")
        + RAW_STORAGE
    )
    code, output = run_suite(tmp_path, module, mode=mode, args=("-rs",))
    assert code == 0, output
    assert counts(output).get("failed", 0) == 0, output
    assert counts(output)["passed"] > 100, output
    # Only the tests that need reopen_store skip (the memory store is not
    # persistent: delivery, robustness, records, aggregates), and the two
    # for stores without the records or the aggregates capability.
    assert counts(output)["skipped"] == 6, output
    assert output.count("does not provide `reopen_store` (not persistent)") == 4, output
    assert output.count("the store keeps records") == 1, output
    assert output.count("the store keeps aggregates") == 1, output


def test_suite_fails_a_store_that_leaves_deleted_data_behind(tmp_path: Path) -> None:
    module = (
        HEADER
        + TRASH_STORE
        + "\n\nclass TestTrashStore(StoreContract):"
        + FIXTURE.format(cls="TrashStore")
        + RAW_STORAGE
    )
    code, output = run_suite(tmp_path, module, args=("-k", "trace or gone or removes"))
    assert code == 1, output
    failed = failed_tests(output)
    assert {
        "test_deleted_session_leaves_no_trace",
        "test_erased_session_leaves_no_trace",
        "test_purged_session_leaves_no_trace",
        "test_evicted_session_leaves_no_trace",
    } <= failed, output
    assert "left traces in the backend's storage" in output, output
    # Everything the store answers is right: only the raw storage shows the bug.
    assert "test_deleted_session_is_gone_everywhere" not in failed, output
    assert "test_erase_removes_matching_sessions" not in failed, output


def test_traces_are_skipped_without_raw_storage(tmp_path: Path) -> None:
    module = HEADER + TRASH_STORE + "\n\nclass TestTrash(StoreContract):"
    module += FIXTURE.format(cls="TrashStore")
    code, output = run_suite(tmp_path, module, args=("-k", "trace", "-rs"))
    assert code == 0, output
    assert counts(output)["skipped"] == 5, output
    assert "does not provide `raw_storage`" in output, output


def test_a_persistent_store_without_reopen_store_fails(tmp_path: Path) -> None:
    module = (
        HEADER
        + PERSISTENT_STORE
        + "\n\nclass TestClaimsToPersist(StoreContract):"
        + FIXTURE.format(cls="ClaimsToPersist")
    )
    code, output = run_suite(tmp_path, module, args=("-k", "reopen"))
    assert code == 1, output
    assert counts(output)["errors"] == 2, output
    assert "ClaimsToPersist declares itself persistent" in output, output
    assert "TestClaimsToPersist must provide the `reopen_store` fixture" in output, output


def test_a_store_keeping_plain_json_passes(tmp_path: Path) -> None:
    module = (
        HEADER
        + UNCOMPRESSED_STORE
        + "\n\nclass TestUncompressed(StoreContract):"
        + FIXTURE.format(cls="UncompressedStore")
    )
    code, output = run_suite(tmp_path, module, args=("-k", "stats or compression or capab"))
    assert code == 0, output
    assert counts(output)["passed"] >= 2, output
    assert counts(output)["skipped"] == 1, output  # the declared ratio: none declared


def test_a_store_is_held_to_its_declared_compression(tmp_path: Path) -> None:
    module = (
        HEADER
        + OVERPROMISING_STORE
        + "\n\nclass TestOverpromising(StoreContract):"
        + FIXTURE.format(cls="Overpromising")
    )
    code, output = run_suite(tmp_path, module, args=("-k", "compression"))
    assert code == 1, output
    assert failed_tests(output) == {"test_declared_compression_ratio_is_met"}, output
    assert "declares max_compression_ratio=0.01" in output, output


def test_suite_runs_with_a_sync_store_fixture(tmp_path: Path) -> None:
    module = HEADER + textwrap.dedent("""

        class TestSyncFixture(StoreContract):
            @pytest.fixture
            def store(self, store_limits):
                return MemoryStore(limits=store_limits)
    """)
    code, output = run_suite(tmp_path, module, args=("-k", "limits or max_ or fixture"))
    assert code == 0, output
    assert counts(output)["passed"] >= 5, output


def test_missing_store_fixture_is_explained(tmp_path: Path) -> None:
    module = HEADER + "\n\nclass TestForgotTheFixture(StoreContract):\n    pass\n"
    code, output = run_suite(tmp_path, module, args=("-x",))
    assert code == 1, output
    assert "NotImplementedError" in output, output
    assert "TestForgotTheFixture must provide the `store` fixture" in output, output


def test_limits_ignored_by_the_fixture_are_explained(tmp_path: Path) -> None:
    module = HEADER + textwrap.dedent("""

        class TestNoLimits(StoreContract):
            @pytest_asyncio.fixture
            async def store(self):
                yield MemoryStore()
    """)
    code, output = run_suite(tmp_path, module, args=("-k", "max_sessions"))
    assert code == 1, output
    assert "build the store in your `store` fixture with the `store_limits`" in output, output


def test_core_imports_without_pytest() -> None:
    """The core must not need pytest; only sentiero_core.testing does."""
    script = textwrap.dedent("""
        import importlib, pkgutil, sys
        sys.modules["pytest"] = None
        sys.modules["pytest_asyncio"] = None
        import sentiero_core
        for info in pkgutil.walk_packages(sentiero_core.__path__, "sentiero_core."):
            if info.name.startswith("sentiero_core.testing"):
                continue
            importlib.import_module(info.name)
        try:
            import sentiero_core.testing
        except ImportError:
            print("testing needs pytest")
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "testing needs pytest"


def test_every_contract_test_says_what_it_ensures() -> None:
    from sentiero_core.testing import StoreContract

    names = [n for n in dir(StoreContract) if n.startswith("test_")]
    assert len(names) > 50
    for name in names:
        doc = getattr(StoreContract, name).__doc__ or ""
        assert doc.startswith("Ensure that "), name


def test_no_contract_test_shadows_another() -> None:
    from sentiero_core.testing import StoreContract

    seen: dict[str, str] = {}
    for cls in StoreContract.__mro__:
        for name in vars(cls):
            if name.startswith("test_"):
                assert name not in seen, f"{name} is defined in {seen[name]} and {cls.__name__}"
                seen[name] = cls.__name__
