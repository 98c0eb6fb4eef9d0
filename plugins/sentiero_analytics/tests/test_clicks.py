"""Clicks and form fields named by the recorder (``sentiero:click``,
``sentiero:field``): the collector takes their selectors and positions
instead of reading snapshots, still reads the recordings of other
recorders, and survives whatever a browser sends."""

from __future__ import annotations

import math
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sentiero_analytics import REPORTS
from sentiero_analytics.collector import collect
from sentiero_analytics.facts import MAX_SELECTOR, batch_facts
from sentiero_analytics.fold import fold_session
from sentiero_analytics.settings import AnalyticsSettings

from sentiero_core import parse_filters
from sentiero_core.store import AggregateRow, Batch, BatchDigest, MemoryStore, RequestMeta
from sentiero_core.testing import T0, click, custom, input_change, make_batch, meta

SETTINGS = AnalyticsSettings()
PAGE = "https://shop.example/a"
BY_NAME = {r.name: r for r in REPORTS}


def element(node_id: int, tag: str, attrs: dict[str, str], children: list[Any]) -> dict[str, Any]:
    return {
        "type": 2,
        "id": node_id,
        "tagName": tag,
        "attributes": attrs,
        "childNodes": children,
    }


def snapshot(ts: int, mark: bool) -> dict[str, Any]:
    """A page with a button (id 5) holding an icon (id 6), and a field (id 7)."""
    body = element(
        3,
        "body",
        {},
        [
            element(5, "button", {"id": "buy"}, [element(6, "svg", {"class": "icon"}, [])]),
            element(7, "input", {"name": "email"}, []),
        ],
    )
    data: dict[str, Any] = {
        "node": {"type": 0, "id": 1, "childNodes": [element(2, "html", {}, [body])]},
        "initialOffset": {"left": 0, "top": 0},
    }
    if mark:
        data["sentiero"] = 1
    return {"type": 2, "data": data, "timestamp": ts}


def added(ts: int, mark: bool) -> dict[str, Any]:
    """A mutation adding a link (id 20) under the body."""
    data: dict[str, Any] = {
        "source": 0,
        "texts": [],
        "attributes": [],
        "removes": [],
        "adds": [{"parentId": 3, "nextId": None, "node": element(20, "a", {"id": "more"}, [])}],
    }
    if mark:
        data["sentiero"] = 1
    return {"type": 3, "data": data, "timestamp": ts}


def named_click(ts: int, node: int, sel: str, **pos: Any) -> dict[str, Any]:
    return custom(ts, "sentiero:click", {"id": node, "sel": sel, **pos})


def field(ts: int, node: int, sel: str) -> dict[str, Any]:
    return custom(ts, "sentiero:field", {"id": node, "sel": sel})


def interaction(ts: int, kind: int, node: int) -> dict[str, Any]:
    return {"type": 3, "timestamp": ts, "data": {"source": 2, "type": kind, "id": node}}


def rows(name: str, found: list[AggregateRow]) -> dict[tuple[str, ...], int]:
    """The counts of rows ``name`` (with the session's segment) by their own dims."""
    out: dict[tuple[str, ...], int] = {}
    for r in found:
        if r.name == name:
            out[r.dims[9:]] = out.get(r.dims[9:], 0) + r.count
    return out


def raw_batch(events: list[Any]) -> Batch:
    """A batch as a hostile client could make it: the digest (the core's
    business) is left out, as are the ingest's JSON limits (an integer past
    64 bits, NaN: the rebuild reads events back from stores)."""
    return Batch("s", "w1", events, RequestMeta(T0), BatchDigest("w1", T0, T0 + 99, len(events)))


def fold(*batches: list[dict[str, Any]]) -> list[AggregateRow]:
    facts: dict[str, Any] = {}
    for seq, events in enumerate(batches, 1):
        facts.update(batch_facts(make_batch("s", "w1", events, seq=seq)))
    return fold_session("s", facts, SETTINGS)


def test_marked_snapshots_and_mutations_are_not_read() -> None:
    marked = batch_facts(make_batch("s", "w1", [snapshot(T0, True), added(T0 + 5, True)]))
    assert next(v for k, v in marked.items() if k.startswith("ev|"))["nodes"] == []
    plain = batch_facts(make_batch("s", "w1", [snapshot(T0, False), added(T0 + 5, False)]))
    nodes = next(v for k, v in plain.items() if k.startswith("ev|"))["nodes"]
    assert nodes == [
        [T0, {"5": "button#buy", "6": "button#buy", "7": 'input[name="email"]'}],
        [T0 + 5, {"20": "a#more"}],
    ]


