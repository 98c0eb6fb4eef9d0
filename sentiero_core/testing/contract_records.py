"""Contract: the optional records capability (``StoreCapabilities(records=True)``).

Every test is skipped for a store that does not declare the capability; one
checks that such a store refuses record calls with a clear error.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ..store import AnyOf, AtLeast, Below, RecordUpdate, Store, StoreError


def _needs_records(store: Store) -> None:
    if not store.capabilities.records:
        pytest.skip(f"{type(store).__name__} does not declare capabilities.records")


async def _seed(store: Store) -> None:
    rows: list[dict[str, Any]] = [
        {"project": "shop", "status": "open", "count": 5, "envs": ["prod"], "last": 300},
        {"project": "shop", "status": "resolved", "count": 1, "envs": ["staging"], "last": 100},
        {"project": "shop", "status": "open", "count": 9, "envs": ["prod", "staging"], "last": 200},
        {"project": "blog", "status": "open", "count": 2, "envs": [], "last": 400},
    ]
    for n, row in enumerate(rows):
        await store.update_record("issues", f"i{n}", RecordUpdate(set=row))


class RecordsContract:
    """Tests of the records capability: atomic updates, queries, removal."""

    @pytest.mark.asyncio
    async def test_records_refused_without_the_capability(self, store: Store) -> None:
        """Ensure that a store without ``capabilities.records`` refuses record
        calls with a StoreError naming the capability."""
        if store.capabilities.records:
            pytest.skip("the store keeps records")
        with pytest.raises(StoreError, match=r"capabilities\.records"):
            await store.get_record("issues", "x")

    @pytest.mark.asyncio
    async def test_update_creates_then_changes_a_record(self, store: Store) -> None:
        """Ensure that ``update_record`` creates a missing record (with
        ``set_on_insert``) and applies each operator as documented, returning
        the record after the update."""
        _needs_records(store)
        first = await store.update_record(
            "issues",
            "fp-1",
            RecordUpdate(
                set={"title": "KeyError"},
                set_on_insert={"first_seen": 100, "status": "open"},
                inc={"count": 1},
                maximum={"last_seen": 100},
                minimum={"earliest": 100},
                add_to_set={"releases": ["1.0"]},
            ),
        )
        assert first == {
            "_id": "fp-1",
            "title": "KeyError",
            "first_seen": 100,
            "status": "open",
            "count": 1,
            "last_seen": 100,
            "earliest": 100,
            "releases": ["1.0"],
        }
        second = await store.update_record(
            "issues",
            "fp-1",
            RecordUpdate(
                set_on_insert={"first_seen": 999},
                inc={"count": 2},
                maximum={"last_seen": 50},
                minimum={"earliest": 50},
                add_to_set={"releases": ["1.0", "1.1"]},
            ),
        )
        assert second["first_seen"] == 100 and second["count"] == 3
        assert second["last_seen"] == 100 and second["earliest"] == 50
        assert second["releases"] == ["1.0", "1.1"]
        assert await store.get_record("issues", "fp-1") == second
        assert await store.get_record("issues", "missing") is None
        assert await store.get_record("other", "fp-1") is None

    @pytest.mark.asyncio
    async def test_records_hold_nested_json(self, store: Store) -> None:
        """Ensure that nested objects, lists, Unicode and floats come back as stored."""
        _needs_records(store)
        doc = {"frames": [{"file": "app.py", "line": 3, "vars": {"ñ": 1.5}}], "ok": True, "n": None}
        await store.update_record("occurrences", "o1", RecordUpdate(set=doc))
        assert await store.get_record("occurrences", "o1") == {"_id": "o1", **doc}

    @pytest.mark.asyncio
    async def test_concurrent_updates_lose_nothing(self, store: Store) -> None:
        """Ensure that many concurrent increments and set additions on one
        record all land."""
        _needs_records(store)
        await asyncio.gather(
            *(
                store.update_record(
                    "issues",
                    "hot",
                    RecordUpdate(
                        inc={"count": 1}, maximum={"last": n}, add_to_set={"tags": [f"t{n % 5}"]}
                    ),
                )
                for n in range(40)
            )
        )
        record = await store.get_record("issues", "hot")
        assert record is not None
        assert record["count"] == 40 and record["last"] == 39
        assert sorted(record["tags"]) == ["t0", "t1", "t2", "t3", "t4"]

    @pytest.mark.asyncio
    async def test_two_stores_over_one_database_lose_nothing(
        self, store: Store, reopen_store: Any
    ) -> None:
        """Ensure that increments from two store objects over the same data
        (two app servers) all land, and records outlive reopening. A store
        that allows one open object per database (``reopen_store`` closes
        the first, as the file store's does) is bumped through the second."""
        _needs_records(store)
        await store.update_record("issues", "shared", RecordUpdate(inc={"count": 2}))
        other = await reopen_store()
        try:
            try:
                await store.count_records("issues")
                targets = [store, other]
            except StoreError:  # the first store was closed by reopening
                targets = [other, other]

            async def bump(target: Store) -> None:
                for _ in range(15):
                    await target.update_record("issues", "shared", RecordUpdate(inc={"count": 1}))

            await asyncio.gather(*(bump(t) for t in targets))
            record = await other.get_record("issues", "shared")
            assert record is not None and record["count"] == 32
        finally:
            await other.close()

    @pytest.mark.asyncio
    async def test_compare_and_set_is_conditional(self, store: Store) -> None:
        """Ensure that ``compare_and_set_record`` changes a record only when it
        exists and meets ``expected``, and says whether it did."""
        _needs_records(store)
        await store.update_record("issues", "r", RecordUpdate(set={"status": "resolved", "n": 1}))
        assert not await store.compare_and_set_record(
            "issues", "r", {"status": "open"}, {"status": "ignored"}
        )
        assert not await store.compare_and_set_record("issues", "missing", {}, {"status": "open"})
        assert await store.compare_and_set_record(
            "issues", "r", {"status": "resolved", "n": 1}, {"status": "open", "why": "regressed"}
        )
        assert await store.get_record("issues", "r") == {
            "_id": "r",
            "status": "open",
            "n": 1,
            "why": "regressed",
        }
        assert await store.get_record("issues", "missing") is None

    @pytest.mark.asyncio
    async def test_concurrent_compare_and_set_succeeds_once(self, store: Store) -> None:
        """Ensure that of concurrent compare-and-sets on one condition, one wins."""
        _needs_records(store)
        await store.update_record("issues", "r", RecordUpdate(set={"status": "resolved"}))
        results = await asyncio.gather(
            *(
                store.compare_and_set_record(
                    "issues", "r", {"status": "resolved"}, {"status": "open", "by": n}
                )
                for n in range(10)
            )
        )
        assert results.count(True) == 1

    @pytest.mark.asyncio
    async def test_find_filters_orders_and_pages(self, store: Store) -> None:
        """Ensure that ``find_records`` applies equality, list membership,
        AnyOf, AtLeast and Below, orders by a field then ``_id`` and pages."""
        _needs_records(store)
        await _seed(store)

        async def ids(where: dict[str, Any] | None = None, **kw: Any) -> list[str]:
            return [r["_id"] for r in await store.find_records("issues", where, **kw)]

        assert await ids({"project": "shop"}, order_by="last") == ["i0", "i2", "i1"]
        assert await ids({"project": "shop"}, order_by="last", descending=False) == [
            "i1",
            "i2",
            "i0",
        ]
        assert await ids({"envs": "staging"}, order_by="count") == ["i2", "i1"]
        assert await ids({"status": AnyOf("resolved", "ignored")}) == ["i1"]
        assert await ids({"envs": AnyOf("prod", "nowhere")}, order_by="count") == ["i2", "i0"]
        assert await ids({"count": AtLeast(2), "last": Below(400)}, order_by="count") == [
            "i2",
            "i0",
        ]
        assert await ids(order_by="count", limit=2) == ["i2", "i0"]
        assert await ids(order_by="count", limit=2, offset=2) == ["i3", "i1"]
        assert await ids() == ["i3", "i2", "i1", "i0"]
        assert await ids({"project": "nope"}) == []
        assert await store.count_records("issues", {"project": "shop"}) == 3
        assert await store.count_records("issues") == 4
        assert await store.count_records("empty_collection") == 0

    @pytest.mark.asyncio
    async def test_delete_removes_matching_records(self, store: Store) -> None:
        """Ensure that ``delete_records`` removes what matches, says how many,
        and leaves other collections alone."""
        _needs_records(store)
        await _seed(store)
        await store.update_record("occurrences", "o1", RecordUpdate(set={"session_id": "s1"}))
        await store.update_record("occurrences", "o2", RecordUpdate(set={"session_id": "s2"}))
        await store.update_record("occurrences", "o3", RecordUpdate(set={"session_id": "s3"}))
        assert await store.delete_records("occurrences", {"session_id": AnyOf("s1", "s3")}) == 2
        assert [r["_id"] for r in await store.find_records("occurrences")] == ["o2"]
        assert await store.delete_records("issues", {"project": "blog"}) == 1
        assert await store.count_records("issues") == 3
        assert await store.delete_records("issues") == 3
        assert await store.count_records("occurrences") == 1

    @pytest.mark.asyncio
    async def test_bad_record_arguments_are_refused(self, store: Store) -> None:
        """Ensure that bad collection names, keys, fields and values are
        refused with ValueError/TypeError before reaching the backend."""
        _needs_records(store)
        with pytest.raises(ValueError, match="collection"):
            await store.get_record("Bad Name", "k")
        with pytest.raises(ValueError, match="key"):
            await store.get_record("issues", "")
        with pytest.raises(ValueError, match="_id"):
            await store.update_record("issues", "k", RecordUpdate(set={"_id": "other"}))
        with pytest.raises(ValueError, match="more than one part"):
            await store.update_record("issues", "k", RecordUpdate(set={"a": 1}, inc={"a": 1}))
        with pytest.raises(ValueError, match="not a JSON value"):
            await store.update_record("issues", "k", RecordUpdate(set={"a": object()}))
        with pytest.raises(ValueError, match="AnyOf"):
            await store.find_records("issues", {"a": [1, 2]})
        with pytest.raises(ValueError, match="limit"):
            await store.find_records("issues", limit=0)
        with pytest.raises(TypeError):
            await store.update_record("issues", "k", {"set": {}})  # type: ignore[arg-type]
        assert await store.count_records("issues") == 0
