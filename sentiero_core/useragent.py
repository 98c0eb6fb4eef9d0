"""A small user-agent reader: enough for the dashboard's browser/OS/device
columns without a dependency. Order matters: many browsers name others."""

from __future__ import annotations

import re

_BROWSERS = [
    ("Edge", re.compile(r"Edg(?:e|A|iOS)?/")),
    ("Opera", re.compile(r"OPR/|Opera")),
    ("Samsung Internet", re.compile(r"SamsungBrowser/")),
    ("Firefox", re.compile(r"Firefox/|FxiOS/")),
    ("Chrome", re.compile(r"Chrome/|CriOS/|Chromium/")),
    ("Safari", re.compile(r"Safari/")),
]
_OSES = [
    ("iOS", re.compile(r"iPhone|iPad|iPod")),
    ("Android", re.compile(r"Android")),
    ("Windows", re.compile(r"Windows")),
    ("macOS", re.compile(r"Mac OS X|Macintosh")),
    ("ChromeOS", re.compile(r"CrOS")),
    ("Linux", re.compile(r"Linux")),
]
_BOT = re.compile(r"bot|crawler|spider|Headless", re.I)


def parse_user_agent(ua: str) -> tuple[str | None, str | None, str | None]:
    """(browser, os, device) where device is desktop, mobile, tablet or bot."""
    browser = next((name for name, rx in _BROWSERS if rx.search(ua)), None)
    os_name = next((name for name, rx in _OSES if rx.search(ua)), None)
    if _BOT.search(ua):
        device = "bot"
    elif "iPad" in ua or "Tablet" in ua or ("Android" in ua and "Mobile" not in ua):
        device = "tablet"
    elif "Mobi" in ua or "iPhone" in ua:
        device = "mobile"
    else:
        device = "desktop"
    return browser, os_name, device
