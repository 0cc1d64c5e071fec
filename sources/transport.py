"""The HTTP transport under every adapter's ``httpx.AsyncClient``, chosen by a setting (ADR 0013).

Adapters keep httpx's API; only the transport below it changes:

- ``aiohttp`` (the default): aiohttp's connection pool through ``httpx-aiohttp``. Measured on the
  gateway's own load it costs a fraction of the CPU of httpx's default transport per upstream call
  (encode/httpx#3215; figures in ADR 0013);
- ``httpcore``: httpx's default transport, for operators who want it back.

Both pool at most :data:`LIMITS` connections per upstream, close an idle one after
:data:`KEEPALIVE_EXPIRY_S` (below common servers' own keep-alive timeouts, 5 s in uvicorn, nginx's 75
s, so the gateway closes first and rarely sends on a connection the server is closing), never
decode ``Content-Encoding`` (the body is read raw and decoded, bounded, by :mod:`sources.bodies`),
follow no redirects, and set ``TCP_NODELAY`` on their sockets (asyncio does for every TCP connection
it opens). The deadline of a call is ``SourceClient``'s own (``asyncio.timeout``), so it holds whichever transport runs.

``httpx-aiohttp`` maps aiohttp's errors so that a refused or dropped connection reads as
``httpx.ConnectTimeout`` and an unparseable answer is not an httpx error at all;
:class:`AiohttpTransport` corrects that: only a real timeout is an ``httpx.TimeoutException``, a failed
connect is ``httpx.ConnectError`` and every other aiohttp failure ``httpx.RemoteProtocolError`` (no
upstream text in any of them).

**Replaying a request on a connection the server closed.** A kept-alive connection the server closes
just as a request is sent fails that request before any answer (aiohttp's ``ServerDisconnectedError``,
httpcore's "Server disconnected without sending a response", or a reset). Such a request is sent once
more, on a connection the pool opens or still holds, when the caller declared it safe to repeat: a
request carrying the :data:`REPLAYABLE` extension (``SourceClient`` sets it on every read, GET or a
search sent as POST; never on a write, whatever its method: RFC 9110 §9.2.2 lets a client repeat
only what it knows to be idempotent). aiohttp's own replay, chosen by HTTP method alone (it would
repeat a PUT or DELETE), is off.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import assert_never

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport as _LibraryTransport

from sources.credentials import TlsFiles

KEEPALIVE_EXPIRY_S = 4.0
"""Seconds an idle upstream connection is kept: below the 5 s of uvicorn (and the sandbox), nginx, Node."""
LIMITS = httpx.Limits(max_connections=50, max_keepalive_connections=20, keepalive_expiry=KEEPALIVE_EXPIRY_S)
"""Connections per upstream. aiohttp has no separate cap on idle ones: it keeps up to ``max_connections``."""
REPLAYABLE = "patientoverblik.replayable"
"""Request extension: ``True`` when the request may be sent again after its connection closed unanswered."""


class HttpTransport(StrEnum):
    """Which transport carries the adapters' requests."""

    AIOHTTP = "aiohttp"
    """aiohttp's client (``httpx-aiohttp``), with the error mapping corrected: the default."""
    HTTPCORE = "httpcore"
    """httpx's default transport."""


