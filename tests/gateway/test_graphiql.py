"""GraphiQL from local npm assets: no CDN URLs, integrity hashes intact, CDN fallback with a warning."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from strawberry.http.ides import get_graphql_ide_html

from gateway import graphiql
from gateway.graphiql import (
    DEFAULT_MOUNT_PATH,
    INSTALL_HINT,
    assets_installed,
    cdn_assets,
    graphiql_assets_app,
    graphiql_html,
    local_graphiql_html,
)


class _AssetParser(HTMLParser):
    """Every ``<script src>`` and ``<link href>`` with its integrity attribute (the icon is a data: URI)."""

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        url = values.get({"script": "src", "link": "href"}.get(tag, ""))
        if url is not None and not url.startswith("data:"):
            self.assets.append((url, values.get("integrity")))


def _page_assets(html: str) -> list[tuple[str, str | None]]:
    parser = _AssetParser()
    parser.feed(html)
    parser.close()
    return parser.assets


@pytest.fixture
def installed_assets() -> Path:
    """The asset root; skips without installed assets, but fails under ``CI=true``."""
    if not assets_installed():
        reason = f"GraphiQL assets are not installed in {graphiql.ASSET_ROOT}; run `{INSTALL_HINT}`"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return graphiql.ASSET_ROOT


def test_strawberry_page_loads_pinned_unpkg_assets() -> None:
    assets = cdn_assets()
    assert len(assets) == len(_page_assets(get_graphql_ide_html("graphiql"))) >= 5
    assert all(asset.integrity and asset.integrity.startswith("sha384-") for asset in assets)
    assert {asset.package for asset in assets} >= {"react", "react-dom", "graphiql", "@graphiql/plugin-explorer"}


def test_package_json_pins_the_versions_strawberry_loads() -> None:
    manifest = json.loads((graphiql.GRAPHIQL_DIR / "package.json").read_text(encoding="utf-8"))
    assert manifest["private"] is True
    assert manifest["dependencies"] == {asset.package: asset.version for asset in cdn_assets()}


def test_local_page_loads_nothing_from_the_internet() -> None:
    assets = _page_assets(local_graphiql_html())
    assert assets
    for url, integrity in assets:
        assert not url.startswith(("http://", "https://", "//")), url
        assert url.startswith(f"{DEFAULT_MOUNT_PATH}/"), url
        assert integrity, url


def test_local_page_is_strawberrys_page_with_only_the_urls_changed() -> None:
    page = local_graphiql_html("/ide/assets/")
    for asset in cdn_assets():
        page = page.replace(f"/ide/assets/{asset.relative_path}", asset.url)
    assert page == get_graphql_ide_html("graphiql")


def test_local_assets_match_their_integrity_hashes(installed_assets: Path) -> None:
    for url, integrity in _page_assets(local_graphiql_html()):
        path = installed_assets / url.removeprefix(f"{DEFAULT_MOUNT_PATH}/")
        digest = base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode("ascii")
        assert integrity == f"sha384-{digest}", url


def test_installed_assets_give_the_local_page_without_warning(
    installed_assets: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway.graphiql"):
        assert graphiql_html() == local_graphiql_html()
    assert not caplog.records


def test_missing_assets_fall_back_to_the_cdn_page_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(graphiql, "ASSET_ROOT", tmp_path / "node_modules")
    assert not assets_installed()
    with caplog.at_level(logging.WARNING, logger="gateway.graphiql"):
        assert graphiql_html() == get_graphql_ide_html("graphiql")
    assert [record.levelno for record in caplog.records] == [logging.WARNING]
    assert "internet access" in caplog.text
    assert "npm ci" in caplog.text


def test_other_installed_versions_fall_back_to_the_cdn_page(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    for asset in cdn_assets():
        file = tmp_path / asset.relative_path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text("// not the pinned file\n", encoding="utf-8")
        (tmp_path / asset.package / "package.json").write_text(json.dumps({"version": "0.0.1"}), encoding="utf-8")
    assert not assets_installed(tmp_path)
    with caplog.at_level(logging.WARNING, logger="gateway.graphiql"):
        assert graphiql_html(root=tmp_path) == get_graphql_ide_html("graphiql")
    assert "internet access" in caplog.text


def _client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")


async def test_assets_mount_serves_the_page_scripts(installed_assets: Path) -> None:
    app = Starlette(routes=[Mount(DEFAULT_MOUNT_PATH, app=graphiql_assets_app())])
    async with _client(app) as client:
        react = await client.get(f"{DEFAULT_MOUNT_PATH}/react/umd/react.production.min.js")
        assert react.status_code == 200
        assert "javascript" in react.headers["content-type"]
        assert react.content == (installed_assets / "react/umd/react.production.min.js").read_bytes()
        for url, _ in _page_assets(local_graphiql_html()):
            assert (await client.head(url)).status_code == 200, url
        # Only the page's files are served, not the rest of node_modules.
        assert (await client.get(f"{DEFAULT_MOUNT_PATH}/react/package.json")).status_code == 404
        assert (await client.get(f"{DEFAULT_MOUNT_PATH}/react/umd/%2e%2e/package.json")).status_code == 404


async def test_assets_mount_answers_404_without_assets(tmp_path: Path) -> None:
    app = Starlette(routes=[Mount(DEFAULT_MOUNT_PATH, app=graphiql_assets_app(tmp_path / "node_modules"))])
    async with _client(app) as client:
        assert (await client.get(f"{DEFAULT_MOUNT_PATH}/react/umd/react.production.min.js")).status_code == 404
