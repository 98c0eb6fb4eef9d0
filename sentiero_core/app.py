"""The Quart application: settings, plugins, store, routes and templates."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pluggy
from hypercorn.middleware import ProxyFixMiddleware
from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader, select_autoescape
from quart import Quart, Response, request

from .plugins import PluginError, call_each, get_plugin_manager
from .removal import hook_listener
from .routing import Panel, Route
from .security import check_access, check_csrf, csrf_token, relative_location, security_headers
from .settings import Settings, load_settings
from .static_files import send_static
from .store import Store, StoreError
from .store_selection import build_store
from .types import Analyzer, RedactionRule

log = logging.getLogger("sentiero")

PACKAGE_DIR = Path(__file__).parent
STATIC_DIR = PACKAGE_DIR / "static"
#: The ingest route's endpoint, which :mod:`.ingest.direct` may answer past Quart.
INGEST_ENDPOINT = "sentiero.ingest_events"
TEMPLATES_DIR = PACKAGE_DIR / "templates"


class Sentiero:
    """The running app's state, at ``app.extensions["sentiero"]`` and from
    :func:`get_state` inside a request: ``settings``, the plugin manager
    ``pm``, the opened ``store``, and what plugins registered at start-up
    (``routes`` by endpoint, ``panels`` in navigation order,
    ``redaction_rules`` in order, ``analyzers`` by name, ``plugin_static``
    folders by plugin name). Plugins read it; they do not change it."""

    def __init__(self, settings: Settings, pm: pluggy.PluginManager, store: Store | None) -> None:
        self.settings = settings
        self.pm = pm
        self._store = store
        self.routes: dict[str, Route] = {}
        self.panels: list[Panel] = []
        self.redaction_rules: list[RedactionRule] = []
        self.analyzers: dict[str, Analyzer] = {}
        self.plugin_static: dict[str, Path] = {}

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the store is opened when the app starts serving")
        return self._store

    def redact_payload(self, payload: Any, *, session_id: str = "", window_id: str = "") -> Any:
        """``payload`` (any JSON value) redacted by the same rules as the
        recorded events; raises :class:`~sentiero_core.RedactionFailed`
        when a rule fails (docs/privacy.md). For plugins that store or
        forward data of their own, such as error reports."""
        from .ingest.pipeline import redact_payload

        return redact_payload(
            payload,
            self.settings,
            self.redaction_rules,
            session_id=session_id,
            window_id=window_id,
        )

    # -- the data lifecycle (docs/privacy.md) --------------------------------

    async def purge_expired(self, *, by: str | None = None) -> int:
        """Remove the sessions whose last activity is older than
        ``retention_period`` now (``ValueError`` when it is not set); the
        number removed. Reported to ``sessions_removed`` (``"purged"``) and
        to ``audit_log`` (``sessions_purged``, even when nothing went)."""
        from .lifecycle import plan_purge, purge

        plan = await plan_purge(self.store, self.settings)
        return await purge(self.store, self.settings, plan, by=_who(by))

    async def erase_sessions(self, *session_ids: str, by: str | None = None) -> int:
        """Erase these sessions with everything kept about them; the number
        erased (unknown ids count nothing). Reported to ``sessions_removed``
        (``"erased"``) and to ``audit_log`` (``sessions_erased``)."""
        from .lifecycle import erase, erasure_filter

        f = erasure_filter(self.settings, session_ids=session_ids)
        return await erase(self.store, self.settings, f, by=_who(by))

    async def erase_where(
        self,
        *,
        user_id: str | None = None,
        ip: str | None = None,
        url_contains: str | None = None,
        before: Any = None,
        by: str | None = None,
    ) -> int:
        """Erase every session matching all the criteria given: the
        identified ``user_id`` (exact), the client address ``ip`` (compared
        as stored: truncated to /24 or /48 with ``anonymize_ip``), a visited
        URL containing ``url_contains`` (case-insensitive), started
        ``before`` (a ``datetime``, ``date`` or ms). At least one is required
        (``ValueError``). The number erased; reported and audited like
        :meth:`erase_sessions`. :meth:`count_where` counts first."""
        from .lifecycle import erase, erasure_filter

        f = erasure_filter(
            self.settings, user_id=user_id, ip=ip, url_contains=url_contains, before=before
        )
        return await erase(self.store, self.settings, f, by=_who(by))

    async def count_where(
        self,
        *,
        user_id: str | None = None,
        ip: str | None = None,
        url_contains: str | None = None,
        before: Any = None,
    ) -> int:
        """How many sessions :meth:`erase_where` with the same criteria would
        erase now."""
        from .lifecycle import erasure_filter

        f = erasure_filter(
            self.settings, user_id=user_id, ip=ip, url_contains=url_contains, before=before
        )
        return await self.store.count_sessions(f)


@contextlib.asynccontextmanager
async def open_sentiero(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    plugin_manager: pluggy.PluginManager | None = None,
) -> AsyncIterator[Sentiero]:
    """Sentiero outside a server, for scripts and jobs: the store opened
    (built from ``settings.store_url`` unless ``store`` is given), the
    plugins loaded and their ``sessions_removed`` hook listening, closed on
    exit. No route is served and no ``startup`` hook runs. ``settings``
    defaults to :func:`load_settings`::

        async with open_sentiero(Settings(store_url="sqlite:///sentiero.db")) as sentiero:
            await sentiero.erase_where(user_id="u-42")
    """
    pm = plugin_manager or get_plugin_manager()
    settings = _with_plugin_sections(pm, settings or load_settings())
    state = Sentiero(settings, pm, store if store is not None else build_store(pm, settings))
    await open_store(state.store)
    listener = hook_listener(pm, settings, state.store)
    state.store.add_removal_listener(listener)
    try:
        yield state
    finally:
        try:
            await state.store.close()
        finally:
            state.store.remove_removal_listener(listener)


def _with_plugin_sections(pm: pluggy.PluginManager, settings: Settings) -> Settings:
    sections: dict[str, type] = {}
    for result in call_each(pm.hook.register_settings):
        for name, cls in (result.get() or {}).items():
            if name in sections:
                raise PluginError(f"two plugins declare the settings section {name!r}")
            sections[name] = cls
    return settings.with_plugin_sections(sections)


def _who(by: str | None) -> Any:
    from .audit import FROM_REQUEST

    return FROM_REQUEST if by is None else by


def _claim(owners: dict[str, str], kind: str, name: str, plugin_name: str) -> None:
    """Names of panels and analyzers are unique: a second one would silently
    hide the first, so start-up stops and names both plugins."""
    if name in owners:
        raise PluginError(
            f"two {kind}s are named {name!r}: one from plugin {owners[name]!r}, "
            f"one from plugin {plugin_name!r}"
        )
    owners[name] = plugin_name


def _check_analyzer(analyzer: Any, plugin_name: str) -> None:
    if not isinstance(analyzer, Analyzer) or not isinstance(analyzer.name, str):
        raise PluginError(
            f"plugin {plugin_name!r} registered {analyzer!r} as an analyzer; an analyzer "
            "has name: str, title: str and analyze(store, params) (see sentiero_core.Analyzer)"
        )


def _plugin_dirs(pm: pluggy.PluginManager, sub: str) -> dict[str, Path]:
    """``<package>/<sub>`` for every loaded plugin that has one."""
    found: dict[str, Path] = {}
    for name, plugin in pm.list_name_plugin():
        file = getattr(plugin, "__file__", None)
        if not file or name.startswith("sentiero_core."):
            continue
        folder = Path(file).parent / sub
        if folder.is_dir():
            found[name] = folder
    return found


def create_app(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    plugin_manager: pluggy.PluginManager | None = None,
) -> Quart:
    """Build the Sentiero app. ``settings`` defaults to :func:`load_settings`
    (TOML file from ``$SENTIERO_CONFIG``, then ``SENTIERO_*`` variables).
    Pass ``store`` to use an already built store instead of ``store_url``."""
    pm = plugin_manager or get_plugin_manager()
    settings = _with_plugin_sections(pm, settings or load_settings())

    app = Quart(__name__, static_folder=None, template_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = True
    # Built now so a bad store URL stops start-up here; opened when serving.
    state = Sentiero(settings, pm, store if store is not None else build_store(pm, settings))
    app.extensions["sentiero"] = state

    plugin_templates = _plugin_dirs(pm, "templates")
    app.jinja_env.loader = ChoiceLoader(
        [FileSystemLoader(str(p)) for p in plugin_templates.values()]
        + [
            FileSystemLoader(str(TEMPLATES_DIR)),
            PrefixLoader({"default": FileSystemLoader(str(TEMPLATES_DIR))}, delimiter=":"),
        ]
    )
    app.jinja_env.autoescape = select_autoescape(default=True, default_for_string=True)
    state.plugin_static = _plugin_dirs(pm, "static")

    panel_owners: dict[str, str] = {}
    for result in call_each(pm.hook.dashboard_panels, settings=settings):
        for panel in result.get() or []:
            _claim(panel_owners, "panel", panel.name, result.plugin_name)
            state.panels.append(panel)
    state.panels.sort(key=lambda p: (p.order, p.title))
    for result in call_each(pm.hook.redaction_rules, settings=settings):
        state.redaction_rules.extend(result.get() or [])
    analyzer_owners: dict[str, str] = {}
    for result in call_each(pm.hook.register_analyzers, settings=settings):
        for analyzer in result.get() or []:
            _check_analyzer(analyzer, result.plugin_name)
            _claim(analyzer_owners, "analyzer", analyzer.name, result.plugin_name)
            state.analyzers[analyzer.name] = analyzer

    mount = settings.mount_path
    for result in call_each(pm.hook.register_routes, settings=settings):
        for route in result.get() or []:
            endpoint = route.name or f"{route.view.__module__}.{route.view.__name__}"
            if endpoint in state.routes:
                raise PluginError(
                    f"two routes share the endpoint name {endpoint!r} "
                    f"(the second from plugin {result.plugin_name!r})"
                )
            state.routes[endpoint] = route
            app.add_url_rule(
                mount + route.rule,
                endpoint=endpoint,
                view_func=route.view,
                methods=list(route.methods),
            )
    app.add_url_rule(mount + "/-/static/<path:filename>", "sentiero.static", _static)

    @app.before_request
    async def _guard() -> Any:
        route = state.routes.get(request.endpoint or "")
        if request.endpoint == "sentiero.static" or (route is not None and not route.public):
            await check_access(state.settings)
            if route is not None and route.csrf:
                await check_csrf()
        return None

    @app.after_request
    async def _headers(response: Response) -> Response:
        relative_location(response)
        route = state.routes.get(request.endpoint or "")
        ours = route is not None or request.endpoint == "sentiero.static"
        if not ours:
            return response  # the host app's own pages keep their own headers
        return security_headers(response, dashboard=route is None or not route.public)

    @app.context_processor
    async def _template_vars() -> dict[str, Any]:
        return {
            "csrf_token": csrf_token,
            "panels": state.panels,
            "mount": request.root_path + mount,
            "settings": state.settings,
        }

    ingest = state.routes.get(INGEST_ENDPOINT)
    if ingest is not None:
        from .ingest.direct import DirectIngest

        app.asgi_app = DirectIngest(  # type: ignore[method-assign]
            app, app.asgi_app, mount + ingest.rule
        )
    if settings.trusted_proxy_hops:
        # Hypercorn's middleware rewrites the client, scheme and host of the
        # ASGI scope from the forwarded headers of the trusted hops only
        app.asgi_app = ProxyFixMiddleware(  # type: ignore[method-assign]
            app.asgi_app,
            mode=settings.proxy_mode,  # type: ignore[arg-type]
            trusted_hops=settings.trusted_proxy_hops,
        )

    @app.before_serving
    async def _start() -> None:
        try:
            await open_store(state.store)
            # Added while serving only: one store may serve several apps in turn.
            listener = hook_listener(pm, settings, state.store)
            state.store.add_removal_listener(listener)
            app.extensions["sentiero.removal_listener"] = listener
            for result in call_each(pm.hook.startup, app=app, settings=settings, store=state.store):
                await result.resolve()
        except BaseException as exc:
            # what `sentiero serve` prints: Hypercorn passes on only a string
            app.extensions["sentiero.startup_error"] = exc
            raise

    @app.after_serving
    async def _stop() -> None:
        for result in call_each(pm.hook.shutdown, app=app, settings=settings, store=state.store):
            try:
                await result.resolve()
            except Exception:
                log.exception("the shutdown hook of plugin %r failed", result.plugin_name)
        await state.store.close()
        listener = app.extensions.pop("sentiero.removal_listener", None)
        if listener is not None:
            state.store.remove_removal_listener(listener)

    return app


async def open_store(store: Store) -> None:
    """``store.open()``, with any failure a :class:`StoreError` naming the
    store (a third-party store's ``OSError``, say): the reason is the
    operator's to act on, not a bug to trace."""
    try:
        await store.open()
    except StoreError:
        raise
    except Exception as exc:
        reason = str(exc) or type(exc).__name__
        raise StoreError(f"{type(store).__name__} could not open: {reason}") from exc


#: plugin and core assets are fingerprinted by ``asset_url`` (``?v=``)
STATIC_MAX_AGE_S = 3600


async def _static(filename: str) -> Response:
    """Core assets at ``-/static/<file>``, a plugin's at ``-/static/<plugin>/<file>``.

    :func:`.static_files.send_static` refuses paths that leave the folder
    and answers conditional requests (ETag, Last-Modified, 304, ranges)."""
    state: Sentiero = _state()
    head, _, rest = filename.partition("/")
    base, rel = (
        (state.plugin_static[head], rest) if head in state.plugin_static else (STATIC_DIR, filename)
    )
    return await send_static(base, rel, max_age=STATIC_MAX_AGE_S)


def _state() -> Sentiero:
    from quart import current_app

    return current_app.extensions["sentiero"]  # type: ignore[no-any-return]


def get_state() -> Sentiero:
    """The running app's :class:`Sentiero` state (inside a request)."""
    return _state()


async def render(template: str, **context: Any) -> str:
    """Render a dashboard template with every plugin's extra variables."""
    from quart import render_template

    state = _state()
    extra: dict[str, Any] = {}
    for result in call_each(
        state.pm.hook.extra_template_vars,
        template=template,
        request=request,
        settings=state.settings,
    ):
        extra.update(await result.resolve() or {})
    extra.update(context)
    return await render_template(template, **extra)
