"""``check-config`` passes exactly the configurations ``serve`` starts with.

Each configuration is given as the operator gives it (``PATIENTOVERBLIK_*`` variables); ``serve`` runs
as far as a real start goes before it listens: the settings, the app, and the app's startup (its
lifespan: sources, token verifier, access log, rate limiter, exporter), then stops. A configuration
``serve`` refuses, ``check-config`` refuses too, each with one line and exit 2, never a traceback; one
it starts with, ``check-config`` calls OK.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from typer.testing import CliRunner

from gateway import cli, serving
from gateway.settings import DEMO_CLIENTS

PERSON_CARD = "query PersonCard($cpr: CPR!) { patient(cpr: $cpr) { person { name } } }"


def clients(manifest: Path) -> str:
    fields = DEMO_CLIENTS["epj-odense"].fields
    return json.dumps({"epj-trusted": {"name": "EPJ", "fields": list(fields), "trusted_documents": str(manifest)}})


def configurations(tmp_path: Path) -> dict[str, dict[str, str]]:
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"card": PERSON_CARD}), encoding="utf-8")
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps({"card": "query X { me { nope } }"}), encoding="utf-8")
    return {
        "defaults": {},
        "a manifest that checks": {"PATIENTOVERBLIK_CLIENTS": clients(good)},
        "a manifest file that is missing": {"PATIENTOVERBLIK_CLIENTS": clients(tmp_path / "missing.json")},
        "a manifest not valid against the schema": {"PATIENTOVERBLIK_CLIENTS": clients(invalid)},
        "a symmetric token algorithm": {"PATIENTOVERBLIK_TOKEN_ALGORITHMS": '["HS256"]'},
        "an unknown token algorithm": {"PATIENTOVERBLIK_TOKEN_ALGORITHMS": '["RS999"]'},
        "a Redis URL with no port number": {"PATIENTOVERBLIK_REDIS_URL": "redis://cache.example:port/0"},
        "a Redis URL of another scheme": {"PATIENTOVERBLIK_REDIS_URL": "http://cache.example/0"},
        "an access log URL of another scheme": {"PATIENTOVERBLIK_DATABASE_URL": "mysql://db.example/log"},
        "CORS credentials with any origin": {
            "PATIENTOVERBLIK_CORS_ALLOW_ORIGINS": '["*"]',
            "PATIENTOVERBLIK_CORS_ALLOW_CREDENTIALS": "true",
        },
    }


def start_and_stop(app: Any, *args: Any) -> None:
    """What uvicorn does before it listens: the app's startup; then its shutdown."""
    assert isinstance(app, Starlette)

    async def lifespan() -> None:
        async with app.router.lifespan_context(app):
            pass

    asyncio.run(lifespan())


@pytest.fixture(autouse=True)
def logging_as_it_was() -> Iterator[None]:
    """``serve`` installs the gateway's log handlers on the runner's stream, which is closed afterwards."""
    loggers = [logging.getLogger(), *map(logging.getLogger, list(logging.root.manager.loggerDict))]
    before = {logger: (list(logger.handlers), logger.level, logger.propagate) for logger in loggers}
    yield
    for logger, (handlers, level, propagate) in before.items():
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


NAMES = [
    "defaults",
    "a manifest that checks",
    "a manifest file that is missing",
    "a manifest not valid against the schema",
    "a symmetric token algorithm",
    "an unknown token algorithm",
    "a Redis URL with no port number",
    "a Redis URL of another scheme",
    "an access log URL of another scheme",
    "CORS credentials with any origin",
]


def test_every_configuration_is_tried(tmp_path: Path) -> None:
    assert list(configurations(tmp_path)) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_check_config_passes_exactly_what_serve_starts_with(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATIENTOVERBLIK_DATABASE_URL", f"sqlite:///{tmp_path / 'access.db'}")
    monkeypatch.setenv("PATIENTOVERBLIK_MINLOG_EXPORT_INTERVAL_S", "3600")
    for variable, value in configurations(tmp_path)[name].items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setattr(serving, "serve", start_and_stop)

    checked = CliRunner().invoke(cli.app, ["check-config"])
    served = CliRunner().invoke(cli.app, ["serve"])

    assert served.exception is None or isinstance(served.exception, SystemExit), repr(served.exception)
    assert (checked.exit_code == 0) == (served.exit_code == 0), (checked.stderr, served.stderr)
    if served.exit_code != 0:
        assert served.exit_code == checked.exit_code == 2
        assert len(checked.stderr.splitlines()) == len(served.stderr.splitlines()) == 1, checked.stderr
        assert checked.stderr.startswith("patientoverblik: configuration error: ")
    else:
        assert checked.stderr == "configuration OK\n"
