"""Every connection the gateway accepts has TCP_NODELAY, however uvicorn got its listening socket.

Without it, an answer on a kept-alive connection waits for the client's delayed ACK (~40 ms) between
its headers and its body. The check reads the option on the server's side of each accepted connection
(uvicorn's live connections), never a timing.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from typer.testing import CliRunner
from uvicorn.protocols.http.h11_impl import H11Protocol

from gateway import cli, serving


def _app() -> Starlette:
    async def hello(request: Any) -> PlainTextResponse:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/", hello)])


def accepted_nodelay(server: uvicorn.Server) -> list[int]:
    """``TCP_NODELAY`` of every connection the server holds, read on the server's side."""
    return [
        protocol.transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        for protocol in server.server_state.connections
    ]


async def nodelay_of_a_kept_alive_connection(config: uvicorn.Config, *, own_socket: bool) -> list[int]:
    """Serve ``config`` (on a socket uvicorn binds as with ``--workers`` when ``own_socket``) and look."""
    server = uvicorn.Server(config)
    sockets = [config.bind_socket()] if own_socket else None
    task = asyncio.create_task(server.serve(sockets=sockets))
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes no started event
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nhost: test\r\n\r\n")
    await writer.drain()
    await reader.readuntil(b"ok")
    seen = accepted_nodelay(server)
    writer.close()
    server.should_exit = True
    await task
    for sock in sockets or []:
        sock.close()
    return seen


@pytest.mark.parametrize("workers", [1, 2], ids=["one_process", "workers"])
async def test_the_gateway_as_the_cli_serves_it_sets_nodelay_on_accepted_connections(workers: int) -> None:
    options = serving.uvicorn_options("127.0.0.1", 0, workers) | {"workers": 1, "factory": False}
    config = uvicorn.Config(_app(), **options | {"log_level": "warning"})

    seen = await nodelay_of_a_kept_alive_connection(config, own_socket=workers > 1)

    assert seen == [1]


async def test_uvicorns_own_socket_without_the_protocol_leaves_nagle_on() -> None:
    """The fault the protocol class exists for: uvicorn's ``bind_socket`` uses protocol 0."""
    config = uvicorn.Config(_app(), host="127.0.0.1", port=0, http=H11Protocol, log_level="warning")

    seen = await nodelay_of_a_kept_alive_connection(config, own_socket=True)

    assert seen == [0]


@pytest.mark.parametrize(
    ("args", "workers"),
    [(["serve"], 1), (["serve", "--workers", "2"], 2), (["demo"], 1)],
    ids=["serve", "serve_workers", "demo"],
)
def test_every_cli_start_serves_with_the_nodelay_protocol(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: list[str], workers: int
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append({"app": app, **kwargs}))
    monkeypatch.setattr(cli, "_wait_for_sandbox", lambda child: {})
    monkeypatch.setattr(subprocess, "Popen", _NoChild)
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(cli.app, args)

    assert result.exit_code == 0, result.output
    assert len(calls) == 1
    assert calls[0]["http"] is serving.NoDelayHTTPProtocol
    assert calls[0]["proxy_headers"] is False  # forwarded headers only from PATIENTOVERBLIK_TRUSTED_PROXIES
    assert calls[0]["workers"] == workers
    if workers > 1:
        assert calls[0]["app"] == serving.APP_FACTORY
        assert calls[0]["factory"] is True


class _NoChild:
    """Stands in for the sandbox process ``demo`` starts."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def send_signal(self, signal: int) -> None:
        pass

    def poll(self) -> int | None:
        return 0

    def wait(self, timeout: float) -> int:
        return 0