def test_clicks_take_the_recorders_selector_and_position() -> None:
    # the recorder's event comes first (a window listener), rrweb's after; a
    # batch may end between them
    found = fold(
        [meta(T0, PAGE), snapshot(T0 + 1, True)],
        [named_click(T0 + 100, 6, "button#buy", x=150, y=10, w=200, h=50)],
        [click(T0 + 101, 250, 110, node_id=6)],
        # a double click on the icon: each pairs with its own position
        [named_click(T0 + 5_000, 6, "button#buy", x=0, y=0, w=200, h=50)],
        [click(T0 + 5_001, 100, 100, node_id=6)],
        [named_click(T0 + 5_080, 6, "button#buy", x=200, y=50, w=200, h=50)],
        [click(T0 + 5_081, 300, 150, node_id=6)],
        # a click by keyboard: named, without a position
        [named_click(T0 + 9_000, 5, "button#buy"), click(T0 + 9_000, 0, 0, node_id=5)],
    )
    assert rows("targets", found) == {(PAGE, "button#buy"): 4}
    assert rows("element_clicks", found) == {
        (PAGE, "desktop", "button#buy", "7", "2"): 1,
        (PAGE, "desktop", "button#buy", "0", "0"): 1,
        # the far edge is the last cell
        (PAGE, "desktop", "button#buy", "9", "9"): 1,
    }


def test_a_click_the_recorder_did_not_name_falls_back() -> None:
    found = fold(
        [meta(T0, PAGE), snapshot(T0 + 1, True)],
        # named once: a later click on the same node without its own event
        # still gets the name, but no position
        [named_click(T0 + 100, 7, 'input[name="email"]', x=1, y=1, w=10, h=10)],
        [click(T0 + 100, 5, 5, node_id=7), click(T0 + 3_000, 5, 5, node_id=7)],
        # a node nobody named: a marked snapshot is not read
        [click(T0 + 4_000, 5, 5, node_id=6)],
        # a recorder's click with no rrweb click (sampled out) counts nothing
        [named_click(T0 + 6_000, 5, "button#buy", x=1, y=1, w=10, h=10)],
    )
    assert rows("targets", found) == {(PAGE, 'input[name="email"]'): 2, (PAGE, "(unknown)"): 1}
    assert sum(rows("element_clicks", found).values()) == 1


def test_recordings_of_other_recorders_are_read_as_before() -> None:
    found = fold(
        [meta(T0, PAGE), snapshot(T0 + 1, False)],
        [added(T0 + 50, False), click(T0 + 100, 5, 5, node_id=6), click(T0 + 200, 5, 5, 20)],
        [interaction(T0 + 300, 5, 7), input_change(T0 + 400, node_id=7)],
    )
    assert rows("targets", found) == {(PAGE, "button#buy"): 1, (PAGE, "a#more"): 1}
    assert rows("element_clicks", found) == {}
    assert rows("forms", found) == {
        (PAGE, 'input[name="email"]', "focus"): 1,
        (PAGE, 'input[name="email"]', "change"): 1,
    }


def test_form_fields_are_named_by_the_recorder() -> None:
    found = fold(
        [meta(T0, PAGE), snapshot(T0 + 1, True)],
        [field(T0 + 300, 7, 'input[name="email"]'), interaction(T0 + 300, 5, 7)],
        [input_change(T0 + 400, node_id=7), input_change(T0 + 500, node_id=7)],
        # a change without focus (autofill): named by its change
        [field(T0 + 600, 9, "select#country"), input_change(T0 + 600, node_id=9)],
        # an element that is no field is never one
        [field(T0 + 700, 5, "button#buy"), input_change(T0 + 700, node_id=5)],
    )
    assert rows("forms", found) == {
        (PAGE, 'input[name="email"]', "focus"): 1,
        (PAGE, 'input[name="email"]', "change"): 2,
        (PAGE, "select#country", "change"): 1,
    }
    assert rows("form_abandons", found) == {(PAGE, "select#country"): 1}


@pytest.mark.asyncio
async def test_the_heatmap_report_gives_positions_per_element() -> None:
    store = MemoryStore()
    await store.open()
    events = [meta(T0, PAGE), snapshot(T0 + 1, True)]
    for i, (x, y) in enumerate([(10, 5), (12, 6), (190, 45)]):
        t = T0 + 100 + i * 2_000
        events += [named_click(t, 6, "button#buy", x=x, y=y, w=200, h=50), click(t, 0, 0, 6)]
    batch = make_batch("s", "w1", events, seq=1)
    await store.append(batch)
    await collect(batch, store, SETTINGS)
    f = parse_filters({"from": "2023-11-01", "to": "2023-11-30", "page": PAGE})
    heat = await BY_NAME["heatmap"].analyze(store, f, None)
    assert heat["element_grid"] == 10
    assert heat["elements"] == [
        {"viewport": "desktop", "selector": "button#buy", "x": 0.0, "y": 0.1, "clicks": 2},
        {"viewport": "desktop", "selector": "button#buy", "x": 0.9, "y": 0.9, "clicks": 1},
    ]
    assert heat["rows"] == [{"viewport": "desktop", "x": 0, "y": 0, "clicks": 3}]
    await store.close()


