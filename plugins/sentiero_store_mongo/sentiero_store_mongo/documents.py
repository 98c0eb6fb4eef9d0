"""How batches and summaries are laid out as MongoDB documents.

``<prefix>batches``: one document per stored batch, its events as one blob
from :func:`sentiero_core.store.encode_blob` (a batch compresses about ninefold, a
single event barely at all)::

    {_id: ObjectId, or the batch key below, sid: session id, win: window id,
     seq: arrival order, t0: first timestamp, t1: last timestamp, n: events,
     size: blob bytes, blob: Binary, exp: expiry date (only with a retention
     period), part: 1, 2... (only on the continuation parts of a batch over
     15 MiB), cseq: the recorder's batch number (only for a batch with one),
     by: the id of the append that wrote it (likewise)}

A batch with the recorder's ``seq`` gets a deterministic ``_id``, a 16-byte
hash of (session, window, seq, part): a second delivery of the batch then
collides on the ``_id`` index and is recognised without any other index,
also on a sharded cluster (a session's batches share a shard). ``by`` tells
a retried insert of the same append (its own id) from another delivery on
a collision; whether the batch is counted is the summary's to say (its
``seqs``, see :mod:`.guards`), so nothing on the document changes once it
is written. Documents written before ``by`` carry ``pending`` instead (the
writing append's id until the summary counted the batch, then nothing) and
are read the old way.

``<prefix>sessions``: one summary per session, ``_id`` being the session id,
with the fields of :class:`SessionSummary` plus lower-cased copies of the
text the filters search, ``created_by`` (the batch that created it),
``recent`` and ``seqs`` (what it counts, see :mod:`.guards`).
"""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, datetime
from typing import Any

import orjson
from bson import Binary, ObjectId

from sentiero_core.store import Batch, BatchDigest, SessionSummary, StoredBatch, encode_blob

Document = dict[str, Any]
#: A batch document's ``_id``: an ObjectId, or a batch key (see batch_key).
BatchId = ObjectId | bytes

#: MongoDB refuses documents over 16 MiB; larger batches are split in parts.
MAX_BLOB_BYTES = 15 * 1024 * 1024
_INT64 = (-(2**63), 2**63 - 1)

#: Summary fields only the store reads; listings leave them out.
INTERNAL_SUMMARY_FIELDS = (
    "recent",
    "seqs",
    "created_by",
    "pages_lc",
    "browser_lc",
    "os_lc",
    "device_lc",
    "exp",
    "rm",
    "rm_at",
)


