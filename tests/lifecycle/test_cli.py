"""``sentiero purge`` and ``sentiero erase`` against a real SQLite file:
dry-run counts, confirmation, progress, exit codes, and nothing left."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import sentiero_core.app
from sentiero_core import get_plugin_manager, open_sentiero
from sentiero_core.cli import main
from sentiero_core.settings import Settings
from sentiero_core.testing import T0
from sentiero_core.utils import now_ms
from tests.lifecycle.support import FileNotes, fill, marker, sqlite_contents, traces

SESSIONS: dict[str, dict[str, Any]] = {
    **{f"cli-erase-{i:04d}": {"user_id": "u-cli", "at": T0 + i} for i in range(620)},
    "cli-keep-1": {"user_id": "u-other", "ip": "198.51.100.0"},
}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTIERO_")}
    return subprocess.run(
        [sys.executable, "-m", "sentiero_core.cli", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        timeout=120,
    )


async def _seed(db: Path, sessions: dict[str, dict[str, Any]]) -> None:
    async with open_sentiero(Settings(store_url=f"sqlite:///{db}")) as sentiero:
        await fill(sentiero.store, None, sessions)


async def _count(db: Path) -> int:
    async with open_sentiero(Settings(store_url=f"sqlite:///{db}")) as sentiero:
        return await sentiero.store.count_sessions()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "cli.db"
    asyncio.run(_seed(path, SESSIONS))
    return path


def test_erase_dry_run_then_without_a_terminal_then_with_yes(db: Path) -> None:
    store = f"sqlite:///{db}"
    dry = run("erase", "--store", store, "--user-id", "u-cli", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "620 sessions match user_id='u-cli' and would be erased." in dry.stdout
    assert asyncio.run(_count(db)) == 621

    refused = run("erase", "--store", store, "--user-id", "u-cli")
    assert refused.returncode == 1
    assert "620 sessions match user_id='u-cli'." in refused.stdout
    assert "sentiero: not erasing: there is no terminal to confirm on; pass --yes" in refused.stderr
    assert asyncio.run(_count(db)) == 621

    done = run("erase", "--store", store, "--user-id", "u-cli", "--yes")
    assert done.returncode == 0, done.stderr
    assert "620 sessions erased." in done.stdout
    assert "erasing [" in done.stderr and "100% 620/620" in done.stderr
    assert asyncio.run(_count(db)) == 1
    contents = sqlite_contents(db)
    assert traces(contents, "cli-erase-0000", "cli-erase-0619", marker("cli-erase-0311")) == []
    assert traces(contents, "u-cli") == []
    assert traces(contents, "cli-keep-1") == ["cli-keep-1"]


def test_erase_by_session_ids_and_address(db: Path) -> None:
    store = f"sqlite:///{db}"
    done = run("erase", "--store", store, "--session", "cli-erase-0001", "cli-erase-0002", "--yes")
    assert done.returncode == 0, done.stderr
    assert "2 sessions erased." in done.stdout
    by_ip = run("erase", "--store", store, "--ip", "198.51.100.9", "-y")
    assert by_ip.returncode == 0, by_ip.stderr
    assert "1 session matches ip='198.51.100.0'." in by_ip.stdout
    assert "1 session erased." in by_ip.stdout
    assert asyncio.run(_count(db)) == 618


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "erase needs at least one filter: --session, --user-id, --ip"),
        (["--ip", "nope"], "ip: expected an IPv4 or IPv6 address, got 'nope'"),
        (["--before", "soon"], "expected a date like 2024-05-01"),
        (["--user-id"], "expected one argument"),
    ],
)
def test_erase_refuses_bad_or_missing_filters(db: Path, args: list[str], message: str) -> None:
    result = run("erase", "--store", f"sqlite:///{db}", "--yes", *args)
    assert result.returncode == 2
    assert "usage: sentiero erase" in result.stderr
    assert message in result.stderr
    assert asyncio.run(_count(db)) == 621


def test_erase_before_a_date(db: Path) -> None:
    result = run("erase", "--store", f"sqlite:///{db}", "--before", "2000-01-01", "--yes")
    assert result.returncode == 0, result.stderr
    assert "0 sessions match started_before=946684800000." in result.stdout
    assert "Nothing to erase." in result.stdout


def test_purge_needs_an_age_and_counts_first(tmp_path: Path) -> None:
    db = tmp_path / "purge.db"
    now = now_ms()
    asyncio.run(
        _seed(
            db,
            {
                **{
                    f"purge-old-{i:04d}": {"user_id": "x", "at": now - 3 * 86_400_000 + i}
                    for i in range(1100)
                },
                "purge-fresh": {"user_id": "y", "at": now},
            },
        )
    )
    store = f"sqlite:///{db}"
    no_age = run("purge", "--store", store)
    assert no_age.returncode == 2
    assert "retention_period is not set" in no_age.stderr and "--older-than" in no_age.stderr
    bad_age = run("purge", "--store", store, "--older-than", "soon")
    assert bad_age.returncode == 2 and "expected an age like" in bad_age.stderr
    for age in ("0", "0d", "3000000d"):  # everything, or before year 1
        out_of_range = run("purge", "--store", store, "--older-than", age, "--yes")
        assert out_of_range.returncode == 2, (age, out_of_range.stderr)
        assert "from 1 s to 100 years" in out_of_range.stderr
        assert "Traceback" not in out_of_range.stderr

    dry = run("purge", "--store", store, "--older-than", "2d", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "1100 sessions last active before" in dry.stdout and "would be purged" in dry.stdout
    refused = run("purge", "--store", store, "--older-than", "2d")
    assert refused.returncode == 1 and "no terminal to confirm on" in refused.stderr
    assert asyncio.run(_count(db)) == 1101

    done = run("purge", "--store", store, "--older-than", "2d", "--yes")
    assert done.returncode == 0, done.stderr
    assert "1100 sessions purged." in done.stdout
    assert "purging [" in done.stderr and "100% 1100/1100" in done.stderr
    assert asyncio.run(_count(db)) == 1
    assert traces(sqlite_contents(db), "purge-old-0000", "purge-old-1099") == []

    again = run("purge", "--store", store, "--older-than", "2d", "--yes")
    assert again.returncode == 0 and "Nothing to purge." in again.stdout


def test_purge_uses_retention_period_from_the_config_file(tmp_path: Path) -> None:
    db = tmp_path / "retained.db"
    asyncio.run(_seed(db, {"ancient-1": {"user_id": "x", "at": now_ms() - 7_200_000}}))
    config = tmp_path / "sentiero.toml"
    config.write_text(f'store_url = "sqlite:///{db}"\nretention_period = 3600\n')
    result = run("purge", "--config", str(config), "--yes")
    assert result.returncode == 0, result.stderr
    assert "(retention_period 3600 s)" in result.stdout
    assert "1 session purged." in result.stdout


def test_a_store_that_cannot_be_opened_exits_1(tmp_path: Path) -> None:
    folder = tmp_path / "not-a-file.db"
    folder.mkdir()
    result = run("erase", "--store", f"sqlite:///{folder}", "--user-id", "u", "--yes")
    assert result.returncode == 1
    assert "sentiero: the store could not be opened:" in result.stderr


@pytest.mark.parametrize(("answer", "erased"), [("y", True), ("", False), ("no", False)])
def test_erase_asks_on_a_terminal_and_reaches_the_plugins(
    tmp_path: Path,
    db: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    answer: str,
    erased: bool,
) -> None:
    notes = FileNotes(tmp_path)
    for session_id in SESSIONS:
        notes.note(session_id)

    def with_notes(**kwargs: Any) -> Any:
        pm = get_plugin_manager(**kwargs)
        pm.register(notes, name="file-notes")
        return pm

    questions: list[str] = []
    monkeypatch.setattr(sentiero_core.app, "get_plugin_manager", with_notes)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda q: questions.append(q) or answer)
    status: Any
    try:
        status = main(["erase", "--store", f"sqlite:///{db}", "--user-id", "u-cli"])
    except SystemExit as exc:
        status = exc.code
    out = capsys.readouterr()
    assert questions == [
        "Erase 620 sessions with everything kept about them? This cannot be undone. [y/N] "
    ]
    if erased:
        assert status == 0
        assert notes.files() == ["cli-keep-1"]
        assert [reason for reason, _ids in notes.removed] == ["erased", "erased"]  # two chunks
        assert sum(len(ids) for _r, ids in notes.removed) == 620
    else:
        assert status == 1
        assert "not confirmed: nothing was erased" in out.err
        assert len(notes.files()) == 621 and notes.removed == []
