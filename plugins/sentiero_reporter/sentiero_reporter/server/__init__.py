"""The server half of sentiero-reporter: a Sentiero plugin (needs sentiero-core).

Installed with ``pip install "sentiero-reporter[server]"``; registered in the
``sentiero`` entry-point group.
"""

from __future__ import annotations

try:
    import sentiero_core  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "sentiero_reporter.server needs sentiero-core: install it with "
        "pip install 'sentiero-reporter[server]' (the client, sentiero_reporter, "
        "needs nothing beyond the standard library)"
    ) from exc
