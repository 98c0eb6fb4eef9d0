"""Who limited an HTTP load run: the server, or the load client?

A comparison of two servers says something only while each server is the
bottleneck. On a 2-core machine a Python load client saturates first (about
270 requests/s here against endpoints that serve four times that), and then
both sides of a comparison run at the client's own ceiling: their ratio
measures the client. So each run is watched: the CPU the client used (this
process, and any child process that ran to its end meanwhile, such as wrk)
and the CPU the server process used, over the same wall time. (Not a bench:
``make bench`` runs only the scripts whose names do not start with "_".)
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

#: Of one core: a client single-threaded by design (asyncio, or wrk -t1)
#: has no headroom left above this.
CLIENT_CEILING = 0.85

SATURATED = "load generator saturated; ratio not meaningful"


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (its threads included), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _client_cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass(frozen=True)
class Usage:
    """CPU of the client and the server over one run, in cores."""

    client_cores: float
    server_cores: float

    @property
    def client_bound(self) -> bool:
        """The client, not the server, set the pace: it ran at its ceiling,
        or it was at least as busy as a server that had CPU to spare."""
        return self.client_cores >= CLIENT_CEILING or (
            self.server_cores < CLIENT_CEILING and self.client_cores >= self.server_cores
        )

    def describe(self) -> str:
        return f"client {self.client_cores:4.2f} cores, server {self.server_cores:4.2f} cores"


class Watch:
    """``with Watch(server_pid) as watch: <load>``, then ``watch.usage``."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.usage = Usage(0.0, 0.0)
        self.server_cpu = 0.0

    def __enter__(self) -> Watch:
        self._wall = time.monotonic()
        self._client = _client_cpu()
        self._server = process_cpu(self.server_pid)
        return self

    def __exit__(self, *exc: object) -> None:
        wall = max(time.monotonic() - self._wall, 1e-9)
        self.server_cpu = process_cpu(self.server_pid) - self._server
        client = _client_cpu() - self._client
        self.usage = Usage(client / wall, self.server_cpu / wall)
