"""A real Hypercorn server on 127.0.0.1 running an app in a background thread.

Tests talk to it over real HTTP; ``server.run(coro)`` runs a coroutine on
the server's own loop, which is how a test reads the app's store directly.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Coroutine
from typing import Any

from hypercorn.asyncio import serve
from hypercorn.config import Config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, app: Any, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.app = app
        self.host = host
        self.port = port or free_port()
        self.loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        config = Config()
        config.bind = [f"{self.host}:{self.port}"]
        config.accesslog = None
        config.errorlog = None
        config.graceful_timeout = 1

        async def runner() -> None:
            self._stop = asyncio.Event()
            task = asyncio.ensure_future(serve(self.app, config, shutdown_trigger=self._stop.wait))
            # ready once the port accepts connections
            for _ in range(500):
                if task.done():
                    break
                try:
                    _r, w = await asyncio.open_connection(self.host, self.port)
                    w.close()
                    break
                except OSError:
                    await asyncio.sleep(0.01)
            self._ready.set()
            await task

        try:
            self.loop.run_until_complete(runner())
        except BaseException as exc:  # surfaced by start()
            self._error = exc
            self._ready.set()
        finally:
            # an unclosed loop leaks its self-pipe: a ResourceWarning, an error here
            self.loop.close()

    def start(self) -> LiveServer:
        self._thread.start()
        if not self._ready.wait(20):
            raise RuntimeError("the live server did not start in 20 s")
        if self._error is not None:
            raise RuntimeError(f"the live server failed: {self._error!r}")
        return self

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
        """Run ``coro`` on the server's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(20)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
