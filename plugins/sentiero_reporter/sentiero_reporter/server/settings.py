"""The ``[plugins.reporter]`` settings section."""

from __future__ import annotations

from dataclasses import dataclass

SECTION = "reporter"


@dataclass(frozen=True)
class ReporterSettings:
    """Server-side options of sentiero-reporter (docs/reporter.md has the table)."""

    #: Largest report body accepted, in bytes (413 beyond).
    max_payload_bytes: int = 262_144
    #: Frames kept per exception (the innermost ones).
    max_frames: int = 100
    #: Project that JS errors captured by the recorder are filed under.
    browser_project: str = "browser"
    #: Turn JS errors from recordings into issues.
    browser_errors: bool = True
    #: Occurrences listed on an issue page.
    occurrences_shown: int = 50
    #: Occurrences kept per issue, the newest (0: no cap); the issue's count goes on.
    max_occurrences_per_issue: int = 1000
    #: Seconds occurrences and custom events are kept; ``None``: the app's ``retention_period``.
    retention_period: int | None = None

    def __post_init__(self) -> None:
        if self.max_payload_bytes < 1024:
            raise ValueError("max_payload_bytes must be at least 1024")
        if not 1 <= self.max_frames <= 1000:
            raise ValueError("max_frames must be between 1 and 1000")
        if self.max_occurrences_per_issue < 0:
            raise ValueError("max_occurrences_per_issue must be 0 (no cap) or more")
        if self.retention_period is not None and self.retention_period < 60:
            raise ValueError("retention_period must be at least 60 seconds, or unset")
        if not self.browser_project:
            raise ValueError("browser_project must not be empty")
