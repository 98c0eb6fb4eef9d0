"""What one batch tells about its session, as facts keyed so that every
delivery of the batch writes the same keys and values (see
``Store.merge_facts``). Facts never depend on other batches: whatever
order batches arrive in, the session's facts end up the same set.

Keys: ``b|<batch>`` holds the batch's own record (window, first and last
time, UA fields); ``pv|<window>|<t>`` a page view (URL, viewport width and
height); ``ref|<t>`` a referrer; ``id|<t>`` an identified user;
``ev|<batch>`` the batch's events of interest (clicks, scroll samples,
page-change times, errors, vitals, custom events, form use, seconds with
user activity, the elements Sentiero's recorder named for clicks and
fields, and, for recordings without those names, the selectors of the
elements snapshots and mutations drew).

Every value comes from a browser: anything of the wrong type is left out,
numbers are clamped, strings cut.
"""

from __future__ import annotations

import math
from typing import Any

from sentiero_core.store import Batch, event_time

# rrweb's event numbers and the recorder's custom-event tags
# (sentiero_core/events.py holds the full vocabulary).
INCREMENTAL, META, FULL_SNAPSHOT, CUSTOM = 3, 4, 2, 5
SOURCE_MUTATION, SOURCE_MOUSE_INTERACTION, SOURCE_SCROLL, SOURCE_INPUT = 0, 2, 3, 5
CLICK, FOCUS, BLUR = 2, 5, 6
#: mouse move, mouse interaction, scroll, input, touch move, drag
ACTIVITY_SOURCES = frozenset({1, 2, 3, 5, 6, 12})
TAG_META = "sentiero:meta"
TAG_ERROR = "sentiero:error"
TAG_CUSTOM = "sentiero:custom"
TAG_FORM_SUBMIT = "sentiero:form_submit"
TAG_VITAL = "sentiero:vital"
TAG_IDENTIFY = "sentiero:identify"
TAG_PAGE = "sentiero:page"
TAG_CLICK = "sentiero:click"
TAG_FIELD = "sentiero:field"
#: Sentiero's recorder marks its full snapshots and its mutations adding
#: nodes with ``"sentiero": 1`` in their data: it names clicked elements and
#: used fields itself (:data:`TAG_CLICK`, :data:`TAG_FIELD`), so the nodes
#: of a marked event are not read. Other recordings (older recorders, rrweb
#: elsewhere) are read as before.
NAMED_MARK = "sentiero"
MAX_SELECTOR = 200
#: Largest coordinate kept (CSS pixels): browsers cap documents near 2**25.
MAX_COORD = 2**25

#: Most nodes whose selector one snapshot contributes.
MAX_NODES = 1500
FIELD_TAGS = frozenset({"input", "select", "textarea"})


