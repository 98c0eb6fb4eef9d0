"""Formatters for the dashboard's templates: times, durations, counts and
URLs, installed as Jinja filters under their names (``{{ ms|duration }}``).

They return plain strings; autoescaping does the rest, so none of them may
return markup.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit


def duration(ms: int | float | None) -> str:
    """``1h 02m``, ``3m 07s``, ``12s``, ``0.4s``."""
    if ms is None:
        return ""
    ms = max(0, int(ms))
    if ms < 1000:
        return f"{ms / 1000:.1f}s" if ms else "0s"
    seconds = ms // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def _moment(ms: int | None) -> datetime | None:
    if ms is None:
        return None
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def timestamp(ms: int | None) -> str:
    """``2024-05-01 14:03:22 UTC`` (the page's script shows local time)."""
    moment = _moment(ms)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""


def iso(ms: int | None) -> str:
    """For ``<time datetime=...>``."""
    moment = _moment(ms)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z") if moment else ""


def number(value: int | None) -> str:
    return f"{value:,}" if isinstance(value, int) else ""


def short_url(url: str | None, limit: int = 60) -> str:
    """Host and path without the scheme, shortened in the middle."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        text = (parts.netloc + parts.path + (f"?{parts.query}" if parts.query else "")) or url
    except ValueError:
        text = url
    if len(text) <= limit:
        return text
    keep = limit - 1
    return text[: keep // 2] + "…" + text[-(keep - keep // 2) :]


def plural(count: int, singular: str, many: str | None = None) -> str:
    return f"{count:,} {singular if count == 1 else (many or singular + 's')}"


FORMATTERS: dict[str, Callable[..., Any]] = {
    "duration": duration,
    "timestamp": timestamp,
    "iso": iso,
    "number": number,
    "short_url": short_url,
    "plural": plural,
}
