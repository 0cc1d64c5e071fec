"""Read an upstream's answer body as a stream, and stop at a byte limit.

:func:`read_body` is the only place adapters' bodies are read (through ``SourceClient``). It reads
the raw stream chunk by chunk and refuses, with :class:`~sources.errors.SourceResponseInvalid`, a
body whose declared ``Content-Length``, raw (on-the-wire) size or decoded size exceeds the limit, so
nothing much above the limit is ever held in memory: at most one raw chunk (the transport's read
size, 64 KiB for httpx's default transport) and ``limit + 1`` decoded bytes.

``Content-Encoding`` is decoded here rather than by httpx, because httpx inflates a whole raw chunk
at once: 64 KiB of deflated zeros becomes about 64 MiB before any check could run (a "zip bomb").
Here each inflate step is bounded by the room left under the limit (``zlib``'s ``max_length``).
Supported codings are ``identity``, ``gzip`` (``x-gzip``; several members in a row) and ``deflate``
(zlib-wrapped, or raw as some servers send it); ``SourceClient`` asks for no others
(``Accept-Encoding: gzip, deflate``), so any other coding is refused as invalid.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Callable

from sources.errors import SourceResponseInvalid

Invalid = Callable[[str], SourceResponseInvalid]
"""Makes the source's "invalid response" error from a detail that holds no upstream data."""

ACCEPT_ENCODING = "gzip, deflate"
"""The codings :func:`read_body` decodes, as sent in ``Accept-Encoding``."""

_GZIP_WBITS = zlib.MAX_WBITS | 16
_ZLIB_WBITS = zlib.MAX_WBITS
_RAW_DEFLATE_WBITS = -zlib.MAX_WBITS


async def read_body(
    chunks: AsyncIterator[bytes],
    *,
    encoding: str | None,
    declared_length: str | None = None,
    limit: int,
    invalid: Invalid,
) -> bytes:
    """The decoded body of at most ``limit`` bytes read from the raw ``chunks``.

    ``encoding`` and ``declared_length`` are the answer's ``Content-Encoding`` and
    ``Content-Length`` headers. Raises ``invalid(...)`` as soon as the declared length, the raw bytes
    read or the decoded bytes exceed ``limit``, when the coding is not supported, or when the coded
    body is corrupt or cut short. Reading stops there: the rest of the body is never read.
    """
    if declared_length is not None and declared_length.strip().isdigit() and int(declared_length) > limit:
        raise invalid(f"body is larger than {limit} bytes")
    decoder = _decoder(encoding, limit, invalid)
    raw = 0
    async for chunk in chunks:
        raw += len(chunk)
        if raw > limit:
            raise invalid(f"body is larger than {limit} bytes")
        decoder.feed(chunk)
    return decoder.finish()


def _decoder(encoding: str | None, limit: int, invalid: Invalid) -> _Identity | _Inflate:
    coding = (encoding or "identity").strip().lower()
    if coding in ("", "identity"):
        return _Identity(limit, invalid)
    if coding in ("gzip", "x-gzip"):
        return _Inflate(_GZIP_WBITS, limit, invalid)
    if coding == "deflate":
        return _Inflate(_ZLIB_WBITS, limit, invalid)
    raise invalid("body has an unsupported content encoding")


class _Identity:
    """No coding: the raw bytes are the body."""

    def __init__(self, limit: int, invalid: Invalid) -> None:
        self._out = bytearray()
        self._limit = limit
        self._invalid = invalid

    def feed(self, data: bytes) -> None:
        self._out += data
        if len(self._out) > self._limit:
            raise self._invalid(f"body is larger than {self._limit} bytes")

    def finish(self) -> bytes:
        return bytes(self._out)


class _Inflate:
    """``gzip`` or ``deflate``, inflated at most ``limit + 1`` bytes at a time."""

    def __init__(self, wbits: int, limit: int, invalid: Invalid) -> None:
        self._wbits = wbits
        self._inflater = zlib.decompressobj(wbits)
        self._pending = False
        """Whether the current inflater has taken input but not reached its stream's end."""
        self._head = b"" if wbits == _ZLIB_WBITS else None
        """The first bytes of a ``deflate`` body, until they tell zlib-wrapped from raw."""
        self._out = bytearray()
        self._limit = limit
        self._invalid = invalid

    def feed(self, data: bytes) -> None:
        if self._head is not None:
            # "deflate" is zlib-wrapped (RFC 9110 §8.4.1.2), but some servers send it raw: a zlib
            # header is two bytes whose value is a multiple of 31 with method 8 (RFC 1950 §2.2).
            self._head += data
            if len(self._head) < 2:
                return
            data, self._head = self._head, None
            if data[0] & 0x0F != 8 or (data[0] << 8 | data[1]) % 31:
                self._wbits = _RAW_DEFLATE_WBITS
                self._inflater = zlib.decompressobj(self._wbits)
        try:
            self._inflate(data)
        except zlib.error as exc:
            raise self._invalid("body could not be decoded") from exc

    def _inflate(self, data: bytes) -> None:
        while data:
            self._pending = True
            piece = self._inflater.decompress(data, self._limit - len(self._out) + 1)
            self._out += piece
            if len(self._out) > self._limit:
                raise self._invalid(f"body is larger than {self._limit} bytes")
            if not self._inflater.eof:
                data = self._inflater.unconsumed_tail
                continue
            data = self._inflater.unused_data
            if data and self._wbits != _GZIP_WBITS:
                raise self._invalid("body has data after its end")
            # gzip allows several members in a row (RFC 1952 §2.2).
            self._inflater = zlib.decompressobj(self._wbits)
            self._pending = False

    def finish(self) -> bytes:
        if self._pending or self._head:
            raise self._invalid("body is cut short")
        return bytes(self._out)
