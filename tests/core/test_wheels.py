"""Every distribution builds a wheel; core + SQLite alone install and serve."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.support.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).parent / "uv"
DISTRIBUTIONS = {
    "sentiero_core": ROOT,
    "sentiero_store_sqlite": ROOT / "plugins/sentiero_store_sqlite",
    "sentiero_store_mongo": ROOT / "plugins/sentiero_store_mongo",
    "sentiero_analytics": ROOT / "plugins/sentiero_analytics",
    "sentiero_reporter": ROOT / "plugins/sentiero_reporter",
}


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("wheels")
    for source in DISTRIBUTIONS.values():
        subprocess.run(
            [str(UV), "build", "--wheel", "--quiet", "--out-dir", str(out), str(source)],
            check=True,
            capture_output=True,
        )
    built = {p.name.split("-")[0]: p for p in out.glob("*.whl")}
    return built


def test_every_distribution_builds_a_wheel(wheels: dict[str, Path]) -> None:
    assert set(wheels) == set(DISTRIBUTIONS)


def test_the_core_wheel_carries_templates_and_assets(wheels: dict[str, Path]) -> None:
    names = zipfile.ZipFile(wheels["sentiero_core"]).namelist()
    assert any(n.startswith("sentiero_core/templates/") and n.endswith(".html") for n in names)
    assert "sentiero_core/static/recorder.js" in names
    assert any(n.startswith("sentiero_core/demo/templates/") for n in names)
    assert any(n.startswith("sentiero_core/testing/") for n in names)


def test_core_and_sqlite_alone_list_and_serve(wheels: dict[str, Path], tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = venv / "bin/python"
    subprocess.run(
        [
            str(UV),
            "pip",
            "install",
            "--quiet",
            "--python",
            str(python),
            str(wheels["sentiero_core"]),
            str(wheels["sentiero_store_sqlite"]),
        ],
        check=True,
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTIERO_")}
    env.pop("PYTHONPATH", None)
    listing = subprocess.run(
        [str(venv / "bin/sentiero"), "plugins"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=tmp_path,
    ).stdout
    names = [line.split()[0] for line in listing.splitlines() if not line.startswith(" ")]
    assert names == ["sentiero-core", "sentiero-store-sqlite"]

    port = free_port()
    server = subprocess.Popen(
        [str(venv / "bin/sentiero"), "serve", "--port", str(port), "--store", "sqlite:///x.db"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/sentiero/api/plugins", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    output = server.stdout.read().decode() if server.stdout else ""
                    pytest.fail(f"sentiero serve did not answer:\n{output}")
                time.sleep(0.2)
        assert response.status_code == 200
        assert [p["name"] for p in response.json()["plugins"]] == [
            "sentiero-core",
            "sentiero-store-sqlite",
        ]
        assert (tmp_path / "x.db").exists()
    finally:
        server.terminate()
        server.wait(15)
        if server.stdout is not None:
            server.stdout.close()
