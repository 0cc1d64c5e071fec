"""GraphiQL served from locally installed npm assets, so the IDE works without internet access.

strawberry's GraphiQL page (``strawberry/static/graphiql.html``) loads React, GraphiQL and the explorer
plugin from unpkg, pinned with ``integrity`` hashes. ``gateway/static/graphiql/package.json`` pins the
same npm packages at the same versions; ``npm ci --prefix gateway/static/graphiql`` installs them into
``node_modules``. :func:`local_graphiql_html` is strawberry's own page with each unpkg URL rewritten to
:data:`DEFAULT_MOUNT_PATH` and every ``integrity`` attribute kept, so the browser still checks that the
local files are byte for byte the ones strawberry pinned. The CSS inlines its fonts as ``data:`` URIs
and the bundles fetch nothing else, so the page needs only the gateway.

Without the assets (no npm on the machine, or a strawberry upgrade moved to other versions)
:func:`graphiql_html` falls back to strawberry's CDN page and logs a warning.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Final

from starlette.staticfiles import StaticFiles
from strawberry.http.ides import get_graphql_ide_html

logger = logging.getLogger(__name__)

GRAPHIQL_DIR: Final = Path(__file__).resolve().parent / "static" / "graphiql"
ASSET_ROOT: Path = GRAPHIQL_DIR / "node_modules"
DEFAULT_MOUNT_PATH: Final = "/graphiql-assets"
INSTALL_HINT: Final = "npm ci --prefix gateway/static/graphiql --no-audit --no-fund --ignore-scripts"

# https://unpkg.com/<package>@<version>/<file>, the package possibly scoped (@graphiql/plugin-explorer).
_UNPKG_URL: Final = re.compile(
    r"https://unpkg\.com/(?P<package>(?:@[\w.-]+/)?[\w.-]+)@(?P<version>[\w.+-]+)/(?P<file>[^?#]+)"
)


@dataclass(frozen=True, slots=True)
class CdnAsset:
    """One script or stylesheet strawberry's page loads from unpkg."""

    url: str
    package: str
    version: str
    file: str
    integrity: str | None

    @property
    def relative_path(self) -> str:
        """The file's path under ``node_modules`` and under the mount path."""
        return f"{self.package}/{self.file}"


class _ExternalAssetParser(HTMLParser):
    """Collects ``<script src>`` and ``<link href>`` attributes that point at http(s) URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        url_attr = {"script": "src", "link": "href"}.get(tag)
        if url_attr is None:
            return
        values = dict(attrs)
        url = values.get(url_attr)
        if url is not None and url.startswith(("http://", "https://")):
            self.found.append((url, values.get("integrity")))


def cdn_assets(html: str | None = None) -> tuple[CdnAsset, ...]:
    """The external assets of strawberry's GraphiQL page (or of ``html``), in page order.

    Raises ``ValueError`` for an external URL that does not name an npm package file on unpkg, as
    it could not be served from ``node_modules``.
    """
    parser = _ExternalAssetParser()
    parser.feed(get_graphql_ide_html("graphiql") if html is None else html)
    parser.close()
    assets = []
    for url, integrity in parser.found:
        match = _UNPKG_URL.fullmatch(url)
        if match is None:
            raise ValueError(f"GraphiQL page loads {url}, which is not an npm package file on unpkg")
        assets.append(CdnAsset(url, match["package"], match["version"], match["file"], integrity))
    return tuple(assets)


def _installed_version(root: Path, package: str) -> str | None:
    try:
        manifest = json.loads((root / package / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    version = manifest.get("version") if isinstance(manifest, dict) else None
    return version if isinstance(version, str) else None


def assets_installed(root: Path | None = None) -> bool:
    """Whether every file the page loads is installed under ``root``, from the pinned package version."""
    root = ASSET_ROOT if root is None else root
    try:
        assets = cdn_assets()
    except ValueError:
        return False
    return bool(assets) and all(
        (root / asset.relative_path).is_file() and _installed_version(root, asset.package) == asset.version
        for asset in assets
    )


def local_graphiql_html(mount_path: str = DEFAULT_MOUNT_PATH) -> str:
    """strawberry's GraphiQL page with its unpkg URLs pointing at ``mount_path``, integrity kept."""
    html = get_graphql_ide_html("graphiql")
    prefix = mount_path.rstrip("/")
    for asset in cdn_assets(html):
        html = html.replace(asset.url, f"{prefix}/{asset.relative_path}")
    return html


class _AllowlistedStaticFiles(StaticFiles):
    """``StaticFiles`` that serves only the listed files and answers 404 while none are installed."""

    def __init__(self, *, directory: Path, allowed: frozenset[str]) -> None:
        super().__init__(directory=directory, check_dir=False)
        self._allowed = allowed

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        if path.replace(os.sep, "/") not in self._allowed:
            return "", None
        return super().lookup_path(path)

    async def check_config(self) -> None:
        # StaticFiles raises (a 500) for a missing directory; without assets the page uses the CDN.
        return None


def graphiql_assets_app(root: Path | None = None) -> StaticFiles:
    """ASGI app serving the page's asset files from ``root``; mount it at the path given to the page."""
    root = ASSET_ROOT if root is None else root
    try:
        allowed = frozenset(asset.relative_path for asset in cdn_assets())
    except ValueError:
        allowed = frozenset()
    return _AllowlistedStaticFiles(directory=root, allowed=allowed)


def graphiql_html(mount_path: str = DEFAULT_MOUNT_PATH, root: Path | None = None) -> str:
    """The local GraphiQL page when its assets are installed, else strawberry's CDN page (with a warning).

    Compute it once at startup: the check reads a few files and the fallback logs each time.
    """
    root = ASSET_ROOT if root is None else root
    if assets_installed(root):
        return local_graphiql_html(mount_path)
    logger.warning(
        "GraphiQL assets are not installed in %s (install them with `%s`); the GraphiQL page loads "
        "React and GraphiQL from unpkg.com and needs internet access in the browser",
        root,
        INSTALL_HINT,
    )
    return get_graphql_ide_html("graphiql")


__all__ = [
    "ASSET_ROOT",
    "DEFAULT_MOUNT_PATH",
    "CdnAsset",
    "assets_installed",
    "cdn_assets",
    "graphiql_assets_app",
    "graphiql_html",
    "local_graphiql_html",
]
