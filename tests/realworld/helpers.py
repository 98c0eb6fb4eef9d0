"""What the real-world tests share: watching a host page for errors, opening
a recorded page, and checking that a stored recording can be replayed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tests.realworld.site import PageSpec, build_app
from tests.recording.helpers import Event, all_events, wait_for, wait_in_page
from tests.support.live_server import LiveServer

RECORDER_PATH = "/sentiero/recorder.js"


@dataclass
class Watch:
    """What a host page reported: console errors and uncaught exceptions
    (with their stacks, to tell whose code threw)."""

    console_errors: list[str] = field(default_factory=list)
    uncaught: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> Watch:
        def console(message: Any) -> None:
            if message.type == "error":
                where = message.location.get("url", "") if message.location else ""
                self.console_errors.append(f"{message.text} @ {where}")

        page.on("console", console)
        page.on("pageerror", lambda e: self.uncaught.append(f"{e.message}\n{e.stack or ''}"))
        return self

    def from_us(self) -> list[str]:
        """Errors that name the recorder: none may ever reach a host page."""
        return [e for e in self.console_errors + self.uncaught if RECORDER_PATH in e]

    def assert_clean(self) -> None:
        assert self.uncaught == [], self.uncaught
        assert self.console_errors == [], self.console_errors


def serve_pages(
    pages: dict[str, PageSpec], port: int | None = None, **settings: Any
) -> Iterator[LiveServer]:
    with LiveServer(build_app(pages, **settings), port=port) as live:
        yield live


def recorded_page(server: LiveServer, context: Any, url: str) -> tuple[Any, Watch, str]:
    """Open ``url`` in a new tab; return it once its first full snapshot is
    stored, with its watch and session id."""
    page = context.new_page()
    watch = Watch().attach(page)
    page.goto(url)
    sid: str = wait_in_page(page, "window.Sentiero && window.Sentiero.sessionId")
    wait_for(
        lambda: any(e["type"] == 2 for e in all_events(server, sid)),
        what="the first full snapshot",
    )
    return page, watch, sid


def events_when(
    server: LiveServer, sid: str, ready: Callable[[list[Event]], bool], what: str
) -> list[Event]:
    """The session's stored events, once ``ready`` says they are complete."""

    def check() -> list[Event] | None:
        events = all_events(server, sid)
        return events if ready(events) else None

    return wait_for(check, what=what)  # type: ignore[no-any-return]


def flush(page_or_frame: Any) -> None:
    page_or_frame.evaluate("window.Sentiero.flush()")


def assert_replayable(events: list[Event]) -> None:
    """A replay needs the page's Meta event, then a full snapshot, before any
    incremental event (rrweb cannot apply changes to nothing)."""
    kinds = [e["type"] for e in events if e["type"] in (2, 3, 4)]
    assert kinds[:2] == [4, 2], kinds[:5]
    assert all(isinstance(e["data"], dict) for e in events)
    node = next(e for e in events if e["type"] == 2)["data"]["node"]
    assert node["type"] == 0 and isinstance(node["childNodes"], list)


def snapshots_json(events: list[Event]) -> str:
    return json.dumps([e for e in events if e["type"] == 2])


def mutations_json(events: list[Event]) -> str:
    return json.dumps([e for e in events if e["type"] == 3 and e["data"].get("source") == 0])
