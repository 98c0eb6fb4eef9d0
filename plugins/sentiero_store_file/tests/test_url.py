"""``file:`` URLs: what the factory accepts and how it refuses the rest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sentiero_store_file import FileStore, build_store, directory_from_url

from sentiero_core import Settings, SettingsError
from sentiero_core.store import StoreLimits


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("file:///var/lib/sentiero", "/var/lib/sentiero"),
        ("FILE:///var/lib/sentiero", "/var/lib/sentiero"),
        ("file://localhost/var/lib/sentiero", "/var/lib/sentiero"),
        ("file:///my%20data/rec", "/my data/rec"),
        ("file:/var/lib/sentiero", "/var/lib/sentiero"),
    ],
)
def test_absolute_urls(url: str, expected: str) -> None:
    assert directory_from_url(url) == Path(expected)


def test_a_relative_url_is_made_absolute_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert directory_from_url("file:recordings") == tmp_path / "recordings"
    assert directory_from_url("file:data/rec") == tmp_path / "data/rec"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("file://host/var/lib/sentiero", "not on host 'host'"),
        ("file:///var/lib/sentiero?mode=x", "no query or fragment"),
        ("file:///var/lib/sentiero#x", "no query or fragment"),
        ("file:///", "names no directory"),
        ("file://", "names no directory"),
        ("file:", "names no directory"),
        ("file:///a%00b", "NUL"),
        ("sqlite:///x.db", "not a file: URL"),
    ],
)
def test_bad_urls_are_settings_errors_naming_store_url(url: str, says: str) -> None:
    with pytest.raises(SettingsError, match="store_url") as caught:
        build_store(url, Settings())
    assert says in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_the_factory_passes_the_limits(tmp_path: Path) -> None:
    store = build_store(
        f"file://{tmp_path}/rec", Settings(max_sessions=7, max_events_per_session=9)
    )
    assert isinstance(store, FileStore)
    assert store.directory == tmp_path / "rec"
    assert store.limits == StoreLimits(max_sessions=7, max_events_per_session=9)
    assert not (tmp_path / "rec").exists()  # built, not opened


def test_hook_store_factories() -> None:
    from sentiero_core import get_plugin_manager

    pm = get_plugin_manager()
    factories: dict[str, object] = {}
    for offered in pm.hook.store_factories():
        factories.update(offered)
    assert factories["file"] is build_store


def test_serve_with_a_bad_url_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    sentiero = Path(sys.executable).parent / "sentiero"
    done = subprocess.run(
        [str(sentiero), "serve", "--port", "9", "--store", "file://elsewhere/rec"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 2
    assert "store_url" in done.stderr and "not on host 'elsewhere'" in done.stderr
    assert "Traceback" not in done.stderr
