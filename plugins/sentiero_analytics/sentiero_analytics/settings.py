"""``[plugins.analytics]``: thresholds and sizes of the analytics plugin."""

from __future__ import annotations

from dataclasses import dataclass

# The session summary's and the replay page's thresholds
# (sentiero_core/store/digest.py, frontend/src/player/analysis.js).
RAGE_CLICKS = 3
RAGE_WINDOW_MS = 1000
RAGE_RADIUS_PX = 30
DEAD_CLICK_WAIT_MS = 1000


@dataclass
class AnalyticsSettings:
    #: Rage click: this many clicks within ``rage_window_ms`` and
    #: ``rage_radius_px`` of the first (the replay page's definition).
    rage_clicks: int = RAGE_CLICKS
    rage_window_ms: int = RAGE_WINDOW_MS
    rage_radius_px: int = RAGE_RADIUS_PX
    #: Dead click: the page did not change within this many ms.
    dead_click_wait_ms: int = DEAD_CLICK_WAIT_MS
    #: Heatmap cell size in CSS pixels (document coordinates).
    heatmap_cell_px: int = 20
    #: Scroll depth buckets in CSS pixels (bottom of the viewport).
    scroll_step_px: int = 250
    #: Replays linked per error, funnel step or frustrated element.
    max_links: int = 20

    def __post_init__(self) -> None:
        for name in ("rage_clicks", "rage_window_ms", "heatmap_cell_px", "scroll_step_px"):
            if getattr(self, name) < 1:
                raise ValueError(f"plugins.analytics.{name} must be at least 1")
