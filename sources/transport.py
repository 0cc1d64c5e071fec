"""The HTTP transport under every adapter's ``httpx.AsyncClient``, chosen by a setting (ADR 0013).

Adapters keep httpx's API; only the transport below it changes:

- ``aiohttp`` (the default): aiohttp's connection pool through ``httpx-aiohttp``. Measured on the
  gateway's own load it costs a fraction of the CPU of httpx's default transport per upstream call
  (encode/httpx#3215; figures in ADR 0013);
- ``httpcore``: httpx's default transport, for operators who want it back.

Both pool at most :data:`LIMITS` connections per upstream, never decode ``Content-Encoding`` (the
body is read raw and decoded, bounded, by :mod:`sources.bodies`), follow no redirects, and set
``TCP_NODELAY`` on their sockets (asyncio does for every TCP connection it opens). The deadline of
a call is ``SourceClient``'s own (``asyncio.timeout``), so it holds whichever transport runs.

``httpx-aiohttp`` maps aiohttp's errors so that a refused or dropped connection reads as
``httpx.ConnectTimeout`` and an unparseable answer is not an httpx error at all;
:class:`AiohttpTransport` corrects that: only a real timeout is an ``httpx.TimeoutException``, a failed
connect is ``httpx.ConnectError`` and every other aiohttp failure ``httpx.RemoteProtocolError`` (no
upstream text in any of them).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import assert_never

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport as _LibraryTransport

from sources.credentials import TlsFiles

LIMITS = httpx.Limits(max_connections=50, max_keepalive_connections=20, keepalive_expiry=5.0)
"""Connections per upstream. aiohttp has no separate cap on idle ones: it keeps up to ``max_connections``."""


class HttpTransport(StrEnum):
    """Which transport carries the adapters' requests."""

    AIOHTTP = "aiohttp"
    """aiohttp's client (``httpx-aiohttp``), with the error mapping corrected: the default."""
    HTTPCORE = "httpcore"
    """httpx's default transport."""


def build_transport(kind: HttpTransport, tls: TlsFiles | None = None) -> httpx.AsyncBaseTransport:
    """A new transport (one connection pool) of ``kind``, for one upstream.

    ``tls`` replaces the system's CAs with the source's CA bundle and presents its client
    certificate (mutual TLS), on either transport; raises ``OSError`` or ``ssl.SSLError`` for a file
    that cannot be read.
    """
    verify = tls.ssl_context() if tls is not None else True
    match kind:
        case HttpTransport.AIOHTTP:
            return AiohttpTransport(verify=verify, limits=LIMITS)
        case HttpTransport.HTTPCORE:
            return httpx.AsyncHTTPTransport(verify=verify, limits=LIMITS)
        case _:
            assert_never(kind)


class AiohttpTransport(_LibraryTransport):
    """``httpx-aiohttp``'s transport on a session that never decompresses, with httpx's error kinds."""

    def get_client(self) -> aiohttp.ClientSession:
        """The aiohttp session, made on first use inside the running event loop."""
        connector = aiohttp.TCPConnector(
            limit=self.limits.max_connections or 0,
            keepalive_timeout=self.limits.keepalive_expiry or 0,
            ssl=self.ssl_context,
        )
        return aiohttp.ClientSession(connector=connector, auto_decompress=False, trust_env=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with _httpx_errors():
            response = await super().handle_async_request(request)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _Stream(response.stream)
        return response


class _Stream(httpx.AsyncByteStream):
    """The answer's body, with the same error mapping as the request."""

    def __init__(self, inner: httpx.AsyncByteStream) -> None:
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors():
            async for chunk in self._inner:
                yield chunk

    async def aclose(self) -> None:
        """Release the connection; a connection that broke meanwhile is dropped, never an error here.

        An answer is closed before its end when its body is refused (too large); whatever the
        upstream sends after that (even bytes aiohttp cannot parse) must not replace the refusal.
        """
        with contextlib.suppress(httpx.HTTPError, aiohttp.ClientError, aiohttp.http_exceptions.HttpProcessingError):
            await self._inner.aclose()


@contextmanager
def _httpx_errors() -> Iterator[None]:
    """Re-raise aiohttp's failures (as they come, or as ``httpx-aiohttp`` mapped them) as httpx's kinds."""
    try:
        yield
    except httpx.TimeoutException as exc:
        if isinstance(exc.__cause__, TimeoutError):
            raise
        raise _failure(exc.__cause__) from exc.__cause__
    except httpx.HTTPError:
        raise
    except (aiohttp.ClientError, aiohttp.http_exceptions.HttpProcessingError) as exc:
        raise _failure(exc) from exc


def _failure(cause: BaseException | None) -> httpx.TransportError:
    if isinstance(cause, aiohttp.ClientConnectorError):
        return httpx.ConnectError("connection failed")
    return httpx.RemoteProtocolError("connection failed")
