"""A third party writes a store, packages it and runs our contract suite.

The store, its test module and its ``pyproject.toml`` are the ones in
``docs/writing-a-store.md``: the guide's example is built into a
distribution of its own, outside this repository's packages, installed
from wheels beside ``sentiero-core`` into a fresh virtual environment, and
tested there with pytest exactly as its author would. Then one bug is
planted in it and the suite must catch it.
"""

from __future__ import annotations

import os
import re
import subprocess
import zipfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.support.wheels import build_wheel, install, make_venv

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs/writing-a-store.md"
PLUGINS = ROOT / "plugins"

# The bug: events come back in arrival order, not by time.
SORT_LINE = "            rows.sort(key=lambda row: row[0])\n"
PYTEST_INI = """\
[pytest]
asyncio_default_fixture_loop_scope = function
filterwarnings = error
"""


def guide_files(text: str) -> dict[str, str]:
    """The guide's code blocks that open with a ``# <path>`` comment, and
    its ``pyproject.toml``, by path."""
    files: dict[str, str] = {}
    for lang, body in re.findall(r"^```(\w+)\n(.*?)^```$", text, re.MULTILINE | re.DOTALL):
        first = body.splitlines()[0]
        if lang == "python" and re.fullmatch(r"# [\w/]+\.py", first):
            files[first[2:]] = body
        elif lang == "toml" and 'name = "tinystore"' in body:
            files["pyproject.toml"] = body
    return files


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTIERO_")}
    env.pop("PYTHONPATH", None)
    return env


def write_distribution(where: Path, files: dict[str, str]) -> Path:
    for name, body in files.items():
        if not name.startswith("tests/"):
            (where / name).parent.mkdir(parents=True, exist_ok=True)
            (where / name).write_text(body)
    return where


def run_suite(python: Path, project: Path) -> subprocess.CompletedProcess[str]:
    """pytest on the author's test module, from a folder holding only the
    tests: the store must come from the installed wheel."""
    return subprocess.run(
        [str(python), "-m", "pytest", "-q", "-rfEs", "-p", "no:cacheprovider", "tests"],
        cwd=project,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )


@dataclass(frozen=True)
class Author:
    python: Path  # of the venv where sentiero-core and tinystore are installed
    project: Path  # the author's tests, and nothing else
    files: dict[str, str]  # the guide's files
    wheel: Path  # tinystore as the guide writes it


@pytest.fixture(scope="module")
def author(tmp_path_factory: pytest.TempPathFactory) -> Author:
    """The guide's store built and installed from wheels beside sentiero-core."""
    files = guide_files(GUIDE.read_text())
    assert {"tinystore/__init__.py", "tests/test_tinystore.py", "pyproject.toml"} <= set(files)
    base = tmp_path_factory.mktemp("third-party")
    wheels = base / "wheels"
    wheels.mkdir()
    core = build_wheel(ROOT, wheels)
    store = build_wheel(write_distribution(base / "tinystore-src", files), wheels)
    python = make_venv(
        base / "venv",
        core,
        store,
        f"pytest=={version('pytest')}",
        f"pytest-asyncio=={version('pytest-asyncio')}",
    )
    project = base / "project"
    (project / "tests").mkdir(parents=True)
    (project / "tests/test_tinystore.py").write_text(files["tests/test_tinystore.py"])
    (project / "pytest.ini").write_text(PYTEST_INI)
    return Author(python, project, files, store)


def test_the_core_and_store_wheels_are_typed(tmp_path: Path) -> None:
    for source, package in [
        (ROOT, "sentiero_core"),
        (PLUGINS / "sentiero_store_sqlite", "sentiero_store_sqlite"),
        (PLUGINS / "sentiero_store_mongo", "sentiero_store_mongo"),
        (PLUGINS / "sentiero_store_file", "sentiero_store_file"),
        (PLUGINS / "sentiero_store_redis", "sentiero_store_redis"),
    ]:
        names = zipfile.ZipFile(build_wheel(source, tmp_path)).namelist()
        assert f"{package}/py.typed" in names, package


def test_the_guides_store_passes_the_suite_installed(author: Author) -> None:
    python, project = author.python, author.project
    where = subprocess.run(
        [str(python), "-c", "import tinystore; print(tinystore.__file__)"],
        cwd=project,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "site-packages" in where, where
    done = run_suite(python, project)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = done.stdout.strip().splitlines()[-1]
    passed = int(re.search(r"(\d+) passed", summary)[1])  # type: ignore[index]
    assert passed > 100, summary
    assert "failed" not in summary and "error" not in summary, summary
    # Plain JSON, not persistent: the declared capabilities decide the skips.
    assert "TinyStore declares no compression" in done.stdout
    assert "does not provide `reopen_store` (not persistent)" in done.stdout


def test_the_entry_point_offers_the_store_to_the_command(author: Author) -> None:
    python, project = author.python, author.project
    sentiero = python.parent / "sentiero"
    listing = subprocess.run(
        [str(sentiero), "plugins"], cwd=project, env=clean_env(), capture_output=True, text=True
    )
    assert listing.returncode == 0, listing.stderr
    assert [line.split()[0] for line in listing.stdout.splitlines() if line[:1] != " "] == [
        "sentiero-core",
        "tinystore",
    ]
    refused = subprocess.run(
        [str(sentiero), "serve", "--store", "tiny://elsewhere", "--port", "1"],
        cwd=project,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2, refused.stderr
    assert "Traceback" not in refused.stderr
    assert refused.stderr.strip().splitlines() == [
        "sentiero: configuration error: store_url: 'tiny' store refused the URL: "
        "expected tiny:// (nothing after it), got 'tiny://elsewhere'"
    ]


def test_a_planted_bug_fails_the_suite(author: Author, tmp_path: Path) -> None:
    python, project, files = author.python, author.project, author.files
    source = files["tinystore/__init__.py"]
    assert source.count(SORT_LINE) == 1, "the guide's store changed: plant the bug elsewhere"
    buggy = {
        **files,
        "tinystore/__init__.py": source.replace(SORT_LINE, ""),
        "pyproject.toml": files["pyproject.toml"].replace('version = "0.1.0"', 'version = "0.1.1"'),
    }
    wheel = build_wheel(write_distribution(tmp_path / "src", buggy), tmp_path)
    install(python, wheel, replace=True)
    try:
        done = run_suite(python, project)
    finally:
        install(python, author.wheel, replace=True)
    assert done.returncode == 1, done.stdout + done.stderr
    failed = set(re.findall(r"^FAILED \S+::(test_\w+)", done.stdout, re.MULTILINE))
    assert {
        "test_batches_out_of_time_order_read_in_timestamp_order",
        "test_overlapping_windows_interleave_by_timestamp",
        "test_events_out_of_order_within_a_batch_are_sorted",
    } <= failed, done.stdout
