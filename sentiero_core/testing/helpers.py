"""Small async helpers the contract suite (and store tests) share."""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Iterable

import orjson

from ..store import Batch, Event, SessionFilter, SessionSummary, Store, decode_blob, merge_digest

#: Guard against a store whose cursors never end.
MAX_PAGES = 10_000


async def append_all(store: Store, batches: Iterable[Batch]) -> None:
    """Append one after the other, in the given (arrival) order."""
    for batch in batches:
        await store.append(batch)


async def read_all(
    store: Store, session_id: str, limit: int = 1000, window_id: str | None = None
) -> list[Event]:
    """Every event of a session, following cursors page by page."""
    events: list[Event] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = await store.read_events(session_id, cursor=cursor, limit=limit, window_id=window_id)
        assert len(page.events) <= limit, f"a page held {len(page.events)} events, limit {limit}"
        events.extend(page.events)
        if page.next is None:
            return events
        assert page.events, "a page with no events must be the last one (next=None)"
        cursor = page.next
    raise AssertionError(f"read_events never returned next=None in {MAX_PAGES} pages")


async def list_all(
    store: Store, filter: SessionFilter | None = None, limit: int = 50
) -> list[SessionSummary]:
    """Every matching summary, following cursors page by page."""
    sessions: list[SessionSummary] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = await store.list_sessions(filter=filter, cursor=cursor, limit=limit)
        assert len(page.sessions) <= limit, f"a page held {len(page.sessions)}, limit {limit}"
        sessions.extend(page.sessions)
        if page.next is None:
            return sessions
        assert page.sessions, "a page with no sessions must be the last one (next=None)"
        cursor = page.next
    raise AssertionError(f"list_sessions never returned next=None in {MAX_PAGES} pages")


async def listed_ids(
    store: Store, filter: SessionFilter | None = None, limit: int = 50
) -> list[str]:
    return [s.session_id for s in await list_all(store, filter, limit)]


def labels(events: Iterable[Event]) -> list[str]:
    """The labels of events built by ``factories.text_mutation``."""
    return [e["data"]["texts"][0]["value"] for e in events]


def reference_summaries(batches: Iterable[Batch]) -> dict[str, SessionSummary]:
    """What every store's summaries must equal: the digests folded in
    arrival order by :func:`sentiero_core.store.merge_digest`."""
    summaries: dict[str, SessionSummary] = {}
    for batch in batches:
        summaries[batch.session_id] = merge_digest(
            summaries.get(batch.session_id), batch.session_id, batch.digest
        )
    return summaries


def reachable_data(root: object) -> list[bytes | str]:
    """Every ``str`` and ``bytes`` reachable from ``root`` through its
    attributes, containers and dataclasses, with each blob that
    :func:`sentiero_core.store.decode_blob` can read decoded too: the
    ``raw_storage`` of a store that keeps its data in Python objects."""
    found: list[bytes | str] = []
    seen: set[int] = set()
    stack: list[object] = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, str):
            found.append(obj)
        elif isinstance(obj, bytes | bytearray | memoryview):
            found.append(bytes(obj))
            try:
                found.append(orjson.dumps(decode_blob(bytes(obj))))
            except ValueError:
                pass
        elif isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, list | tuple | set | frozenset | collections.deque):
            stack.extend(obj)
        elif obj is root or dataclasses.is_dataclass(obj):
            names = list(getattr(obj, "__dict__", {}))
            for cls in type(obj).__mro__:
                slots = getattr(cls, "__slots__", ())
                names += [slots] if isinstance(slots, str) else list(slots)
            stack.extend(getattr(obj, name) for name in names if hasattr(obj, name))
    return found
