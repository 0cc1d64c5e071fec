"""Mock upstream handlers served three ways: in-process (``httpx.MockTransport``) or over real loopback
HTTP to each of the gateway's transports (``sources.transport``), so one contract test checks all.

A handler is what ``httpx.MockTransport`` takes (``httpx.Request`` → ``httpx.Response``, sync or
async). Over loopback a tiny HTTP/1.1 server runs it and writes its answer as the handler's stream
yields it (chunked unless the handler declares a ``content-length``), so a body generated as it is
read stays endless and a dripping body keeps dripping.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import httpx

from sources.base import SourceClient, SourceConfig, build_client
from sources.transport import HttpTransport, build_transport

Handler = Callable[[httpx.Request], httpx.Response] | Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]

MOCK = "mock"
WAYS = [MOCK, *HttpTransport]
"""Every way a contract test reaches its handler: in-process, and over loopback per transport."""


class Upstreams:
    """Makes ``SourceClient`` s whose upstream is a handler, reached one ``way``; closes what it started."""

    def __init__(self, way: str) -> None:
        self.way = way
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._clients: list[SourceClient] = []

    @property
    def loopback(self) -> bool:
        """Whether answers pass real sockets (whose buffers take some bytes the client never reads)."""
        return self.way != MOCK

    async def client(self, handler: Handler, config: SourceConfig) -> SourceClient:
        """A client for ``config`` whose every request ``handler`` answers."""
        if self.way == MOCK:
            client = SourceClient(
                config, httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url=config.base_url)
            )
        else:
            server = await asyncio.start_server(lambda r, w: self._connection(handler, r, w), "127.0.0.1", 0)
            self._servers.append(server)
            port = server.sockets[0].getsockname()[1]
            config = SourceConfig(
                config.name,
                f"http://127.0.0.1:{port}",
                config.timeout_s,
                config.retries,
                config.token,
                config.max_body_bytes,
            )
            client = SourceClient(config, build_client(config, build_transport(HttpTransport(self.way))))
        self._clients.append(client)
        return client

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()
        for task in list(self._tasks):
            task.cancel()
        for server in self._servers:
            server.close()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _connection(self, handler: Handler, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while await self._exchange(handler, reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _exchange(self, handler: Handler, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request on the connection; ``False`` when the client went away."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        request_line, *lines = head.decode("latin-1").split("\r\n")
        method, target, _ = request_line.split(" ", 2)
        headers = [(name.strip(), value.strip()) for name, _, value in (line.partition(":") for line in lines) if value]
        length = int({k.lower(): v for k, v in headers}.get("content-length", "0"))
        content = await reader.readexactly(length) if length else b""
        request = httpx.Request(method, f"http://upstream{target}", headers=headers, content=content)
        answer: Any = handler(request)
        response: httpx.Response = await answer if inspect.isawaitable(answer) else answer
        declared = "content-length" in response.headers
        status = f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n"
        fields = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "transfer-encoding"]
        if not declared:
            fields.append(("transfer-encoding", "chunked"))
        writer.write((status + "".join(f"{k}: {v}\r\n" for k, v in fields) + "\r\n").encode("latin-1"))
        await writer.drain()
        async for chunk in _chunks(response):
            writer.write(chunk if declared else b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()
        if not declared:
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        return True


async def _chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    assert isinstance(response.stream, httpx.AsyncByteStream)
    async for chunk in response.stream:
        if chunk:
            yield chunk
