"""Every HTTP error the gateway answers is a coded GraphQL error body, whatever the method and the path.

Starlette's defaults answer in plain text: an unknown path (404), a method a route does not take (405), a
missing static file, a refused CORS preflight, an unexpected exception (500). The sweep sends every method
to every route the gateway has (the web page, GraphiQL, CORS and a closed ``/metrics`` on), their
variants and paths hypothesis makes up, and checks each error: JSON, one error with a known code, a 405
with ``Allow``, never a 500. (``/readyz`` answers 503 with its own report: that is its answer, not an
error of the request; here it is ready.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auth.access_log import SqliteAccessLog
from gateway import app as gateway_app
from gateway.errors import ErrorCode
from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import Gateway, gateway_with, settings_for

CODES = {code.value for code in ErrorCode}
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND"]
PATHS = [
    "/graphql",
    "/graphql/",
    "/graphql/x",
    "/GraphQL",
    "/graphql;x",
    "/graphiql/",
    "/graphiql/graphiql.min.js",
    "/graphiql/nope.js",
    "/",
    "/web/",
    "/web/config.json",
    "/web/nope.js",
    "/web/../gateway/app.py",
    "/healthz",
    "/readyz",
    "/metrics",
    "/nope",
    "/favicon.ico",
]
SEGMENTS = st.sampled_from(["graphql", "graphiql", "web", "metrics", "healthz", "readyz", "x", "", "..", "%2e", "é"])
EDGE = {
    "web_page": True,
    "graphiql": True,
    "cors_allow_origins": ["https://app.example"],
    "metrics": {"allow": ["10.20.0.0/16"]},  # the test client is not in it: /metrics is 404
}


@pytest.fixture
async def edge(sandbox: ThreadedSandbox, tmp_path: Path) -> AsyncIterator[Gateway]:
    async for gateway in gateway_with(sandbox, tmp_path, **EDGE):
        yield gateway


def assert_coded(response: httpx.Response, method: str, path: str) -> None:
    """An error answer is a coded GraphQL error body (HEAD: its headers say so); a 405 says what is allowed."""
    where = f"{method} {path} -> {response.status_code}"
    assert response.status_code != 500, where
    if response.status_code < 400 or (path.rstrip("/") == "/readyz" and response.status_code == 503):
        return
    assert response.headers["content-type"].startswith("application/json"), where
    if response.status_code == 405:
        assert response.headers.get("allow"), where
    if method == "HEAD":
        return
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] in CODES, where
    assert error["message"], where


async def test_every_method_on_every_route_answers_errors_coded(edge: Gateway) -> None:
    for path in PATHS:
        for method in METHODS:
            assert_coded(await edge.client.request(method, path), method, path)


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(METHODS), segments=st.lists(SEGMENTS, min_size=1, max_size=4))
async def test_any_path_answers_errors_coded(edge: Gateway, method: str, segments: list[str]) -> None:
    path = "/" + "/".join(segments).lstrip("/")  # "//x" would be a URL with a host, not a path

    assert_coded(await edge.client.request(method, path), method, path)


async def test_an_unsupported_method_on_graphql_is_405_with_allow_and_a_code(edge: Gateway) -> None:
    for method in ["PUT", "PATCH", "DELETE", "TRACE", "PROPFIND", "HEAD"]:
        response = await edge.client.request(method, "/graphql")

        assert response.status_code == 405, method
        assert {m.strip() for m in response.headers["allow"].split(",")} <= {"GET", "HEAD", "POST"}
        if method != "HEAD":
            assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_an_unknown_path_and_a_closed_metrics_page_answer_alike(edge: Gateway) -> None:
    unknown = await edge.client.get("/nope")
    metrics = await edge.client.get("/metrics")

    assert unknown.status_code == metrics.status_code == 404
    assert unknown.json() == metrics.json()
    assert unknown.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_refused_cors_preflight_is_coded(edge: Gateway) -> None:
    preflight = await edge.client.options(
        "/graphql", headers={"origin": "https://evil.example", "access-control-request-method": "POST"}
    )

    assert preflight.status_code == 400
    assert preflight.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_get_on_graphql_without_graphiql_is_405_coded(sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    async for gateway in gateway_with(sandbox, tmp_path, graphiql=False):
        response = await gateway.client.get("/graphql")

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_an_unexpected_exception_is_a_coded_500_that_tells_nothing(
    sandbox: ThreadedSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(request: object) -> None:
        raise RuntimeError("secret detail 1403723705")

    monkeypatch.setattr(gateway_app, "_health", broken)
    store = SqliteAccessLog(tmp_path / "access.db")
    app = gateway_app.create_app(settings_for(sandbox, tmp_path), access_log=store)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/healthz")
    await store.aclose()

    assert response.status_code == 500
    assert response.json() == {"errors": [{"message": "Unexpected error.", "extensions": {"code": "INTERNAL_ERROR"}}]}
