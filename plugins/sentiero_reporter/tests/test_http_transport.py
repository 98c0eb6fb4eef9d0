"""The HTTP transport against a real HTTP server on loopback."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sentiero_reporter
from sentiero_reporter import DeliveryError, HttpTransport


class Server:
    """A loopback HTTP server whose answer each test chooses."""

    def __init__(self) -> None:
        self.status = 202
        self.delay = 0.0
        self.received: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                outer.received.append(
                    {
                        "path": self.path,
                        "authorization": self.headers.get("Authorization"),
                        "content_type": self.headers.get("Content-Type"),
                        "json": json.loads(body),
                    }
                )
                if outer.delay:
                    time.sleep(outer.delay)
                answer = b'{"error": "boom"}'
                self.send_response(outer.status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/sentiero"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    try:
        yield running
    finally:
        running.close()


def test_reports_are_posted_as_json_with_the_bearer_key(server: Server) -> None:
    sentiero_reporter.configure(endpoint=server.url, ingest_key="sk_1", project="shop")
    try:
        raise ValueError("over http")
    except ValueError as exc:
        sentiero_reporter.notify(exc)
    sentiero_reporter.track("signup", plan="pro")
    assert sentiero_reporter.flush(5)
    paths = sorted(r["path"] for r in server.received)
    assert paths == ["/sentiero/ingest/errors", "/sentiero/ingest/events"]
    assert {r["authorization"] for r in server.received} == {"Bearer sk_1"}
    assert {r["content_type"] for r in server.received} == {"application/json"}
    assert sentiero_reporter.stats()["sent"] == 2


def test_a_server_answering_500_is_a_counted_failure(server: Server) -> None:
    server.status = 500
    transport = HttpTransport(server.url, "k")
    with pytest.raises(DeliveryError, match="answered 500"):
        transport.post("errors", {"a": 1})
    sentiero_reporter.configure(endpoint=server.url, ingest_key="k", project="shop")
    assert sentiero_reporter.notify(ValueError("x")) is True
    sentiero_reporter.flush(5)
    assert sentiero_reporter.stats()["failed"] == 1 and sentiero_reporter.stats()["sent"] == 0


@pytest.mark.parametrize("async_delivery", [True, False])
def test_a_server_that_never_answers_costs_at_most_the_read_timeout(
    server: Server, async_delivery: bool
) -> None:
    server.delay = 5
    sentiero_reporter.configure(
        endpoint=server.url,
        ingest_key="k",
        project="shop",
        read_timeout=0.3,
        async_delivery=async_delivery,
    )
    started = time.perf_counter()
    assert sentiero_reporter.notify(ValueError("x")) is True
    sentiero_reporter.flush(5)
    assert time.perf_counter() - started < 2.5
    assert sentiero_reporter.stats()["failed"] == 1


def test_a_listener_that_never_accepts_costs_at_most_the_timeouts() -> None:
    # A bound socket with a full backlog: the connection hangs rather than failing.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    try:
        sentiero_reporter.configure(
            endpoint=f"http://127.0.0.1:{port}",
            ingest_key="k",
            project="shop",
            open_timeout=0.2,
            read_timeout=0.2,
            async_delivery=False,
        )
        started = time.perf_counter()
        for _ in range(3):
            assert sentiero_reporter.track("x") is True
        assert time.perf_counter() - started < 3
        assert sentiero_reporter.stats()["failed"] == 3
    finally:
        listener.close()


def test_a_refused_connection_is_a_counted_failure() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    sentiero_reporter.configure(
        endpoint=f"http://127.0.0.1:{port}", ingest_key="k", project="p", async_delivery=False
    )
    assert sentiero_reporter.notify(ValueError("x")) is True
    assert sentiero_reporter.stats()["failed"] == 1
