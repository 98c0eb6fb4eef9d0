"""Building error and event reports: frames, JSON-safe values, filtered keys."""

from __future__ import annotations

import linecache
import re
import sys
import sysconfig
import time
import traceback
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

FILTERED = "[FILTERED]"
MAX_DEPTH = 8
MAX_STRING = 4096
MAX_ITEMS = 200
MAX_FRAMES = 100
MAX_CHAIN = 5

# Frames from the standard library or installed packages are not the app's own.
_LIBRARY_PATHS = tuple(
    sorted(
        {
            p
            for key in ("stdlib", "platstdlib", "purelib", "platlib")
            if (p := sysconfig.get_paths().get(key))
        },
        key=len,
        reverse=True,
    )
)


def now_ms() -> int:
    return int(time.time() * 1000)


def type_name(exc_type: type[BaseException]) -> str:
    module = exc_type.__module__
    if module in ("builtins", "__main__", None):
        return exc_type.__qualname__
    return f"{module}.{exc_type.__qualname__}"


def in_app(filename: str, module: str) -> bool:
    if filename.startswith("<") or "site-packages" in filename or "dist-packages" in filename:
        return False
    if module.split(".")[0] == "sentiero_reporter":
        return False
    return not filename.startswith(_LIBRARY_PATHS)


def frames_of(tb: TracebackType | None, context_lines: int) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    for frame, lineno in traceback.walk_tb(tb):
        code = frame.f_code
        filename = code.co_filename
        module = str(frame.f_globals.get("__name__", ""))
        entry: dict[str, Any] = {
            "filename": filename,
            "lineno": lineno,
            "function": code.co_qualname if hasattr(code, "co_qualname") else code.co_name,
            "module": module,
            "in_app": in_app(filename, module),
        }
        if context_lines:
            linecache.checkcache(filename)
            line = linecache.getline(filename, lineno, frame.f_globals)
            entry["context_line"] = line.rstrip("\n")[:MAX_STRING]
            first = max(1, lineno - context_lines)
            entry["pre_context"] = [
                linecache.getline(filename, n).rstrip("\n")[:MAX_STRING]
                for n in range(first, lineno)
            ]
            entry["post_context"] = [
                linecache.getline(filename, n).rstrip("\n")[:MAX_STRING]
                for n in range(lineno + 1, lineno + 1 + context_lines)
            ]
        frames.append(entry)
    # The frames nearest the error matter most when a deep stack is cut.
    return frames[-MAX_FRAMES:]


def _message(exc: BaseException) -> str:
    try:
        return str(exc)[:MAX_STRING]
    except Exception:
        return "<unprintable message>"


def exception_data(exc: BaseException, context_lines: int) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": type_name(type(exc)),
        "message": _message(exc),
        "frames": frames_of(exc.__traceback__, context_lines),
    }
    chain: list[dict[str, Any]] = []
    seen = {id(exc)}
    cause = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    while cause is not None and id(cause) not in seen and len(chain) < MAX_CHAIN:
        seen.add(id(cause))
        chain.append(
            {
                "type": type_name(type(cause)),
                "message": _message(cause),
                "frames": frames_of(cause.__traceback__, context_lines),
            }
        )
        cause = cause.__cause__ or (None if cause.__suppress_context__ else cause.__context__)
    if chain:
        data["causes"] = chain
    return data


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)[:MAX_STRING]
    except Exception:
        return f"<unrepresentable {type(value).__name__}>"


def json_safe(value: Any, depth: int = 0) -> Any:
    """A copy of value made of JSON types only: anything else becomes its repr,
    and cycles or deep nesting are cut rather than followed."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, str):
        return value[:MAX_STRING]
    if isinstance(value, bytes):
        return _safe_repr(value)
    if depth >= MAX_DEPTH:
        return "<too deep>"
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        try:
            items = list(value.items())[:MAX_ITEMS]
        except Exception:
            return _safe_repr(value)
        for key, item in items:
            out[key if isinstance(key, str) else _safe_repr(key)] = json_safe(item, depth + 1)
        return out
    if isinstance(value, list | tuple | set | frozenset):
        try:
            items = list(value)[:MAX_ITEMS]
        except Exception:
            return _safe_repr(value)
        return [json_safe(item, depth + 1) for item in items]
    return _safe_repr(value)


def key_matches(key: str, filters: Iterable[str | re.Pattern[str]]) -> bool:
    lowered = key.lower()
    for rule in filters:
        if isinstance(rule, str):
            if lowered == rule.lower():
                return True
        elif rule.search(key):
            return True
    return False


def filter_keys(value: Any, filters: list[str | re.Pattern[str]]) -> Any:
    """Replaces the value of every matching key, at any depth of dicts and lists."""
    if not filters:
        return value
    if isinstance(value, dict):
        return {
            k: FILTERED if key_matches(k, filters) else filter_keys(v, filters)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [filter_keys(item, filters) for item in value]
    return value


def is_ignored(exc: BaseException, ignored: Iterable[type[BaseException] | str]) -> bool:
    ancestors = type(exc).__mro__
    names = {type_name(cls) for cls in ancestors} | {cls.__qualname__ for cls in ancestors}
    for rule in ignored:
        if isinstance(rule, str):
            if rule in names:
                return True
        elif isinstance(exc, rule):
            return True
    return False


def current_exception() -> BaseException | None:
    return sys.exc_info()[1]
