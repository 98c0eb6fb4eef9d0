"""A store factory that refuses its URL stops ``sentiero serve`` with one
clean line and exit status 2, as a bad setting does: no traceback.

The factories come from real plugins: the SQLite store, and a third-party
plugin made visible to the subprocess through a ``.dist-info`` folder on
its path, the way an installed distribution is found.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sentiero_core import Settings, SettingsError, get_plugin_manager, hookimpl
from sentiero_core.store_selection import build_store

PICKY_PLUGIN = """
from sentiero_core import hookimpl


def build(url, settings):
    raise ValueError(f"picky:// needs a bucket name, {url!r} has none")


@hookimpl
def store_factories():
    return {"picky": build}
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A folder holding the ``picky_store`` plugin, installed as far as
    ``importlib.metadata`` can tell."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "picky_store.py").write_text(PICKY_PLUGIN)
    info = site / "picky_store-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: picky-store\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[sentiero]\npicky_store = picky_store\n")
    return site


def serve(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTIERO_")}
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "sentiero_core.cli", "serve", "--port", "1", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=site,
        timeout=60,
    )


def test_a_factory_value_error_is_a_configuration_error(site: Path) -> None:
    result = serve(site, "--store", "picky://")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "sentiero: configuration error: store_url: 'picky' store refused the URL: "
        "picky:// needs a bucket name, 'picky://' has none"
    )


def test_a_factory_settings_error_is_reported_as_it_is(site: Path) -> None:
    result = serve(site, "--store", "sqlite://db.example.com/x.db")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("sentiero: configuration error: store_url: 'sqlite://db.example.com")
    assert "names a host" in last


def _refuse(url: str, settings: Settings) -> None:
    raise ValueError("no such bucket")


class PickyPlugin:
    @hookimpl
    def store_factories(self) -> dict[str, Any]:
        return {"picky": _refuse}


def test_build_store_turns_a_value_error_into_a_settings_error() -> None:
    pm = get_plugin_manager(environ={"SENTIERO_LOAD_PLUGINS": ""})
    pm.register(PickyPlugin())
    with pytest.raises(SettingsError, match="store_url: 'picky' store refused the URL: no such"):
        build_store(pm, Settings(store_url="picky://x"))
