"""Serving an app over real HTTP for tests that need a socket (browsers, node): uvicorn in a thread.

- :func:`served` runs an ASGI app in a uvicorn thread on a free loopback port and yields its URL;
- :func:`skip_or_fail` skips a test for a missing tool (Chromium, an npm package), except under
  ``CI=true``, where the tool must be there and the test fails with the reason;
- :func:`post_graphql` sends one GraphQL request to a served URL, as another client would.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.types import ASGIApp


def skip_or_fail(reason: str) -> None:
    """Skip with ``reason``; fail with it under CI=true."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: this test must run)")
    pytest.skip(reason)


@contextmanager
def served(app: ASGIApp) -> Iterator[str]:
    """``app`` served by uvicorn on a free port of 127.0.0.1: yields ``http://127.0.0.1:<port>``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def post_graphql(
    url: str, query: str, token: str | None, variables: dict[str, Any], timeout_s: float
) -> dict[str, Any]:
    """One GraphQL request to ``url`` with ``token`` as bearer (none: no header); the body of its HTTP 200 answer."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(url, json={"query": query, "variables": variables}, headers=headers, timeout=timeout_s)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
