"""MongoDB going away while the real recorder in Chromium records a page,
against ``sentiero serve`` with a ``mongodb://`` store: while the server is
down, ingest answers 503 with ``Retry-After`` (never 500), the recorder
keeps its queue and retries, and once the server is back every event the
page produced is stored exactly once, with no batch missing or doubled."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from pymongo import MongoClient

from tests.recording.helpers import wait_for, wait_in_page
from tests.support.live_server import free_port
from tests.support.mongo_daemon import MongoDaemon
from tests.support.serve_process import serving

pytestmark = [pytest.mark.browser, pytest.mark.mongo]

DATABASE = "sentiero_outage"
#: How long MongoDB stays away: longer than a request waits for it.
OUTAGE_S = 12
SELECTION_TIMEOUT_MS = 2000

# A page on its own origin that loads the recorder from Sentiero's and
# emits a numbered custom event (and a DOM change) every 100 ms.
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ticking</title>
<script src="{origin}/sentiero/recorder.js"></script>
</head><body><h1>Ticking</h1><p id="n">none yet</p>
<script>
  window.ticks = 0;
  window.ticking = true;
  setInterval(function () {{
    if (!window.ticking || !window.Sentiero || !window.Sentiero.sessionId) return;
    window.Sentiero.track("tick", {{ n: window.ticks }});
    document.getElementById("n").textContent = "tick " + window.ticks;
    window.ticks += 1;
  }}, 100);
</script>
</body></html>
"""


@dataclass
class Setup:
    mongo: MongoDaemon
    url: str  # sentiero serve
    page_url: str
    log: Path


def _page_server(origin: str) -> tuple[ThreadingHTTPServer, str]:
    html = PAGE.format(origin=origin).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    mongo = MongoDaemon(tmp_path / "mongo").start()
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    pages, page_origin = _page_server(origin)
    env = {
        "SENTIERO_LOAD_PLUGINS": "store_mongo",
        "SENTIERO_FLUSH_INTERVAL_MS": "300",
        "SENTIERO_PLUGINS__STORE_MONGO__SERVER_SELECTION_TIMEOUT_MS": str(SELECTION_TIMEOUT_MS),
    }
    log = tmp_path / "serve.log"
    store_url = f"{mongo.url}/{DATABASE}"
    try:
        with serving(store_url, log, "--cors-origin", page_origin, env=env, port=port):
            yield Setup(mongo, origin, page_origin + "/", log)
    finally:
        pages.shutdown()
        pages.server_close()
        mongo.stop()


def _api(setup: Setup, path: str) -> Any:
    response = httpx.get(setup.url + "/sentiero/api" + path, timeout=30)
    response.raise_for_status()
    return response.json()


def _stored_events(setup: Setup, sid: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    cursor = ""
    while True:
        page = _api(setup, f"/sessions/{sid}/events?cursor={cursor}")
        events.extend(page["events"])
        if page["next"] is None:
            return events
        cursor = page["next"]


def _ticks(events: list[dict[str, Any]]) -> list[int]:
    return [
        e["data"]["payload"]["properties"]["n"]
        for e in events
        if e["type"] == 5
        and e["data"].get("tag") == "sentiero:custom"
        and e["data"]["payload"]["name"] == "tick"
    ]


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
def test_mongodb_going_away_mid_recording_loses_and_doubles_nothing(
    browser: Any, setup: Setup, how: signal.Signals
) -> None:
    answers: Counter[int] = Counter()
    retry_after: set[str | None] = set()

    def on_response(response: Any) -> None:
        if "/sentiero/events" in response.url and response.request.method == "POST":
            answers[response.status] += 1
            if response.status == 503:
                retry_after.add(response.headers.get("retry-after"))

    context = browser.new_context()
    try:
        page = context.new_page()
        page.on("response", on_response)
        page.goto(setup.page_url)
        sid = wait_in_page(page, "window.Sentiero && window.Sentiero.sessionId")

        # sync Playwright delivers page events only while it is called
        def seen(status: int, count: int = 1) -> bool:
            page.wait_for_timeout(50)
            return answers[status] >= count

        wait_for(lambda: seen(204, 2), what="batches stored before the outage")

        setup.mongo.stop(how)
        stopped = time.monotonic()
        # what the server answers meanwhile, seen directly
        doc = {
            "session_id": "sess_probe_0001",
            "window_id": "win_probe_0001",
            "events": [{"type": 4, "timestamp": 1_700_000_000_000}],
        }
        probe = httpx.post(setup.url + "/sentiero/events", content=orjson.dumps(doc), timeout=60)
        assert probe.status_code == 503, probe.text
        assert int(probe.headers["Retry-After"]) > 0
        assert probe.json() == {"error": "store unavailable, retry later"}
        wait_for(lambda: seen(503), timeout=OUTAGE_S, what="the page's first 503")
        page.wait_for_timeout(max(0.0, OUTAGE_S - (time.monotonic() - stopped)) * 1000)
        ticks_in_outage = page.evaluate("window.ticks")

        setup.mongo.start()  # same port, same files
        page.wait_for_timeout(1000)
        page.evaluate("window.ticking = false; 0")
        produced = page.evaluate("window.ticks")
        assert produced > ticks_in_outage > 0
        page.evaluate("window.Sentiero.flush(); 0")

        def all_ticks_stored() -> bool:
            page.wait_for_timeout(50)
            try:
                return len(_ticks(_stored_events(setup, sid))) >= produced
            except httpx.HTTPStatusError:
                return False  # the session is not there yet

        wait_for(all_ticks_stored, timeout=90, what=f"{produced} ticks stored")
        events = _stored_events(setup, sid)
        summary = _api(setup, f"/sessions/{sid}")
    finally:
        context.close()

    assert sorted(_ticks(events)) == list(range(produced)), "a tick missing or stored twice"
    assert answers[503] >= 1 and retry_after and None not in retry_after, (answers, retry_after)
    assert not [status for status in answers if status >= 500 and status != 503], answers
    assert summary["dropped_events"] == 0
    assert summary["event_count"] == len(events)
    assert any(e["type"] == 2 for e in events)  # the full snapshot made it too

    # behind the API: each of the recorder's batches stored once, none missing
    client: MongoClient[Any] = MongoClient(setup.mongo.url, serverSelectionTimeoutMS=5000)
    try:
        batches = client[DATABASE]["sentiero_batches"]
        numbers = [d["cseq"] for d in batches.find({"sid": sid, "part": {"$exists": False}})]
    finally:
        client.close()
    assert sorted(numbers) == list(range(1, len(numbers) + 1)), numbers
    assert summary["batch_count"] == len(numbers)

    log = setup.log.read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
