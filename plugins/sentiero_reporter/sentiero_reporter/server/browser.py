"""JS errors captured by the recorder become issues too, marked as browser
errors and grouped by the same fingerprinting."""

from __future__ import annotations

import re
from typing import Any

# The recorder's custom event for a JS error (docs/recording.md, capture_errors).
TAG_ERROR = "sentiero:error"
CUSTOM_EVENT = 5
# "    at fn (https://x/app.js:10:5)" (Chromium) or "fn@https://x/app.js:10:5" (Firefox)
_V8 = re.compile(r"^\s*at (?:(?P<fn>.+?) \()?(?P<file>[^()\s]+?):(?P<line>\d+):(?P<col>\d+)\)?\s*$")
_GECKO = re.compile(r"^(?P<fn>[^@]*)@(?P<file>.+?):(?P<line>\d+):(?P<col>\d+)$")
_TYPE = re.compile(
    r"^(?:Uncaught )?(?P<type>[A-Z][A-Za-z0-9_$]*(?:Error|Exception)): ?(?P<msg>.*)$", re.S
)


def _frames(stack: str, source: str, line: Any) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    for raw in stack.splitlines():
        match = _V8.match(raw) or _GECKO.match(raw.strip())
        if match:
            frames.append(
                {
                    "filename": match["file"],
                    "function": (match["fn"] or "<anonymous>").strip(),
                    "lineno": int(match["line"]),
                    "in_app": True,
                }
            )
    frames.reverse()  # innermost last, like Python's
    if not frames and source:
        frames.append(
            {
                "filename": source,
                "function": "<script>",
                "lineno": line if isinstance(line, int) else 0,
                "in_app": True,
            }
        )
    return frames


def error_reports(events: list[dict[str, Any]], project: str) -> list[dict[str, Any]]:
    """The error reports hidden in a batch's events (recorder error events)."""
    reports: list[dict[str, Any]] = []
    for event in events:
        data = event.get("data")
        if event.get("type") != CUSTOM_EVENT or not isinstance(data, dict):
            continue
        if data.get("tag") != TAG_ERROR or not isinstance(data.get("payload"), dict):
            continue
        payload = data["payload"]
        message = str(payload.get("message") or "")[:8192]
        stack = str(payload.get("stack") or "")
        # Chromium says "Uncaught TypeError: ..."; a stack's first line names the type too.
        typed = _TYPE.match(message) or _TYPE.match(stack.split("\n", 1)[0])
        exc_type = (
            typed["type"]
            if typed
            else ("UnhandledRejection" if payload.get("kind") == "unhandledrejection" else "Error")
        )
        own = _TYPE.match(message)
        text = own["msg"] if own else message
        timestamp = event.get("timestamp")
        reports.append(
            {
                "project": project,
                "platform": "browser",
                "level": "error",
                "timestamp": int(timestamp) if isinstance(timestamp, int | float) else 0,
                "exception": {
                    "type": exc_type,
                    "message": text,
                    "frames": _frames(
                        stack,
                        str(payload.get("source") or ""),
                        payload.get("line"),
                    ),
                    "causes": [],
                },
                "request": {"url": str(payload.get("url") or "")[:2000]}
                if payload.get("url")
                else {},
                "context": {"kind": payload.get("kind")},
                "fingerprint": None,
            }
        )
    return reports
