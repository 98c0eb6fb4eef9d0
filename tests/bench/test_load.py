"""The benches' check of who set the pace of an HTTP load run."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_load", BENCH / "_load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("client", "server", "bound"),
    [
        (0.97, 0.41, True),  # a Python client at its ceiling
        (0.80, 0.19, True),  # a busy machine: below the ceiling, yet busier than the server
        (0.05, 0.98, False),  # wrk against a saturated server
        (0.30, 0.60, False),
        (0.90, 0.95, True),
    ],
)
def test_a_run_is_client_bound_when_the_client_set_the_pace(
    load: ModuleType, client: float, server: float, bound: bool
) -> None:
    assert load.Usage(client, server).client_bound is bound


def _cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` from /proc, independently of the bench code."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_watch_measures_a_busy_server_and_an_idle_client(load: ModuleType) -> None:
    spin = "import time\nt = time.monotonic() + 5\nwhile time.monotonic() < t: pass"
    server = subprocess.Popen([sys.executable, "-c", spin])
    try:
        time.sleep(0.2)
        before, started = _cpu_seconds(server.pid), time.monotonic()
        with load.Watch(server.pid) as watch:
            time.sleep(1.0)
        spent = (_cpu_seconds(server.pid) - before) / (time.monotonic() - started)
    finally:
        server.kill()
        server.wait()
    # On a loaded machine the spinner gets what the scheduler gives it, so
    # the watch is held to /proc's own account rather than to a fixed share.
    assert spent > 0.02
    assert watch.usage.server_cores == pytest.approx(spent, rel=0.3, abs=0.05)
    assert watch.usage.client_cores < min(0.2, watch.usage.server_cores)
    assert not watch.usage.client_bound
