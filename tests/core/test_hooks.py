"""One test per hook the core calls itself (ingest hooks: tests/ingest)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from quart import jsonify

from sentiero_core import (
    Panel,
    PluginError,
    Route,
    Settings,
    create_app,
    get_plugin_manager,
    hookimpl,
    render,
)
from sentiero_core.settings import SettingsError
from sentiero_core.store import MemoryStore


@pytest.fixture
def pm() -> Iterator[Any]:
    manager = get_plugin_manager(load_entrypoints=False)
    yield manager


def _register(pm: Any, plugin: Any, name: str) -> None:
    pm.register(plugin, name=name)


@pytest.mark.asyncio
async def test_hook_startup(pm: Any) -> None:
    seen: list[Any] = []

    class Plugin:
        @hookimpl
        def startup(self, app: Any, store: Any) -> Any:
            async def inner() -> None:
                seen.append((app, store))

            return inner()

    pm.register(Plugin(), name="startup-test")
    try:
        app = create_app(Settings(store_url="memory://"), plugin_manager=pm)
        async with app.test_app():
            assert seen == [(app, app.extensions["sentiero"].store)]
    finally:
        pm.unregister(name="startup-test")


@pytest.mark.asyncio
async def test_hook_shutdown(pm: Any) -> None:
    seen: list[str] = []

    class Plugin:
        @hookimpl
        def shutdown(self, settings: Settings) -> None:
            seen.append(settings.mount_path)

    class Failing:
        @hookimpl
        def shutdown(self) -> None:
            raise RuntimeError("boom")

    pm.register(Plugin(), name="shutdown-test")
    pm.register(Failing(), name="shutdown-failing")
    try:
        app = create_app(Settings(store_url="memory://"), plugin_manager=pm)
        async with app.test_app():
            assert seen == []
        assert seen == ["/sentiero"]
    finally:
        pm.unregister(name="shutdown-test")
        pm.unregister(name="shutdown-failing")


@dataclasses.dataclass
class GreeterSettings:
    greeting: str = "hello"
    times: int = 1


def test_hook_register_settings(pm: Any) -> None:
    class Plugin:
        @hookimpl
        def register_settings(self) -> dict[str, type]:
            return {"greeter": GreeterSettings}

    pm.register(Plugin(), name="settings-test")
    try:
        app = create_app(
            Settings(store_url="memory://", plugins={"greeter": {"times": 3}}), plugin_manager=pm
        )
        section = app.extensions["sentiero"].settings.plugin("greeter")
        assert section == GreeterSettings(greeting="hello", times=3)
        with pytest.raises(SettingsError, match=r"plugins\.greeter\.times: expected an integer"):
            create_app(
                Settings(store_url="memory://", plugins={"greeter": {"times": "x"}}),
                plugin_manager=pm,
            )
        with pytest.raises(SettingsError, match=r"plugins\.greeter: unknown option"):
            create_app(
                Settings(store_url="memory://", plugins={"greeter": {"colour": 1}}),
                plugin_manager=pm,
            )
        with pytest.raises(SettingsError, match="no installed plugin declares"):
            create_app(Settings(store_url="memory://", plugins={"nobody": {}}), plugin_manager=pm)
    finally:
        pm.unregister(name="settings-test")


def test_hook_store_factories(pm: Any) -> None:
    built: list[str] = []

    class Plugin:
        @hookimpl
        def store_factories(self) -> dict[str, Any]:
            def factory(url: str, settings: Settings) -> MemoryStore:
                built.append(url)
                return MemoryStore()

            return {"Scratch": factory}

    pm.register(Plugin(), name="factory-test")
    try:
        app = create_app(Settings(store_url="scratch://here"), plugin_manager=pm)
        assert built == ["scratch://here"]
        assert isinstance(app.extensions["sentiero"].store, MemoryStore)
        with pytest.raises(SettingsError, match="no installed store handles 'nope'"):
            create_app(Settings(store_url="nope://x"), plugin_manager=pm)
        pm.register(Plugin(), name="factory-twin")
        with pytest.raises(SettingsError, match="both offer the scheme 'scratch'") as twice:
            create_app(Settings(store_url="scratch://here"), plugin_manager=pm)
        assert "'factory-test'" in str(twice.value) and "'factory-twin'" in str(twice.value)
    finally:
        pm.unregister(name="factory-test")
        if pm.has_plugin("factory-twin"):
            pm.unregister(name="factory-twin")


@pytest.mark.asyncio
async def test_hook_register_analyzers(pm: Any) -> None:
    class Counter:
        name = "session-count"
        title = "Session count"

        async def analyze(self, store: Any, params: dict[str, str]) -> dict[str, Any]:
            if params.get("fail"):
                raise ValueError("fail was asked for")
            return {"sessions": await store.count_sessions()}

    class Plugin:
        @hookimpl
        def register_analyzers(self) -> list[Any]:
            return [Counter()]

    pm.register(Plugin(), name="analyzer-test")
    try:
        app = create_app(Settings(store_url="memory://"), plugin_manager=pm)
        async with app.test_app():
            client = app.test_client()
            listing = await (await client.get("/sentiero/api/analyzers")).get_json()
            assert listing == {"analyzers": [{"name": "session-count", "title": "Session count"}]}
            report = await client.get("/sentiero/api/analyzers/session-count")
            assert await report.get_json() == {
                "analyzer": "session-count",
                "report": {"sessions": 0},
            }
            page = await (await client.get("/sentiero/analyzers")).get_data(as_text=True)
            assert '<li data-analyzer="session-count">' in page
            assert "<strong>Session count</strong>" in page
            assert 'href="/sentiero/api/analyzers/session-count"' in page
            assert '<a href="/sentiero/analyzers" aria-current="page">Analyzers</a>' in page
            bad = await client.get("/sentiero/api/analyzers/session-count?fail=1")
            assert bad.status_code == 400
            assert (await client.get("/sentiero/api/analyzers/none")).status_code == 404
    finally:
        pm.unregister(name="analyzer-test")


def test_hook_dashboard_panels(pm: Any) -> None:
    class Plugin:
        @hookimpl
        def dashboard_panels(self) -> list[Panel]:
            return [Panel("zeta", "Zeta", "/zeta", order=500), Panel("alpha", "Alpha", "/a", 5)]

    pm.register(Plugin(), name="panel-test")
    try:
        app = create_app(Settings(store_url="memory://"), plugin_manager=pm)
        names = [p.name for p in app.extensions["sentiero"].panels]
        assert names.index("alpha") < names.index("zeta")
    finally:
        pm.unregister(name="panel-test")


@pytest.mark.asyncio
async def test_hook_register_routes(pm: Any) -> None:
    async def hello(name: str) -> Any:
        return jsonify({"hello": name})

    class Plugin:
        @hookimpl
        def register_routes(self) -> list[Route]:
            return [
                Route("/hello/<name>", hello, name="test.hello"),
                Route("/open/<name>", hello, public=True, name="test.open"),
            ]

    pm.register(Plugin(), name="routes-test")
    try:
        settings = Settings(store_url="memory://", auth_callback=lambda request: False)
        app = create_app(settings, plugin_manager=pm)
        async with app.test_app():
            client = app.test_client()
            assert (await client.get("/sentiero/hello/ada")).status_code == 403
            response = await client.get("/sentiero/open/ada")
            assert await response.get_json() == {"hello": "ada"}
    finally:
        pm.unregister(name="routes-test")


@pytest.mark.asyncio
async def test_hook_extra_template_vars(pm: Any, tmp_path: Any) -> None:
    async def page() -> str:
        return await render("extra_vars_test.html", given="core")

    class Plugin:
        @hookimpl
        def extra_template_vars(self, template: str) -> Any:
            async def inner() -> dict[str, str]:
                return {"from_plugin": f"plugin:{template}", "given": "plugin"}

            return inner

        @hookimpl
        def register_routes(self) -> list[Route]:
            return [Route("/extra", page, name="test.extra")]

    pm.register(Plugin(), name="extra-test")
    try:
        app = create_app(Settings(store_url="memory://"), plugin_manager=pm)
        from jinja2 import ChoiceLoader, DictLoader

        app.jinja_env.loader = ChoiceLoader(
            [
                DictLoader({"extra_vars_test.html": "{{ from_plugin }}|{{ given }}"}),
                app.jinja_env.loader,
            ]
        )
        async with app.test_app():
            body = await (await app.test_client().get("/sentiero/extra")).get_data(as_text=True)
            assert body == "plugin:extra_vars_test.html|core"
    finally:
        pm.unregister(name="extra-test")


class Named:
    def __init__(self, name: str) -> None:
        self.name, self.title = name, name.title()

    def analyze(self, store: Any, params: Any) -> dict[str, Any]:
        return {}


@pytest.mark.parametrize(
    ("hook", "make", "kind"),
    [
        ("register_analyzers", Named, "analyzer"),
        ("dashboard_panels", lambda name: Panel(name, name, f"/{name}"), "panel"),
    ],
)
def test_two_analyzers_or_panels_with_one_name_stop_start_up(
    pm: Any, hook: str, make: Any, kind: str
) -> None:
    """Ensure that a second analyzer or panel never silently hides the
    first: start-up stops and names both plugins."""

    def plugin(name: str) -> Any:
        return type(name, (), {hook: staticmethod(hookimpl(lambda: [make("pages")]))})()

    pm.register(plugin("first"), name="plugin-one")
    pm.register(plugin("second"), name="plugin-two")
    try:
        with pytest.raises(PluginError) as info:
            create_app(Settings(store_url="memory://"), plugin_manager=pm)
        message = str(info.value)
        assert f"two {kind}s are named 'pages'" in message
        assert "'plugin-one'" in message and "'plugin-two'" in message
    finally:
        pm.unregister(name="plugin-one")
        pm.unregister(name="plugin-two")


def test_a_panel_may_not_take_a_built_in_name(pm: Any) -> None:
    class Plugin:
        @hookimpl
        def dashboard_panels(self) -> list[Panel]:
            return [Panel("sessions", "Mine", "/mine")]

    pm.register(Plugin(), name="squatter")
    try:
        with pytest.raises(PluginError, match=r"'squatter'.*'sentiero_core\.dashboard\.routes'"):
            create_app(Settings(store_url="memory://"), plugin_manager=pm)
    finally:
        pm.unregister(name="squatter")


def test_an_object_that_is_not_an_analyzer_is_named(pm: Any) -> None:
    class Plugin:
        @hookimpl
        def register_analyzers(self) -> list[Any]:
            return [{"name": "dict"}]

    pm.register(Plugin(), name="confused")
    try:
        with pytest.raises(PluginError, match=r"plugin 'confused' registered .* as an analyzer"):
            create_app(Settings(store_url="memory://"), plugin_manager=pm)
    finally:
        pm.unregister(name="confused")


@pytest.mark.asyncio
async def test_the_analyzers_page_says_when_there_are_none(pm: Any) -> None:
    app = create_app(Settings(store_url="memory://"), plugin_manager=pm)
    async with app.test_app():
        page = await (await app.test_client().get("/sentiero/analyzers")).get_data(as_text=True)
    assert 'id="no-analyzers"' in page


@pytest.mark.asyncio
async def test_hook_sessions_removed(pm: Any, caplog: pytest.LogCaptureFixture) -> None:
    from sentiero_core.store import SessionFilter
    from sentiero_core.testing import T0, identify, make_batch, text_mutation

    seen: list[tuple[str, list[str], Any, str]] = []

    class Failing:
        @hookimpl
        def sessions_removed(self, session_ids: list[str]) -> None:
            raise RuntimeError("plugin bug")

    class Plugin:
        @hookimpl
        def sessions_removed(
            self, session_ids: list[str], reason: str, store: Any, settings: Settings
        ) -> Any:
            async def inner() -> None:
                # the store no longer has them when the hook runs
                assert [await store.get_session(s) for s in session_ids] == [None] * len(
                    session_ids
                )
                seen.append((reason, sorted(session_ids), store, settings.mount_path))

            return inner()

    pm.register(Failing(), name="removed-failing")
    pm.register(Plugin(), name="removed-test")
    try:
        app = create_app(Settings(store_url="memory://", max_sessions=3), plugin_manager=pm)
        store = app.extensions["sentiero"].store
        async with app.test_app():
            for i in range(5):
                await store.append(make_batch(f"s{i}", "w", [text_mutation(T0 + i, "x")]))
            await store.append(make_batch("u", "w", [identify(T0 + 9, "u1", {})]))
            assert await store.delete_sessions(["s4", "nope"]) == 1
            assert await store.erase(SessionFilter(user_id="u1")) == 1
            assert await store.purge_before(T0 + 100) == 1
            assert [(r, ids) for r, ids, _s, _m in seen] == [
                ("evicted", ["s0"]),
                ("evicted", ["s1"]),
                ("evicted", ["s2"]),
                ("deleted", ["s4"]),
                ("erased", ["u"]),
                ("purged", ["s3"]),
            ]
            assert all(s is store and m == "/sentiero" for _r, _i, s, m in seen)
            assert "removed-failing" in caplog.text and "plugin bug" in caplog.text
        # not serving: the hook belongs to the running app
        await store.append(make_batch("late", "w", [text_mutation(T0, "x")]))
        await store.delete_sessions(["late"])
        assert len(seen) == 6
    finally:
        pm.unregister(name="removed-test")
        pm.unregister(name="removed-failing")
