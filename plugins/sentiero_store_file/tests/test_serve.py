"""``sentiero serve --store file:...``: recording over real HTTP into the
directory, a second server on the same directory refused, the recording
still there after a restart."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sentiero_store_file.store import MARKER

from sentiero_core.testing import T0, meta, text_mutation

SENTIERO = Path(sys.executable).parent / "sentiero"
SESSION = "sess-file-0001"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTIERO_")}
    # Only this store: sentiero-analytics, installed beside it in development,
    # refuses to start on a store without the aggregates capability.
    env["SENTIERO_LOAD_PLUGINS"] = "store_file"
    return env


class Server:
    def __init__(self, cwd: Path, store_url: str) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}/sentiero"
        self.process = subprocess.Popen(
            [str(SENTIERO), "serve", "--port", str(self.port), "--store", store_url],
            cwd=cwd,
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{self.base}/api/plugins", timeout=2)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    pytest.fail(f"sentiero serve did not answer: {self.stop()}")
                time.sleep(0.2)

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(15)
        assert self.process.stderr is not None
        err = self.process.stderr.read().decode()
        self.process.stderr.close()
        return err


def test_serve_records_into_the_directory_and_refuses_a_second_server(tmp_path: Path) -> None:
    first = Server(tmp_path, "file:recordings")  # relative to the working directory
    try:
        first.wait_ready()
        plugins = httpx.get(f"{first.base}/api/plugins").json()["plugins"]
        assert "sentiero-store-file" in [p["name"] for p in plugins]
        envelope = {
            "v": 1,
            "session_id": SESSION,
            "window_id": "window-0001",
            "seq": 1,
            "events": [meta(T0, "https://shop.example/"), text_mutation(T0 + 5, "hello")],
        }
        answer = httpx.post(f"{first.base}/events", json=envelope)
        assert answer.status_code == 204, answer.text
        assert (tmp_path / "recordings" / MARKER).exists()

        second = Server(tmp_path, f"file://{tmp_path}/recordings")
        assert second.process.wait(30) == 1
        refused = second.stop()
        assert "in use by another process" in refused
        assert f"(pid {first.process.pid})" in refused
        # the reason alone, on one line: no Quart traceback before it
        assert "Traceback" not in refused
        assert refused.strip().count("\n") == 0, refused
    finally:
        first.stop()

    again = Server(tmp_path, f"file://{tmp_path}/recordings")
    try:
        again.wait_ready()
        listing = httpx.get(f"{again.base}/api/sessions").json()
        assert [s["session_id"] for s in listing["sessions"]] == [SESSION]
        events = httpx.get(f"{again.base}/api/sessions/{SESSION}/events").json()["events"]
        assert [e["timestamp"] for e in events] == [T0, T0 + 5]
    finally:
        again.stop()
