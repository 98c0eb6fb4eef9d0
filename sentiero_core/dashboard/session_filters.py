"""Session filters read from a query string, shared by the list page and the API.

Every value a user can type is checked here so that a bad one becomes a
clear message (a 400 with the reason) instead of an exception deep in a
store. Parameter names are short because they live in shareable URLs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from ..store import SessionFilter

#: Query parameter -> what it filters, in the order the form shows them.
FILTER_PARAMS: dict[str, str] = {
    "from": "sessions started on or after this date (UTC, YYYY-MM-DD or YYYY-MM-DDTHH:MM)",
    "to": "sessions started on or before this date (UTC; a date includes the whole day)",
    "url": "a visited page URL contains this text",
    "errors": "'yes' for sessions with errors, 'no' for sessions without",
    "min_duration": "minimum duration: seconds, or with a unit (90, 90s, 5m, 1h)",
    "user": "identified user id (exact)",
    "event": "custom event name (exact)",
    "browser": "browser name contains (Chrome, Firefox, Safari...)",
    "device": "device kind contains (desktop, mobile, tablet, bot)",
    "os": "operating system contains (Windows, macOS, iOS, Android, Linux...)",
    "ip": "client address (compared as stored: truncated to /24 or /48 with anonymize_ip)",
}
PAGING_PARAMS = ("cursor", "limit")
MAX_TEXT = 500
_TRUE = {"1", "true", "yes", "on", "with"}
_FALSE = {"0", "false", "no", "off", "without"}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$", re.IGNORECASE)
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}


class FilterError(ValueError):
    """A query parameter has a value we cannot use; the message names it."""


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A parsed list request: the filter, the page cursor and the page size."""

    filter: SessionFilter
    cursor: str | None
    limit: int
    values: dict[str, str]

    @property
    def filtered(self) -> bool:
        return not self.filter.is_empty()


def _moment(raw: str, name: str, *, end: bool) -> int:
    """Milliseconds since the epoch from a date, a datetime or an integer."""
    text = raw.strip()
    if re.fullmatch(r"\d{11,15}", text):
        return int(text)
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            # "to 2024-05-01" means up to the end of that day.
            return int(((start + timedelta(days=1)) if end else start).timestamp() * 1000)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(
            f"{name}: expected a date like 2024-05-01 or 2024-05-01T14:30, got {raw!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    ms = int(moment.timestamp() * 1000)
    return ms + (60_000 if end and len(text) <= 16 else 0)


def parse_duration_ms(raw: str, name: str = "min_duration") -> int:
    match = _DURATION.match(raw)
    if not match:
        raise FilterError(f"{name}: expected seconds like 90, 90s, 5m or 1h, got {raw!r}")
    value = float(match.group(1)) * _UNIT_MS[(match.group(2) or "s").lower()]
    if value > 10 * 365 * 86_400_000:
        raise FilterError(f"{name}: {raw!r} is longer than ten years")
    return int(value)


def _flag(raw: str, name: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise FilterError(f"{name}: expected yes or no, got {raw!r}")


def parse_limit(raw: str | None, *, default: int, cap: int) -> int:
    """A page size between 1 and ``cap``; larger requests are capped, not refused."""
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise FilterError(f"limit: expected a whole number, got {raw!r}") from None
    if value < 1:
        raise FilterError(f"limit: expected at least 1, got {value}")
    return min(value, cap)


def _ip(raw: str, anonymize_ip: bool) -> str:
    from ..lifecycle import stored_ip

    try:
        return stored_ip(raw, anonymize_ip=anonymize_ip)
    except ValueError as exc:
        raise FilterError(str(exc)) from None


def parse_filter(
    args: Mapping[str, str], *, strict: bool = False, anonymize_ip: bool = True
) -> SessionFilter:
    """A :class:`SessionFilter` from query parameters; empty values are ignored.

    ``strict`` refuses parameters that are not filters (the API does, so a
    typo does not silently widen a query); the HTML form ignores them. An
    ``ip`` is compared in the form the ingest path stores it (truncated when
    ``anonymize_ip``).
    """
    if strict:
        unknown = sorted(set(args) - set(FILTER_PARAMS) - set(PAGING_PARAMS))
        if unknown:
            known = ", ".join([*FILTER_PARAMS, *PAGING_PARAMS])
            raise FilterError(f"unknown parameter(s) {', '.join(unknown)}; known: {known}")
    values = {k: args[k].strip() for k in FILTER_PARAMS if k in args and args[k].strip()}
    for key, value in values.items():
        if len(value) > MAX_TEXT:
            raise FilterError(f"{key}: at most {MAX_TEXT} characters")
    after = _moment(values["from"], "from", end=False) if "from" in values else None
    before = _moment(values["to"], "to", end=True) if "to" in values else None
    if after is not None and before is not None and before <= after:
        raise FilterError("to: the end of the date range comes before its start")
    return SessionFilter(
        started_after=after,
        started_before=before,
        url_contains=values.get("url"),
        has_errors=_flag(values["errors"], "errors") if "errors" in values else None,
        min_duration_ms=(
            parse_duration_ms(values["min_duration"]) if "min_duration" in values else None
        ),
        user_id=values.get("user"),
        custom_event=values.get("event"),
        browser=values.get("browser"),
        device=values.get("device"),
        os=values.get("os"),
        ip=_ip(values["ip"], anonymize_ip) if "ip" in values else None,
    )


def parse_list_query(
    args: Mapping[str, str],
    *,
    default_limit: int,
    cap: int,
    strict: bool = False,
    anonymize_ip: bool = True,
) -> ListQuery:
    cursor = (args.get("cursor") or "").strip() or None
    return ListQuery(
        filter=parse_filter(args, strict=strict, anonymize_ip=anonymize_ip),
        cursor=cursor,
        limit=parse_limit(args.get("limit"), default=default_limit, cap=cap),
        values=form_values(args),
    )


def form_values(args: Mapping[str, str]) -> dict[str, str]:
    """The filter values as typed, to fill the form again (even when invalid)."""
    return {k: args[k].strip()[:MAX_TEXT] for k in FILTER_PARAMS if k in args and args[k].strip()}
