"""A session's facts folded into its aggregate rows: everything that
depends on order (time on page, entries, exits, bounces, scroll depth and
clicks per page view, rage and dead clicks, form abandonment, paths) is
decided here, from every fact the session has, so the result is the same
whatever order its batches arrived in."""

from __future__ import annotations

import bisect
import itertools
from collections import defaultdict
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sentiero_core import SEGMENTS, segment_dims, viewport_bucket
from sentiero_core.store import AggregateRow, day_of

from .settings import AnalyticsSettings

UNKNOWN_PAGE = "(unknown)"
#: Each row is kept twice: with the session's segment, and under
#: ``<name>@all`` with the segment left blank. A report without segment
#: filters reads the second, whose size does not grow with the number of
#: segment combinations. Rows naming a session or a user gain nothing by it.
ROLLUP = "@all"
UNROLLED = frozenset({"error_links", "frustration_links", "path_links", "users"})
NO_SEGMENT = ("",) * 9
MAX_PATH_STEPS = 20
#: rrweb's click and the recorder's ``sentiero:click`` come from one
#: dispatch of the browser's event: they pair when they name the same node
#: within this time (the earliest unpaired first).
PAIR_MS = 500
#: A click's position in its element is kept in a grid of this many columns
#: and rows over the element's box.
ELEMENT_GRID = 10
#: (good up to, poor above) per Web Vital, as web.dev rates them.
VITAL_THRESHOLDS = {
    "LCP": (2500, 4000),
    "INP": (200, 500),
    "FID": (100, 300),
    "CLS": (0.1, 0.25),
    "FCP": (1800, 3000),
    "TTFB": (800, 1800),
}


