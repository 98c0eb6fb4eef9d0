"""``[plugins.analytics]``: thresholds and sizes of the analytics plugin."""

from __future__ import annotations

from dataclasses import dataclass

from sentiero_core.store import MAX_LATEST

# The session summary's and the replay page's thresholds
# (sentiero_core/store/digest.py, frontend/src/player/analysis.js).
RAGE_CLICKS = 3
RAGE_WINDOW_MS = 1000
RAGE_RADIUS_PX = 30
DEAD_CLICK_WAIT_MS = 1000
FOLD_INTERVAL_S = 30.0
FOLD_MAX_DELAY_S = 300.0
#: A day: an interval beyond it is a typo (milliseconds for seconds).
MAX_INTERVAL_S = 86_400.0


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
    #: A session with new facts is folded once it has had no batch for
    #: this many seconds (a visit ended or paused) ...
    fold_interval: float = FOLD_INTERVAL_S
    #: ... or at the latest this many seconds after its first unfolded
    #: batch (a visit still going), never sooner than ``fold_interval``:
    #: reports lag by up to this much.
    fold_max_delay: float = FOLD_MAX_DELAY_S
    #: Seconds between looks for sessions a stopped process left unfolded
    #: (also done at start-up); 0 looks at start-up only.
    sweep_interval: float = 300.0

    def __post_init__(self) -> None:
        for name in ("rage_clicks", "rage_window_ms", "heatmap_cell_px", "scroll_step_px"):
            if getattr(self, name) < 1:
                raise ValueError(f"plugins.analytics.{name} must be at least 1")
        if not 1 <= self.max_links <= MAX_LATEST:
            raise ValueError(f"plugins.analytics.max_links must be between 1 and {MAX_LATEST}")
        for name in ("fold_interval", "fold_max_delay", "sweep_interval"):
            value = getattr(self, name)
            if not 0 <= value <= MAX_INTERVAL_S:
                raise ValueError(
                    f"plugins.analytics.{name} must be between 0 and {MAX_INTERVAL_S} seconds"
                )
