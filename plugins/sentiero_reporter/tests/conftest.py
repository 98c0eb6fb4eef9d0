from __future__ import annotations

from collections.abc import Iterator

import pytest
import sentiero_reporter
from sentiero_reporter import scope as reporter_context


@pytest.fixture(autouse=True)
def fresh_reporter(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with no global reporter, no context and no SENTIERO_REPORTER_* vars."""
    import os

    for name in list(os.environ):
        if name.startswith("SENTIERO_REPORTER_"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(sentiero_reporter, "_reporter", None)
    reporter_context.clear()
    yield
    current = sentiero_reporter._reporter
    if current is not None:
        current.close(0.5)
    reporter_context.clear()


ADDRESS = {"endpoint": "http://127.0.0.1:9/s", "ingest_key": "k", "project": "shop"}
