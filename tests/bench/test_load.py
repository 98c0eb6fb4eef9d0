"""The benches' check of who set the pace of an HTTP load run."""

from __future__ import annotations

import importlib.util
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


def test_watch_measures_a_busy_server_and_an_idle_client(load: ModuleType) -> None:
    spin = "import time\nt = time.monotonic() + 5\nwhile time.monotonic() < t: pass"
    server = subprocess.Popen([sys.executable, "-c", spin])
    try:
        time.sleep(0.2)
        with load.Watch(server.pid) as watch:
            time.sleep(1.0)
    finally:
        server.kill()
        server.wait()
    assert watch.usage.server_cores > 0.5
    assert watch.usage.client_cores < 0.2
    assert not watch.usage.client_bound
