"""What makes folding a batch into its summary safe to repeat.

A summary keeps two records of what it counts:

- ``recent``: the marks of its last folds (:data:`RECENT_BATCHES`). A fold's
  mark is the id of the append that wrote the batch's documents (the
  ``by`` of a numbered batch's documents, see :mod:`.documents`), or the id
  of an unnumbered batch. A fold whose answer was lost and is sent again,
  or a second writer folding the same documents, finds the mark there and
  changes nothing.
- ``seqs``: every recorder number folded, as ranges per window
  (``{w, a, b}``: ``a`` to ``b`` inclusive, disjoint, possibly touching).
  A batch counted once is never counted again, however long ago that was;
  nothing needs clearing on the batch documents once they are counted.

Between the two, an append learns after folding whether its own fold
counted the batch (:data:`HERE`: its mark is in ``recent``) or another did
(:data:`ELSEWHERE`): the writer of the documents it collided with, or an
earlier delivery whose documents are gone since (``max_events_per_session``
removed them whole). Then the documents this append added are a repeat's,
to remove.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .documents import BatchId

Document = dict[str, Any]

#: How many fold marks a summary remembers to recognise a retried fold.
RECENT_BATCHES = 16
#: How many seq ranges a summary keeps. A recorder leaves a gap only when a
#: batch is lost, so a real session holds a few; a client numbering its
#: batches with gaps on purpose would otherwise grow its summary, and the
#: cost of every update to it, up to MongoDB's 16 MiB. Past the cap a
#: fold that needs a new range counts its batch without recording the
#: seq: only ``recent`` then recognises a repeat of it.
MAX_SEQ_RANGES = 1_000
INT64 = (-(2**63), 2**63 - 1)

#: How a summary stands towards a fold (:func:`fold_state`).
HERE = "here"
ELSEWHERE = "elsewhere"


@dataclass(frozen=True)
class Fold:
    """What identifies one fold of a batch into its summary."""

    #: The batch's (first document's) id: ``created_by`` of a summary this fold creates.
    batch_id: BatchId
    #: This append's mark: its id (a numbered batch's ``by``), or the batch's.
    mark: Any
    #: The marks of the writers whose documents this append found in place:
    #: folding for them, it must not count what they counted.
    others: tuple[Any, ...] = ()
    #: The recorder's number in the digest's window (``None``: unnumbered).
    seq: int | None = None

    @property
    def marks(self) -> list[Any]:
        """What the fold pushes onto ``recent``, and must not find there."""
        return [self.mark, *self.others]


def fold_state(doc: Document, f: Fold, window: str) -> str | None:
    """``HERE``, ``ELSEWHERE``, or ``None`` (the batch is not folded yet)."""
    recent = doc.get("recent") or ()
    if f.mark in recent:
        return HERE
    if any(mark in recent for mark in f.others):
        return ELSEWHERE
    if f.seq is not None:
        for r in doc.get("seqs") or ():
            if r.get("w") == window and r["a"] <= f.seq <= r["b"]:
                return ELSEWHERE
    return None


def fold_filter(session_id: str, f: Fold, window: str) -> Document:
    """The summary to fold into, unless it counts this batch already."""
    query: Document = {"_id": session_id, "recent": {"$nin": f.marks}}
    if f.seq is not None:
        query["seqs"] = {"$not": member(window, f.seq)}
    return query


def member(window: str, seq: int) -> Document:
    """Matches a ``seqs`` list that holds ``seq`` in ``window``."""
    return {"$elemMatch": {"w": window, "a": {"$lte": seq}, "b": {"$gte": seq}}}


def _lit(value: Any) -> Document:
    return {"$literal": value}


def seqs_with(window: str, seq: int) -> Document:
    """The expression for ``seqs`` with ``seq`` added (the filter made sure
    it was not there): a range of the window ending just below it or
    starting just above it grows, or a new range starts, unless the
    summary holds :data:`MAX_SEQ_RANGES` already."""
    ranges = {"$ifNull": ["$seqs", []]}

    def at(end: str, value: int) -> Document:
        return {"$and": [{"$eq": ["$$r.w", _lit(window)]}, {"$eq": [f"$$r.{end}", value]}]}

    def grown(end: str, value: int, otherwise: Document) -> Document:
        if not INT64[0] <= value <= INT64[1]:
            return otherwise
        found = {"$anyElementTrue": [{"$map": {"input": ranges, "as": "r", "in": at(end, value)}}]}
        moved = {
            "$map": {
                "input": ranges,
                "as": "r",
                "in": {"$cond": [at(end, value), {"$mergeObjects": ["$$r", {end: seq}]}, "$$r"]},
            }
        }
        return {"$cond": [found, moved, otherwise]}

    fresh = {
        "$cond": [
            {"$gte": [{"$size": ranges}, MAX_SEQ_RANGES]},
            ranges,
            {"$concatArrays": [ranges, [{"w": _lit(window), "a": seq, "b": seq}]]},
        ]
    }
    return grown("b", seq - 1, grown("a", seq + 1, fresh))
