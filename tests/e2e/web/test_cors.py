"""A page on another origin reads Hans's overview from the gateway in headless Chromium (CORS).

Three servers on three loopback ports: the gateway, allowing only the first page's origin, and two
plain pages. In the allowed page the browser sends the preflight and then the POST with Hans's bearer
token, and reads his overview; in the other page the browser itself refuses to hand over the answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from gateway.app import create_app
from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import HANS, OVERVIEW, settings_for, sign
from tests.e2e.served import served

FETCH = """
async ([url, token, query, cpr]) => {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${token}`,
        "x-correlation-id": "page-call-0001",
      },
      body: JSON.stringify({ query, variables: { cpr } }),
    });
    return {
      status: response.status,
      body: await response.json(),
      requestId: response.headers.get("x-request-id"),
      correlationId: response.headers.get("x-correlation-id"),
    };
  } catch (error) {
    return { refused: String(error) };
  }
}
"""


def page_app() -> Starlette:
    async def index(request: Any) -> HTMLResponse:
        return HTMLResponse("<!doctype html><html lang='da'><title>Another front end</title><h1>Another</h1></html>")

    return Starlette(routes=[Route("/", index)])


def test_a_page_on_another_origin_reads_hans_overview(page: Page, sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    token = sign(sandbox, actor_kind="citizen", cpr=HANS)
    with served(page_app()) as allowed, served(page_app()) as other:
        settings = settings_for(sandbox, tmp_path, cors_allow_origins=[allowed])
        with served(create_app(settings)) as gateway:
            graphql = f"{gateway}/graphql"
            page.goto(allowed)
            answer = page.evaluate(FETCH, [graphql, token, OVERVIEW, HANS])
            page.goto(other)
            refused = page.evaluate(FETCH, [graphql, token, OVERVIEW, HANS])
            preflight = httpx.options(
                graphql,
                headers={
                    "origin": allowed,
                    "access-control-request-method": "POST",
                    "access-control-request-headers": "authorization, content-type",
                },
            )

    assert answer["status"] == 200, answer
    assert "errors" not in answer["body"]
    assert answer["body"]["data"]["patient"]["person"]["name"] == "Hans Test Jensen"
    assert answer["requestId"]  # exposed to the page
    assert answer["correlationId"] == "page-call-0001"  # sent by the page (allowed), echoed and exposed
    assert "refused" in refused
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == allowed
    assert preflight.headers["access-control-max-age"] == "600"
    assert "access-control-allow-credentials" not in preflight.headers
