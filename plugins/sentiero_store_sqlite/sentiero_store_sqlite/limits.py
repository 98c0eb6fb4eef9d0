"""Enforcing StoreLimits inside the append transaction.

Plain ``sqlite3`` code: it runs in the writer's thread as part of the
append transaction (see :meth:`.connection.Connection.run`).
"""

from __future__ import annotations

import sqlite3

import orjson

from sentiero_core.store import SessionSummary, StoredBatch, encode_blob, event_time, trim_plan


def trim_session(db: sqlite3.Connection, rowid: int, summary: SessionSummary, keep: int) -> bool:
    """Drop the session's oldest events beyond ``keep``; update ``summary``'s
    counts. False when nothing had to go.

    Only the batches that can hold one of the doomed events are decompressed:
    walking batches by their newest event, the first ones holding ``excess``
    events end at some time T, so every doomed event is at or before T and
    any batch starting after T is left alone. A long session at its cap thus
    rewrites one or two old batches per append, not all of them.
    """
    metas = db.execute(
        "SELECT seq, window_id, min_ts, max_ts, event_count FROM batches WHERE session_rowid = ?",
        (rowid,),
    ).fetchall()
    total = sum(m[4] for m in metas)
    excess = total - keep
    if excess <= 0:
        return False
    seen = 0
    bound = 0
    for _seq, _window, _min_ts, max_ts, count in sorted(metas, key=lambda m: (m[3], m[0])):
        seen += count
        bound = max_ts
        if seen >= excess:
            break
    subset = [m for m in metas if m[2] <= bound]
    seqs = orjson.dumps([m[0] for m in subset]).decode()
    rows = db.execute(
        "SELECT seq, blob FROM batches WHERE seq IN (SELECT value FROM json_each(?))", (seqs,)
    ).fetchall()
    blobs: dict[int, bytes] = {int(r[0]): bytes(r[1]) for r in rows}
    stored = [StoredBatch(seq, w, lo, hi, n, blobs[seq]) for seq, w, lo, hi, n in subset]
    drop, rewrite = trim_plan(stored, sum(b.event_count for b in stored) - excess)
    if drop:
        db.execute(
            "DELETE FROM batches WHERE seq IN (SELECT value FROM json_each(?))",
            (orjson.dumps(drop).decode(),),
        )
    for seq, events in rewrite.items():
        blob, raw = encode_blob(events)
        times = [event_time(e) for e in events]
        db.execute(
            "UPDATE batches SET blob = ?, raw_bytes = ?, event_count = ?, min_ts = ?, "
            "max_ts = ? WHERE seq = ?",
            (blob, raw, len(events), min(times), max(times), seq),
        )
    summary.event_count = total - excess
    summary.batch_count = len(metas) - len(drop)
    return True


def evict_least_recent(db: sqlite3.Connection, count: int) -> list[str]:
    """Delete the ``count`` sessions with the oldest last activity; their ids."""
    rows = db.execute(
        "DELETE FROM sessions WHERE id IN "
        "(SELECT id FROM sessions ORDER BY ended_at, session_id LIMIT ?) RETURNING session_id",
        (count,),
    ).fetchall()
    return [str(r[0]) for r in rows]
