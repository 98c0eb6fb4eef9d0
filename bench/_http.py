"""What the HTTP benches share: ``sentiero serve`` on a free port (see
``_servers``), and ``wrk`` driven with a Lua script. (Not a bench:
``make bench`` runs only the scripts whose names do not start with "_".)"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import IO

from _servers import free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
#: The recorder's request, as wrk sends it.
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)


def sentiero_serve(db: Path, plugins: str, log: IO[bytes]) -> tuple[subprocess.Popen[bytes], int]:
    """``sentiero serve`` on a SQLite file, loading only ``plugins``
    (``SENTIERO_LOAD_PLUGINS``); its access log goes nowhere, its errors to
    ``log``."""
    port = free_port()
    command = [sys.executable, "-m", "sentiero_core.cli", "serve", "--port", str(port)]
    command += ["--store", f"sqlite:///{db}"]
    env = {**os.environ, "SENTIERO_LOAD_PLUGINS": plugins}
    env.pop("SENTIERO_CONFIG", None)
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    wait_for_port(port, proc, f"sentiero serve ({plugins})", log)
    return proc, port


def check_once(port: int, path: str, body: bytes) -> None:
    """One gzipped POST that must answer 204."""
    import httpx

    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    response = httpx.post(f"http://127.0.0.1:{port}{path}", content=body, headers=headers)
    if response.status_code != 204:
        raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:200]}")


def wrk_command(
    port: int, path: str, script: Path, seconds: float, connections: int, *args: str
) -> list[str]:
    """wrk, one thread (the client's own core), ``script`` given ``args``."""
    return [
        *("wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", str(script)),
        f"http://127.0.0.1:{port}{path}",
        "--",
        *args,
    ]


def wrk_rate(out: str, path: str) -> tuple[float, int]:
    """(requests per second, requests) from wrk's output; failed requests raise."""
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        raise RuntimeError(f"{path}: {bad.group(1)} requests failed\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if match is None or total is None:
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    return float(match.group(1)), int(total.group(1))
