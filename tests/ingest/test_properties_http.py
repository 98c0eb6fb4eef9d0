"""An end-to-end property over real HTTP: ``sentiero serve`` (Hypercorn, a
SQLite store, a 2 MB cap on decoded bodies) answers any method, query,
headers and body on the ingest endpoint with a 2xx, or a 4xx carrying a
JSON ``{"error": ...}``; never a 5xx, never a hang, never a traceback in its
log, and its peak memory stays bounded by the caps, not by the bodies."""

from __future__ import annotations

import gzip
import os
import socket
import subprocess
import sys
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ingest.helpers import gzip_bomb
from tests.ingest.strategies import envelope_docs, json_values, valid_envelopes
from tests.support.live_server import free_port

MAX_DECODED = 2 * 1024 * 1024
#: What the server may grow by over the whole run, above its idle size:
#: a few decoded bodies' worth of Python objects, not a body's inflated size.
MEMORY_BOUND = 200 * 1024 * 1024
TIMEOUT = 20.0
#: Bodies up to this size are read whole with the headers (socket buffers).
UNREAD_BYTES_LOST = 64 * 1024
PATH = "/sentiero/events"


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    idle_rss: int


def rss(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} for process {pid}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``sentiero serve`` in its own process, so its memory can be measured."""
    tmp = tmp_path_factory.mktemp("http-properties")
    port = free_port()
    env = {
        **os.environ,
        "SENTIERO_LOAD_PLUGINS": "store_sqlite",
        "SENTIERO_MAX_DECODED_BYTES": str(MAX_DECODED),
    }
    log = tmp / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sentiero_core.cli",
                "serve",
                "--port",
                str(port),
                "--store",
                f"sqlite:///{tmp / 'sentiero.db'}",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url + "/sentiero/recorder.js", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        # one ordinary batch first: idle is a server that has stored something
        doc = {
            "session_id": "sess_warmup_01",
            "window_id": "win_warmup_01",
            "events": [{"type": 4, "timestamp": 1_700_000_000_000}],
        }
        assert httpx.post(url + PATH, content=orjson.dumps(doc)).status_code == 204
        yield Server(url, process, log, rss(process.pid, "VmRSS"))
    finally:
        process.terminate()
        process.wait(timeout=10)


# -- what a client may send -----------------------------------------------------

# header values: printable ASCII, or any bytes HTTP allows in a field value
# (h11, the client, refuses whitespace around a value)
header_text = st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60).map(str.strip),
    st.binary(max_size=60).map(
        lambda b: bytes(c for c in b if c == 9 or 32 <= c <= 126 or c >= 128).strip()
    ),
)
content_types = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "text/plain;charset=UTF-8",
            "application/octet-stream",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "",
            "APPLICATION/JSON",
            "application/json; charset=latin-1",
        ]
    ),
    header_text,
)
encodings = st.one_of(
    st.sampled_from(
        [
            "gzip",
            "deflate",
            "identity",
            "x-gzip",
            "br",
            "zstd",
            "gzip, gzip",
            "GZIP",
            "Deflate",
            "",
        ]
    ),
    header_text,
)
queries = st.one_of(
    st.sampled_from(
        [
            "",
            "?encoding=gzip",
            "?encoding=deflate",
            "?encoding=identity",
            "?encoding=br",
            "?encoding",
            "?encoding=gzip&encoding=br",
            "?a=%00",
        ]
    ),
    st.text(max_size=20).map(lambda t: "?encoding=" + quote(t, safe="")),
)
optional_headers = st.fixed_dictionaries(
    {},
    optional={
        "Content-Type": content_types,
        "Content-Encoding": encodings,
        "Origin": st.one_of(st.just("https://shop.example"), header_text),
        "User-Agent": st.one_of(
            header_text,
            st.text(
                st.characters(min_codepoint=32, max_codepoint=126), min_size=500, max_size=3000
            ).map(str.strip),
        ),
        "DNT": st.sampled_from(["1", "0", "yes"]),
        "Sec-GPC": st.sampled_from(["1", "0"]),
        "Cookie": header_text,
        "X-Forwarded-For": header_text,
        "Access-Control-Request-Method": st.sampled_from(["POST", "GET", "DELETE"]),
    },
)


def compress(data: bytes, how: str) -> bytes:
    if how == "gzip":
        return gzip.compress(data, mtime=0)
    if how == "deflate":
        return zlib.compress(data)
    if how == "raw":
        deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
        return deflater.compress(data) + deflater.flush()
    return data


def many_events(count: int) -> bytes:
    """An envelope of ``count`` small valid events: a few KB of gzip that
    inflates to ``count`` * 40 bytes."""
    event = b'{"type":3,"timestamp":1700000000000,"data":{"source":1}}'
    head = b'{"session_id":"sess_many_0001","window_id":"win_many_0001","events":['
    return head + b",".join([event] * count) + b"]}"


def nested(depth: int) -> bytes:
    head = b'{"session_id":"sess_deep_0001","window_id":"win_deep_0001","events":'
    return head + b'[{"type":3,"timestamp":1,"data":' + b"[" * depth + b"]" * depth + b"}]}"


BOMB = gzip_bomb(1)


@dataclass
class Body:
    """How to build a body: drawn small, built when sent, so a failing
    example prints as a recipe rather than megabytes."""

    kind: str
    value: Any
    how: str = "identity"
    cut: int | None = None

    def build(self) -> bytes:
        if self.kind == "bomb":
            return BOMB
        if self.kind == "many":
            data = many_events(self.value)
        elif self.kind == "nested":
            data = nested(self.value)
        elif self.kind == "bytes":
            data = self.value
        else:
            data = orjson.dumps(self.value)
        body = compress(data, self.how)
        return body if self.cut is None else body[: self.cut % max(len(body), 1)]

    @property
    def encoding(self) -> str:
        return "gzip" if self.kind == "bomb" else "deflate" if self.how == "raw" else self.how


plain_bodies = st.one_of(
    st.builds(Body, st.just("json"), valid_envelopes),
    st.builds(Body, st.just("json"), envelope_docs),
    st.builds(Body, st.just("json"), json_values),
    st.builds(Body, st.just("bytes"), st.binary(max_size=2000)),
    st.builds(Body, st.just("many"), st.integers(1, 120_000)),
    st.builds(Body, st.just("nested"), st.integers(1, 3000)),
)


@st.composite
def bodies(draw: st.DrawFn) -> Body:
    if draw(st.integers(0, 20)) == 0:
        return Body("bomb", None)
    body = draw(plain_bodies)
    body.how = draw(st.sampled_from(["identity", "gzip", "deflate", "raw"]))
    if body.how != "identity" and draw(st.integers(0, 4)) == 0:
        body.cut = draw(st.integers(0, 2**31))  # truncated
    return body


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, Any], Body]:
    method = draw(st.sampled_from(["POST"] * 8 + ["OPTIONS", "GET", "PUT"]))
    body = draw(bodies())
    headers: dict[str, Any] = draw(optional_headers)
    if draw(st.booleans()):  # a client that says what it sends
        headers["Content-Type"] = "application/json"
        headers["Content-Encoding"] = body.encoding
        headers.pop("DNT", None)
        headers.pop("Sec-GPC", None)
    return method, draw(queries), headers, body


def assert_clean(method: str, response: httpx.Response) -> None:
    status = response.status_code
    assert status < 500, (status, response.text[:300])
    if method not in ("POST", "OPTIONS"):
        # the app's own error page (HTML for a browser), as on any route
        assert status == 405 and set(response.headers["allow"].split(", ")) == {"POST", "OPTIONS"}
    elif status >= 400:
        assert response.headers.get("content-type", "").startswith("application/json"), (
            status,
            response.headers,
            response.text[:200],
        )
        error = orjson.loads(response.content)["error"]
        assert isinstance(error, str) and error


def test_any_request_gets_a_clean_answer(server: Server) -> None:
    # a connection per request: what one answer leaves behind (a connection
    # the server is closing) must not decide the next example's fate
    seen: Counter[int | str] = Counter()
    no_reuse = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(base_url=server.url, timeout=TIMEOUT, limits=no_reuse) as client:

        @settings(max_examples=120, deadline=None)
        @given(requests())
        def post_anything(request: tuple[str, str, dict[str, Any], Body]) -> None:
            method, query, headers, body = request
            content = body.build()
            started = time.monotonic()
            try:
                response = client.request(method, PATH + query, headers=headers, content=content)
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                # Refused before its body was read, a large body leaves bytes
                # unread when Hypercorn closes the connection, and the kernel
                # then resets it, which can destroy the answer already sent
                # (Hypercorn has no lingering close). Small bodies never do.
                assert len(content) > UNREAD_BYTES_LOST, (len(content), headers)
                seen["reset"] += 1
                return
            assert time.monotonic() - started < TIMEOUT
            assert_clean(method, response)
            seen[response.status_code] += 1

        post_anything()
    print(dict(seen))
    # the examples reached every kind of answer, not one refusal over and over
    assert {204, 400, 413, 415, 422} <= set(seen), seen
    assert server.process.poll() is None, "the server died"


# -- malformed HTTP framing, through a raw socket ---------------------------------

framings = st.sampled_from(
    [
        # a body shorter than its Content-Length: the server waits, then gives up
        # (not drawn: it costs the body timeout)
        "length-longer-body",  # more body than declared: the rest is a "next request"
        "chunked-bad-size",
        "chunked-truncated",
        "chunked-and-length",
        "bad-header-line",
        "huge-header",
        "http10",
    ]
)


def raw_request(framing: str, body: bytes) -> bytes:
    start = f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    if framing == "length-longer-body":
        return (start + f"Content-Length: {len(body) // 2}\r\n\r\n").encode() + body
    if framing == "chunked-bad-size":
        return (
            (start + "Transfer-Encoding: chunked\r\n\r\nzz\r\n").encode() + body + b"\r\n0\r\n\r\n"
        )
    if framing == "chunked-truncated":
        size = f"{len(body) + 10:x}"
        return (start + f"Transfer-Encoding: chunked\r\n\r\n{size}\r\n").encode() + body
    if framing == "chunked-and-length":
        chunk = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
        head = start + f"Transfer-Encoding: chunked\r\nContent-Length: {len(body)}\r\n\r\n"
        return head.encode() + chunk
    if framing == "bad-header-line":
        return (start + "No colon here\r\n\r\n").encode() + body
    if framing == "huge-header":
        return (start + "X-Big: " + "a" * 70_000 + "\r\n\r\n").encode() + body
    return f"POST {PATH} HTTP/1.0\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body


def read_status(sock: socket.socket) -> int | None:
    """The status of the first answer, or None when the server closed
    without one."""
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return None
        data += chunk
    return int(data.split(b" ", 2)[1])


def test_malformed_http_framing_is_refused_cleanly(server: Server) -> None:
    port = int(server.url.rsplit(":", 1)[1])

    @settings(max_examples=40, deadline=None)
    @given(framings, st.one_of(valid_envelopes.map(orjson.dumps), st.binary(max_size=200)))
    def send(framing: str, body: bytes) -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
            try:
                sock.sendall(raw_request(framing, body))
                sock.shutdown(socket.SHUT_WR)
            except OSError:  # the server may close before it has read everything
                pass
            try:
                status = read_status(sock)
            except ConnectionResetError:
                status = None
        assert status is None or status < 500, (framing, status)

    send()
    assert server.process.poll() is None, "the server died"


def test_no_traceback_and_memory_stayed_bounded(server: Server) -> None:
    """Run last in this module: what the requests above left behind."""
    peak = rss(server.process.pid, "VmHWM")
    grown = peak - server.idle_rss
    assert grown < MEMORY_BOUND, f"peak RSS {peak >> 20} MB, {grown >> 20} MB above idle"
    log = server.log.read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
