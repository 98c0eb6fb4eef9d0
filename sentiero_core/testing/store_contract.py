"""The store contract suite: every test a Sentiero store must pass.

Subclass :class:`StoreContract` in a test module (the class name must start
with ``Test`` so pytest collects it) and provide one fixture, ``store``, that
yields an opened, empty store built with the ``store_limits`` fixture::

    import pytest_asyncio
    from sentiero_core.store import StoreLimits
    from sentiero_core.testing import StoreContract

    class TestMyStore(StoreContract):
        @pytest_asyncio.fixture
        async def store(self, tmp_path, store_limits: StoreLimits):
            s = MyStore(tmp_path / "db", limits=store_limits)
            await s.open()
            yield s
            await s.close()

Fixtures (the public API of the suite; names are stable):

``store`` (required)
    Yields a :class:`~sentiero_core.store.Store`, opened and empty, fresh for
    every test. Declare it with ``@pytest_asyncio.fixture`` when it is async
    so it works in pytest-asyncio's strict mode (the default) and auto mode
    alike; a plain ``@pytest.fixture`` returning an already usable store is
    fine too. Without it every test fails with ``NotImplementedError``.
``store_limits`` (provided)
    The :class:`~sentiero_core.store.StoreLimits` the test needs: unlimited
    by default; the limit tests parametrize it indirectly. Pass it to your
    store's constructor, or the limit tests fail saying so.
``reopen_store`` (required for a persistent store)
    An async callable taking no argument that returns a second, opened store
    over the same data as ``store`` (the test closes it). A store whose
    ``capabilities.persistent`` is true must provide it, or the tests that
    need it fail saying so; for any other store they are skipped without it.
``raw_storage`` (optional)
    An async callable taking no argument that returns everything the backend
    holds, as an iterable of ``bytes`` or ``str`` chunks: file contents,
    rows, documents, with compressed blobs decompressed. The tests of
    :class:`~sentiero_core.testing.contract_traces.TracesContract` then check
    that delete, erase, purge and both limits leave no trace of what they
    removed (a session's id, a unique text from its events). Without it
    they are skipped.

A store declares what it promises in ``Store.capabilities`` (a
:class:`~sentiero_core.store.StoreCapabilities`): ``persistent`` (see
``reopen_store``) and ``max_compression_ratio``, which the suite then holds
it to on a realistic recording; a store keeping plain JSON declares none;
``records``, the optional record primitives plugins keep documents with,
which :class:`~sentiero_core.testing.contract_records.RecordsContract` then
tests; and ``aggregates``, which runs the tests of
:class:`~sentiero_core.testing.contract_aggregates.AggregatesContract` and
:class:`~sentiero_core.testing.contract_aggregate_reads.AggregateReadsContract`. The
tests of either capability are skipped for a store that does not declare it.

Every test is marked ``@pytest.mark.asyncio`` explicitly, so the suite runs
the same whatever ``asyncio_mode`` the project uses; it needs pytest and
pytest-asyncio (``pip install sentiero-core[test]``). Batches are built with
:func:`sentiero_core.testing.make_batch`, which digests events exactly as the
ingest path does, and summaries are checked against
:func:`sentiero_core.store.merge_digest`. A store may be stricter than the
suite about ids or sizes only beyond what the tests use (ids up to 64
characters of any Unicode, events up to a few MB).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from ..store import Store, StoreLimits
from .contract_aggregate_reads import AggregateReadsContract
from .contract_aggregates import AggregatesContract
from .contract_delivery import DeliveryContract
from .contract_events import EventsContract
from .contract_interface import InterfaceContract
from .contract_records import RecordsContract
from .contract_removal import RemovalContract
from .contract_reports import ReportsContract
from .contract_robustness import RobustnessContract
from .contract_sessions import SessionsContract
from .contract_summaries import SummariesContract
from .contract_traces import RawStorage, TracesContract

ReopenStore = Callable[[], Awaitable[Store]]

__all__ = ["RawStorage", "ReopenStore", "StoreContract"]

_NO_STORE = (
    "{cls} must provide the `store` fixture: an opened, empty store built with the "
    "`store_limits` fixture, e.g.\n\n"
    "    @pytest_asyncio.fixture\n"
    "    async def store(self, store_limits):\n"
    "        s = MyStore(limits=store_limits)\n"
    "        await s.open()\n"
    "        yield s\n"
    "        await s.close()\n"
)


_NO_REOPEN = (
    "{store} declares itself persistent (capabilities.persistent is true), so "
    "{cls} must provide the `reopen_store` fixture: an async callable returning a "
    "second, opened store over the same data, e.g.\n\n"
    "    @pytest.fixture\n"
    "    def reopen_store(self, tmp_path, store_limits):\n"
    "        async def reopen():\n"
    "            s = MyStore(tmp_path / 'data', limits=store_limits)\n"
    "            await s.open()\n"
    "            return s\n"
    "        return reopen\n"
)


def _overridable_fixture(fn: Callable[..., Any]) -> Any:
    """``pytest.fixture`` typed as ``Any`` so a subclass may override the
    fixture with any signature (async generator, sync, more arguments)
    without type checkers calling it an incompatible override."""
    return pytest.fixture(fn)


class StoreContract(
    EventsContract,
    SessionsContract,
    SummariesContract,
    RemovalContract,
    ReportsContract,
    RobustnessContract,
    DeliveryContract,
    InterfaceContract,
    TracesContract,
    AggregatesContract,
    AggregateReadsContract,
    RecordsContract,
):
    """Base class of the store contract suite; subclass it as ``Test<Name>``
    and provide the ``store`` fixture (see the module documentation)."""

    @pytest.fixture
    def store_limits(self, request: pytest.FixtureRequest) -> StoreLimits:
        """Unlimited unless a test parametrizes it (``indirect=True``)."""
        limits = getattr(request, "param", StoreLimits())
        assert isinstance(limits, StoreLimits)
        return limits

    @_overridable_fixture
    def store(self) -> Any:
        """Required: yield an opened, empty store built with ``store_limits``."""
        raise NotImplementedError(_NO_STORE.format(cls=type(self).__name__))

    @_overridable_fixture
    def reopen_store(self, store: Any) -> ReopenStore:
        """An async callable returning a new store over the same data;
        required when the store declares itself persistent."""
        capabilities = getattr(store, "capabilities", None)
        if getattr(capabilities, "persistent", False):
            pytest.fail(_NO_REOPEN.format(cls=type(self).__name__, store=type(store).__name__))
        pytest.skip(f"{type(self).__name__} does not provide `reopen_store` (not persistent)")

    @_overridable_fixture
    def raw_storage(self) -> RawStorage:
        """Optional: an async callable returning every chunk of data the
        backend holds (bytes or str), compressed blobs decompressed."""
        pytest.skip(f"{type(self).__name__} does not provide `raw_storage`")

    @pytest.mark.asyncio
    async def test_fixture_yields_an_open_empty_store(self, store: Any) -> None:
        """Ensure that the ``store`` fixture yields an opened, empty Store."""
        assert isinstance(store, Store), (
            f"the store fixture yielded {type(store).__name__}, not a sentiero Store "
            "(an async fixture needs @pytest_asyncio.fixture in strict mode)"
        )
        assert await store.count_sessions() == 0, "the store fixture must yield an empty store"
        stats = await store.stats()
        assert (stats.sessions, stats.events, stats.batches) == (0, 0, 0)
