"""The key layout: every key the store writes starts with the prefix.

Per session (``<sid>`` is the session id exactly, binary-safe):

- ``<prefix>s:<sid>``: the summary, JSON (``SessionSummary.to_dict()`` plus
  ``_stored``, the bytes its blobs take);
- ``<prefix>m:<sid>``: hash, arrival number -> batch metadata, JSON
  ``[window_id, min_ts, max_ts, event_count]``;
- ``<prefix>e:<sid>``: hash, arrival number -> the batch's events, JSON
  compressed with Zstandard;
- ``<prefix>d:<sid>``: set of delivered ``window_id NUL seq``.

Across sessions:

- ``<prefix>started``: sorted set, session id scored by ``started_at`` (listing);
- ``<prefix>active``: sorted set, session id scored by ``ended_at`` (eviction,
  purge); a session exists while it is a member;
- ``<prefix>arrivals``: counter giving each batch its arrival number.

Aggregates (the tags start with ``g``; see :mod:`.aggregates`):

- ``<prefix>gc:<sid>``: hash of the session's contributions, ``v<key>`` ->
  version and ``r<key>`` -> rows (JSON);
- ``<prefix>gf:<sid>``: hash of the session's facts, fact key -> value
  (JSON), and ``""`` (never a fact key) -> their version;
- ``<prefix>gs``: sorted set (all scores 0, so ordered by id) of the
  sessions with facts, paged by id for the unfolded sessions;
- ``<prefix>gt:<day>:<name>``: hash of the totals of one aggregate on one
  day, dims (JSON) -> ``"<count> <total>"``;
- ``<prefix>gd:<name>``: sorted set of the days holding totals of a name,
  scored by day (a day range is a score range);
- ``<prefix>gn``: set of the names holding totals.

A session's aggregate keys never expire (``ttl_seconds``): a contribution
must stay to be subtracted when the purge removes the session.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The per-session key tags, in the order the Lua scripts delete them.
SESSION_TAGS = ("s:", "m:", "e:", "d:")


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str

    def summary(self, sid: str) -> str:
        return f"{self.prefix}s:{sid}"

    def metas(self, sid: str) -> str:
        return f"{self.prefix}m:{sid}"

    def blobs(self, sid: str) -> str:
        return f"{self.prefix}e:{sid}"

    def delivered(self, sid: str) -> str:
        return f"{self.prefix}d:{sid}"

    def session(self, sid: str) -> list[str]:
        return [self.summary(sid), self.metas(sid), self.blobs(sid), self.delivered(sid)]

    def contributions(self, sid: str) -> str:
        return f"{self.prefix}gc:{sid}"

    def facts(self, sid: str) -> str:
        return f"{self.prefix}gf:{sid}"

    def totals(self, day: str, name: str) -> str:
        return f"{self.prefix}gt:{day}:{name}"

    def days(self, name: str) -> str:
        return f"{self.prefix}gd:{name}"

    @property
    def with_facts(self) -> str:
        return f"{self.prefix}gs"

    @property
    def names(self) -> str:
        return f"{self.prefix}gn"

    @property
    def started(self) -> str:
        return f"{self.prefix}started"

    @property
    def active(self) -> str:
        return f"{self.prefix}active"

    @property
    def arrivals(self) -> str:
        return f"{self.prefix}arrivals"
