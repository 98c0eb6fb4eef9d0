"""The limits a store enforces, read from the settings (private module:
import from :mod:`sentiero_core.store`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .types import StoreLimits

if TYPE_CHECKING:
    from ..settings import Settings


def limits_from(settings: Settings) -> StoreLimits:
    """The :class:`StoreLimits` that ``settings`` ask for (``max_sessions``,
    ``max_events_per_session``): what a store factory passes to its store."""
    return StoreLimits(
        max_sessions=settings.max_sessions,
        max_events_per_session=settings.max_events_per_session,
    )
