"""Every hook a Sentiero plugin can implement.

pluggy calls hooks synchronously. A hook that needs I/O returns an
awaitable (or an async callable), and the core resolves it with
:func:`sentiero_core.await_me_maybe`; that is why no hook here uses
``firstresult``: a coroutine is never ``None``. Every call site goes through
:func:`sentiero_core.call_each`, one implementation at a time, so hook
wrappers are refused. An implementation may accept any subset of a hook's
arguments, by name. The shapes hooks return are the protocols of
:mod:`sentiero_core.types`; docs/writing-a-plugin.md is the guide.

``settings`` is always the application's :class:`sentiero_core.Settings`; a
plugin's own section is ``settings.plugin(<name>)``.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pluggy import HookimplMarker, HookspecMarker

if TYPE_CHECKING:
    from quart import Quart, Request

    from .routing import Panel, Route
    from .settings import Settings
    from .store import Batch, SessionSummary, Store
    from .types import Analyzer, MaybeAwaitable, RedactionRule, StoreFactory

hookspec = HookspecMarker("sentiero")
hookimpl = HookimplMarker("sentiero")


# -- lifecycle -------------------------------------------------------------


@hookspec
def startup(app: Quart, settings: Settings, store: Store) -> MaybeAwaitable[None]:
    """Called once when the app starts serving, after the store is open.

    Return ``None`` or an awaitable (awaited before the first request).
    Use it to create background tasks or warm caches.
    """


@hookspec
def shutdown(app: Quart, settings: Settings, store: Store) -> MaybeAwaitable[None]:
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
def store_factories() -> Mapping[str, StoreFactory] | None:
    """Offer stores by URL scheme, called once when the app picks its store.

    Return ``{scheme: factory}`` where ``factory(url: str, settings) -> Store``
    (:class:`sentiero_core.StoreFactory`) builds an unopened store (the core
    calls ``open()``); a bad URL raises ``ValueError``. Schemes are
    compared case-insensitively; two plugins claiming one scheme is an error.
    Synchronous.
    """


# -- collection ------------------------------------------------------------


@hookspec
def collect_batch(
    batch: Batch, summary: SessionSummary | None, store: Store, settings: Settings
) -> MaybeAwaitable[None]:
    """Called at ingest for every batch right after the store accepted it
    (not for a repeated delivery the store ignored, see ``Store.append``).

    ``batch`` holds the redacted events and their digest; ``summary`` is the
    session summary after the append (``None`` if the store evicted it).
    Collectors keep their own aggregates through ``store``. Return ``None``
    or an awaitable. An exception is logged and does not fail the request:
    the batch is already stored.
    """


@hookspec
def after_batch_stored(batch: Batch, settings: Settings) -> MaybeAwaitable[None]:
    """Notification that a batch was stored and collected.

    Called after every ``collect_batch``; for live views, webhooks and
    metrics. Return ``None`` or an awaitable; exceptions are logged.
    """


@hookspec
def sessions_removed(
    session_ids: list[str], reason: str, store: Store, settings: Settings
) -> MaybeAwaitable[None]:
    """Notification that sessions left the store, called once per removal
    after it is durable, whichever way they went.

    ``session_ids`` are the sessions that really went (never empty; unknown
    ids asked for are not in it); ``reason`` is ``"deleted"``
    (``delete_sessions``: the dashboard, the API), ``"erased"`` (``erase``,
    a right-to-erasure request), ``"purged"`` (``purge_before``: the
    retention period, ``sentiero purge``) or ``"evicted"`` (``max_sessions``
    while a batch was appended); the constants are in
    :mod:`sentiero_core.store`. Trimming by ``max_events_per_session``
    removes no session and is not reported. A plugin keeping data of its
    own per session (aggregates, occurrences, caches) removes it here, so
    that erasure leaves nothing behind. Return ``None`` or an awaitable;
    implementations run one after the other, and one that raises is logged
    without stopping the others (the sessions are gone either way). Do not
    wait for an ``append`` to ``store`` here: an eviction is reported from
    inside one.
    """


# -- analysis --------------------------------------------------------------


@hookspec
def register_analyzers(settings: Settings) -> list[Analyzer] | None:
    """Offer analyzers, called once at start-up.

    Return a list of :class:`sentiero_core.Analyzer`: objects with
    ``name: str``, ``title: str`` and ``analyze(store, params) -> dict |
    Awaitable[dict]`` that compute a report from the aggregates collectors
    keep. The dashboard's analyzers page lists them and
    ``<mount>/api/analyzers/<name>`` serves their reports. Two analyzers
    with one name, or an object that is not an analyzer, stop start-up with
    an error naming the plugins. Synchronous.
    """


# -- redaction -------------------------------------------------------------


@hookspec
def redaction_rules(settings: Settings) -> list[RedactionRule] | None:
    """Offer redaction rules, called once at start-up.

    Return a list of :class:`sentiero_core.RedactionRule`: synchronous
    callables ``rule(events, context) -> list[Event] | None`` that change
    ``events`` in place (returning ``None``) or return a replacement list.
    ``context`` is a :class:`sentiero_core.RedactionContext`
    (``session_id``, ``window_id``, ``settings``). A rule may also have
    ``screen(events_json: bytes, context) -> bool``
    (:class:`sentiero_core.ScreeningRule`): while no earlier rule has run,
    it gets the events as JSON text and returning ``False`` declares that
    the rule would change nothing, so the rule is skipped and the text is
    stored as it is. Rules run on every batch before it reaches the store,
    in plugin order (the built-in rule first). Redaction fails closed: a
    rule that raises drops the whole batch (the request gets a 422 and the
    error is logged), nothing unredacted is stored. Synchronous rules only:
    they sit on the ingest hot path.
    """


# -- dashboard -------------------------------------------------------------


@hookspec
def dashboard_panels(settings: Settings) -> list[Panel] | None:
    """Offer dashboard navigation entries, called once at start-up.

    Return a list of :class:`sentiero_core.Panel` (``name``, ``title``,
    ``path`` relative to the mount, ``order``). The navigation bar lists
    them sorted by ``order``, then title. Two panels with one name stop
    start-up with an error naming both plugins. Synchronous.
    """


@hookspec
def register_routes(settings: Settings) -> list[Route] | None:
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
def extra_template_vars(
    template: str, request: Request, settings: Settings
) -> MaybeAwaitable[dict[str, Any] | None]:
    """Add variables to a dashboard template's context, called per render.

    Return a dict, or an awaitable that resolves to one. Later plugins
    override earlier ones for the same key; core variables win over both.
    """


@hookspec
def session_markers(
    summary: SessionSummary, window: str | None, store: Store, settings: Settings
) -> MaybeAwaitable[list[dict[str, Any]] | None]:
    """Add moments to a session's replay page, called each time the page
    is rendered.

    ``summary`` is the session shown and ``window`` the window (tab) being
    replayed. Return a list of dicts (or an awaitable of one), each with
    ``at`` (ms since the epoch), ``label`` (short text), and optionally
    ``kind`` (a CSS class word, such as ``"server-error"``) and ``url``
    (a page about it). The page lists them under the replay's timeline,
    placed by time, each with a link that seeks the replay to that moment.
    Markers from every plugin are merged in time order; one that raises is
    logged and the page is shown without its markers.
    """


# -- command line ------------------------------------------------------------


@hookspec
def register_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add subcommands to the ``sentiero`` command line, called once each
    time the command line is parsed.

    ``subparsers`` is the :mod:`argparse` object of ``sentiero``'s
    commands: add a parser with ``subparsers.add_parser(name, help=...)``
    and give it ``set_defaults(run=function)``, where ``function(args)``
    returns the exit status (an ``int``). Return ``None``. A command name
    already taken (a core command such as ``serve`` or ``purge``, or another plugin's)
    stops the command line with an error naming it. Synchronous.
    """
