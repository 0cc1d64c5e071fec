"""A request body has a total deadline: a client dripping bytes is answered 408 with a coded body.

The clients here never finish their bodies (a ``receive`` that hands over one byte, then waits for
ever); the deadline is set small. What is asserted is what the gateway answered and how many clients
it answered, never how long it took.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.settings import Settings


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Starlette]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'access.db'}", minlog=None, graphiql=False, request_body_timeout_s=0.05
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


class DrippingClient:
    """Sends ``{`` and then nothing more, never ending the body; counts what it was asked for."""

    def __init__(self) -> None:
        self.receives = 0
        self.sent: list[MutableMapping[str, Any]] = []
        self._never = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        self.receives += 1
        if self.receives == 1:
            return {"type": "http.request", "body": b"{", "more_body": True}
        await self._never.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: MutableMapping[str, Any]) -> None:
        self.sent.append(message)

    def status(self) -> int:
        return int(next(m["status"] for m in self.sent if m["type"] == "http.response.start"))

    def body(self) -> Any:
        return json.loads(b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body"))


SCOPE = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "POST",
    "scheme": "http",
    "path": "/graphql",
    "raw_path": b"/graphql",
    "query_string": b"",
    "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000")],
    "client": ("127.0.0.1", 5000),
    "server": ("127.0.0.1", 8000),
}


async def test_bodies_that_never_finish_are_answered_408_with_a_coded_error(app: Starlette) -> None:
    clients = [DrippingClient() for _ in range(50)]

    await asyncio.gather(*(app(dict(SCOPE), client.receive, client.send) for client in clients))

    assert [client.status() for client in clients] == [408] * 50
    (error,) = clients[0].body()["errors"]
    assert error["extensions"] == {"code": "REQUEST_TIMEOUT", "limit": "requestBodyTimeoutSeconds", "maximum": 0.05}
    assert "0.05 seconds" in error["message"]
    assert all(client.receives == 2 for client in clients), "each was read up to its stalled byte, no further"
