"""Gateway processes for tests of several instances: each a real ``uvicorn`` process on a port of its own.

:func:`start_gateway_process` runs ``python -m uvicorn --factory gateway.app:create_app`` as an operator
would (docs/deployment.md), configured only through ``PATIENTOVERBLIK_*`` variables
(:func:`settings_environment`), on a loopback socket the test bound to port 0 and hands over
(``--fd``). Its log (the gateway's JSON lines, through the gateway's filter) goes to a file the test
can scan. :func:`redis_url` is the shared Redis, or a skip (a failure under ``CI=true``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from pydantic import SecretBytes, SecretStr
from pydantic_core import to_jsonable_python

from gateway.config import PREFIX, TEST_SUITE_PREFIXES
from gateway.logging import log_config
from gateway.settings import Settings
from gateway.settings_telemetry import LogSettings

REDIS_URL = os.environ.get("PATIENTOVERBLIK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
STARTS_WITHIN_S = 60.0
"""Generous: a process imports the whole gateway; a loaded 2-core machine takes seconds."""


@pytest.fixture(scope="module")
def redis_url() -> str:
    """The test Redis, or skip (fail under CI=true) when it does not answer."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        message = f"Redis is not running at {REDIS_URL}: {type(exc).__name__}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return REDIS_URL


def settings_environment(settings: Settings) -> dict[str, str]:
    """``settings`` as the ``PATIENTOVERBLIK_*`` variables that give them (those that differ from the defaults)."""
    values = _revealed(settings.model_dump(exclude_defaults=True))
    return {f"{PREFIX}{name.upper()}": v if isinstance(v, str) else json.dumps(v) for name, v in values.items()}


def _revealed(value: Any) -> Any:
    """``value`` as JSON data with every secret in the clear (a JSON dump masks them as ``**********``)."""
    if isinstance(value, SecretStr | SecretBytes):
        return to_jsonable_python(value.get_secret_value())
    if isinstance(value, dict):
        return {key: _revealed(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_revealed(item) for item in value]
    return to_jsonable_python(value)


@dataclass
class GatewayProcess:
    """One running gateway process."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_lines(self) -> list[str]:
        return self.log.read_text(encoding="utf-8", errors="replace").splitlines()

    def stop(self) -> None:
        """SIGTERM (a graceful stop: the exporter's last run, the lease let go), then SIGKILL if it lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """SIGKILL: the process dies at once, leaving whatever it held (its export lease) behind."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=20)


def start_gateway_process(settings: Settings, folder: Path, name: str) -> GatewayProcess:
    """A gateway process with ``settings``, serving on a free loopback port once this returns."""
    folder.mkdir(parents=True, exist_ok=True)
    logging_file = folder / f"{name}-logging.json"
    logging_file.write_text(json.dumps(log_config(LogSettings())), encoding="utf-8")
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(PREFIX) or key.startswith(TEST_SUITE_PREFIXES)
    }
    environment |= settings_environment(settings)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    log = folder / f"{name}.log"
    command = [sys.executable, "-m", "uvicorn", "--factory", "gateway.app:create_app", "--fd", str(listener.fileno())]
    command += ["--http", "gateway.serving:NoDelayHTTPProtocol", "--log-config", str(logging_file)]
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command,
            pass_fds=[listener.fileno()],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    listener.close()
    running = GatewayProcess(process, url, log)
    try:
        _wait_until_ready(running)
    except BaseException:
        running.kill()
        raise
    return running


def _wait_until_ready(gateway: GatewayProcess) -> None:
    deadline = time.monotonic() + STARTS_WITHIN_S
    while time.monotonic() < deadline:
        if gateway.process.poll() is not None:
            raise RuntimeError(f"the gateway process stopped while starting:\n{gateway.log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{gateway.url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the gateway process was not ready within {STARTS_WITHIN_S} s")
