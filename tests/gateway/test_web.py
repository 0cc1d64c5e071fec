"""The web page's files and routes (issue 14, ADR 0015): off by default, served at / when on, with a
Content-Security-Policy, its config, and nothing outside its folder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.manifests import sha256_of
from gateway.settings import Settings
from gateway.web import OPERATIONS_DIR, WEB_DIR, content_security_policy

ISSUER = "http://127.0.0.1:8100"


async def _client(**settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings.model_validate({"graphiql": False, **settings}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as client:
        yield client


@pytest.fixture
async def page_on() -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(web_page=True, web_demo_issuer_url=ISSUER):
        yield client


async def test_the_page_is_off_by_default() -> None:
    assert Settings().web_page is False
    assert Settings().web_demo_issuer_url is None
    async for client in _client():
        assert (await client.get("/")).status_code == 404
        assert (await client.get("/web/js/main.js")).status_code == 404
        assert (await client.get("/web/config.json")).status_code == 404


async def test_the_page_is_served_at_the_root_with_its_security_headers(page_on: httpx.AsyncClient) -> None:
    response = await page_on.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert '<html lang="da">' in response.text
    assert response.headers["content-security-policy"] == content_security_policy(ISSUER)
    assert "script-src 'self';" in response.headers["content-security-policy"]
    assert f"connect-src 'self' {ISSUER};" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_the_config_names_graphql_and_the_demo_issuer_only_when_set(page_on: httpx.AsyncClient) -> None:
    config = (await page_on.get("/web/config.json")).json()
    assert config | {"documents": None} == {
        "graphql": "/graphql",
        "demoIssuer": ISSUER,
        "clientId": "patientoverblik-web",
        "documents": None,
    }
    async for client in _client(web_page=True, web_client_id="kommune-web"):
        config = (await client.get("/web/config.json")).json()
        assert (config["demoIssuer"], config["clientId"]) == (None, "kommune-web")
        assert "connect-src 'self';" in (await client.get("/")).headers["content-security-policy"]


async def test_the_config_gives_each_operations_file_its_id_the_sha256_of_its_text(page_on: httpx.AsyncClient) -> None:
    documents = (await page_on.get("/web/config.json")).json()["documents"]

    files = sorted(OPERATIONS_DIR.glob("*.graphql"))
    assert documents == {path.stem: f"sha256:{sha256_of(path.read_text(encoding='utf-8'))}" for path in files}


async def test_every_file_of_the_page_is_served_with_its_media_type(page_on: httpx.AsyncClient) -> None:
    media = {".js": "text/javascript", ".css": "text/css", ".graphql": "application/graphql", ".html": "text/html"}
    files = [path for path in WEB_DIR.rglob("*") if path.is_file()]
    assert files
    for path in files:
        response = await page_on.get(f"/web/{path.relative_to(WEB_DIR).as_posix()}")
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith(media[path.suffix]), path
        assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    ["/web/", "/web/js/", "/web/../app.py", "/web/%2e%2e/app.py", "/web/..%2fapp.py", "/web/nothing.js"],
)
async def test_nothing_outside_the_pages_files_is_served(page_on: httpx.AsyncClient, path: str) -> None:
    assert (await page_on.get(path)).status_code == 404


def test_the_demo_issuer_must_be_an_origin() -> None:
    for bad in ["javascript:alert(1)", "http://issuer.test/path", "http://a b", "issuer.test"]:
        with pytest.raises(ValueError, match="web_demo_issuer_url"):
            Settings(web_demo_issuer_url=bad)
