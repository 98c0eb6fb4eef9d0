"""Every distribution builds a wheel and an sdist with complete metadata;
core + SQLite alone install and serve."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import time
import zipfile
from email.message import Message
from email.parser import Parser
from pathlib import Path

import httpx
import pytest

from tests.support.live_server import free_port
from tests.support.wheels import build_wheel

ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).parent / "uv"
DISTRIBUTIONS = {
    "sentiero_core": ROOT,
    "sentiero_store_sqlite": ROOT / "plugins/sentiero_store_sqlite",
    "sentiero_store_mongo": ROOT / "plugins/sentiero_store_mongo",
    "sentiero_store_file": ROOT / "plugins/sentiero_store_file",
    "sentiero_store_redis": ROOT / "plugins/sentiero_store_redis",
    "sentiero_analytics": ROOT / "plugins/sentiero_analytics",
    "sentiero_reporter": ROOT / "plugins/sentiero_reporter",
    "sentiero_django": ROOT / "plugins/sentiero_django",
    "sentiero_flask": ROOT / "plugins/sentiero_flask",
}


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("wheels")
    built = [build_wheel(source, out) for source in DISTRIBUTIONS.values()]
    return {p.name.split("-")[0]: p for p in built}


@pytest.fixture(scope="module")
def sdists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("sdists")
    for source in DISTRIBUTIONS.values():
        subprocess.run(
            [str(UV), "build", "--sdist", "--quiet", "--out-dir", str(out), str(source)],
            check=True,
            capture_output=True,
        )
    return {p.name.rsplit("-", 1)[0]: p for p in out.glob("*.tar.gz")}


def test_every_distribution_builds_a_wheel(wheels: dict[str, Path]) -> None:
    assert set(wheels) == set(DISTRIBUTIONS)


def _metadata(wheel: Path) -> tuple[Message, list[str]]:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        return Parser().parsestr(archive.read(info).decode()), names


@pytest.mark.parametrize("dist", sorted(DISTRIBUTIONS))
def test_every_wheel_carries_complete_metadata(wheels: dict[str, Path], dist: str) -> None:
    meta, names = _metadata(wheels[dist])
    source = DISTRIBUTIONS[dist]
    assert len(meta["Summary"]) > 20
    assert meta["Author"] == "The Sentiero contributors"
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]
    licence = next(n for n in names if n.endswith(".dist-info/licenses/LICENSE"))
    with zipfile.ZipFile(wheels[dist]) as archive:
        text = archive.read(licence).decode()
    assert text == (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License")
    # the distribution's own README is its long description
    assert meta["Description-Content-Type"] == "text/markdown"
    body = meta.get_payload()
    assert isinstance(body, str)
    assert body.strip() == (source / "README.md").read_text().strip()
    assert len(meta["Keywords"].split(",")) >= 4
    classifiers = meta.get_all("Classifier") or []
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert any(c.startswith("Development Status ::") for c in classifiers)
    assert not any(c.startswith("License ::") for c in classifiers)  # the expression says it


def test_the_wheels_name_the_same_project_urls(wheels: dict[str, Path]) -> None:
    urls = {dist: _metadata(wheel)[0].get_all("Project-URL") for dist, wheel in wheels.items()}
    core = urls["sentiero_core"]
    assert core is not None
    assert {u.split(",")[0] for u in core} == {"Homepage", "Documentation", "Source", "Issues"}
    assert all(u == core for u in urls.values())


def _members(sdist: Path) -> list[str]:
    with tarfile.open(sdist) as archive:
        return archive.getnames()


def test_every_sdist_carries_its_sources_readme_and_licence(sdists: dict[str, Path]) -> None:
    assert set(sdists) == set(DISTRIBUTIONS)
    for dist, sdist in sdists.items():
        names = [n.split("/", 1)[1] for n in _members(sdist) if "/" in n]
        assert {"pyproject.toml", "README.md", "LICENSE", "PKG-INFO"} <= set(names), dist
        assert any(n.startswith(f"{dist}/") and n.endswith(".py") for n in names), dist
        assert not any(n.startswith(("tests/", "bench/", "plugins/")) for n in names), dist


def test_the_core_sdist_has_the_frontend_sources_but_not_node_modules(
    sdists: dict[str, Path],
) -> None:
    names = _members(sdists["sentiero_core"])
    assert any("/frontend/src/recorder/" in n for n in names)
    assert any(n.endswith("/frontend/package-lock.json") for n in names)
    assert not any("node_modules" in n for n in names)
    assert not any("/tests/" in n for n in names)


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
    installed = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.metadata as m\n"
            "print(*sorted(d.metadata['Name'].lower() for d in m.distributions()))",
        ],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.split()
    # the zstandard package weighed 24 MB; the codec needs compression.zstd
    assert "zstandard" not in installed
    assert "aiosqlite" not in installed
    assert ("backports.zstd" in installed) is (sys.version_info < (3, 14))
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
