"""Grouping reports into issues.

Two reports are one issue when they share a project and a fingerprint: the
exception type plus its in-app frames (module or file, function and source
line, never line numbers, which move with every edit), or, without frames,
the message with its numbers, ids and hex normalised. A fingerprint sent
by the client replaces all of that.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
_HEX = re.compile(
    r"\b(?:0x[0-9a-f]+|[0-9a-f]*\d[0-9a-f]*[a-f][0-9a-f]*|[0-9a-f]*[a-f][0-9a-f]*\d[0-9a-f]*)\b",
    re.I,
)
_NUMBER = re.compile(r"(?<![A-Za-z_])\d+(?:[.,]\d+)*")
_QUOTED_ID = re.compile(r"'[A-Za-z0-9_-]{16,}'|\"[A-Za-z0-9_-]{16,}\"")


def normalise_message(message: str) -> str:
    """The message with what varies between occurrences replaced."""
    text = _UUID.sub("<id>", message)
    text = _QUOTED_ID.sub("<id>", text)
    text = _HEX.sub(lambda m: "<hex>" if len(m[0]) >= 6 else m[0], text)
    text = _NUMBER.sub("<n>", text)
    return " ".join(text.split())[:500]


def frame_key(frame: dict[str, Any]) -> str:
    where = frame.get("module") or re.sub(r"^.*[/\\]", "", str(frame.get("filename", "")))
    where = re.sub(r"\?.*$", "", str(where))  # a browser script's cache-busting query
    line = " ".join(str(frame.get("context_line") or "").split())
    return f"{where}|{frame.get('function', '')}|{line}"


def in_app_frames(frames: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    own = [f for f in frames if f.get("in_app")]
    return own or list(frames)


def fingerprint(
    project: str,
    exc_type: str,
    message: str,
    frames: Sequence[dict[str, Any]],
    explicit: str | list[str] | None = None,
) -> str:
    if explicit is not None and explicit != [] and explicit != "":
        parts = ["client", json.dumps(explicit, sort_keys=True)]
    else:
        keys = [frame_key(f) for f in in_app_frames(frames)]
        parts = ["type", exc_type, *(keys or ["message", normalise_message(message)])]
    digest = hashlib.sha256(json.dumps([project, *parts]).encode()).hexdigest()
    return digest[:32]


def culprit(frames: Sequence[dict[str, Any]]) -> str:
    """Where it happened: the innermost in-app frame."""
    own = in_app_frames(frames)
    if not own:
        return ""
    frame = own[-1]
    where = frame.get("module") or frame.get("filename") or "?"
    return f"{where} in {frame.get('function') or '?'}"[:300]
