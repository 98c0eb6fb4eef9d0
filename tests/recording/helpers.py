"""What the recording tests share: reading the store behind a live server,
waiting for batches, telling browser contexts apart in the server's log."""

from __future__ import annotations

import gzip
import sqlite3
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sentiero_core.store import codec
from tests.recording.site import event_log
from tests.support.live_server import LiveServer

Event = dict[str, Any]
EVENTS_PATH = "/sentiero/events"
GPC_SCRIPT = (
    "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl',"
    " {get: () => true, configurable: true});"
)
# One marker per browser context, so the server's request log tells them apart.
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/156.0.0.0 Safari/537.36 sentiero-test/"
)
DNT_SCRIPT = (
    "Object.defineProperty(Navigator.prototype, 'doNotTrack',"
    " {get: () => '1', configurable: true});"
)


def store_of(server: LiveServer) -> Any:
    return server.app.extensions["sentiero"].store


def all_events(server: LiveServer, session_id: str, window_id: str | None = None) -> list[Event]:
    store = store_of(server)
    events: list[Event] = []
    cursor = None
    while True:
        page = server.run(store.read_events(session_id, cursor=cursor, window_id=window_id))
        events.extend(page.events)
        if page.next is None:
            return events
        cursor = page.next


def wait_for(check: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def wait_in_page(page: Any, expression: str, timeout: float = 10.0) -> Any:
    """Poll ``expression`` in the page until it is truthy. Unlike Playwright's
    wait_for_function this never evaluates strings inside the page, which the
    site's Content-Security-Policy (no 'unsafe-eval') would refuse."""
    return wait_for(lambda: page.evaluate(expression), timeout, what=expression)


def customs(events: list[Event], tag: str) -> list[Any]:
    return [e["data"]["payload"] for e in events if e["type"] == 5 and e["data"]["tag"] == tag]


def stored_bytes(db_path: Path) -> list[bytes]:
    """Every byte the store wrote: the raw files, and each stored value
    decompressed when it is compressed (batches are kept compressed)."""
    chunks = [p.read_bytes() for p in db_path.parent.glob(db_path.name + "*")]
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    if isinstance(value, bytes):
                        chunks.append(_inflate(value))
                    elif isinstance(value, str):
                        chunks.append(value.encode())
    finally:
        conn.close()
    return chunks


def _inflate(blob: bytes) -> bytes:
    """A blob's plain bytes: a store's batch (Zstandard, or zlib from before),
    gzip, or the blob itself when it is none of those."""
    if blob[:4] == codec.ZSTD_MAGIC:
        return codec.decompress(blob)  # a damaged batch must fail the scan, not pass it
    for decode in (zlib.decompress, gzip.decompress):
        try:
            return decode(blob)
        except (zlib.error, OSError, EOFError):
            continue
    return blob


def new_context(browser: Any, marker: str, **options: Any) -> Any:
    return browser.new_context(user_agent=USER_AGENT + marker, **options)


def posts_from(server: LiveServer, marker: str) -> list[dict[str, Any]]:
    """Batches the server received from the context with this marker."""
    return [
        entry
        for entry in list(event_log(server.app))
        if entry["method"] == "POST" and entry["user_agent"].endswith("/" + marker)
    ]


def settle(page: Any) -> None:
    """Hand everything queued in the page to the server now."""
    page.evaluate("window.Sentiero.flush()")


def open_settled(server: LiveServer, context: Any, url: str) -> tuple[Any, str]:
    """A recorded page whose first full snapshot is stored and whose queue is
    empty, so that what the test does next is all that is left to send."""
    page = context.new_page()
    page.goto(url)
    sid = wait_in_page(page, "window.Sentiero && window.Sentiero.sessionId")
    wait_for(
        lambda: any(e["type"] == 2 for e in all_events(server, sid)),
        what="the first full snapshot",
    )
    settle(page)
    return page, sid
