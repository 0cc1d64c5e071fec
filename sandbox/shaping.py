"""How a simulated source sends its answer's body: dripped, padded, compressed, and counted.

``Shaper`` wraps an ASGI ``send``. It counts every body byte that leaves (``sent``) and, by knob:

- ``drip_ms``: sends the body one byte at a time, one every ``drip_ms`` (headers go at once): a
  source that is never silent long enough for a per-read timeout, yet takes minutes;
- ``pad_bytes``: appends that many spaces after the body (trailing whitespace keeps JSON and XML
  well-formed), streamed in 64 KiB chunks and generated as they go, never held in memory;
- ``encoding``: ``gzip`` or ``deflate`` the body (with its padding), with ``Content-Encoding``:
  a padded, compressed answer is a "zip bomb" (150 MiB of spaces is about 150 KiB of gzip).

Padding and dripping stop as soon as the client has gone (``disconnected``), so ``sent`` is what
the server really handed to the connection. With padding or an encoding, ``Content-Length`` is
dropped and the body is sent chunked.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Callable
from typing import Any

from starlette.types import Message, Send

ENCODINGS = ("identity", "gzip", "deflate")
PAD_CHUNK = 64 * 1024


class Shaper:
    """An ASGI ``send`` that shapes and counts the body; ``sent`` is the body bytes sent so far."""

    def __init__(
        self,
        send: Send,
        *,
        drip_ms: float,
        pad_bytes: int,
        encoding: str,
        disconnected: asyncio.Event,
        count: Callable[[int], None],
    ) -> None:
        self._send = send
        self._drip_s = drip_ms / 1000
        self._pad = pad_bytes
        self._encoding = encoding
        self._compressor = _compressor(encoding)
        self._disconnected = disconnected
        self._count = count

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            await self._send(self._start(message))
        elif message["type"] == "http.response.body":
            await self._emit(message.get("body", b""))
            if not message.get("more_body", False):
                await self._finish()
        else:
            await self._send(message)

    def _start(self, message: Message) -> Message:
        if not self._pad and self._compressor is None:
            return message
        headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-length"]
        if self._compressor is not None:
            headers.append((b"content-encoding", self._encoding.encode()))
        return {**message, "headers": headers}

    async def _finish(self) -> None:
        left = self._pad
        while left > 0 and not self._disconnected.is_set():
            chunk = min(left, PAD_CHUNK)
            await self._emit(b" " * chunk)
            left -= chunk
            # A server's send returns at once, without error, once the client has gone; yielding
            # lets the disconnect be noticed rather than "sending" the rest into the void.
            await asyncio.sleep(0)
        if self._compressor is not None:
            await self._write(self._compressor.flush())
        await self._send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _emit(self, data: bytes) -> None:
        await self._write(self._compressor.compress(data) if self._compressor is not None else data)

    async def _write(self, data: bytes) -> None:
        if not data or self._disconnected.is_set():
            return
        if not self._drip_s:
            await self._send({"type": "http.response.body", "body": data, "more_body": True})
            self._count(len(data))
            return
        for index in range(len(data)):
            if self._disconnected.is_set():
                return
            await self._send({"type": "http.response.body", "body": data[index : index + 1], "more_body": True})
            self._count(1)
            await asyncio.sleep(self._drip_s)


def _compressor(encoding: str) -> Any:
    """A ``zlib`` compressor for ``encoding``, or ``None`` for ``identity``."""
    if encoding == "gzip":
        return zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    if encoding == "deflate":
        return zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS)
    return None