def as_object(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one: events come from browsers."""
    return value if isinstance(value, dict) else {}


def batch_key(batch: Batch) -> str:
    seq = batch.seq if batch.seq is not None else f"t{batch.digest.first_ts}"
    return f"{batch.window_id}|{seq}"


def _selector(node: dict[str, Any]) -> str:
    tag = str(node.get("tagName") or "?").lower()
    attrs = as_object(node.get("attributes"))
    if attrs.get("id"):
        return f"{tag}#{str(attrs['id'])[:60]}"
    if attrs.get("name") and tag in FIELD_TAGS:
        return f'{tag}[name="{str(attrs["name"])[:60]}"]'
    cls = str(attrs.get("class") or "").split()
    return f"{tag}.{cls[0][:60]}" if cls else tag


#: Elements a click is attributed to: a click on a descendant (the icon in
#: a button) counts for the nearest of them.
TARGET_TAGS = frozenset({"a", "button", "input", "select", "textarea", "label", "summary"})


def _is_target(node: dict[str, Any]) -> bool:
    attrs = as_object(node.get("attributes"))
    tag = str(node.get("tagName") or "").lower()
    return tag in TARGET_TAGS or bool(attrs.get("id")) or bool(attrs.get("role"))


def _walk(node: Any, out: dict[str, str]) -> None:
    """Selectors of the target elements under ``node`` and of everything
    inside them (their nearest target's), at most :data:`MAX_NODES`."""
    stack: list[tuple[Any, str | None]] = [(node, None)]
    while stack and len(out) < MAX_NODES:
        n, inherited = stack.pop()
        if not isinstance(n, dict):
            continue
        own = inherited
        if n.get("type") == 2 and isinstance(n.get("id"), int):  # an element
            if _is_target(n):
                own = _selector(n)
            if own is not None:
                out[str(n["id"])] = own
        children = n.get("childNodes")
        if isinstance(children, list):
            stack.extend((c, own) for c in reversed(children))


def _finite(v: Any) -> float | None:
    """``v`` as a finite float, or None when it is not a number (or not finite)."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    try:
        f = float(v)
    except OverflowError:  # an integer too large for a float
        return None
    return f if math.isfinite(f) else None


def _num(v: Any, limit: float = 2**31) -> float:
    """``v`` clamped to +-``limit``; 0 when it is no finite number."""
    f = _finite(v)
    return 0.0 if f is None else max(-limit, min(limit, f))


def _node_id(v: Any) -> int | None:
    """An rrweb node id (rrweb uses -1 for a node it does not know)."""
    return v if isinstance(v, int) and not isinstance(v, bool) and -1 <= v < 2**31 else None


def _named(payload: dict[str, Any]) -> tuple[int, str] | None:
    """The node id and selector of a click or field event, if both are sound."""
    node, sel = _node_id(payload.get("id")), payload.get("sel")
    if node is None or not isinstance(sel, str) or not sel:
        return None
    return node, sel[:MAX_SELECTOR]


def _inside(payload: dict[str, Any]) -> tuple[float, float] | tuple[None, None]:
    """Where a click landed in its element, as fractions of the box's width
    and height; (None, None) without a sound position inside the box."""
    x, y, w, h = (_finite(payload.get(k)) for k in ("x", "y", "w", "h"))
    if x is None or y is None or w is None or h is None or w <= 0 or h <= 0:
        return None, None
    if not (0 <= x <= w and 0 <= y <= h):
        return None, None
    return round(x / w, 3), round(y / h, 3)


def batch_facts(batch: Batch) -> dict[str, Any]:
    d = batch.digest
    key = batch_key(batch)
    w = batch.window_id
    facts: dict[str, Any] = {
        f"b|{key}": [w, d.first_ts, d.last_ts, d.browser, d.os, d.device],
    }
    active: set[int] = set()
    clicks: list[list[Any]] = []
    scrolls: list[list[int]] = []
    changes: list[int] = []
    errors: list[list[Any]] = []
    vitals: list[list[Any]] = []
    customs: list[list[Any]] = []
    forms: list[list[Any]] = []
    # [time, node id, selector, x, y in the element (fractions, or None)]
    targets: list[list[Any]] = []
    fields: list[list[Any]] = []
    # [time, {node id: selector}] per snapshot or mutation: node ids start
    # again with every page load, so the fold reads them per page view
    nodes: list[list[Any]] = []
    for e in batch.events:
        if not isinstance(e, dict):
            continue
        t = event_time(e)
        data = as_object(e.get("data"))
        etype = e.get("type")
        if etype == INCREMENTAL:
            source = data.get("source")
            if source in ACTIVITY_SOURCES:
                active.add(t // 1000)
            if source == SOURCE_MOUSE_INTERACTION:
                kind = data.get("type")
                node = _node_id(data.get("id"))
                if kind == CLICK:
                    x, y = _num(data.get("x"), MAX_COORD), _num(data.get("y"), MAX_COORD)
                    clicks.append([t, x, y, node])
                elif kind in (FOCUS, BLUR):
                    forms.append([t, "focus" if kind == FOCUS else "blur", node])
            elif source == SOURCE_SCROLL and data.get("id") in (1, None):
                scrolls.append([t, int(_num(data.get("y"), MAX_COORD))])
            elif source == SOURCE_INPUT:
                changes.append(t)
                forms.append([t, "change", _node_id(data.get("id"))])
            elif source == SOURCE_MUTATION:
                changes.append(t)
                adds = data.get("adds")
                if data.get(NAMED_MARK) != 1 and isinstance(adds, list):
                    added_nodes: dict[str, str] = {}
                    for added in adds:
                        if isinstance(added, dict):
                            _walk(added.get("node"), added_nodes)
                    if added_nodes:
                        nodes.append([t, added_nodes])
        elif etype == META:
            changes.append(t)
            href = data.get("href")
            if isinstance(href, str) and href and data.get("checkout") is not True:
                facts[f"pv|{w}|{t}"] = [
                    href[:2048],
                    int(_num(data.get("width"), MAX_COORD)),
                    int(_num(data.get("height"), MAX_COORD)),
                ]
        elif etype == FULL_SNAPSHOT:
            changes.append(t)
            if data.get(NAMED_MARK) != 1:
                drawn: dict[str, str] = {}
                _walk(data.get("node"), drawn)
                nodes.append([t, drawn])
        elif etype == CUSTOM:
            tag = data.get("tag")
            payload = as_object(data.get("payload"))
            if tag == TAG_CLICK:
                named = _named(payload)
                if named is not None:
                    targets.append([t, *named, *_inside(payload)])
            elif tag == TAG_FIELD:
                named = _named(payload)
                if named is not None:
                    fields.append([t, *named])
            elif tag == TAG_ERROR:
                errors.append([t, str(payload.get("message") or "")[:300], _top_frame(payload)])
            elif tag == TAG_VITAL:
                vitals.append([t, str(payload.get("name") or "")[:20], _num(payload.get("value"))])
            elif tag == TAG_CUSTOM and payload.get("name"):
                customs.append([t, str(payload["name"])[:200]])
            elif tag == TAG_FORM_SUBMIT:
                forms.append(
                    [
                        t,
                        "submit",
                        str(payload.get("form_id") or payload.get("form_name") or "")[:100],
                    ]
                )
            elif tag == TAG_IDENTIFY and payload.get("user_id") not in (None, ""):
                facts[f"id|{t}"] = str(payload["user_id"])[:200]
            elif tag == TAG_PAGE and isinstance(payload.get("url"), str):
                changes.append(t)
                facts[f"pv|{w}|{t}"] = [payload["url"][:2048], 0, 0]
            elif (
                tag == TAG_META and isinstance(payload.get("referrer"), str) and payload["referrer"]
            ):
                facts[f"ref|{t}"] = payload["referrer"][:500]
    facts[f"ev|{key}"] = {
        "clicks": clicks,
        "scrolls": scrolls,
        "changes": sorted(set(changes)),
        "errors": errors,
        "vitals": vitals,
        "custom": customs,
        "forms": forms,
        "nodes": nodes,
        "targets": targets,
        "fields": fields,
        # seconds with user activity: their count is the active time,
        # however the events were cut into batches
        "active": sorted(active),
    }
    return facts


def _top_frame(payload: dict[str, Any]) -> str:
    stack = payload.get("stack")
    if isinstance(stack, str):
        for line in stack.splitlines():
            line = line.strip()
            if line.startswith("at ") or "@" in line:
                return line[:300]
    source = payload.get("source")
    if source:
        return f"{source}:{payload.get('line') or 0}:{payload.get('column') or 0}"[:300]
    return ""
