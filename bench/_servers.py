"""What the benches that start a server process share: a free loopback
port, waiting until the process accepts connections on it, and stopping it.
(Not a bench: ``make bench`` runs only the scripts whose names do not start
with "_".)"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(
    port: int,
    proc: subprocess.Popen[bytes],
    what: str,
    log: IO[bytes] | None = None,
    timeout: float = 30,
) -> None:
    """Return once ``proc`` accepts connections on ``port``; raise, with
    its log when given, if it exits or takes more than ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if proc.poll() is not None:
                said = ""
                if log is not None:
                    log.seek(0)
                    said = ": " + log.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"the {what} exited with {proc.returncode}{said}") from None
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"the {what} did not start in {timeout:g} s") from None
            time.sleep(0.05)


def stop_server(proc: subprocess.Popen[bytes], timeout: float = 10) -> float:
    """SIGTERM (a graceful stop: shutdown hooks run), killed after
    ``timeout``; the seconds it took to exit."""
    start = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return time.monotonic() - start


@contextmanager
def server_process(
    command: list[str],
    port: int,
    what: str,
    *,
    timeout: float = 30,
    kill: bool = False,
    **popen: Any,
) -> Iterator[subprocess.Popen[bytes]]:
    """``command`` (``popen`` passed to ``subprocess.Popen``), once it
    accepts connections on ``port``; stopped afterwards with SIGTERM, or
    SIGKILL when ``kill`` (a server holding nothing worth a graceful stop)."""
    proc: subprocess.Popen[bytes] = subprocess.Popen(command, **popen)
    try:
        wait_for_port(port, proc, what, timeout=timeout)
        yield proc
    finally:
        if kill:
            proc.kill()
            proc.wait()
        else:
            stop_server(proc)
