"""Building envelopes and running the app for the ingest tests."""

from __future__ import annotations

import gzip
import struct
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import orjson
import pluggy

from sentiero_core import Settings, create_app, get_plugin_manager
from sentiero_core.store import Store

SESSION = "sess_0123456789"
WINDOW = "win_0123456789"
EVENTS_URL = "/sentiero/events"
JSON = {"Content-Type": "application/json"}
T0 = 1_700_000_000_000


def meta_event(ts: int = T0, href: str = "https://shop.example/cart") -> dict[str, Any]:
    return {"type": 4, "timestamp": ts, "data": {"href": href, "width": 1280, "height": 720}}


def click_event(ts: int = T0 + 10) -> dict[str, Any]:
    return {"type": 3, "timestamp": ts, "data": {"source": 2, "type": 2, "id": 7, "x": 5, "y": 9}}


def envelope(events: list[Any] | None = None, **fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "v": 1,
        "session_id": SESSION,
        "window_id": WINDOW,
        "seq": 1,
        "sent_at": T0 + 100,
        "dropped": 0,
        "events": [meta_event(), click_event()] if events is None else events,
    }
    doc.update(fields)
    return doc


def body(doc: Any) -> bytes:
    return orjson.dumps(doc)


def gz(doc: Any) -> bytes:
    return gzip.compress(orjson.dumps(doc))


def gzip_bomb(gigabytes: int = 1) -> bytes:
    """A valid gzip stream of ``gigabytes`` GiB of zeros, about 1 MB long.
    Built from one byte-aligned block repeated (fast), not by compressing."""
    zeros = bytes(1 << 20)
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_RLE)
    block = deflater.compress(zeros) + deflater.flush(zlib.Z_FULL_FLUSH)
    megabytes = 1024 * gigabytes
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    final_empty_block = b"\x03\x00"
    trailer = struct.pack("<II", crc, (megabytes << 20) & 0xFFFFFFFF)
    return header + block * megabytes + final_empty_block + trailer


@dataclass
class Running:
    app: Any
    client: Any
    store: Store

    async def post(self, data: bytes, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        return await self.client.post(
            EVENTS_URL, data=data, headers=JSON if headers is None else headers, **kwargs
        )

    async def stored_events(self, session_id: str = SESSION) -> list[dict[str, Any]]:
        return (await self.store.read_events(session_id)).events

    async def error(self, response: Any) -> str:
        return str(orjson.loads(await response.get_data())["error"])


def plugin_manager() -> pluggy.PluginManager:
    """The built-ins only: installed plugins' collectors stay out of these tests."""
    return get_plugin_manager(load_entrypoints=False)


@asynccontextmanager
async def running(pm: pluggy.PluginManager | None = None, **options: Any) -> AsyncIterator[Running]:
    """The app served in-process with a memory store and ``options``."""
    settings = Settings(store_url="memory://", **options)
    app = create_app(settings, plugin_manager=pm or plugin_manager())
    async with app.test_app() as test_app:
        yield Running(app, test_app.test_client(), app.extensions["sentiero"].store)
