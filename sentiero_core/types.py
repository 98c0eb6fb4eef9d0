"""The shapes of what plugins hand the core through hooks.

Hook specifications in :mod:`sentiero_core.hookspecs` use these instead of
``Any``; plugins import them from :mod:`sentiero_core` (public API). They
are :class:`typing.Protocol` classes, so a plugin's own classes and plain
functions fit them without inheriting from anything.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar, runtime_checkable

from .store import Event

if TYPE_CHECKING:
    from .settings import Settings
    from .store import Store

T = TypeVar("T")

#: A hook may return a value, an awaitable of it, or a callable returning
#: either; the core resolves it with :func:`sentiero_core.await_me_maybe`.
MaybeAwaitable: TypeAlias = T | Awaitable[T]

#: What an analyzer's report is: anything JSON can encode, at its top a dict.
Report: TypeAlias = dict[str, Any]


@runtime_checkable
class Analyzer(Protocol):
    """What ``register_analyzers`` returns a list of.

    ``name`` is unique across plugins (it is the URL segment of
    ``<mount>/api/analyzers/<name>``); ``title`` is what the dashboard shows.
    ``analyze`` may be sync or async and takes, by name, any of ``store``,
    ``params`` (the query string), ``filters`` (a
    :class:`sentiero_core.ReportFilters` parsed by
    :func:`sentiero_core.parse_filters`: date range and segments) and
    ``settings``; the core passes only the ones it names. A ``ValueError``
    it raises is a bad parameter (the API answers 400 with its message). A
    report's ``rows`` (a list of flat dicts), or the list ``?table=``
    names, is what ``?format=csv`` exports.
    """

    name: str
    title: str

    #: ``analyze(store=..., params=..., filters=..., settings=...)``, any subset.
    analyze: Callable[..., MaybeAwaitable[Report]]


@dataclass(frozen=True)
class RedactionContext:
    """What a redaction rule learns about the batch besides its events."""

    session_id: str
    window_id: str
    settings: Settings


class RedactionRule(Protocol):
    """What ``redaction_rules`` returns a list of: a synchronous callable.

    ``rule(events, context)`` changes ``events`` in place (returning
    ``None``) or returns a replacement list of events. A rule may also have
    a :class:`ScreeningRule` ``screen`` method.
    """

    def __call__(self, events: list[Event], context: RedactionContext) -> list[Event] | None: ...


class ScreeningRule(RedactionRule, Protocol):
    """A redaction rule that can tell from the batch's JSON text alone that
    it has nothing to do.

    ``screen(events_json, context)`` gets the events as orjson wrote them
    (immutable bytes: it cannot change the events) and returns ``False`` when
    the rule would change nothing; the rule is then not called at all, and
    the pipeline keeps that text for the store instead of serializing the
    events again. ``True`` means "maybe": the rule is called, and the events
    count as changed. Only consulted while no earlier rule has run.
    """

    def screen(self, events_json: bytes, context: RedactionContext) -> bool: ...


class StoreFactory(Protocol):
    """What ``store_factories`` maps each URL scheme to: builds an unopened
    store (the core calls ``open()``). A bad URL raises ``ValueError`` with a
    message naming what is wrong."""

    def __call__(self, url: str, settings: Settings) -> Store: ...


__all__ = [
    "Analyzer",
    "Event",
    "MaybeAwaitable",
    "RedactionContext",
    "RedactionRule",
    "Report",
    "ScreeningRule",
    "StoreFactory",
]
