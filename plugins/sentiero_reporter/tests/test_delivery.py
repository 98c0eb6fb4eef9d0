"""Delivery: background thread, bounded queue, sync mode, flush, fail-safety."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sentiero_reporter
from sentiero_reporter import TestTransport

from .conftest import ADDRESS

PLUGIN_ROOT = Path(__file__).resolve().parents[1]


class Gate:
    """A transport that holds every delivery until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.delivered: list[tuple[str, dict[str, Any]]] = []
        self.thread_names: list[str] = []

    def post(self, kind: str, payload: dict[str, Any]) -> None:
        self.thread_names.append(threading.current_thread().name)
        self.entered.set()
        self.release.wait(10)
        self.delivered.append((kind, payload))


class Raising:
    def __init__(self) -> None:
        self.calls = 0

    def post(self, kind: str, payload: dict[str, Any]) -> None:
        self.calls += 1
        raise ConnectionError("transport down")


def test_async_delivery_happens_on_a_background_thread() -> None:
    gate = Gate()
    sentiero_reporter.configure(**ADDRESS, transport=gate)
    started = time.perf_counter()
    assert sentiero_reporter.track("a") is True
    assert time.perf_counter() - started < 0.5  # the caller did not wait
    assert gate.entered.wait(5)
    assert gate.thread_names == ["sentiero-reporter"]
    gate.release.set()
    assert sentiero_reporter.flush(5) is True
    assert sentiero_reporter.stats()["sent"] == 1


def test_a_full_queue_drops_and_counts(caplog: pytest.LogCaptureFixture) -> None:
    gate = Gate()
    sentiero_reporter.configure(**ADDRESS, transport=gate, max_queue=3)
    sentiero_reporter.track("first")
    assert gate.entered.wait(5)  # the worker holds "first"; the queue is empty again
    results = [sentiero_reporter.track(f"e{n}") for n in range(10)]
    assert results == [True] * 10  # handed on; the drop is counted, not raised
    stats = sentiero_reporter.stats()
    assert stats["dropped"] == 7 and stats["queued"] == 3
    assert "queue full" in caplog.text
    gate.release.set()
    assert sentiero_reporter.flush(5)
    assert [p["name"] for _, p in gate.delivered] == ["first", "e0", "e1", "e2"]
    assert sentiero_reporter.stats() == {"sent": 4, "failed": 0, "dropped": 7, "queued": 0}


def test_sync_mode_delivers_before_returning() -> None:
    transport = TestTransport()
    sentiero_reporter.configure(**ADDRESS, transport=transport, async_delivery=False)
    sentiero_reporter.track("now")
    assert [p["name"] for _, p in transport.deliveries] == ["now"]


@pytest.mark.parametrize("async_delivery", [True, False])
def test_a_raising_transport_is_counted_not_raised(async_delivery: bool) -> None:
    transport = Raising()
    sentiero_reporter.configure(**ADDRESS, transport=transport, async_delivery=async_delivery)
    assert sentiero_reporter.notify(ValueError("x")) is True
    assert sentiero_reporter.track("y") is True
    sentiero_reporter.flush(5)
    assert transport.calls == 2
    assert sentiero_reporter.stats()["failed"] == 2
    # the worker survived its failures
    assert sentiero_reporter.track("z") is True
    sentiero_reporter.flush(5)
    assert transport.calls == 3


def test_a_hanging_transport_does_not_block_the_app_and_flush_is_bounded() -> None:
    gate = Gate()
    sentiero_reporter.configure(**ADDRESS, transport=gate, max_queue=2)
    started = time.perf_counter()
    for n in range(20):
        sentiero_reporter.track(f"e{n}")
    assert time.perf_counter() - started < 0.5
    started = time.perf_counter()
    assert sentiero_reporter.flush(0.3) is False
    assert 0.25 < time.perf_counter() - started < 2
    gate.release.set()


def test_interpreter_exit_flushes_within_the_bound(tmp_path: Path) -> None:
    """Ensure that queued reports are delivered at exit, and a hanging one
    delays exit by at most flush_timeout."""
    script = textwrap.dedent(
        """
        import sys, time
        sys.path.insert(0, sys.argv[1])
        import sentiero_reporter
        out = open(sys.argv[2], "a")

        class Slow:
            def post(self, kind, payload):
                time.sleep(float(sys.argv[3]))
                out.write(payload["name"] + "\\n"); out.flush()

        sentiero_reporter.configure(endpoint="http://127.0.0.1:9/s", ingest_key="k",
                                    project="p", transport=Slow(), flush_timeout=1.0)
        for n in range(3):
            sentiero_reporter.track(f"e{n}")
        """
    )
    out = tmp_path / "delivered.txt"
    fast = subprocess.run(
        [sys.executable, "-c", script, str(PLUGIN_ROOT), str(out), "0.01"],
        timeout=30,
        capture_output=True,
        text=True,
    )
    assert fast.returncode == 0, fast.stderr
    assert out.read_text().split() == ["e0", "e1", "e2"]
    out.unlink()
    started = time.perf_counter()
    hung = subprocess.run(
        [sys.executable, "-c", script, str(PLUGIN_ROOT), str(out), "60"],
        timeout=30,
        capture_output=True,
        text=True,
    )
    assert hung.returncode == 0, hung.stderr
    assert time.perf_counter() - started < 5
    assert not out.exists() or out.read_text() == ""


@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_delivery_after_fork_starts_a_new_worker() -> None:
    if not hasattr(os, "fork"):
        pytest.skip("no fork here")
    transport = TestTransport()
    sentiero_reporter.configure(**ADDRESS, transport=transport)
    sentiero_reporter.track("parent")
    sentiero_reporter.flush(5)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            sentiero_reporter.track("child")
            ok = sentiero_reporter.flush(5) and transport.deliveries[-1][1]["name"] == "child"
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    os.close(read)
    assert answer == b"1"


def test_the_log_transport_logs_and_the_null_transport_drops(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    caplog.set_level(logging.INFO, logger="sentiero_reporter")
    sentiero_reporter.configure(**ADDRESS, transport="log", async_delivery=False)
    sentiero_reporter.track("logged", plan="pro")
    assert "would send events" in caplog.text and '"plan": "pro"' in caplog.text
    sentiero_reporter.configure(**ADDRESS, transport="null", async_delivery=False)
    assert sentiero_reporter.track("dropped") is True
    assert sentiero_reporter.stats()["sent"] == 1


def test_capture_notifications_restores_the_reporter() -> None:
    configured = sentiero_reporter.configure(**ADDRESS, transport="null")
    with sentiero_reporter.capture_notifications() as sent:
        sentiero_reporter.track("captured")
    assert sentiero_reporter.get_reporter() is configured
    assert [kind for kind, _ in sent] == ["events"]


def test_capture_notifications_works_without_configuration() -> None:
    with sentiero_reporter.capture_notifications(project="tests") as sent:
        sentiero_reporter.notify(ValueError("x"))
    assert sent[0][1]["project"] == "tests"
