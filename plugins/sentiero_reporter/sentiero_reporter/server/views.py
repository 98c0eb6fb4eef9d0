"""Dashboard pages: the issues list, an issue, custom events."""

from __future__ import annotations

from collections import Counter
from typing import Any

from quart import abort, redirect, request, url_for

from sentiero_core import get_state, render
from sentiero_core.store import AtLeast, Store

from .ingest import settings_of
from .issues import EVENT_COUNTS, EVENT_NAMES, EVENTS, ISSUES, OCCURRENCES, STATUSES, set_status

PAGE = 50
SORTS = {"last_seen": "Last seen", "count": "Count", "first_seen": "First seen"}
HOUR_MS = 3_600_000


def _store() -> Store:
    store = get_state().store
    if not store.capabilities.records:
        abort(503, f"the {store.name} store cannot keep reports (no records capability)")
    return store


SOURCES = ("server", "browser")


def _one_of(name: str, value: str, allowed: Any) -> str:
    if value not in allowed:
        named = ", ".join(a for a in allowed if a) + (" (or empty: any)" if "" in allowed else "")
        abort(400, f"{name} must be one of {named}, got {value[:100]!r}")
    return value


def _filters() -> dict[str, str]:
    """The list's filters; a value outside a choice is a 400 naming it, not
    a list quietly filtered otherwise."""
    args = request.args
    return {
        "project": args.get("project", "").strip(),
        "environment": args.get("environment", "").strip(),
        "release": args.get("release", "").strip(),
        "status": _one_of("status", args.get("status", "").strip() or "open", (*STATUSES, "all")),
        "platform": _one_of("platform", args.get("platform", "").strip(), ("", *SOURCES)),
        "sort": _one_of("sort", args.get("sort", "").strip() or "last_seen", tuple(SORTS)),
    }


async def issues_list() -> Any:
    store = _store()
    chosen = _filters()
    where: dict[str, Any] = {}
    for name, field in (
        ("project", "project"),
        ("environment", "environments"),
        ("release", "releases"),
        ("platform", "platform"),
    ):
        if chosen[name]:
            where[field] = chosen[name]
    if chosen["status"] in STATUSES:
        where["status"] = chosen["status"]
    raw_page = request.args.get("page", "1").strip() or "1"
    if not raw_page.isdigit() or not 1 <= int(raw_page) <= 100_000:
        abort(400, f"page must be a whole number from 1 to 100000, got {raw_page[:20]!r}")
    page = int(raw_page)
    issues = await store.find_records(
        ISSUES, where, order_by=chosen["sort"], limit=PAGE + 1, offset=(page - 1) * PAGE
    )
    return await render(
        "reporter/issues.html",
        issues=issues[:PAGE],
        chosen=chosen,
        statuses=STATUSES,
        sorts=SORTS,
        page=page,
        more=len(issues) > PAGE,
        total=await store.count_records(ISSUES, where),
    )


def _histogram(times: list[int], buckets: int = 24) -> list[dict[str, Any]]:
    if not times:
        return []
    low, high = min(times), max(times)
    span = max(high - low, HOUR_MS)
    width = span / buckets
    counts = [0] * buckets
    for t in times:
        counts[min(int((t - low) / width), buckets - 1)] += 1
    peak = max(counts)
    return [
        {"start": int(low + i * width), "count": c, "height": round(100 * c / peak)}
        for i, c in enumerate(counts)
    ]


async def replay_link(store: Store, occurrence: dict[str, Any]) -> str | None:
    """The replay of the occurrence's session, opened at its moment."""
    sid = occurrence.get("session_id")
    if not sid:
        return None
    summary = await store.get_session(sid)
    if summary is None:
        return None
    offset = max(occurrence["timestamp"] - summary.started_at, 0) / 1000
    window = occurrence.get("window_id")
    args: dict[str, Any] = {"session_id": sid, "t": f"{offset:.3f}"}
    if window and window in summary.windows:
        args["window"] = window
    return url_for("sentiero.session", **args)


async def issue_page(key: str) -> Any:
    store = _store()
    issue = await store.get_record(ISSUES, key)
    if issue is None:
        abort(404, "no such issue (it may have been removed with its sessions)")
    shown = settings_of(get_state()).occurrences_shown
    occurrences = await store.find_records(
        OCCURRENCES, {"issue": key}, order_by="timestamp", limit=shown
    )
    times = [
        o["timestamp"]
        for o in await store.find_records(
            OCCURRENCES, {"issue": key}, order_by="timestamp", limit=2000
        )
    ]
    latest = occurrences[0] if occurrences else None
    for occurrence in occurrences:
        occurrence["replay_url"] = await replay_link(store, occurrence)
    return await render(
        "reporter/issue.html",
        issue=issue,
        latest=latest,
        occurrences=occurrences,
        histogram=_histogram(times),
        statuses=STATUSES,
    )


async def issue_status(key: str) -> Any:
    form = await request.form
    status = form.get("status", "")
    if status not in STATUSES:
        abort(400, f"status must be one of {', '.join(STATUSES)}")
    if await set_status(_store(), key, status) is None:
        abort(404, "no such issue")
    return redirect(url_for("reporter.issue", key=key))


async def events_page() -> Any:
    store = _store()
    project = request.args.get("project", "").strip()
    name = request.args.get("name", "").strip()
    where: dict[str, Any] = {"project": project} if project else {}
    names = await store.find_records(EVENT_NAMES, where, order_by="count", limit=200)
    series: list[dict[str, Any]] = []
    recent: list[dict[str, Any]] = []
    properties: dict[str, list[tuple[str, int]]] = {}
    if name:
        chosen = {**where, "name": name}
        newest = max((n.get("last_seen", 0) for n in names if n["name"] == name), default=0)
        hours = await store.find_records(
            EVENT_COUNTS,
            {**chosen, "hour": AtLeast(newest - 48 * HOUR_MS)},
            order_by="hour",
            descending=False,
            limit=1000,
        )
        by_hour: Counter[int] = Counter()
        for row in hours:
            by_hour[row["hour"]] += row["count"]
        peak = max(by_hour.values(), default=1)
        series = [
            {"hour": h, "count": c, "height": round(100 * c / peak)}
            for h, c in sorted(by_hour.items())
        ]
        recent = await store.find_records(EVENTS, chosen, order_by="timestamp", limit=50)
        values: dict[str, Counter[str]] = {}
        for event in recent:
            for prop, value in (event.get("properties") or {}).items():
                values.setdefault(prop, Counter())[str(value)[:100]] += 1
        properties = {prop: counts.most_common(10) for prop, counts in sorted(values.items())}
    return await render(
        "reporter/events.html",
        names=names,
        project=project,
        name=name,
        series=series,
        recent=recent,
        properties=properties,
    )
