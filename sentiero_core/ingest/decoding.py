"""Reading a request body as a stream, inflating gzip/deflate with caps.

The caps are enforced while bytes arrive: ``max_raw`` on what the client
sends and ``max_decoded`` on what inflating produces, so a gzip bomb is
refused after at most ``max_decoded`` bytes of output, never after inflating
all of it. Below that, the decoder may be told to hold at a size
(:attr:`BodyDecoder.paused`) until its caller lets it go on with
:meth:`BodyDecoder.resume`, so that the caller can decide first whether it
has room for a larger body.

The size at which the decoder holds is a *weight*: the output's bytes,
plus ``OBJECT_WEIGHT`` for each ``{`` and ``[`` in it. Parsed, a JSON
object or array costs some 60-200 bytes of memory whatever its text, so a
body of many tiny ones (``[[],[],...]``) weighs what it will cost, and the
memory a body takes once parsed stays within a small multiple of the weight
it was let through at.

"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterable, Awaitable, Callable

from .errors import IngestError

GZIP_MAGIC = b"\x1f\x8b"
#: The most output one call to zlib makes.
STEP = 64 * 1024
#: What each ``{`` and ``[`` of the output weighs, in bytes.
OBJECT_WEIGHT = 16
#: Every byte but "{" and "[" (deleted to count those two).
_NOT_OPENING = bytes(b for b in range(256) if b not in b"{[")
ENCODINGS = {
    "identity": "identity",
    "gzip": "gzip",
    "x-gzip": "gzip",
    "deflate": "deflate",
}


def parse_encoding(header: str | None, query: str | None) -> str:
    """The body's encoding from ``Content-Encoding``, else ``?encoding=``
    (sendBeacon cannot set headers). Unknown or stacked codings are 415."""
    raw = header if header and header.strip() else query
    if raw is None or not raw.strip():
        return "identity"
    name = ENCODINGS.get(raw.strip().lower())
    if name is None:
        raise IngestError(415, "unsupported content encoding (use gzip, deflate or none)")
    return name


def _is_zlib_header(head: bytes) -> bool:
    # RFC 1950: CM = 8 (deflate) and the 16-bit header is a multiple of 31.
    return len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0


class BodyDecoder:
    """Feed raw chunks, then :meth:`finish` for the decoded bytes.

    ``deflate`` accepts both the zlib format (what HTTP and
    ``CompressionStream("deflate")`` produce) and raw deflate. An identity
    body that starts with the gzip magic bytes is inflated too: a client
    that compressed but could not say so still gets its batch stored.
    """

    def __init__(
        self,
        encoding: str,
        *,
        max_raw: int,
        max_decoded: int,
        hold_at: int | None = None,
        check_head: Callable[[bytes], bool] | None = None,
        check_from: int = 0,
    ) -> None:
        self.encoding = encoding
        self.max_raw = max_raw
        self.max_decoded = max_decoded
        #: The weight the output may reach before it holds (``None``: any).
        self._cap = hold_at
        #: Input held back when the output reached ``hold_at``.
        self._pending = b""
        #: Called with the output so far once it has more than
        #: ``check_from`` ``{`` (every event is an object), then each time
        #: that count doubled: it may refuse by raising, or return
        #: ``False`` to be called no more.
        self._check_head = check_head
        self._braces = 0
        self._objects = 0
        self._next_check = check_from
        self.raw_size = 0
        self.decoded_size = 0
        self._parts: list[bytes] = []
        self._head = b""
        self._inflater: zlib._Decompress | None = (
            zlib.decompressobj(wbits=31) if encoding == "gzip" else None
        )
        self._sniffing = encoding in ("identity", "deflate")

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.raw_size += len(chunk)
        if self.raw_size > self.max_raw:
            raise IngestError(413, f"request body over {self.max_raw} bytes")
        if self._sniffing:
            # two bytes decide the format; hold them back until they arrived
            self._head += chunk
            if len(self._head) < 2:
                return
            chunk, self._head = self._head, b""
            self._start(chunk[:2])
        if self._inflater is None:
            self._emit(chunk)
        elif self._pending or self.paused:
            self._pending += chunk
        else:
            self._inflate(chunk)

    @property
    def weight(self) -> int:
        """The output's bytes, plus ``OBJECT_WEIGHT`` per ``{`` and ``[``."""
        return self.decoded_size + OBJECT_WEIGHT * self._objects

    @property
    def paused(self) -> bool:
        """The output's weight passed ``hold_at`` and :meth:`resume` was not called."""
        return self._cap is not None and self.weight > self._cap

    def _room(self) -> int:
        # one byte over a cap is enough to know it is passed; inflating in
        # steps lets the output be checked as it grows
        room = min(self.max_decoded - self.decoded_size + 1, STEP)
        if self._cap is not None:
            room = min(room, self._cap - self.weight + 1)
        return room

    def head(self, size: int) -> bytes:
        """The first ``size`` bytes of output (fewer if there are not as many)."""
        out = bytearray()
        for part in self._parts:
            out += part[: size - len(out)]
            if len(out) >= size:
                break
        return bytes(out)

    def resume(self, hold_at: int | None = None) -> None:
        """Go on, until the output weighs more than ``hold_at``."""
        self._cap = hold_at
        pending, self._pending = self._pending, b""
        if pending:
            self._inflate(pending)

    def _start(self, head: bytes) -> None:
        self._sniffing = False
        if self.encoding == "identity" and head == GZIP_MAGIC:
            self.encoding = "gzip"
        if self.encoding == "gzip":
            self._inflater = zlib.decompressobj(wbits=31)
        elif self.encoding == "deflate":
            self._inflater = zlib.decompressobj(wbits=15 if _is_zlib_header(head) else -15)

    def _emit(self, data: bytes) -> None:
        self.decoded_size += len(data)
        if self.decoded_size > self.max_decoded:
            raise IngestError(413, f"decoded body over {self.max_decoded} bytes")
        self._parts.append(data)
        # one pass keeps just the "{" and "[" (two count() passes took 60%
        # longer), and counting the "{" among them is nothing
        opening = data.translate(None, _NOT_OPENING)
        braces = opening.count(b"{")
        self._objects += len(opening)
        if self._check_head is not None:
            self._braces += braces
            if self._braces > self._next_check:
                self._next_check = 2 * self._braces
                if not self._check_head(b"".join(self._parts)):
                    self._check_head = None

    def _inflate(self, data: bytes) -> None:
        inflater = self._inflater
        assert inflater is not None
        while data:
            if inflater.eof:
                # gzip allows several members back to back (RFC 1952 2.2)
                if self.encoding != "gzip" or not data.startswith(GZIP_MAGIC[:1]):
                    raise IngestError(400, "unexpected bytes after the end of the compressed body")
                inflater = self._inflater = zlib.decompressobj(wbits=31)
            if self.paused:  # (zlib reads a room of 0 as no limit at all)
                self._pending = data
                return
            try:
                out = inflater.decompress(data, self._room())
            except zlib.error:
                raise IngestError(400, f"body is not valid {self.encoding} data") from None
            self._emit(out)
            data = inflater.unconsumed_tail or (inflater.unused_data if inflater.eof else b"")

    def finish(self) -> bytes | None:
        """The decoded body, or ``None`` when it stopped at ``hold_at``:
        call :meth:`resume`, then this again."""
        if self.paused:
            return None
        if self._sniffing and self._head:
            # a one-byte body: too short to be compressed
            if self.encoding == "deflate":
                raise IngestError(400, "body is not valid deflate data")
            self._sniffing = False
            self._emit(self._head)
        inflater = self._inflater
        if inflater is not None:
            # output zlib still holds is drained under the same cap (flush() has none)
            while not inflater.eof:
                try:
                    out = inflater.decompress(b"", self._room())
                except zlib.error:
                    raise IngestError(400, f"body is not valid {self.encoding} data") from None
                if not out:
                    raise IngestError(400, f"truncated {self.encoding} body")
                self._emit(out)
                if self.paused:
                    return None
        if self.raw_size == 0:
            raise IngestError(400, "empty body")
        return b"".join(self._parts)


async def read_body(
    chunks: AsyncIterable[bytes],
    decoder: BodyDecoder,
    make_room: Callable[[], Awaitable[int | None]] | None = None,
) -> bytes:
    """Feed ``chunks`` to ``decoder`` as they arrive; stop at the first cap.
    Each time the decoder holds, ``make_room()`` is awaited for the size to
    hold at next (``None``: no more holds); it may refuse by raising."""

    async def go_on() -> None:
        decoder.resume(None if make_room is None else await make_room())

    async for chunk in chunks:
        decoder.feed(chunk)
        while decoder.paused:
            await go_on()
    body = decoder.finish()
    while body is None:
        await go_on()
        body = decoder.finish()
    return body
