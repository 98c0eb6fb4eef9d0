"""The ingest benches measure ingest: the servers they start load the store
plugin only, so an installed collector (sentiero-analytics) or reporter does
not change their figures."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.abuse import serve_environ

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _plugin_names(environ: dict[str, str]) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-m", "sentiero_core.cli", "plugins", "--json"],
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {entry["name"] for entry in json.loads(out)}


def test_installed_plugins_would_be_loaded_without_the_pin() -> None:
    """What the pin guards against: analytics and the reporter are installed."""
    environ = serve_environ()
    del environ["SENTIERO_LOAD_PLUGINS"]
    assert {"sentiero-analytics", "sentiero-reporter"} <= _plugin_names(environ)


def test_soak_and_abuse_serve_with_the_sqlite_store_only() -> None:
    assert _plugin_names(serve_environ()) == {"sentiero-core", "sentiero-store-sqlite"}


def test_the_ingest_bench_app_has_the_sqlite_store_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    # ingest_app sets the variable for its server process: setenv records the
    # value to restore afterwards, delenv starts the test without it
    monkeypatch.setenv("SENTIERO_LOAD_PLUGINS", "")
    monkeypatch.delenv("SENTIERO_LOAD_PLUGINS")
    monkeypatch.setenv("BENCH_RESULTS_DIR", str(tmp_path))
    ingest = importlib.import_module("ingest")
    try:
        app = ingest.ingest_app(str(tmp_path / "ingest.db"))
        names = {name for name, _ in app.extensions["sentiero"].pm.list_name_plugin()}
    finally:
        sys.modules.pop("ingest", None)
    assert "store_sqlite" in names
    assert not {"analytics", "reporter"} & names, names
