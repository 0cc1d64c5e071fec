"""The web page in a real browser: the gateway over HTTP on a free port, Debian's Chromium, axe-core.

- :func:`chromium` finds ``/usr/bin/chromium`` (never a downloaded browser). Where it is absent the
  browser test skips with the reason, except under ``CI=true``, where it is installed with apt-get or
  the test fails;
- :func:`axe_script` is axe-core from ``tests/e2e/web/node_modules`` (pinned in ``package-lock.json``,
  installed by ``make install``); the same skip-or-fail rule applies;
- :func:`web_gateway` runs the gateway with the page on (as ``patientoverblik demo`` does) in a uvicorn
  thread on a free loopback port, over the session's sandbox, with its own SQLite access log;
- :func:`page` is a Chromium page with the launch flags this machine needs and a fresh profile;
- screenshots go to ``test-artifacts/web/`` (gitignored), one per view.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, sync_playwright

from gateway.app import create_app
from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import settings_for, sign
from tests.e2e.served import post_graphql, served, skip_or_fail

ROOT = Path(__file__).resolve().parents[3]
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "web"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _installed_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of Debian's Chromium; under CI=true it is installed when missing."""
    found = _installed_chromium()
    if found is None and os.environ.get("CI") == "true":
        env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        try:
            subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)  # noqa: S607
            subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=False, env=env)  # noqa: S607
        except OSError:
            pass  # no apt-get: fails below with the reason
        found = _installed_chromium()
    if found is None:
        skip_or_fail("Chromium is not installed: `apt-get install -y chromium` (the test drives Debian's chromium)")
    assert found is not None
    return found


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe-core's script, installed from tests/e2e/web/package-lock.json."""
    if not AXE.is_file():
        skip_or_fail(f"axe-core is not installed in {AXE.parent}: run `make install` (npm ci --prefix tests/e2e/web)")
    return AXE


@dataclass
class WebGateway:
    """The gateway with its web page, reachable over HTTP, and the sandbox it reads."""

    url: str
    sandbox: ThreadedSandbox

    def token(self, **claims: Any) -> str:
        return sign(self.sandbox, **claims)

    def graphql(self, query: str, token: str, **variables: Any) -> dict[str, Any]:
        """One GraphQL request as another client would send it (not through the page)."""
        return post_graphql(f"{self.url}/graphql", query, token, variables, timeout_s=10)


@pytest.fixture
def web_gateway(sandbox: ThreadedSandbox, tmp_path: Path) -> Iterator[WebGateway]:
    settings = settings_for(sandbox, tmp_path, web_page=True, web_demo_issuer_url=sandbox.url("issuer"))
    with served(create_app(settings)) as url:
        yield WebGateway(url, sandbox)


@pytest.fixture
def page(chromium: str, tmp_path: Path) -> Iterator[Page]:
    """A Chromium page, 1280 by 900 pixels, Danish locale and time zone; scripts may be injected (axe-core)."""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=chromium,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
            locale="da-DK",
            timezone_id="Europe/Copenhagen",
            bypass_csp=True,
        )
        context.set_default_timeout(15_000)
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


@pytest.fixture(scope="session")
def _fresh_artifacts() -> Path:
    """test-artifacts/web/, emptied of an earlier run's screenshots once per session."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    return ARTIFACTS


@pytest.fixture
def artifacts(_fresh_artifacts: Path) -> Path:
    """test-artifacts/web/: this session's screenshots, every browser test's."""
    return _fresh_artifacts