def page_of(url: str) -> str:
    """A page is its URL without query string and fragment."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url[:300]
    return (f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else parts.path)[:300]


def vital_rating(name: str, value: float) -> str:
    good, poor = VITAL_THRESHOLDS.get(name, (float("inf"), float("inf")))
    return "good" if value <= good else "poor" if value > poor else "needs-improvement"


def vital_bin(name: str, value: float) -> str:
    """Values are kept in bins fine enough for a p75: 0.005 for CLS, 10 ms
    below a second and 50 ms above for the others."""
    if name == "CLS":
        return f"{round(value / 0.005) * 0.005:.3f}"
    step = 10 if value < 1000 else 50
    return str(int(value // step * step))


class PageView:
    __slots__ = (
        "clicks",
        "end",
        "height",
        "max_bottom",
        "named",
        "nodes",
        "route_change",
        "t",
        "url",
        "width",
        "window",
    )

    def __init__(self, window: str, t: int, url: str, width: int, height: int) -> None:
        self.window, self.t, self.url, self.width, self.height = window, t, url, width, height
        self.end = t
        self.max_bottom = height
        self.clicks: list[list[Any]] = []
        # node id -> selector: named by the recorder, or read from the nodes drawn
        self.named: dict[str, str] = {}
        self.nodes: dict[str, str] = {}
        self.route_change = not width


def fold_session(
    session_id: str, facts: dict[str, Any], settings: AnalyticsSettings
) -> list[AggregateRow]:
    batches = [v for k, v in facts.items() if k.startswith("b|")]
    if not batches:
        return []
    start = min(b[1] for b in batches)
    day = day_of(start)
    ua = next((b for b in sorted(batches) if b[3] or b[4] or b[5]), batches[0])
    window_end: dict[str, int] = defaultdict(int)
    for b in batches:
        window_end[b[0]] = max(window_end[b[0]], b[2])

    views: dict[str, list[PageView]] = defaultdict(list)
    for k, v in facts.items():
        if k.startswith("pv|"):
            _, window, t = k.split("|", 2)
            views[window].append(PageView(window, int(t), page_of(v[0]), v[1], v[2]))
    for window, vs in views.items():
        vs.sort(key=lambda p: p.t)
        last_size = (0, 0)
        for i, view in enumerate(vs):
            # a route change inherits the size of the document it happens in
            if not view.width:
                view.width, view.height = last_size
                view.max_bottom = view.height
            last_size = (view.width, view.height)
            view.end = vs[i + 1].t if i + 1 < len(vs) else max(window_end[window], view.t)
    all_views = sorted((pv for vs in views.values() for pv in vs), key=lambda p: (p.t, p.window))
    entry = all_views[0] if all_views else None
    entry_url = (
        next((v[0] for k, v in sorted(facts.items()) if k == f"pv|{entry.window}|{entry.t}"), "")
        if entry
        else ""
    )
    query = parse_qs(urlsplit(entry_url).query) if entry_url else {}
    users = sorted((int(k[3:]), v) for k, v in facts.items() if k.startswith("id|"))
    refs = sorted((int(k[4:]), v) for k, v in facts.items() if k.startswith("ref|"))
    referrer = urlsplit(refs[0][1]).netloc if refs else "direct"
    seg = segment_dims(
        browser=ua[3] or "unknown",
        os=ua[4] or "unknown",
        device=ua[5] or "unknown",
        viewport=viewport_bucket(entry.width if entry else None),
        referrer=referrer or "direct",
        utm_source=(query.get("utm_source") or [""])[0],
        utm_medium=(query.get("utm_medium") or [""])[0],
        utm_campaign=(query.get("utm_campaign") or [""])[0],
        identified="yes" if users else "no",
    )
    rows: list[AggregateRow] = []

    def add(name: str, *dims: str, count: int = 1, total: float = 0.0) -> None:
        rows.append(AggregateRow(name, day, (*seg, *dims), count, total))
        if name not in UNROLLED:
            rows.append(AggregateRow(name + ROLLUP, day, (*NO_SEGMENT, *dims), count, total))

    end = max(window_end.values())
    add("sessions", total=max(0, end - start))
    # one small rollup per segment, for the segments report without filters
    for name, value in zip(SEGMENTS, seg, strict=True):
        rows.append(AggregateRow(f"sessions@{name}", day, (value,), 1, max(0, end - start)))
    active = {s for k, v in facts.items() if k.startswith("ev|") for s in v.get("active", ())}
    add("active", total=len(active) * 1000)
    for view in all_views:
        add("pageviews", view.url, total=max(0, view.end - view.t))
    for url in {view.url for view in all_views}:
        add("page_sessions", url)
    if all_views:
        add("entries", all_views[0].url)
        add("exits", all_views[-1].url)
        if len(all_views) == 1:
            add("bounces", all_views[0].url)
    if users:
        add("users", str(users[0][1]))

    def view_at(window: str, t: int) -> PageView | None:
        vs = views.get(window)
        if not vs:
            return None
        i = bisect.bisect_right([p.t for p in vs], t) - 1
        return vs[i] if i >= 0 else None

    # in time order, so first occurrences and node names do not depend on
    # the order facts were merged in
    events = sorted(
        ((k.split("|")[1], v) for k, v in facts.items() if k.startswith("ev|")),
        key=lambda e: (_first_time(e[1]), e[0]),
    )
    # node selectors per page view, from the snapshots and mutations drawn
    # during it, in time order
    drawn = sorted(
        (
            (t, w, i, chunk)
            for w, ev in events
            for i, (t, chunk) in enumerate(ev.get("nodes") or [])
        ),
        key=lambda d: (d[0], d[1], d[2], len(d[3])),
    )
    for t, w, _i, chunk in drawn:
        pv = view_at(w, t)
        if pv is not None:
            pv.nodes.update(chunk)
    # the recorder's own clicks, to pair with rrweb's: (window, node) -> [time, selector, x, y]
    named_clicks: dict[tuple[str, int], list[list[Any]]] = defaultdict(list)
    for window, ev in events:
        for t, node, sel, fx, fy in ev.get("targets", ()):
            named_clicks[(window, node)].append([t, sel, fx, fy])
        for t, node, sel, *_ in (*ev.get("targets", ()), *ev.get("fields", ())):
            pv = view_at(window, t)
            if pv is not None:
                pv.named[str(node)] = sel
    for found in named_clicks.values():
        found.sort(key=lambda c: c[0])
    for vs in views.values():
        for before, view in itertools.pairwise(vs):
            if view.route_change:  # the same document: its nodes carry on
                view.nodes = {**before.nodes, **view.nodes}
                view.named = {**before.named, **view.named}
    changes = sorted({t for _w, ev in events for t in ev["changes"]} | {p.t for p in all_views})
    scroll_at: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for window, ev in events:
        for t, y in ev["scrolls"]:
            scroll_at[window].append((t, y))
            pv = view_at(window, t)
            if pv is not None:
                pv.max_bottom = max(pv.max_bottom, y + pv.height)
    for s in scroll_at.values():
        s.sort()
    step = settings.scroll_step_px
    for view in all_views:
        add("scroll", view.url, f"{view.max_bottom // step * step:06d}")

    cell = settings.heatmap_cell_px
    # in time order per tab, for the pairing
    clicks = sorted(
        ((w, c) for w, ev in events for c in ev["clicks"]), key=lambda wc: (wc[0], *wc[1][:3])
    )
    paired_up_to: dict[tuple[str, int], int] = defaultdict(int)
    for window, (t, x, y, node) in clicks:
        pv = view_at(window, t)
        url = pv.url if pv else UNKNOWN_PAGE
        samples = scroll_at.get(window, [])
        i = bisect.bisect_right(samples, (t, 1 << 62)) - 1
        scroll_y = samples[i][1] if i >= 0 and pv and samples[i][0] >= pv.t else 0
        doc_y = y + scroll_y
        named = _pair(named_clicks, paired_up_to, window, node, t)
        if named is not None:
            selector = named[1]
        elif pv is not None:
            selector = pv.named.get(str(node)) or pv.nodes.get(str(node), "(unknown)")
        else:
            selector = "(unknown)"
        vp = viewport_bucket(pv.width if pv else None)
        add("clicks", url, vp, str(int(x // cell)), str(int(doc_y // cell)))
        add("targets", url, selector)
        if named is not None and named[2] is not None and named[3] is not None:
            gx, gy = (str(min(int(v * ELEMENT_GRID), ELEMENT_GRID - 1)) for v in named[2:4])
            add("element_clicks", url, vp, selector, gx, gy)
        if pv is not None:
            pv.clicks.append([t, x, doc_y, selector])
    linked: set[tuple[str, str, str]] = set()
    for view in all_views:
        view.clicks.sort()
        for kind, target, at in _frustration(view.clicks, changes, view.end, settings):
            add(kind, view.url, target)
            # one replay link per session and element: at its first time
            if (kind, view.url, target) not in linked:
                linked.add((kind, view.url, target))
                add("frustration_links", kind, view.url, target, session_id, total=at)

    seen_errors: set[tuple[str, str]] = set()
    errors = sorted((err[0], w, err[1], err[2]) for w, ev in events for err in ev["errors"])
    for when, window, message, frame in errors:
        pv = view_at(window, when)
        add("errors", message, frame, pv.url if pv else UNKNOWN_PAGE)
        if (message, frame) not in seen_errors:
            seen_errors.add((message, frame))
            add("error_sessions", message, frame)
            add("error_links", message, frame, session_id, total=when)
    for window, ev in events:
        for t, name, value in ev["vitals"]:
            pv = view_at(window, t)
            add(
                "vitals",
                pv.url if pv else UNKNOWN_PAGE,
                name,
                vital_rating(name, value),
                vital_bin(name, value),
                total=value,
            )
        for _t, name in ev["custom"]:
            add("custom", name)

    _forms(events, view_at, add)
    _path(all_views, events, add, session_id, start)
    return rows


def _pair(
    named: dict[tuple[str, int], list[list[Any]]],
    used: dict[tuple[str, int], int],
    window: str,
    node: Any,
    t: int,
) -> list[Any] | None:
    """The recorder's account of rrweb's click at ``t`` on ``node``: the
    earliest unpaired one within :data:`PAIR_MS`. Clicks come in time order,
    so one too old for this click is too old for every later one."""
    if not isinstance(node, int):
        return None
    key = (window, node)
    found = named.get(key)
    if not found:
        return None
    i = used[key]
    while i < len(found) and found[i][0] < t - PAIR_MS:
        i += 1
    if i < len(found) and found[i][0] <= t + PAIR_MS:
        used[key] = i + 1
        return found[i]
    used[key] = i
    return None


def _first_time(ev: dict[str, Any]) -> int:
    times = [c[0] for c in ev["clicks"]] + [s[0] for s in ev["scrolls"]] + ev["changes"]
    times += [e[0] for e in ev["errors"]] + [f[0] for f in ev["forms"]]
    return min(times, default=0)


def _frustration(
    clicks: list[list[Any]], changes: list[int], end: int, s: AnalyticsSettings
) -> list[tuple[str, str, int]]:
    """Rage bursts and dead clicks of one page view, by the same rules as
    the session summary and the replay page (thresholds from settings)."""
    found: list[tuple[str, str, int]] = []
    i = 0
    while i < len(clicks):
        t0, x0, y0, sel = clicks[i]
        j = i + 1
        while (
            j < len(clicks)
            and clicks[j][0] - t0 <= s.rage_window_ms
            and abs(clicks[j][1] - x0) <= s.rage_radius_px
            and abs(clicks[j][2] - y0) <= s.rage_radius_px
        ):
            j += 1
        if j - i >= s.rage_clicks:
            found.append(("rage", sel, t0))
            i = j
        else:
            i += 1
    for t, _x, _y, sel in clicks:
        if end - t < s.dead_click_wait_ms:
            continue
        k = bisect.bisect_left(changes, t)
        if k == len(changes) or changes[k] > t + s.dead_click_wait_ms:
            found.append(("dead", sel, t))
    return found


def _forms(events: list[tuple[str, Any]], view_at: Any, add: Any) -> None:
    # per page view: fields in the order they were last used, and whether
    # the form was submitted; never any value
    per_view: dict[tuple[str, int], dict[str, Any]] = {}
    for window, ev in events:
        for t, action, node in ev["forms"]:
            pv = view_at(window, t)
            if pv is None:
                continue
            state = per_view.setdefault(
                (window, pv.t), {"url": pv.url, "last": {}, "submit": False}
            )
            if action == "submit":
                state["submit"] = True
                continue
            field = pv.named.get(str(node)) or pv.nodes.get(str(node))
            if field is None or field.split("#")[0].split("[")[0].split(".")[0] not in (
                "input",
                "select",
                "textarea",
            ):
                continue
            if action in ("focus", "change"):
                add("forms", pv.url, field, action)
            state["last"][field] = max(state["last"].get(field, 0), t)
    for state in per_view.values():
        if not state["last"]:
            continue
        add("form_starts", state["url"])
        if state["submit"]:
            add("form_submits", state["url"])
        else:
            last = max(state["last"].items(), key=lambda kv: kv[1])[0]
            add("form_abandons", state["url"], last)


def _path(
    all_views: list[PageView],
    events: list[tuple[str, Any]],
    add: Any,
    session_id: str,
    start: int,
) -> None:
    steps = [(pv.t, "u:" + pv.url) for pv in all_views]
    steps += [(t, "e:" + name) for _w, ev in events for t, name in ev["custom"]]
    steps.sort()
    path: list[str] = []
    for _t, step in steps:
        if not path or path[-1] != step:
            path.append(step)
    joined = "\x1f".join(path[:MAX_PATH_STEPS])
    add("paths", joined)
    # the funnel's replays of sessions that dropped: the same path, so the
    # list agrees with the counts, and the filters apply to both
    add("path_links", joined, session_id, total=start)
