"""Synthetic aggregates for ``bench/analytics.py``, made by the real
collector's fold and streamed one day at a time, so a million sessions fit
in a few hundred MB and a few minutes. (Not a bench: ``make bench`` runs
only the scripts whose names do not start with "_".)

A pool of session templates (random multi-page visits with clicks, scrolls,
form use, errors, vitals and custom events) is folded by
``sentiero_analytics.fold.fold_session``. Each synthetic session takes a
template, a day among :data:`DAYS`, a segment drawn from skewed, realistic
shares (most visitors on Chrome, desktop, direct) and, when identified, a
user from a pool (so some return). Its rows are the template's with the
segment (and its session id and user where a row names them) put in;
:func:`daily_totals` adds them up per day, which is what collecting those
sessions one by one would leave in the store's totals.
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sentiero_analytics.fold import ROLLUP, fold_session
from sentiero_analytics.settings import AnalyticsSettings

from sentiero_core import SEGMENTS, segment_dims
from sentiero_core.store import DAY_MS, AggregateRow, check_rows

SETTINGS = AnalyticsSettings()
DAYS = 30
FIRST_DAY = 20_400
TEMPLATES = 200
PAGES = [f"https://shop.example/{p}" for p in ("", "list", "cart", "checkout", "help")] + [
    f"https://shop.example/product/{i}" for i in range(45)
]
S = len(SEGMENTS)

# (value, weight): skewed like real traffic; each table's weights add up to 100
BROWSERS = [("chrome", 62), ("safari", 20), ("firefox", 8), ("edge", 7), ("samsung", 3)]
OSES = [("windows", 40), ("ios", 22), ("android", 20), ("macos", 14), ("linux", 4)]
DEVICES = [("desktop", 58), ("mobile", 38), ("tablet", 4)]
REFERRERS = [("direct", 50), ("www.google.com", 30), ("www.bing.com", 6), ("t.co", 5)]
REFERRERS += [(f"blog{i}.example", 1) for i in range(9)]
UTM = [(("", "", ""), 85)] + [((f"src{i}", "cpc", f"camp{i}"), 3) for i in range(5)]
IDENTIFIED = 0.2
#: Rows that name the session (its id is their last dimension).
LINKS = ("error_links", "frustration_links", "path_links")

Row = tuple[str, int, tuple[str, ...], int, float]


def _table(choices: list[tuple[Any, int]]) -> list[Any]:
    """One slot per percent: a uniform draw from it follows the weights."""
    slots = [value for value, weight in choices for _ in range(weight)]
    assert len(slots) == 100, choices
    return slots


def template_facts(rng: random.Random, n: int) -> dict[str, Any]:
    """Facts of one synthetic visit, as the collector would merge them."""
    t = FIRST_DAY * DAY_MS + rng.randint(0, DAY_MS // 2)
    facts: dict[str, Any] = {f"b|w|{n}": ["w", t, t + 1, "chrome", "windows", "desktop"]}
    pages = [rng.choice(PAGES[:5])] + [
        rng.choice(PAGES) for _ in range(rng.choices([0, 1, 2, 3, 5], [35, 25, 20, 12, 8])[0])
    ]
    for i, url in enumerate(pages):
        pv = t
        facts[f"pv|w|{pv}"] = [url, 1280, 720]
        nodes = {str(k): f"button#b{k}" for k in range(1, 30)} | {"40": 'input[name="email"]'}
        clicks = [
            [pv + 500 + k * 700, rng.randint(0, 1200), rng.randint(0, 700), rng.randint(1, 30)]
            for k in range(rng.randint(0, 6))
        ]
        events: dict[str, Any] = {
            "clicks": clicks,
            "scrolls": [[pv + 300, rng.randint(0, 3000)]],
            "changes": [pv + 600 + k * 700 for k in range(3)],
            "errors": [[pv + 900, f"TypeError: e{rng.randint(0, 9)}", "app.js:1:1"]]
            if rng.random() < 0.1
            else [],
            "vitals": [[pv + 1000, "LCP", rng.uniform(800, 5000)], [pv + 1100, "CLS", 0.05]],
            "custom": [[pv + 1200, "add_to_cart"]] if rng.random() < 0.2 else [],
            "forms": [[pv + 1300, "focus", 40], [pv + 1400, "change", 40]]
            if url.endswith("checkout")
            else [],
            "nodes": [[pv, nodes]],
            "active": list(range(pv // 1000, pv // 1000 + rng.randint(2, 40))),
        }
        facts[f"ev|w|{n}-{i}"] = events
        t += rng.randint(3_000, 90_000)
    facts[f"b|w|{n}"][2] = t
    if rng.random() < 0.3:
        facts[f"ref|{facts[f'b|w|{n}'][1]}"] = "https://www.google.com/"
    return facts


@dataclass
class _Template:
    """A folded template, split the way sessions reuse it."""

    segmented: list[tuple[int, int, float]] = field(default_factory=list)  # (row id, n, total)
    rollup: list[AggregateRow] = field(default_factory=list)
    links: list[AggregateRow] = field(default_factory=list)
    duration: float = 0.0


@dataclass
class SyntheticSessions:
    """``sessions`` drawn once (a few bytes each); their totals made a day
    at a time by :func:`daily_totals`."""

    sessions: int
    seed: int = 1
    templates: list[_Template] = field(default_factory=list)
    #: (name, dims after the segment) of each segmented template row
    row_keys: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    segments: list[tuple[str, ...]] = field(default_factory=list)
    #: per day: template, segment id, session number and user (-1: anonymous)
    days: list[tuple[array[int], array[int], array[int], array[int]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        ids: dict[tuple[str, tuple[str, ...]], int] = {}
        for i in range(TEMPLATES):
            tpl = _Template()
            # merged by key, as the store keeps a contribution
            for r in check_rows(fold_session(f"t{i}", template_facts(rng, i), SETTINGS)):
                if r.name.endswith(ROLLUP):
                    tpl.rollup.append(r)
                elif r.name in LINKS:
                    tpl.links.append(r)
                elif r.name == "sessions":
                    tpl.duration = r.total
                    tpl.segmented.append((ids.setdefault((r.name, ()), len(ids)), 1, r.total))
                elif "@" not in r.name:  # sessions@<segment> are made from the segment
                    key = (r.name, r.dims[S:])
                    tpl.segmented.append((ids.setdefault(key, len(ids)), r.count, r.total))
            self.templates.append(tpl)
        self.row_keys = list(ids)
        browsers, oses, devices = _table(BROWSERS), _table(OSES), _table(DEVICES)
        referrers, utms = _table(REFERRERS), _table(UTM)
        seg_ids: dict[tuple[str, ...], int] = {}
        self.days = [(array("i"), array("i"), array("i"), array("i")) for _ in range(DAYS)]
        users = self.sessions // 3 + 1
        for n in range(self.sessions):
            tpl_n = rng.randrange(TEMPLATES)
            day = rng.randrange(DAYS)
            device = devices[rng.randrange(100)]
            source, medium, campaign = utms[rng.randrange(100)]
            identified = rng.random() < IDENTIFIED
            seg = segment_dims(
                browser=browsers[rng.randrange(100)],
                os=oses[rng.randrange(100)],
                device=device,
                viewport=device,
                referrer=referrers[rng.randrange(100)],
                utm_source=source,
                utm_medium=medium,
                utm_campaign=campaign,
                identified="yes" if identified else "no",
            )
            tpls, segs, numbers, user_ids = self.days[day]
            tpls.append(tpl_n)
            segs.append(seg_ids.setdefault(seg, len(seg_ids)))
            numbers.append(n)
            user_ids.append(rng.randrange(users) if identified else -1)
        self.segments = list(seg_ids)


def daily_totals(data: SyntheticSessions) -> Iterator[list[Row]]:
    """Per day, the totals its sessions add up to: (name, day, dims, count,
    total) rows, each key once."""
    nseg = len(data.segments)
    for offset, (tpls, segs, numbers, user_ids) in enumerate(data.days):
        day = FIRST_DAY + offset
        cells: dict[int, int] = {}
        per_template = [0] * TEMPLATES
        for tpl_n, seg in zip(tpls, segs, strict=True):
            key = tpl_n * nseg + seg
            cells[key] = cells.get(key, 0) + 1
            per_template[tpl_n] += 1
        counts: dict[int, int] = {}
        totals: dict[int, float] = {}
        by_segment: dict[tuple[int, str], list[float]] = {}
        for cell, k in cells.items():
            tpl_n, seg = divmod(cell, nseg)
            tpl = data.templates[tpl_n]
            for row_id, n, total in tpl.segmented:
                key = row_id * nseg + seg
                counts[key] = counts.get(key, 0) + n * k
                totals[key] = totals.get(key, 0.0) + total * k
            for i, value in enumerate(data.segments[seg]):
                slot = by_segment.setdefault((i, value), [0, 0.0])
                slot[0] += k
                slot[1] += tpl.duration * k
        rows: list[Row] = []
        for key, count in counts.items():
            row_id, seg = divmod(key, nseg)
            name, rest = data.row_keys[row_id]
            rows.append((name, day, data.segments[seg] + rest, count, totals[key]))
        for (i, value), (count, total) in by_segment.items():
            rows.append((f"sessions@{SEGMENTS[i]}", day, (value,), int(count), total))
        rollups: dict[tuple[str, tuple[str, ...]], list[float]] = {}
        for tpl_n, k in enumerate(per_template):
            for r in data.templates[tpl_n].rollup if k else ():
                slot = rollups.setdefault((r.name, r.dims), [0, 0.0])
                slot[0] += r.count * k
                slot[1] += r.total * k
        rows += [(name, day, dims, int(c), t) for (name, dims), (c, t) in rollups.items()]
        # rows naming a session or a user, one set per session; a link's
        # time moves with its session (to its day, at its own hour)
        users: dict[tuple[str, ...], int] = {}
        for tpl_n, seg, number, user in zip(tpls, segs, numbers, user_ids, strict=True):
            segment = data.segments[seg]
            sid = f"s{number:07d}"
            shift = offset * DAY_MS + number * 7_919 % (DAY_MS // 2)
            for r in data.templates[tpl_n].links:
                dims = (*segment, *r.dims[S:-1], sid)
                rows.append((r.name, day, dims, r.count, r.total + shift * r.count))
            if user >= 0:
                dims = (*segment, f"user{user}")
                users[dims] = users.get(dims, 0) + 1
        rows += [("users", day, dims, n, 0.0) for dims, n in users.items()]
        yield rows
