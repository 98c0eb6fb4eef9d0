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

    @property
    def started(self) -> str:
        return f"{self.prefix}started"

    @property
    def active(self) -> str:
        return f"{self.prefix}active"

    @property
    def arrivals(self) -> str:
        return f"{self.prefix}arrivals"
