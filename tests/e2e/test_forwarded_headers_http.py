"""A caller cannot choose the address it is counted under: forwarded headers count only from trusted proxies.

uvicorn trusts ``X-Forwarded-For`` from 127.0.0.1 by default, so a caller on the host (or behind a local
proxy that passes the header on) escaped the rate limit of callers without a token by varying the
header. The gateway reads forwarded headers only from ``PATIENTOVERBLIK_TRUSTED_PROXIES`` (none by
default), in every way it starts: ``patientoverblik serve`` (one process, ``--workers``), and uvicorn
started by hand as docs/deployment.md says (one process, ``--workers``), also without
``--no-proxy-headers``. Each is a real process on a free loopback port; the limit is 1 request per
window, shared through Redis where there are several workers. ``demo`` serves with the same uvicorn
options (``tests/gateway/test_nodelay.py`` checks them; its sandbox's ports are fixed, so it is not run).
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.config import PREFIX, TEST_SUITE_PREFIXES
from tests.e2e.instances import STARTS_WITHIN_S, redis_url

__all__ = ["redis_url"]  # fixture used here

pytestmark = pytest.mark.redis

UVICORN = [sys.executable, "-m", "uvicorn", "--factory", "gateway.app:create_app"]
UVICORN += ["--http", "gateway.serving:NoDelayHTTPProtocol", "--host", "127.0.0.1"]
SERVE = [sys.executable, "-c", "from gateway.cli import main; main()", "serve", "--host", "127.0.0.1"]
STARTS = {
    "serve": (SERVE, []),
    "serve --workers 2": (SERVE, ["--workers", "2"]),
    "uvicorn as the docs say": (UVICORN, []),
    "uvicorn --workers 2 as the docs say": (UVICORN, ["--workers", "2"]),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def environment(tmp_path: Path, redis: str, trusted: str | None) -> dict[str, str]:
    own = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(PREFIX) or key.startswith(TEST_SUITE_PREFIXES)
    }
    own |= {
        f"{PREFIX}DATABASE_URL": f"sqlite:///{tmp_path / 'access.db'}",
        f"{PREFIX}REDIS_URL": redis,
        f"{PREFIX}RATE_LIMIT_REQUESTS": "1",
        # A window of its own: no other run's counts share its Redis keys.
        f"{PREFIX}RATE_LIMIT_WINDOW_S": str(random.randrange(10_000, 86_400)),
        f"{PREFIX}MINLOG_EXPORT_INTERVAL_S": "3600",
        "FORWARDED_ALLOW_IPS": "*",  # uvicorn's own trust, as wide as it goes: the gateway's setting decides
    }
    if trusted is not None:
        own[f"{PREFIX}TRUSTED_PROXIES"] = trusted
    return own


def started(command: list[str], env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            [*command, "--port", str(port)], env=env, stdout=output, stderr=subprocess.STDOUT, cwd=log.parent
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTS_WITHIN_S
        while True:
            assert process.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, "the gateway did not start"
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def statuses(url: str, forwarded: list[str]) -> list[int]:
    """The status of one anonymous request per ``X-Forwarded-For`` value, in order."""
    with httpx.Client(base_url=url, timeout=10) as client:
        return [
            client.post("/graphql", json={"query": "{ __typename }"}, headers={"x-forwarded-for": value}).status_code
            for value in forwarded
        ]


VARIED = ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"]


@pytest.mark.parametrize("start", list(STARTS))
def test_without_trusted_proxies_a_varied_x_forwarded_for_is_still_one_caller(
    tmp_path: Path, redis_url: str, start: str
) -> None:
    command, extra = STARTS[start]
    for url in started([*command, *extra], environment(tmp_path, redis_url, None), tmp_path / "gateway.log"):
        answered = statuses(url, VARIED)

    assert answered == [200, 429, 429, 429]


@pytest.mark.parametrize("start", list(STARTS))
def test_behind_a_trusted_proxy_each_forwarded_caller_is_counted_as_itself(
    tmp_path: Path, redis_url: str, start: str
) -> None:
    command, extra = STARTS[start]
    env = environment(tmp_path, redis_url, '["127.0.0.1/32"]')
    for url in started([*command, *extra], env, tmp_path / "gateway.log"):
        answered = statuses(url, [*VARIED, VARIED[0]])

    assert answered == [200, 200, 200, 200, 429]
