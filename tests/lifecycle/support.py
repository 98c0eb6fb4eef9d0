"""What the lifecycle tests share: sessions carrying unique markers, a
plugin keeping files of its own per session, and a look at everything a
SQLite file holds."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from sentiero_core import hookimpl
from sentiero_core.store import Batch, decode_blob
from sentiero_core.testing import T0, identify, make_batch, meta, text_mutation


def marker(session_id: str) -> str:
    return f"mark-{session_id[::-1]}-zq"


def recording(
    session_id: str, user_id: str, *, at: int = T0, ip: str = "203.0.113.0", url: str = "/home"
) -> list[Batch]:
    """Two batches whose page URL, traits and text all carry the marker."""
    m = marker(session_id)
    return [
        make_batch(
            session_id,
            "w1",
            [meta(at, f"https://shop.example{url}?{m}"), identify(at + 1, user_id, {"note": m})],
            ip=ip,
            seq=1,
        ),
        make_batch(session_id, "w1", [text_mutation(at + 2, m)], ip=ip, seq=2),
    ]


class FileNotes:
    """A plugin keeping one file per session it saw, removed with the session."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.removed: list[tuple[str, list[str]]] = []

    def note(self, session_id: str) -> None:
        (self.folder / f"{session_id}.note").write_text(marker(session_id))

    @hookimpl
    def collect_batch(self, batch: Batch) -> None:
        self.note(batch.session_id)

    @hookimpl
    async def sessions_removed(self, session_ids: list[str], reason: str) -> None:
        self.removed.append((reason, sorted(session_ids)))
        for session_id in session_ids:
            (self.folder / f"{session_id}.note").unlink(missing_ok=True)

    def files(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("*.note"))


def sqlite_contents(path: Path) -> bytes:
    """Everything the database holds, read behind the store's back: every
    row of every table, every batch decompressed, and the raw bytes of the
    file and its WAL."""
    chunks: list[bytes] = []
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            chunks += [repr(row).encode() for row in db.execute(f'SELECT * FROM "{table}"')]
        chunks += [repr(decode_blob(b)).encode() for (b,) in db.execute("SELECT blob FROM batches")]
    for suffix in ("", "-wal"):
        file = path.with_name(path.name + suffix)
        if file.exists():
            chunks.append(file.read_bytes())
    return b"\n".join(chunks)


def traces(contents: bytes, *needles: str) -> list[str]:
    return [n for n in needles if n.encode() in contents]


async def fill(store: Any, notes: FileNotes | None, sessions: dict[str, dict[str, Any]]) -> None:
    for session_id, options in sessions.items():
        for batch in recording(session_id, **options):
            await store.append(batch)
        if notes is not None:
            notes.note(session_id)
