"""Test helpers for Sentiero stores and plugins; needs pytest and
pytest-asyncio (``pip install sentiero-core[test]``).

``StoreContract`` is the store contract suite (see
:mod:`sentiero_core.testing.store_contract`); ``make_batch`` and the event
builders in :mod:`sentiero_core.testing.factories` build what the ingest
path would hand a store.
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
            "contract_robustness",
            "contract_delivery",
        )
    )
)

from .factories import T0, make_batch, realistic_events  # noqa: E402
from .helpers import list_all, read_all, reference_summaries  # noqa: E402
from .store_contract import StoreContract  # noqa: E402

__all__ = [
    "T0",
    "StoreContract",
    "list_all",
    "make_batch",
    "read_all",
    "realistic_events",
    "reference_summaries",
]
