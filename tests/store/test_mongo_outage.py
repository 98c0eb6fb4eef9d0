"""MongoDB stopped or killed under concurrent ingest through ``sentiero
serve``: every answer is a 204 or a 503 with ``Retry-After``, clients that
send a refused batch again get it stored, and afterwards each batch that
was acknowledged is in the store exactly once, the summaries counting each
once. (The real recorder in Chromium: tests/recording/test_store_outage_browser.py.)"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from pymongo import MongoClient

from tests.support.mongo_daemon import MongoDaemon
from tests.support.serve_process import serving

pytestmark = pytest.mark.mongo

CLIENTS = 6
BATCHES = 30
EVENTS_PER_BATCH = 3
OUTAGE_S = 5.0
DATABASE = "sentiero_outage"


async def _client(
    client: httpx.AsyncClient, url: str, n: int, answers: Counter[Any], waits: list[str]
) -> None:
    for seq in range(1, BATCHES + 1):
        doc = {
            "session_id": f"sess_outage_{n:04d}",
            "window_id": f"win_outage_{n:04d}",
            "seq": seq,
            "events": [
                {"type": 3, "timestamp": 1_700_000_000_000 + seq * 10 + i, "data": {"source": 1}}
                for i in range(EVENTS_PER_BATCH)
            ],
        }
        while True:  # as the recorder does: the same batch until it is stored
            response = await client.post(url, content=orjson.dumps(doc))
            answers[response.status_code] += 1
            if response.status_code == 204:
                break
            assert response.status_code == 503, response.text
            waits.append(response.headers.get("Retry-After", "missing"))
            # honoured, but shortened: the test need not wait 5 s a time
            await asyncio.sleep(min(float(response.headers["Retry-After"]), 0.5))
        await asyncio.sleep(0.05)


async def _outage(mongo: MongoDaemon, how: signal.Signals) -> None:
    await asyncio.sleep(1.0)
    await asyncio.to_thread(mongo.stop, how)
    await asyncio.sleep(OUTAGE_S)
    await asyncio.to_thread(mongo.start)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
def test_no_acknowledged_batch_lost_or_doubled_across_an_outage(
    tmp_path: Path, how: signal.Signals
) -> None:
    mongo = MongoDaemon(tmp_path / "mongo").start()
    env = {
        "SENTIERO_LOAD_PLUGINS": "store_mongo",
        "SENTIERO_PLUGINS__STORE_MONGO__SERVER_SELECTION_TIMEOUT_MS": "1500",
    }
    answers: Counter[Any] = Counter()
    waits: list[str] = []
    log = tmp_path / "serve.log"
    try:
        with serving(f"{mongo.url}/{DATABASE}", log, env=env) as base:

            async def run() -> None:
                async with httpx.AsyncClient(timeout=60) as client:
                    started = time.monotonic()
                    await asyncio.gather(
                        _outage(mongo, how),
                        *(
                            _client(client, base + "/sentiero/events", n, answers, waits)
                            for n in range(CLIENTS)
                        ),
                    )
                    # the outage came while clients were still sending
                    assert time.monotonic() - started > OUTAGE_S

            asyncio.run(run())
        with MongoClient(mongo.url, serverSelectionTimeoutMS=5000) as db_client:
            db = db_client[DATABASE]
            for n in range(CLIENTS):
                sid = f"sess_outage_{n:04d}"
                numbers = [d["cseq"] for d in db["sentiero_batches"].find({"sid": sid})]
                assert sorted(numbers) == list(range(1, BATCHES + 1)), (sid, numbers)
                summary = db["sentiero_sessions"].find_one({"_id": sid})
                assert summary is not None
                assert summary["batch_count"] == BATCHES
                assert summary["event_count"] == BATCHES * EVENTS_PER_BATCH
    finally:
        mongo.stop()
    assert answers[204] == CLIENTS * BATCHES
    assert set(answers) <= {204, 503}, answers
    assert answers[503] >= 1, "no request met the outage"
    assert "missing" not in waits
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text[-3000:]
