"""The committed recorder bundles, each read once and re-read only when it
changes: the recorder, and the extensions for opt-in captures that the
script route puts in front of it when their setting is on."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "static"
BUNDLE_PATH = STATIC / "recorder.js"


@dataclass(frozen=True, slots=True)
class Bundle:
    data: bytes
    digest: str
    stamp: tuple[int, int]


class BundleMissing(RuntimeError):
    """The recorder bundle was never built (``make frontend``)."""


class BundleCache:
    """Bytes and a hash of the bundle; a ``stat`` per request notices a
    rebuild without reading the file again."""

    def __init__(self, path: Path = BUNDLE_PATH) -> None:
        self.path = path
        self._bundle: Bundle | None = None

    def get(self) -> Bundle:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise BundleMissing(f"{self.path} does not exist; run `make frontend`") from None
        stamp = (st.st_mtime_ns, st.st_size)
        bundle = self._bundle
        if bundle is None or bundle.stamp != stamp:
            data = self.path.read_bytes()
            bundle = self._bundle = Bundle(data, hashlib.sha256(data).hexdigest(), stamp)
        return bundle


BUNDLE = BundleCache()
#: capture_web_vitals: the web-vitals package
VITALS_BUNDLE = BundleCache(STATIC / "recorder-vitals.js")
#: capture_console: rrweb's console plugin
CONSOLE_BUNDLE = BundleCache(STATIC / "recorder-console.js")
