"""The session_markers and register_commands hooks."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

import pytest

from sentiero_core import Settings, create_app, get_plugin_manager, hookimpl
from sentiero_core.cli import build_parser, main
from sentiero_core.plugins import PluginError
from sentiero_core.testing import T0, make_batch, text_mutation


@pytest.fixture
def pm() -> Iterator[Any]:
    yield get_plugin_manager(load_entrypoints=False)


@pytest.mark.asyncio
async def test_hook_session_markers(pm: Any, caplog: pytest.LogCaptureFixture) -> None:
    seen: list[tuple[str, str | None]] = []

    class Plugin:
        @hookimpl
        def session_markers(self, summary: Any, window: str | None) -> Any:
            seen.append((summary.session_id, window))

            async def inner() -> list[dict[str, Any]]:
                return [
                    {"at": T0 + 8_000, "label": "late <b>", "kind": "server-error", "url": "/x"},
                    {"at": T0 + 2_000, "label": "early"},
                ]

            return inner()

    class Broken:
        @hookimpl
        def session_markers(self) -> list[dict[str, Any]]:
            return [{"at": "soon"}]

    pm.register(Plugin(), name="markers-test")
    pm.register(Broken(), name="markers-broken")
    try:
        app = create_app(Settings(store_url="memory://"), plugin_manager=pm)
        store = app.extensions["sentiero"].store
        async with app.test_app():
            await store.append(
                make_batch("s1", "w1", [text_mutation(T0, "a"), text_mutation(T0 + 10_000, "b")])
            )
            page = await app.test_client().get("/sentiero/sessions/s1")
            body = await page.get_data(as_text=True)
    finally:
        pm.unregister(name="markers-test")
        pm.unregister(name="markers-broken")
    assert seen == [("s1", "w1")]
    assert 0 < body.index("</a> early") < body.index("</a> late &lt;b&gt;")  # time order
    assert "window=w1&amp;t=2.0" in body and "window=w1&amp;t=8.0" in body
    assert 'style="left: 80.0%"' in body and 'class="plugin-marker server-error"' in body
    assert 'href="/x"' in body
    assert "session_markers hook of plugin 'markers-broken' failed" in caplog.text


def test_hook_register_commands(pm: Any, capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[str] = []

    class Plugin:
        @hookimpl
        def register_commands(self, subparsers: Any) -> None:
            hello = subparsers.add_parser("hello", help="say hello")
            hello.add_argument("name")
            hello.set_defaults(run=lambda args: calls.append(args.name) or 3)

    pm.register(Plugin(), name="commands-test")
    try:
        parser = build_parser(pm)
        args = parser.parse_args(["hello", "ada"])
        assert args.run(args) == 3 and calls == ["ada"]
        assert "say hello" in parser.format_help()
    finally:
        pm.unregister(name="commands-test")


def test_a_plugin_command_taking_a_core_name_is_refused(pm: Any) -> None:
    class Plugin:
        @hookimpl
        def register_commands(self, subparsers: Any) -> None:
            subparsers.add_parser("serve")

    pm.register(Plugin(), name="clash-test")
    try:
        with pytest.raises(PluginError, match=r"clash-test.*taken"):
            build_parser(pm)
    finally:
        pm.unregister(name="clash-test")


def test_main_runs_a_plugin_command(monkeypatch: pytest.MonkeyPatch) -> None:
    manager = get_plugin_manager(load_entrypoints=False)

    class Plugin:
        @hookimpl
        def register_commands(self, subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
            subparsers.add_parser("seven").set_defaults(run=lambda args: 7)

    manager.register(Plugin(), name="seven")
    monkeypatch.setattr("sentiero_core.cli.get_plugin_manager", lambda: manager)
    assert main(["seven"]) == 7
