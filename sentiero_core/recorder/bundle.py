"""The committed recorder bundle, read once and re-read only when it changes."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

BUNDLE_PATH = Path(__file__).resolve().parent.parent / "static" / "recorder.js"


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