def build_transport(
    kind: HttpTransport, tls: TlsFiles | None = None, *, keepalive_expiry_s: float = KEEPALIVE_EXPIRY_S
) -> httpx.AsyncBaseTransport:
    """A new transport (one connection pool) of ``kind``, for one upstream.

    ``tls`` replaces the system's CAs with the source's CA bundle and presents its client
    certificate (mutual TLS), on either transport; raises ``OSError`` or ``ssl.SSLError`` for a file
    that cannot be read. ``keepalive_expiry_s``: how long an idle connection is kept (seconds).
    """
    verify = tls.ssl_context() if tls is not None else True
    limits = httpx.Limits(
        max_connections=LIMITS.max_connections,
        max_keepalive_connections=LIMITS.max_keepalive_connections,
        keepalive_expiry=keepalive_expiry_s,
    )
    unpooled = httpx.Limits(max_connections=LIMITS.max_connections, max_keepalive_connections=0)
    match kind:
        case HttpTransport.AIOHTTP:
            return ReplayingTransport(
                AiohttpTransport(verify=verify, limits=limits),
                lambda: UnpooledAiohttpTransport(verify=verify, limits=unpooled),
                lambda exc: _closed_unanswered(exc.__cause__),
            )
        case HttpTransport.HTTPCORE:
            return ReplayingTransport(
                httpx.AsyncHTTPTransport(verify=verify, limits=limits),
                lambda: httpx.AsyncHTTPTransport(verify=verify, limits=unpooled),
                lambda exc: isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError),
            )
        case _:
            assert_never(kind)


class ReplayingTransport(httpx.AsyncBaseTransport):
    """A pooled transport that sends a :data:`REPLAYABLE` request once more, on a new connection, when
    the pooled connection it went out on was closed before any answer.

    The new connection comes from a second transport that keeps no connection (made on first need):
    the pool's other idle connections are as old as the one that failed, and may be closing too.
    ``closed_unanswered`` tells such a failure from every other (a refused connect, a timeout).
    """

    def __init__(
        self,
        pooled: httpx.AsyncBaseTransport,
        unpooled: Callable[[], httpx.AsyncBaseTransport],
        closed_unanswered: Callable[[httpx.HTTPError], bool],
    ) -> None:
        self.pooled = pooled
        """The transport every request goes out on first."""
        self._make_unpooled = unpooled
        self._unpooled: httpx.AsyncBaseTransport | None = None
        self._closed_unanswered = closed_unanswered

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self.pooled.handle_async_request(request)
        except httpx.HTTPError as exc:
            if not (request.extensions.get(REPLAYABLE) and self._closed_unanswered(exc)):
                raise
        if self._unpooled is None:
            self._unpooled = self._make_unpooled()
        return await self._unpooled.handle_async_request(request)

    async def aclose(self) -> None:
        await self.pooled.aclose()
        if self._unpooled is not None:
            await self._unpooled.aclose()


class AiohttpTransport(_LibraryTransport):
    """``httpx-aiohttp``'s transport on a session that never decompresses, with httpx's error kinds."""

    def get_client(self) -> aiohttp.ClientSession:
        """The aiohttp session, made on first use inside the running event loop."""
        connector = aiohttp.TCPConnector(
            limit=self.limits.max_connections or 0,
            keepalive_timeout=self.limits.keepalive_expiry or 0,
            ssl=self.ssl_context,
        )
        return self._session(connector)

    def _session(self, connector: aiohttp.TCPConnector) -> aiohttp.ClientSession:
        session = aiohttp.ClientSession(connector=connector, auto_decompress=False, trust_env=False)
        session._retry_connection = False  # replays are declared per request (REPLAYABLE), not by method
        return session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with _httpx_errors():
            response = await super().handle_async_request(request)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _Stream(response.stream)
        return response


class UnpooledAiohttpTransport(AiohttpTransport):
    """:class:`AiohttpTransport` that closes every connection after its answer (for replays)."""

    def get_client(self) -> aiohttp.ClientSession:
        """The aiohttp session, made on first use inside the running event loop."""
        connector = aiohttp.TCPConnector(limit=self.limits.max_connections or 0, force_close=True, ssl=self.ssl_context)
        return self._session(connector)


def _closed_unanswered(cause: BaseException | None) -> bool:
    """aiohttp's failure of a request whose open connection the server closed (or reset) before any answer."""
    closed = isinstance(cause, aiohttp.ServerDisconnectedError | aiohttp.ClientOSError)
    return closed and not isinstance(cause, aiohttp.ClientConnectorError)


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
