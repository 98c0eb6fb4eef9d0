"""Debian's Chromium through Playwright, with the flags this machine needs."""

from __future__ import annotations

import shutil

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch(playwright, **kwargs):  # type: ignore[no-untyped-def]
    args = CHROMIUM_ARGS + list(kwargs.pop("args", []))
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args, **kwargs)
