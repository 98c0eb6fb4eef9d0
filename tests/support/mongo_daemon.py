"""A SecantusDB server (a GPL, test-only MongoDB wire-protocol server) in a
process of its own, storing on disk: it can be stopped and started again on
the same port with its data kept, which is how tests take MongoDB away
from a running Sentiero and bring it back."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.support.live_server import free_port

DAEMON = Path(sys.executable).with_name("secantusd-py")


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class MongoDaemon:
    def __init__(self, storage: Path, port: int | None = None) -> None:
        self.storage = storage
        self.port = port or free_port()
        self.log = storage.with_name(storage.name + ".log")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}"

    def start(self) -> MongoDaemon:
        assert self.process is None, "already running"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    str(DAEMON),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--storage-path",
                    str(self.storage),
                    "--log-level",
                    "WARNING",
                    # an acknowledged write is on disk, as with a journaled
                    # mongod: a killed server then loses nothing it acknowledged
                    "--sync-on-commit",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.storage.parent,
            )
        try:
            wait_for_port(self.port)
        except OSError:
            self.stop()
            raise
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the server (SIGTERM: a clean shutdown; SIGKILL: a crash)."""
        process, self.process = self.process, None
        if process is None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
