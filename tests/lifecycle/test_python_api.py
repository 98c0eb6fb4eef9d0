"""``purge_expired``, ``erase_sessions``, ``erase_where`` from a script
(``open_sentiero``) and from a running app, against a real SQLite file read
directly afterwards."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from sentiero_core import Settings, create_app, get_plugin_manager, open_sentiero
from sentiero_core.testing import T0
from sentiero_core.utils import now_ms
from tests.lifecycle.support import FileNotes, fill, marker, sqlite_contents, traces

SESSIONS: dict[str, dict[str, Any]] = {
    "erase-a": {"user_id": "u-42", "ip": "198.51.100.0", "url": "/checkout"},
    "erase-b": {"user_id": "u-42", "at": T0 + 60_000},
    "keep-c": {"user_id": "u-7", "url": "/checkout"},
    "keep-d": {"user_id": "u-8", "ip": "198.51.100.0", "at": T0 + 120_000},
}


def _setup(tmp_path: Path, **options: Any) -> tuple[Settings, Any, FileNotes, list[dict[str, Any]]]:
    records: list[dict[str, Any]] = []
    notes_dir = tmp_path / "notes"
    notes_dir.mkdir()
    notes = FileNotes(notes_dir)
    pm = get_plugin_manager()  # the installed plugins: the SQLite store among them
    pm.register(notes, name="file-notes")
    settings = Settings(
        store_url=f"sqlite:///{tmp_path / 'sentiero.db'}", audit_log=records.append, **options
    )
    return settings, pm, notes, records


@pytest.mark.asyncio
async def test_erase_where_from_a_script_leaves_nothing(tmp_path: Path) -> None:
    settings, pm, notes, records = _setup(tmp_path)
    async with open_sentiero(settings, plugin_manager=pm) as sentiero:
        await fill(sentiero.store, notes, SESSIONS)
        assert await sentiero.count_where(user_id="u-42") == 2
        assert await sentiero.erase_where(user_id="u-42", by="dpo@example.com") == 2
        assert await sentiero.erase_where(user_id="u-42") == 0
    contents = sqlite_contents(tmp_path / "sentiero.db")
    assert (
        traces(contents, "erase-a", "erase-b", marker("erase-a"), marker("erase-b"), "u-42") == []
    )
    assert traces(contents, "keep-c", marker("keep-c")) == ["keep-c", marker("keep-c")]
    assert notes.files() == ["keep-c", "keep-d"]
    assert notes.removed == [("erased", ["erase-a", "erase-b"])]
    erased = [r for r in records if r["action"] == "sessions_erased"]
    assert [(r["count"], r["by"], r["filter"], r["via"]) for r in erased] == [
        (2, "dpo@example.com", {"user_id": "u-42"}, "python"),
        (0, None, {"user_id": "u-42"}, "python"),
    ]
    assert erased[0]["at"] <= erased[1]["at"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("criteria", "erased"),
    [
        ({"ip": "198.51.100.77"}, ["erase-a", "keep-d"]),  # compared truncated, as stored
        ({"ip": "198.51.100.77", "user_id": "u-42"}, ["erase-a"]),
        ({"url_contains": "CHECKOUT"}, ["erase-a", "keep-c"]),
        ({"before": T0 + 60_000}, ["erase-a", "keep-c"]),
        (
            {"before": datetime.fromtimestamp((T0 + 60_001) / 1000, tz=UTC)},
            ["erase-a", "erase-b", "keep-c"],
        ),
        ({"before": date(2000, 1, 1)}, []),
    ],
    ids=["ip", "ip-and-user", "url", "before-ms", "before-datetime", "before-date"],
)
async def test_erase_where_criteria_combine(
    tmp_path: Path, criteria: dict[str, Any], erased: list[str]
) -> None:
    settings, pm, notes, _records = _setup(tmp_path)
    async with open_sentiero(settings, plugin_manager=pm) as sentiero:
        await fill(sentiero.store, notes, SESSIONS)
        assert await sentiero.count_where(**criteria) == len(erased)
        assert await sentiero.erase_where(**criteria) == len(erased)
        left = {s.session_id for s in (await sentiero.store.list_sessions()).sessions}
    assert left == set(SESSIONS) - set(erased)
    assert notes.files() == sorted(left)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("criteria", "message"),
    [
        ({}, "at least one criterion"),
        ({"user_id": ""}, "user_id: expected non-empty text"),
        ({"ip": "localhost"}, "ip: expected an IPv4 or IPv6 address"),
        ({"before": "2024-01-01"}, "before: expected a datetime"),
    ],
)
async def test_erase_where_refuses_what_it_cannot_use(
    tmp_path: Path, criteria: dict[str, Any], message: str
) -> None:
    settings, pm, notes, records = _setup(tmp_path)
    async with open_sentiero(settings, plugin_manager=pm) as sentiero:
        await fill(sentiero.store, notes, SESSIONS)
        with pytest.raises(ValueError, match=message):
            await sentiero.erase_where(**criteria)
        with pytest.raises(ValueError, match="session ids"):
            await sentiero.erase_sessions()
        assert await sentiero.store.count_sessions() == len(SESSIONS)
    assert records == []


@pytest.mark.asyncio
async def test_erase_sessions_from_a_running_app(tmp_path: Path) -> None:
    settings, pm, notes, records = _setup(tmp_path)
    app = create_app(settings, plugin_manager=pm)
    async with app.test_app():
        sentiero = app.extensions["sentiero"]
        await fill(sentiero.store, notes, SESSIONS)
        assert await sentiero.erase_sessions("keep-c", "missing", "keep-c") == 1
    contents = sqlite_contents(tmp_path / "sentiero.db")
    assert traces(contents, "keep-c", marker("keep-c")) == []
    assert notes.removed == [("erased", ["keep-c"])]  # once: one listener per app
    (record,) = [r for r in records if r["action"] == "sessions_erased"]
    assert record["filter"] == {"session_ids": ["keep-c", "missing"]}
    assert (record["count"], record["complete"]) == (1, True)


@pytest.mark.asyncio
async def test_purge_expired_uses_the_retention_period(tmp_path: Path) -> None:
    settings, pm, notes, records = _setup(tmp_path, retention_period=3600)
    now = now_ms()
    async with open_sentiero(settings, plugin_manager=pm) as sentiero:
        await fill(
            sentiero.store,
            notes,
            {
                "expired-xq1": {"user_id": "a", "at": now - 7200_000},
                "fresh-xq2": {"user_id": "b", "at": now},
            },
        )
        assert await sentiero.purge_expired() == 1
        assert await sentiero.purge_expired() == 0
    contents = sqlite_contents(tmp_path / "sentiero.db")
    assert traces(contents, "expired-xq1", marker("expired-xq1")) == []
    assert traces(contents, "fresh-xq2") == ["fresh-xq2"]
    assert notes.files() == ["fresh-xq2"]
    assert notes.removed == [("purged", ["expired-xq1"])]
    purged = [r for r in records if r["action"] == "sessions_purged"]
    assert [(r["count"], r["reason"], r["via"]) for r in purged] == [
        (1, "retention_period", "python"),
        (0, "retention_period", "python"),
    ]


@pytest.mark.asyncio
async def test_purge_expired_without_a_retention_period_is_refused(tmp_path: Path) -> None:
    settings, pm, _notes, _records = _setup(tmp_path)
    async with open_sentiero(settings, plugin_manager=pm) as sentiero:
        with pytest.raises(ValueError, match="retention_period is not set"):
            await sentiero.purge_expired()