HOSTILE_PAYLOADS: list[Any] = [
    None,
    "click",
    [1, 2],
    {},
    {"id": "5", "sel": "a"},
    {"id": True, "sel": "a"},
    {"id": 2**40, "sel": "a"},
    {"id": 10**400, "sel": "a"},
    {"id": -7, "sel": "a"},
    {"id": 5.0, "sel": "a"},
    {"id": 5, "sel": ""},
    {"id": 5, "sel": ["a"]},
    {"id": 5, "sel": {"$gt": ""}},
    {"id": 5, "sel": None},
]
HOSTILE_POSITIONS: list[dict[str, Any]] = [
    {"x": float("nan"), "y": 1, "w": 10, "h": 10},
    {"x": float("inf"), "y": 1, "w": 10, "h": 10},
    {"x": 1, "y": 1, "w": float("inf"), "h": 10},
    {"x": 10**400, "y": 1, "w": 10**401, "h": 10},
    {"x": True, "y": 1, "w": 10, "h": 10},
    {"x": "1", "y": 1, "w": 10, "h": 10},
    {"x": 11, "y": 1, "w": 10, "h": 10},
    {"x": -1, "y": 1, "w": 10, "h": 10},
    {"x": 0, "y": 0, "w": 0, "h": 10},
    {"x": 0, "y": 0, "w": -5, "h": -5},
    {"x": 1, "y": 1, "w": 10},
]


def test_hostile_click_and_field_events_are_left_out() -> None:
    events: list[Any] = [meta(T0, PAGE)]
    for i, payload in enumerate(HOSTILE_PAYLOADS):
        events += [custom(T0 + i, "sentiero:click", payload)]
        events += [custom(T0 + i, "sentiero:field", payload)]
    events += [{"type": 5, "timestamp": T0, "data": {"tag": "sentiero:click"}}]
    events += [{"type": 5, "timestamp": T0, "data": "sentiero:click"}]
    facts = batch_facts(raw_batch(events))
    ev = next(v for k, v in facts.items() if k.startswith("ev|"))
    assert ev["targets"] == [] and ev["fields"] == []


def test_hostile_positions_are_dropped_and_long_selectors_cut() -> None:
    events = [
        named_click(T0 + i, 5, "b" * 10_000, **pos) for i, pos in enumerate(HOSTILE_POSITIONS)
    ]
    events.append(named_click(T0 + 99, 5, "a", x=5, y=2.5, w=10, h=5))
    facts = batch_facts(raw_batch(events))
    targets = next(v for k, v in facts.items() if k.startswith("ev|"))["targets"]
    assert [t[3:] for t in targets] == [[None, None]] * len(HOSTILE_POSITIONS) + [[0.5, 0.5]]
    assert {len(t[2]) for t in targets[:-1]} == {MAX_SELECTOR}
    orjson.dumps(facts)  # storable as JSON: no NaN, no integer past 64 bits


def test_hostile_rrweb_events_do_not_break_the_collector() -> None:
    huge = 10**400
    events: list[Any] = [
        meta(T0, PAGE),
        {"type": 4, "timestamp": T0, "data": {"href": PAGE, "width": huge, "height": 1e308}},
        {"type": 3, "timestamp": T0 + 1, "data": {"source": 2, "type": 2, "id": [1], "x": huge}},
        {"type": 3, "timestamp": T0 + 2, "data": {"source": 2, "type": 2, "id": 1, "y": 1e308}},
        {"type": 3, "timestamp": T0 + 3, "data": {"source": 3, "id": 1, "y": 1e308}},
        {"type": 3, "timestamp": T0 + 4, "data": {"source": 0, "adds": 5}},
        {"type": 3, "timestamp": T0 + 5, "data": {"source": 0, "adds": "abc"}},
        {"type": 3, "timestamp": T0 + 6, "data": {"source": 0, "adds": [{"node": [1]}]}},
        {"type": 3, "timestamp": T0 + 7, "data": {"source": 5, "id": {"a": 1}}},
        {"type": 2, "timestamp": T0 + 8, "data": {"node": "html", "sentiero": [1]}},
        {
            "type": 5,
            "timestamp": T0 + 9,
            "data": {"tag": "sentiero:vital", "payload": {"value": huge}},
        },
    ]
    facts = batch_facts(raw_batch(events))
    orjson.dumps(facts)
    ev = next(v for k, v in facts.items() if k.startswith("ev|"))
    assert [c[3] for c in ev["clicks"]] == [None, 1]
    assert all(math.isfinite(v) for c in ev["clicks"] for v in c[1:3])
    found = fold_session("s", facts, SETTINGS)
    assert rows("targets", found) == {(PAGE, "(unknown)"): 2}


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["id", "sel", "x", "y", "w", "h", "sentiero"]), children)
    ),
    max_leaves=12,
)
PAYLOADS = (
    st.fixed_dictionaries({}, optional={k: JSON for k in ("id", "sel", "x", "y", "w", "h")}) | JSON
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["sentiero:click", "sentiero:field"]), PAYLOADS, JSON),
        max_size=8,
    )
)
def test_any_payload_is_collected_without_error(found: list[tuple[str, Any, Any]]) -> None:
    events: list[Any] = [meta(T0, PAGE)]
    for i, (tag, payload, node) in enumerate(found):
        events.append(custom(T0 + i, tag, payload))
        events.append(
            {"type": 3, "timestamp": T0 + i, "data": {"source": 2, "type": 2, "id": node}}
        )
    facts = batch_facts(raw_batch(events))
    orjson.dumps(facts)
    fold_session("s", facts, SETTINGS)
