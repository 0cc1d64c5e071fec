"""The gateway served by uvicorn in the test's event loop, and a graphql-transport-ws client over a real WebSocket.

The client is the ``websockets`` library's (pinned in pyproject.toml); the protocol's messages are
written out here as the spec has them (github.com/enisdenjo/graphql-ws, PROTOCOL.md), so a test reads
as the conversation it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from auth.access_log import AccessLog
from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import sign

PROTOCOL = "graphql-transport-ws"
RECEIVE_TIMEOUT_S = 20.0
"""The longest a test waits for one message: generous on a loaded machine, never what a test measures."""


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers (the test runner owns them)."""

    def capture_signals(self) -> contextlib.AbstractContextManager[None]:  # type: ignore[override]
        return contextlib.nullcontext()


@contextlib.asynccontextmanager
async def serve(app: ASGIApp, ws_max_size: int) -> AsyncIterator[str]:
    """``app`` (its lifespan too) served on a free port of 127.0.0.1 in this loop; yields ``127.0.0.1:<port>``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    config = uvicorn.Config(
        app, lifespan="on", log_config=None, access_log=False, ws_max_size=ws_max_size, ws_ping_interval=None
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(20):
            while not server.started:
                if task.done():
                    raise RuntimeError("the gateway did not start")
                await asyncio.sleep(0.01)
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@dataclass(repr=False)
class Served:
    """A gateway served over real sockets, its sandbox and its access log."""

    def __repr__(self) -> str:  # Hypothesis prints it; the sandbox holds the whole population
        return "<gateway served over WebSocket>"

    address: str
    sandbox: ThreadedSandbox
    access_log: AccessLog

    def token(self, **claims: Any) -> str:
        return sign(self.sandbox, **claims)

    def professional(self, authorization_id: str, **claims: Any) -> str:
        return self.token(actor_kind="professional", authorization_id=authorization_id, **claims)

    def citizen(self, cpr: str, **claims: Any) -> str:
        return self.token(actor_kind="citizen", cpr=cpr, **claims)

    @contextlib.asynccontextmanager
    async def connect(self, *, subprotocols: tuple[str, ...] = (PROTOCOL,)) -> AsyncIterator[Client]:
        """A WebSocket to ``/graphql`` speaking ``graphql-transport-ws``."""
        offered = [Subprotocol(name) for name in subprotocols]
        async with connect(f"ws://{self.address}/graphql", subprotocols=offered) as ws:
            yield Client(ws)

    async def graphql(self, query: str, token: str, **variables: Any) -> dict[str, Any]:
        """One GraphQL request over HTTP to the same server."""
        async with httpx.AsyncClient(base_url=f"http://{self.address}") as client:
            answer = await client.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={"authorization": f"Bearer {token}"},
            )
        body: dict[str, Any] = answer.json()
        return body


@dataclass
class Client:
    """One graphql-transport-ws conversation."""

    ws: ClientConnection

    async def send(self, message: object) -> None:
        await self.ws.send(message if isinstance(message, str | bytes) else json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        """The next message from the server."""
        async with asyncio.timeout(RECEIVE_TIMEOUT_S):
            message: dict[str, Any] = json.loads(await self.ws.recv())
        return message

    async def init(self, token: str | None) -> dict[str, Any]:
        """``connection_init`` with ``{"Authorization": "Bearer <token>"}`` (no payload without a token); the answer."""
        payload = {"Authorization": f"Bearer {token}"} if token is not None else None
        await self.send({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def subscribe(self, operation_id: str, query: str, **variables: Any) -> None:
        await self.send({"id": operation_id, "type": "subscribe", "payload": {"query": query, "variables": variables}})

    async def closed(self) -> tuple[int | None, str]:
        """Wait for the server to close the connection: its close code and reason (messages before it are dropped)."""
        try:
            async with asyncio.timeout(RECEIVE_TIMEOUT_S):
                while True:
                    await self.ws.recv()
        except ConnectionClosed as closed:
            received = closed.rcvd
            return (received.code, received.reason) if received is not None else (None, "")