class SeqClock:
    """Arrival order for batches across app servers without a round trip:
    microseconds since the epoch, never repeating or going back within this
    process, with 10 random low bits so two servers never collide."""

    def __init__(self) -> None:
        self._last = 0
        self._node = int.from_bytes(os.urandom(2), "big") & 0x3FF

    def next(self) -> int:
        self._last = max(time.time_ns() // 1000, self._last + 1)
        return (self._last << 10) | self._node


def _ts(event: dict[str, Any]) -> int:
    value = event.get("timestamp")
    return int(value) if isinstance(value, int | float) else 0


def check_batch(batch: Batch) -> None:
    """Refuse what BSON cannot hold before anything is written."""
    if not isinstance(batch.session_id, str) or not batch.session_id:
        raise ValueError("session_id must be a non-empty string")
    if not isinstance(batch.window_id, str) or not batch.window_id:
        raise ValueError("window_id must be a non-empty string")
    d = batch.digest
    numbers = [
        d.first_ts,
        d.last_ts,
        d.event_count,
        d.raw_bytes,
        d.active_ms,
        batch.meta.received_at,
        batch.seq or 0,
        *(ts for ts, _url in d.page_views),
        *(_ts(e) for e in batch.events),
    ]
    for value in numbers:
        if not _INT64[0] <= value <= _INT64[1]:
            raise ValueError(f"a timestamp or count is out of range for MongoDB: {value}")


def expiry(received_at: int, retention_s: int | None) -> datetime | None:
    if retention_s is None:
        return None
    return datetime.fromtimestamp((received_at + retention_s * 1000) / 1000, tz=UTC)


def _split(events: list[dict[str, Any]]) -> list[tuple[list[dict[str, Any]], bytes]]:
    blob, _raw = encode_blob(events)
    if len(blob) <= MAX_BLOB_BYTES:
        return [(events, blob)]
    if len(events) < 2:
        raise ValueError(
            f"one event compresses to {len(blob)} bytes, over MongoDB's 16 MiB document limit"
        )
    half = len(events) // 2
    return _split(events[:half]) + _split(events[half:])


def batch_key(session_id: str, window_id: str, seq: int, part: int = 0) -> bytes:
    """The ``_id`` of part ``part`` of the batch numbered ``seq`` in a window.
    The JSON array keeps the fields apart whatever characters the ids hold.
    Plain bytes (BSON binary subtype 0) read back as bytes, so ids compare
    equal in Python whether built here or read from the server."""
    text = orjson.dumps([session_id, window_id, seq, part])
    return hashlib.blake2b(text, digest_size=16).digest()


def batch_documents(
    batch: Batch, clock: SeqClock, exp: datetime | None, by: ObjectId | None = None
) -> tuple[list[Document], int]:
    """The documents for ``batch`` and its raw JSON size. Usually one
    document; a batch too large for one is split in order. A batch with a
    ``seq`` gets keyed ids and carries ``by`` (the appending call's id)."""
    blob, raw = encode_blob(batch.events)
    parts = [(batch.events, blob)] if len(blob) <= MAX_BLOB_BYTES else _split(batch.events)
    docs = []
    for number, (events, part_blob) in enumerate(parts):
        times = [_ts(e) for e in events]
        doc: Document = {
            "_id": ObjectId()
            if batch.seq is None
            else batch_key(batch.session_id, batch.window_id, batch.seq, number),
            "sid": batch.session_id,
            "win": batch.window_id,
            "seq": clock.next(),
            "t0": min(times) if times else batch.digest.first_ts,
            "t1": max(times) if times else batch.digest.last_ts,
            "n": len(events),
            "size": len(part_blob),
            "blob": Binary(part_blob),
        }
        if number:
            doc["part"] = number  # stats count a split batch once
        if exp is not None:
            doc["exp"] = exp
        if batch.seq is not None:
            doc["cseq"] = batch.seq
            doc["by"] = by
        docs.append(doc)
    return docs, raw


def stored_batch(doc: Document) -> StoredBatch:
    return StoredBatch(
        seq=doc["seq"],
        window_id=doc["win"],
        min_ts=doc["t0"],
        max_ts=doc["t1"],
        event_count=doc["n"],
        blob=bytes(doc["blob"]),
    )


def rewritten_fields(events: list[dict[str, Any]]) -> Document:
    """The fields of a batch document that change when it loses events."""
    blob, _raw = encode_blob(events)
    times = [_ts(e) for e in events]
    return {
        "blob": Binary(blob),
        "size": len(blob),
        "n": len(events),
        "t0": min(times),
        "t1": max(times),
    }


def summary_from_document(doc: Document) -> SessionSummary:
    data = {k: v for k, v in doc.items() if k not in INTERNAL_SUMMARY_FIELDS}
    data["session_id"] = data.pop("_id")
    traits = data.pop("user_traits_json", None)
    data["user_traits"] = orjson.loads(traits) if traits else {}
    return SessionSummary.from_dict(data)


def traits_json(digest: BatchDigest) -> str:
    """Traits come from the page: kept as JSON text so that keys such as
    ``$where`` or ``a.b`` are never read as operators or paths."""
    return orjson.dumps(digest.user_traits, option=orjson.OPT_NON_STR_KEYS).decode()
