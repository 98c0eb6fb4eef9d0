"""Where reports go: HTTP to a Sentiero server, a log, nowhere, or a list.

A transport is any object with ``post(kind, payload)``; ``kind`` is
``"errors"`` or ``"events"`` and ``payload`` a JSON-ready dict. It may raise:
the reporter counts the failure and carries on.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import urllib.parse
from typing import Any, Protocol

logger = logging.getLogger("sentiero_reporter")

USER_AGENT = "sentiero-reporter/0.1"


class Transport(Protocol):
    def post(self, kind: str, payload: dict[str, Any]) -> None: ...


class DeliveryError(Exception):
    """The server did not accept a report; the message says what it answered."""


class HttpTransport:
    """POSTs JSON to ``<endpoint>/ingest/<kind>`` with the ingest key as a bearer token.

    The connection and the wait for an answer have separate time limits, so a
    server that accepts but never answers holds a delivery for at most
    ``read_timeout`` seconds.
    """

    def __init__(
        self,
        endpoint: str,
        ingest_key: str,
        open_timeout: float = 2.0,
        read_timeout: float = 3.0,
    ) -> None:
        parsed = urllib.parse.urlsplit(endpoint.rstrip("/"))
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"endpoint must be an http(s) URL, not {endpoint!r}")
        self.endpoint = endpoint.rstrip("/")
        self._parsed = parsed
        self._key = ingest_key
        self.open_timeout = open_timeout
        self.read_timeout = read_timeout

    def url(self, kind: str) -> str:
        return f"{self.endpoint}/ingest/{kind}"

    def post(self, kind: str, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode()
        parsed = self._parsed
        connection_class = (
            http.client.HTTPSConnection if parsed.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_class(parsed.hostname or "", parsed.port, timeout=self.open_timeout)
        try:
            connection.connect()
            if connection.sock is not None:
                connection.sock.settimeout(self.read_timeout)
            connection.request(
                "POST",
                f"{parsed.path}/ingest/{kind}",
                body=body,
                headers={
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {self._key}",
                    "User-Agent": USER_AGENT,
                },
            )
            response = connection.getresponse()
            answer = response.read(2048)
            if not 200 <= response.status < 300:
                raise DeliveryError(
                    f"{self.url(kind)} answered {response.status}: "
                    f"{answer.decode('utf-8', 'replace')[:200]}"
                )
        finally:
            connection.close()


class LogTransport:
    """Logs each would-be delivery (development)."""

    def __init__(self, log: logging.Logger | None = None, level: int = logging.INFO) -> None:
        self.log = log or logger
        self.level = level

    def post(self, kind: str, payload: dict[str, Any]) -> None:
        self.log.log(self.level, "sentiero reporter would send %s: %s", kind, json.dumps(payload))


class NullTransport:
    """Drops every report."""

    def post(self, kind: str, payload: dict[str, Any]) -> None:
        return None


class TestTransport:
    """Keeps every report in ``deliveries`` as ``(kind, payload)`` pairs."""

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self.deliveries: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def post(self, kind: str, payload: dict[str, Any]) -> None:
        with self._lock:
            self.deliveries.append((kind, payload))
