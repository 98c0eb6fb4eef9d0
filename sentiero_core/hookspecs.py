"""Every hook a Sentiero plugin can implement.

pluggy calls hooks synchronously. A hook that needs I/O returns an
awaitable (or an async callable), and the core resolves it with
:func:`sentiero_core.utils.await_me_maybe`; that is why no hook here uses
``firstresult``: a coroutine is never ``None``. An implementation may accept
any subset of a hook's arguments, by name.

``settings`` is always the application's :class:`sentiero_core.Settings`; a
plugin's own section is ``settings.plugin(<name>)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pluggy import HookimplMarker, HookspecMarker

if TYPE_CHECKING:
    from quart import Quart, Request

    from .settings import Settings
    from .store import Batch, SessionSummary, Store

hookspec = HookspecMarker("sentiero")
hookimpl = HookimplMarker("sentiero")


# -- lifecycle -------------------------------------------------------------


@hookspec
def startup(app: Quart, settings: Settings, store: Store) -> Any:
    """Called once when the app starts serving, after the store is open.

    Return ``None`` or an awaitable (awaited before the first request).
    Use it to create background tasks or warm caches.
    """


@hookspec
def shutdown(app: Quart, settings: Settings, store: Store) -> Any:
    """Called once when the app stops serving, before the store is closed.

    Return ``None`` or an awaitable. Errors are logged and do not stop the
    other plugins' shutdown.
    """


@hookspec
def register_settings() -> dict[str, type] | None:
    """Declare this plugin's settings section(s), called once at start-up.

    Return ``{section_name: dataclass_type}``. The core reads the section
    ``[plugins.<section_name>]`` of the TOML file, ``SENTIERO_PLUGINS__<SECTION>__<KEY>``
    environment variables and ``plugins={section: {...}}`` keyword arguments,
    validates them against the dataclass (unknown keys and bad values stop
    start-up) and hands back the instance through ``settings.plugin(name)``.
    Synchronous.
    """


# -- storage ---------------------------------------------------------------


@hookspec
def store_factories() -> dict[str, Any] | None:
    """Offer stores by URL scheme, called once when the app picks its store.

    Return ``{scheme: factory}`` where ``factory(url: str, settings) -> Store``
    builds an unopened store (the core calls ``open()``). Schemes are
    compared case-insensitively; two plugins claiming one scheme is an error.
    Synchronous.
    """


# -- collection ------------------------------------------------------------


@hookspec
def collect_batch(
    batch: Batch, summary: SessionSummary | None, store: Store, settings: Settings
) -> Any:
    """Called at ingest for every batch right after the store accepted it
    (not for a repeated delivery the store ignored, see ``Store.append``).

    ``batch`` holds the redacted events and their digest; ``summary`` is the
    session summary after the append (``None`` if the store evicted it).
    Collectors keep their own aggregates through ``store``. Return ``None``
    or an awaitable. An exception is logged and does not fail the request:
    the batch is already stored.
    """


@hookspec
def after_batch_stored(batch: Batch, settings: Settings) -> Any:
    """Notification that a batch was stored and collected.

    Called after every ``collect_batch``; for live views, webhooks and
    metrics. Return ``None`` or an awaitable; exceptions are logged.
    """


# -- analysis --------------------------------------------------------------


@hookspec
def register_analyzers(settings: Settings) -> list[Any] | None:
    """Offer analyzers, called once at start-up.

    Return a list of objects with ``name: str``, ``title: str`` and
    ``analyze(store, params: dict) -> dict | Awaitable[dict]`` that compute a
    report from the aggregates collectors keep. The dashboard lists them
    and ``<mount>/api/analyzers/<name>`` serves their reports. Synchronous.
    """


# -- redaction -------------------------------------------------------------


@hookspec
def redaction_rules(settings: Settings) -> list[Any] | None:
    """Offer redaction rules, called once at start-up.

    Return a list of callables ``rule(events: list[dict], context: dict) ->
    list[dict] | None``. A rule may change ``events`` in place (returning
    ``None``) or return a replacement list. ``context`` carries
    ``session_id``, ``window_id`` and ``settings``; for the first rule also
    ``events_json`` (the events as orjson bytes, else ``None``), and a rule
    that changed nothing may set ``context["events_changed"] = False`` to
    spare a re-serialization. Rules run on every batch
    before it reaches the store, in plugin order. Redaction fails closed: a
    rule that raises drops the whole batch (the request gets a 422 and the
    error is logged), nothing unredacted is stored. Synchronous rules only:
    they sit on the ingest hot path.
    """


# -- dashboard -------------------------------------------------------------


@hookspec
def dashboard_panels(settings: Settings) -> list[Any] | None:
    """Offer dashboard navigation entries, called once at start-up.

    Return a list of :class:`sentiero_core.Panel` (``name``, ``title``,
    ``path`` relative to the mount, ``order``). The navigation bar lists
    them sorted by ``order``. Synchronous.
    """


@hookspec
def register_routes(settings: Settings) -> list[Any] | None:
    """Add routes under the mount, called once at start-up.

    Return a list of :class:`sentiero_core.Route` (``rule`` relative to the
    mount such as ``"/analytics/pages"``, an async ``view`` taking the
    Quart route arguments, ``methods``, and ``public``). Non-public routes
    sit behind the dashboard's ``auth_callback`` and CSRF checks like every
    built-in page. Templates live in ``<package>/templates`` and static
    files in ``<package>/static`` (served at ``<mount>/-/static/<plugin>/``).
    Synchronous.
    """


@hookspec
def extra_template_vars(template: str, request: Request, settings: Settings) -> Any:
    """Add variables to a dashboard template's context, called per render.

    Return a dict, or an awaitable that resolves to one. Later plugins
    override earlier ones for the same key; core variables win over both.
    """
