"""CORS: none without configured origins, none for an origin not listed, never credentials with any origin.

The browser side (a page on another origin reading Hans's overview) is tests/e2e/web/test_cors.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import Gateway, gateway_with, settings_for

ME = "query Me { me { kind } }"


async def test_no_cors_headers_without_configured_origins(gateway: Gateway) -> None:
    preflight = await gateway.client.options(
        "/graphql", headers={"origin": "https://elsewhere.example", "access-control-request-method": "POST"}
    )
    answer = await gateway.client.post("/graphql", json={"query": ME}, headers={"origin": "https://elsewhere.example"})

    assert preflight.status_code == 405
    assert "access-control-allow-origin" not in answer.headers


async def test_an_origin_not_listed_gets_no_cors(sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    async for gateway in gateway_with(sandbox, tmp_path, cors_allow_origins=["https://app.example"]):
        preflight = await gateway.client.options(
            "/graphql", headers={"origin": "https://evil.example", "access-control-request-method": "POST"}
        )
        answer = await gateway.client.post("/graphql", json={"query": ME}, headers={"origin": "https://evil.example"})

    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in answer.headers


def test_credentials_are_never_allowed_with_any_origin(sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cors_allow_credentials cannot be used with the origin"):
        settings_for(sandbox, tmp_path, cors_allow_origins=["*"], cors_allow_credentials=True)
