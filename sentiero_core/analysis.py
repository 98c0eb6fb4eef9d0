"""Report filters: the date range and segment filters every analyzer takes,
parsed once from the query string (public API, re-exported by
:mod:`sentiero_core`).

Collectors that want their numbers segmentable start each aggregate row's
dimensions with :func:`segment_dims` (the nine :data:`SEGMENTS`, in order);
:meth:`ReportFilters.where` then turns the parsed filters into the
``where`` argument of ``Store.aggregate``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .store import day_from_date

#: The segment dimensions, in the order rows carry them.
SEGMENTS: tuple[str, ...] = (
    "browser",
    "os",
    "device",
    "viewport",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "identified",
)
#: Viewport buckets by CSS width.
VIEWPORTS = ("mobile", "tablet", "desktop", "unknown")
#: Days a report covers when ``from`` is not given.
DEFAULT_DAYS = 30
#: The longest range a report may cover.
MAX_DAYS = 3660
#: Query parameters every report understands besides the segments.
COMMON_PARAMS = frozenset({"from", "to", "format", "table", "download"})


def viewport_bucket(width: int | None) -> str:
    """``mobile`` below 768 CSS px, ``tablet`` below 1024, else ``desktop``."""
    if not width:
        return "unknown"
    return "mobile" if width < 768 else "tablet" if width < 1024 else "desktop"


def segment_dims(**values: str | None) -> tuple[str, ...]:
    """The segment part of a row's dims: each of :data:`SEGMENTS` lowercased,
    ``""`` when unknown."""
    unknown = set(values) - set(SEGMENTS)
    if unknown:
        raise ValueError(f"unknown segment(s): {', '.join(sorted(unknown))}")
    return tuple((values.get(name) or "").lower()[:200] for name in SEGMENTS)


def _today() -> int:
    return (_dt.datetime.now(_dt.UTC).date() - _dt.date(1970, 1, 1)).days


@dataclass(frozen=True)
class ReportFilters:
    """What a report was asked for: days ``day_from`` to ``day_to``
    (inclusive UTC day numbers) and exact segment values."""

    day_from: int
    day_to: int
    segments: dict[str, str] = field(default_factory=dict)
    #: Parameters besides the common ones, for the analyzer's own use.
    extra: dict[str, str] = field(default_factory=dict)

    def where(self, offset: int = 0) -> dict[int, str]:
        """``Store.aggregate``'s ``where`` for rows whose segment dims start
        at position ``offset``."""
        return {offset + SEGMENTS.index(name): value for name, value in self.segments.items()}

    def to_params(self) -> dict[str, str]:
        from .store import date_of_day

        return {"from": date_of_day(self.day_from), "to": date_of_day(self.day_to), **self.segments}


def parse_filters(params: Mapping[str, str], *, today: int | None = None) -> ReportFilters:
    """Parse ``from`` / ``to`` (ISO dates, ``to`` inclusive; the last
    :data:`DEFAULT_DAYS` days by default) and the segment filters
    (``browser``, ``os``, ``device``, ``viewport``, ``referrer`` (a host or
    ``direct``), ``utm_source``, ``utm_medium``, ``utm_campaign``,
    ``identified`` (``yes`` / ``no``)). A ``ValueError`` names what is
    wrong; the API answers it with a 400."""
    today = _today() if today is None else today
    day_to = day_from_date(params["to"]) if params.get("to") else today
    day_from = day_from_date(params["from"]) if params.get("from") else day_to - DEFAULT_DAYS + 1
    if day_from > day_to:
        raise ValueError(f"from ({params.get('from')}) is after to ({params.get('to')})")
    if day_to - day_from >= MAX_DAYS:
        raise ValueError(f"a report covers at most {MAX_DAYS} days")
    segments: dict[str, str] = {}
    extra: dict[str, str] = {}
    for name, value in params.items():
        if name in COMMON_PARAMS:
            continue
        if name not in SEGMENTS:
            extra[name] = value
            continue
        if not isinstance(value, str) or not value or len(value) > 200:
            raise ValueError(f"{name} must be a non-empty text of at most 200 characters")
        value = value.lower()
        if name == "viewport" and value not in VIEWPORTS:
            raise ValueError(f"viewport must be one of {', '.join(VIEWPORTS)}, got {value!r}")
        if name == "identified" and value not in ("yes", "no"):
            raise ValueError(f"identified must be yes or no, got {value!r}")
        segments[name] = value
    return ReportFilters(day_from, day_to, segments, extra)


def report_arguments(params: Mapping[str, str], settings: Any, store: Any) -> dict[str, Any]:
    """Every argument an analyzer's ``analyze`` may take, by name."""
    return {
        "store": store,
        "params": dict(params),
        "filters": parse_filters(params),
        "settings": settings,
    }


__all__ = [
    "DEFAULT_DAYS",
    "SEGMENTS",
    "VIEWPORTS",
    "ReportFilters",
    "parse_filters",
    "segment_dims",
    "viewport_bucket",
]
