"""The plugin manager: built-ins, entry points, the env switch, listings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sentiero_core import (
    PluginError,
    Settings,
    call_each,
    create_app,
    get_plugin_manager,
    hookimpl,
)
from sentiero_core.plugins import DEFAULT_PLUGINS, describe_plugins


def _fake_distribution(root: Path, module_source: str, name: str = "fakeplug") -> None:
    """A distribution on sys.path declaring one `sentiero` entry point."""
    (root / f"{name}_mod.py").write_text(module_source)
    info = root / f"sentiero_{name}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: sentiero-{name}\nVersion: 1.2.3\n"
    )
    (info / "entry_points.txt").write_text(f"[sentiero]\n{name} = {name}_mod\n")


GOOD = """
from sentiero_core import hookimpl

@hookimpl
def dashboard_panels():
    return []
"""

MISSPELLED = """
from sentiero_core import hookimpl

@hookimpl
def dashbord_panels():
    return []
"""


def test_builtins_are_plugins() -> None:
    pm = get_plugin_manager(load_entrypoints=False)
    for name in DEFAULT_PLUGINS:
        assert pm.get_plugin(name) is not None


def test_entry_points_load_and_are_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_distribution(tmp_path, GOOD)
    monkeypatch.syspath_prepend(str(tmp_path))
    pm = get_plugin_manager(environ={})
    assert pm.get_plugin("fakeplug") is not None
    listing = {e["name"]: e for e in describe_plugins(pm)}
    assert listing["sentiero-fakeplug"]["version"] == "1.2.3"
    assert listing["sentiero-fakeplug"]["hooks"] == ["dashboard_panels"]
    assert "store_factories" in listing["sentiero-core"]["hooks"]


def test_a_misspelled_hook_fails_loudly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_distribution(tmp_path, MISSPELLED, name="typoplug")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginError, match="dashbord_panels"):
        get_plugin_manager(environ={})


def test_env_switch_turns_autoloading_off_or_picks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_distribution(tmp_path, GOOD, name="oneplug")
    _fake_distribution(tmp_path, GOOD, name="otherplug")
    monkeypatch.syspath_prepend(str(tmp_path))
    none = get_plugin_manager(environ={"SENTIERO_LOAD_PLUGINS": ""})
    assert none.get_plugin("oneplug") is None and none.get_plugin("otherplug") is None
    assert none.get_plugin(DEFAULT_PLUGINS[0]) is not None
    picked = get_plugin_manager(environ={"SENTIERO_LOAD_PLUGINS": "otherplug"})
    assert picked.get_plugin("otherplug") is not None and picked.get_plugin("oneplug") is None
    with pytest.raises(PluginError, match="'ghost', which is not installed"):
        get_plugin_manager(environ={"SENTIERO_LOAD_PLUGINS": "ghost"})


def test_a_plugin_that_fails_to_import_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_distribution(tmp_path, "raise ImportError('missing dependency xyz')", name="brokenplug")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginError, match="missing dependency xyz"):
        get_plugin_manager(environ={})


@pytest.mark.asyncio
async def test_api_lists_plugins_with_versions_and_hooks() -> None:
    app = create_app(Settings(store_url="memory://"))
    async with app.test_app():
        response = await app.test_client().get("/sentiero/api/plugins")
        body = await response.get_json()
    names = [p["name"] for p in body["plugins"]]
    assert names[0] == "sentiero-core"
    assert "sentiero-store-sqlite" in names
    core = body["plugins"][0]
    assert {"name", "version", "hooks", "plugins"} <= set(core)
    assert "register_routes" in core["hooks"]


def test_call_each_hands_back_each_result_or_error_with_its_plugin() -> None:
    """Ensure that one plugin's exception neither skips the others nor
    loses its name, and that implementations are called one at a time."""
    pm = get_plugin_manager(load_entrypoints=False)
    called: list[str] = []

    class Failing:
        @hookimpl
        def dashboard_panels(self) -> list[Any]:
            called.append("failing")
            raise RuntimeError("broken")

    class Working:
        @hookimpl(trylast=True)
        def dashboard_panels(self) -> list[Any]:
            called.append("working")
            return []

    pm.register(Failing(), name="failing")
    pm.register(Working(), name="working")
    results = call_each(pm.hook.dashboard_panels, settings=Settings())
    assert called == []  # lazily: nothing runs before it is asked for
    by_plugin = {r.plugin_name: r for r in results}
    assert called[-1] == "working" and "failing" in called
    assert isinstance(by_plugin["failing"].error, RuntimeError)
    with pytest.raises(RuntimeError, match="broken"):
        by_plugin["failing"].get()
    assert by_plugin["working"].get() == []


def test_a_hook_wrapper_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_distribution(
        tmp_path,
        "from sentiero_core import hookimpl\n\n"
        "@hookimpl(wrapper=True)\n"
        "def dashboard_panels():\n"
        "    return (yield)\n",
        name="wrapping",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginError, match="'wrapping' wraps the hook 'dashboard_panels'"):
        get_plugin_manager(environ={"SENTIERO_LOAD_PLUGINS": "wrapping"})
