"""A TCP proxy a test controls, in front of a real server (PostgreSQL, Redis): the network between them.

- :meth:`Proxy.stop` / :meth:`Proxy.start`: the server is gone (every connection cut, new ones refused)
  and back on the same port;
- :meth:`Proxy.stall` / :meth:`Proxy.resume`: the network goes silent and wakes, as when the proxy is
  SIGSTOPped and SIGCONTed: nothing is refused or closed, nothing is forwarded either (connections are
  still accepted, as the kernel does for a stopped process; what is sent waits); on resume everything
  waiting flows again;
- ``silent_after_first=True``: each connection forwards the client's first chunk (PostgreSQL's startup
  message) and the server's answers, then nothing more the client sends: a database that stops
  answering right after a connection was made.

``connections`` counts the connections accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit, urlunsplit


class Proxy:
    """A TCP proxy to ``host:port`` on a loopback port of its own (:attr:`port`, fixed once started)."""

    def __init__(self, host: str, port: int, *, silent_after_first: bool = False) -> None:
        self._target = (host, port)
        self._silent_after_first = silent_after_first
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self.port = 0
        self.connections = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """The server is gone: the port refuses connections, and every open one is cut (RST)."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def stall(self) -> None:
        """The network goes silent: nothing more is forwarded either way until :meth:`resume`."""
        self._flowing.clear()

    def resume(self) -> None:
        """The network wakes: what waited is forwarded, and everything after it."""
        self._flowing.set()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        await self._flowing.wait()
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.add(upstream_writer)
        pipes = ((reader, upstream_writer, self._silent_after_first), (upstream_reader, writer, False))
        for source, sink, silent_after_first in pipes:
            task = asyncio.create_task(self._pipe(source, sink, silent_after_first=silent_after_first))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, silent_after_first: bool
    ) -> None:
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            while True:
                await self._flowing.wait()
                data = await source.read(65536)
                if not data:
                    break
                await self._flowing.wait()
                sink.write(data)
                await sink.drain()
                if silent_after_first:
                    await asyncio.Event().wait()  # never again: the server stops answering this connection
        sink.transport.abort()
        self._writers.discard(sink)


def through(url: str, port: int) -> str:
    """``url`` with its host and port replaced by the proxy's (user, database and options kept)."""
    parts = urlsplit(url)
    user = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{user + '@' if user else ''}127.0.0.1:{port}"))
