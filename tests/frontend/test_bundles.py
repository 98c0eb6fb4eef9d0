"""The committed browser bundles: fresh against their sources, within budget.

The sources hash is computed here exactly as ``frontend/build.mjs`` computes
it, so these tests need no Node: when they fail, run ``make frontend`` and
commit ``sentiero_core/static``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
STATIC = ROOT / "sentiero_core" / "static"
MANIFEST = STATIC / "build-manifest.json"
HASHED_FILES = ("build.mjs", "package.json", "package-lock.json")
RECORDER_BUDGET = 35 * 1024
WITH_EXTENSIONS_BUDGET = 37 * 1024
REBUILD = "run `make frontend` and commit sentiero_core/static"


def sources_hash(frontend: Path) -> str:
    """SHA-256 over "<posix path>\\n<sha256 of content, CRLF as LF>\\n", paths sorted."""
    paths = list(HASHED_FILES)
    for path in (frontend / "src").rglob("*"):
        rel = path.relative_to(frontend)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            paths.append(rel.as_posix())
    digest = hashlib.sha256()
    for rel_path in sorted(paths):
        content = (frontend / rel_path).read_bytes().replace(b"\r\n", b"\n")
        digest.update(f"{rel_path}\n{hashlib.sha256(content).hexdigest()}\n".encode())
    return digest.hexdigest()


def manifest() -> dict:  # type: ignore[type-arg]
    return json.loads(MANIFEST.read_text())  # type: ignore[no-any-return]


def test_bundles_are_built_from_the_current_sources() -> None:
    """Ensure that the committed bundles were built from the sources as they are now."""
    assert manifest()["sources_sha256"] == sources_hash(FRONTEND), (
        f"the bundles in sentiero_core/static are stale against frontend/: {REBUILD}"
    )


def test_bundle_files_are_the_ones_the_build_wrote() -> None:
    """Ensure that no bundle was edited or replaced by hand after the build."""
    bundles = manifest()["bundles"]
    assert "recorder.js" in bundles
    for name, entry in bundles.items():
        data = (STATIC / name).read_bytes()
        assert len(data) == entry["bytes"], f"{name} differs from the build: {REBUILD}"
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], (
            f"{name} differs from the build: {REBUILD}"
        )


def test_recorder_fits_its_gzip_budget() -> None:
    """Ensure that the recorder stays at most 35 KB gzipped."""
    size = len(gzip.compress((STATIC / "recorder.js").read_bytes(), 9))
    assert size <= RECORDER_BUDGET, f"recorder.js is {size / 1024:.1f} KB gzipped (budget 35 KB)"


def test_the_recorder_with_every_extension_stays_under_37_kb() -> None:
    """Ensure that a page with every opt-in capture on (web vitals and
    console: their bundles come in front of the recorder) gets at most 37 KB
    gzipped, and that the extensions are kept out of the recorder itself."""
    names = ["recorder-vitals.js", "recorder-console.js", "recorder.js"]
    parts = [(STATIC / name).read_bytes() for name in names]
    size = len(gzip.compress(b";\n".join(parts), 9))
    assert size <= WITH_EXTENSIONS_BUDGET, f"{size / 1024:.1f} KB gzipped (budget 37 KB)"
    recorder = parts[-1]
    assert b"largest-contentful-paint" not in recorder  # web-vitals
    assert b"rrweb/console@1" in recorder  # only the name, for capping
    assert b"stringLengthLimit" not in recorder  # the console plugin


PLAYER_BUDGET = 100 * 1024


@pytest.mark.parametrize("name", ["player.js", "player-file.js"])
def test_players_fit_their_gzip_budget(name: str) -> None:
    """Ensure that each player bundle stays at most 100 KB gzipped."""
    size = len(gzip.compress((STATIC / name).read_bytes(), 9))
    assert size <= PLAYER_BUDGET, f"{name} is {size / 1024:.1f} KB gzipped (budget 100 KB)"


def test_the_file_player_can_be_inlined_into_a_share_file() -> None:
    """Ensure that player-file.js, which share files carry inline, has
    nothing that would end its <script> element early, and reads no API."""
    data = (STATIC / "player-file.js").read_bytes().lower()
    for hazard in (b"</script", b"<!--", b"<script"):
        assert hazard not in data, f"player-file.js contains {hazard!r}"
    assert b"sentiero-share-data" in data
    assert b"eventsurl" not in data  # the API loader stays in player.js


@pytest.fixture()
def frontend_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "frontend"
    shutil.copytree(FRONTEND / "src", copy / "src")
    for name in HASHED_FILES:
        shutil.copy(FRONTEND / name, copy / name)
    return copy


def test_the_hash_matches_the_manifest_on_a_copy(frontend_copy: Path) -> None:
    """Ensure that the hash depends on the files only, not on where they live."""
    assert sources_hash(frontend_copy) == sources_hash(FRONTEND)


@pytest.mark.parametrize(
    "change",
    ["edit a source", "add a source", "edit the lock file", "edit the build script"],
)
def test_any_source_change_makes_the_bundles_stale(frontend_copy: Path, change: str) -> None:
    """Ensure that every kind of source change is seen by the freshness check."""
    before = sources_hash(frontend_copy)
    if change == "edit a source":
        target = frontend_copy / "src" / "recorder" / "index.js"
        target.write_text(target.read_text() + "\n// changed\n")
    elif change == "add a source":
        (frontend_copy / "src" / "recorder" / "extra.js").write_text("export const x = 1;\n")
    elif change == "edit the lock file":
        lock = frontend_copy / "package-lock.json"
        lock.write_text(lock.read_text() + " ")
    else:
        (frontend_copy / "build.mjs").write_text("// another build\n")
    assert sources_hash(frontend_copy) != before


def test_line_endings_do_not_change_the_hash(frontend_copy: Path) -> None:
    """Ensure that a checkout with CRLF line endings is not reported stale."""
    before = sources_hash(frontend_copy)
    target = frontend_copy / "src" / "recorder" / "index.js"
    target.write_bytes(target.read_bytes().replace(b"\n", b"\r\n"))
    assert sources_hash(frontend_copy) == before
