"""Test helpers for Sentiero stores and plugins; needs pytest and
pytest-asyncio (``pip install sentiero-core[test]``).

``StoreContract`` is the store contract suite (see
:mod:`sentiero_core.testing.store_contract`); ``make_batch`` and the event
builders in :mod:`sentiero_core.testing.factories` build what the ingest
path would hand a store.
"""

from .factories import T0, make_batch, realistic_events
from .helpers import list_all, read_all, reference_summaries
from .store_contract import StoreContract

__all__ = [
    "T0",
    "StoreContract",
    "list_all",
    "make_batch",
    "read_all",
    "realistic_events",
    "reference_summaries",
]
