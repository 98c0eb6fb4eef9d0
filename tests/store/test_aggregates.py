"""The aggregates part of the store interface: argument checks and the
refusal of a store that does not declare the capability."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from sentiero_core.store import (
    AggregateMethods,
    AggregateRow,
    AggregatesUnsupported,
    MemoryStore,
    StoreCapabilities,
    check_rows,
    date_of_day,
    day_from_date,
    day_of,
    row_delta,
)
from sentiero_core.testing.contract_aggregate_reads import AggregateReadsContract


class Plain(MemoryStore):
    name = "plain"
    capabilities = StoreCapabilities(aggregates=False)


@pytest.mark.asyncio
async def test_a_store_without_the_capability_says_so() -> None:
    store = Plain()
    with pytest.raises(AggregatesUnsupported, match="plain store does not keep aggregates"):
        await store.merge_facts("s", {"a": 1})
    with pytest.raises(AggregatesUnsupported):
        await store.set_contribution("s", "k", [])
    with pytest.raises(AggregatesUnsupported):
        await store.aggregate("n", 0, 1)


@pytest.mark.asyncio
async def test_bad_arguments_are_named() -> None:
    store = MemoryStore()
    with pytest.raises(ValueError, match="version must be an integer of at least 1"):
        await store.set_contribution("s", "k", [], version=0)
    with pytest.raises(ValueError, match="a contribution key must be a non-empty string"):
        await store.set_contribution("s", "", [])
    with pytest.raises(ValueError, match="a where position"):
        await store.aggregate_rows(["n"], 0, 1, where={-1: "x"})
    with pytest.raises(TypeError, match="facts must be a mapping"):
        await store.merge_facts("s", [("a", 1)])  # type: ignore[arg-type]


def test_rows_are_checked_and_merged() -> None:
    merged = check_rows([AggregateRow("n", 1, ("a",), 1, 2.0), AggregateRow("n", 1, ("a",), 2)])
    assert merged == [AggregateRow("n", 1, ("a",), 3, 2.0)]
    with pytest.raises(ValueError, match="dims must be a tuple of strings"):
        check_rows([AggregateRow("n", 1, ("a", 2))])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="total must be a finite number"):
        check_rows([AggregateRow("n", 1, (), 1, float("nan"))])
    with pytest.raises(ValueError, match="day must be an integer"):
        check_rows([AggregateRow("n", "2026-01-01", ())])  # type: ignore[arg-type]


def test_delta_and_days() -> None:
    old = [AggregateRow("n", 1, ("a",), 2, 5.0)]
    new = [AggregateRow("n", 1, ("a",), 2, 5.0), AggregateRow("n", 1, ("b",), 1)]
    assert row_delta(old, new) == [AggregateRow("n", 1, ("b",), 1)]
    assert day_from_date("1970-01-02") == 1 == day_of(86_400_000)
    assert date_of_day(day_from_date("2026-12-02")) == "2026-12-02"
    with pytest.raises(ValueError, match="not a date"):
        day_from_date("02/12/2026")


class FourPrimitives(MemoryStore):
    """A store implementing only the four required aggregate primitives,
    as a third-party store written before the grouping reads would: the
    base class's generic ``aggregates_group`` and ``aggregates_latest``
    answer for it."""

    name = "four-primitives"
    aggregates_group = AggregateMethods.aggregates_group  # type: ignore[assignment]
    aggregates_latest = AggregateMethods.aggregates_latest  # type: ignore[assignment]


class TestGenericGroupingReads(AggregateReadsContract):
    @pytest_asyncio.fixture
    async def store(self) -> AsyncIterator[FourPrimitives]:
        s = FourPrimitives()
        await s.open()
        yield s
        await s.close()
