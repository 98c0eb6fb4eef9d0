"""The one exception the ingest path raises for a request it refuses."""

from __future__ import annotations


class IngestError(Exception):
    """A refused request: ``status`` is the HTTP status, ``reason`` the text
    of the ``{"error": ...}`` body. Reasons name the field at fault and
    never echo the client's bytes back."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        #: Set when the refusal came before the body was read to its end.
        self.body_unread = False
        #: Seconds for a ``Retry-After`` header (503 and 429).
        self.retry_after: int | None = None
