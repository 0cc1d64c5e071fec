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


CORS_SAFELISTED = {
    "cache-control",
    "content-language",
    "content-length",
    "content-type",
    "expires",
    "last-modified",
    "pragma",
}
"""Response headers a page may read without their being exposed (Fetch standard)."""
APP = "https://app.example"


async def test_every_response_header_the_gateway_sets_is_exposed_to_an_allowed_page(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    seen: dict[str, set[str]] = {}
    async for gateway in gateway_with(sandbox, tmp_path, cors_allow_origins=[APP], rate_limit_requests=1):
        origin = {"origin": APP}
        answers = {
            "ok, correlated": await gateway.client.post(
                "/graphql", json={"query": ME}, headers={**origin, "x-request-id": "client-call-0001"}
            ),
            "unauthenticated": await gateway.client.post(
                "/graphql", json={"query": ME}, headers={**origin, "authorization": "Bearer nonsense"}
            ),
            "rate limited": await gateway.client.post("/graphql", json={"query": ME}, headers=origin),
            "method not allowed": await gateway.client.put("/graphql", headers=origin),
        }
    for name, answer in answers.items():
        exposed = {h.strip().lower() for h in answer.headers["access-control-expose-headers"].split(",")}
        own = {h for h in answer.headers if not h.startswith("access-control-") and h not in {"vary", *CORS_SAFELISTED}}
        seen[name] = own - exposed

    assert [answer.status_code for answer in answers.values()] == [200, 401, 429, 405]
    assert {name: hidden for name, hidden in seen.items() if hidden} == {}


async def test_every_request_header_the_gateway_reads_is_allowed_to_a_page(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    reads = ["authorization", "content-type", "accept", "x-request-id", "x-correlation-id", "traceparent", "tracestate"]
    async for gateway in gateway_with(sandbox, tmp_path, cors_allow_origins=[APP]):
        preflight = await gateway.client.options(
            "/graphql",
            headers={
                "origin": APP,
                "access-control-request-method": "POST",
                "access-control-request-headers": ", ".join(reads),
            },
        )

    assert preflight.status_code == 200
    allowed = {h.strip().lower() for h in preflight.headers["access-control-allow-headers"].split(",")}
    assert set(reads) <= allowed
