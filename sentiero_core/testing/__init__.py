"""Test helpers for Sentiero stores and plugins; needs pytest and
pytest-asyncio (``pip install sentiero-core[test]``).

This module is public API; its submodules are private. ``StoreContract`` is
the store contract suite (its fixtures are documented on the class and in
``docs/writing-a-store.md``); ``make_batch`` and the event builders build
what the ingest path would hand a store; ``read_all``, ``list_all`` and the
other helpers follow cursors to the end.
"""

import pytest

# Rewrite the suite's asserts like a test module's, so a failing store sees
# the compared values; this must run before the modules are imported.
pytest.register_assert_rewrite(
    *(
        f"{__name__}.{module}"
        for module in (
            "helpers",
            "store_contract",
            "contract_events",
            "contract_sessions",
            "contract_summaries",
            "contract_removal",
            "contract_reports",
            "contract_robustness",
            "contract_delivery",
            "contract_interface",
            "contract_records",
            "contract_traces",
            "contract_aggregates",
            "contract_aggregate_reads",
        )
    )
)

from .factories import (  # noqa: E402
    CHROME_ANDROID_TABLET,
    CHROME_MAC,
    FIREFOX_WINDOWS,
    SAFARI_IPHONE,
    T0,
    click,
    custom,
    error,
    form_submit,
    full_snapshot,
    identify,
    input_change,
    labelled,
    make_batch,
    meta,
    mouse_move,
    page_meta,
    realistic_events,
    text_mutation,
    track,
)
from .helpers import (  # noqa: E402
    append_all,
    labels,
    list_all,
    listed_ids,
    reachable_data,
    read_all,
    reference_summaries,
)
from .store_contract import RawStorage, ReopenStore, StoreContract  # noqa: E402

__all__ = [
    "CHROME_ANDROID_TABLET",
    "CHROME_MAC",
    "FIREFOX_WINDOWS",
    "SAFARI_IPHONE",
    "T0",
    "RawStorage",
    "ReopenStore",
    "StoreContract",
    "append_all",
    "click",
    "custom",
    "error",
    "form_submit",
    "full_snapshot",
    "identify",
    "input_change",
    "labelled",
    "labels",
    "list_all",
    "listed_ids",
    "make_batch",
    "meta",
    "mouse_move",
    "page_meta",
    "reachable_data",
    "read_all",
    "realistic_events",
    "reference_summaries",
    "text_mutation",
    "track",
]
