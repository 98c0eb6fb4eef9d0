"""A real redis-server for the whole test session.

Debian's ``redis-server`` (``apt-get install redis-server``; ``.ci/system-deps.sh``
installs it) runs on a free loopback port, without persistence, and is
stopped by its PID at the end. With ``SENTIERO_TEST_REDIS_URL`` set, every
test uses that server instead. Each test gets a key prefix of its own, so
tests never see each other's keys.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from sentiero_store_redis import RedisSettings, RedisStore

from sentiero_core.store import StoreLimits

EXTERNAL_URL_ENV = "SENTIERO_TEST_REDIS_URL"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """One ``redis-server`` subprocess on loopback; ``stop()`` ends it by PID,
    ``start()`` starts it again on the same port (a restart)."""

    def __init__(self, workdir: Path) -> None:
        self.binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(self.binary).exists():
            pytest.fail("redis-server is missing: apt-get install -y redis-server")
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"redis-server did not start on port {self.port}")
                time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get(EXTERNAL_URL_ENV)
    if external:
        yield external
        return
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of the test's own, which the test may stop."""
    server = RedisServer(tmp_path)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on."""
    return free_port()


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}:"


@pytest_asyncio.fixture
async def raw_redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A client of its own, to look behind the store's back."""
    client = aioredis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


MakeStore = Callable[..., Awaitable[RedisStore]]


@pytest_asyncio.fixture
async def make_store(redis_url: str, prefix: str) -> AsyncIterator[MakeStore]:
    """Opened stores (each with its own client: one app server each) over
    the test's prefix; all closed after the test."""
    opened: list[RedisStore] = []

    async def make(
        limits: StoreLimits | None = None, settings: RedisSettings | None = None
    ) -> RedisStore:
        store = RedisStore(
            redis_url,
            settings=settings or RedisSettings(key_prefix=prefix, socket_timeout_ms=5_000),
            limits=limits,
        )
        await store.open()
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()
