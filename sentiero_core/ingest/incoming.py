"""An ingest request as the ASGI server gave it, and the answer to it.

The ingest reads what it needs straight from the ASGI scope, with
Werkzeug's parsing where it matters (content type, length, query string,
cookies), so that Quart's view and the direct path of :mod:`.direct` read a
request the same way and answer it with the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.http import parse_cookie, parse_options_header
from werkzeug.sansio.utils import get_content_length


class Incoming:
    """The request's method, headers (first value of each, by lower-case
    name), query string, HTTP version and scope."""

    __slots__ = ("_first", "scope")

    def __init__(self, scope: Mapping[str, Any]) -> None:
        self.scope = scope
        first: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            # servers send lower-case names (ASGI says so); a test client may not
            name = name.lower()
            if name not in first:
                first[name] = value
        self._first = first

    def header(self, name: bytes) -> str | None:
        """The first value of the header ``name`` (lower-case)."""
        value = self._first.get(name)
        return None if value is None else value.decode("latin-1")

    @property
    def http_version(self) -> str:
        return str(self.scope.get("http_version", "1.1"))

    @property
    def mimetype(self) -> str:
        """As Werkzeug's ``request.mimetype``: lower-case, without parameters."""
        value = self.header(b"content-type")
        return parse_options_header(value)[0].lower() if value else ""

    @property
    def content_length(self) -> int | None:
        """As Werkzeug's ``request.content_length``."""
        return get_content_length(self.header(b"content-length"), self.header(b"transfer-encoding"))

    def query(self, key: str) -> str | None:
        """The first value of ``key`` in the query string, as Werkzeug's ``request.args``."""
        raw: bytes = self.scope.get("query_string") or b""
        if not raw:
            return None
        # latin-1 never fails: raw bytes a server let through must not be a 500
        for name, value in parse_qsl(
            raw.decode("latin-1"), keep_blank_values=True, errors="werkzeug.url_quote"
        ):
            if name == key:
                return value
        return None

    def cookie(self, name: str) -> str | None:
        """As Werkzeug's ``request.cookies.get(name)`` (every Cookie header)."""
        values = [
            value.decode("latin-1")
            for key, value in self.scope["headers"]
            if key.lower() == b"cookie"
        ]
        if not values:
            return None
        return parse_cookie(";".join(values)).get(name)


class Reply:
    """An answer: a status, a JSON body or none, and what goes with it."""

    __slots__ = ("body", "close", "retry_after", "status")

    def __init__(
        self, status: int, body: bytes = b"", retry_after: int | None = None, close: bool = False
    ) -> None:
        self.status = status
        #: JSON, or empty for no content.
        self.body = body
        #: Seconds for ``Retry-After``.
        self.retry_after = retry_after
        #: The body was left unread: the connection will not serve another request.
        self.close = close

    def headers(
        self, http_version: str, extra: Sequence[tuple[str, str]], *, framing: bool = True
    ) -> list[tuple[str, str]]:
        """Every header but the server's own (``Date``, ``Server``); without
        ``framing``, none that a Quart response sets from its body
        (``Content-Type``, ``Content-Length``)."""
        out: list[tuple[str, str]] = []
        if framing:
            if self.body:
                out.append(("Content-Type", "application/json"))
            out.append(("Content-Length", str(len(self.body))))
        if self.retry_after is not None:
            out.append(("Retry-After", str(self.retry_after)))
        # HTTP/2 forbids the header and resets just the stream
        if self.close and http_version.startswith("1"):
            out.append(("Connection", "close"))
        out.extend(extra)
        return out
