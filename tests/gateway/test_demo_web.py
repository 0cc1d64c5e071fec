"""`patientoverblik demo` (what `make run` starts) serves the web page and prints its URL; `serve` does not."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from gateway import cli
from gateway.settings import Settings, sandbox_url


class _Child:
    def send_signal(self, signal: int) -> None:
        return None

    def poll(self) -> int | None:
        return 0

    def wait(self, timeout: float) -> int:
        return 0


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Settings]:
    started: list[Settings] = []
    monkeypatch.setattr("gateway.cli.subprocess.Popen", lambda *args, **kwargs: _Child())
    monkeypatch.setattr(cli, "_wait_for_sandbox", lambda child: {"personas": [], "professionals": []})
    monkeypatch.setattr(cli, "_serve_gateway", lambda settings, host, port, workers=1: started.append(settings))
    return started


def test_the_demo_serves_the_page_with_the_sandbox_issuer_and_prints_its_url(served: list[Settings]) -> None:
    result = CliRunner().invoke(cli.app, ["demo", "--port", "8000"])

    assert result.exit_code == 0, result.output
    assert "Web page:  http://127.0.0.1:8000/" in result.output
    [settings] = served
    assert settings.web_page is True
    assert settings.web_demo_issuer_url == sandbox_url("issuer")


def test_serve_leaves_the_page_off(served: list[Settings], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PATIENTOVERBLIK_WEB_PAGE", raising=False)
    result = CliRunner().invoke(cli.app, ["serve"])

    assert result.exit_code == 0, result.output
    [settings] = served
    assert (settings.web_page, settings.web_demo_issuer_url) == (False, None)
