"""Connection failures: a clear error at start-up, recovery after a restart."""

from __future__ import annotations

import gc
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from motor.motor_asyncio import AsyncIOMotorClient
from pymongo import AsyncMongoClient
from sentiero_store_mongo import MongoSettings, MongoStore

from sentiero_core.store import StoreUnavailable
from sentiero_core.testing import T0, labels, make_batch, read_all, text_mutation

# PyMongo 4.20 leaks a socket when a client is closed while its monitor is
# connecting (the task is cancelled past the code that closes it): harmless
# here, so each test collects it and the warning stays in this module.
pytestmark = [
    pytest.mark.mongo,
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
    ),
]


@pytest.fixture(autouse=True)
def _collect_leaked_sockets() -> Iterator[None]:
    yield
    gc.collect()


QUICK = MongoSettings(server_selection_timeout_ms=500, connect_timeout_ms=500)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Daemon:
    """SecantusDB as its own process over a data directory that survives restarts."""

    def __init__(self, data: Path) -> None:
        self.port = _free_port()
        self.data = data
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/restarts"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "secantus",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--storage-path",
                str(self.data),
                "--log-level",
                "ERROR",
            ],
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.process.kill()
        self.process.wait()
        raise RuntimeError("the SecantusDB daemon did not start listening")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """A clean shutdown (SIGTERM), as a restart does; SIGKILL to discard."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=20)
        self.process = None


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    server = Daemon(tmp_path / "data")
    server.start()
    try:
        yield server
    finally:
        server.stop(signal.SIGKILL)


def _batch(label: str, ts: int) -> Any:
    return make_batch("sess-restart", "w1", [text_mutation(ts, label)])


@pytest.mark.asyncio
async def test_nothing_listening_fails_fast_naming_the_host_and_cause() -> None:
    port = _free_port()
    store = MongoStore(f"mongodb://admin:s3cret@127.0.0.1:{port}/app", settings=QUICK)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as caught:
        await store.open()
    assert time.monotonic() - started < 3
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message and "connect call failed" in message.lower()
    assert "mongodb://127.0.0.1" in message and "/app" in message
    assert "s3cret" not in message


@pytest.mark.asyncio
async def test_an_injected_client_that_reaches_nothing_fails_naming_its_host() -> None:
    port = _free_port()
    client: Any = AsyncIOMotorClient(f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=300)
    try:
        with pytest.raises(StoreUnavailable, match=f"127.0.0.1:{port}"):
            await MongoStore(client=client, database="x").open()
    finally:
        client.close()


@pytest.mark.asyncio
async def test_a_server_restart_between_two_appends_loses_nothing(daemon: Daemon) -> None:
    store = MongoStore(daemon.url, settings=MongoSettings(server_selection_timeout_ms=10_000))
    await store.open()
    try:
        await store.append(_batch("before", T0))
        daemon.stop()
        daemon.start()
        await store.append(_batch("after", T0 + 10))
        assert labels(await read_all(store, "sess-restart")) == ["before", "after"]
        summary = await store.get_session("sess-restart")
        assert summary is not None and summary.batch_count == 2
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_a_call_while_the_server_is_down_fails_and_the_next_one_recovers(
    daemon: Daemon,
) -> None:
    # Long enough for the driver to notice the server is back on the next call.
    settings = MongoSettings(server_selection_timeout_ms=2_000, connect_timeout_ms=500)
    store = MongoStore(daemon.url, settings=settings)
    await store.open()
    try:
        await store.append(_batch("acknowledged", T0))
        daemon.stop()
        with pytest.raises(StoreUnavailable, match=f"127.0.0.1:{daemon.port}.*storing batches"):
            await store.append(_batch("refused", T0 + 5))
        daemon.start()
        await store.append(_batch("later", T0 + 10))
        assert labels(await read_all(store, "sess-restart")) == ["acknowledged", "later"]
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_closing_the_store_leaves_an_injected_client_open(
    mongo_url: str, database: str
) -> None:
    client: Any = AsyncMongoClient(mongo_url, serverSelectionTimeoutMS=3_000)
    try:
        store = MongoStore(client=client, database=database)
        await store.open()
        await store.close()
        assert (await client[database].command("ping"))["ok"] == 1
    finally:
        await client.close()
