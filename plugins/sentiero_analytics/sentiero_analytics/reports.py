"""The analyzers: each report reads the totals the collector keeps, for the
date range and segments of :class:`sentiero_core.ReportFilters`."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from sentiero_core import SEGMENTS, ReportFilters
from sentiero_core.store import Store, Tally, day_from_date

from .fold import ELEMENT_GRID, ROLLUP, UNROLLED, VITAL_THRESHOLDS
from .settings import AnalyticsSettings

S = len(SEGMENTS)


def _settings(settings: Any) -> AnalyticsSettings:
    try:
        found = settings.plugin("analytics")
    except Exception:
        found = None
    return found if isinstance(found, AnalyticsSettings) else AnalyticsSettings()


async def _agg(
    store: Store, name: str, f: ReportFilters, group: tuple[int, ...], **where: str
) -> dict[tuple[str, ...], Tally]:
    w: dict[int, Any] = dict(f.where())
    for pos, value in where.items():
        w[S + int(pos[1:])] = value
    return await store.aggregate(
        _name(name, f), f.day_from, f.day_to, where=w, group_by=tuple(S + g for g in group)
    )


def _name(name: str, f: ReportFilters) -> str:
    """The segment-free rollup of ``name`` when no segment is asked for."""
    return name if f.segments or name in UNROLLED else name + ROLLUP


def _int(v: float) -> int:
    return round(v)


@dataclass
class Report:
    name: str
    title: str

    async def analyze(self, store: Store, filters: ReportFilters, settings: Any) -> dict[str, Any]:
        return await getattr(self, "_" + self.name)(store, filters, _settings(settings))

    async def _pages(self, store: Store, f: ReportFilters, s: AnalyticsSettings) -> dict[str, Any]:
        page = f.extra.get("page")
        if page:
            return await self._page(store, f, s, page)
        views, sessions, entries, exits, bounces = await asyncio.gather(
            *(
                _agg(store, name, f, (0,))
                for name in ("pageviews", "page_sessions", "entries", "exits", "bounces")
            )
        )
        rows: list[dict[str, Any]] = []
        for (url,), t in views.items():
            e = entries.get((url,), Tally()).count
            rows.append(
                {
                    "page": url,
                    "views": t.count,
                    "sessions": sessions.get((url,), Tally()).count,
                    "avg_time_ms": _int(t.total / t.count) if t.count else 0,
                    "entries": e,
                    "exits": exits.get((url,), Tally()).count,
                    "bounces": bounces.get((url,), Tally()).count,
                    "bounce_rate": round(bounces.get((url,), Tally()).count / e, 4) if e else 0.0,
                }
            )
        rows.sort(key=lambda r: (-r["views"], r["page"]))
        return {"rows": rows}

    async def _page(
        self, store: Store, f: ReportFilters, s: AnalyticsSettings, page: str
    ) -> dict[str, Any]:
        views = await _agg(store, "pageviews", f, (), d0=page)
        daily = await store.aggregate(
            _name("pageviews", f), f.day_from, f.day_to, where={**f.where(), S: page}, by_day=True
        )
        targets = await _agg(store, "targets", f, (1,), d0=page)
        t = views.get((), Tally())
        return {
            "page": page,
            "views": t.count,
            "avg_time_ms": _int(t.total / t.count) if t.count else 0,
            "rows": [{"date": d, "views": v.count} for (d,), v in sorted(daily.items())],
            "targets": sorted(
                ({"selector": k[0], "clicks": v.count} for k, v in targets.items()),
                key=lambda r: (-r["clicks"], r["selector"]),
            ),
        }

    async def _segments(
        self, store: Store, f: ReportFilters, s: AnalyticsSettings
    ) -> dict[str, Any]:
        dim = f.extra.get("by", "browser")
        if dim not in SEGMENTS:
            raise ValueError(f"by must be one of {', '.join(SEGMENTS)}, got {dim!r}")
        if f.segments:
            groups = await store.aggregate(
                "sessions", f.day_from, f.day_to, where=f.where(), group_by=(SEGMENTS.index(dim),)
            )
        else:
            groups = await store.aggregate(f"sessions@{dim}", f.day_from, f.day_to, group_by=(0,))
        total = sum(t.count for t in groups.values())
        rows: list[dict[str, Any]] = [
            {
                "segment": dim,
                "value": k[0] or "(none)",
                "sessions": t.count,
                "share": round(t.count / total, 4) if total else 0.0,
                "avg_duration_ms": _int(t.total / t.count) if t.count else 0,
            }
            for k, t in groups.items()
        ]
        rows.sort(key=lambda r: (-r["sessions"], r["value"]))
        return {"by": dim, "sessions": total, "rows": rows}

    async def _errors(self, store: Store, f: ReportFilters, s: AnalyticsSettings) -> dict[str, Any]:
        pages, sessions = await asyncio.gather(
            _agg(store, "errors", f, (0, 1, 2)), _agg(store, "error_sessions", f, (0, 1))
        )
        occurrences: dict[tuple[str, str], int] = defaultdict(int)
        on_pages: dict[tuple[str, str], list[str]] = defaultdict(list)
        for (message, frame, url), t in pages.items():
            occurrences[(message, frame)] += t.count
            on_pages[(message, frame)].append(url)
        links = await _recent_links(store, "error_links", f, occurrences, s.max_links)
        rows: list[dict[str, Any]] = []
        for (message, frame), count in occurrences.items():
            rows.append(
                {
                    "message": message,
                    "top_frame": frame,
                    "occurrences": count,
                    "sessions": sessions.get((message, frame), Tally()).count,
                    "pages": sorted(on_pages[(message, frame)]),
                    "replays": links.get((message, frame), []),
                }
            )
        rows.sort(key=lambda r: (-r["occurrences"], r["message"]))
        return {"rows": rows}

    async def _heatmap(
        self, store: Store, f: ReportFilters, s: AnalyticsSettings
    ) -> dict[str, Any]:
        page = f.extra.get("page")
        if not page:
            pages = await _agg(store, "clicks", f, (0,))
            return {
                "rows": sorted(
                    ({"page": k[0], "clicks": v.count} for k, v in pages.items()),
                    key=lambda r: (-r["clicks"], r["page"]),
                )
            }
        where = {"d0": page}
        if f.extra.get("bucket"):
            where["d1"] = f.extra["bucket"]
        cells = await _agg(store, "clicks", f, (1, 2, 3), **where)
        spots = await _agg(store, "element_clicks", f, (1, 2, 3, 4), **where)
        return {
            "page": page,
            "cell_px": s.heatmap_cell_px,
            "rows": [
                {
                    "viewport": k[0],
                    "x": int(k[1]) * s.heatmap_cell_px,
                    "y": int(k[2]) * s.heatmap_cell_px,
                    "clicks": v.count,
                }
                for k, v in sorted(cells.items())
            ],
            "element_grid": ELEMENT_GRID,
            "elements": [
                {
                    "viewport": k[0],
                    "selector": k[1],
                    "x": round(int(k[2]) / ELEMENT_GRID, 3),
                    "y": round(int(k[3]) / ELEMENT_GRID, 3),
                    "clicks": v.count,
                }
                for k, v in sorted(spots.items())
            ],
        }

    async def _scroll(self, store: Store, f: ReportFilters, s: AnalyticsSettings) -> dict[str, Any]:
        groups = await _agg(store, "scroll", f, (0, 1))
        per_page: dict[str, dict[int, int]] = defaultdict(dict)
        for (url, bucket), t in groups.items():
            per_page[url][int(bucket)] = t.count
        rows: list[dict[str, Any]] = []
        for url, depths in sorted(per_page.items()):
            views = sum(depths.values())
            for depth in sorted(depths):
                reached = sum(c for d, c in depths.items() if d >= depth)
                rows.append(
                    {
                        "page": url,
                        "depth_px": depth,
                        "views": views,
                        "reached": reached,
                        "share": round(reached / views, 4),
                    }
                )
        return {"step_px": s.scroll_step_px, "rows": rows}

    async def _forms(self, store: Store, f: ReportFilters, s: AnalyticsSettings) -> dict[str, Any]:
        starts, submits, fields, abandons = await asyncio.gather(
            _agg(store, "form_starts", f, (0,)),
            _agg(store, "form_submits", f, (0,)),
            _agg(store, "forms", f, (0, 1, 2)),
            _agg(store, "form_abandons", f, (0, 1)),
        )
        rows: list[dict[str, Any]] = []
        for (url,), t in sorted(starts.items()):
            rows.append(
                {
                    "page": url,
                    "started": t.count,
                    "submitted": submits.get((url,), Tally()).count,
                    "abandoned": t.count - submits.get((url,), Tally()).count,
                }
            )
        field_rows = []
        for url, field in sorted({k[:2] for k in fields} | set(abandons)):
            field_rows.append(
                {
                    "page": url,
                    "field": field,
                    "focus": fields.get((url, field, "focus"), Tally()).count,
                    "change": fields.get((url, field, "change"), Tally()).count,
                    "abandoned_here": abandons.get((url, field), Tally()).count,
                }
            )
        return {"rows": rows, "fields": field_rows}

    async def _funnels(
        self, store: Store, f: ReportFilters, s: AnalyticsSettings
    ) -> dict[str, Any]:
        raw = f.extra.get("steps", "")
        steps = [x.strip() for x in raw.split(",") if x.strip()]
        if len(steps) < 2:
            raise ValueError(
                "steps needs at least two comma-separated steps: a page URL (or its path) "
                "or event:<custom event name>"
            )
        # per day too: the dropped sessions are then looked for only in the
        # days that hold the latest of them
        paths = await store.aggregate(
            _name("paths", f), f.day_from, f.day_to, where=f.where(), group_by=(S,), by_day=True
        )
        reached = [0] * len(steps)
        dropping: list[Dropping] = []
        done_by_path: dict[str, int] = {}
        for (date, path), t in paths.items():
            done = done_by_path.get(path)
            if done is None:
                done = done_by_path[path] = _steps_done(path.split("\x1f"), steps)
            for i in range(done):
                reached[i] += t.count
            if 0 < done < len(steps):
                dropping.append(Dropping(day_from_date(date), path, t.count))
        rows: list[dict[str, Any]] = []
        for i, step in enumerate(steps):
            prev = reached[i - 1] if i else reached[0]
            rows.append(
                {
                    "step": step,
                    "sessions": reached[i],
                    "conversion": round(reached[i] / reached[0], 4) if reached[0] else 0.0,
                    "drop_off": prev - reached[i],
                }
            )
        dropped = await _dropped(store, f, steps, dropping, done_by_path, s.max_links)
        return {"rows": rows, "dropped": dropped}

    async def _engagement(
        self, store: Store, f: ReportFilters, s: AnalyticsSettings
    ) -> dict[str, Any]:
        totals, users, daily = await asyncio.gather(
            asyncio.gather(
                *(_agg(store, name, f, ()) for name in ("sessions", "active", "pageviews"))
            ),
            # users by how many sessions they had: the users stay in the store
            store.aggregate_group_sizes(
                "users", f.day_from, f.day_to, where=f.where(), group_by=(S,)
            ),
            store.aggregate(
                _name("sessions", f), f.day_from, f.day_to, where=f.where(), by_day=True
            ),
        )
        sessions, active, views = (t.get((), Tally()) for t in totals)
        n = sessions.count
        return {
            "sessions": n,
            "avg_duration_ms": _int(sessions.total / n) if n else 0,
            "avg_active_ms": _int(active.total / n) if n else 0,
            "pages_per_session": round(views.count / n, 3) if n else 0.0,
            "identified_users": sum(users.values()),
            "returning_users": sum(k for c, k in users.items() if c > 1),
            "rows": [{"date": d, "sessions": t.count} for (d,), t in sorted(daily.items())],
        }

    async def _frustration(
        self, store: Store, f: ReportFilters, s: AnalyticsSettings
    ) -> dict[str, Any]:
        rage, dead = await asyncio.gather(*(_agg(store, k, f, (0, 1)) for k in ("rage", "dead")))
        counts = {
            (kind, url, selector): t.count
            for kind, groups in (("rage", rage), ("dead", dead))
            for (url, selector), t in groups.items()
        }
        links = await _recent_links(store, "frustration_links", f, counts, s.max_links)
        rows: list[dict[str, Any]] = [
            {
                "kind": kind,
                "page": url,
                "element": selector,
                "count": count,
                "replays": links.get((kind, url, selector), []),
            }
            for (kind, url, selector), count in counts.items()
        ]
        rows.sort(key=lambda r: (-r["count"], r["kind"], r["page"], r["element"]))
        return {"rows": rows}

    async def _vitals(self, store: Store, f: ReportFilters, s: AnalyticsSettings) -> dict[str, Any]:
        groups = await _agg(store, "vitals", f, (0, 1, 2, 3))
        per: dict[tuple[str, str], dict[str, Any]] = {}
        for (url, name, rating, bin_), t in groups.items():
            entry = per.setdefault(
                (url, name), {"bins": defaultdict(int), "ratings": defaultdict(int)}
            )
            entry["bins"][float(bin_)] += t.count
            entry["ratings"][rating] += t.count
        rows: list[dict[str, Any]] = []
        for (url, name), e in sorted(per.items()):
            n = sum(e["ratings"].values())
            rows.append(
                {
                    "page": url,
                    "metric": name,
                    "samples": n,
                    "p75": _quantile(e["bins"], 0.75),
                    "good": round(e["ratings"]["good"] / n, 4),
                    "needs_improvement": round(e["ratings"]["needs-improvement"] / n, 4),
                    "poor": round(e["ratings"]["poor"] / n, 4),
                    "thresholds": list(VITAL_THRESHOLDS.get(name, ())),
                }
            )
        return {"rows": rows}


async def _recent_links(
    store: Store, name: str, f: ReportFilters, groups: Iterable[tuple[str, ...]], limit: int
) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """Replays of each group (the dims after the segment, then the session
    id; the total is the time): the sessions of the latest days first, at
    most ``limit``. The store reads only as many days as that takes, not
    one row per session of the whole range."""
    wanted = list(groups)
    if not wanted:
        return {}
    width = len(wanted[0])
    latest = await store.aggregate_latest(
        name,
        f.day_from,
        f.day_to,
        where=f.where(),
        group_by=tuple(range(S, S + width)),
        limit=limit,
        groups=wanted,
    )
    return {
        # one row per session and group; rows written before a session kept
        # only its first occurrence add several times up: their mean
        key: [{"session_id": r.dims[S + width], "at": int(r.total / max(r.count, 1))} for r in rows]
        for key, rows in latest.items()
    }


def _quantile(bins: dict[float, int], q: float) -> float:
    total = sum(bins.values())
    need = q * total
    seen = 0
    for value in sorted(bins):
        seen += bins[value]
        if seen >= need:
            return value
    return 0.0


def _matches(step: str, wanted: str) -> bool:
    if wanted.startswith("event:"):
        return step == "e:" + wanted[6:]
    if not step.startswith("u:"):
        return False
    url = step[2:]
    return url == wanted or url.endswith(wanted) if wanted.startswith("/") else url == wanted


def _steps_done(path: list[str], steps: list[str]) -> int:
    done = 0
    for step in path:
        if done < len(steps) and _matches(step, steps[done]):
            done += 1
    return done


#: The dropped sessions are looked for among at most this many paths (a
#: path is a session's pages and custom events in order), those of the
#: most sessions first: a store matches each path it is given.
MAX_DROPPING_PATHS = 1_000


class Dropping(NamedTuple):
    """Sessions of one day whose path reached some of the steps, not all."""

    day: int
    path: str
    sessions: int


async def _dropped(
    store: Store,
    f: ReportFilters,
    steps: list[str],
    dropping: list[Dropping],
    done_by_path: dict[str, int],
    limit: int,
) -> list[dict[str, Any]]:
    """The latest sessions (by start) that reached a step but not the next:
    those of the paths the counts found dropping (with the steps each
    reached, ``done_by_path``), under the same filters,
    so the list agrees with the rows. Only the days that hold the latest
    ``limit`` of them are read."""
    if not dropping:
        return []
    per_day: dict[int, int] = defaultdict(int)
    for d in dropping:
        per_day[d.day] += d.sessions
    last = max(per_day)
    first, seen = last, 0
    for day in sorted(per_day, reverse=True):
        first, seen = day, seen + per_day[day]
        if seen >= limit:
            break
    sessions: dict[str, int] = defaultdict(int)
    for d in dropping:
        if first <= d.day <= last:
            sessions[d.path] += d.sessions
    paths = sorted(sessions, key=lambda p: (-sessions[p], p))[:MAX_DROPPING_PATHS]
    found = await store.aggregate_latest(
        "path_links", first, last, where={**f.where(), S: paths}, group_by=(), limit=limit
    )
    # the store's order, but ties between sessions by their id
    rows = sorted(found.get((), ()), key=lambda r: (-r.total / max(r.count, 1), r.dims[S + 1]))
    return [
        {"session_id": r.dims[S + 1], "dropped_after": steps[done_by_path[r.dims[S]] - 1]}
        for r in rows
    ]


REPORTS = [
    Report("pages", "Pages"),
    Report("segments", "Segments"),
    Report("errors", "Errors"),
    Report("heatmap", "Heatmap"),
    Report("scroll", "Scroll depth"),
    Report("forms", "Forms"),
    Report("funnels", "Funnels"),
    Report("engagement", "Engagement"),
    Report("frustration", "Frustration"),
    Report("vitals", "Web Vitals"),
]
