"""``sentiero serve`` in a process of its own, for tests that stop what it
depends on (its store's server) or measure it from outside."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.live_server import free_port
from tests.support.mongo_daemon import wait_for_port


@contextmanager
def serving(
    store_url: str,
    log: Path,
    *args: str,
    env: dict[str, str] | None = None,
    port: int | None = None,
) -> Iterator[str]:
    """The server's base URL while it runs; its output goes to ``log``."""
    port = port or free_port()
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
                store_url,
                *args,
            ],
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)
